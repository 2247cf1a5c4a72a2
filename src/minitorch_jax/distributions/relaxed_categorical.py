"""``RelaxedOneHotCategorical(temperature, probs=None, logits=None)`` and its log-space base
``ExpRelaxedCategorical`` (``torch.distributions.relaxed_categorical``): the Concrete /
Gumbel-softmax relaxation of a one-hot categorical, with reparameterized samples on the simplex.

``RelaxedOneHotCategorical`` is ``ExpRelaxedCategorical`` through an ``ExpTransform``, as in torch.
"""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import clamp_probs

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a relaxed one-hot categorical sample:
    ``log_softmax((logits + gumbel) / temperature)``, of event shape ``(K,)``.

    Args:
        temperature (Tensor): relaxation temperature (> 0).
        probs (Tensor): event probabilities ``batch_shape + (K,)``. logits (Tensor): event log-odds.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """A new distribution with batch shape ``batch_shape``."""
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._batch_shape = mt.Size(tuple(batch_shape))
        return new

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._categorical.param_shape

    @property
    def logits(self):
        """Normalized log probabilities."""
        return self._categorical.logits

    @property
    def probs(self):
        """Normalized probabilities."""
        return self._categorical.probs

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(mt.rand(shape, dtype=self.logits.dtype))
        gumbels = -((-(u.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        t = self.temperature if isinstance(self.temperature, mt.Tensor) else mt.tensor(self.temperature)
        log_scale = math.lgamma(k) + (k - 1) * t.log()
        score = self.logits - value * t
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale

    def __repr__(self):
        return Distribution.__repr__(self)


class RelaxedOneHotCategorical(TransformedDistribution):
    """A relaxed one-hot categorical on the simplex: ``softmax((logits + gumbel) / temperature)``;
    low ``temperature`` pushes samples towards one-hot vectors. ``rsample`` is differentiable.

    Args:
        temperature (Tensor): relaxation temperature (> 0).
        probs (Tensor): event probabilities ``batch_shape + (K,)``. logits (Tensor): event log-odds.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.

    Example::

        >>> m = RelaxedOneHotCategorical(mt.tensor([2.2]), mt.tensor([0.1, 0.2, 0.3, 0.4]))
        >>> m.rsample().shape   # (4,)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    @property
    def temperature(self):
        """The relaxation temperature."""
        return self.base_dist.temperature

    @property
    def logits(self):
        """Normalized log probabilities."""
        return self.base_dist.logits

    @property
    def probs(self):
        """Normalized probabilities."""
        return self.base_dist.probs

    def __repr__(self):
        return "RelaxedOneHotCategorical()"
