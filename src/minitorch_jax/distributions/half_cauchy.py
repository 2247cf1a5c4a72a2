"""``HalfCauchy(scale)``: ``|X|`` for ``X ~ Cauchy(0, scale)`` (``torch.distributions.half_cauchy``)."""

from __future__ import annotations

import math

import minitorch_jax as mt

from .cauchy import Cauchy
from .folded import _HalfDistribution

__all__ = ["HalfCauchy"]


class HalfCauchy(_HalfDistribution):
    """The half-Cauchy distribution: the absolute value of a centred Cauchy.

    Args:
        scale (float or Tensor): scale of the underlying Cauchy (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    base_cls = Cauchy

    @property
    def mean(self):
        return mt.full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self):
        return self.base_dist.variance
