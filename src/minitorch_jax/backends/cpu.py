"""``mt.backends.cpu``: the CPU's vector capability, as ``torch.backends.cpu``."""

from __future__ import annotations

import functools
import platform

__all__ = ["get_cpu_capability"]


@functools.lru_cache(maxsize=1)
def get_cpu_capability() -> str:
    """The widest SIMD extension of this CPU, in torch's names: "AVX512", "AVX2", "SVE256" or "DEFAULT"
    (read from ``/proc/cpuinfo``; "DEFAULT" where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "DEFAULT"
    words = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            words.update(line.split(":", 1)[-1].split())
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= words:
        return "AVX512"
    if "avx2" in words:
        return "AVX2"
    if "sve" in words and platform.machine() in ("aarch64", "arm64"):
        return "SVE256"
    return "DEFAULT"
