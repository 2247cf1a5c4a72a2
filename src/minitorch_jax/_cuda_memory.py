"""``mt.cuda`` memory statistics and allocator controls, read from ``jax.Device.memory_stats()``.

Without a GPU these behave as torch's CPU-only build: the statistics are 0 / empty, the rest raise
``Torch not compiled with CUDA enabled``. On a GPU, torch's keys are filled from XLA's allocator
(``bytes_in_use``, ``peak_bytes_in_use``, ``pool_bytes``/``bytes_reserved``, ``bytes_limit``, ``num_allocs``).

Differences (JAX owns its allocator): XLA cannot reset its peak counter, so ``reset_peak_memory_stats``
remembers the counters at reset and later peaks are the larger of the current use and any new all-time
peak; ``mem_get_info`` reports ``(bytes_limit - bytes_in_use, bytes_limit)`` (XLA's pool limit, not the whole
card); the memory fraction is fixed when JAX starts (``XLA_PYTHON_CLIENT_MEM_FRACTION``), so
``set_per_process_memory_fraction`` only records it; the caching-allocator hooks, ``MemPool`` and pluggable
allocators raise. ``utilization``/``temperature``/``power_draw``/``clock_rate``/``memory_usage`` need
nvidia-ml-py (pynvml), as in torch.
"""

from __future__ import annotations

import collections
import contextlib
import os
import warnings

from . import _cuda_base as _b

__all__ = ["memory_stats", "memory_stats_as_nested_dict", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "memory_cached", "max_memory_cached",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "reset_max_memory_cached",
           "reset_accumulated_memory_stats", "memory_summary", "memory_snapshot", "mem_get_info",
           "set_per_process_memory_fraction", "get_per_process_memory_fraction", "empty_cache", "ipc_collect",
           "host_memory_stats", "host_memory_stats_as_nested_dict", "reset_peak_host_memory_stats",
           "reset_accumulated_host_memory_stats", "caching_allocator_alloc", "caching_allocator_delete",
           "caching_allocator_enable", "caching_allocator_disabled", "get_allocator_backend",
           "CUDAPluggableAllocator", "change_current_allocator", "MemPool", "use_mem_pool",
           "device_memory_used", "memory_usage", "utilization", "temperature", "power_draw", "clock_rate",
           "list_gpu_processes"]

_BASE: dict = {}      # device index -> (xla peak at reset, use at reset)
_FRACTION: dict = {}  # device index -> recorded fraction


def _reserved(s: dict) -> int:
    for k in ("pool_bytes", "bytes_reserved", "bytes_in_use"):
        if k in s:
            return int(s[k])
    return 0


def _peaks(i: int, s: dict) -> tuple[int, int]:
    cur, peak = int(s.get("bytes_in_use", 0)), int(s.get("peak_bytes_in_use", s.get("bytes_in_use", 0)))
    res = _reserved(s)
    res_peak = int(s.get("peak_pool_bytes", s.get("peak_bytes_reserved", res)))
    base = _BASE.get(i)
    if base is not None:
        (p0, r0), (c0, rc0) = base
        peak = peak if peak > p0 else max(cur, c0)
        res_peak = res_peak if res_peak > r0 else max(res, rc0)
    return peak, res_peak


def memory_stats(device=None) -> dict:
    """torch's allocator statistics of GPU ``device`` (an OrderedDict; empty without a GPU).

    Keys filled: ``allocated_bytes.all.{current,peak}``, ``active_bytes.all.{current,peak}``,
    ``reserved_bytes.all.{current,peak}``, ``allocation.all.current``, ``num_alloc_retries``, ``num_ooms``,
    ``largest_alloc_size`` and ``bytes_limit`` (XLA's)."""
    if not _b.gpus():
        return collections.OrderedDict()
    i, d = _b.get(device, "memory_stats")
    s = _b.stats(d)
    peak, res_peak = _peaks(i, s)
    cur = int(s.get("bytes_in_use", 0))
    out = {"allocated_bytes.all.current": cur, "allocated_bytes.all.peak": peak,
           "active_bytes.all.current": cur, "active_bytes.all.peak": peak,
           "reserved_bytes.all.current": _reserved(s), "reserved_bytes.all.peak": res_peak,
           "allocation.all.current": int(s.get("num_allocs", 0)), "num_alloc_retries": 0, "num_ooms": 0,
           "largest_alloc_size": int(s.get("largest_alloc_size", 0)),
           "bytes_limit": int(s.get("bytes_limit", 0))}
    return collections.OrderedDict(sorted(out.items()))


