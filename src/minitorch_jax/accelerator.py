"""``mt.accelerator``: torch.accelerator's device-generic queries, backed by ``mt.cuda`` (JAX's GPUs).

The current accelerator is ``device('cuda')`` when JAX sees a GPU and None otherwise (CPU only): then
every device query raises ``RuntimeError("Cannot access accelerator device when none is available.")``
as torch does. Streams are :class:`mt.Stream` records (JAX orders device work itself); ``Graph``
(CUDA graphs) is not available: use ``mt.jit`` / ``mt.compile`` to capture a whole step instead.
"""

from __future__ import annotations

from . import cuda as _cuda
from ._device import device as _device
from ._torch_misc.extras import Stream

__all__ = ["Graph", "current_accelerator", "current_device_idx", "current_device_index",
           "get_device_capability", "current_stream", "device_count", "device_index", "empty_cache",
           "empty_host_cache", "get_memory_info", "is_available", "max_memory_allocated",
           "max_memory_reserved", "memory_allocated", "memory_reserved", "memory_stats",
           "reset_accumulated_memory_stats", "reset_peak_memory_stats", "set_device_idx", "set_device_index",
           "set_stream", "synchronize"]

_NONE = "Cannot access accelerator device when none is available."
_STREAM: list = [None]


def current_accelerator(check_available: bool = False):
    """The accelerator device type (``device('cuda')``), or None on a CPU-only machine.

    Args:
        check_available: also require the accelerator to be usable now (same answer here).
    """
    return _device("cuda") if _cuda.is_available() else None


def is_available() -> bool:
    """True if an accelerator (a JAX GPU) is present."""
    return current_accelerator() is not None


def device_count() -> int:
    """Number of accelerator devices (0 without one)."""
    return _cuda.device_count() if is_available() else 0


def _need():
    if not is_available():
        raise RuntimeError(_NONE)


def _idx(device) -> int | None:
    if device is None:
        return None
    if isinstance(device, int):
        return device
    d = _device(device)
    return d.index


def current_device_index() -> int:
    """Index of the current accelerator device."""
    _need()
    return _cuda.current_device()


def set_device_index(device, /) -> None:
    """Make accelerator ``device`` (index, 'cuda:i' or device) current; None does nothing."""
    _need()
    i = _idx(device)
    if i is not None:
        _cuda.set_device(i)


current_device_idx = current_device_index
set_device_idx = set_device_index


class device_index:
    """Context manager making accelerator device ``device`` current inside; ``None`` is a no-op."""

    def __init__(self, device, /) -> None:
        self.idx = device
        self.prev = None

    def __enter__(self):
        if self.idx is not None:
            self.prev = current_device_index()
            set_device_index(self.idx)
        return self

    def __exit__(self, *exc) -> None:
        if self.prev is not None:
            set_device_index(self.prev)


def current_stream(device=None) -> Stream:
    """The current stream of ``device`` (a :class:`mt.Stream`; JAX keeps its own ordering)."""
    _need()
    i = current_device_index() if _idx(device) is None else _idx(device)
    s = _STREAM[0]
    if s is not None and s.device_index == i:
        return s
    return Stream(f"cuda:{i}")


def set_stream(stream: Stream) -> None:
    """Make ``stream`` the current stream (recorded only: JAX orders device work itself)."""
    _need()
    _STREAM[0] = stream


def synchronize(device=None, /) -> None:
    """Block until all queued accelerator work has finished."""
    _need()
    _cuda.synchronize(device)


def get_device_capability(device=None, /) -> dict:
    """A dict of what the device supports: ``{'supported_dtypes': [...]}``."""
    _need()
    from . import bfloat16, float16, float32, float64, int8, int16, int32, int64, uint8
    from . import bool as _b
    return {"supported_dtypes": [_b, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64]}


def _stats(device) -> dict:
    _need()
    i = current_device_index() if _idx(device) is None else _idx(device)
    return _cuda._stats(_cuda._check(i)[i])


def memory_stats(device=None, /) -> dict:
    """JAX's allocator statistics for the device (keys as JAX reports them)."""
    return dict(_stats(device))


def memory_allocated(device=None, /) -> int:
    """Bytes currently in use on the device (0 if not reported)."""
    return int(_stats(device).get("bytes_in_use", 0))


def max_memory_allocated(device=None, /) -> int:
    """Peak bytes in use on the device (0 if not reported)."""
    return int(_stats(device).get("peak_bytes_in_use", 0))


def memory_reserved(device=None, /) -> int:
    """Bytes reserved by JAX's allocator pool (0 if not reported)."""
    s = _stats(device)
    return int(s.get("pool_bytes", s.get("bytes_reserved", 0)))


def max_memory_reserved(device=None, /) -> int:
    """Peak bytes reserved by JAX's allocator pool (0 if not reported)."""
    s = _stats(device)
    return int(s.get("peak_pool_bytes", s.get("peak_bytes_reserved", 0)))


def get_memory_info(device=None, /) -> tuple[int, int]:
    """``(free, total)`` bytes on the device (from JAX's ``bytes_limit`` and ``bytes_in_use``)."""
    s = _stats(device)
    total = int(s.get("bytes_limit", 0))
    return total - int(s.get("bytes_in_use", 0)), total


def empty_cache() -> None:
    """A no-op on the device (JAX's allocator manages its own pool)."""
    _need()


def empty_host_cache() -> None:
    """A no-op (no pinned host cache is kept)."""


def reset_peak_memory_stats(device=None, /) -> None:
    """Not resettable: JAX's peak statistic covers the whole process; this checks the device only."""
    _stats(device)


def reset_accumulated_memory_stats(device=None, /) -> None:
    """Not resettable (JAX keeps the statistics); this checks the device only."""
    _stats(device)


class Graph:
    """torch.accelerator.Graph (CUDA graph capture): not available on JAX."""

    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError("mt.accelerator.Graph: graph capture is not available on JAX; compile the whole "
                           "step with mt.jit / mt.compile instead (one XLA program, replayed each call).")
