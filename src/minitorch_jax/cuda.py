"""``mt.cuda``: torch.cuda on JAX's GPU platform ('cuda' = JAX's 'gpu' devices).

Without a GPU (a CPU-only jaxlib or machine) every name behaves as on torch's CPU-only build: queries
return 0 / False / [] / {} where torch's do, and the rest raise ``Torch not compiled with CUDA enabled``
(an error that is both AssertionError, as torch, and RuntimeError; its message adds "No CUDA GPUs are
available" and the devices JAX sees). Exceptions: ``synchronize`` waits for queued work on any platform
(mt.accelerator and the profiler rely on it), and names whose torch CPU behaviour is an internal
AttributeError raise that clear error instead.

On a GPU machine: streams and events are handles over XLA's own scheduling (``_cuda_streams``), memory
statistics come from ``jax.Device.memory_stats()`` (``_cuda_memory``), CUDA graphs point to ``mt.jit``,
and one random generator serves every device (JAX keys are device-independent), so the CUDA rng
functions read and write ``mt.default_generator`` (``_cuda_misc``). ``nvtx`` and ``jiterator`` are
submodules. The GPU list comes from ``_cuda_base.gpus()``, the one place tests monkeypatch.
"""

from __future__ import annotations

import sys
import warnings

import jax

from . import _cuda_base as _b
from . import _cuda_jiterator as jiterator
from . import _cuda_memory, _cuda_misc, _cuda_streams, _device
from . import _cuda_nvtx as nvtx
from ._torch_misc.toplevel import OutOfMemoryError  # noqa: F401 - torch.cuda name

for _m in (_cuda_memory, _cuda_misc, _cuda_streams):  # re-export the helpers' torch.cuda names
    globals().update({_n: getattr(_m, _n) for _n in _m.__all__})
globals().update(_cuda_misc.TENSOR_TYPES)
globals().update(_cuda_misc.STORAGE_TYPES)
sys.modules[__name__ + ".nvtx"] = nvtx
sys.modules[__name__ + ".jiterator"] = jiterator
memory, streams, graphs, random = _cuda_memory, _cuda_streams, _cuda_streams, _cuda_misc  # torch's submodules
for _n in ("memory", "streams", "graphs", "random"):
    sys.modules[f"{__name__}.{_n}"] = globals()[_n]

__all__ = sorted(["is_available", "device_count", "synchronize", "current_device", "set_device",
                  "get_device_name", "manual_seed", "manual_seed_all", "seed", "seed_all", "is_initialized",
                  "init", "device", "device_of", "get_device_properties", "OutOfMemoryError",
                  "default_generators", *_cuda_misc.TENSOR_TYPES, *_cuda_misc.STORAGE_TYPES,
                  *_cuda_memory.__all__, *_cuda_misc.__all__, *_cuda_streams.__all__])

_CURRENT = _b._CURRENT


def __getattr__(name):
    if name == "default_generators":  # computed on use: listing GPUs starts JAX's backend
        from ._cuda_misc import default_generators
        return default_generators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted({*globals(), "default_generators"})


def _gpus() -> list:
    return _b.gpus()


def _check(index: int | None = None):
    return _b.check(index)


def _index(dev) -> int:
    return _b.index(dev)


def _stats(d) -> dict:
    return _b.stats(d)


def is_available() -> bool:
    """True if JAX sees at least one GPU in this process."""
    return bool(_b.gpus())


def is_initialized() -> bool:
    """True once JAX's GPU backend is usable (same as :func:`is_available` here)."""
    return is_available()


def init() -> None:
    """Initialise the GPU backend (JAX does it lazily; raises if there is no GPU)."""
    _b.check(None, "init")


def device_count() -> int:
    """Number of GPUs this process can use."""
    return len(_b.gpus())


def current_device() -> int:
    """Index of the current GPU (set by :func:`set_device`; 0 by default)."""
    _b.check(None, "current_device")
    return _b._CURRENT[0]


