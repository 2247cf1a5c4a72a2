"""``NegativeBinomial(total_count, probs=None, logits=None)`` (``torch.distributions.negative_binomial``):
the number of successes (probability ``probs``) before ``total_count`` failures. Samples are drawn as a
gamma-Poisson mixture. ``entropy`` is not implemented (as in torch)."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from ._standard_gamma import standard_gamma
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    """The negative binomial distribution.

    Args:
        total_count (float or Tensor): number of failures before stopping (>= 0; need not be integer).
        probs (Tensor): success probability in ``[0, 1)``. logits (Tensor): its log-odds.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer
    _expand_params = ("total_count", "probs", "logits", "_param")

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """Log-odds of success."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """Probability of success."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._param.shape

    @property
    def mean(self):
        return self.total_count * mt.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / mt.sigmoid(-self.logits)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with mt.no_grad():
            # rate ~ Gamma(total_count, scale=exp(logits)), then Poisson(rate)
            rate = standard_gamma(self.total_count.detach(), shape) * self.logits.detach().exp()
            return mt.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logsig = mt.nn.functional.logsigmoid
        r = self.total_count
        unnorm = r * logsig(-self.logits) + value * logsig(self.logits)
        norm = -mt.lgamma(r + value) + mt.lgamma(1.0 + value) + mt.lgamma(r)
        norm = mt.where(r + value == 0.0, mt.zeros_like(norm), norm)  # the 0 ** 0 case
        return unnorm - norm
