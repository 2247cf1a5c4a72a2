"""``LogisticNormal(loc, scale)`` (``torch.distributions.logistic_normal``): a ``Normal`` pushed onto
the simplex by ``StickBreakingTransform`` (event size ``K + 1`` for ``K`` normal coordinates)."""

from __future__ import annotations

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """The logistic-normal distribution over the simplex.

    Args:
        loc (float or Tensor): mean of the base normal, shape ``batch_shape + (K,)``.
        scale (float or Tensor): its standard deviation (> 0). validate_args (bool, optional).
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand([1])
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        """``loc`` of the base normal."""
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        """``scale`` of the base normal."""
        return self.base_dist.base_dist.scale
