"""``Gumbel(loc, scale)`` (``torch.distributions.gumbel``), written directly (not as a
TransformedDistribution): same densities, moments and samples' law."""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, euler_constant

__all__ = ["Gumbel"]


class Gumbel(Distribution):
    """The Gumbel (type-I extreme value) distribution with location ``loc`` and scale ``scale``.

    Args:
        loc (float or Tensor): location. scale (float or Tensor): scale (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        fi = mt.finfo(self.loc.dtype)
        u = mt.rand(shape, dtype=self.loc.dtype).clamp(min=fi.tiny, max=1 - fi.eps)
        return self.loc - self.scale * mt.log(-mt.log(u))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -(self.scale.log() + z + mt.exp(-z))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return mt.exp(-mt.exp(-(value - self.loc) / self.scale))

    def icdf(self, value):
        return self.loc - self.scale * mt.log(-mt.log(value))

    def entropy(self):
        return self.scale.log() + (1 + euler_constant)
