"""``Uniform(low, high)``: the continuous uniform distribution on ``[low, high)``
(``torch.distributions.uniform``)."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """Uniform samples on the half-open interval ``[low, high)``.

    Args:
        low (float or Tensor): lower bound (inclusive). high (float or Tensor): upper bound (exclusive).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    has_rsample = True
    _param_names = ("low", "high")

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    def __repr__(self):
        return (f"Uniform(low: {self.low.item() if self.low.numel() == 1 else self.low.shape}, "
                f"high: {self.high.item() if self.high.numel() == 1 else self.high.shape})")

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return mt.full_like(self.high, float("nan"))

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rand = mt.rand(shape, dtype=self.low.dtype)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        return mt.log(lb * ub) - mt.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return mt.log(self.high - self.low)
