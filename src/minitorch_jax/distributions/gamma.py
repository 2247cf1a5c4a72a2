"""``Gamma(concentration, rate)`` and ``Chi2(df)`` (``torch.distributions.gamma`` / ``chi2``).

``rsample`` is reparameterized through jax's implicit gamma gradient (see ``_standard_gamma``).
"""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from ._standard_gamma import standard_gamma
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma", "Chi2"]


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate``.

    Args:
        concentration (float or Tensor): shape alpha (> 0). rate (float or Tensor): rate beta (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return mt.lgamma(x + 1) + (x + 1) * mt.log(-y.reciprocal())

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration, shape) / self.rate
        return value.clamp(min=mt.finfo(value.dtype).tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return mt.xlogy(c, r) + mt.xlogy(c - 1, value) - r * value - mt.lgamma(c)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return mt.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - mt.log(self.rate) + mt.lgamma(c) + (1.0 - c) * mt.digamma(c)


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom: ``Gamma(df / 2, 1 / 2)``.

    Args:
        df (float or Tensor): degrees of freedom (> 0).
    """

    arg_constraints = {"df": constraints.positive}
    _expand_params = ("concentration", "rate")

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, mt.full_like(df, 0.5), validate_args=validate_args)

    @property
    def df(self):
        """Degrees of freedom."""
        return self.concentration * 2
