"""Shape ops: views and rearrangements that move elements without computing on them.

Their backward rearranges the gradient the opposite way, and the pairs are
each other's backward: ``cat`` <-> ``split``, ``stack`` <-> ``unbind``,
``narrow`` <-> padding with zeros (``backward_arrays``, for a plain
``loss.backward()``, calls the partner's forward on the raw gradient instead of
applying it as a node). Ops whose result is a view of their input
(``view``, ``permute``, ``narrow``, ``split``, ...) set ``_is_view`` so the
result shares its base's version counter, as PyTorch's views do: changing one
in place is seen by a backward that saved the other.
"""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Op, on_arrays
from ..backend import get_array_module
from .reduce import normalize_dims

__all__ = ['reshape', 'view', 'expand', 'permute', 'transpose', 't', 'unsqueeze', 'squeeze', 'flatten',
           'view_as', 'reshape_as', 'expand_as', 'swapaxes', 'swapdims', 'ravel', 'repeat', 'tile', 'flip',
           'fliplr', 'flipud', 'roll', 'cat', 'concat', 'concatenate', 'stack', 'hstack',
           'vstack', 'row_stack', 'meshgrid', 'cartesian_prod', 'split', 'chunk', 'unbind',
           'unflatten', 'narrow', 'movedim', 'moveaxis', 'repeat_interleave']


# --------------------------------------------------------------------------- argument helpers
def _shape_arg(shape) -> tuple:
    """``view(2, 3)``, ``view((2, 3))`` and ``view([2, 3])`` all mean (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _dim(dim, ndim: int, op: str) -> int:
    """One dimension, made non-negative, with PyTorch's error when out of range."""
    return normalize_dims((dim,), ndim, op)[0] if ndim else _scalar_dim(dim, op)


def _scalar_dim(dim, op: str) -> int:
    if dim not in (0, -1):
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    return 0


def _ordered_dims(dims, ndim: int, op: str) -> tuple:
    """Dimensions in the order given (``normalize_dims`` sorts them), each checked and made non-negative."""
    return tuple(_dim(d, ndim, op) for d in dims)


def _resolve_shape(shape: tuple, size: int, op: str, in_shape: tuple) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {size} (input shape {list(in_shape)})"
        )
    return shape


def _along(dim: int, item) -> tuple:
    """An index that applies ``item`` to dimension ``dim`` and keeps every other one whole."""
    return (slice(None),) * dim + (item, Ellipsis)


# --------------------------------------------------------------------------- reshaping views
class Reshape(Op):
    """A view when the strides allow one (always for contiguous input), a copy otherwise."""

    label = "reshape"
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        if shape != x.shape:
            shape = _resolve_shape(shape, x.size, ctx.label, x.shape)
        out = x.reshape(shape)
        if not x.flags.c_contiguous and x.size and not get_array_module(x).may_share_memory(out, x):
            ctx._is_view = False
        return out

    @staticmethod
    def backward(ctx, grad):
        return Reshape.apply(grad, ctx.in_shape), None

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class View(Reshape):
    """``reshape`` that refuses to copy, as PyTorch's ``view`` does."""

    label = "view"

    @staticmethod
    def forward(ctx, x, shape):
        out = Reshape.forward(ctx, x, shape)
        if not ctx._is_view:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one dimension "
                f"spans across two contiguous subspaces): a tensor of shape {list(x.shape)} and strides "
                f"{[s // x.itemsize for s in x.strides]} can't be viewed as {list(shape)}. "
                "Use .reshape(...) instead."
            )
        return out


class BitcastView(Op):
    """``view(dtype)``: the same bytes read as another dtype of the same size (no gradient)."""

    label = "view_dtype"
    _is_view = True

    @staticmethod
    def forward(ctx, x, target):
        if target.itemsize != x.itemsize:
            raise RuntimeError(
                f"view(dtype): only dtypes of the same element size are supported here; {x.dtype} has "
                f"{x.itemsize} bytes and {target} has {target.itemsize}"
            )
        return x.view(target)

    @staticmethod
    def backward(ctx, grad):
        return None, None


