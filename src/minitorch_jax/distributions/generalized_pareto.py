"""``GeneralizedPareto(loc, scale, concentration)`` (``torch.distributions.generalized_pareto``).

``concentration`` 0 gives the shifted exponential (handled with ``where``, gradients stay finite);
negative ``concentration`` bounds the support at ``loc - scale / concentration``. ``rsample`` inverts
the cdf at uniform draws.
"""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution with location ``loc``, scale ``scale`` and shape
    ``concentration`` (xi): ``cdf(x) = 1 - (1 + xi z)^(-1/xi)``, ``z = (x - loc) / scale``.

    Args:
        loc (float or Tensor): location. scale (float or Tensor): scale (> 0).
        concentration (float or Tensor): shape xi. validate_args (bool, optional): check values.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        c = self.concentration
        upper = mt.where(c < 0, self.loc - self.scale / c, mt.full_like(c, float("inf")))
        return constraints.interval(self.loc, upper)

    def _z(self, value):
        return (value - self.loc) / self.scale

    def _safe_conc(self):
        zero = mt.isclose(self.concentration, mt.zeros_like(self.concentration))
        return zero, mt.where(zero, mt.ones_like(self.concentration), self.concentration)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = mt.rand(shape, dtype=self.loc.dtype)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, c = self._safe_conc()
        y = 1 / c + 1
        nonzero = mt.where(y == 0, y, y * mt.log1p(c * z))
        return -self.scale.log() - mt.where(zero, z, nonzero)

    def log_survival_function(self, value):
        """``log(1 - cdf(value))``."""
        z = self._z(value)
        zero, c = self._safe_conc()
        return mt.where(zero, -z, -mt.log1p(c * z) / c)

    def log_cdf(self, value):
        """``log(cdf(value))``."""
        return mt.log1p(-mt.exp(self.log_survival_function(value)))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -mt.expm1(self.log_survival_function(value))

    def icdf(self, value):
        zero, c = self._safe_conc()
        log1m = mt.log1p(-value)
        z = mt.where(zero, -log1m, mt.expm1(-c * log1m) / c)
        return self.loc + self.scale * z

    @property
    def mean(self):
        c = self.concentration
        return mt.where(c < 1, self.loc + self.scale / (1 - c), mt.full_like(c, float("inf")))

    @property
    def variance(self):
        c = self.concentration
        var = self.scale.pow(2) / ((1 - c).pow(2) * (1 - 2 * c))
        return mt.where(c < 0.5, var, mt.full_like(c, float("inf")))

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        return self.scale.log() + self.concentration + 1

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        shape = tuple(batch_shape)
        GeneralizedPareto.__init__(new, self.loc.expand(shape), self.scale.expand(shape),
                                   self.concentration.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new


_ = math
