"""Run a PyTorch script unchanged, with real PyTorch or with nbframe standing in for it.

``python runner.py torch|nbframe SCRIPT [ARGS...]`` runs SCRIPT as ``__main__``. With
``nbframe``, every ``import torch`` / ``import torch.X`` / ``from torch.X import Y`` in the
script resolves to ``nbframe`` / ``nbframe.X``: the script's source is not touched, which is
what ``import nbframe as torch`` promises. A ``torch.X`` that nbframe lacks fails the import
with a message naming it, and real PyTorch is never loaded.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import runpy
import sys
from types import ModuleType


class _NbframeAsTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``torch[.X]`` to the already-imported ``nbframe[.X]`` module object itself."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        target_name = "nbframe" + fullname[len("torch"):]
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}: nbframe has no {target_name!r}",
                                      name=fullname)
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module("nbframe" + spec.name[len("torch"):])
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._own_spec  # the import system relabelled it "torch...": undo that


def install_nbframe_as_torch() -> None:
    for name in [name for name in sys.modules if name == "torch" or name.startswith("torch.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _NbframeAsTorch())


def main(argv: list[str]) -> None:
    backend, script, *args = argv
    if backend == "nbframe":
        install_nbframe_as_torch()
    elif backend != "torch":
        raise SystemExit(f"backend must be 'torch' or 'nbframe', got {backend!r}")
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
    if backend == "nbframe":
        import nbframe

        if sys.modules.get("torch") is not nbframe:
            raise SystemExit("the script ran on something other than nbframe: sys.modules['torch'] changed")


if __name__ == "__main__":
    main(sys.argv[1:])