class Expand(Op):
    label = "expand"
    _is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = len(shape) - x.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to the "
                f"number of dimensions in the tensor ({x.ndim})"
            )
        for i in range(lead):
            if shape[i] < 0:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({shape[i]}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
        target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
        for i, s in enumerate(x.shape):
            if s != 1 and s != target[i + lead]:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({target[i + lead]}) must match the existing "
                    f"size ({s}) at non-singleton dimension {i + lead}. Target sizes: {list(shape)}. "
                    f"Tensor sizes: {list(x.shape)}"
                )
        return get_array_module(x).broadcast_to(x, target)

    @staticmethod
    def backward(ctx, grad):
        from .broadcast import sum_to

        return sum_to(grad, ctx.in_shape), None

    @staticmethod
    def backward_arrays(ctx, grad):
        from .broadcast import sum_to_array

        return sum_to_array(grad, ctx.in_shape), None


class Permute(Op):
    label = "permute"
    _is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        if len(dims) != x.ndim:
            raise RuntimeError(
                f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                f"of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to "
                f"len(dims) = {len(dims)}"
            )
        dims = _ordered_dims(dims, x.ndim, "permute")
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"permute(): duplicate dims are not allowed (got {list(dims)})")
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return Permute.apply(grad, _inverse(ctx.dims)), None

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad.transpose(_inverse(ctx.dims)), None


def _inverse(dims: tuple) -> tuple:
    """The permutation that undoes ``dims``."""
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


# --------------------------------------------------------------------------- slicing views
class Narrow(Op):
    """``x`` restricted to ``start:start + length`` along ``dim`` (a view)."""

    label = "narrow"
    _is_view = True

    @staticmethod
    def forward(ctx, x, dim, start, length):
        ctx.in_shape, ctx.dim, ctx.start = x.shape, dim, start
        return x[_along(dim, slice(start, start + length))]

    @staticmethod
    def backward(ctx, grad):
        return NarrowBackward.apply(grad, ctx.in_shape, ctx.dim, ctx.start), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        gx = on_arrays(NarrowBackward, grad, ctx.in_shape, ctx.dim, ctx.start)
        return gx, None, None, None


class NarrowBackward(Op):
    """Place ``grad`` at ``start`` along ``dim`` in zeros of ``shape`` (and back again: ``narrow``)."""

    label = "narrow_backward"

    @staticmethod
    def forward(ctx, grad, shape, dim, start):
        ctx.dim, ctx.start, ctx.length = dim, start, grad.shape[dim]
        out = get_array_module(grad).zeros(shape, dtype=grad.dtype)
        out[_along(dim, slice(start, start + grad.shape[dim]))] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return Narrow.apply(grad, ctx.dim, ctx.start, ctx.length), None, None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return grad[_along(ctx.dim, slice(ctx.start, ctx.start + ctx.length))], None, None, None


class Split(Op):
    """Pieces of ``sizes`` along ``dim`` (views); the backward concatenates their gradients."""

    label = "split"
    _is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        pieces, start = [], 0
        for size in sizes:
            pieces.append(x[_along(dim, slice(start, start + size))])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return (Cat.apply(ctx.dim, *grads), None, None)

    @staticmethod
    def backward_arrays(ctx, *grads):
        """The pieces' gradients (zeros for those no gradient reached) joined: Cat's forward."""
        return on_arrays(Cat, ctx.dim, *grads), None, None


