"""``mt.cpu``: torch.cpu's device functions for the host, and ``mt.cpu.amp``."""

from __future__ import annotations

import sys

from .amp.device_amp import make as _make_amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp"]


def is_available() -> bool:
    """Always True."""
    return True


def device_count() -> int:
    """1, as torch.cpu.device_count()."""
    return 1


def current_device() -> str:
    """``'cpu'``."""
    return "cpu"


def synchronize(device=None) -> None:
    """Wait for the host's queued work (JAX's CPU computations are asynchronous too)."""
    import jax
    (jax.device_put(0, jax.local_devices(backend="cpu")[0]) + 0).block_until_ready()


amp = _make_amp("cpu")
sys.modules[__name__ + ".amp"] = amp
