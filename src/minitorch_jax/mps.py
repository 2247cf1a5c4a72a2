"""``mt.mps``: torch.mps (Apple Metal). JAX has no Metal backend here, so this is torch's
"machine without MPS" behaviour: ``is_available()`` is False, ``device_count()`` 0, ``manual_seed`` a
no-op, and the functions that need the backend raise ``RuntimeError`` as torch does."""

from __future__ import annotations

from ._tensor import Tensor  # noqa: F401  (torch.mps exposes it)
from ._torch_misc.extras import Event

__all__ = ["compile_shader", "load_metallib", "device_count", "get_rng_state", "manual_seed", "seed",
           "set_rng_state", "synchronize", "empty_cache", "set_per_process_memory_fraction",
           "current_allocated_memory", "driver_allocated_memory", "Event", "profiler",
           "recommended_max_memory",
           "is_available"]


def _no(what: str):
    raise RuntimeError(f"Cannot execute {what}() without MPS backend.")


def is_available() -> bool:
    """False: no Metal (MPS) backend in JAX."""
    return False


def device_count() -> int:
    """0: no MPS device."""
    return 0


def manual_seed(seed: int) -> None:
    """A no-op without the MPS backend (as in torch)."""


def seed() -> None:
    """Raises RuntimeError: no MPS backend."""
    _no("getDefaultGenerator")


def get_rng_state(device="mps"):
    """Raises RuntimeError: no MPS backend."""
    _no("getDefaultGenerator")


def set_rng_state(new_state, device="mps") -> None:
    """Raises RuntimeError: no MPS backend."""
    _no("getDefaultGenerator")


def synchronize() -> None:
    """Raises RuntimeError: no MPS backend."""
    _no("deviceSynchronize")


def empty_cache() -> None:
    """Raises RuntimeError: no MPS backend."""
    _no("emptyCache")


def set_per_process_memory_fraction(fraction) -> None:
    """Raises RuntimeError: no MPS backend."""
    _no("setMemoryFraction")


def current_allocated_memory() -> int:
    """Raises RuntimeError: no MPS backend."""
    _no("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    """Raises RuntimeError: no MPS backend."""
    _no("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    """Raises RuntimeError: no MPS backend."""
    _no("getRecommendedMaxMemory")


def compile_shader(source: str):
    """Raises RuntimeError: Metal shaders cannot run on JAX (write the kernel with jax.numpy)."""
    raise RuntimeError("mt.mps.compile_shader: Metal shaders are not available (no MPS backend in JAX); "
                       "write the kernel as an op in jax.numpy instead.")


def load_metallib(path: str):
    """Raises RuntimeError: Metal libraries cannot be loaded on JAX."""
    raise RuntimeError("mt.mps.load_metallib: Metal libraries are not available (no MPS backend in JAX).")


class profiler:
    """torch.mps.profiler: raises on use (no MPS backend)."""

    @staticmethod
    def start(mode: str = "interval", wait_until_completed: bool = False) -> None:
        """Raises RuntimeError: no MPS backend."""
        _no("profilerStartTrace")

    @staticmethod
    def stop() -> None:
        """Raises RuntimeError: no MPS backend."""
        _no("profilerStopTrace")

    @staticmethod
    def is_metal_capture_enabled() -> bool:
        """False: no Metal capture."""
        return False
