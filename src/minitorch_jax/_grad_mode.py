"""Thread-local gradient modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    def __init__(self):
        self.grad = True
        self.inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are being recorded (per thread)."""
    return STATE.grad


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode`` block is active on this thread."""
    return STATE.inference


class _GradModeContext:
    """Base for the grad-mode context managers; each also works as a function decorator."""

    def __call__(self, fn):
        if isinstance(fn, type):
            raise TypeError(f"{type(self).__name__} cannot decorate a class")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_GradModeContext):
    """Disable gradient recording inside a ``with`` block or a decorated function.

    Example::

        with mt.no_grad():
            y = x * 2          # y.requires_grad is False
    """

    def __enter__(self):
        self._prev = STATE.grad
        STATE.grad = False

    def __exit__(self, *exc):
        STATE.grad = self._prev
        return False


class enable_grad(_GradModeContext):
    """Re-enable gradient recording inside a ``no_grad`` block."""

    def __enter__(self):
        self._prev = STATE.grad
        STATE.grad = True

    def __exit__(self, *exc):
        STATE.grad = self._prev
        return False


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; usable as a function, a context manager or a decorator.

    Args:
        mode: True to record operations for autograd, False not to.
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() expects a bool, got {type(mode).__name__}")
        self.mode = mode
        self._prev = STATE.grad
        STATE.grad = mode

    def _args(self):
        return (self.mode,)

    def __call__(self, fn):
        STATE.grad = self._prev  # used as a decorator: undo the eager switch made in __init__
        return super().__call__(fn)

    def __enter__(self):
        STATE.grad = self.mode

    def __exit__(self, *exc):
        STATE.grad = self._prev
        return False


class inference_mode(_GradModeContext):
    """Like ``no_grad``, for code that will never need gradients (tensors made here are inference tensors).

    Args:
        mode: True to enable inference mode (the default), False to leave grad mode unchanged.
    """

    def __init__(self, mode: bool = True):
        self.mode = mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        self._prev = (STATE.grad, STATE.inference)
        if self.mode:
            STATE.grad = False
            STATE.inference = True

    def __exit__(self, *exc):
        STATE.grad, STATE.inference = self._prev
        return False
