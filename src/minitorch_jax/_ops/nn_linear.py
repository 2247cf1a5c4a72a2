"""nn.functional kernels: ``linear`` and ``bilinear`` (one fused dispatch each, bias included)."""

from __future__ import annotations

import jax.numpy as jnp

from .._errors import ShapeError
from ._helpers import A, Sample
from ._registry import register
from .linalg import prec, same_dtype


def _linear_samples():
    return [Sample(A(4, 3), A(5, 3), A(5)), Sample(A(3), A(5, 3), A(5)), Sample(A(2, 4, 3), A(5, 3)),
            Sample(A(4, 3, dtype="float64"), A(2, 3, dtype="float64"), A(2, dtype="float64")),
            Sample(A(4, 3), A(3)), Sample(A(4, 3), A(5, 3), A(1)), Sample(A(4, 3), A(5, 2), A(5)),
            Sample(A(4, 3), A(5, 3, dtype="float64"), A(5)),
            Sample(A(0, 3), A(5, 3), A(5))]


@register("linear", nin=3, precision=True, functional=True, method=False, function=False, saves=(0, 1),
          torch_name="nn.functional.linear", grad_name="AddmmBackward0", samples=_linear_samples)
def linear(input, weight, bias=None, *, precision=None):
    """``y = x @ weight.T + bias``.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)`` (or 1-D
    ``(in_features,)``), bias ``(out_features,)`` or broadcastable; output ``(*, out_features)``.
    """
    if weight.ndim not in (1, 2):
        raise ShapeError(f"linear(): weight must be 1-D or 2-D, got shape {list(weight.shape)}")
    in_w = weight.shape[-1]
    if input.ndim == 0 or input.shape[-1] != in_w:
        raise ShapeError(
            f"linear(): input shape {list(input.shape)} and weight shape {list(weight.shape)} cannot be "
            f"multiplied (the last dim of the input must be in_features={in_w})")
    same_dtype("linear", *(a for a in (input, weight, bias) if a is not None))
    y = jnp.matmul(input, weight.T if weight.ndim == 2 else weight, precision=prec(input, precision))
    return y if bias is None else y + bias


def _bilinear_samples():
    return [Sample(A(4, 3), A(4, 2), A(5, 3, 2), A(5)), Sample(A(4, 3), A(4, 2), A(5, 3, 2)),
            Sample(A(2, 4, 3), A(2, 4, 2), A(5, 3, 2), A(5)),
            Sample(A(4, 3, dtype="float64"), A(4, 2, dtype="float64"), A(1, 3, 2, dtype="float64")),
            Sample(A(4, 3), A(3, 2), A(5, 3, 2), A(5))]


@register("bilinear", nin=4, precision=True, functional=True, method=False,
          grad_name="AddBackward0", samples=_bilinear_samples)
def bilinear(input1, input2, weight, bias=None, *, precision=None):
    """``y[..., o] = sum_ij x1[..., i] * weight[o, i, j] * x2[..., j] + bias[o]``.

    Shapes: input1 ``(*, in1)``, input2 ``(*, in2)`` (same leading dims), weight
    ``(out, in1, in2)``, bias ``(out,)``; output ``(*, out)``.
    """
    if weight.ndim != 3 or input1.shape[-1:] != weight.shape[1:2] or input2.shape[-1:] != weight.shape[2:]:
        raise ShapeError(
            f"bilinear(): input1 shape {list(input1.shape)} and input2 shape {list(input2.shape)} do not "
            f"match weight shape {list(weight.shape)} (expected weight (out, in1, in2) with "
            f"in1 = input1.shape[-1], in2 = input2.shape[-1])")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear(): input1 and input2 must have the same leading dimensions, got "
                         f"{list(input1.shape)} and {list(input2.shape)}")
    same_dtype("bilinear", *(a for a in (input1, input2, weight, bias) if a is not None))
    y = jnp.einsum("...i,oij,...j->...o", input1, weight, input2, precision=prec(input1, precision))
    return y if bias is None else y + bias
