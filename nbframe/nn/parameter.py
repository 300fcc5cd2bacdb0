"""``Parameter``: a Tensor that a Module registers as one of its learnable weights.

Assigning a Parameter to a Module attribute (``self.weight = Parameter(...)``)
is what puts it in ``module.parameters()`` and ``state_dict()``. It is a plain
Tensor subclass with no extra fields, so ops on it cost what they cost on any
Tensor; it only differs in defaulting to ``requires_grad=True`` and in its repr.
"""

from __future__ import annotations

from ..tensor import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A leaf Tensor that a Module treats as a parameter (PyTorch's ``nn.Parameter``).

    ``Parameter(t)`` shares ``t``'s memory and version counter, as in PyTorch.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            Tensor.__init__(self)
        elif isinstance(data, Tensor):
            Tensor.__init__(self, data.array)
            self._version = data._version
        else:
            raise TypeError(
                f"Parameter(data): data must be a Tensor (or None), got {type(data).__name__}; "
                "wrap arrays and lists with nbframe.tensor(...) first"
            )
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor(self.array.copy()), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor(self.grad.array.copy())
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module (PyTorch's ``nn.Buffer``).

    ``self.running_mean = Buffer(zeros(3))`` is ``self.register_buffer("running_mean", zeros(3))``;
    the module stores the tensor itself, not this marker.
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True):
        if data is not None and not isinstance(data, Tensor):
            raise TypeError(f"Buffer(data): data must be a Tensor (or None), got {type(data).__name__}")
        Tensor.__init__(self, None if data is None else data.array)
        if data is not None:
            self._version = data._version
        self.persistent = persistent
