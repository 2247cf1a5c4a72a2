"""mt.distributions: sample shapes/statistics (fixed seed), reparameterized gradients, validation
errors (torch's messages), expand, enumerate_support and use inside an mt.jit training step."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import host_message, torch

D = mt.distributions
TD = torch.distributions


def _t(*v):
    return mt.tensor(list(v))


SAMPLERS = [
    (lambda: D.Normal(_t(1.0, -2.0), _t(0.5, 2.0)), (1.0, -2.0)),
    (lambda: D.Uniform(_t(0.0, 2.0), _t(1.0, 6.0)), (0.5, 4.0)),
    (lambda: D.Bernoulli(_t(0.2, 0.7)), (0.2, 0.7)),
    (lambda: D.Gamma(_t(2.0, 0.5), _t(1.0, 2.0)), (2.0, 0.25)),
    (lambda: D.Beta(_t(2.0, 1.0), _t(3.0, 1.0)), (0.4, 0.5)),
    (lambda: D.Exponential(_t(0.5, 4.0)), (2.0, 0.25)),
    (lambda: D.Laplace(_t(1.0, -1.0), _t(1.0, 0.5)), (1.0, -1.0)),
    (lambda: D.Poisson(_t(3.0, 0.5)), (3.0, 0.5)),
    (lambda: D.Binomial(10, _t(0.3, 0.9)), (3.0, 9.0)),
    (lambda: D.Geometric(_t(0.5, 0.8)), (1.0, 0.25)),
    (lambda: D.Gumbel(_t(0.0, 1.0), _t(1.0, 2.0)), (0.5772, 2.1544)),
    (lambda: D.LogNormal(_t(0.0, 0.5), _t(0.5, 0.25)), (np.exp(0.125), np.exp(0.53125))),
    (lambda: D.StudentT(_t(5.0, 8.0), _t(1.0, -1.0), _t(1.0, 1.0)), (1.0, -1.0)),
    (lambda: D.HalfNormal(_t(1.0, 2.0)), (0.7979, 1.5958)),
    (lambda: D.Weibull(_t(1.0, 2.0), _t(2.0, 1.0)), (0.8862, 2.0)),
    (lambda: D.Pareto(_t(1.0, 1.0), _t(3.0, 4.0)), (1.5, 4 / 3)),
    (lambda: D.Kumaraswamy(_t(2.0, 1.0), _t(2.0, 1.0)), (0.5333, 0.5)),
    (lambda: D.NegativeBinomial(_t(3.0, 5.0), _t(0.5, 0.2)), (3.0, 1.25)),
    (lambda: D.VonMises(_t(1.0, -0.5), _t(4.0, 8.0)), (1.0, -0.5)),
]


@pytest.mark.parametrize("i", range(len(SAMPLERS)))
def test_sample_shapes_and_means(i):
    make, means = SAMPLERS[i]
    mt.manual_seed(0)
    d = make()
    s = d.sample((4000,))
    assert tuple(s.shape) == (4000, 2) and s.dtype == mt.float32
    np.testing.assert_allclose(s.mean(0).numpy(), means, rtol=0.08, atol=0.06)
    mt.manual_seed(0)
    np.testing.assert_array_equal(make().sample((4000,)).numpy(), s.numpy())  # reproducible
    if i == 0:  # other shapes once (each new shape compiles the discrete samplers again)
        assert tuple(d.sample().shape) == (2,)
        assert tuple(d.sample((3, 5)).shape) == (3, 5, 2)


def test_categorical_family_samples():
    mt.manual_seed(1)
    probs = mt.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    c = D.Categorical(probs)
    s = c.sample((4000,))
    assert tuple(s.shape) == (4000, 2) and s.dtype == mt.int64
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], -1)
    np.testing.assert_allclose(freq, probs.numpy(), atol=0.03)
    oh = D.OneHotCategorical(probs).sample((5,))
    assert tuple(oh.shape) == (5, 2, 3) and oh.dtype == mt.float32
    np.testing.assert_array_equal(oh.sum(-1).numpy(), np.ones((5, 2)))
    d = D.Dirichlet(mt.tensor([1.0, 2.0, 3.0])).sample((2000,))
    assert tuple(d.shape) == (2000, 3)
    np.testing.assert_allclose(d.mean(0).numpy(), [1 / 6, 2 / 6, 3 / 6], atol=0.02)
    cov = mt.tensor([[2.0, 0.5], [0.5, 1.0]])
    mvn = D.MultivariateNormal(mt.tensor([1.0, -1.0]), covariance_matrix=cov)
    x = mvn.sample((4000,))
    assert tuple(x.shape) == (4000, 2)
    np.testing.assert_allclose(np.cov(x.numpy().T), cov.numpy(), atol=0.15)
    np.testing.assert_allclose(x.mean(0).numpy(), [1.0, -1.0], atol=0.08)


def test_event_and_heavy_tailed_samples():
    mt.manual_seed(2)
    h = D.HalfCauchy(_t(1.0, 2.0)).sample((4000,))  # no mean: the median is the scale
    assert tuple(h.shape) == (4000, 2) and bool((h >= 0).all())
    np.testing.assert_allclose(np.median(h.numpy(), 0), [1.0, 2.0], rtol=0.1)
    p = mt.tensor([0.2, 0.3, 0.5])
    m = D.Multinomial(10, p).sample((4000,))
    assert tuple(m.shape) == (4000, 3) and m.dtype == mt.float32
    np.testing.assert_array_equal(m.sum(-1).numpy(), np.full(4000, 10.0))
    np.testing.assert_allclose(m.mean(0).numpy(), [2.0, 3.0, 5.0], rtol=0.05)
    W, d = mt.tensor([[1.0], [0.5], [-1.0]]), mt.tensor([0.5, 1.0, 0.2])
    x = D.LowRankMultivariateNormal(mt.tensor([1.0, 0.0, -1.0]), W, d).rsample((4000,))
    assert tuple(x.shape) == (4000, 3)
    np.testing.assert_allclose(np.cov(x.numpy().T), (W @ W.T + mt.diag(d)).numpy(), atol=0.15)
    # the von Mises rejection sampler runs inside a compiled function
    v = mt.jit(lambda: D.VonMises(_t(3.0, -3.0), _t(0.5, 1e-6)).sample((8,)))()
    assert tuple(v.shape) == (8, 2) and bool((v.abs() <= np.pi).all())


def test_rsample_gradients():
    # shapes (4000, 2) as in test_sample_shapes_and_means: the compiled samplers are reused
    loc = mt.tensor([0.5, -1.0], requires_grad=True)
    scale = mt.tensor([2.0, 1.0], requires_grad=True)
    mt.manual_seed(0)
    x = D.Normal(loc, scale).rsample((4000,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4000.0, 4000.0])
    eps = (x.detach() - _t(0.5, -1.0)) / _t(2.0, 1.0)
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-4, atol=1e-2)
    # implicit reparameterization: d E[x] / d alpha = 1 / rate for Gamma(alpha, rate)
    alpha = mt.tensor([3.0, 1.0], requires_grad=True)
    D.Gamma(alpha, _t(2.0, 0.5)).rsample((4000,)).mean(0).sum().backward()
    np.testing.assert_allclose(alpha.grad.numpy(), [0.5, 2.0], rtol=0.1)
    # Beta(a, b): d E[x] / d a = b / (a + b)^2
    a = mt.tensor([2.0, 1.0], requires_grad=True)
    D.Beta(a, _t(2.0, 1.0)).rsample((4000,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2 / 16, 1 / 4], rtol=0.15)
    assert not D.Poisson(1.0).has_rsample and D.Normal(0.0, 1.0).has_rsample
    with pytest.raises(NotImplementedError):
        D.Poisson(1.0).rsample()
    assert not D.Normal(loc, scale).sample().requires_grad


def _msg(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value)


def test_validation_errors_match_torch():
    pairs = [
        (lambda L: L.Normal(0.0, -1.0)),
        (lambda L: L.Categorical()),
        (lambda L: L.Bernoulli(probs=L is TD and torch.tensor(0.5) or mt.tensor(0.5), logits=0.0)),
        (lambda L: L.MultivariateNormal(_z(L, 2))),
        (lambda L: L.Independent(L.Normal(0.0, 1.0), 1)),
        (lambda L: L.Exponential(_z(L, 3) + 1).log_prob(_z(L, 3) - 1)),
        (lambda L: L.Normal(_z(L, 3), 1.0).log_prob(_z(L, 2))),
        (lambda L: L.Uniform(1.0, 0.0)),
        (lambda L: L.Geometric(_z(L, 1))),
        (lambda L: L.HalfNormal(-1.0)),
        (lambda L: L.Pareto(_z(L, 3) + 1, 2.0).log_prob(_z(L, 3) + 0.5)),
        (lambda L: L.NegativeBinomial(2.0, probs=_z(L, 2) + 1)),
        (lambda L: L.Multinomial(2.5, probs=_z(L, 3) + 1)),
        (lambda L: L.Multinomial(2, probs=_z(L, 3) + 1).log_prob(_z(L, 3) - 1)),
        (lambda L: L.LowRankMultivariateNormal(_z(L, 3), _z(L, 6).reshape(2, 3), _z(L, 3) + 1)),
        (lambda L: L.VonMises(0.0, 0.0)),
        (lambda L: L.Weibull(1.0, -2.0)),
    ]
    for f in pairs:
        et, mt_err = _msg(lambda f=f: f(TD)), _msg(lambda f=f: f(D))
        assert et[0] is mt_err[0] or issubclass(mt_err[0], et[0]), (et, mt_err)
        first = host_message(mt_err[1]).replace("minitorch_jax", "torch").split("\n")[0]
        assert first == et[1].split("\n")[0], (et, mt_err)


def _z(L, n):
    return torch.zeros(n) if L is TD else mt.zeros(n)


def test_support_validation_and_switch():
    c = D.Categorical(mt.ones(3))
    with pytest.raises(ValueError, match="IntegerInterval"):
        c.log_prob(mt.tensor([5]))
    assert D.Categorical(mt.ones(3), validate_args=False).log_prob(mt.tensor([1])).shape == (1,)
    D.Normal(0.0, -1.0, validate_args=False)
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.constraints.interval(0, 1)) == "Interval(lower_bound=0, upper_bound=1)"
    assert D.constraints.simplex.check(mt.tensor([0.2, 0.8])).item()
    assert not D.constraints.positive_definite.check(mt.tensor([[1.0, 2.0], [2.0, 1.0]])).item()
    assert D.constraints.lower_cholesky.check(mt.eye(2)).item()


def test_expand_and_enumerate():
    # expanded batch shapes kept to (2, 3) / (2,) so few new kernels compile
    n = D.Normal(mt.tensor([0.0, 1.0, 2.0]), 1.0).expand((2, 3))
    assert tuple(n.batch_shape) == (2, 3) and tuple(n.sample((4,)).shape) == (4, 2, 3)
    assert tuple(n.log_prob(mt.zeros(2, 3)).shape) == (2, 3)
    c = D.Categorical(logits=mt.zeros(3)).expand((2,))
    assert tuple(c.probs.shape) == (2, 3) and tuple(c.sample().shape) == (2,)
    m = D.MultivariateNormal(mt.zeros(3), mt.eye(3)).expand((2,))
    assert tuple(m.batch_shape) == (2,) and tuple(m.rsample().shape) == (2, 3)
    i = D.Independent(D.Normal(mt.zeros(2, 3), 1.0), 1).expand((4, 2))
    assert tuple(i.batch_shape) == (4, 2) and tuple(i.event_shape) == (3,)
    e = D.Categorical(mt.ones(2, 3)).enumerate_support()
    ref = TD.Categorical(torch.ones(2, 3)).enumerate_support()
    np.testing.assert_array_equal(e.numpy(), ref.numpy())
    b = D.Bernoulli(mt.tensor([0.3, 0.6])).enumerate_support(expand=False)
    assert tuple(b.shape) == (2, 1)
    oh = D.OneHotCategorical(mt.ones(3)).enumerate_support()
    np.testing.assert_array_equal(oh.numpy(), np.eye(3))
    ind = D.Independent(D.Normal(mt.zeros(2, 3), mt.ones(2, 3)), 1)
    assert tuple(ind.log_prob(mt.zeros(2, 3)).shape) == (2,)
    size = "minitorch_jax.Size([2, 3])"
    assert repr(ind) == f"Independent(Normal(loc: {size}, scale: {size}), 1)"


def test_jit_training_step_matches_eager():
    def make():
        mt.manual_seed(0)
        loc = mt.nn.Parameter(mt.zeros(3))
        log_scale = mt.nn.Parameter(mt.zeros(3))
        logits = mt.nn.Parameter(mt.zeros(3))
        opt = mt.optim.SGD([loc, log_scale, logits], lr=0.1)
        return loc, log_scale, logits, opt

    def step(loc, log_scale, logits, opt):
        opt.zero_grad()
        q = D.Normal(loc, log_scale.exp())
        z = q.rsample()  # VAE-style pathwise term; shapes (3,) as in the parity tests (kernels reused)
        target = D.Normal(mt.ones(3), 1.0)
        loss = -(target.log_prob(z).mean() - D.kl_divergence(q, D.Normal(0.0, 1.0)).sum())
        cat = D.Categorical(logits=logits)  # REINFORCE term
        a = cat.sample((3,))
        reward = (a == 2).float()
        loss = loss - (cat.log_prob(a) * reward).mean()
        loss.backward()
        opt.step()
        return loss.detach()

    eager = make()
    e_losses = [step(*eager).item() for _ in range(2)]
    comp = make()
    jstep = mt.jit(lambda: step(*comp))
    j_losses = [jstep().item() for _ in range(2)]  # the first call runs eagerly, the second compiled
    np.testing.assert_allclose(j_losses, e_losses, rtol=1e-5, atol=1e-5)
    for a, b in zip(eager[:3], comp[:3]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    j_losses.append(jstep().item())
    assert jstep.num_compiles == 1 and len(set(j_losses)) == 3  # new samples on every call
