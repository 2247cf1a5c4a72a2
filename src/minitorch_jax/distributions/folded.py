"""``_HalfDistribution``: ``|X|`` for a distribution ``X`` symmetric about 0 with a ``scale`` parameter
(the shared part of HalfNormal and HalfCauchy)."""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__: list[str] = []


class _HalfDistribution(TransformedDistribution):
    """``|X|`` for ``X = base_cls(0, scale)``: the density doubles on ``[0, inf)`` (subclasses set
    ``base_cls`` and give ``mean`` and ``variance``)."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base_cls: type

    def __init__(self, scale, validate_args=None):
        base = self.base_cls(0, scale, validate_args=False)
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self):
        """Scale of the underlying symmetric distribution."""
        return self.base_dist.scale

    @property
    def mode(self):
        return mt.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return mt.where(value >= 0, lp, mt.full_like(lp, -math.inf))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
