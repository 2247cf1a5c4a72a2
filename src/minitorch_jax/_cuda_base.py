"""Shared plumbing of ``mt.cuda``: the GPU list, the "no GPU" error and device-index resolution.

Every ``mt.cuda`` function finds the GPUs through :func:`gpus`, which calls :func:`_list` at call time,
so tests can monkeypatch ``_list`` with fake device objects to exercise the GPU code paths on a
CPU-only machine.
"""

from __future__ import annotations

from . import _device

__all__: list[str] = []

_CURRENT = [0]
NOT_COMPILED = "Torch not compiled with CUDA enabled"


class NoCudaError(RuntimeError, AssertionError):
    """Raised by ``mt.cuda`` functions that need a GPU when JAX has none.

    torch's CPU-only build raises ``AssertionError("Torch not compiled with CUDA enabled")``; this class is
    both an AssertionError (as torch) and a RuntimeError (as earlier minitorch_jax versions), and its
    message starts with torch's text.
    """


def _list() -> list:
    return _device._local("gpu")


def gpus() -> list:
    """This process's JAX GPU devices ([] when there are none)."""
    return _list()


def no_cuda(name: str = "") -> NoCudaError:
    """The error for ``name`` called without a GPU (torch's message, then what JAX sees)."""
    where = f" ({name}: " if name else " ("
    return NoCudaError(f"{NOT_COMPILED}{where}No CUDA GPUs are available - JAX has no 'gpu' devices; "
                       f"available devices: {_device.available()})")


def check(index: int | None = None, name: str = "") -> list:
    """The GPU list; raises :class:`NoCudaError` without GPUs, RuntimeError for a bad ``index``."""
    devs = gpus()
    if not devs:
        raise no_cuda(name)
    if index is not None and not 0 <= index < len(devs):
        raise RuntimeError(f"CUDA error: invalid device ordinal {index} (this process has {len(devs)} "
                           f"GPU(s); available devices: {_device.available()})")
    return devs


def index(dev, optional: bool = True) -> int:
    """The GPU ordinal named by ``dev`` (int, 'cuda:i', device or None for the current one)."""
    if dev is None:
        return _CURRENT[0]
    if isinstance(dev, bool):
        raise TypeError(f"Expected a cuda device index, but got: {dev!r}")
    if isinstance(dev, int):
        return dev
    d = _device.device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return _CURRENT[0] if d.index is None else d.index


def get(dev=None, name: str = ""):
    """``(index, jax_device)`` of GPU ``dev``; raises as :func:`check`."""
    i = index(dev)
    return i, check(i, name)[i]


def stats(d) -> dict:
    """JAX's allocator statistics of device ``d`` ({} when the backend reports none)."""
    try:
        return d.memory_stats() or {}
    except Exception:  # some backends do not report memory statistics
        return {}


def capability(d) -> tuple[int, int]:
    """``(major, minor)`` compute capability of a JAX GPU device ((0, 0) when not reported)."""
    cc = getattr(d, "compute_capability", None)
    if cc is None:
        return (0, 0)
    if isinstance(cc, (tuple, list)):
        return int(cc[0]), int(cc[1])
    major, _, minor = str(cc).partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return (0, 0)
