"""``Exponential(rate)`` (``torch.distributions.exponential``)."""

from __future__ import annotations

import jax

import minitorch_jax as mt

from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, jax_sample

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """The exponential distribution with density ``rate * exp(-rate * x)`` on ``x >= 0``.

    Args:
        rate (float or Tensor): rate (1 / scale), > 0.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -mt.log(-x)

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return mt.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        eps = jax_sample(lambda k: jax.random.exponential(k, shape, self.rate.dtype.np), self.rate.dtype)
        return eps / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - mt.exp(-self.rate * value)

    def icdf(self, value):
        return -mt.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - mt.log(self.rate)
