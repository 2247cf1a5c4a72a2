"""Reductions over dims: sums, means, extrema, statistics, scans and logical reductions."""

from __future__ import annotations

import jax.numpy as jnp

from .. import _dtype
from .._errors import DTypeError
from ._helpers import A, B, I, Sample, norm_dims
from ._registry import register

_INT_TO_LONG = {"bool", "int8", "uint8", "int16", "int32"}


def _acc_dtype(x, dtype):
    """torch's result dtype for sum/prod/cumsum: integers and bool accumulate in int64."""
    if dtype is not None:
        return _dtype.to_np(dtype)
    if jnp.dtype(x.dtype).name in _INT_TO_LONG:
        return jnp.dtype(jnp.int64)
    return x.dtype


def _reduce_samples(ints=True, extra=()):
    def samples():
        out = [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), (0, 2), keepdim=True),
               Sample(A(2, 3, 4), -1, True), Sample(A()), Sample(A(5, dtype="float64"), 0),
               Sample(A(0, 3), 0)]
        if ints:
            out += [Sample(I(3, 4)), Sample(I(3, 4, dtype="int32"), 1), Sample(B(3, 4), 0)]
        return out + [s() for s in extra]
    return samples


@register("sum", samples=_reduce_samples(extra=(lambda: Sample(I(3, 4), 1, dtype=_dtype.float64),)))
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    """Sum over ``dim`` (all dims if None); integer inputs sum to int64 as in torch.

    Args:
        dim: an int or a tuple of ints; None reduces everything.
        keepdim: keep reduced dims with size 1.
        dtype: cast the input to this dtype first.
    """
    axes = norm_dims(dim, input.ndim, "sum")
    return jnp.sum(input.astype(_acc_dtype(input, dtype)), axis=axes, keepdims=keepdim)


@register("mean", samples=_reduce_samples(ints=False))
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims if None); needs a floating or complex input (or ``dtype=``)."""
    if dtype is not None:
        input = input.astype(_dtype.to_np(dtype))
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_dtype.from_np(input.dtype).name.capitalize()}")
    axes = norm_dims(dim, input.ndim, "mean")
    return jnp.mean(input, axis=axes, keepdims=keepdim)
