"""NumPy versions of the ops that NumPy has no single call for.

Each function here is also the reference that the CUDA kernel of the same name
is tested against (see ``nbframe.backend.cuda`` and ``kernels/``).
"""

from __future__ import annotations


# --------------------------------------------------------------------------- sliding windows (conv, pool)
def pad_planes(x, padding: tuple, value: float = 0.0):
    """Pad the last two axes of ``x`` by ``(top, bottom, left, right)`` with ``value``.

    One allocation and one copy (faster than ``np.pad``); returns ``x`` itself when there is no padding.
    """
    top, bottom, left, right = padding
    if not (top or bottom or left or right):
        return x
    xp = _window_xp(x)
    *lead, h, w = x.shape
    out = xp.full((*lead, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[..., top:top + h, left:left + w] = x
    return out


def window_view(x, kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple | None = None):
    """A strided view ``(N, C, OH, OW, kh, kw)`` of every window of ``x`` ``(N, C, H, W)``: no copy.

    ``out_size`` may ask for fewer windows than fit (PyTorch's ceil_mode drops a last window
    that would start in the padding).
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    if out_size is None:
        out_size = ((h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1)
    s0, s1, s2, s3 = x.strides
    return _window_xp(x).lib.stride_tricks.as_strided(
        x, (n, c, out_size[0], out_size[1], kh, kw), (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw),
        writeable=False)


def im2col(x, kernel: tuple, stride: tuple, dilation: tuple, groups: int = 1, batch_last: bool = False,
           out=None):
    """The column matrix of a convolution: ``(G, C/G * kh * kw, N * OH * OW)``, one contiguous copy.

    Rows are (channel, kernel row, kernel column); columns are (sample, output row, output column),
    or with ``batch_last`` (output row, output column, sample). The copy moves contiguous runs of OW
    numbers, or of OW * N with ``batch_last`` (after one small transpose of the input), which is much
    faster when output rows are short. ``x`` must already be padded. ``out``: a C-contiguous array of
    that shape and dtype to copy into instead of new memory (no page faults for a reused buffer).
    """
    xp = _window_xp(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    cg = c // groups
    if batch_last:
        xt = xp.ascontiguousarray(x.transpose(1, 2, 3, 0))  # (C, H, W, N)
        sc, sh_, sw_, sn = xt.strides
        win = xp.lib.stride_tricks.as_strided(
            xt, (groups, cg, kh, kw, oh, ow, n),
            (sc * cg, sc, sh_ * dh, sw_ * dw, sh_ * sh, sw_ * sw, sn), writeable=False)
    else:
        win = window_view(x, kernel, stride, dilation)
        win = win.reshape(n, groups, cg, oh, ow, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    if out is not None:
        xp.copyto(out.reshape(win.shape), win)
        return out
    return xp.ascontiguousarray(win).reshape(groups, cg * kh * kw, n * oh * ow)


def col2im(cols, padded_shape: tuple, stride: tuple, dilation: tuple, batch_last: bool = False):
    """The adjoint of ``window_view``: add every window ``cols[n, c, i, j, oh, ow]`` back into the input.

    ``cols`` has shape ``(N, C, kh, kw, OH, OW)`` (any strides), or ``(C, kh, kw, OH, OW, N)`` with
    ``batch_last``; the result has ``padded_shape`` (N, C, H, W), as a view when ``batch_last``.
    One vectorised strided add per kernel position, no loop over the batch.
    """
    xp = _window_xp(cols)
    (sh, sw), (dh, dw) = stride, dilation
    n, c, hp, wp = padded_shape
    if batch_last:
        _, kh, kw, oh, ow, _ = cols.shape
        out = xp.zeros((c, hp, wp, n), dtype=cols.dtype)
    else:
        _, _, kh, kw, oh, ow = cols.shape
        out = xp.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            if batch_last:
                out[:, rows, columns, :] += cols[:, i, j]
            else:
                out[:, :, rows, columns] += cols[:, :, i, j]
    return out.transpose(3, 0, 1, 2) if batch_last else out


def window_argmax(windows):
    """The flat index within its window ``(kh * kw)`` of each window's maximum (a NaN counts as the max).

    ``windows`` is ``(..., kh, kw)``; used where windows differ in size (adaptive max pooling).
    PyTorch's rule: the first of tied maxima, the last NaN of a window that has any.
    """
    xp = _window_xp(windows)
    flat = windows.reshape(*windows.shape[:-2], -1)
    local = flat.argmax(axis=-1)
    if flat.dtype.kind == "f":
        nan = xp.isnan(flat)
        if nan.any():
            last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            local = xp.where(nan.any(axis=-1), last, local)
    return local


def window_max(x, kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple):
    """Max-pool forward: each window's max and its position ``i * kw + j`` in the window.

    Works on strided slices, one per kernel position (no copy of the windows): first the
    maxima, then the position of the first element equal to its window's max, as in
    PyTorch; a NaN counts as the max (it propagates), and as in PyTorch the last NaN of a
    window is the one whose position is kept.
    """
    xp = _window_xp(x)
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    parts = [x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
             for i in range(kh) for j in range(kw)]
    best = parts[0].copy()
    for part in parts[1:]:
        xp.maximum(best, part, out=best)
    nan_aware = x.dtype.kind == "f" and bool(xp.isnan(best.max()))

    def is_max(part):
        return (part == best) | xp.isnan(part) if nan_aware else part == best

    found = is_max(parts[0])
    local = xp.zeros(best.shape, dtype=xp.int16 if len(parts) > 127 else xp.int8)
    for part in parts[1:]:
        local += ~found  # still counting until this window's max has been seen
        found |= is_max(part)
    if nan_aware:
        for k, part in enumerate(parts):
            local = xp.where(xp.isnan(part), local.dtype.type(k), local)
    return best, local


def window_sum(x, kernel: tuple, stride: tuple, out_size: tuple):
    """Sum of every window of ``x`` ``(N, C, H, W)``: one strided add per kernel position (avg-pool)."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
    out = None
    for i in range(kh):
        for j in range(kw):
            part = x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            if out is None:
                out = part.copy()
            else:
                out += part
    return out


def scatter_add_planes(values, index, plane_size: int, unique: bool):
    """``out[n, c, index[n, c, k]] += values[n, c, k]`` over planes of ``plane_size``: max-pool backward.

    ``unique`` (non-overlapping windows) allows a plain assignment; otherwise repeated indices add up.
    """
    xp = _window_xp(values)
    n, c, k = values.shape
    out = xp.zeros((n * c, plane_size), dtype=values.dtype)
    rows = xp.arange(n * c).reshape(-1, 1)
    idx, vals = index.reshape(n * c, k), values.reshape(n * c, k)
    if unique:
        out[rows, idx] = vals
    elif xp.__name__ == "numpy":
        flat = (rows * plane_size + idx).ravel()
        out = xp.bincount(flat, weights=vals.ravel(), minlength=n * c * plane_size).astype(values.dtype)
    else:
        xp.add.at(out, (rows, idx), vals)
    return out.reshape(n, c, plane_size)


def _window_xp(array):
    from . import get_array_module

    return get_array_module(array)


# --------------------------------------------------------------------------- references for kernels/*.cu
# NumPy versions of the fused CUDA kernels, same arguments and results (see nbframe.backend.cuda).
# Half inputs are computed in float32, as the kernels accumulate.
def _acc(x):
    import numpy as np

    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


def softmax_forward(x, log: bool = False):
    """Softmax (or log-softmax) over the last axis, shifted by the row maximum."""
    import numpy as np

    a = _acc(x)
    shifted = a - a.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return (shifted - lse if log else np.exp(shifted - lse)).astype(x.dtype)


def softmax_backward(y, dy, log: bool = False):
    """The input gradient from the output ``y`` and its gradient ``dy``."""
    import numpy as np

    a, g = _acc(y), _acc(dy)
    if log:
        return (g - np.exp(a) * g.sum(axis=-1, keepdims=True)).astype(y.dtype)
    return (a * (g - (g * a).sum(axis=-1, keepdims=True))).astype(y.dtype)


def cross_entropy_forward(logits, target, weight=None, ignore_index: int = -100,
                          label_smoothing: float = 0.0):
    """Per-row cross-entropy of ``(rows, classes)`` logits: ``(loss, row_weight, lse)``.

    ``row_weight`` is ``weight[target]`` (0 on ignored rows): the mean's denominator is its sum.
    """
    import numpy as np

    x = _acc(logits)
    rows, classes = x.shape
    w = np.ones(classes, x.dtype) if weight is None else _acc(weight)
    m = x.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
    keep = target != ignore_index
    t = np.where(keep, target, 0)
    wt = np.where(keep, w[t], 0).astype(x.dtype)
    loss = (1 - label_smoothing) * wt * (lse - x[np.arange(rows), t])
    if label_smoothing:
        soft = label_smoothing / classes * (w.sum() * lse - x @ w)
        loss = loss + np.where(keep, soft, 0)
    return loss.astype(x.dtype), wt, lse


def cross_entropy_backward(logits, target, lse, grad_loss, weight=None, ignore_index: int = -100,
                           label_smoothing: float = 0.0):
    """The logits' gradient, given ``grad_loss`` = d(result)/d(loss_i) per row."""
    import numpy as np

    x = _acc(logits)
    rows, classes = x.shape
    w = np.ones(classes, x.dtype) if weight is None else _acc(weight)
    keep = target != ignore_index
    t = np.where(keep, target, 0)
    p = np.exp(x - lse[:, None])
    onehot = np.zeros_like(p)
    onehot[np.arange(rows), t] = 1
    d = (1 - label_smoothing) * w[t][:, None] * (p - onehot)
    if label_smoothing:
        d = d + label_smoothing / classes * (w.sum() * p - w)
    return (np.where(keep[:, None], d, 0) * grad_loss[:, None]).astype(logits.dtype)


def layer_norm_forward(x, weight=None, bias=None, eps: float = 1e-5):
    """Layer norm over the last axis: ``(y, mean, rstd)`` with biased variance, as PyTorch."""
    import numpy as np

    a = _acc(x)
    mean = a.mean(axis=-1)
    rstd = 1 / np.sqrt(((a - mean[..., None]) ** 2).mean(axis=-1) + eps)
    y = (a - mean[..., None]) * rstd[..., None]
    if weight is not None:
        y = y * _acc(weight) + _acc(bias)
    return y.astype(x.dtype), mean, rstd


def layer_norm_backward(x, dy, mean, rstd, weight=None):
    """``(dx, dweight, dbias)`` of layer norm over the last axis; no weight: ``dweight``, ``dbias`` None."""
    a, g = _acc(x), _acc(dy)
    xhat = (a - mean[..., None]) * rstd[..., None]
    gw = g * _acc(weight) if weight is not None else g
    mean_g, mean_gx = gw.mean(axis=-1, keepdims=True), (gw * xhat).mean(axis=-1, keepdims=True)
    dx = rstd[..., None] * (gw - mean_g - xhat * mean_gx)
    if weight is None:
        return dx.astype(x.dtype), None, None
    lead = tuple(range(g.ndim - 1))
    return dx.astype(x.dtype), (g * xhat).sum(axis=lead), g.sum(axis=lead)


def sgd_step(param, grad, momentum_buffer, lr: float, momentum: float = 0.0, dampening: float = 0.0,
             weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
    """One torch.optim.SGD step on ``param`` in place; returns the momentum buffer (None without momentum).

    Pass ``momentum_buffer=None`` on the first step: it starts as the gradient, as in PyTorch.
    """
    d = -grad if maximize else grad
    if weight_decay:
        d = d + weight_decay * param
    if momentum:
        if momentum_buffer is None:
            momentum_buffer = d.copy()
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * d
        d = d + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * d
    return momentum_buffer


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step: int, lr: float, beta1: float,
              beta2: float, eps: float, weight_decay: float = 0.0, decoupled: bool = False,
              amsgrad: bool = False, maximize: bool = False) -> None:
    """One torch.optim.Adam (``decoupled=False``) or AdamW step, in place; ``step`` counts from 1."""
    import numpy as np

    g = -grad if maximize else grad
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    exp_avg += (1 - beta1) * (g - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    v = exp_avg_sq
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** step) + eps
    param -= lr / (1 - beta1 ** step) * exp_avg / denom


_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)


def philox4x32_10(counter, key):
    """Philox4x32-10 over a ``(4, n)`` uint32 counter array and a ``(2,)`` uint32 key: ``(4, n)`` words."""
    import numpy as np

    mask = np.uint64(0xFFFFFFFF)
    c = [np.asarray(v, np.uint64) for v in counter]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for round_ in range(10):
        if round_:
            k0, k1 = (k0 + np.uint64(_PHILOX_W[0])) & mask, (k1 + np.uint64(_PHILOX_W[1])) & mask
        p0, p1 = np.uint64(_PHILOX_M[0]) * c[0], np.uint64(_PHILOX_M[1]) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & mask, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & mask]
    return np.stack(c).astype(np.uint32)


