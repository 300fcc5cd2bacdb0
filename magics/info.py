"""``%nbframe info | device DEV | seed N | dtype T``: versions and devices, and the session's defaults."""

from __future__ import annotations

import platform
import random
from importlib import metadata

import numpy as np
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from nbframe.widgets.layout import engine_version, find_engine

from .cell_error import OptionError
from .display import show
from .options import parse_device, parse_dtype
from .tables import html_table, text_table


@magics_class
class InfoMagics(Magics):
    def __init__(self, shell, session):
        super().__init__(shell)
        self.session = session

    @magic_arguments()
    @argument("action", choices=["info", "device", "seed", "dtype"], nargs="?", default="info",
              help="info: versions and devices; device DEV: where %%%%model puts models; seed N: seed "
                   "nbframe, NumPy and random; dtype T: the default floating dtype")
    @argument("value", nargs="?", help="the device (cpu, cuda, cuda:1), seed or dtype")
    @line_magic
    def nbframe(self, line: str) -> None:
        """Show versions and devices (``%nbframe info``) or set a default (device, seed, dtype)."""
        args = parse_argstring(self.nbframe, line)
        if args.action == "info":
            facts = info_facts(self.session)
            show({"text/html": html_table(["", ""], facts),
                  "text/plain": text_table(["nbframe", ""], facts, numbers=False)})
            return
        if args.value is None:
            example = {"device": "cuda", "seed": "0", "dtype": "float64"}[args.action]
            raise OptionError(f"%nbframe {args.action} needs a value, e.g. %nbframe {args.action} {example}")
        getattr(self, f"_set_{args.action}")(args.value)

    def _set_device(self, value: str) -> None:
        self.session.device = parse_device(value)
        print(f"%%model and %graph now put models and example inputs on {self.session.device}")

    def _set_seed(self, value: str) -> None:
        import nbframe

        try:
            seed = int(value)
        except ValueError:
            raise OptionError(f"%nbframe seed {value}: expected a whole number") from None
        nbframe.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        print(f"seeded nbframe, NumPy and random with {seed}")

    def _set_dtype(self, value: str) -> None:
        import nbframe

        dtype = parse_dtype(value)
        if not dtype.is_floating_point:
            raise OptionError(f"%nbframe dtype {value}: the default dtype must be a floating type")
        nbframe.set_default_dtype(dtype)
        print(f"default dtype is now {dtype}")


def info_facts(session) -> list[list[str]]:
    """Rows of (what, value): versions, devices, defaults and the graphviz engine."""
    import nbframe
    from nbframe.backend import cuda

    engine = find_engine()
    facts = [["nbframe", nbframe.__version__], ["Python", platform.python_version()],
             ["NumPy", np.__version__], ["CuPy", _version("cupy-cuda13x", "cupy-cuda12x", "cupy")]]
    available = cuda.is_available()
    facts.append(["CUDA", _gpu_description() if available else "not available (CPU only)"])
    facts.append(["default device (%%model)", str(session.device or "cpu")])
    facts.append(["default dtype", str(nbframe.get_default_dtype())])
    facts.append(["graphviz", f"{engine} ({engine_version(engine)})" if engine else
                  "none found: graphs show as DOT text (pip install graphviz-pure)"])
    return facts


def _version(*distributions: str) -> str:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _gpu_description() -> str:
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
        names = [cupy.cuda.runtime.getDeviceProperties(i)["name"].decode() for i in range(count)]
        version = cupy.cuda.runtime.runtimeGetVersion()
        return f"runtime {version // 1000}.{version % 1000 // 10}; {count} GPU(s): {', '.join(names)}"
    except Exception as exc:  # a broken driver must not break %nbframe info
        return f"available, but could not be described ({exc})"
