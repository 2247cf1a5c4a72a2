"""``mt.cuda``: torch.cuda's everyday queries on JAX's GPU platform ('cuda' = JAX's 'gpu' devices).

One random generator serves every device here (JAX keys are device-independent), so
``manual_seed``/``manual_seed_all`` seed ``mt.default_generator``.
"""

from __future__ import annotations

import sys
import warnings

import jax

from . import _device
from ._torch_misc.toplevel import OutOfMemoryError

__all__ = ["is_available", "device_count", "synchronize", "current_device", "set_device", "get_device_name",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache", "memory_allocated",
           "max_memory_allocated", "is_initialized", "init", "device", "get_device_properties",
           "OutOfMemoryError"]

_CURRENT = [0]


def _gpus() -> list:
    return _device._local("gpu")


def is_available() -> bool:
    """True if JAX sees at least one GPU in this process."""
    return bool(_gpus())


def is_initialized() -> bool:
    """True once JAX's GPU backend is usable (same as :func:`is_available` here)."""
    return is_available()


def init() -> None:
    """Initialise the GPU backend (JAX does it lazily; raises if there is no GPU)."""
    _check()


def device_count() -> int:
    """Number of GPUs this process can use."""
    return len(_gpus())


def _check(index: int | None = None):
    devs = _gpus()
    if not devs:
        raise RuntimeError(f"No CUDA GPUs are available (JAX has no 'gpu' devices); available devices: "
                           f"{_device.available()}")
    if index is not None and not 0 <= index < len(devs):
        raise RuntimeError(f"CUDA error: invalid device ordinal {index} (this process has {len(devs)} "
                           f"GPU(s); available devices: {_device.available()})")
    return devs


def _index(dev) -> int:
    if dev is None:
        return _CURRENT[0]
    if isinstance(dev, int):
        return dev
    d = _device.device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return _CURRENT[0] if d.index is None else d.index


def current_device() -> int:
    """Index of the current GPU (set by :func:`set_device`; 0 by default)."""
    _check()
    return _CURRENT[0]


def set_device(dev) -> None:
    """Make GPU ``dev`` (index, 'cuda:i' or device) current; also the default device for new tensors."""
    i = _index(dev)
    _check(i)
    _CURRENT[0] = i
    _device.set_default_device(_device.device("cuda", i))


def get_device_name(dev=None) -> str:
    """The GPU's name (JAX's ``device_kind``, e.g. 'NVIDIA H100 80GB HBM3')."""
    i = _index(dev)
    return _check(i)[i].device_kind


def get_device_properties(dev=None):
    """A small record with ``name``, ``total_memory`` (bytes, when JAX reports it) and ``index``."""
    i = _index(dev)
    d = _check(i)[i]
    stats = _stats(d)

    class _Props:
        name = d.device_kind
        total_memory = int(stats.get("bytes_limit", 0))
        index = i

        def __repr__(self):
            return f"_CudaDeviceProperties(name='{self.name}', total_memory={self.total_memory // 2**20}MB)"
    return _Props()


def synchronize(dev=None) -> None:
    """Wait until all queued work has finished (JAX runs asynchronously)."""
    for a in jax.live_arrays():
        a.block_until_ready()


def _stats(d) -> dict:
    try:
        return d.memory_stats() or {}
    except Exception:  # some backends do not report memory statistics
        return {}


def memory_allocated(dev=None) -> int:
    """Bytes currently in use on the GPU (JAX's allocator statistics; 0 if not reported)."""
    i = _index(dev)
    return int(_stats(_check(i)[i]).get("bytes_in_use", 0))


def max_memory_allocated(dev=None) -> int:
    """Peak bytes in use on the GPU (0 if not reported)."""
    i = _index(dev)
    return int(_stats(_check(i)[i]).get("peak_bytes_in_use", 0))


def empty_cache() -> None:
    """A no-op: JAX's allocator manages its own pool."""


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
    """Context manager making GPU ``dev`` current inside (``with mt.cuda.device(1): ...``)."""

    def __init__(self, dev):
        self.idx = _index(dev)
        self.prev = None

    def __enter__(self):
        self.prev = (_CURRENT[0], _device.get_default_device())
        set_device(self.idx)
        return self

    def __exit__(self, *exc) -> None:
        _CURRENT[0] = self.prev[0]
        _device.set_default_device(self.prev[1])


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
