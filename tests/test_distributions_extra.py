"""mt.distributions: event-shaped transforms, biject_to/transform_to, InverseGamma, GeneralizedPareto,
LogisticNormal, OneHotCategoricalStraightThrough, ExponentialFamily, Wishart, LKJCholesky and the extra
KL pairs, against torch.distributions (same numpy inputs into both: values and gradients), plus sample
shapes/support, validation errors and use inside mt.jit."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import host_message, torch
from tests.test_distributions import _close, pos, real, spd, tril, unit
from tests.test_distributions_more import _check

D = mt.distributions
TD = torch.distributions
R = np.random.default_rng(1)


def _t(L):
    return L.transforms


def _lib(L):
    return torch if L is TD else mt


# ----- transforms ---------------------------------------------------------------------------------
TRANSFORMS = [
    ("softplus", lambda L: _t(L).SoftplusTransform(), real(2, 3)),
    ("softmax", lambda L: _t(L).SoftmaxTransform(), real(2, 3)),
    ("stick", lambda L: _t(L).StickBreakingTransform(), real(2, 3)),
    ("reshape", lambda L: _t(L).ReshapeTransform((2, 3), (3, 2)), real(2, 3)),
    ("independent", lambda L: _t(L).IndependentTransform(_t(L).ExpTransform(), 1), real(2, 3)),
    ("cat", lambda L: _t(L).CatTransform([_t(L).ExpTransform(), _t(L).identity_transform],
                                                dim=1, lengths=[1, 2]), real(2, 3)),
    ("cat-event-sum", lambda L: _t(L).CatTransform(
        [_t(L).IndependentTransform(_t(L).ExpTransform(), 1), _t(L).SigmoidTransform()],
        dim=1, lengths=[2, 1]), real(2, 3)),
    ("stack", lambda L: _t(L).StackTransform([_t(L).ExpTransform(), _t(L).SigmoidTransform(),
                                                     _t(L).TanhTransform()], dim=1), real(2, 3) * 0.5),
    ("lower-cholesky", lambda L: _t(L).LowerCholeskyTransform(), real(2, 3, 3)),
    ("positive-definite", lambda L: _t(L).PositiveDefiniteTransform(), real(2, 3, 3)),
    ("corr-cholesky", lambda L: _t(L).CorrCholeskyTransform(), real(2, 6)),
    ("compose-event", lambda L: _t(L).ComposeTransform([_t(L).ExpTransform(),
                                                               _t(L).StickBreakingTransform()]), real(2, 3)),
    ("cdf", lambda L: _t(L).CumulativeDistributionTransform(L.Normal(_lib(L).tensor(0.5), 2.0)), real(2, 3)),
]


@pytest.mark.parametrize("case", TRANSFORMS, ids=[c[0] for c in TRANSFORMS])
def test_transform_parity(case):
    _, make, x = case
    out = []
    for L in (TD, D):
        t = make(L)
        xt = _lib(L).tensor(x).requires_grad_(True)
        y = t(xt)
        back = t.inv(y)
        try:
            ladj = t.log_abs_det_jacobian(xt, y)
        except NotImplementedError:
            ladj = None
        total = y.sum() + (ladj.sum() * 2 if ladj is not None else 0)
        grad = (torch.autograd.grad(total, xt)[0] if L is TD else mt.autograd.grad(total, xt)[0])
        out.append((t, y, back, ladj, grad, tuple(xt.shape)))
    (tt, yt, bt, lt, gt, shape), (tm, ym, bm, lm, gm, _) = out
    _close(yt, ym, "forward", 1e-4, 1e-5)
    _close(bt, bm, "inverse", 1e-3, 1e-4)
    assert (lt is None) == (lm is None)
    if lt is not None:
        _close(lt, lm, "log_abs_det_jacobian", 1e-4, 1e-4)
    _close(gt, gm, "grad", 1e-3, 1e-4)
    assert repr(tt.domain) == repr(tm.domain) and repr(tt.codomain) == repr(tm.codomain)
    assert tt.domain.event_dim == tm.domain.event_dim and tt.codomain.event_dim == tm.codomain.event_dim
    assert tt.bijective == tm.bijective
    assert tuple(tm.forward_shape(mt.Size(shape))) == tuple(tt.forward_shape(torch.Size(shape)))
    out_shape = tuple(yt.shape)
    assert tuple(tm.inverse_shape(mt.Size(out_shape))) == tuple(tt.inverse_shape(torch.Size(out_shape)))
    assert tm == make(D) or tt != make(TD)  # equality as torch: same-class transforms compare equal


def test_transform_attributes_and_errors():
    T, M = TD.transforms, D.transforms
    for name in ("ExpTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform"):
        assert getattr(T, name)().sign == getattr(M, name)().sign == 1
        assert getattr(M, name)() == getattr(M, name)() and getattr(M, name)().bijective
    assert M.AbsTransform() == M.AbsTransform() and not M.AbsTransform().bijective
    assert M.PowerTransform(2.0) == M.PowerTransform(2.0) and M.PowerTransform(2.0) != M.PowerTransform(3.0)
    assert M.AffineTransform(1.0, 2.0) == M.AffineTransform(1.0, 2.0) != M.AffineTransform(0.0, 2.0)
    assert M.StickBreakingTransform().inv.inv == M.StickBreakingTransform()
    assert M.ReshapeTransform((2, 3), (6,)) != M.ReshapeTransform((2, 3), (6,))  # identity, as torch
    assert M.ComposeTransform([M.ExpTransform()]) == M.ComposeTransform([M.ExpTransform()])
    assert repr(M.identity_transform) == repr(T.identity_transform)
    assert repr(M.IndependentTransform(M.ExpTransform(), 1)) == "IndependentTransform(ExpTransform(), 1)"
    assert M.IndependentTransform(M.ExpTransform(), 2).sign == 1
    with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
        M.ReshapeTransform((2, 3), (4,))
    with pytest.raises(NotImplementedError):
        M.SoftmaxTransform().log_abs_det_jacobian(mt.ones(3), mt.ones(3))
    with pytest.raises(ValueError, match="Please use either"):
        _ = M.CorrCholeskyTransform().event_dim
    with pytest.raises(ValueError):
        M.CorrCholeskyTransform().forward_shape(mt.Size([4]))
    # constraints added for the registries
    C, TC = D.constraints, TD.constraints
    v = real(4, 3)
    for mk in (lambda c: c.cat([c.real, c.positive], dim=1, lengths=[2, 1]),
               lambda c: c.stack([c.real, c.positive, c.unit_interval], dim=-1)):
        a = mk(TC).check(torch.tensor(v)).numpy()
        b = mk(C).check(mt.tensor(v)).numpy()
        np.testing.assert_array_equal(a, b)
        assert mk(TC).event_dim == mk(C).event_dim
    for base in (lambda c: c.positive, lambda c: c.independent(c.positive, 1)):
        a = TC.MixtureSameFamilyConstraint(base(TC)).check(torch.tensor(v)).numpy()
        np.testing.assert_array_equal(a, C.MixtureSameFamilyConstraint(base(C)).check(mt.tensor(v)).numpy())
    with pytest.raises(AssertionError, match="base_constraint must be a Constraint, got int"):
        C.MixtureSameFamilyConstraint(3)
    L = np.linalg.cholesky(np.corrcoef(R.standard_normal((3, 5)))).astype(np.float32)
    bad = L * 1.1
    for x in (L, bad):
        assert bool(TC.corr_cholesky.check(torch.tensor(x))) == bool(C.corr_cholesky.check(mt.tensor(x)))


# ----- biject_to / transform_to -------------------------------------------------------------------
def _constraints(C):
    return [C.real, C.positive, C.nonnegative, C.greater_than(1.5), C.greater_than_eq(-1.0), C.less_than(2.0),
            C.unit_interval, C.interval(-2.0, 3.0), C.half_open_interval(0.0, 4.0), C.simplex,
            C.independent(C.positive, 1), C.corr_cholesky, C.lower_cholesky, C.positive_definite,
            C.positive_semidefinite, C.cat([C.real, C.positive], dim=-1, lengths=[1, 2]),
            C.stack([C.positive, C.unit_interval, C.real], dim=-1)]


def _input_for(c, registry_name):
    n = type(c).__name__
    if n == "_CorrCholesky":
        return real(2, 3)
    if n in ("_LowerCholesky", "_PositiveDefinite", "_PositiveSemidefinite"):
        return real(2, 3, 3)
    return real(2, 3)


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registries(registry):
    treg, mreg = getattr(TD, registry), getattr(D, registry)
    for tc, mc in zip(_constraints(TD.constraints), _constraints(D.constraints)):
        try:
            tt = treg(tc)
        except NotImplementedError as e:
            with pytest.raises(NotImplementedError) as em:
                mreg(mc)
            assert str(em.value) == str(e)
            continue
        tm = mreg(mc)
        assert repr(tt).replace("torch.", "") == repr(tm), (registry, tc)
        x = _input_for(tc, registry)
        yt, ym = tt(torch.tensor(x)), tm(mt.tensor(x))
        _close(yt, ym, f"{registry}({tc!r})", 1e-4, 1e-5)
        assert bool(mc.check(ym).all()), (registry, tc)
        if tt.bijective:
            _close(tt.log_abs_det_jacobian(torch.tensor(x), yt), tm.log_abs_det_jacobian(mt.tensor(x), ym),
                   f"ladj {tc!r}", 1e-4, 1e-4)

    @mreg.register(D.constraints.lower_triangular)
    def _factory(constraint):
        return D.transforms.identity_transform

    assert mreg(D.constraints.lower_triangular) is D.transforms.identity_transform
    del mreg._registry[type(D.constraints.lower_triangular)]
    with pytest.raises(TypeError):
        mreg.register(3, _factory)


# ----- families -----------------------------------------------------------------------------------
GP_VALUE = np.array([0.1, 0.5, 1.2], np.float32)
FAMILIES = [
    ("inverse-gamma", lambda L, a, b: L.InverseGamma(a, b), [pos(3, lo=2.5, hi=4), pos(3)], pos(3),
     ("log_prob", "entropy", "mean", "mode", "variance")),  # cdf: torch has no igamma input gradient
    ("generalized-pareto", lambda L, m, s, c: L.GeneralizedPareto(m, s, c),
     [np.zeros(3, np.float32) - 0.05, pos(3), np.array([-0.2, 0.0, 0.3], np.float32)], GP_VALUE,
     ("log_prob", "cdf", "entropy", "mean", "variance", "mode")),
    ("generalized-pareto-icdf", lambda L, m, s, c: L.GeneralizedPareto(m, s, c),
     [real(3), pos(3), np.array([-0.2, 0.0, 0.3], np.float32)], unit(3), ("icdf",)),
    ("logistic-normal", lambda L, m, s: L.LogisticNormal(m, s), [real(2, 3), pos(2, 3)],
     np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.4, 0.1]], np.float32), ("log_prob",)),
    ("onehot-straight-through", lambda L, p: L.OneHotCategoricalStraightThrough(probs=p), [pos(3)],
     np.eye(3, dtype=np.float32)[1], ("log_prob", "entropy", "mean", "variance")),
    ("wishart-cov", lambda L, df, c: L.Wishart(df, covariance_matrix=c), [np.float32(4.5), spd(3)], spd(3),
     ("log_prob", "entropy", "mean", "mode", "variance")),
    ("wishart-tril", lambda L, df, t: L.Wishart(df, scale_tril=t), [pos(2, lo=3, hi=5), tril(3)],
     spd(3), ("log_prob", "entropy", "mean", "variance")),
    ("wishart-precision", lambda L, df, p: L.Wishart(df, precision_matrix=p), [np.float32(3.5), spd(3)],
     spd(3), ("log_prob", "entropy")),
    ("lkj", lambda L, c: L.LKJCholesky(3, c), [pos(2, lo=0.5, hi=3)],
     np.linalg.cholesky(np.corrcoef(R.standard_normal((3, 6)))).astype(np.float32), ("log_prob",)),
]


@pytest.mark.parametrize("case", FAMILIES, ids=[c[0] for c in FAMILIES])
def test_family_parity(case):
    _, make, arrays, value, what = case
    _check(make, arrays, value, what, rtol=5e-4, atol=5e-5)


EXP_FAMILY = [
    ("Normal", lambda L, a, b: L.Normal(a, b), [real(3), pos(3)]),
    ("Bernoulli", lambda L, a: L.Bernoulli(logits=a), [real(3)]),
    ("Gamma", lambda L, a, b: L.Gamma(a, b), [pos(3), pos(3)]),
    ("Exponential", lambda L, a: L.Exponential(a), [pos(3)]),
    ("ContinuousBernoulli", lambda L, a: L.ContinuousBernoulli(logits=a), [real(3).astype(np.float64)]),
    ("Wishart", lambda L, df, c: L.Wishart(df, covariance_matrix=c), [np.float32(4.0), spd(3)]),
]


@pytest.mark.parametrize("case", EXP_FAMILY, ids=[c[0] for c in EXP_FAMILY])
def test_exponential_family(case):
    name, make, arrays = case
    res = []
    for L in (TD, D):
        d = make(L, *[_lib(L).tensor(a) for a in arrays])
        assert isinstance(d, L.ExponentialFamily)
        res.append((L.ExponentialFamily.entropy(d), d.entropy(),
                    d._log_normalizer(*d._natural_params), L.kl_divergence(d, d)))
    for i, (a, b) in enumerate(zip(*res)):
        _close(a, b, f"{name} {i}", 1e-4, 2e-4)
    _close(res[1][0], res[1][1], f"{name} autograd entropy vs closed form", 1e-4, 2e-4)
    for d in (D.Beta(mt.ones(2), mt.ones(2)), D.Poisson(mt.ones(2))):
        assert isinstance(d, D.ExponentialFamily)
        with pytest.raises(NotImplementedError):
            D.ExponentialFamily.entropy(d)


def test_expfamily_bregman_kl():
    a, b = real(3), pos(3)
    ps = [(real(3), pos(3)), (real(3), pos(3))]
    for L in (TD, D):
        t = _lib(L).tensor
        p, q = L.Normal(t(a), t(b)), L.Normal(t(ps[0][0]), t(ps[0][1]))
        kl = L.kl.kl_divergence(p, q)
        ef = (TD.kl if L is TD else D.kl_extra)._kl_expfamily_expfamily(p, q)
        _close(kl, ef, "bregman vs closed form", 1e-4, 1e-4)
    with pytest.raises(NotImplementedError, match="cross KL-divergence between different exponential"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))


N = 1000  # one sample count everywhere: compiled kernels are shared


def test_univariate_samples():
    mt.manual_seed(0)
    ig = D.InverseGamma(mt.tensor([3.0, 5.0, 4.0]), mt.tensor([2.0, 1.0, 1.5]))
    s = ig.rsample((N,))
    assert tuple(s.shape) == (N, 3) and bool((s > 0).all())
    np.testing.assert_allclose(s.numpy().mean(0), ig.mean.numpy(), rtol=0.15)
    tig = TD.InverseGamma(torch.tensor([3.0, 5.0, 4.0]), torch.tensor([2.0, 1.0, 1.5]))
    np.testing.assert_allclose(ig.cdf(mt.tensor([0.5, 0.2, 0.3])).numpy(),
                               tig.cdf(torch.tensor([0.5, 0.2, 0.3])).numpy(), rtol=1e-4)
    gp = D.GeneralizedPareto(mt.tensor(0.0), mt.tensor(1.0), mt.tensor([-0.4, 0.0, 0.2]))
    s = gp.rsample((N,))
    assert tuple(s.shape) == (N, 3) and bool(gp.support.check(s).all())
    np.testing.assert_allclose(s.numpy().mean(0), gp.mean.numpy(), rtol=0.15)
    grads = []
    for L in (TD, D):
        probs = _lib(L).tensor([0.2, 0.3, 0.6], requires_grad=True)
        z = L.OneHotCategoricalStraightThrough(probs=probs).rsample((N,))
        assert tuple(z.shape) == (N, 3) and bool((z.detach().sum(-1) == 1).all())
        (z * _lib(L).tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append(probs.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-4)


def test_event_samples():
    mt.manual_seed(0)
    ln = D.LogisticNormal(mt.zeros(2, 3), mt.ones(2, 3))
    s = ln.rsample((N,))
    s = s.numpy()
    assert s.shape == (N, 2, 4) and (s >= 0).all() and np.allclose(s.sum(-1), 1, atol=1e-5)
    assert tuple(ln.batch_shape) == (2,) and tuple(ln.event_shape) == (4,)
    assert tuple(D.LogisticNormal(0.0, 1.0).event_shape) == tuple(TD.LogisticNormal(0.0, 1.0).event_shape)
    assert tuple(ln.expand((3, 2)).batch_shape) == (3, 2)
    w = D.Wishart(mt.tensor([4.0, 6.0]), covariance_matrix=mt.tensor(spd(3)))
    s = w.rsample((N,))
    s = s.numpy()
    assert s.shape == (N, 2, 3, 3) and (np.linalg.eigvalsh(s) > 0).all()
    np.testing.assert_allclose(s, s.swapaxes(-1, -2), rtol=1e-5, atol=1e-4)
    z = (s.mean(0) - w.mean.numpy()) / np.sqrt(w.variance.numpy() / N)
    assert np.abs(z).max() < 5, z
    lkj = D.LKJCholesky(3, mt.tensor([0.5, 2.0]))
    s = lkj.sample((N,))
    assert tuple(s.shape) == (N, 2, 3, 3) and bool(D.constraints.corr_cholesky.check(s).all())
    s = s.numpy()
    corr = (s @ np.swapaxes(s, -1, -2))[..., 1, 0]  # marginal: 2 * Beta(b, b) - 1 with b = eta - 1 + dim / 2
    b = np.array([0.5, 2.0]) + 0.5
    np.testing.assert_allclose(corr.var(0), 1 / (2 * b + 1), rtol=0.2)


def test_new_family_errors():
    cases = [(True, lambda L, T: L.InverseGamma(T.tensor([-1.0]), T.tensor([1.0]))),
             (True, lambda L, T: L.GeneralizedPareto(T.tensor([0.0]), T.tensor([-1.0]), T.tensor([0.1]))),
             (True, lambda L, T: L.LKJCholesky(1)),
             (False, lambda L, T: L.LKJCholesky(3, T.tensor(-1.0))),  # torch reports its inner Beta
             (True, lambda L, T: L.Wishart(T.tensor(1.0), T.eye(3))),
             (True, lambda L, T: L.InverseGamma(T.tensor(2.0), T.tensor(1.0)).log_prob(T.tensor(-1.0)))]
    for exact, thunk in cases:
        with pytest.raises(ValueError) as et:
            thunk(TD, torch)
        with pytest.raises(ValueError) as em:
            thunk(D, mt)
        first = host_message(str(em.value)).split("\n")[0]
        if exact:
            assert first == str(et.value).split("\n")[0].replace("torch.", "minitorch_jax.")
        else:
            assert first.startswith("Expected parameter concentration")
    with pytest.raises(AssertionError, match="Exactly one of covariance_matrix"):
        D.Wishart(mt.tensor(4.0))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.Wishart(mt.tensor(4.0), mt.eye(3), scale_tril=mt.eye(3))


def test_new_families_in_jit():
    conc = mt.tensor([2.5, 3.0])

    def step():
        q = D.InverseGamma(conc, mt.tensor([1.0, 2.0]))
        x = q.rsample()
        ln = D.LogisticNormal(mt.zeros(2), mt.ones(2))
        return q.log_prob(x).sum() + ln.log_prob(ln.rsample())

    f = mt.jit(step)
    a, b, c = f(), f(), f()
    assert np.isfinite([a.item(), b.item(), c.item()]).all() and len({a.item(), b.item(), c.item()}) == 3


# ----- KL pairs -----------------------------------------------------------------------------------
KL_ARGS = {
    "Beta": (pos(3, lo=1.5, hi=3), pos(3, lo=1.5, hi=3)),
    "ContinuousBernoulli": (np.array([0.2, 0.4995, 0.8], np.float32),),
    "Exponential": (pos(3),),
    "Gamma": (pos(3, lo=1.5, hi=3), pos(3)),
    "Gumbel": (real(3), pos(3)),
    "Laplace": (real(3), pos(3)),
    "Normal": (real(3), pos(3)),
    "Uniform": (unit(3) - 1.0, unit(3) + 1.0),
    "Uniform01": (np.full(3, 0.05, np.float32), np.full(3, 0.95, np.float32)),
    "Pareto": (pos(3, lo=1, hi=2), pos(3, lo=2, hi=3)),
    "Poisson": (pos(3),),
    "Bernoulli": (unit(3),),
    "Binomial": (5, unit(3)),
    "Cauchy": (real(3), pos(3)),
}


def _dists(L, leaves=None):
    out = {}
    for name, args in KL_ARGS.items():
        args = [_lib(L).tensor(a, requires_grad=leaves is not None) if isinstance(a, np.ndarray) else a
                for a in args]
        if leaves is not None:
            leaves[name] = [a for a in args if not isinstance(a, int)]
        out[name] = getattr(L, "Uniform" if name == "Uniform01" else name)(*args)
    return out


KL_PAIRS = [
    ("Bernoulli", "Poisson"), ("Beta", "ContinuousBernoulli"), ("Beta", "Exponential"), ("Beta",
    "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"), ("Beta", "Uniform01"), ("Cauchy", "Cauchy"),
    ("ContinuousBernoulli", "ContinuousBernoulli"), ("ContinuousBernoulli", "Exponential"),
    ("ContinuousBernoulli", "Normal"), ("ContinuousBernoulli", "Pareto"), ("ContinuousBernoulli",
    "Uniform"), ("ContinuousBernoulli", "Uniform01"), ("Exponential", "Beta"), ("Exponential",
    "ContinuousBernoulli"), ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Exponential",
    "Uniform"), ("Gamma", "Beta"), ("Gamma", "ContinuousBernoulli"), ("Gamma", "Exponential"), ("Gamma",
    "Gumbel"), ("Gamma", "Normal"), ("Gamma", "Uniform"), ("Gumbel", "Beta"), ("Gumbel",
    "ContinuousBernoulli"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Normal"),
    ("Gumbel", "Uniform"), ("Laplace", "Beta"), ("Laplace", "ContinuousBernoulli"), ("Laplace",
    "Exponential"), ("Laplace", "Gamma"), ("Laplace", "Normal"), ("Laplace", "Uniform"), ("Normal",
    "Beta"), ("Normal", "ContinuousBernoulli"), ("Normal", "Exponential"), ("Normal", "Gamma"),
    ("Normal", "Gumbel"), ("Normal", "Laplace"), ("Normal", "Uniform"), ("Pareto",
    "ContinuousBernoulli"), ("Poisson", "Bernoulli"), ("Poisson", "Binomial"), ("Uniform", "Beta"),
    ("Uniform01", "Beta"), ("Uniform", "ContinuousBernoulli"), ("Uniform01", "ContinuousBernoulli"),
    ("Uniform", "Exponential"), ("Uniform", "Gamma"), ("Uniform", "Gumbel"), ("Uniform", "Normal"),
]


def test_kl_extra_pairs():
    dt, dm = _dists(TD), _dists(D)
    for a, b in KL_PAIRS:
        kt = TD.kl_divergence(dt[a], dt[b])
        km = D.kl_divergence(dm[a], dm[b])
        _close(kt, km, f"KL({a} || {b})", 1e-3, 1e-4)
    a1, a2, b1, b2 = pos(3, lo=2, hi=4), pos(3), real(2, 3), pos(2, 3)
    res = []
    for L in (TD, D):  # TransformedDistribution pairs with equal transforms
        t = _lib(L).tensor
        res.append((L.kl_divergence(L.InverseGamma(t(a1), t(a2)), L.InverseGamma(t(a2) + 1, t(a1))),
                    L.kl_divergence(L.LogisticNormal(t(b1), t(b2)), L.LogisticNormal(t(b2), t(b2)))))
        with pytest.raises(NotImplementedError):
            L.kl_divergence(L.InverseGamma(t(a1), t(a2)), L.LogNormal(t(a1), t(a2)))
    for x, y in zip(*res):
        _close(x, y, "KL transformed", 1e-4, 1e-4)


def test_kl_extra_gradients():
    for a, b in [("Normal", "Gumbel"), ("Gamma", "Normal"), ("ContinuousBernoulli", "ContinuousBernoulli"),
                 ("Beta", "Normal"), ("Laplace", "Normal"), ("Cauchy", "Cauchy")]:
        grads = []
        for L in (TD, D):
            leaves = {}
            d = _dists(L, leaves)
            params = leaves[a] + leaves[b]
            kl = L.kl_divergence(d[a], d[b]).sum()
            g = torch.autograd.grad(kl, params) if L is TD else mt.autograd.grad(kl, params)
            grads.append(g)
        for gt, gm in zip(*grads):
            _close(gt, gm, f"grad KL({a} || {b})", 1e-3, 1e-4)
