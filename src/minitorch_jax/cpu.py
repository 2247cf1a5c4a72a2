"""``mt.cpu``: torch.cpu's device functions for the host, and ``mt.cpu.amp``."""

from __future__ import annotations

import sys

from .amp.device_amp import make as _make_amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp", "Stream", "Event",
           "StreamContext", "stream", "current_stream", "set_device", "is_initialized", "get_capabilities"]


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


class Stream:
    """``torch.cpu.Stream``: there for device-agnostic code (the host has one stream); its methods do
    nothing."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream) -> None:
        """Nothing to wait for."""

    def record_event(self) -> None:
        """Nothing to record."""

    def wait_event(self, event) -> None:
        """Nothing to wait for."""


class Event:
    """``torch.cpu.Event``: there for device-agnostic code; always complete."""

    def query(self) -> bool:
        """True: the host has nothing pending."""
        return True

    def record(self, stream=None) -> None:
        """Nothing to record."""

    def synchronize(self) -> None:
        """Nothing to wait for."""

    def wait(self, stream=None) -> None:
        """Nothing to wait for."""


_DEFAULT_STREAM = Stream()
_CURRENT = [_DEFAULT_STREAM]


def current_stream(device=None) -> Stream:
    """The stream :func:`stream` selected (a default one otherwise)."""
    return _CURRENT[0]


class StreamContext:
    """``with mt.cpu.stream(s):`` makes ``s`` the :func:`current_stream` inside the block (None: no
    change)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.prev_stream = _DEFAULT_STREAM

    def __enter__(self):
        if self.stream is not None:
            self.prev_stream = _CURRENT[0]
            _CURRENT[0] = self.stream

    def __exit__(self, *exc) -> None:
        if self.stream is not None:
            _CURRENT[0] = self.prev_stream


def stream(stream) -> StreamContext:
    """A :class:`StreamContext` selecting ``stream``."""
    return StreamContext(stream)


def set_device(device) -> None:
    """Nothing to set: there is one host device."""


def is_initialized() -> bool:
    """Always True."""
    return True


_FLAG_NAMES = {"fma": "fma3", "avx512f": "avx512_f", "avx512bw": "avx512_bw", "avx512cd": "avx512_cd",
               "avx512dq": "avx512_dq", "avx512vl": "avx512_vl", "avx512_bf16": "avx512_bf16",
               "avx512_fp16": "avx512_fp16", "avx512_vnni": "avx512_vnni", "avx512vbmi": "avx512_vbmi",
               "avx512_vbmi2": "avx512_vbmi2", "avx512ifma": "avx512_ifma", "avx512_bitalg": "avx512_bitalg",
               "avx512_vpopcntdq": "avx512_vpopcntdq", "avx_vnni": "avx_vnni", "amx_bf16": "amx_bf16",
               "amx_tile": "amx_tile", "amx_int8": "amx_int8", "pni": "sse3", "ssse3": "ssse3",
               "sse4_1": "sse4_1", "sse4_2": "sse4_2", "sse4a": "sse4a", "sse": "sse", "sse2": "sse2",
               "avx": "avx", "avx2": "avx2", "f16c": "f16c", "popcnt": "popcnt", "bmi1": "bmi",
               "bmi2": "bmi2", "abm": "lzcnt", "aes": "aes", "sha_ni": "sha", "clflush": "clflush",
               "clflushopt": "clflushopt", "clwb": "clwb", "fma4": "fma4"}


def get_capabilities() -> dict:
    """What the host CPU offers, in torch's keys: ``architecture``, ``cpu_name``, ``num_logical_cores``
    and one boolean per instruction-set extension torch reports (``avx2``, ``avx512_f``, ``amx_bf16``
    ...), read from ``/proc/cpuinfo`` where there is one."""
    import os
    import platform
    caps: dict = {"architecture": platform.machine(), "num_logical_cores": os.cpu_count() or 1}
    flags: set = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and "cpu_name" not in caps:
                    caps["cpu_name"] = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    caps.setdefault("cpu_name", platform.processor() or platform.machine())
    for flag, name in _FLAG_NAMES.items():
        caps[name] = flag in flags
    return caps


amp = _make_amp("cpu")
sys.modules[__name__ + ".amp"] = amp