class Unbind(Op):
    """Every slice along ``dim`` with ``dim`` removed (views); the backward stacks their gradients."""

    label = "unbind"
    _is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[_along(dim, i)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return Stack.apply(ctx.dim, *grads), None

    @staticmethod
    def backward_arrays(ctx, *grads):
        """The slices' gradients (zeros for those no gradient reached) stacked: Stack's forward."""
        return on_arrays(Stack, ctx.dim, *grads), None


# --------------------------------------------------------------------------- joining
def _common_dtype(arrays, op: str):
    from .promotion import _device_mismatch

    first = arrays[0]
    result = None
    for a in arrays:
        if type(a) is not type(first):
            _device_mismatch(first, a, op)
        d = dtypes.from_numpy(a.dtype)
        result = d if result is None else dtypes.promote_types(result, d)
    return dtypes.to_numpy(result)


def _cast_all(arrays, target):
    return [a if a.dtype == target else a.astype(target) for a in arrays]


def _cast_grads(grads, source_dtypes):
    """Gradients back in each input's own dtype (after promotion joined different ones)."""
    return tuple(g if g is None or g.array.dtype == d else g.to(dtypes.from_numpy(d))
                 for g, d in zip(grads, source_dtypes))


def _cast_grad_arrays(grads, source_dtypes):
    """``_cast_grads`` on arrays."""
    return tuple(g if g.dtype == d else g.astype(d) for g, d in zip(grads, source_dtypes))


def _cat_pieces(ctx, pieces, empty) -> list:
    """Cat's gradient per input: ``pieces`` of the kept inputs, ``empty(dtype)`` for the skipped ones."""
    grads = [empty(d) for d in ctx.dtypes]
    for i, g in zip(ctx.kept, pieces):
        grads[i] = g
    return grads


class Cat(Op):
    """Join along an existing dimension. ``apply(dim, *arrays)``: the arrays are the positional inputs."""

    label = "cat"

    @staticmethod
    def forward(ctx, dim, *xs):
        for i, x in enumerate(xs):
            if x.ndim == 0:
                raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        # PyTorch's legacy rule: 1-D empty tensors are skipped whatever the others' shape.
        kept = [i for i, x in enumerate(xs) if x.shape != (0,)]
        ref = xs[kept[0]] if kept else xs[0]
        dim = _dim(dim, ref.ndim, "cat")
        for i in kept:
            x = xs[i]
            if x.ndim != ref.ndim:
                raise RuntimeError(
                    f"Tensors must have same number of dimensions: got {ref.ndim} and {x.ndim} "
                    f"(tensor number {i} in the list has shape {list(x.shape)}, tensor number {kept[0]} "
                    f"has shape {list(ref.shape)})"
                )
            for d in range(ref.ndim):
                if d != dim and x.shape[d] != ref.shape[d]:
                    raise RuntimeError(
                        f"Sizes of tensors must match except in dimension {dim}. Expected size "
                        f"{ref.shape[d]} but got size {x.shape[d]} for tensor number {i} in the list."
                    )
        target = _common_dtype(xs, "cat")
        ctx.dim, ctx.kept, ctx.dtypes = dim, kept, tuple(x.dtype for x in xs)
        ctx.sizes = tuple(xs[i].shape[dim] for i in kept)
        if not kept:
            return get_array_module(ref).zeros((0,), dtype=target)
        return get_array_module(ref).concatenate(_cast_all([xs[i] for i in kept], target), axis=dim)

    @staticmethod
    def backward(ctx, grad):
        from ..creation import zeros_for

        # Skipped (empty 1-D) inputs get an empty gradient.
        xp = get_array_module(grad.array)
        pieces = Split.apply(grad, ctx.sizes, ctx.dim) if ctx.kept else ()
        return (None,) + _cast_grads(_cat_pieces(ctx, pieces, lambda d: zeros_for((0,), d, xp)), ctx.dtypes)

    @staticmethod
    def backward_arrays(ctx, grad):
        xp = get_array_module(grad)
        pieces = on_arrays(Split, grad, ctx.sizes, ctx.dim) if ctx.kept else ()
        grads = _cat_pieces(ctx, pieces, lambda d: xp.zeros((0,), dtype=d))
        return (None,) + _cast_grad_arrays(grads, ctx.dtypes)


class Stack(Op):
    """Join along a new dimension. ``apply(dim, *arrays)``."""

    label = "stack"

    @staticmethod
    def forward(ctx, dim, *xs):
        ref = xs[0]
        for i, x in enumerate(xs):
            if x.shape != ref.shape:
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got {list(ref.shape)} at entry 0 and "
                    f"{list(x.shape)} at entry {i}"
                )
        dim = _dim(dim, ref.ndim + 1, "stack")
        target = _common_dtype(xs, "stack")
        ctx.dim, ctx.dtypes = dim, tuple(x.dtype for x in xs)
        return get_array_module(ref).stack(_cast_all(list(xs), target), axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + _cast_grads(Unbind.apply(grad, ctx.dim), ctx.dtypes)

    @staticmethod
    def backward_arrays(ctx, grad):
        return (None,) + _cast_grad_arrays(on_arrays(Unbind, grad, ctx.dim), ctx.dtypes)


# --------------------------------------------------------------------------- copies that rearrange
class Repeat(Op):
    label = "repeat"

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.in_shape, ctx.repeats = x.shape, repeats
        return get_array_module(x).tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        return _sum_repeats(grad, ctx.in_shape, ctx.repeats), None

    @staticmethod
    def backward_arrays(ctx, grad):
        return _sum_repeats(grad, ctx.in_shape, ctx.repeats), None


def _sum_repeats(grad, in_shape: tuple, repeats: tuple):
    """Repeat's gradient (``grad`` a Tensor or an array): split every dimension into (repeat, size) and sum
    over the repeats."""
    padded = (1,) * (len(repeats) - len(in_shape)) + in_shape
    split = tuple(n for pair in zip(repeats, padded) for n in pair)
    return grad.reshape(split).sum(tuple(range(0, len(split), 2))).reshape(in_shape)


class Flip(Op):
    label = "flip"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        xp = get_array_module(x)
        return xp.ascontiguousarray(xp.flip(x, axis=dims)) if dims else x.copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.dims), None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(Flip, grad, ctx.dims), None


