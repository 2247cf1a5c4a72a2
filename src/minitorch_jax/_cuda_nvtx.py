"""``mt.cuda.nvtx``: NVTX ranges and marks, recorded by name and forwarded to JAX's profiler.

Without a GPU every function raises RuntimeError, as torch's CPU build ("NVTX functions not
installed"). On a GPU, ``range_push``/``range_pop``/``range_start``/``range_end``/``mark``/``range`` record
their names (``events``, the open ``stack``) and open ``jax.profiler.TraceAnnotation`` spans, so the
ranges appear in JAX/TensorBoard/Perfetto traces (XLA emits its own NVTX ranges for kernels).
"""

from __future__ import annotations

import contextlib
import itertools

import jax

from . import _cuda_base as _b

__all__ = ["range_push", "range_pop", "range_start", "range_end", "mark", "range"]

events: list = []  # ("push" | "pop" | "start" | "end" | "mark", message)
stack: list = []  # open (message, TraceAnnotation) pairs of range_push
_started: dict = {}  # range id -> (message, TraceAnnotation)
_ids = itertools.count(1)


def _need() -> None:
    if not _b.gpus():
        raise RuntimeError("NVTX functions not installed. Are you sure you have a CUDA build?")


def range_push(msg: str) -> int:
    """Open a nested range named ``msg``; returns the depth (0-based) of the new range."""
    _need()
    ann = jax.profiler.TraceAnnotation(str(msg))
    ann.__enter__()
    stack.append((str(msg), ann))
    events.append(("push", str(msg)))
    return len(stack) - 1


def range_pop() -> int:
    """Close the innermost range; returns the depth of the closed range, or -1 if none was open."""
    _need()
    if not stack:
        return -1
    msg, ann = stack.pop()
    ann.__exit__(None, None, None)
    events.append(("pop", msg))
    return len(stack)


def range_start(msg: str) -> int:
    """Start a (possibly overlapping) range named ``msg``; returns its id for :func:`range_end`."""
    _need()
    rid = next(_ids)
    ann = jax.profiler.TraceAnnotation(str(msg))
    ann.__enter__()
    _started[rid] = (str(msg), ann)
    events.append(("start", str(msg)))
    return rid


def range_end(range_id: int) -> None:
    """End the range started with id ``range_id``."""
    _need()
    msg, ann = _started.pop(range_id)
    ann.__exit__(None, None, None)
    events.append(("end", msg))


def mark(msg: str) -> None:
    """Record an instantaneous event named ``msg``."""
    _need()
    events.append(("mark", str(msg)))


@contextlib.contextmanager
def range(msg: str, *args, **kwargs):  # noqa: A001 - torch's name
    """``with nvtx.range('step {}', i):`` opens a range named ``msg.format(*args, **kwargs)`` inside."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
