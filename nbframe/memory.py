"""Keep freed array memory in the process instead of handing it back to the OS on every step (Linux).

NumPy allocates with ``malloc``. glibc serves a block over its mmap threshold (128 kB at first,
then moving with what was freed) with fresh pages from the OS and returns them on ``free``; it
also trims the top of the heap past a threshold. A training step allocates and frees the same
few-hundred-kB activations and gradients every time, so every step paid for fresh pages: an MLP
784-512-256-10 step at batch 128 had about 750 page faults and took 4.1-4.3 ms here, against
3.0 ms and none with the two settings below (LeNet and an LSTM were unchanged). With PyTorch
imported in the same process the faults were gone as well, which is why ``benchmarks/train.py``
(which imports both) never showed them. The settings, through ``mallopt``: blocks up to 32 MB
come from the heap, and up to 128 MB of freed heap stays in the process.

Done once by ``import nbframe`` on glibc; nothing elsewhere (macOS, Windows, musl). Set
``NBFRAME_MALLOC=default`` in the environment to leave glibc's own policy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own ceiling for its moving threshold on 64-bit
TRIM_THRESHOLD = 128 * 1024 * 1024

#: What ``keep_freed_memory`` did: None before it ran, else True (tuned) or a reason it did not.
state: object = None


def keep_freed_memory() -> object:
    """Tune glibc's malloc as the module docstring says; returns True, or why it left malloc alone."""
    global state
    if state is not None:
        return state
    if os.environ.get("NBFRAME_MALLOC", "").lower() == "default":
        state = "NBFRAME_MALLOC=default"
    elif not sys.platform.startswith("linux"):
        state = f"not Linux ({sys.platform})"
    else:
        state = _mallopt()
    return state


def _mallopt() -> object:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "no glibc mallopt"
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success. The mmap threshold first: a trim threshold alone would freeze the
    # mmap threshold at 128 kB and make things much worse (LeNet's step went from 4.7 to 16 ms).
    if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return "mallopt refused the mmap threshold"
    if mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1:
        return "mallopt refused the trim threshold"
    return True
