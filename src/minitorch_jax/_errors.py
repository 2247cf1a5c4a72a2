"""Named exception classes. Each subclasses the builtin kind torch raises, so ``except RuntimeError``
written for torch keeps working, and carries a message in the user's terms (op, shapes, dtypes)."""

from __future__ import annotations

import os

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


class DataDependentShapeError(ShapeError):
    """An op whose result's shape depends on the data (``t[mask]``, ``nonzero``, ``unique``) ran
    while tracing, where the data is not known; ``op`` names it."""

    def __init__(self, op: str, msg: str):
        super().__init__(msg)
        self.op = op


class TracedValueError(RuntimeError):
    """A traced tensor's value was needed in Python (inside ``mt.jit``); ``kind`` says how
    ('bool', 'item', 'int', 'float', 'numpy', 'tolist', 'index')."""

    def __init__(self, kind: str):
        super().__init__(f"the value of a traced tensor was needed in Python ({kind})")
        self.kind = kind



def filtering_on() -> bool:
    """False when ``MINITORCH_JAX_TRACEBACK_FILTERING=off``: errors then keep every frame."""
    return os.environ.get("MINITORCH_JAX_TRACEBACK_FILTERING", "").lower() not in ("off", "0", "false")


def drop_jax_note(err: BaseException) -> None:
    """Remove the note JAX adds about its hidden frames (it refers to frames the user never sees)."""
    notes = getattr(err, "__notes__", None)
    if notes and filtering_on():
        notes[:] = [n for n in notes if "JAX has removed its internal frames" not in n]
        if not notes:
            del err.__notes__


def user_facing(err: BaseException) -> BaseException:
    """Prepare ``err`` (already phrased in the user's terms) to be raised at the public boundary: drop
    the frames below it (the op's kernel, JAX's tracing machinery), JAX's traceback note and the
    chained JAX exception, so the traceback ends at the user's line and the op that failed.
    ``MINITORCH_JAX_TRACEBACK_FILTERING=off`` keeps everything (for debugging the library itself)."""
    if not filtering_on():
        return err
    drop_jax_note(err)
    err.__cause__ = None
    err.__suppress_context__ = True
    return err.with_traceback(None)
