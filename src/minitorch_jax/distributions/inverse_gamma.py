"""``InverseGamma(concentration, rate)`` (``torch.distributions.inverse_gamma``): ``1 / X`` for
``X ~ Gamma(concentration, rate)``, built as a ``TransformedDistribution`` through
``PowerTransform(-1)``."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """The inverse-gamma distribution, density ``rate^a / Gamma(a) x^(-a-1) exp(-rate / x)`` on ``x > 0``.

    Args:
        concentration (float or Tensor): shape ``a`` (> 0). rate (float or Tensor): scale (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = -mt.ones((), dtype=base.rate.dtype)
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        """The shape ``a``."""
        return self.base_dist.concentration

    @property
    def rate(self):
        """The scale ``rate``."""
        return self.base_dist.rate

    @property
    def mean(self):
        a, r = self.concentration, self.rate
        return mt.where(a > 1, r / (a - 1), mt.full_like(a, float("inf")))

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        a, r = self.concentration, self.rate
        var = r.pow(2) / ((a - 1).pow(2) * (a - 2))
        return mt.where(a > 2, var, mt.full_like(a, float("inf")))

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + mt.lgamma(a) - (1 + a) * mt.digamma(a)
