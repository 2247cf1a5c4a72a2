"""nn.init (formulas and distributions vs torch), nn.utils (clipping, parameter vectors) and
mt.func.functional_call on Modules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn

from .oracle import torch

init = nn.init


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("selu", None), ("conv_transpose1d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(30, 40), (16, 8, 3, 3), (5, 7, 2)])
def test_fan_in_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(mt.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mt.empty(3))


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), np.abs(a).max()


@pytest.mark.parametrize("fn,kwargs,kind", [
    ("uniform_", dict(a=-0.5, b=1.5), "uniform"),
    ("normal_", dict(mean=0.3, std=0.7), "normal"),
    ("xavier_uniform_", dict(gain=2.0), "uniform"),
    ("xavier_normal_", dict(gain=0.5), "normal"),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), "uniform"),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), "uniform"),
    ("kaiming_normal_", dict(nonlinearity="relu"), "normal"),
    ("trunc_normal_", dict(std=0.5, a=-0.6, b=0.9), "trunc"),
])
def test_random_inits_have_torchs_distribution(fn, kwargs, kind):
    shape = (256, 192)
    m = getattr(init, fn)(mt.empty(shape), **kwargs)
    t = getattr(torch.nn.init, fn)(torch.empty(shape), **kwargs)
    mm, ms, mx = _stats(m)
    tm, ts, tx = _stats(t)
    assert ms == pytest.approx(ts, rel=0.05)
    assert mm == pytest.approx(tm, abs=0.02)
    if kind in ("uniform", "trunc"):
        lo, hi = t.min().item(), t.max().item()
        assert m.min().item() >= lo - 0.02 * abs(lo) - 1e-3 and m.max().item() <= hi + 0.02 * abs(hi) + 1e-3


def test_deterministic_inits_equal_torch():
    cases = [("constant_", (3, 4), dict(val=0.25)), ("ones_", (2, 5), {}), ("zeros_", (2, 2), {}),
             ("eye_", (3, 5), {}), ("dirac_", (4, 2, 3, 3), {}), ("dirac_", (6, 2, 3), dict(groups=2))]
    for fn, shape, kw in cases:
        m = getattr(init, fn)(mt.empty(shape), **kw)
        t = getattr(torch.nn.init, fn)(torch.empty(shape), **kw)
        np.testing.assert_array_equal(m.numpy(), t.numpy(), err_msg=fn)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(mt.empty(2, 2, 2))


def test_orthogonal_and_sparse():
    w = init.orthogonal_(mt.empty(6, 10), gain=2.0).numpy().astype(np.float64)
    np.testing.assert_allclose(w @ w.T, 4 * np.eye(6), atol=1e-4)
    w = init.orthogonal_(mt.empty(10, 4)).numpy().astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-5)
    s = init.sparse_(mt.empty(10, 6), sparsity=0.3).numpy()
    assert ((s == 0).sum(0) >= 3).all()


def test_init_works_on_parameters_without_recording():
    p = nn.Parameter(mt.empty(3, 3))
    init.kaiming_uniform_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_init_reproducible_with_seed_and_generator():
    mt.manual_seed(0)
    a = init.normal_(mt.empty(5)).numpy()
    mt.manual_seed(0)
    b = init.normal_(mt.empty(5)).numpy()
    np.testing.assert_array_equal(a, b)
    g = mt.Generator().manual_seed(3)
    c = init.uniform_(mt.empty(4), generator=g).numpy()
    g.manual_seed(3)
    np.testing.assert_array_equal(c, init.uniform_(mt.empty(4), generator=g).numpy())


# ----- nn.utils -------------------------------------------------------------------------------
def _two_models():
    rng = np.random.default_rng(0)
    t = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Linear(5, 3))
    m = nn.Sequential(nn.Linear(4, 5), nn.Linear(5, 3))
    m.load_state_dict(t.state_dict())
    x = rng.standard_normal((6, 4)).astype("float32")
    (t(torch.from_numpy(x)) ** 2).sum().backward()
    (m(mt.tensor(x)) ** 2).sum().backward()
    return m, t


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    m, t = _two_models()
    tn = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
    mn = nn.utils.clip_grad_norm_(m.parameters(), max_norm, norm_type)
    assert float(mn) == pytest.approx(float(tn), rel=1e-5)
    for pm, pt in zip(m.parameters(), t.parameters()):
        # atol: gradients up to ~5 in size, from float32 matmuls (cancellation leaves ~1e-7 in small entries)
        np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(mt.ones(2))
    p.grad = mt.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(mt.ones(2))], 1.0)) == 0.0


def test_clip_grad_value_matches_torch():
    m, t = _two_models()
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.5)
    nn.utils.clip_grad_value_(m.parameters(), 0.5)
    for pm, pt in zip(m.parameters(), t.parameters()):
        np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_parameters_to_vector_and_back():
    m, t = _two_models()
    vm = nn.utils.parameters_to_vector(m.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    np.testing.assert_allclose(vm.detach().numpy(), vt.detach().numpy(), rtol=1e-6)
    nn.utils.vector_to_parameters(vm * 2, m.parameters())
    np.testing.assert_allclose(m[0].weight.detach().numpy(), 2 * t[0].weight.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="elements"):
        nn.utils.vector_to_parameters(mt.ones(3), m.parameters())
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters([1.0], m.parameters())


def test_functional_call_on_module():
    m = nn.Linear(3, 2)
    x = mt.randn(4, 3)
    w = mt.zeros(2, 3)
    out = mt.func.functional_call(m, {"weight": w}, (x,))
    expected = np.broadcast_to(m.bias.detach().numpy(), (4, 2))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    assert m.weight is not w and float(m.weight.abs().sum()) > 0  # restored
    g = mt.func.grad(lambda p: mt.func.functional_call(m, p, (x,)).sum())(
        {k: v.detach() for k, v in m.named_parameters()})
    np.testing.assert_allclose(g["bias"].numpy(), [4.0, 4.0], rtol=1e-6)
