"""``set_num_threads`` / ``get_num_threads``: how many CPU threads the math libraries use.

nbframe computes on the CPU through NumPy, whose heavy work (matmul, conv as
GEMM) runs in a BLAS library (OpenBLAS or MKL) with its own thread pool, maybe
beside an OpenMP pool. ``threadpoolctl`` finds those pools in the running
process and resizes them, whichever library NumPy was built with; it is
imported on first use so ``import nbframe`` stays fast.
"""

from __future__ import annotations

import operator
import os

__all__ = ["set_num_threads", "get_num_threads"]

_limiter = None  # the threadpoolctl limiter in force, kept so that it is not undone


def set_num_threads(int: int) -> None:  # noqa: A002  (PyTorch's argument name)
    """Use ``int`` threads for CPU math (every BLAS and OpenMP pool NumPy has loaded)."""
    global _limiter
    from threadpoolctl import threadpool_limits

    try:
        number = None if isinstance(int, bool) else operator.index(int)
    except TypeError:
        number = None
    if number is None or number <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {int!r}")
    _limiter = threadpool_limits(limits=number)


def get_num_threads() -> int:
    """The number of threads CPU math uses: the largest pool NumPy has loaded, else the CPU count."""
    from threadpoolctl import threadpool_info

    sizes = [pool["num_threads"] for pool in threadpool_info() if pool.get("num_threads")]
    return max(sizes) if sizes else (os.cpu_count() or 1)
