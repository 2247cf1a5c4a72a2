"""``StudentT(df, loc=0., scale=1.)`` (``torch.distributions.studentT``); ``rsample`` is
reparameterized (normal over the root of a chi-squared draw with jax's implicit gamma gradient)."""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from ._standard_gamma import standard_gamma
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t-distribution with ``df`` degrees of freedom, location ``loc`` and scale ``scale``.

    Args:
        df (float or Tensor): degrees of freedom (> 0). loc (float or Tensor): location.
        scale (float or Tensor): scale (> 0). validate_args (bool, optional): check the parameters.
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self):
        return mt.where(self.df > 1, self.loc, mt.full_like(self.loc, float("nan")))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        safe = mt.where(df > 2, df, mt.full_like(df, 3.0))
        v = self.scale.pow(2) * safe / (safe - 2)
        v = mt.where(df > 2, v, mt.full_like(v, float("inf")))
        return mt.where(df <= 1, mt.full_like(v, float("nan")), v)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = mt.randn(shape, dtype=self.df.dtype)
        z = 2 * standard_gamma(0.5 * self.df, shape)  # chi-squared(df)
        y = x * mt.rsqrt(z / self.df)
        return self.loc + self.scale * y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi)
             + mt.lgamma(0.5 * df) - mt.lgamma(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * mt.log1p(y ** 2 / df) - z

    def entropy(self):
        df = self.df
        lbeta = mt.lgamma(0.5 * df) + math.lgamma(0.5) - mt.lgamma(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1) * (mt.digamma(0.5 * (df + 1)) - mt.digamma(0.5 * df))
                + 0.5 * df.log() + lbeta)
