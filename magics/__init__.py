"""``nbframe.magics``: the IPython extension (``%load_ext nbframe``).

It registers ``%%model``, ``%graph``, ``%%watch`` and ``%nbframe`` and the rich
displays of Tensor and Module; ``%unload_ext nbframe`` removes all of it.
Everything it remembers lives on one ``Session`` kept on the shell, so two
shells never share state and unloading forgets it.
"""

from __future__ import annotations

_STATE = "_nbframe_extension"


def _magics() -> tuple:
    """The Magics classes, imported only when the extension loads (``nf.summary`` needs no IPython)."""
    from .graph import GraphMagics
    from .info import InfoMagics
    from .model import ModelMagics
    from .watch import WatchMagics

    return ModelMagics, GraphMagics, WatchMagics, InfoMagics


def load_ipython_extension(shell) -> None:
    """Register the magics and displays; a second load does nothing."""
    from . import display
    from .session import Session

    if getattr(shell, _STATE, None) is not None:
        return
    session = Session()
    instances = [cls(shell, session) for cls in _magics()]
    for instance in instances:
        shell.register_magics(instance)
    formatters = display.register(shell, session.summaries)
    setattr(shell, _STATE, (session, instances, formatters))


def unload_ipython_extension(shell) -> None:
    """Remove every magic and display that ``load_ipython_extension`` added."""
    from . import display

    state = getattr(shell, _STATE, None)
    if state is None:
        return
    _, instances, formatters = state
    manager = shell.magics_manager
    for instance in instances:
        for kind, names in instance.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
        manager.registry.pop(type(instance).__name__, None)
    display.unregister(shell, formatters)
    setattr(shell, _STATE, None)
