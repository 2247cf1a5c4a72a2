"""``Beta(concentration1, concentration0)`` (``torch.distributions.beta``); ``rsample`` is
reparameterized (two gamma draws with jax's implicit gradient)."""

from __future__ import annotations

import numbers

import minitorch_jax as mt

from . import constraints
from ._standard_gamma import standard_gamma
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Beta"]


def _lbeta(a, b):
    return mt.lgamma(a) + mt.lgamma(b) - mt.lgamma(a + b)


class Beta(ExponentialFamily):
    """The beta distribution on ``[0, 1]`` with density proportional to ``x^(a-1) (1-x)^(b-1)``.

    Args:
        concentration1 (float or Tensor): a (> 0). concentration0 (float or Tensor): b (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return mt.lgamma(x) + mt.lgamma(y) - mt.lgamma(x + y)

    def __init__(self, concentration1, concentration0, validate_args=None):
        scalar = isinstance(concentration1, numbers.Number) and isinstance(concentration0, numbers.Number)
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(() if scalar else self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        m1, m0 = (a - 1).clamp(min=0.0), (b - 1).clamp(min=0.0)
        mode = m1 / (m1 + m0)
        return mt.where((a < 1) & (b < 1), (a >= b).to(a.dtype), mode)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1, shape)
        y = standard_gamma(self.concentration0, shape)
        fi = mt.finfo(x.dtype)
        return (x / (x + y)).clamp(min=fi.tiny, max=1 - fi.eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return mt.xlogy(a - 1, value) + mt.special.xlog1py(b - 1, -value) - _lbeta(a, b)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (_lbeta(a, b) - (a - 1) * mt.digamma(a) - (b - 1) * mt.digamma(b)
                + (a + b - 2) * mt.digamma(a + b))
