"""Float32 matmul precision, as ``torch.set_float32_matmul_precision``.

torch computes float32 matmuls and convolutions in full float32 by default; JAX on GPU/TPU would
use TF32/bf16 passes. Ops registered with ``precision=True`` get ``KEY[0]`` appended to their
static arguments (``precision=`` with jax's name for the level), so the default here is full
precision everywhere and a change of level selects other compiled kernels.
"""

from __future__ import annotations

import warnings

__all__ = ["set_float32_matmul_precision", "get_float32_matmul_precision"]

_state = ["highest"]
# what ops receive as ``precision=`` (and what goes into their cache keys): jax's own names, whose
# hashes Python caches - cheaper per call than hashing a Precision enum member
_XLA_NAME = {"highest": "highest", "high": "high", "medium": "default"}
KEY = [(("precision", "highest"),)]


def set_float32_matmul_precision(precision: str) -> None:
    """Set the internal precision of float32 matmuls/convolutions.

    Args:
        precision: "highest" (full float32, the default), "high" (TF32 or 3-pass bf16) or
            "medium" (one bf16 pass) - lower is faster on GPU/TPU, the same on CPU.
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, got {type(precision).__name__}")
    if precision not in _XLA_NAME:
        # torch warns and keeps the current setting
        warnings.warn(f"set_float32_matmul_precision: unknown precision {precision!r} (expected 'highest', "
                      f"'high' or 'medium'); keeping {_state[0]!r}", UserWarning, stacklevel=2)
        return
    _state[0] = precision
    KEY[0] = (("precision", _XLA_NAME[precision]),)


def get_float32_matmul_precision() -> str:
    """The current float32 matmul precision name ("highest", "high" or "medium")."""
    return _state[0]

