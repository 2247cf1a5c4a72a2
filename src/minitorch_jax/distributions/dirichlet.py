"""``Dirichlet(concentration)`` (``torch.distributions.dirichlet``); ``rsample`` is reparameterized
(normalized gamma draws with jax's implicit gradient)."""

from __future__ import annotations

import minitorch_jax as mt

from .._tensor import Tensor
from . import constraints
from ._standard_gamma import standard_gamma
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution over the probability simplex, parameterized by ``concentration``.

    Args:
        concentration (Tensor): concentration parameters, shape ``batch_shape + (K,)``, > 0.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return mt.lgamma(x).sum(-1) - mt.lgamma(x.sum(-1))

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor) or concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = self.concentration
        m = (c - 1).clamp(min=0.0)
        m = m / m.sum(-1, keepdim=True)
        all_small = (c < 1).all(dim=-1, keepdim=True)
        onehot = mt.nn.functional.one_hot(c.argmax(dim=-1), c.shape[-1]).to(c.dtype)
        return mt.where(all_small, onehot, m)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        g = standard_gamma(self.concentration, shape)
        fi = mt.finfo(g.dtype)
        return (g / g.sum(-1, keepdim=True)).clamp(min=fi.tiny, max=1 - fi.eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return mt.xlogy(c - 1.0, value).sum(-1) + mt.lgamma(c.sum(-1)) - mt.lgamma(c).sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (mt.lgamma(c).sum(-1) - mt.lgamma(a0) - (k - a0) * mt.digamma(a0)
                - ((c - 1.0) * mt.digamma(c)).sum(-1))
