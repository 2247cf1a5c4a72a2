"""``mt.cuda`` streams, events and CUDA graphs on JAX.

XLA schedules GPU work on its own streams, so an mt stream orders nothing extra: it is a handle that
records its device and id. ``synchronize``/``wait_stream``/``wait_event`` block until all queued work
is done, ``query`` reports completion after that, and events time with the host clock once the queued
work is finished (``block_until_ready``), so ``elapsed_time`` measures wall time between two records.

CUDA graphs: XLA compiles a whole function into one program, which is what a captured graph buys;
``CUDAGraph``/``graph``/``graph_pool_handle`` raise and point to ``mt.jit``, and
``make_graphed_callables`` returns ``mt.jit``-compiled callables on a GPU machine.
"""

from __future__ import annotations

import itertools

from . import _cuda_base as _b
from ._torch_misc import extras as _extras

__all__ = ["Stream", "ExternalStream", "Event", "StreamContext", "stream", "current_stream", "default_stream",
           "set_stream", "get_stream_from_external", "CUDAGraph", "graph", "graph_pool_handle",
           "make_graphed_callables", "is_current_stream_capturing"]

_IDS = itertools.count(1)
_CURRENT_STREAM: dict = {}  # device index -> Stream set by set_stream / StreamContext


def _need_gpu(what: str) -> None:
    if not _b.gpus():
        raise RuntimeError(f"minitorch_jax.cuda.{what} requires CUDA support ({_b.NOT_COMPILED}: JAX has no "
                           f"'gpu' devices)")


class Stream(_extras.Stream):
    """A CUDA stream handle (``torch.cuda.Stream``) on GPU ``device`` (current one if None).

    XLA orders the work on its own streams; this object records device, id and priority, and its
    ``synchronize``/``wait_stream``/``wait_event`` wait for all queued work. ``with s:`` makes it the
    current stream (see :func:`current_stream`).
    """

    def __init__(self, device=None, priority: int = 0, **kwargs):
        _need_gpu("Stream")
        i, _ = _b.get(device, "Stream")
        super().__init__(f"cuda:{i}", priority=priority)
        self.stream_id = kwargs.get("_stream_id", next(_IDS))
        self._prev = []

    @property
    def cuda_stream(self) -> int:
        """The stream's id (torch: the raw ``cudaStream_t``; 0 is the default stream)."""
        return self.stream_id

    def __enter__(self):
        self._prev.append(_CURRENT_STREAM.get(self.device_index))
        _CURRENT_STREAM[self.device_index] = self
        return self

    def __exit__(self, *exc) -> None:
        prev = self._prev.pop()
        if prev is None:
            _CURRENT_STREAM.pop(self.device_index, None)
        else:
            _CURRENT_STREAM[self.device_index] = prev

    def __repr__(self) -> str:
        return f"<minitorch_jax.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.stream_id:#x}>"


class ExternalStream(Stream):
    """A stream made elsewhere (``torch.cuda.ExternalStream(stream_ptr, device=None)``): XLA cannot
    take foreign streams, so this is a handle carrying ``stream_ptr`` as its id."""

    def __init__(self, stream_ptr, device=None, **kwargs):
        if not _b.gpus():
            raise _b.no_cuda("ExternalStream")
        super().__init__(device, _stream_id=int(stream_ptr))


def _default(i: int) -> Stream:
    return Stream(i, _stream_id=0)


def current_stream(device=None) -> Stream:
    """The current stream of GPU ``device`` (set by :func:`set_stream`/:func:`stream`; else the default)."""
    i, _ = _b.get(device, "current_stream")
    s = _CURRENT_STREAM.get(i)
    return s if s is not None else _default(i)


def default_stream(device=None) -> Stream:
    """The default stream (id 0) of GPU ``device``."""
    i, _ = _b.get(device, "default_stream")
    return _default(i)


def set_stream(stream) -> None:
    """Make ``stream`` the current stream of its device (None does nothing, as torch)."""
    if stream is None:
        return
    _CURRENT_STREAM[stream.device_index] = stream


