"""Op observers: callbacks told of every op that runs.

``%%watch``, anomaly mode and the graph view subscribe here. With nobody
listening the list is empty and the only cost to an op is one truth test.

An observer is called as ``observer(op, inputs, outputs)``: ``op`` is the op's
node (an ``Op`` or ``Function`` instance, whose ``name()`` is PyTorch's
``MulBackward0`` style and whose class has a short ``label`` like ``mul``),
``inputs`` the op's positional arguments (Tensors and plain values) and
``outputs`` a tuple of the Tensors it made.
"""

from __future__ import annotations

from collections.abc import Callable

OBSERVERS: list[Callable] = []


class ObserverHandle:
    """Returned by ``add_op_observer``; ``remove()`` unsubscribes (also a context manager)."""

    __slots__ = ("observer",)

    def __init__(self, observer: Callable):
        self.observer = observer

    def remove(self) -> None:
        try:
            OBSERVERS.remove(self.observer)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_op_observer(observer: Callable) -> ObserverHandle:
    """Subscribe ``observer(op, inputs, outputs)`` to every op until the handle is removed."""
    OBSERVERS.append(observer)
    return ObserverHandle(observer)


def notify(op, inputs, outputs) -> None:
    for observer in tuple(OBSERVERS):
        observer(op, inputs, outputs)
