"""The input checks every ``nbframe.linalg`` function shares, with PyTorch's messages."""

from __future__ import annotations


def require_float(op: str, a) -> None:
    """``a`` (a raw array) must hold floating-point numbers."""
    if a.dtype.kind != "f":
        kind = "Long" if a.dtype.kind in "iu" else str(a.dtype).capitalize()
        raise RuntimeError(f"linalg.{op}: Expected a floating point or complex tensor as input. Got {kind}")


def require_matrix(op: str, a) -> None:
    """``a`` must be a float matrix or a batch of them."""
    require_float(op, a)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")


def require_square(op: str, a) -> None:
    """``a`` must be a float square matrix or a batch of them."""
    require_matrix(op, a)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: A must be batches of square matrices, but they are {a.shape[-2]} by {a.shape[-1]} "
            "matrices"
        )


def singular(op: str) -> RuntimeError:
    return RuntimeError(f"linalg.{op}: The input matrix is singular, so {op} could not be completed.")
