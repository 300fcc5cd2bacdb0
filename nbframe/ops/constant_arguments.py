"""PyTorch's refusal of a gradient for an argument its kernel treats as a constant.

A loss's class weights and batch norm's running statistics are read as plain numbers: PyTorch
refuses, while recording, an argument of that kind that requires grad, rather than silently
giving it no gradient. So does nbframe, in PyTorch's words.
"""

from __future__ import annotations

from ..autograd.grad_mode import _state as _grad_state


def refuse_gradient(function: str, **arguments) -> None:
    """Raise PyTorch's error if, while recording, any of ``arguments`` (name=Tensor) requires grad.

    ``function`` is the name PyTorch's message gives (``nll_loss_forward``, ``native_batch_norm``).
    """
    if _grad_state.enabled:
        for name, value in arguments.items():
            if getattr(value, "requires_grad", False):
                raise RuntimeError(
                    f"The function '{function}' is not differentiable with respect to argument '{name}'. "
                    "This input cannot have requires_grad True."
                )
