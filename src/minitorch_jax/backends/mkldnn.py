"""``mt.backends.mkldnn``: oneDNN (MKL-DNN) is not a library mt calls (XLA has its own CPU kernels)."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """Whether oneDNN (MKL-DNN) can be used by mt: always False (XLA compiles its own CPU kernels)."""
    return False


#: torch's switch for oneDNN kernels; recorded only (assigning it changes nothing here)
enabled = True
