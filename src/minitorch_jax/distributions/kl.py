"""``kl_divergence(p, q)`` and ``register_kl(type_p, type_q)`` (``torch.distributions.kl``).

Closed forms are registered for: Normal, Categorical, OneHotCategorical, Bernoulli, Uniform,
Independent, MultivariateNormal, Beta, Gamma, Dirichlet, Exponential, Laplace, LogNormal, Poisson,
Geometric, Gumbel, Binomial, HalfNormal, Pareto, LowRankMultivariateNormal (same pairs), plus
Exponential-Gamma, LowRankMultivariateNormal-MultivariateNormal (both ways), Pareto against
Exponential, Gamma, Normal, Uniform and Beta, and Uniform against Pareto (others against Pareto are
infinite); ``kl_extra`` (imported at the end) adds the rest of torch's registry: ExponentialFamily
(Bregman), TransformedDistribution, Cauchy and the Beta/ContinuousBernoulli/Exponential/Gamma/Gumbel/
Laplace/Normal/Uniform cross pairs. Dispatch picks the most specific
registered pair by the types' MROs, like torch.
"""

from __future__ import annotations

import math

import minitorch_jax as mt

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .pareto import Pareto
from .poisson import Poisson
from .transformed_distribution import LogNormal
from .uniform import Uniform
from .utils import euler_constant, sum_rightmost

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY: dict = {}
_KL_MEMOIZE: dict = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as ``KL(p || q)`` for ``p: type_p`` and ``q: type_q``.

    Example::

        >>> @register_kl(Normal, Normal)
        ... def kl_normal_normal(p, q): ...
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun

    return decorator


def _dispatch_kl(type_p, type_q):
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return None

    def rank(pair):
        return (type_p.__mro__.index(pair[0]), type_q.__mro__.index(pair[1]))

    return _KL_REGISTRY[min(matches, key=rank)]


def kl_divergence(p, q):
    """``KL(p || q) = E_p[log p(x) - log q(x)]``, of shape ``batch_shape``.

    Raises:
        NotImplementedError: no closed form is registered for ``(type(p), type(q))``.
    """
    key = (type(p), type(q))
    fun = _KL_MEMOIZE.get(key)
    if fun is None:
        fun = _dispatch_kl(*key)
        _KL_MEMOIZE[key] = fun
    if fun is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {type(p).__name__} and "
                                  f"q type {type(q).__name__}")
    return fun(p, q)


