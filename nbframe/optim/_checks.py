"""Hyper-parameter checks shared by the optimisers, with PyTorch's error messages."""

from __future__ import annotations


def check_nonnegative(name: str, value: float, message_name: str | None = None) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {message_name or name} value: {value}")


def check_betas(betas) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def reject_unsupported(differentiable: bool, capturable: bool = False) -> None:
    """PyTorch's flags for autograd-through-the-step and CUDA graphs have no nbframe equivalent."""
    if differentiable:
        raise NotImplementedError("nbframe optimisers do not support differentiable=True (no autograd "
                                  "through the update); use differentiable=False")
    if capturable:
        raise NotImplementedError("nbframe optimisers do not support capturable=True (no CUDA graphs); "
                                  "use capturable=False")
