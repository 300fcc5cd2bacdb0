"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...) and the version counter that guards them.

An in-place op runs the out-of-place op, writes the result into the tensor's
own array (so views see it) and bumps the version counter. Under autograd the
tensor's history is re-pointed at the new op. If that op kept the old values
for its backward (``sin_`` needs its input, as ``mul_`` by a tensor does), it
gets a copy of them before they are overwritten, as PyTorch's in-place ops save
the original ``self``. Any other node that saved the tensor sees the version
change at backward and raises PyTorch's error.

Views: every view keeps its base, the first tensor of a chain of views (``note_view``,
``note_untracked_view``; PyTorch's ``_base``). Changing a view in place by an op that
records rebases the base's history on a ``CopySlices`` node (the old base outside the
view, the op's result inside it), as PyTorch does, also for a view made outside a graph
(``buf[0].copy_(h)`` gives ``buf`` a history). Every other view of that base, taken before
the change, follows lazily: a view whose base may get a history is a ``_View``, whose
``grad_fn`` and ``requires_grad`` notice that the version counter it shares with its base
moved and then take the base's current history read at the view's positions
(``AsStrided``): PyTorch's regeneration of a view's ``grad_fn``. Nothing is listed on the
base, and ordinary tensors pay nothing. PyTorch's refusals come with it: views made under
``no_grad`` and outputs of ``unbind``/``split`` may not follow a change made while recording.

An op whose node saved its result keeps the tensor itself instead (``relu_``): no
second array, and a later change of the tensor raises the version error, as in PyTorch.
"""

from __future__ import annotations

from .. import tensor as _tensor
from ..autograd import function as _function
from ..autograd import grad_mode
from ..autograd.function import _INPUT, _OTHER, _OUTPUT, Op
from ..backend import get_array_module
from .broadcast import sum_to
from .promotion import fill_scalar

__all__ = ["zero_", "fill_", "copy_", "normal_", "uniform_"]

_state = grad_mode._state

#: Methods that change a tensor's shape, not its values (``t_``): the tensor takes the view's array.
_RESHAPING = frozenset({"t_", "transpose_", "squeeze_", "unsqueeze_"})


def check_leaf(tensor, op: str) -> None:
    """Refuse to change a leaf that requires grad while recording (its ``.grad`` would be meaningless)."""
    if _state.enabled and tensor.requires_grad and tensor.grad_fn is None:
        raise _leaf_error(op)


def check_inplace(tensor, op: str) -> None:
    """``check_leaf``; for a view, also PyTorch's refusals: of a view of a leaf that requires grad, and of
    one of several views made in a graph by one op (``unbind``)."""
    if not _state.enabled:
        return
    fn = tensor.grad_fn
    if fn is None:
        if tensor.requires_grad:
            raise _leaf_error(op)
    elif fn._is_view or type(tensor) is _View:
        attributes = tensor.__dict__
        root = attributes.get("_view_base") if attributes else None
        if root is None:
            return  # not a view: a tensor that took a view's array (t_, squeeze_)
        if root.grad_fn is None and root.requires_grad:
            raise _view_of_leaf_error(op)
        if fn._outputs_meta:  # (set for an op that returned a tuple, even of one view: split)
            raise RuntimeError(f"{_one_of_several_refusal(tensor, fn, _CHANGED)} ({op})")


def _leaf_error(op: str) -> RuntimeError:
    return RuntimeError(
        "a leaf Variable that requires grad is being used in an in-place operation. "
        f"({op}: change it inside `with nbframe.no_grad():`, as optimizers and nn.init do, "
        "or use the out-of-place op.)"
    )


def _view_of_leaf_error(op: str) -> RuntimeError:
    return RuntimeError(
        "a view of a leaf Variable that requires grad is being used in an in-place operation. "
        f"({op}: change the leaf inside `with nbframe.no_grad():`, or clone() the view first.)"
    )


class Overwrite(Op):
    """``dst``'s values replaced by ``src`` (cast to ``dst``'s dtype, broadcast to its shape).

    The graph node of ``copy_``, ``fill_``, random fills and every in-place op whose result carries no
    gradient (``eq_``): the old history gets a zero gradient, as in PyTorch; ``src`` gets the gradient.
    """

    label = "copy_"

    @staticmethod
    def forward(ctx, dst, src):
        xp = get_array_module(dst)
        src = xp.asarray(src)
        ctx.src_shape = src.shape
        try:
            return xp.broadcast_to(src.astype(dst.dtype, copy=False), dst.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: the source's shape {list(src.shape)} can't be broadcast to "
                f"the destination's shape {list(dst.shape)}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        from ..creation import zeros_like

        needs = ctx.needs_input_grad
        return (zeros_like(grad) if needs[0] else None, sum_to(grad, ctx.src_shape) if needs[1] else None)


def apply_inplace(tensor, compute, op: str):
    """Write ``compute(tensor)`` (a Tensor op) into ``tensor``; return ``tensor``."""
    check_inplace(tensor, op)
    result = compute(tensor)
    out = result.array
    target = tensor.array
    if out.shape != target.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(target.shape)} doesn't match "
            f"the broadcast shape {list(out.shape)}"
        )
    if out.dtype != target.dtype:
        _check_castable(out.dtype, target.dtype, op)
    _check_writeable(target, op)
    recording = _state.enabled and tensor.requires_grad
    if recording and result.grad_fn is None:
        # A result without gradient (fill_, eq_) still replaces a history: PyTorch's gives it zeros.
        result = Overwrite.apply(tensor, result)
    node = result.grad_fn
    base = None
    if node is not None:
        base = _base_to_rebase(tensor, target, recording, op)
        _keep_old_values(node, tensor)
    elif _state.enabled and tensor.__dict__:
        _refuse_view_made_outside_the_graph(tensor, op)
    if base is not None:
        # The base's new history: its old one outside the view, the op's result inside it.
        positions = _positions(base.array, target)
        base_result = CopySlices.apply(base, result, positions)
    target[...] = out
    tensor._version[0] += 1
    if base is not None:
        # The base's new history. The view, as every other view of the base, takes it when next used
        # (their version counter moved: see _View).
        base.grad_fn = base_result.grad_fn
        base._output_nr = 0
        base.requires_grad = True
        if type(tensor) is _Tensor:
            _make_view(tensor)  # (made when its base was a leaf that required grad)
        tensor._positions = (base.array, target, positions)  # for that (see _positions_in_base)
    elif node is not None:
        tensor.grad_fn = node
        tensor._output_nr = result._output_nr
        tensor.requires_grad = True
    if node is not None:
        _save_output_in_place(node, out, tensor)
    return tensor


def _check_writeable(array, op: str) -> None:
    if not getattr(array.flags, "writeable", True):
        raise RuntimeError(f"{op}: this tensor is a read-only (expanded) view; clone() it first")


def _save_output_in_place(node, out, tensor) -> None:
    """If the op's node saved its result ``out``, make it keep ``tensor`` instead, which now holds those
    values (PyTorch's ``relu_`` saves ``self`` after the change too): ``out`` is freed, so an in-place
    activation costs no memory of its own, and a later change of ``tensor`` raises the version error."""
    saved = node._saved
    if not saved or out.dtype != tensor.array.dtype:  # (a float64 result written into float32: not the same)
        return
    for i, entry in enumerate(saved):
        if entry[0] == _OUTPUT and entry[1][0] is out:
            counter = tensor._version
            entries = list(saved)
            entries[i] = (_OUTPUT, (tensor.array, entry[1][1]), counter, counter[0])
            node._saved = tuple(entries)
            return


def _check_castable(source, target, op: str) -> None:
    """PyTorch's rule for in-place results: no float into an integer tensor, nothing but bool into bool."""
    if source.kind == "f" and target.kind in "iub" or source.kind in "iu" and target.kind == "b":
        from .. import dtypes

        raise RuntimeError(
            f"{op}: result type {dtypes.from_numpy(source).name.capitalize()} can't be cast to the "
            f"desired output type {dtypes.from_numpy(target).name.capitalize()}"
        )


def _keep_old_values(node, tensor) -> None:
    """Give ``node`` (the in-place op's graph node) its own copy of what it kept of ``tensor``'s values.

    Called before those values are overwritten. A saved input that is ``tensor`` becomes a copy with the
    old history (so double backward still reaches it); saved values and arrays kept on ``node`` that share
    memory with ``tensor`` become plain copies. Nothing is copied when the op kept nothing of it.
    """
    target = tensor.array
    array_type = type(target)
    old = None  # the copy of tensor, made at most once
    saved = node._saved
    if saved:
        entries = None
        for i, (kind, value, _counter, _version) in enumerate(saved):
            if kind == _INPUT:
                if value is not tensor:
                    continue
                if old is None:
                    old = _old_values(tensor)
                entry = (_INPUT, old, old._version, 0)
            elif kind == _OTHER and isinstance(value, _function._Tensor) and _shares(value.array, target):
                entry = (_OTHER, _function._wrap(value.array.copy(), False, None, 0), None, None)
            else:
                continue
            if entries is None:
                entries = list(saved)
            entries[i] = entry
        if entries is not None:
            node._saved = tuple(entries)
    attributes = node.__dict__
    for name, value in attributes.items():
        if value is tensor:
            if old is None:
                old = _old_values(tensor)
            attributes[name] = old
        elif type(value) is array_type and _shares(value, target):
            attributes[name] = value.copy()


def _old_values(tensor):
    """A copy of ``tensor`` that keeps its current history: what a backward that saved it must see."""
    return _function._wrap(tensor.array.copy(), tensor.requires_grad, tensor.grad_fn, tensor._output_nr)


def _shares(a, b) -> bool:
    return get_array_module(b).may_share_memory(a, b)


# --------------------------------------------------------------------------- views
#: Marks of views PyTorch refuses to let follow a change (``_View._view_mark``): made under ``no_grad``,
#: or one of several views made outside a graph by one op (``unbind``, ``split``).
_NO_GRAD, _MULTIPLE = "no_grad", "multiple"

_AMBIGUOUS = (
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
    "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
    "inplace to be tracked) or both outside (if you want the inplace to be tracked)."
)
_ONE_OF_SEVERAL = (
    "This view is the output of a function that returns multiple views. Such functions do not allow the "
    "output views to be modified inplace. You should replace the inplace operation by an out-of-place one."
)
#: How PyTorch words the change, for a view changed itself or through its base or another view.
_CHANGED, _CHANGED_ELSEWHERE = (
    "is being modified inplace",
    "its base or another view of its base has been modified inplace",
)


def _refusal(mark, changed: str) -> str:
    """PyTorch's message for a view made outside a graph (marked ``mark``) that may not follow a change."""
    tail = _ONE_OF_SEVERAL if mark == _MULTIPLE else _AMBIGUOUS
    return f"A view was created in no_grad mode and {changed} with grad mode enabled. {tail}"


def _one_of_several_refusal(view, fn, changed: str) -> str:
    """PyTorch's message for one of several views made in a graph by one op, changed in place."""
    return f"Output {view._output_nr} of {type(fn).__name__} is a view and {changed}. {_ONE_OF_SEVERAL}"


_Tensor = _tensor.Tensor


def _grad_fn(view):
    if view._version[0] != view._seen:
        _follow_base(view, True)
    return view._history


def _set_grad_fn(view, fn) -> None:
    view._history = fn


def _requires_grad(view) -> bool:
    if view._version[0] != view._seen and not _follow_base(view, False):
        return view._requires or view._view_base.requires_grad  # (as PyTorch's: never raises)
    return view._requires


def _set_requires_grad(view, value: bool) -> None:
    view._requires = value


class _View(_Tensor):
    """A view whose base may get a new history: its own follows it, as in PyTorch.

    A view keeps its base in its ``__dict__`` (``_view_base``: the first tensor of a chain of views,
    PyTorch's ``_base``). Writing into the base, or through another of its views, moves the version counter
    they all share; the view's history then no longer says where its values came from. So a view whose
    base may get a new history (any view but one of a leaf that requires grad) is made a ``_View``, whose
    ``grad_fn`` and ``requires_grad`` compare the version counter with ``_seen``, the version its history
    describes, and on a difference take the base's current history, read at the view's positions
    (``AsStrided``), as PyTorch regenerates a view's ``grad_fn``. Ordinary tensors pay nothing: only this
    class has the check, and the ops read the two attributes as they always do. (The two live in the
    ``__dict__``, ``_history`` and ``_requires``: read there faster than from the slots this class hides.)
    """

    __slots__ = ()
    _seen = 0  # the version the view's history describes (an entry of its own when not 0)
    _view_mark = None  # _NO_GRAD or _MULTIPLE: a view PyTorch forbids to follow a change
    _history = None
    _requires = False
    grad_fn = property(_grad_fn, _set_grad_fn)
    requires_grad = property(_requires_grad, _set_requires_grad)

    def __format__(self, spec: str) -> str:
        # Tensor's prints a plain 0-d tensor as its number (f"{x[0]}"), as PyTorch, where a view is one.
        return format(self.item(), spec) if self.array.ndim == 0 else str(self)

    def __reduce_ex__(self, protocol):
        # Copied (copy.deepcopy) or pickled, a view is a Tensor of its own, as in PyTorch: its values, history
        # and attributes, not its base.
        attributes = {k: v for k, v in self.__dict__.items() if k not in _VIEW_ENTRIES}
        fields = (self.array, self.requires_grad, self.grad_fn, self._output_nr, self._version)
        return _tensor_of_its_own, (*fields, attributes)


#: What a _View keeps in its __dict__ beyond a Tensor's attributes.
_VIEW_ENTRIES = frozenset({"_view_base", "_view_mark", "_seen", "_history", "_requires", "_positions"})


def _tensor_of_its_own(array, requires_grad, grad_fn, output_nr, version, attributes):
    """A copied or unpickled view (``_View.__reduce_ex__``)."""
    tensor = _function._wrap(array, requires_grad, grad_fn, output_nr, version)
    tensor.__dict__.update(attributes)
    return tensor


def _make_view(tensor) -> None:
    """Make ``tensor`` (a Tensor) a ``_View``, its history moved from the slots to the ``__dict__``."""
    fn = tensor.grad_fn
    if fn is not None:
        tensor._history = fn
    if tensor.requires_grad:
        tensor._requires = True
    tensor.__class__ = _View


def _follow_base(view, raising: bool) -> bool:
    """Bring ``view``'s history up to date after its version counter moved: True when it now is.

    A marked view (and one of several views made in a graph by one op) is refused, as in PyTorch: with a
    RuntimeError where ``raising`` and grad mode is on, else False, leaving it as it was.
    """
    root = view._view_base
    fn = view._history
    if fn is None and not root.requires_grad:
        view._seen = view._version[0]  # the base has no history to follow
        return True
    mark = view._view_mark
    if mark is not None or fn is not None and fn._outputs_meta:
        if raising and _state.enabled:
            raise RuntimeError(
                _refusal(mark, _CHANGED_ELSEWHERE) if mark is not None
                else _one_of_several_refusal(view, fn, _CHANGED_ELSEWHERE)
            )
        return False
    positions = _positions_in_base(view, root)
    if positions is not None:
        enabled = _state.enabled
        _state.enabled = True  # (also under no_grad: the history must be right when grad mode is back)
        try:
            result = AsStrided.apply(root, positions, view.array)
        finally:
            _state.enabled = enabled
        view._history = result.grad_fn
        view._output_nr = 0
        view._requires = result.requires_grad
    view._seen = view._version[0]  # (without positions: a view of other bytes, nothing to follow)
    return True


def _positions_in_base(view, root):
    """``_positions`` of ``view`` in ``root``, kept on the view for its next change while both keep their
    arrays; None where the view is not a part of the base (``view(dtype)``, or the base took another array).
    """
    array, base_array = view.array, root.array
    kept = view.__dict__.get("_positions")
    if kept is not None and kept[0] is base_array and kept[1] is array:
        return kept[2]
    if array.dtype != base_array.dtype or not _shares(base_array, array):
        return None
    positions = _positions(base_array, array)
    view._positions = (base_array, array, positions)
    return positions


def note_view(node, base, view) -> None:
    """Called for every view op recorded in a graph: the view keeps its base (a view of a view, the first
    one's), and becomes a ``_View`` unless that base is a leaf that requires grad (which can't get a
    history: changing it in place while recording is refused)."""
    attributes = base.__dict__
    root = attributes.get("_view_base") if attributes else None
    if root is None:
        root = base
    view._view_base = root
    if root.grad_fn is not None or not root.requires_grad:
        version = view._version[0]
        if version:
            view._seen = version
        _make_view(view)


def note_untracked_view(node, base, views) -> None:
    """Called for every view made outside a graph (its base needs no gradient, or grad mode is off).

    The view keeps its base and becomes a ``_View`` (~0.1 µs a view, call included), so that it follows
    the history its base may get later (``buf[0].copy_(h)`` gives ``buf`` one, as in PyTorch); one made
    under ``no_grad`` or one of the views of ``unbind``/``split`` is marked, as PyTorch forbids both to
    follow a change made while recording.
    """
    if base.__dict__ or type(views) is tuple:
        _note_unusual_view(base, views)  # a view of a view (or of a tensor with attributes), or several
        return
    views._view_base = base
    if not _state.enabled:
        views._view_mark = _NO_GRAD
    version = base._version[0]
    if version:
        views._seen = version
    views.__class__ = _View  # (no history to move: see _make_view)


def _note_unusual_view(base, views) -> None:
    attributes = base.__dict__
    root = attributes.get("_view_base")
    mark = None
    if root is None:
        root = base
    else:
        mark = attributes.get("_view_mark")  # a view of a marked view is marked too
    if not _state.enabled:  # (as PyTorch: the new view's mark, where it has one, else its base's)
        mark = _NO_GRAD
    elif type(views) is tuple:
        mark = _MULTIPLE
    version = base._version[0]
    for view in views if type(views) is tuple else (views,):
        attributes = view.__dict__
        attributes["_view_base"] = root
        if mark is not None:
            attributes["_view_mark"] = mark
        if version:
            attributes["_seen"] = version
        view.__class__ = _View


def _base_to_rebase(tensor, target, recording: bool, op: str):
    """The base whose history an in-place change of ``tensor`` (that records) must rebase; None if
    ``tensor`` is not a view of it. A view without a history (made outside a graph) gets PyTorch's
    checks here; one with a history got them in ``check_inplace``."""
    attributes = tensor.__dict__
    root = attributes.get("_view_base") if attributes else None
    if root is None:
        return None
    if not recording:
        mark = attributes.get("_view_mark")
        if mark is not None:
            raise RuntimeError(f"{_refusal(mark, _CHANGED)} ({op})")
        if root.requires_grad and root.grad_fn is None:
            raise _view_of_leaf_error(op)
    if root.array.dtype != target.dtype or not _shares(root.array, target):
        return None  # a view of other bytes (view(dtype)), or the base took another array since
    return root


def _refuse_view_made_outside_the_graph(tensor, op: str) -> None:
    """A view made outside a graph of a base that requires grad may not change while grad mode is on, even
    by an op that records nothing (PyTorch counts such a view as requiring grad)."""
    attributes = tensor.__dict__
    root = attributes.get("_view_base")
    if root is None or not root.requires_grad:
        return
    mark = attributes.get("_view_mark")
    if mark is not None:
        raise RuntimeError(f"{_refusal(mark, _CHANGED)} ({op})")
    if root.grad_fn is None:
        raise _view_of_leaf_error(op)


def _address(array) -> int:
    data = array.data
    return data.ptr if hasattr(data, "ptr") else array.__array_interface__["data"][0]


def _lowest_address(array, address: int) -> int:
    """The lowest byte ``array`` (at ``address``) reaches (below ``address`` where a stride is negative)."""
    return address + sum(min(0, (n - 1) * s) for n, s in zip(array.shape, array.strides))


def _positions(base, view):
    """For each element of ``view`` (an array sharing ``base``'s memory), its flat C-order index in ``base``.

    Read from the two arrays' addresses and strides, so any view geometry (slices, transposes, diagonals,
    steps) works; a C-contiguous base needs nothing the size of the base.
    """
    xp = get_array_module(base)
    item = base.itemsize
    address = _address(base)
    low = _lowest_address(base, address)
    span = sum((n - 1) * abs(s) for n, s in zip(base.shape, base.strides)) + item
    offset_base, offset_view = address - low, _address(view) - low
    layouts = (offset_base, offset_view, *base.strides, *view.strides)
    if view.dtype != base.dtype or any(v % item for v in layouts) or not 0 <= offset_view < span:
        raise NotImplementedError(
            "changing in place a view whose elements don't line up with its base's (a dtype view?) "
            "is not supported; clone() the view first"
        )
    reach = [(n - 1) * s for n, s in zip(view.shape, view.strides)]
    lowest = offset_view + sum(r for r in reach if r < 0)
    highest = offset_view + sum(r for r in reach if r > 0)
    if view.size and not 0 <= lowest <= highest < span:
        raise _outside_the_base()
    if base.flags.c_contiguous:
        # Memory order is flat order: an element's index is its distance from the start.
        positions = xp.full(view.shape, offset_view // item, dtype=xp.int64)
        for dim, (n, stride) in enumerate(zip(view.shape, view.strides)):
            steps = xp.arange(n, dtype=xp.int64) * (stride // item)
            positions += steps.reshape((1,) * dim + (n,) + (1,) * (view.ndim - dim - 1))
        return positions
    # Lay arange(base.size) over the base's memory, then read it through the view's strides (-1: a byte
    # between the base's elements).
    strided = xp.lib.stride_tricks.as_strided
    marker = xp.full(span // item, -1, dtype=xp.int64)

    def over(offset, array):
        strides = tuple(s // item * marker.itemsize for s in array.strides)
        return strided(marker[offset // item:], shape=array.shape, strides=strides)

    over(offset_base, base)[...] = xp.arange(base.size, dtype=xp.int64).reshape(base.shape)
    positions = over(offset_view, view).copy()
    if positions.size and int(positions.min()) < 0:
        raise _outside_the_base()
    return positions


def _outside_the_base() -> NotImplementedError:
    return NotImplementedError("changing in place a view that reaches outside its base is not supported")


class CopySlices(Op):
    """The base's history after one of its views was changed in place (PyTorch's ``CopySlices``).

    ``forward(base, src, positions)`` returns the base's own array (the view inside it is overwritten by
    ``src`` right after): the base's gradient goes to its old history with the view's part zeroed, and the
    view's part, gathered to the view's shape, goes to ``src`` (the in-place op's result).
    """

    label = "copy_slices"

    @staticmethod
    def forward(ctx, base, src, positions):
        ctx.positions = positions
        return base

    @staticmethod
    def backward(ctx, grad):
        from ..creation import tensor as make_tensor

        positions = ctx.positions
        needs = ctx.needs_input_grad
        grad_base = grad_src = None
        if needs[0]:
            xp = get_array_module(grad.array)
            keep = xp.ones(grad.array.size, dtype=grad.array.dtype)
            keep[positions.reshape(-1)] = 0
            grad_base = grad * make_tensor(keep.reshape(grad.array.shape))
        if needs[1]:
            grad_src = grad.reshape(-1)[make_tensor(positions)]
        return grad_base, grad_src, None


class AsStrided(Op):
    """A view of a base whose history was rebased: ``view`` (an array inside ``base``) as a function of
    the base's current history. Its backward scatters the gradient back to the view's positions.

    Only its node is used (as the view's new ``grad_fn``), so it is not a view op: its throwaway result is
    not noted as a view.
    """

    label = "as_strided"

    @staticmethod
    def forward(ctx, base, positions, view):
        ctx.positions, ctx.base_shape = positions, base.shape
        return view

    @staticmethod
    def backward(ctx, grad):
        from ..creation import tensor as make_tensor
        from ..creation import zeros
        from .index import index_add

        flat = zeros(int(_prod(ctx.base_shape)), dtype=grad.dtype, device=grad.device)
        positions = make_tensor(ctx.positions.reshape(-1))
        return index_add(flat, 0, positions, grad.reshape(-1)).reshape(ctx.base_shape), None, None


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _reshaping_method(fn, name: str):
    """``t_``, ``squeeze_``...: the tensor becomes the view ``fn(tensor)`` (same values, new shape)."""

    def method(self, *args, **kwargs):
        check_leaf(self, name)
        result = fn(self, *args, **kwargs)
        history = result.grad_fn  # (read before the version moves: the view would then follow self)
        self.array = result.array
        self._version[0] += 1
        if history is not None:
            self.grad_fn = history
            self._output_nr = result._output_nr
        return self

    return method


def inplace_method(fn, name: str):
    """Make ``Tensor.name_`` from the out-of-place ``fn(tensor, *args, **kwargs)``."""
    if name in _RESHAPING:
        method = _reshaping_method(fn, name)
    else:

        def method(self, *args, **kwargs):
            return apply_inplace(self, lambda t: fn(t, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


def zero_(tensor):
    return fill_(tensor, 0)


def fill_(tensor, value):
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value.item()
    value = fill_scalar(value, tensor.array.dtype)
    if not (_state.enabled and tensor.requires_grad):
        _check_writeable(tensor.array, "fill_")
        tensor.array.fill(value)
        tensor._version[0] += 1
        return tensor
    return apply_inplace(tensor, lambda t: Overwrite.apply(t, value), "fill_")


def copy_(tensor, src, non_blocking: bool = False):
    from ..creation import tensor as make_tensor
    from ..tensor import Tensor

    if not isinstance(src, Tensor):
        src = make_tensor(src)
    src = src.to(tensor.device).to(tensor.dtype)
    if not (_state.enabled and (tensor.requires_grad or src.requires_grad)):
        # Nothing to record: write the values.
        _check_writeable(tensor.array, "copy_")
        try:
            tensor.array[...] = src.array
        except ValueError:
            raise RuntimeError(
                f"copy_: the source's shape {list(src.array.shape)} can't be broadcast to "
                f"the destination's shape {list(tensor.array.shape)}"
            ) from None
        tensor._version[0] += 1
        return tensor
    # The result depends on src alone; never on the old values, which may hold NaN or inf.
    return apply_inplace(tensor, lambda t: Overwrite.apply(t, src), "copy_")


def _random_fill(tensor, draw, op: str):
    with grad_mode.no_grad():
        values = draw()
    return apply_inplace(tensor, lambda t: values, op)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    from ..creation import randn

    check_leaf(tensor, "normal_")
    return _random_fill(
        tensor,
        lambda: (
            randn(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * std
            + mean
        ),
        "normal_",
    )


def uniform_(tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    from ..creation import rand

    check_leaf(tensor, "uniform_")
    return _random_fill(
        tensor,
        lambda: (
            rand(*tensor.array.shape, generator=generator, dtype=tensor.dtype, device=tensor.device) * (b - a)
            + a
        ),
        "uniform_",
    )


TENSOR_METHODS = {"zero_": zero_, "fill_": fill_, "copy_": copy_, "normal_": normal_, "uniform_": uniform_}

_function._note_view = note_view
_function._note_untracked_view = note_untracked_view