def _inf_like(t):
    return mt.full_like(t, float("inf"))


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = mt.where((q.probs == 0).expand_as(t), _inf_like(t), t)
    t = mt.where((p.probs == 0).expand_as(t), mt.zeros_like(t), t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    sp = mt.nn.functional.softplus
    t1 = p.probs * (sp(-q.logits) - sp(-p.logits))
    t1 = mt.where(q.probs == 0, _inf_like(t1), t1)
    t1 = mt.where(p.probs == 0, mt.zeros_like(t1), t1)
    t2 = (1 - p.probs) * (sp(q.logits) - sp(p.logits))
    t2 = mt.where(q.probs == 1, _inf_like(t2), t2)
    t2 = mt.where(p.probs == 1, mt.zeros_like(t2), t2)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return mt.where((q.low > p.low) | (q.high < p.high), _inf_like(result), result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes "
                         "cannot be computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = (mt.diagonal(Lq, dim1=-2, dim2=-1).log().sum(-1)
                  - mt.diagonal(Lp, dim1=-2, dim2=-1).log().sum(-1))
    n = p.event_shape[0]
    batch = tuple(mt.broadcast_shapes(tuple(Lq.shape[:-2]), tuple(Lp.shape[:-2]), tuple(p.batch_shape),
                                      tuple(q.batch_shape)))
    Lq_b = Lq.expand(batch + (n, n))
    term2 = mt.linalg.solve_triangular(Lq_b, Lp.expand(batch + (n, n)), upper=False).pow(2).sum((-2, -1))
    diff = (q.loc - p.loc).expand(batch + (n,))
    term3 = mt.linalg.solve_triangular(Lq_b, diff.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)
    return half_term1 + 0.5 * (term2 + term3 - n)


def _lbeta(a, b):
    return mt.lgamma(a) + mt.lgamma(b) - mt.lgamma(a + b)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return (_lbeta(a2, b2) - _lbeta(a1, b1) + (a1 - a2) * mt.digamma(a1) + (b1 - b2) * mt.digamma(b1)
            + (a2 - a1 + b2 - b1) * mt.digamma(a1 + b1))


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    return ((ap - aq) * mt.digamma(ap) - mt.lgamma(ap) + mt.lgamma(aq)
            + aq * (bp.log() - bq.log()) + ap * (bq - bp) / bp)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    ap, aq = p.concentration, q.concentration
    sp, sq = ap.sum(-1), aq.sum(-1)
    t1 = mt.lgamma(sp) - mt.lgamma(sq)
    t2 = (mt.lgamma(ap) - mt.lgamma(aq)).sum(-1)
    t3 = ((ap - aq) * (mt.digamma(ap) - mt.digamma(sp).unsqueeze(-1))).sum(-1)
    return t1 - t2 + t3


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return -rate_ratio.log() + rate_ratio - 1


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    t1 = -q.concentration * mt.log(ratio)
    return t1 + ratio + mt.lgamma(q.concentration) + q.concentration * euler_constant - (1 + euler_constant)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale + scale_ratio * mt.exp(-loc_abs_diff / p.scale) - 1


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return mt.xlogy(p.rate, p.rate) - mt.xlogy(p.rate, q.rate) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - mt.log1p(-q.probs) / p.probs - q.logits


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t2 = ct1 * euler_constant
    t3 = mt.exp(ct2 + mt.lgamma(1 + ct1) - ct3)
    return t1 + t2 + t3 - (1 + euler_constant)


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    if not bool((p.total_count == q.total_count).all()):
        raise NotImplementedError("KL between Binomials where q.total_count differs from p.total_count is "
                                  "not implemented")
    n = p.total_count
    return n * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())



@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return _kl_normal_normal(p.base_dist, q.base_dist)


def _as_mvn(d):
    return d if isinstance(d, MultivariateNormal) else MultivariateNormal(d.loc, scale_tril=d.scale_tril)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two {type(p).__name__} and {type(q).__name__} with "
                         "different event shapes cannot be computed")
    return _kl_mvn_mvn(_as_mvn(p), _as_mvn(q))


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    # alpha_q log(s_p / s_q) - log(alpha_q / alpha_p) + alpha_q / alpha_p - 1, infinite if s_p < s_q
    ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - ratio.log() + ratio - 1
    return mt.where(p.scale < q.scale, _inf_like(result), result)


def _pareto_mean_log(p):
    return p.scale.log() + p.alpha.reciprocal()


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    c, r = q.concentration, q.rate
    return (-p.entropy() - c * r.log() + mt.lgamma(c) - (c - 1) * _pareto_mean_log(p)
            + r * p.mean)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    second_moment = p.variance + (p.mean - q.loc).pow(2)
    return (-p.entropy() + q.scale.log() + 0.5 * math.log(2 * math.pi)
            + second_moment / (2 * q.scale.pow(2)))


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    a, b = p.low, p.high
    mean_log = (mt.xlogy(b, b) - mt.xlogy(a, a)) / (b - a) - 1
    result = -(b - a).log() - q.alpha.log() - q.alpha * q.scale.log() + (q.alpha + 1) * mean_log
    return mt.where(a < q.scale, _inf_like(result), result)


def _infinite(p, q):
    shape = tuple(mt.broadcast_shapes(tuple(p.batch_shape), tuple(q.batch_shape)))
    return mt.full(shape, math.inf)


for _p, _q in ((Pareto, Uniform), (Pareto, Beta), (Beta, Pareto), (Exponential, Pareto), (Gamma, Pareto),
               (Gumbel, Pareto), (Laplace, Pareto), (Normal, Pareto)):
    register_kl(_p, _q)(_infinite)

from . import kl_extra  # noqa: E402,F401  (more pairs: registered on import)
