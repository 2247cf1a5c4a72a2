"""``mt.backends.mps``: Apple's Metal backend is not a JAX backend mt uses: never available."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Whether the MPS backend can be used: always False (JAX runs on CPU, CUDA GPUs and TPUs here)."""
    return False


def is_built() -> bool:
    """Whether MPS support was built in: always False."""
    return False
