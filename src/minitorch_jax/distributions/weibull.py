"""``Weibull(scale, concentration)`` (``torch.distributions.weibull``): ``scale * E ** (1 / concentration)``
for ``E ~ Exponential(1)``."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from .exponential import Exponential
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .utils import broadcast_all, euler_constant

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    """The two-parameter Weibull distribution, ``P(X > x) = exp(-(x / scale) ** concentration)``.

    Args:
        scale (float or Tensor): scale lambda (> 0). concentration (float or Tensor): shape k (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(mt.ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration_reciprocal),
                      AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        shape = tuple(batch_shape)
        new.__init__(self.scale.expand(shape), self.concentration.expand(shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * mt.exp(mt.lgamma(1 + self.concentration_reciprocal))

    @property
    def mode(self):
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale.pow(2) * (mt.exp(mt.lgamma(1 + 2 * r)) - mt.exp(2 * mt.lgamma(1 + r)))

    def entropy(self):
        return (euler_constant * (1 - self.concentration_reciprocal)
                + mt.log(self.scale * self.concentration_reciprocal) + 1)
