"""NumPy versions of the ops that NumPy has no single call for.

Each function here is also the reference that the CUDA kernel of the same name
is tested against (see ``nbframe.backend.cuda`` and ``kernels/``).
"""

from __future__ import annotations