def memory_stats_as_nested_dict(device=None) -> dict:
    """:func:`memory_stats` nested at each '.' (``{'allocated_bytes': {'all': {'current': ...}}}``)."""
    out: dict = {}
    for k, v in memory_stats(device).items():
        node = out
        *path, last = k.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = v
    return out


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on GPU ``device`` (XLA's ``bytes_in_use``; 0 without a GPU)."""
    return int(memory_stats(device).get("allocated_bytes.all.current", 0))


def max_memory_allocated(device=None) -> int:
    """Peak of :func:`memory_allocated` since start or :func:`reset_peak_memory_stats` (0 without a GPU)."""
    return int(memory_stats(device).get("allocated_bytes.all.peak", 0))


def memory_reserved(device=None) -> int:
    """Bytes held by XLA's allocator pool on GPU ``device`` (0 without a GPU)."""
    return int(memory_stats(device).get("reserved_bytes.all.current", 0))


def max_memory_reserved(device=None) -> int:
    """Peak of :func:`memory_reserved` (0 without a GPU)."""
    return int(memory_stats(device).get("reserved_bytes.all.peak", 0))


def memory_cached(device=None) -> int:
    """Deprecated alias of :func:`memory_reserved` (FutureWarning, as torch)."""
    warnings.warn("`minitorch_jax.cuda.memory_cached` has been renamed to "
                  "`minitorch_jax.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    """Deprecated alias of :func:`max_memory_reserved` (FutureWarning, as torch)."""
    warnings.warn("`minitorch_jax.cuda.max_memory_cached` has been renamed to "
                  "`minitorch_jax.cuda.max_memory_reserved`", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def reset_peak_memory_stats(device=None) -> None:
    """Start the peak counters of GPU ``device`` afresh (see module notes; raises without a GPU)."""
    i, d = _b.get(device, "reset_peak_memory_stats")
    s = _b.stats(d)
    _BASE.pop(i, None)
    cur, res = int(s.get("bytes_in_use", 0)), _reserved(s)
    xla_peak = int(s.get("peak_bytes_in_use", cur))
    xla_res_peak = int(s.get("peak_pool_bytes", s.get("peak_bytes_reserved", res)))
    _BASE[i] = ((xla_peak, xla_res_peak), (cur, res))


def reset_max_memory_allocated(device=None) -> None:
    """Same as :func:`reset_peak_memory_stats` (deprecated in torch)."""
    warnings.warn("minitorch_jax.cuda.reset_max_memory_allocated now calls "
                  "minitorch_jax.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None) -> None:
    """Same as :func:`reset_peak_memory_stats` (deprecated in torch)."""
    warnings.warn("minitorch_jax.cuda.reset_max_memory_cached now calls "
                  "minitorch_jax.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None) -> None:
    """No accumulated counters are kept by XLA: checks the device, then does nothing."""
    _b.get(device, "reset_accumulated_memory_stats")


def _fmt(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.2f} {unit}".replace(".00 ", " ")
        n /= 1024
    return str(n)


def memory_summary(device=None, abbreviated: bool = False) -> str:
    """A printable table of :func:`memory_stats` (raises without a GPU)."""
    i, _ = _b.get(device, "memory_summary")
    s = memory_stats(i)
    rows = [("Allocated memory", "allocated_bytes"), ("Active memory", "active_bytes"),
            ("GPU reserved memory", "reserved_bytes")]
    line = "|" + "=" * 75 + "|"
    out = [line, f"|{'PyTorch-style CUDA memory summary (minitorch_jax / XLA), device ID ' + str(i):^75}|",
           line, f"| {'Metric':<30}| {'Cur Usage':>20} | {'Peak Usage':>19} |", line]
    for label, key in rows:
        out.append(f"| {label:<30}| {_fmt(s[key + '.all.current']):>20} | {_fmt(s[key + '.all.peak']):>19} |")
    out.append(f"| {'Allocations':<30}| {s['allocation.all.current']:>20} | {'':>19} |")
    out.append(f"| {'XLA memory limit':<30}| {_fmt(s['bytes_limit']):>20} | {'':>19} |")
    out.append(line)
    return "\n".join(out) + "\n"


def memory_snapshot(mempool_id=None, include_traces: bool = True) -> list:
    """Allocator segments: XLA does not expose them, so ``[]`` on a GPU (raises without one)."""
    _b.check(None, "memory_snapshot")
    return []


def mem_get_info(device=None) -> tuple[int, int]:
    """``(free, total)`` bytes of XLA's pool on GPU ``device`` (see module notes; raises without a GPU)."""
    _, d = _b.get(device, "mem_get_info")
    s = _b.stats(d)
    total = int(s.get("bytes_limit", 0))
    return max(total - int(s.get("bytes_in_use", 0)), 0), total


def set_per_process_memory_fraction(fraction, device=None) -> None:
    """Record the memory fraction for GPU ``device`` (XLA fixes it at start: set
    ``XLA_PYTHON_CLIENT_MEM_FRACTION`` before importing JAX to change it). Raises without a GPU."""
    i, _ = _b.get(device, "set_per_process_memory_fraction")
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    _FRACTION[i] = fraction


def get_per_process_memory_fraction(device=None) -> float:
    """The recorded fraction, else ``XLA_PYTHON_CLIENT_MEM_FRACTION``, else 1.0 (raises without a GPU)."""
    i, _ = _b.get(device, "get_per_process_memory_fraction")
    if i in _FRACTION:
        return _FRACTION[i]
    env = os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION")
    try:
        return float(env) if env else 1.0
    except ValueError:
        return 1.0


def empty_cache() -> None:
    """A no-op: XLA's allocator keeps its own pool (buffers are freed when their arrays are)."""


def ipc_collect() -> None:
    """A no-op on a GPU (no CUDA IPC under JAX); raises without a GPU, as torch."""
    _b.check(None, "ipc_collect")


def host_memory_stats() -> dict:
    """Pinned host memory statistics: none under JAX (an empty OrderedDict)."""
    return collections.OrderedDict()


def host_memory_stats_as_nested_dict() -> dict:
    """:func:`host_memory_stats` nested: ``{}``."""
    return {}


def reset_peak_host_memory_stats() -> None:
    """Nothing to reset on a GPU; raises without one."""
    _b.check(None, "reset_peak_host_memory_stats")


def reset_accumulated_host_memory_stats() -> None:
    """Nothing to reset on a GPU; raises without one."""
    _b.check(None, "reset_accumulated_host_memory_stats")


_ALLOC_HINT = "JAX owns the GPU allocator; create tensors with mt.empty/mt.zeros(..., device='cuda') instead"


def caching_allocator_alloc(size, device=None, stream=None):
    """Raw allocation is not available under JAX (raises; without a GPU, torch's CPU-build error)."""
    _b.check(None, "caching_allocator_alloc")
    raise RuntimeError(f"minitorch_jax.cuda.caching_allocator_alloc(): {_ALLOC_HINT}")


def caching_allocator_delete(mem_ptr) -> None:
    """Raw deallocation is not available under JAX (raises)."""
    _b.check(None, "caching_allocator_delete")
    raise RuntimeError(f"minitorch_jax.cuda.caching_allocator_delete(): {_ALLOC_HINT}")


def caching_allocator_enable(value: bool = True) -> None:
    """A no-op (XLA's allocator cannot be switched off at run time)."""


@contextlib.contextmanager
def caching_allocator_disabled():
    """Context manager; a no-op on a GPU (see :func:`caching_allocator_enable`), raises without one."""
    _b.check(None, "caching_allocator_disabled")
    yield


def get_allocator_backend() -> str:
    """'cudaMallocAsync' when JAX uses CUDA's async allocator (``XLA_PYTHON_CLIENT_ALLOCATOR=cuda_async``),
    else 'native' (XLA's BFC pool). Raises without a GPU."""
    _b.check(None, "get_allocator_backend")
    return "cudaMallocAsync" if os.environ.get("XLA_PYTHON_CLIENT_ALLOCATOR") == "cuda_async" else "native"


class CUDAPluggableAllocator:
    """``torch.cuda.CUDAPluggableAllocator``: not supported (raises; see module notes)."""

    def __init__(self, path_to_so_file: str, alloc_fn_name: str, free_fn_name: str):
        raise RuntimeError(f"minitorch_jax.cuda.CUDAPluggableAllocator: custom allocators are not supported; "
                           f"{_ALLOC_HINT}")


def change_current_allocator(allocator) -> None:
    """Not supported (raises; see module notes)."""
    raise RuntimeError(f"minitorch_jax.cuda.change_current_allocator(): custom allocators are not supported; "
                       f"{_ALLOC_HINT}")


class MemPool:
    """``torch.cuda.MemPool``: not supported (raises; see module notes)."""

    def __init__(self, allocator=None, use_on_oom: bool = False, no_split: bool = False):
        raise RuntimeError(f"minitorch_jax.cuda.MemPool: private memory pools are not supported; "
                           f"{_ALLOC_HINT}")


@contextlib.contextmanager
def use_mem_pool(pool, device=None):
    """Context manager; not supported (raises on entry; without a GPU, torch's CPU-build error)."""
    _b.check(None, "use_mem_pool")
    raise RuntimeError(f"minitorch_jax.cuda.use_mem_pool(): private memory pools are not supported; "
                       f"{_ALLOC_HINT}")
    yield  # pragma: no cover


_NVML_MISSING = "nvidia-ml-py does not seem to be installed or it can't be imported."


def _nvml(device):
    """``(pynvml, handle)`` of GPU ``device``; ModuleNotFoundError without pynvml (torch's message)."""
    try:
        import pynvml
    except ImportError as e:
        raise ModuleNotFoundError(_NVML_MISSING) from e
    i, _ = _b.get(device, "pynvml query")
    pynvml.nvmlInit()
    return pynvml, pynvml.nvmlDeviceGetHandleByIndex(i)


def device_memory_used(device=None) -> int:
    """Bytes used on GPU ``device`` by all processes (pynvml); with a GPU but no pynvml, XLA's
    ``bytes_in_use`` of this process. Without either, torch's ModuleNotFoundError."""
    try:
        nv, h = _nvml(device)
    except ModuleNotFoundError:
        if not _b.gpus():
            raise
        return int(_b.stats(_b.get(device)[1]).get("bytes_in_use", 0))
    return int(nv.nvmlDeviceGetMemoryInfo(h).used)


def memory_usage(device=None) -> int:
    """Percent of time GPU memory was read or written over the last sample period (pynvml)."""
    nv, h = _nvml(device)
    return int(nv.nvmlDeviceGetUtilizationRates(h).memory)


def utilization(device=None) -> int:
    """Percent of time a kernel ran on GPU ``device`` over the last sample period (pynvml)."""
    nv, h = _nvml(device)
    return int(nv.nvmlDeviceGetUtilizationRates(h).gpu)


def temperature(device=None) -> int:
    """GPU temperature in degrees C (pynvml)."""
    nv, h = _nvml(device)
    return int(nv.nvmlDeviceGetTemperature(h, 0))


def power_draw(device=None) -> int:
    """GPU power draw in milliwatts (pynvml)."""
    nv, h = _nvml(device)
    return int(nv.nvmlDeviceGetPowerUsage(h))


def clock_rate(device=None) -> int:
    """GPU SM clock in MHz (pynvml)."""
    nv, h = _nvml(device)
    return int(nv.nvmlDeviceGetClockInfo(h, 1))


def list_gpu_processes(device=None) -> str:
    """Processes using GPU ``device`` (pynvml), as torch's text; the install hint without pynvml."""
    try:
        nv, h = _nvml(device)
    except ModuleNotFoundError:
        return "pynvml module not found, please install nvidia-ml-py"
    procs = nv.nvmlDeviceGetComputeRunningProcesses(h)
    lines = [f"GPU:{_b.index(device)}"]
    if not procs:
        lines.append("no processes are running")
    for p in procs:
        lines.append(f"process {p.pid:>10d} uses {p.usedGpuMemory / 2**20:>12.3f} MB GPU memory")
    return "\n".join(lines)
