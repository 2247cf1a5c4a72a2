"""``Categorical(probs=None, logits=None)``: a distribution over ``{0, ..., K-1}``
(``torch.distributions.categorical``)."""

from __future__ import annotations

import jax

import minitorch_jax as mt

from .. import _dtype
from .._tensor import Tensor, _wrap
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, next_key, probs_to_logits

__all__ = ["Categorical"]


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    for name, v in (("probs", probs), ("logits", logits)):
        if v is not None and not isinstance(v, Tensor):
            raise TypeError(f"{name} must be a Tensor, got {type(v).__name__}")


class Categorical(Distribution):
    """A categorical distribution given by ``probs`` (non-negative, normalized over the last dim)
    or ``logits`` (unnormalized log probabilities). Samples are int64 indices.

    Args:
        probs (Tensor): event probabilities, shape ``batch_shape + (K,)``.
        logits (Tensor): event log-odds, shape ``batch_shape + (K,)``.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = self._param.shape[:-1] if self._param.dim() > 1 else ()
        super().__init__(batch_shape, validate_args=validate_args)

    _expand_params = ("probs", "logits", "_param")

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        """Normalized log probabilities."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """Normalized probabilities."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._param.shape

    @property
    def mean(self):
        return mt.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return mt.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        logits = self.logits.detach()._data
        idx = jax.random.categorical(next_key(), logits, axis=-1, shape=shape)
        return _wrap(idx.astype(_dtype.int64.np))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = mt.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = mt.finfo(self.logits.dtype).min
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        n = self._num_events
        values = mt.arange(n, dtype=mt.int64)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
