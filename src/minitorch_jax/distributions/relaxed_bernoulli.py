"""``RelaxedBernoulli(temperature, probs=None, logits=None)`` and its logit-space base
``LogitRelaxedBernoulli`` (``torch.distributions.relaxed_bernoulli``): the Concrete / Gumbel-softmax
relaxation of a Bernoulli, with reparameterized samples in ``(0, 1)``.

``RelaxedBernoulli`` is ``LogitRelaxedBernoulli`` through a ``SigmoidTransform``, as in torch.
"""

from __future__ import annotations

import numbers

import minitorch_jax as mt

from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(Distribution):
    """The logit of a relaxed Bernoulli sample: ``(logit(u) + logits) / temperature``, ``u ~ U(0, 1)``.

    Args:
        temperature (Tensor): relaxation temperature (> 0).
        probs (Number, Tensor): probability of 1. logits (Number, Tensor): its log-odds.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True
    _expand_params = ("probs", "logits", "_param")

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = () if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """Log-odds of 1."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """Probability of 1."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._param.shape

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        u = clamp_probs(mt.rand(shape, dtype=probs.dtype))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        t = self.temperature if isinstance(self.temperature, mt.Tensor) else mt.tensor(self.temperature)
        return t.log() + diff - 2 * diff.exp().log1p()

    def __repr__(self):
        return Distribution.__repr__(self)


class RelaxedBernoulli(TransformedDistribution):
    """A relaxed Bernoulli on ``(0, 1)``: ``sigmoid`` of a ``LogitRelaxedBernoulli`` sample;
    low ``temperature`` pushes samples towards 0/1. ``rsample`` is differentiable in ``probs``/``logits``.

    Args:
        temperature (Tensor): relaxation temperature (> 0).
        probs (Number, Tensor): probability of 1. logits (Number, Tensor): its log-odds.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.

    Example::

        >>> m = RelaxedBernoulli(mt.tensor([2.2]), mt.tensor([0.1, 0.2, 0.3, 0.99]))
        >>> m.rsample().shape   # (4,)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    @property
    def temperature(self):
        """The relaxation temperature."""
        return self.base_dist.temperature

    @property
    def logits(self):
        """Log-odds of 1."""
        return self.base_dist.logits

    @property
    def probs(self):
        """Probability of 1."""
        return self.base_dist.probs

    def __repr__(self):
        return "RelaxedBernoulli()"
