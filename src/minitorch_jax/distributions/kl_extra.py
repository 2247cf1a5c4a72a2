"""More closed-form KL divergences (``torch.distributions.kl``), registered on import of ``kl``:
the Bregman divergence between two members of the same ``ExponentialFamily`` (autograd of the log
normalizer), ``TransformedDistribution`` pairs with equal transforms, Cauchy-Cauchy, and the cross pairs
among Beta, ContinuousBernoulli, Exponential, Gamma, Gumbel, Laplace, Normal, Pareto, Poisson, Bernoulli,
Binomial and Uniform (infinite where the support of ``p`` is not inside that of ``q``).

Most cross pairs use ``KL(p || q) = -H(p) - E_p[log q(x)]`` with the moments of ``p``.
"""

from __future__ import annotations

import math

import minitorch_jax as mt

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .cauchy import Cauchy
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .normal import Normal
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import TransformedDistribution
from .uniform import Uniform
from .utils import euler_constant, sum_rightmost

__all__: list[str] = []

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _inf_like(t):
    return mt.full_like(t, float("inf"))


def _inf_where(cond, result):
    return mt.where(cond, _inf_like(result), result)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    if type(p) is not type(q):
        # torch's message, after the "No KL" sentence kl_divergence gives for unregistered pairs
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and q type "
                                  f"{type(q).__name__}. The cross KL-divergence between different "
                                  "exponential families cannot be computed using Bregman divergences")
    params, value, grads = p._log_normalizer_and_grads()
    result = q._log_normalizer(*q._natural_params) - value
    for pp, qp, g in zip(params, q._natural_params, grads):
        result = result - sum_rightmost((qp - pp) * g, len(q.event_shape))
    return result


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    if p.transforms != q.transforms:
        raise NotImplementedError
    if p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    num = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (num / (4 * p.scale * q.scale)).log()


# ----- E_p[log q] building blocks (q's log density as a function of p's moments) --------------------
def _vs_normal(p, q, mean, var):
    return (-p.entropy() + q.scale.log() + _HALF_LOG_2PI
            + (var + (mean - q.loc).pow(2)) / (2 * q.scale.pow(2)))


def _vs_exponential(p, q, mean):
    return -p.entropy() - q.rate.log() + q.rate * mean


def _vs_gamma(p, q, mean, mean_log):
    a, b = q.concentration, q.rate
    return -p.entropy() - a * b.log() + mt.lgamma(a) - (a - 1) * mean_log + b * mean


def _vs_gumbel(p, q, mean, mean_exp_neg):
    """``mean_exp_neg = E_p[exp(-x / scale_q)]``."""
    z_mean = (mean - q.loc) / q.scale
    return -p.entropy() + q.scale.log() + z_mean + (q.loc / q.scale).exp() * mean_exp_neg


def _vs_cb(p, q, mean):
    return -p.entropy() - mean * q.logits - mt.log1p(-q.probs) - q._cont_bern_log_norm()


def _vs_uniform(p, q):
    return -p.entropy() + (q.high - q.low).log()


# ----- p = Bernoulli / Poisson -------------------------------------------------------------------------
@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - p.probs * q.rate.log() + q.rate


def _infinite(p, q):
    shape = tuple(mt.broadcast_shapes(tuple(p.batch_shape), tuple(q.batch_shape)))
    return mt.full(shape, math.inf)


# ----- p = Beta -----------------------------------------------------------------------------------------
def _beta_mean_log(p):
    return mt.digamma(p.concentration1) - mt.digamma(p.concentration1 + p.concentration0)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p, q):
    return _vs_cb(p, q, p.mean)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return _vs_exponential(p, q, p.mean)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    return _vs_gamma(p, q, p.mean, _beta_mean_log(p))


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    return _vs_normal(p, q, p.mean, p.variance)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    return _inf_where((q.low > 0) | (q.high < 1), _vs_uniform(p, q))


