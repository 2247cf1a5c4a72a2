"""``Kumaraswamy(concentration1, concentration0)`` (``torch.distributions.kumaraswamy``): density
``a b x^(a-1) (1 - x^a)^(b-1)`` on ``[0, 1]``; samples ``(1 - U^(1/b))^(1/a)`` for ``U ~ Uniform(0, 1)``."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moments(a, b, n):
    """``E[X^n] = b * B(1 + n / a, b)``."""
    arg1 = 1 + n / a
    return mt.exp(mt.log(b) + mt.lgamma(arg1) + mt.lgamma(b) - mt.lgamma(arg1 + b))


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution (a Beta-like distribution with a closed-form cdf).

    Args:
        concentration1 (float or Tensor): a (> 0). concentration0 (float or Tensor): b (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base = Uniform(mt.zeros_like(self.concentration0), mt.ones_like(self.concentration0),
                       validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        shape = tuple(batch_shape)
        new.__init__(self.concentration1.expand(shape), self.concentration0.expand(shape),
                     validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        log_mode = a.reciprocal() * (mt.log(a - 1) - mt.log(a * b - 1))
        return mt.where((a < 1) | (b < 1), mt.full_like(log_mode, float("nan")), log_mode.exp())

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        return _moments(a, b, 2) - _moments(a, b, 1).pow(2)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t1 = 1 - a.reciprocal()
        t0 = 1 - b.reciprocal()
        h_b = mt.digamma(b + 1) + euler_constant  # harmonic number of b
        return t0 + t1 * h_b - mt.log(a) - mt.log(b)
