"""When an array may be donated to a compiled call (its memory reused for the outputs): only when
nothing but its tensor and the list handed to the call references it. A second holder - a
``copy.deepcopy`` snapshot, a ``.data`` alias, a view, a raw ``.jax()`` handle - would be left with a
deleted array. Used by mt.jit's state gathering and the optimizers' eager step."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp

_REFS = sys.getrefcount
_UNSHARED = [0]
_PLUS_ONE = jax.jit(lambda x: x + 1)


def ref_counts(arrays) -> list:
    """The reference count of each array in the list ``arrays``."""
    return list(map(_REFS, arrays))


def unshared_count() -> int:
    """What :func:`ref_counts` reports for an array held only by one tensor and the list passed: a
    fresh output of a compiled call (3 with CPython and jax 0.10; measured once, so that a reference JAX
    itself may keep to its outputs is not taken for sharing, which would copy every array each call)."""
    if not _UNSHARED[0]:
        from ._tensor import _wrap
        t = _wrap(_PLUS_ONE(jnp.zeros((2,), jnp.float32)))
        _UNSHARED[0] = ref_counts([t._data])[0]
    return _UNSHARED[0]
