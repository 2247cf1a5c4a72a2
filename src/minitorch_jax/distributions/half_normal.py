"""``HalfNormal(scale)``: ``|X|`` for ``X ~ Normal(0, scale)`` (``torch.distributions.half_normal``)."""

from __future__ import annotations

import math

from .folded import _HalfDistribution
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(_HalfDistribution):
    """The half-normal distribution: the absolute value of a centred normal.

    Args:
        scale (float or Tensor): scale of the underlying normal (> 0).
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    base_cls = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)
