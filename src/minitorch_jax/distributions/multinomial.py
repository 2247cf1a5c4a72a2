"""``Multinomial(total_count=1, probs=None, logits=None)`` (``torch.distributions.multinomial``):
counts of ``total_count`` draws from a categorical distribution. ``total_count`` must be one int
(as in torch); ``sample`` needs it, ``log_prob`` does not."""

from __future__ import annotations

import minitorch_jax as mt

from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """The multinomial distribution over count vectors summing to ``total_count``.

    Args:
        total_count (int): number of trials. probs (Tensor): event probabilities ``(..., K)``.
        logits (Tensor): event log probabilities ``(..., K)``.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = mt.Size(tuple(batch_shape))
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        """Normalized log probabilities."""
        return self._categorical.logits

    @property
    def probs(self):
        """Normalized probabilities."""
        return self._categorical.probs

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        sample_shape = mt.Size(tuple(sample_shape))
        draws = self._categorical.sample(mt.Size((self.total_count,)) + sample_shape)  # (n, *shape)
        k = self._categorical._num_events
        counts = mt.nn.functional.one_hot(draws, k).sum(0)
        return counts.to(self.probs.dtype)

    def entropy(self):
        n = mt.tensor(float(self.total_count), dtype=self.probs.dtype)
        cat_entropy = self._categorical.entropy()
        support = self._binomial.enumerate_support(expand=False)[1:]  # 1 .. n
        binomial_probs = mt.exp(self._binomial.log_prob(support))
        weights = mt.lgamma(support + 1)
        return n * cat_entropy - mt.lgamma(n + 1) + (binomial_probs * weights).sum([0, -1])

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits = self.logits
        shape = tuple(mt.broadcast_shapes(tuple(logits.shape), tuple(value.shape)))
        logits = logits.expand(shape)
        value = value.expand(shape)
        logits = mt.where((value == 0) & (logits == -float("inf")), mt.zeros_like(logits), logits)
        log_factorial_n = mt.lgamma(value.sum(-1) + 1)
        log_factorial_xs = mt.lgamma(value + 1).sum(-1)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
