"""Data-dependent argument checks that torch's CPU kernels make: a class index out of range, a
probability outside [0, 1], a negative variance.

They need the values on the host, so they run only for concrete tensors on the CPU, where reading
one flag back costs little. On an accelerator they would cost a device sync per call (torch's CUDA
kernels do not raise there either: they fail later with a device-side assert), and under ``mt.jit``
there are no values to check. Each check is one small cached XLA program returning a flag and the
first offending value, run after the op itself (whose shape and dtype errors come first).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from .._errors import OpIndexError
from .._tensor import Tensor


def on_host(t) -> bool:
    """True when ``t`` is a concrete tensor on the CPU: its values can be checked cheaply."""
    d = t._data if isinstance(t, Tensor) else t
    if isinstance(d, jax.core.Tracer) or not hasattr(d, "devices") or d.size == 0:
        return False
    try:
        return next(iter(d.devices())).platform == "cpu"
    except Exception:  # a deleted or otherwise unreadable array: nothing to check
        return False


@partial(jax.jit, static_argnums=(1, 2, 3))
def _first_bad_class(t, low, high, ignore_index):
    flat = t.reshape(-1).astype(jnp.int64)
    bad = (flat < low) | (flat >= high)
    if ignore_index is not None:
        bad = bad & (flat != ignore_index)
    return jnp.any(bad), flat[jnp.argmax(bad)]


def check_class_indices(op: str, target, num_classes: int, ignore_index=None, exc=OpIndexError,
                        message="Target {} is out of bounds.", low: int = 0) -> None:
    """Raise ``exc`` for the first entry of ``target`` outside ``[low, num_classes)``
    (``ignore_index`` excepted), as torch's CPU kernels do: torch's ``message`` (formatted with the
    value), then the valid range."""
    if not on_host(target) or jnp.issubdtype(target._data.dtype, jnp.inexact):
        return
    ii = None if ignore_index is None else int(ignore_index)
    any_bad, value = _first_bad_class(target._data, int(low), int(num_classes), ii)
    if bool(any_bad):
        bad = int(value)
        also = f" or equal ignore_index ({ii})" if ii is not None else ""
        got = "" if "{}" in message else f", got {bad}"
        raise exc(f"{op}(): {message.format(bad)} Class indices must lie in [{low}, {num_classes}){also}"
                  f"{got}.")


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
