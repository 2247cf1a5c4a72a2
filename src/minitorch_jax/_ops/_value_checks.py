"""Data-dependent argument checks that torch's CPU kernels make: a class index out of range, a
probability outside [0, 1], a negative variance.

They need the values on the host, so they run only for concrete tensors on the CPU, where reading
one flag back costs little. On an accelerator they would cost a device sync per call (torch's CUDA
kernels do not raise there either: they fail later with a device-side assert), and under ``mt.jit``
there are no values to check. Each runs after the op itself (whose shape and dtype errors come first):
class indices in numpy on the host array (they come ready from the data pipeline, so nothing waits), a
computed input (probabilities, variances) by one small cached XLA reduction read back as a flag.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import OpIndexError
from .._random import _not_host
from .._tensor import Tensor


def on_host(t) -> bool:
    """True when ``t`` is a concrete, non-empty tensor on the CPU: its values can be checked cheaply
    (a tracer or a meta tensor's array is "not on the host")."""
    d = t._data if isinstance(t, Tensor) else t
    if isinstance(d, jax.core.Tracer):  # (first: a symbolic size cannot be compared with 0)
        return False
    return getattr(d, "size", 0) > 0 and not _not_host(d)


def check_class_indices(op: str, target, num_classes: int, ignore_index=None, exc=OpIndexError,
                        message="Target {} is out of bounds.", low: int = 0) -> None:
    """Raise ``exc`` for the first entry of ``target`` outside ``[low, num_classes)``
    (``ignore_index`` excepted), as torch's CPU kernels do: torch's ``message`` (formatted with the
    value), then the valid range.

    Checked in numpy on the host array: targets usually come ready from the data pipeline, so this
    neither dispatches a kernel nor waits for the step's computation (about 2 us for a batch).
    """
    if not on_host(target) or jnp.issubdtype(target._data.dtype, jnp.inexact):
        return
    h = np.asarray(target._data)
    if h.min() >= low and h.max() < num_classes:
        return
    bad = (h < low) | (h >= num_classes)
    if ignore_index is not None:
        bad &= h != ignore_index
    if not bad.any():
        return
    value = int(h[bad].flat[0])
    also = f" or equal ignore_index ({int(ignore_index)})" if ignore_index is not None else ""
    got = "" if "{}" in message else f", got {value}"
    raise exc(f"{op}(): {message.format(value)} Class indices must lie in [{low}, {num_classes}){also}{got}.")


@jax.jit
def _outside_unit(x):
    return jnp.any(~((x >= 0) & (x <= 1)))  # NaN counts as outside, as torch's check


def check_probabilities(op: str, input, exc, message: str) -> None:
    """Raise ``exc`` (naming ``op``) if an entry of ``input`` is outside [0, 1] or NaN."""
    if on_host(input) and bool(_outside_unit(input._data)):
        raise exc(f"{op}(): {message}")


@jax.jit
def _any_negative(x):
    return jnp.any(x < 0)


def check_nonnegative(op: str, t, exc, message: str) -> None:
    """Raise ``exc`` (naming ``op``) if an entry of ``t`` is negative."""
    if on_host(t) and bool(_any_negative(t._data if isinstance(t, Tensor) else t)):
        raise exc(f"{op}(): {message}")
