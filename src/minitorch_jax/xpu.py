"""``mt.xpu``: torch.xpu (Intel GPUs). JAX has no XPU platform here, so this is torch's "not compiled
with XPU" behaviour: ``is_available()`` is False, ``device_count()`` 0, the queries that torch answers
without a device (memory counters 0, seeding no-ops, ``get_arch_list()`` ``[]``) answer the same, and
everything needing a device raises ``AssertionError("Torch not compiled with XPU enabled")``."""

from __future__ import annotations

import collections

__all__ = ["Event", "Stream", "StreamContext", "XPUPluggableAllocator", "XPUGraph", "can_device_access_peer",
           "change_current_allocator", "clock_rate", "current_device", "current_stream", "default_generators",
           "device", "device_of", "device_count", "device_memory_used", "empty_cache", "get_arch_list",
           "get_device_capability", "get_device_name", "get_device_properties", "get_gencode_flags",
           "get_per_process_memory_fraction", "get_rng_state", "get_rng_state_all",
           "get_stream_from_external", "graph", "graph_pool_handle", "init", "initial_seed",
           "is_available", "is_bf16_supported",
           "is_current_stream_capturing", "is_initialized", "is_tf32_supported", "make_graphed_callables",
           "manual_seed", "manual_seed_all", "max_memory_allocated", "max_memory_reserved", "mem_get_info",
           "memory_allocated", "memory_reserved", "memory_snapshot", "memory_stats",
           "memory_stats_as_nested_dict", "memory_usage", "MemPool", "power_draw", "use_mem_pool",
           "reset_accumulated_memory_stats", "reset_peak_memory_stats", "seed", "seed_all", "set_device",
           "set_per_process_memory_fraction", "set_rng_state", "set_rng_state_all", "set_stream", "stream",
           "streams", "synchronize", "temperature", "utilization"]

_MSG = "Torch not compiled with XPU enabled (minitorch_jax: JAX has no XPU backend)"
default_generators: tuple = ()


def _raise(*args, **kwargs):
    raise AssertionError(_MSG)


def _make(name: str, result=None, raises: bool = True):
    def f(*args, **kwargs):
        if raises:
            _raise()
        return result() if callable(result) else result
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"torch.xpu.{name}: raises AssertionError (no XPU backend)." if raises
                 else f"torch.xpu.{name}: returns {result() if callable(result) else result!r} (no XPU).")
    return f


can_device_access_peer = _make("can_device_access_peer")
change_current_allocator = _make("change_current_allocator")
clock_rate = _make("clock_rate")
current_device = _make("current_device")
current_stream = _make("current_stream")
device_of = _make("device_of")
device_memory_used = _make("device_memory_used")
get_device_capability = _make("get_device_capability")
get_device_name = _make("get_device_name")
get_device_properties = _make("get_device_properties")
get_per_process_memory_fraction = _make("get_per_process_memory_fraction")
get_rng_state = _make("get_rng_state")
get_stream_from_external = _make("get_stream_from_external")
graph_pool_handle = _make("graph_pool_handle")
init = _make("init")
initial_seed = _make("initial_seed")
is_current_stream_capturing = _make("is_current_stream_capturing")
make_graphed_callables = _make("make_graphed_callables")
mem_get_info = _make("mem_get_info")
memory_snapshot = _make("memory_snapshot")
memory_usage = _make("memory_usage")
power_draw = _make("power_draw")
reset_accumulated_memory_stats = _make("reset_accumulated_memory_stats")
reset_peak_memory_stats = _make("reset_peak_memory_stats")
set_device = _make("set_device")
set_per_process_memory_fraction = _make("set_per_process_memory_fraction")
set_rng_state = _make("set_rng_state")
set_stream = _make("set_stream")
synchronize = _make("synchronize")
temperature = _make("temperature")
utilization = _make("utilization")
use_mem_pool = _make("use_mem_pool")
is_available = _make("is_available", False, raises=False)
is_initialized = _make("is_initialized", False, raises=False)
device_count = _make("device_count", 0, raises=False)
is_bf16_supported = _make("is_bf16_supported", False, raises=False)
is_tf32_supported = _make("is_tf32_supported", False, raises=False)
get_arch_list = _make("get_arch_list", list, raises=False)
get_gencode_flags = _make("get_gencode_flags", "", raises=False)
get_rng_state_all = _make("get_rng_state_all", list, raises=False)
set_rng_state_all = _make("set_rng_state_all", None, raises=False)
manual_seed = _make("manual_seed", None, raises=False)
manual_seed_all = _make("manual_seed_all", None, raises=False)
seed = _make("seed", None, raises=False)
seed_all = _make("seed_all", None, raises=False)
empty_cache = _make("empty_cache", None, raises=False)
memory_allocated = _make("memory_allocated", 0, raises=False)
memory_reserved = _make("memory_reserved", 0, raises=False)
max_memory_allocated = _make("max_memory_allocated", 0, raises=False)
max_memory_reserved = _make("max_memory_reserved", 0, raises=False)
memory_stats = _make("memory_stats", collections.OrderedDict, raises=False)
memory_stats_as_nested_dict = _make("memory_stats_as_nested_dict", dict, raises=False)


class _Unavailable:
    """An XPU object; constructing it raises (no XPU backend)."""

    def __init__(self, *args, **kwargs) -> None:
        _raise()


class Stream(_Unavailable):
    """torch.xpu.Stream: raises (no XPU backend)."""


class Event(_Unavailable):
    """torch.xpu.Event: raises (no XPU backend)."""


class XPUGraph(_Unavailable):
    """torch.xpu.XPUGraph: raises (no XPU backend)."""


class XPUPluggableAllocator(_Unavailable):
    """torch.xpu.XPUPluggableAllocator: raises (no XPU backend)."""


class MemPool(_Unavailable):
    """torch.xpu.MemPool: raises (no XPU backend)."""


class graph(_Unavailable):
    """torch.xpu.graph: raises (no XPU backend)."""


class StreamContext:
    """Context manager selecting ``stream``; with None (the only stream there can be here) it does nothing."""

    def __init__(self, stream) -> None:
        if stream is not None:
            _raise()
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def stream(stream) -> StreamContext:
    """``with mt.xpu.stream(s):`` - a :class:`StreamContext` (None is a no-op)."""
    return StreamContext(stream)


class device:
    """Context manager selecting XPU ``device``; index -1 / None is a no-op, anything else raises."""

    def __init__(self, device) -> None:
        self.idx = device

    def __enter__(self):
        if self.idx is not None and self.idx != -1:
            _raise()
        return self

    def __exit__(self, *exc) -> None:
        return None


class streams:
    """Namespace of torch.xpu.streams (``Stream``, ``Event``)."""

    Stream = Stream
    Event = Event