def set_device(dev) -> None:
    """Make GPU ``dev`` (index, 'cuda:i' or device) current; also the default device for new tensors.
    A negative index does nothing (as torch)."""
    i = _b.index(dev)
    if i < 0:
        return
    _b.check(i, "set_device")
    _b._CURRENT[0] = i
    _device.set_default_device(_device.device("cuda", i))


def get_device_name(dev=None) -> str:
    """The GPU's name (JAX's ``device_kind``, e.g. 'NVIDIA H100 80GB HBM3')."""
    return _b.get(dev, "get_device_name")[1].device_kind


class _CudaDeviceProperties:
    """A GPU's properties: ``name``, ``total_memory`` (bytes: XLA's memory limit), ``major``/``minor``
    (compute capability), ``multi_processor_count`` (0 if JAX does not report it), ``index``."""

    def __init__(self, i: int, d) -> None:
        self.index = i
        self.name = d.device_kind
        self.total_memory = int(_b.stats(d).get("bytes_limit", 0))
        self.major, self.minor = _b.capability(d)
        self.multi_processor_count = int(getattr(d, "core_count", 0) or 0)
        self.is_integrated = 0
        self.is_multi_gpu_board = 0

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(dev=None) -> _CudaDeviceProperties:
    """Properties of GPU ``dev`` (see :class:`_CudaDeviceProperties`). Raises without a GPU."""
    i, d = _b.get(dev, "get_device_properties")
    return _CudaDeviceProperties(i, d)


def synchronize(dev=None) -> None:
    """Wait until all queued work has finished (JAX runs asynchronously; works on any platform)."""
    for a in jax.live_arrays():
        a.block_until_ready()


def manual_seed(seed: int) -> None:
    """Seed the random generator (the same generator serves every device)."""
    from . import _random
    _random.manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    """Seed the generator with a non-deterministic number."""
    from . import _random
    _random.seed()


seed_all = seed


class device:
    """Context manager making GPU ``dev`` current inside (``with mt.cuda.device(1): ...``); a negative
    index does nothing, as torch, and None names the current GPU."""

    def __init__(self, dev):
        if dev is None:  # the current GPU; None without one (as torch's CPU build)
            self.idx = _b._CURRENT[0] if _b.gpus() else None
        else:
            self.idx = _b.index(dev)
        self.prev = None

    def __enter__(self) -> None:
        if self.idx is None or self.idx < 0:
            return
        self.prev = (_b._CURRENT[0], _device.get_default_device())
        set_device(self.idx)

    def __exit__(self, *exc) -> bool:
        if self.prev is not None:
            _b._CURRENT[0] = self.prev[0]
            _device.set_default_device(self.prev[1])
            self.prev = None
        return False


class device_of(device):
    """``with mt.cuda.device_of(t):`` makes ``t``'s GPU current inside (a CPU tensor: does nothing)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if getattr(obj, "is_cuda", False) else -1)


from .amp.device_amp import make as _make_amp  # noqa: E402

amp = _make_amp("cuda")
sys.modules[__name__ + ".amp"] = amp


def _amp_custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd`` (deprecated): ``mt.amp.custom_fwd(..., device_type='cuda')``."""
    from .amp import autocast_mode
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def _amp_custom_bwd(bwd):
    """``torch.cuda.amp.custom_bwd`` (deprecated): ``mt.amp.custom_bwd(bwd, device_type='cuda')``."""
    from .amp import autocast_mode
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return autocast_mode.custom_bwd(bwd, device_type="cuda")


def _amp_definitely_not_available() -> bool:
    """True when no GPU is visible to JAX (mixed precision on 'cuda' cannot run)."""
    return not is_available()


_amp_custom_fwd.__name__, _amp_custom_bwd.__name__ = "custom_fwd", "custom_bwd"
_amp_definitely_not_available.__name__ = "amp_definitely_not_available"
amp.custom_fwd = _amp_custom_fwd
amp.custom_bwd = _amp_custom_bwd
amp.amp_definitely_not_available = _amp_definitely_not_available
amp.__all__ = [*amp.__all__, "custom_fwd", "custom_bwd", "amp_definitely_not_available"]
