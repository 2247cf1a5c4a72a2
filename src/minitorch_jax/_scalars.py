"""Python numbers as device arrays, cached: an op called with ``x * 0.5`` every step then moves
nothing from host to device (on an accelerator each such transfer is a round trip)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from . import _device

__all__ = ["device_scalar"]

_CACHE: dict = {}
_LIMIT = 1024


def device_scalar(v, dtype):
    """``v`` (a Python bool/int/float/complex) as a 0-d array of numpy dtype ``dtype`` on the default
    device; the same value and dtype give the same cached array. NaN and -0.0 (which compare equal to
    other keys or to nothing) are returned as host arrays, uncached."""
    cls = v.__class__
    if (cls is float or cls is complex) and (v != v or (v == 0 and cls is float and math.copysign(1.0, v) < 0)
                                             or (cls is complex and v == 0)):
        return np.asarray(v, dtype)
    key = (cls, v, dtype, _device._DEFAULT[0])
    a = _CACHE.get(key)
    if a is None:
        if len(_CACHE) >= _LIMIT:
            _CACHE.clear()
        with jax.ensure_compile_time_eval():  # a concrete array even when called while tracing
            a = jnp.asarray(np.asarray(v, dtype))
        _CACHE[key] = a
    return a
