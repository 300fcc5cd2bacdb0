"""Whether ops record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The switch is thread-local, as in PyTorch; each is a context manager and a decorator.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Base of the grad-mode context managers; also usable as a decorator."""

    _value: bool = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._value
        return self

    def __exit__(self, *exc) -> None:
        _state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__._clone(self):
                return fn(*args, **kwargs)

        return wrapper

    @classmethod
    def _clone(cls, instance):
        return instance.__class__()


class no_grad(_GradMode):
    """Run without recording the graph: results have ``requires_grad=False``."""

    _value = False


class enable_grad(_GradMode):
    """Record the graph again inside a ``no_grad`` block."""

    _value = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` as a context manager, a decorator, or a plain call."""

    def __init__(self, mode: bool):
        self._value = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._value

    def __enter__(self):
        return self

    def __call__(self, fn):
        # Used as a decorator, the constructor's switch must not leak past the decoration.
        _state.enabled = self._prev
        return super().__call__(fn)

    @classmethod
    def _clone(cls, instance):
        return _Fixed(instance._value)


class _Fixed(_GradMode):
    def __init__(self, value: bool):
        self._value = value


class inference_mode(no_grad):
    """PyTorch's ``inference_mode``: here the same as ``no_grad``."""

    def __init__(self, mode: bool = True):
        self._value = not mode
