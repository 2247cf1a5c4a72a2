"""``mt.backends.openmp``: OpenMP is not a library mt calls (XLA has its own CPU kernels)."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """Whether OpenMP can be used by mt: always False (XLA compiles its own CPU kernels)."""
    return False
