"""Helpers shared by the op families: trace-time checks in torch's words, and sample makers.

The checks run while JAX traces an op (shapes are static then), so they cost nothing per call.
"""

from __future__ import annotations

import numpy as np

from .._errors import OpIndexError, ShapeError
from ._registry import Sample

__all__ = ["broadcast_check", "broadcast_shape", "norm_dim", "norm_dims", "A", "P", "I", "B", "Sample",
           "BIN_SHAPES"]


def broadcast_check(op: str, *arrays) -> tuple:
    """The broadcast shape of ``arrays``; raises torch's size-mismatch error naming ``op``."""
    return broadcast_shape(op, *(getattr(a, "shape", ()) for a in arrays if a is not None))


def broadcast_shape(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes`` (tuples); raises torch's size-mismatch error naming ``op``."""
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        for i in range(1, len(s) + 1):
            d = s[-i]
            if d == 1:
                continue
            if out[-i] != 1 and out[-i] != d:
                a_idx = next(j for j, t in enumerate(shapes) if len(t) >= i and t[-i] == out[-i])
                raise ShapeError(
                    f"{op}(): The size of tensor a ({out[-i]}) must match the size of tensor b "
                    f"({d}) at non-singleton dimension {nd - i} (shapes "
                    f"{list(shapes[a_idx])} and {list(s)})")
            out[-i] = d
    return tuple(out)


def norm_dim(dim, ndim: int, op: str = "") -> int:
    """Normalise a possibly negative dim; torch's IndexError when out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise OpIndexError(f"{op}(): dim must be an int, got {dim!r}")
    if dim < lo or dim > hi:
        raise OpIndexError(
            f"{op}(): Dimension out of range (expected to be in range of [{lo}, {hi}], but got "
            f"{dim})")
    return int(dim) % ndim if ndim else 0


def norm_dims(dim, ndim: int, op: str = "") -> tuple | None:
    """Normalise ``dim`` (None, an int or a sequence) to a sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        axes = tuple(norm_dim(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"{op}(): dim {list(dim)} appears multiple times in the list of dims")
        return axes if ndim else ()
    return (norm_dim(dim, ndim, op),) if ndim else ()


_rng = np.random.default_rng(1234)


def reseed(name: str) -> None:
    """Reset the sample generator from an op's name, so each op's samples are stable on their own."""
    global _rng
    import zlib
    _rng = np.random.default_rng(zlib.crc32(name.encode()))

BIN_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((5, 1), (1, 6)), ((), (3,)), ((0, 3), (3,))]


def A(*shape, dtype="float32", low=-2.0, high=2.0):
    """A random float array of ``shape`` (for samples)."""
    return _rng.uniform(low, high, size=shape).astype(dtype)


def P(*shape, dtype="float32", low=0.5, high=2.0):
    """A random positive float array."""
    return _rng.uniform(low, high, size=shape).astype(dtype)


def I(*shape, dtype="int64", low=-5, high=6):  # noqa: E743
    """A random integer array."""
    return _rng.integers(low, high, size=shape).astype(dtype)


def B(*shape):
    """A random boolean array."""
    return _rng.random(size=shape) > 0.5
