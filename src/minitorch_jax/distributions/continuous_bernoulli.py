"""``ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501))``
(``torch.distributions.continuous_bernoulli``): the continuous Bernoulli on ``[0, 1]``
(Loaiza-Ganem & Cunningham, 2019), density ``C(p) p^x (1 - p)^(1 - x)``.

Near ``p = 0.5`` (inside ``lims``) the normalizer, mean and variance use Taylor expansions, as torch
does, so values and gradients stay finite. ``rsample`` inverts the cdf at uniform draws.
"""

from __future__ import annotations

import math
import numbers

import minitorch_jax as mt

from . import constraints
from .exp_family import ExponentialFamily
from .utils import all_true, broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """A continuous Bernoulli distribution on ``[0, 1]`` parameterized by ``probs`` or ``logits``
    (``probs`` is not the mean: see ``mean``).

    Args:
        probs (Number, Tensor): the shape parameter in ``(0, 1)``. logits (Number, Tensor): its log-odds.
        lims (tuple): the unstable region around 0.5 where Taylor expansions are used.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0
    _expand_params = ("probs", "logits", "_param")

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """``log C`` as a function of the logits ``x`` (Taylor expansion near 0, as torch)."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = mt.where(outside, x, (self._lims[0] - 0.5) * mt.ones_like(x))
        std = mt.log(mt.abs(mt.expm1(cut))) - mt.log(mt.abs(cut))
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return mt.where(outside, std, taylor)

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
            # checked before clamping (the clamped probs would always pass)
            if validate_args is not None and not all_true(self.arg_constraints["probs"].check(self.probs)):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = () if is_scalar else self._param.shape
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """Log-odds of ``probs``."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """The shape parameter (clamped away from 0 and 1)."""
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        """The shape of ``probs``/``logits``."""
        return self._param.shape

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return mt.where(self._outside_unstable_region(), self.probs,
                        self._lims[0] * mt.ones_like(self.probs))

    def _cont_bern_log_norm(self):
        """The log normalizing constant ``log C(p)``."""
        cut = self._cut_probs()
        below = mt.where(cut <= 0.5, cut, mt.zeros_like(cut))
        above = mt.where(cut >= 0.5, cut, mt.ones_like(cut))
        log_norm = (mt.log(mt.abs(mt.log1p(-cut) - mt.log(cut)))
                    - mt.where(cut <= 0.5, mt.log1p(-2.0 * below), mt.log(2.0 * above - 1.0)))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return mt.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (mt.log1p(-cut) - mt.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return mt.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut = self._cut_probs()
        vs = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) + 1.0 / (mt.log1p(-cut) - mt.log(cut)).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return mt.where(self._outside_unstable_region(), vs, taylor)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = mt.rand(shape, dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        bce = mt.nn.functional.binary_cross_entropy_with_logits(logits, value, reduction="none")
        return -bce + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = mt.where(self._outside_unstable_region(), cdfs, value)
        return mt.where(value <= 0.0, mt.zeros_like(unbounded),
                        mt.where(value >= 1.0, mt.ones_like(unbounded), unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inv = ((mt.log1p(-cut + value * (2.0 * cut - 1.0)) - mt.log1p(-cut))
               / (mt.log(cut) - mt.log1p(-cut)))
        return mt.where(self._outside_unstable_region(), inv, value)

    def entropy(self):
        log_p0 = mt.log1p(-self.probs)
        log_p1 = mt.log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0
