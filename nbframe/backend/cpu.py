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


def im2col(x, kernel: tuple, stride: tuple, dilation: tuple, groups: int = 1):
    """The column matrix of a convolution: ``(G, C/G * kh * kw, N * OH * OW)``, one contiguous copy.

    Rows are (channel, kernel row, kernel column), columns (sample, output row, output column): the
    layout whose copy reads the input along its rows and whose GEMM output is channel-major.
    ``x`` must already be padded.
    """
    win = window_view(x, kernel, stride, dilation)
    n, c, oh, ow, kh, kw = win.shape
    win = win.reshape(n, groups, c // groups, oh, ow, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    return _window_xp(x).ascontiguousarray(win).reshape(groups, (c // groups) * kh * kw, n * oh * ow)


def col2im(cols, padded_shape: tuple, stride: tuple, dilation: tuple):
    """The adjoint of ``window_view``: add every window ``cols[n, c, i, j, oh, ow]`` back into the input.

    ``cols`` has shape ``(N, C, kh, kw, OH, OW)`` (any strides); the result has ``padded_shape``.
    One vectorised strided add per kernel position, no loop over the batch.
    """
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    out = _window_xp(cols).zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            out[:, :, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, :, i, j]
    return out


def window_argmax(windows):
    """Max-pool forward: the flat index within its window ``(kh * kw)`` of each window's maximum.

    ``windows`` is ``(..., kh, kw)``; a NaN counts as the maximum, as in PyTorch.
    """
    xp = _window_xp(windows)
    flat = windows.reshape(*windows.shape[:-2], -1)
    local = flat.argmax(axis=-1)
    if flat.dtype.kind == "f":
        nan = xp.isnan(flat)
        if nan.any():
            local = xp.where(nan.any(axis=-1), nan.argmax(axis=-1), local)
    return local


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
