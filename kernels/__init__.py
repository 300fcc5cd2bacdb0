"""``nbframe.kernels``: nbframe's CUDA C sources and the loader that compiles them with CuPy.

Importing this package never imports CuPy: the sources are compiled on first use, once per device
(see ``loader``). The Python wrappers that check arguments and launch live in
``nbframe.backend.cuda``.
"""

from .loader import COMPILE_OPTIONS, KERNEL_DIR, get_fused_kernel, get_kernel, kernel_files, kernel_source

__all__ = ["COMPILE_OPTIONS", "KERNEL_DIR", "get_kernel", "get_fused_kernel", "kernel_files", "kernel_source"]