def get_stream_from_external(data_ptr: int, device=None) -> Stream:
    """An :class:`ExternalStream` for a stream made elsewhere (see its notes)."""
    if not _b.gpus():
        raise _b.no_cuda("get_stream_from_external")
    return ExternalStream(data_ptr, device)


class StreamContext:
    """Context manager making ``stream`` current inside (None: does nothing); ``torch.cuda.StreamContext``."""

    def __init__(self, stream):
        self.stream = stream
        self.idx = -1 if stream is None else stream.device_index

    def __enter__(self) -> None:
        if self.stream is not None:
            self.stream.__enter__()

    def __exit__(self, *exc) -> None:
        if self.stream is not None:
            self.stream.__exit__(*exc)


def stream(stream) -> StreamContext:
    """``with mt.cuda.stream(s): ...`` makes ``s`` current inside (None is a no-op)."""
    return StreamContext(stream)


class Event(_extras.Event):
    """A CUDA event (``torch.cuda.Event``): ``record`` waits for queued work, then reads the host clock;
    ``elapsed_time`` gives milliseconds between two records (``enable_timing=True`` on both)."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False,
                 external: bool = False):
        _need_gpu("Event")
        super().__init__(f"cuda:{_b._CURRENT[0]}", enable_timing=enable_timing, blocking=blocking,
                         interprocess=interprocess)
        self.blocking, self.interprocess = blocking, interprocess

    def ipc_handle(self):
        """Not supported: XLA events cannot be shared between processes."""
        raise RuntimeError("minitorch_jax.cuda.Event.ipc_handle(): interprocess events are not supported "
                           "on JAX (XLA owns its events)")

    def __repr__(self) -> str:
        return f"<minitorch_jax.cuda.Event device=cuda:{self.device_index} recorded={self._t is not None}>"


_JIT_HINT = ("CUDA graphs are not exposed by JAX; compile the function with mt.jit (or mt.compile), which "
             "captures it into one XLA program, the XLA equivalent of a CUDA graph")


class CUDAGraph:
    """``torch.cuda.CUDAGraph``: not available on JAX; use ``mt.jit`` (see module notes)."""

    def __init__(self, keep_graph: bool = False):
        raise RuntimeError(f"minitorch_jax.cuda.CUDAGraph: {_JIT_HINT}")


class graph:
    """``torch.cuda.graph`` capture context: not available on JAX; use ``mt.jit`` (see module notes)."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode: str = "global",
                 enable_annotations: bool = False, check_input_liveness: bool = False):
        raise RuntimeError(f"minitorch_jax.cuda.graph: {_JIT_HINT}")


def graph_pool_handle():
    """``torch.cuda.graph_pool_handle``: not available on JAX; use ``mt.jit``."""
    raise RuntimeError(f"minitorch_jax.cuda.graph_pool_handle: {_JIT_HINT}")


def is_current_stream_capturing() -> bool:
    """False on a GPU machine (nothing is ever captured); raises without a GPU, as torch's CPU build."""
    if not _b.gpus():
        raise _b.no_cuda("is_current_stream_capturing")
    return False


def make_graphed_callables(callables, sample_args, num_warmup_iters: int = 3,
                           allow_unused_input: bool = False, pool=None):
    """Compiled versions of ``callables`` (a function/Module or a tuple of them): ``mt.jit`` of each.

    ``sample_args`` (a tuple of tensors, or one tuple per callable) is checked for shape only; XLA
    compiles on the first call. Raises without a GPU, as torch's CPU build.
    """
    if not _b.gpus():
        raise _b.no_cuda("make_graphed_callables")
    from . import jit as _jit
    single = not isinstance(callables, tuple)
    cs = (callables,) if single else callables
    args = (sample_args,) if single else sample_args
    if not isinstance(args, tuple) or len(args) != len(cs):
        raise ValueError(f"make_graphed_callables(): expected one sample_args tuple per callable "
                         f"({len(cs)}), got {sample_args!r}")
    out = tuple(_jit(c) for c in cs)
    return out[0] if single else out
