"""nn.utils.parametrize / parametrizations / legacy weight & spectral norm against torch:
same weights in both, compare outputs, gradients, state_dict keys and values after SGD steps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.utils import parametrizations as MP
from minitorch_jax.nn.utils import parametrize as P

from .oracle import torch

TP = torch.nn.utils.parametrizations
TZ = torch.nn.utils.parametrize


def _load(m, t):
    res = m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    assert not res.missing_keys and not res.unexpected_keys


def _pair(n_in=3, n_out=4):
    t = torch.nn.Linear(n_in, n_out)
    m = mt.nn.Linear(n_in, n_out)
    _load(m, t)
    return m, t


def _train(m, t, steps=2, shape=(5, 3), atol=1e-5):
    """Same SGD steps in both; compare loss, grads, outputs and the state_dict each step."""
    om = mt.optim.SGD(m.parameters(), lr=0.1)
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = rng.standard_normal(shape).astype(np.float32)
        lm = m(mt.tensor(x)).square().mean()
        lt = t(torch.tensor(x)).square().mean()
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5, atol=atol)
        om.zero_grad()
        ot.zero_grad()
        lm.backward()
        lt.backward()
        for (n, p), (n2, q) in zip(m.named_parameters(), t.named_parameters()):
            assert n == n2
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=atol, err_msg=n)
        om.step()
        ot.step()
    sm, st = m.state_dict(), t.state_dict()
    assert list(sm) == list(st)
    for k in st:
        np.testing.assert_allclose(sm[k].numpy(), st[k].detach().numpy(), rtol=1e-4, atol=atol, err_msg=k)


class MSym(mt.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class MNeg(mt.nn.Module):
    def forward(self, X):
        return -X


class TSym(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class MScale(mt.nn.Module):
    def forward(self, X):
        return 2.0 * X

    def right_inverse(self, A):
        return A / 2.0


class TScale(torch.nn.Module):
    def forward(self, X):
        return 2.0 * X

    def right_inverse(self, A):
        return A / 2.0


def test_register_custom_parametrization_matches_torch():
    m, t = _pair(3, 3)
    w = m.weight
    P.register_parametrization(m, "weight", MSym())
    TZ.register_parametrization(t, "weight", TSym())
    assert type(m).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert isinstance(m, mt.nn.Linear)
    assert m.parametrizations.weight.original is w  # the same object: optimizers stay valid
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert P.type_before_parametrizations(m) is mt.nn.Linear
    np.testing.assert_allclose(m.weight.detach().numpy(), m.weight.detach().numpy().T)
    _train(m, t, shape=(5, 3))
    # chaining a second parametrization, with right_inverse
    P.register_parametrization(m, "weight", MScale())
    TZ.register_parametrization(t, "weight", TScale())
    assert len(m.parametrizations.weight) == 2
    _train(m, t, shape=(5, 3))
    # assigning goes through the right inverses
    X = np.arange(9, dtype=np.float32).reshape(3, 3)
    X = X + X.T
    with torch.no_grad():
        t.weight = torch.tensor(X)
    m.weight = mt.tensor(X)
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy())
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(),
                               t.parametrizations.weight.original.detach().numpy())


def test_remove_parametrizations():
    m, t = _pair(3, 3)
    P.register_parametrization(m, "weight", MSym())
    TZ.register_parametrization(t, "weight", TSym())
    orig = m.parametrizations.weight.original
    P.remove_parametrizations(m, "weight")
    TZ.remove_parametrizations(t, "weight")
    assert type(m) is mt.nn.Linear and not hasattr(m, "parametrizations")
    assert m.weight is orig and isinstance(m.weight, mt.nn.Parameter)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy())
    # leave_parametrized=False restores the original values
    m2, t2 = _pair(3, 3)
    before = m2.weight.detach().numpy().copy()
    P.register_parametrization(m2, "weight", MSym())
    P.remove_parametrizations(m2, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m2.weight.detach().numpy(), np.triu(before))  # right_inverse ran
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(m2, "weight")


def test_parametrize_errors():
    m, _ = _pair()
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element "
                                         "with name 'nope'"):
        P.register_parametrization(m, "nope", MSym())

    class Shrink(mt.nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", Shrink())
    P.register_parametrization(m, "weight", Shrink(), unsafe=True)
    assert tuple(m.weight.shape) == (1, 3)
    with pytest.raises(ValueError, match="requires one or more modules"):
        P.ParametrizationList([], mt.zeros(2))
    m3, _ = _pair(3, 3)
    P.register_parametrization(m3, "weight", MNeg())
    with pytest.raises(RuntimeError, match="MNeg does not implement right_inverse"):
        m3.weight = mt.zeros(3, 3)


def test_cached():
    m, _ = _pair(3, 3)
    P.register_parametrization(m, "weight", MSym())
    assert m.weight is not m.weight
    with P.cached():
        a = m.weight
        assert m.weight is a
    assert m.weight is not a


def test_weight_norm_matches_torch():
    for dim in (1, None):
        m, t = _pair()
        MP.weight_norm(m, dim=dim)
        TP.weight_norm(t, dim=dim)
        assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-6, err_msg=k)
        _train(m, t, steps=1 if dim is None else 2)
    # old weight_g / weight_v checkpoints load
    m, t = _pair()
    MP.weight_norm(m)
    sd = {"bias": np.zeros(4, np.float32), "weight_g": np.full((4, 1), 2.0, np.float32),
          "weight_v": np.ones((4, 3), np.float32)}
    m.load_state_dict(sd)
    np.testing.assert_allclose(m.weight.detach().numpy(), np.full((4, 3), 2 / np.sqrt(3)), rtol=1e-6)


def test_spectral_norm_matches_torch():
    m, t = _pair()
    MP.spectral_norm(m)
    TP.spectral_norm(t)
    assert list(m.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
        "parametrizations.weight.0._v"]
    s = np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)
    np.testing.assert_allclose(s[0], 1.0, rtol=1e-3)  # 15 power iterations at registration
    _load(m, t)  # torch's random start vectors
    _train(m, t)
    # eval: no power iteration, the buffers stay
    m.eval()
    u = m.parametrizations.weight[0]._u.numpy().copy()
    m(mt.ones(2, 3))
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got "
                                         "n_power_iterations=0"):
        MP.spectral_norm(mt.nn.Linear(3, 3), n_power_iterations=0)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] "
                                         "but got 3\\)"):
        MP.spectral_norm(mt.nn.Linear(3, 3), dim=3)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        MP.spectral_norm(mt.nn.Linear(3, 3), name="w")


@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_matches_torch(omap):
    n_out = 4 if omap == "householder" else 3
    m, t = _pair(3, n_out)
    MP.orthogonal(m, orthogonal_map=omap)
    TP.orthogonal(t, orthogonal_map=omap)
    assert list(m.state_dict()) == list(t.state_dict())
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-5)
    if n_out == 3:  # square: deterministic, no state copied
        np.testing.assert_allclose(w, t.weight.detach().numpy(), atol=1e-5)
    _load(m, t)
    _train(m, t, steps=1)
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-5)


def test_orthogonal_without_trivialization_and_errors():
    m, t = _pair(3, 5)
    MP.orthogonal(m, use_trivialization=False)
    TP.orthogonal(t, use_trivialization=False)
    assert list(m.state_dict()) == list(t.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w.T @ w, np.eye(3), atol=1e-5)
    _load(m, t)  # the signs of the Householder vectors depend on the QR implementation
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-5)
    _train(m, t, steps=1)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", '
                                         '"householder". Got: x'):
        MP.orthogonal(mt.nn.Linear(3, 3), orthogonal_map="x")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 "
                                         "dimensions."):
        MP.orthogonal(mt.nn.Linear(3, 3), name="bias")


def test_legacy_weight_norm_matches_torch():
    m, t = _pair()
    with pytest.warns(FutureWarning, match="deprecated in favor of"):
        mt.nn.utils.weight_norm(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(t)
    assert list(m.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    _train(m, t)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same "
                                           "parameter weight"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mt.nn.utils.weight_norm(m)
    mt.nn.utils.remove_weight_norm(m)
    torch.nn.utils.remove_weight_norm(t)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        mt.nn.utils.remove_weight_norm(m)


def test_legacy_spectral_norm_matches_torch():
    m, t = _pair()
    mt.nn.utils.spectral_norm(m)
    torch.nn.utils.spectral_norm(t)
    assert list(m.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    _load(m, t)
    _train(m, t)
    mt.nn.utils.remove_spectral_norm(m)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        mt.nn.utils.remove_spectral_norm(m)


def _make_step(m, opt):
    def step(x):
        opt.zero_grad()
        loss = m(x).square().mean()
        loss.backward()
        opt.step()
        return loss
    return step


def _jit_vs_eager(make):
    results = []
    for compiled in (False, True):
        mt.manual_seed(0)
        m = make()
        opt = mt.optim.SGD(m.parameters(), lr=0.1)

        step = _make_step(m, opt)
        fn = mt.jit(step) if compiled else step
        x = mt.tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))
        losses = [fn(x).item() for _ in range(2)]
        results.append((losses, {k: v.numpy() for k, v in m.state_dict().items()}))
    (le, se), (lj, sj) = results
    np.testing.assert_allclose(lj, le, rtol=1e-5)
    for k in se:
        np.testing.assert_allclose(sj[k], se[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_parametrized_training_inside_jit():
    _jit_vs_eager(lambda: MP.spectral_norm(mt.nn.Linear(3, 4)))  # buffers updated in the step


def test_legacy_norm_training_inside_jit():
    def make():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mt.nn.utils.weight_norm(mt.nn.Linear(3, 4))
    _jit_vs_eager(make)
    _jit_vs_eager(lambda: mt.nn.utils.spectral_norm(mt.nn.Linear(3, 4)))
