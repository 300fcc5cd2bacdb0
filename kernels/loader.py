"""Compile the CUDA sources in this folder with CuPy, lazily, once per device.

Nothing here imports CuPy at import time. The first call of ``get_kernel`` on a device builds one
``cupy.RawModule`` per ``.cu`` file (NVRTC, all template instances named up front through
``name_expressions``) and keeps it. The tests compile the very same text with the very same options
through ``cupy.cuda.nvrtc`` (see ``kernel_source``, ``COMPILE_OPTIONS``, ``name_expressions``).
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import sys
import threading
from pathlib import Path

KERNEL_DIR = Path(__file__).resolve().parent

# The architecture (-arch=compute_XY) is added by CuPy for the device it compiles on.
COMPILE_OPTIONS: tuple[str, ...] = ("--std=c++17",)

# numpy dtype name -> the element type the kernels are instantiated with
ELEMENT_TYPES = {"float32": "float", "float64": "double", "float16": "nbf_half"}
# the atomics' accumulator type for each element type
ACCUMULATOR_TYPES = {"float": "float", "double": "double", "nbf_half": "float"}

_TYPES = tuple(ELEMENT_TYPES.values())
_INCLUDE = re.compile(r'^#include "([A-Za-z0-9_.]+\.cuh)"\s*$', re.MULTILINE)


def _per_type(*templates: str) -> tuple[str, ...]:
    return tuple(t.format(T=ty, A=ACCUMULATOR_TYPES[ty]) for t in templates for ty in _TYPES)


# file stem -> the template instances compiled from it
NAME_EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "softmax": _per_type("softmax_forward<{T}, false>", "softmax_forward<{T}, true>",
                         "softmax_backward<{T}, false>", "softmax_backward<{T}, true>"),
    "cross_entropy": _per_type("cross_entropy_forward<{T}>", "cross_entropy_backward<{T}>"),
    "layer_norm": _per_type("layer_norm_forward<{T}>", "layer_norm_backward_input<{T}>",
                            "layer_norm_backward_params<{T}>"),
    "optimizers": _per_type("sgd_step<{T}>", "adam_step<{T}>"),
    "im2col": _per_type("im2col<{T}>", "col2im<{T}>"),
    "maxpool": _per_type("maxpool2d_forward<{T}>", "maxpool2d_backward<{T}, {A}>"),
    "dropout": _per_type("dropout_forward<{T}>", "dropout_backward<{T}>"),
    "embedding": _per_type("embedding_backward<{T}, {A}>"),
    "elementwise_fusion": _per_type("fused_elementwise<{T}>"),
}


def kernel_files() -> list[str]:
    """The stems of every ``.cu`` file shipped in this folder."""
    return sorted(p.stem for p in KERNEL_DIR.glob("*.cu"))


def name_expressions(stem: str) -> tuple[str, ...]:
    try:
        return NAME_EXPRESSIONS[stem]
    except KeyError:
        raise KeyError(f"kernels/{stem}.cu is not registered in loader.NAME_EXPRESSIONS") from None


def kernel_source(stem: str, prelude: str = "") -> str:
    """The text compiled for ``kernels/<stem>.cu``: local ``#include "x.cuh"`` lines pasted in.

    Pasting (rather than ``-I``) makes CuPy's compile cache, keyed on the source text, notice a
    change to a shared header. ``prelude`` is put first (the fusion template's generated expression).
    """
    seen: set[str] = set()

    def paste(match: re.Match) -> str:
        name = match.group(1)
        if name in seen:
            return ""
        seen.add(name)
        text = (KERNEL_DIR / name).read_text().replace("#pragma once\n", "")
        return _INCLUDE.sub(paste, text)

    body = _INCLUDE.sub(paste, (KERNEL_DIR / f"{stem}.cu").read_text())
    return f"{prelude}\n{body}" if prelude else body


def element_type(dtype) -> str:
    """The kernel element type for a numpy/cupy dtype, or a TypeError naming the supported ones."""
    name = getattr(dtype, "name", str(dtype))
    try:
        return ELEMENT_TYPES[name]
    except KeyError:
        raise TypeError(
            f"nbframe's CUDA kernels support float16, float32 and float64 arrays, got {name}") from None


# --------------------------------------------------------------------------- NVRTC
_nvrtc_lock = threading.Lock()


def _candidate_nvrtc_libraries() -> list[str]:
    """libnvrtc from the nvidia-cuda-nvrtc wheel (CUDA 13: nvidia/cu13/lib; 12: nvidia/cuda_nvrtc/lib)."""
    found = []
    for base in sys.path:
        for pattern in ("nvidia/cu*/lib/libnvrtc.so*", "nvidia/cuda_nvrtc/lib/libnvrtc.so*",
                        "nvidia/cu*/bin/nvrtc64_*.dll", "nvidia/cuda_nvrtc/bin/nvrtc64_*.dll"):
            found.extend(p for p in glob.glob(os.path.join(base, pattern))
                         if "builtins" not in p and ".alt." not in p)
    return found


def load_nvrtc():
    """``cupy.cuda.nvrtc``, made to work with no GPU and no driver; one helper for loader and tests.

    CuPy (>= 14) finds libnvrtc itself through cuda-pathfinder, which looks in the
    nvidia-cuda-nvrtc wheel first. If that fails (older CuPy, unusual layout), the wheel's library
    is loaded with RTLD_GLOBAL so that CuPy's own dlopen of the same soname finds it.
    Raises RuntimeError saying what is missing.
    """
    with _nvrtc_lock:
        try:
            from cupy.cuda import nvrtc
        except Exception as exc:
            raise RuntimeError(f"CuPy is not importable ({exc}); pip install \"nbframe[cuda]\"") from exc
        try:
            nvrtc.getVersion()
            return nvrtc
        except Exception as first:
            error = first
        for path in _candidate_nvrtc_libraries():
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                nvrtc.getVersion()
                return nvrtc
            except Exception as exc:
                error = exc
        raise RuntimeError(
            f"NVRTC (libnvrtc) could not be loaded ({error}); pip install nvidia-cuda-nvrtc for your CUDA "
            "major version, e.g. 'nvidia-cuda-nvrtc==13.0.*'")


# --------------------------------------------------------------------------- modules, per device
_modules: dict[tuple, object] = {}
_modules_lock = threading.Lock()


def _module(key: tuple, source: str, expressions: tuple[str, ...]):
    import cupy

    device = cupy.cuda.Device().id
    with _modules_lock:
        module = _modules.get((key, device))
        if module is None:
            load_nvrtc()
            module = cupy.RawModule(code=source, options=COMPILE_OPTIONS, name_expressions=expressions,
                                    name=f"nbframe_{key[0]}")
            _modules[(key, device)] = module
        return module


def get_kernel(stem: str, expression: str):
    """The compiled ``cupy.RawKernel`` for ``expression`` (e.g. ``"softmax_forward<float, true>"``)."""
    expressions = name_expressions(stem)
    if expression not in expressions:
        known = ", ".join(expressions)
        raise KeyError(f"{expression!r} is not compiled from kernels/{stem}.cu; known: {known}")
    return _module((stem,), kernel_source(stem), expressions).get_function(expression)


def fused_prelude(expression: str, arity: int) -> str:
    """The definitions that instantiate ``elementwise_fusion.cu`` for ``expression`` over a0..a{arity-1}."""
    if not 1 <= arity <= 8:
        raise ValueError(f"an elementwise fusion takes 1 to 8 inputs, got {arity}")
    args = ", ".join(f"a{i}" for i in range(8))
    return f"#define NBF_FUSED_ARITY {arity}\n#define NBF_FUSED_EXPR({args}) ({expression})\n"


def get_fused_kernel(expression: str, arity: int, dtype):
    """The fusion template compiled for one generated expression (cached per expression and device)."""
    expressions = name_expressions("elementwise_fusion")
    source = kernel_source("elementwise_fusion", fused_prelude(expression, arity))
    module = _module(("elementwise_fusion", expression, arity), source, expressions)
    return module.get_function(f"fused_elementwise<{element_type(dtype)}>")