class Roll(Op):
    label = "roll"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        xp = get_array_module(x)
        if dims is None:
            return xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None

    @staticmethod
    def backward_arrays(ctx, grad):
        return on_arrays(Roll, grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


# --------------------------------------------------------------------------- public functions
def reshape(input, *shape):
    return Reshape.apply(input, _shape_arg(shape))


def view(input, *shape):
    """``view(*shape)`` (no copy, or an error) or ``view(dtype)`` (the same bytes as another dtype)."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        return BitcastView.apply(input, dtypes.to_numpy(shape[0]))
    return View.apply(input, _shape_arg(shape))


def ravel(input):
    return Reshape.apply(input, (-1,))


def expand(input, *sizes):
    return Expand.apply(input, _shape_arg(sizes))


def permute(input, *dims):
    return Permute.apply(input, _shape_arg(dims))


def transpose(input, dim0: int, dim1: int):
    n = input.array.ndim
    d0, d1 = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    if n == 0:
        return input
    order = list(range(n))
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(input, tuple(order))


swapaxes = swapdims = transpose


def t(input):
    if input.array.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.array.ndim}D")
    return transpose(input, 0, 1) if input.array.ndim == 2 else input


def unsqueeze(input, dim: int):
    n = input.array.ndim + 1
    dim = _dim(dim, n, "unsqueeze")
    shape = input.array.shape
    return Reshape.apply(input, shape[:dim] + (1,) + shape[dim:])


def squeeze(input, dim=None):
    shape = input.array.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, input.array.ndim, "squeeze")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return Reshape.apply(input, new) if new != shape else input


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    shape = input.array.shape
    if not shape:
        return Reshape.apply(input, (1,))
    s, e = _dim(start_dim, len(shape), "flatten"), _dim(end_dim, len(shape), "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    size = 1
    for d in shape[s:e + 1]:
        size *= d
    return Reshape.apply(input, shape[:s] + (size,) + shape[e + 1:])


def unflatten(input, dim: int, sizes):
    """Split dimension ``dim`` into ``sizes`` (one of which may be -1)."""
    shape = input.array.shape
    dim = _dim(dim, len(shape), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _resolve_shape(sizes, shape[dim], "unflatten", (shape[dim],))
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shape[dim]}) in the input tensor"
        ) from None
    return Reshape.apply(input, shape[:dim] + sizes + shape[dim + 1:])


def view_as(input, other):
    return View.apply(input, other.array.shape)


def reshape_as(input, other):
    return Reshape.apply(input, other.array.shape)


def expand_as(input, other):
    return Expand.apply(input, other.array.shape)


def movedim(input, source, destination):
    """Move dimensions ``source`` to positions ``destination``; the others keep their order."""
    n = input.array.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same "
            f"number of dims as destination ({list(dst)} dims)"
        )
    src, dst = _ordered_dims(src, n, "movedim"), _ordered_dims(dst, n, "movedim")
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order)) if n else input


moveaxis = movedim


def narrow(input, dim: int, start: int, length: int):
    """The view ``input[..., start:start + length, ...]`` along ``dim``."""
    shape = input.array.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _dim(dim, len(shape), "narrow")
    size, start, length = shape[dim], int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Narrow.apply(input, dim, start, length)


def _tensor_list(tensors, op: str) -> tuple:
    from ..tensor import Tensor

    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = tuple(tensors)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{op}(): expected Tensor as element {i} in argument 0, but got {type(x).__name__}"
            )
    return tensors


def cat(tensors, dim: int = 0, *, out=None):
    """Join ``tensors`` along the existing dimension ``dim``."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    return Cat.apply(dim, *tensors)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out=None):
    """Join equal-shaped ``tensors`` along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    return Stack.apply(dim, *tensors)


def hstack(tensors, *, out=None):
    """Join side by side: 1-D tensors end to end, others along dim 1 (NumPy's ``hstack``)."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors, *, out=None):
    """Join one under another along dim 0, 0-D and 1-D tensors made rows first (NumPy's ``vstack``)."""
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensor_list(tensors, "vstack")]
    return cat(tensors, 0)


row_stack = vstack


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors: output ``i`` repeats ``tensors[i]`` along every other dim.

    ``indexing="ij"`` (the default, as in PyTorch) gives shape ``(len(t0), len(t1), ...)``;
    ``"xy"`` swaps the first two dims, as NumPy's ``meshgrid`` does by default.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list(tensors, "meshgrid")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{t.ndim}D (tensor {i})")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0  # the grid's dim k runs along tensors[order[k]]
    grid = [sizes[k] for k in order]
    outputs = []
    for i, t in enumerate(tensors):
        shape = [1] * len(tensors)
        shape[order.index(i)] = -1
        outputs.append(t.reshape(shape).expand(grid))
    return tuple(outputs)


def cartesian_prod(*tensors):
    """Every combination of the 1-D tensors' elements, one per row (``itertools.product`` order)."""
    if len(tensors) == 1:
        return tensors[0]
    return stack(meshgrid(*tensors, indexing="ij"), -1).reshape(-1, len(tensors))


def split(tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last may be smaller), or of the listed sizes, along ``dim``."""
    shape = tensor.array.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = _dim(dim, len(shape), "split")
    n = shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={list(sizes)}"
            )
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        sizes = (size,) * (n // size) + ((n % size,) if n % size else ()) if n else (0,)
    return Split.apply(tensor, sizes, dim)


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input.array.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = shape[_dim(dim, len(shape), "chunk")]
    return split(input, -(-n // chunks) if n else 0, dim)


def unbind(input, dim: int = 0) -> tuple:
    """Every slice along ``dim``, with ``dim`` removed."""
    shape = input.array.shape
    if not shape:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, _dim(dim, len(shape), "unbind"))


def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along each dimension (``sizes`` may add leading ones)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.array.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor "
            f"(got {len(sizes)} repeats for a tensor of shape {list(input.array.shape)})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension in repeat({list(sizes)})")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    """``repeat`` where fewer ``dims`` than dimensions means leading ones."""
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (input.array.ndim - len(dims)) + dims)


def flip(input, *args, dims=None):
    """Reverse the order of elements along ``dims`` (``flip(x, [0, 1])``, or ``x.flip(0, 1)``)."""
    dims = _shape_arg(args) if dims is None else _shape_arg((dims,) if isinstance(dims, int) else (dims,))
    return Flip.apply(input, normalize_dims(dims, input.array.ndim, "flip"))


def fliplr(input):
    if input.array.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input):
    if input.array.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` (the flattened tensor when None), wrapping around."""
    shifts = (int(shifts),) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: with dims=None, shifts must be a single number, got {list(shifts)}")
        return Roll.apply(input, shifts, None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(input, shifts, _ordered_dims(dims, input.array.ndim, "roll"))


def _repeat_counts(repeats, size: int):
    """``repeats`` (an int, or one count per slice) as a NumPy vector of ``size`` non-negative counts."""
    import numpy as np

    from ..tensor import Tensor

    if not isinstance(repeats, Tensor):
        if int(repeats) < 0:
            raise RuntimeError(f"Repeats must be non-negative, got {repeats}")
        return np.full(size, int(repeats), dtype=np.int64)
    counts = repeats.array
    if counts.ndim > 1:
        raise RuntimeError(f"repeat_interleave: repeats must be 0-dim or 1-dim tensor, got {counts.ndim}-dim")
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats has to be Long or Int tensor, got {repeats.dtype}")
    if counts.ndim == 1 and counts.shape[0] not in (1, size):
        raise RuntimeError(
            "repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {counts.shape[0]} and input.size(0) = {size}"
        )
    counts = counts if isinstance(counts, np.ndarray) else counts.get()
    counts = counts.astype(np.int64).reshape(-1)
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError("repeats can not be negative")
    return np.broadcast_to(counts, (size,)) if counts.size == 1 else counts


def repeat_interleave(input, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: [a, b] -> [a, a, b, b].

    ``repeats`` is an int or one count per slice; without ``dim`` the input is flattened first.
    ``repeat_interleave(counts)`` alone gives ``arange(len(counts))`` repeated by ``counts``.
    A selection of slices, so its gradient sums each slice's copies (``index_select``'s backward).
    """
    import numpy as np

    from .index import IndexSelect, _int_tensor

    xp = get_array_module(input.array)
    if repeats is None:  # repeat_interleave(counts): the indices 0, 1, ... each repeated by its count
        counts = _repeat_counts(input, input.array.size)
        return _int_tensor(xp.asarray(np.repeat(np.arange(counts.shape[0]), counts)))
    if dim is None or input.array.ndim == 0:
        input, dim = Reshape.apply(input, (-1,)), 0
    dim = _dim(dim, input.array.ndim, "repeat_interleave")
    size = input.array.shape[dim]
    index = np.repeat(np.arange(size), _repeat_counts(repeats, size))
    if output_size is not None and index.shape[0] != output_size:
        raise RuntimeError(
            f"repeat_interleave: output_size={output_size} but the repeats add up to {index.shape[0]}"
        )
    return IndexSelect.apply(input, dim, xp.asarray(index))


TENSOR_METHODS = {
    "repeat_interleave": repeat_interleave,
    "reshape": reshape, "view": view, "expand": expand, "permute": permute, "transpose": transpose,
    "swapaxes": transpose, "swapdims": transpose, "t": t, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "flatten": flatten, "view_as": view_as, "reshape_as": reshape_as, "expand_as": expand_as,
    "ravel": ravel, "repeat": repeat, "tile": tile, "flip": flip, "fliplr": fliplr, "flipud": flipud,
    "roll": roll, "split": split, "chunk": chunk, "unbind": unbind, "unflatten": unflatten,
    "narrow": narrow, "movedim": movedim, "moveaxis": movedim,
}