# ----- p = ContinuousBernoulli ------------------------------------------------------------------------
@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    return _vs_cb(p, q, p.mean)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q):
    return _vs_exponential(p, q, p.mean)


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q):
    return _vs_normal(p, q, p.mean, p.variance)


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q):
    return _inf_where((q.low >= 0) | (q.high <= 1), _vs_uniform(p, q))


# ----- p = Exponential ----------------------------------------------------------------------------------
@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    rate = p.rate
    return _vs_gumbel(p, q, p.mean, rate / (rate + q.scale.reciprocal()))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    return _vs_normal(p, q, p.mean, p.variance)


# ----- p = Gamma ----------------------------------------------------------------------------------------
@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return _vs_exponential(p, q, p.mean)


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    b = p.rate
    mgf = (b / (b + q.scale.reciprocal())).pow(p.concentration)
    return _vs_gumbel(p, q, p.mean, mgf)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    return _vs_normal(p, q, p.mean, p.variance)


# ----- p = Gumbel / Laplace / Normal on the real line ---------------------------------------------------
@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    mean = p.loc + p.scale * euler_constant
    var = (math.pi * p.scale).pow(2) / 6
    return _vs_normal(p, q, mean, var)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    return _vs_normal(p, q, p.loc, 2 * p.scale.pow(2))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    mean_exp_neg = (-p.loc / q.scale + p.scale.pow(2) / (2 * q.scale.pow(2))).exp()
    return _vs_gumbel(p, q, p.loc, mean_exp_neg)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    d = p.loc - q.loc
    s = p.scale
    mean_abs = (s * math.sqrt(2 / math.pi) * (-d.pow(2) / (2 * s.pow(2))).exp()
                + d * mt.erf(d / (s * math.sqrt(2))))
    return -p.entropy() + (2 * q.scale).log() + mean_abs / q.scale


# ----- p = Uniform --------------------------------------------------------------------------------------
def _uniform_mean_log(a, b):
    return (mt.xlogy(b, b) - mt.xlogy(a, a)) / (b - a) - 1


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    a, b = p.low, p.high
    al, be = q.concentration1, q.concentration0
    mean_log = _uniform_mean_log(a, b)
    mean_log1m = _uniform_mean_log(1 - b, 1 - a)
    lbeta = mt.lgamma(al) + mt.lgamma(be) - mt.lgamma(al + be)
    result = -(b - a).log() - (al - 1) * mean_log - (be - 1) * mean_log1m + lbeta
    return _inf_where((a < 0) | (b > 1), result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q):
    return _inf_where((p.high >= 1) | (p.low <= 0), _vs_cb(p, q, p.mean))


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    return _inf_where(p.low < 0, _vs_exponential(p, q, p.mean))


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    return _inf_where(p.low < 0, _vs_gamma(p, q, p.mean, _uniform_mean_log(p.low, p.high)))


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    a, b, s = p.low, p.high, q.scale
    mean_exp_neg = s * ((-a / s).exp() - (-b / s).exp()) / (b - a)
    return _vs_gumbel(p, q, p.mean, mean_exp_neg)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    return _vs_normal(p, q, p.mean, p.variance)


# ----- infinite: the support of p reaches outside that of q ----------------------------------------------
for _p, _qs in ((Exponential, (Beta, ContinuousBernoulli, Uniform)),
                (Gamma, (Beta, ContinuousBernoulli, Uniform)),
                (Gumbel, (Beta, ContinuousBernoulli, Exponential, Gamma, Uniform)),
                (Laplace, (Beta, ContinuousBernoulli, Exponential, Gamma, Uniform)),
                (Normal, (Beta, ContinuousBernoulli, Exponential, Gamma, Uniform)),
                (Pareto, (ContinuousBernoulli,)),
                (ContinuousBernoulli, (Pareto,)),
                (Poisson, (Bernoulli, Binomial))):
    for _q in _qs:
        register_kl(_p, _q)(_infinite)
