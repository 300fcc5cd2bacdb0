"""``Tensor``: an array (NumPy or CuPy) plus the autograd metadata, with PyTorch's methods.

The array is ``tensor.array``. PyTorch's ``tensor.data`` is kept for
compatibility and, as there, is a Tensor that shares the array but not the
graph. Every operator and method delegates to a function in ``nbframe.ops``;
this file holds no maths.
"""

from __future__ import annotations

import numpy as np

from . import autograd as _autograd
from . import dtypes as _dtypes
from .autograd import function as _function
from .autograd import grad_mode as _grad_mode
from .backend import device as _device_cls
from .backend import device_of as _device_of

_state = _grad_mode._state


class Size(tuple):
    """A tensor's shape: a tuple, printed as ``nbframe.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"nbframe.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """A multi-dimensional array that records the ops applied to it, for ``backward()``."""

    # The fields every tensor sets are slots; the rarely set ones (grad, hooks, ...) are class-level
    # defaults that an instance overrides in its own __dict__, created only when one is set.
    __slots__ = ("array", "requires_grad", "grad_fn", "_output_nr", "_version", "__dict__", "__weakref__")
    grad = None
    _hooks = None
    _retains_grad = False
    _name = None
    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data=None, *sizes, requires_grad: bool = False):
        # PyTorch's legacy constructor: Tensor(2, 3) and Tensor(Size) allocate that shape, and Python
        # data becomes the default float dtype (Tensor([1, 2]) is float32). Arrays keep their dtype.
        if sizes or isinstance(data, (int, np.integer, Size)) and not isinstance(data, bool):
            from .creation import _size

            data = np.zeros(_size((data, *sizes)), dtype=_dtypes.get_default_dtype().numpy)
        elif data is None:
            data = np.empty((0,), dtype=_dtypes.get_default_dtype().numpy)
        elif isinstance(data, Tensor):
            data = data.array
        elif not _is_array(data):
            from .creation import _to_array

            data = _to_array(data, _dtypes.get_default_dtype())
        self.array = data
        self.requires_grad = False
        self.grad_fn = None
        self._output_nr = 0
        self._version = [0]
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[_normalize_dim(dim, self.array.ndim, "size")]

    def dim(self) -> int:
        return self.array.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    nelement = numel

    def element_size(self) -> int:
        return self.array.itemsize

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.from_numpy(self.array.dtype)

    @property
    def device(self) -> _device_cls:
        return _device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        return type(self.array) is not np.ndarray

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.array.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[_normalize_dim(dim, self.array.ndim, "stride")]

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's array (and version counter) but not its graph."""
        t = _wrap(self.array, False, None, 0, self._version)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self.array = value.array if isinstance(value, Tensor) else value

    @property
    def _base(self):
        """The tensor this one is a view of (the first of a chain of views), or None: PyTorch's ``_base``.
        Views keep it in their ``__dict__`` (nbframe.ops.inplace notes every view)."""
        return self.__dict__.get("_view_base")

    def _is_view(self) -> bool:
        return self._base is not None

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        if _DATA_HOOKS:
            _notify_data_access(self, "bool(tensor)")
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {list(self.array.shape)}); use .any() or .all()"
            )
        return bool(self.array.reshape(()))

    def __int__(self) -> int:
        return int(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0 and (spec or type(self) is Tensor):  # f"{loss}" prints 0.25, as PyTorch
            return format(self.item(), spec)
        return str(self)

    def __repr__(self) -> str:
        from .printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    # ----------------------------------------------------------------- conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if _DATA_HOOKS:
            _notify_data_access(self, ".numpy()")
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if type(self.array) is not np.ndarray:
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. "
                    "Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return self.array.get()
        return self.array

    def item(self):
        if _DATA_HOOKS:
            _notify_data_access(self, ".item()")
        if self.array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.array.size} elements cannot be converted to Scalar; "
                "item() needs exactly one element"
            )
        return self.array.reshape(()).item() if type(self.array) is np.ndarray else self.array.item()

    def tolist(self):
        if _DATA_HOOKS:
            _notify_data_access(self, ".tolist()")
        if type(self.array) is not np.ndarray:
            return self.array.get().tolist()
        return self.array.tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.array if type(self.array) is np.ndarray else self.array.get()
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        return self.array.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``; also ``copy=``."""
        from .ops.conversion import to

        return to(self, *args, **kwargs)

    def type(self, dtype=None):
        if dtype is None:
            return _legacy_type_name(self)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(_dtypes.float32)

    def double(self) -> Tensor:
        return self.to(_dtypes.float64)

    def half(self) -> Tensor:
        return self.to(_dtypes.float16)

    def bfloat16(self) -> Tensor:
        return self.to(_dtypes.bfloat16)

    def long(self) -> Tensor:
        return self.to(_dtypes.int64)

    def int(self) -> Tensor:
        return self.to(_dtypes.int32)

    def short(self) -> Tensor:
        return self.to(_dtypes.int16)

    def bool(self) -> Tensor:
        return self.to(_dtypes.bool_)

    def byte(self) -> Tensor:
        return self.to(_dtypes.uint8)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        return self.to(
            "cuda" if device is None else _device_cls("cuda", device) if isinstance(device, int) else device
        )

    # ----------------------------------------------------------------- autograd
    def backward(
        self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False, inputs=None
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (PyTorch's ``backward``)."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same array without the graph (shares memory and version counter)."""
        return _wrap(self.array, False, None, 0, self._version)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (this one is {self.dtype})"
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)

        def _retain(grad):
            t = ref()
            if t is not None:
                # A copy: the same array flows on and may become a leaf's .grad, which the next
                # backward changes in place (PyTorch's AccumulateGrad clones a gradient held elsewhere).
                g = grad.detach().clone() if t.grad is None else grad.detach()
                t.grad = g if t.grad is None else t.grad + g

        self._add_tensor_hook(_retain)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; it may return a replacement."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.function import _RemovableHandle

        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _RemovableHandle(self._hooks, hook)
        return self._add_tensor_hook(hook)

    def _add_tensor_hook(self, hook):
        from .autograd.function import _RemovableHandle

        if self.grad_fn._tensor_hooks is None:
            self.grad_fn._tensor_hooks = []
        self.grad_fn._plain = False  # the engine's fast path skips tensor hooks
        hooks = self.grad_fn._tensor_hooks
        entry = (self._output_nr, hook)
        hooks.append(entry)
        return _RemovableHandle(hooks, entry)

    @property
    def name(self):
        return self._name

    # ----------------------------------------------------------------- copies
    def clone(self, *, memory_format=None) -> Tensor:
        return _ops.clone(self)

    def contiguous(self, memory_format=None) -> Tensor:
        return _ops.contiguous(self)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        from .creation import tensor

        return tensor(
            data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        from .creation import zeros

        return zeros(
            *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        from .creation import ones

        return ones(
            *size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
        )

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        from .creation import full

        return full(
            size,
            fill_value,
            dtype=dtype or self.dtype,
            device=device or self.device,
            requires_grad=requires_grad,
        )

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    # ----------------------------------------------------------------- operators
    def __add__(self, other):
        return _Add(self, other)

    def __radd__(self, other):
        return _Add(other, self)

    def __sub__(self, other):
        return _Sub(self, other)

    def __rsub__(self, other):
        return _Sub(other, self)

    def __mul__(self, other):
        return _Mul(self, other)

    def __rmul__(self, other):
        return _Mul(other, self)

    def __truediv__(self, other):
        return _Div(self, other)

    def __rtruediv__(self, other):
        return _Div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _Matmul(self, other)

    def __rmatmul__(self, other):
        return _Matmul(other, self)

    def __neg__(self):
        return _Neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __eq__(self, other):  # type: ignore[override]
        return _ops.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    # in-place operators
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _ops.setitem(self, index, value)

    @property
    def T(self) -> Tensor:
        return _ops.permute(self, tuple(range(self.array.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        return _ops.transpose(self, -2, -1)


#: Callbacks ``hook(tensor, how)`` told when Python reads a tensor's values (``.item()``, ``bool()``,
#: ``.numpy()``, ``.tolist()``): nbframe.jit's tracer warns there about data-dependent control flow.
_DATA_HOOKS: list = []


def _notify_data_access(tensor, how: str) -> None:
    for hook in tuple(_DATA_HOOKS):
        hook(tensor, how)


def _is_array(data) -> bool:
    from .backend import array_types

    return isinstance(data, array_types())


def _wrap(array, requires_grad: bool, grad_fn, output_nr: int, version=None) -> Tensor:
    """Make a Tensor around an array without any checks: the ops' fast path."""
    t = _new_tensor(Tensor)
    if type(array) is not np.ndarray and isinstance(array, np.generic):
        array = np.asarray(array)
    t.array = array
    t.requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._output_nr = output_nr
    t._version = [0] if version is None else version
    return t


_new_tensor = object.__new__


def _normalize_dim(dim: int, ndim: int, where: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{where}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def _legacy_type_name(t: Tensor) -> str:
    names = {
        "float32": "FloatTensor",
        "float64": "DoubleTensor",
        "float16": "HalfTensor",
        "int64": "LongTensor",
        "int32": "IntTensor",
        "int16": "ShortTensor",
        "int8": "CharTensor",
        "uint8": "ByteTensor",
        "bool": "BoolTensor",
    }
    prefix = "nbframe.cuda." if t.is_cuda else "nbframe."
    return prefix + names.get(t.dtype.name, "Tensor")


from . import ops as _ops  # noqa: E402  (ops import Tensor)
from .ops.methods import install as _install_methods  # noqa: E402

_install_methods(Tensor)
# The hottest operators call their op directly (one call less per op), the binary ones through
# the two-argument Op.apply2.
_Add, _Sub, _Mul, _Div, _Neg = (
    _ops.elementwise.Add.apply2,
    _ops.elementwise.Sub.apply2,
    _ops.elementwise.Mul.apply2,
    _ops.elementwise.Div.apply2,
    _ops.elementwise.Neg.apply,
)
_Matmul = _ops.linalg.Matmul.apply
_function.bind_tensor(Tensor, _wrap)