def dropout_threshold(p: float) -> int:
    """Elements whose 24-bit random number is below this are kept: probability 1 - p."""
    return int(round((1.0 - p) * (1 << 24)))


def dropout_mask(n: int, p: float, seed: int, offset: int):
    """The keep mask (bool, length ``n``) that kernels/dropout.cu draws for ``(seed, offset)``."""
    return dropout_keep(n, dropout_threshold(p), seed, offset)


def dropout_keep(n: int, threshold: int, seed: int, offset: int):
    """``dropout_mask`` given the kernel's 24-bit ``threshold`` instead of ``p``."""
    import numpy as np

    groups = np.arange((n + 3) // 4, dtype=np.uint64)
    counter = (groups & np.uint64(0xFFFFFFFF), groups >> np.uint64(32),
               np.full_like(groups, offset & 0xFFFFFFFF), np.full_like(groups, offset >> 32))
    words = philox4x32_10(counter, (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF))
    return (words.T.reshape(-1)[:n] >> 8) < threshold


def embedding_backward(indices, grad_output, num_embeddings: int, padding_idx: int | None = None):
    """``grad_weight[indices[i]] += grad_output[i]`` (rows at ``padding_idx`` get nothing)."""
    import numpy as np

    dim = grad_output.shape[-1]
    idx = indices.reshape(-1)
    g = _acc(grad_output.reshape(-1, dim))
    if padding_idx is not None:
        g = np.where((idx == padding_idx)[:, None], 0, g)
    out = np.zeros((num_embeddings, dim), g.dtype)
    np.add.at(out, idx, g)
    return out.astype(grad_output.dtype)


def maxpool2d_forward(x, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                      out_size: tuple | None = None):
    """Max-pool ``(N, C, H, W)``: values and the flat ``h * W + w`` index of each maximum.

    PyTorch's rule: the first of tied maxima, and the last NaN of a window if it has any.

    ``out_size`` may ask for a last window that runs past the padding (PyTorch's ceil_mode).
    """
    import numpy as np

    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = out_size or ((h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
                          (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
    best = np.full((n, c, oh, ow), -np.inf, _acc(x).dtype)
    index = np.full((n, c, oh, ow), -1, np.int64)
    for i in range(kh):
        rows = np.arange(oh) * sh - ph + i * dh
        for j in range(kw):
            cols = np.arange(ow) * sw - pw + j * dw
            inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
            v = x[:, :, rows.clip(0, h - 1)][:, :, :, cols.clip(0, w - 1)].astype(best.dtype)
            better = inside & ((index < 0) | (v > best) | np.isnan(v))
            best = np.where(better, v, best)
            index = np.where(better, rows.clip(0, h - 1)[:, None] * w + cols.clip(0, w - 1)[None, :], index)
    return best.astype(x.dtype), index


def maxpool2d_backward(grad_output, indices, input_shape: tuple):
    """Route each output gradient to the input element that was the maximum (overlaps add up)."""
    import numpy as np

    n, c, h, w = input_shape
    out = np.zeros((n * c, h * w), _acc(grad_output).dtype)
    planes = np.repeat(np.arange(n * c), indices[0, 0].size)
    np.add.at(out, (planes, indices.reshape(-1)), grad_output.reshape(-1))
    return out.reshape(input_shape).astype(grad_output.dtype)
