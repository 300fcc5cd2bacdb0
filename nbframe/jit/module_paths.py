"""Naming parameters by module path (``0.weight``) while recording.

``trace(module, ...)`` knows its module and names its parameters and buffers up front. Code that
calls modules from the outside (a placeholder graph's ``model(x)``, a traced plain function) does
not: a parameter it meets for the first time is named by its path in the outermost Module running
at that moment that owns it, as ``module.named_parameters()`` names it. The running modules are read
from the Python call stack (frames of methods whose ``self`` is a Module) only when a new parameter
is met, so eager code pays nothing: module-call hooks would slow every module call while a
placeholder graph is alive.
"""

from __future__ import annotations

import sys

from .ir import BUFFER, PARAM


def module_names(module) -> dict[int, tuple[str, str]]:
    """id(tensor) -> (path, PARAM/BUFFER) for a Module's parameters and buffers."""
    names: dict[int, tuple[str, str]] = {}
    if hasattr(module, "named_parameters"):
        for name, p in module.named_parameters():
            names[id(p)] = (name, PARAM)
        for name, b in module.named_buffers():
            names.setdefault(id(b), (name, BUFFER))
    return names


def running_modules() -> list:
    """The Modules whose methods (``forward``, ``__call__``, ...) are on the call stack, outermost first."""
    from ..nn.module import Module

    found: list = []
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self") if "self" in frame.f_code.co_varnames else None
        if isinstance(owner, Module) and not any(owner is m for m in found):
            found.append(owner)
        frame = frame.f_back
    return found[::-1]


def path_of(tensor) -> tuple[str, str] | None:
    """(path, PARAM/BUFFER) of ``tensor`` in the outermost running module that owns it, else None.

    Looked up afresh each time (modules can gain or swap parameters between calls); a recorder asks
    once per new tensor."""
    for module in running_modules():
        found = module_names(module).get(id(tensor))
        if found is not None:
            return found
    return None


__all__ = ["module_names", "path_of", "running_modules"]
