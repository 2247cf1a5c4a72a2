"""Named exception classes. Each subclasses the builtin kind torch raises, so ``except RuntimeError``
written for torch keeps working, and carries a message in the user's terms (op, shapes, dtypes)."""

from __future__ import annotations

__all__ = ["MiniTorchError", "ShapeError", "DTypeError", "OpTypeError", "OpValueError"]


class MiniTorchError(Exception):
    """Base of this package's own errors; already phrased for the user."""


class ShapeError(MiniTorchError, RuntimeError):
    """Shapes that do not fit the op (torch raises RuntimeError for these)."""


class DTypeError(MiniTorchError, RuntimeError):
    """A dtype the op does not accept."""


class OpTypeError(MiniTorchError, TypeError):
    """An argument of the wrong kind."""


class OpValueError(MiniTorchError, ValueError):
    """An argument with a bad value."""


class OpIndexError(MiniTorchError, IndexError):
    """An index or dim out of range."""


class TracedValueError(RuntimeError):
    """A traced tensor's value was needed in Python (inside ``mt.jit``); ``kind`` says how
    ('bool', 'item', 'int', 'float', 'numpy', 'tolist', 'index')."""

    def __init__(self, kind: str):
        super().__init__(f"the value of a traced tensor was needed in Python ({kind})")
        self.kind = kind
