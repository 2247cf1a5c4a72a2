"""nn.utils.prune against torch: masks, state_dict keys, outputs, gradients and training steps
with the same weights in both; errors; training inside mt.jit."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.utils import prune

from .oracle import torch

TPR = pytest.importorskip("torch.nn.utils.prune")


def _pair(n_in=4, n_out=3):
    t = torch.nn.Linear(n_in, n_out)
    m = mt.nn.Linear(n_in, n_out)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return m, t


def _same(m, t, steps=2):
    sm, st = m.state_dict(), t.state_dict()
    assert list(sm) == list(st)
    for k in st:
        np.testing.assert_allclose(sm[k].numpy(), st[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    om = mt.optim.SGD(m.parameters(), lr=0.1)
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    for _ in range(steps):
        lm = m(mt.tensor(x)).square().mean()
        lt = t(torch.tensor(x)).square().mean()
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5)
        om.zero_grad()
        ot.zero_grad()
        lm.backward()
        lt.backward()
        for (n, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
        om.step()
        ot.step()
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_l1_and_ln_structured_match_torch():
    m, t = _pair()
    orig = m.weight
    prune.l1_unstructured(m, "weight", amount=0.5)
    TPR.l1_unstructured(t, "weight", amount=0.5)
    assert m.weight_orig is orig and prune.is_pruned(m)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    # a second pruning of the same tensor: a PruningContainer, only unpruned channels considered
    prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    TPR.ln_structured(t, "weight", amount=1, n=2, dim=0)
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], prune.PruningContainer)
    prune.l1_unstructured(m, "bias", amount=1)
    TPR.l1_unstructured(t, "bias", amount=1)
    _same(m, t)
    prune.remove(m, "weight")
    TPR.remove(t, "weight")
    assert m.weight is orig and isinstance(m.weight, mt.nn.Parameter)
    _same(m, t, steps=1)


def test_global_unstructured_and_custom_mask_match_torch():
    (m1, t1), (m2, t2) = _pair(), _pair()
    prune.global_unstructured([(m1, "weight"), (m2, "weight")], prune.L1Unstructured, amount=10)
    TPR.global_unstructured([(t1, "weight"), (t2, "weight")], TPR.L1Unstructured, amount=10)
    for m, t in ((m1, t1), (m2, t2)):
        np.testing.assert_array_equal(m.weight_mask.numpy(), t.weight_mask.numpy())
    mask = np.array([1, 0, 1], np.float32)
    prune.custom_from_mask(m1, "bias", mt.tensor(mask))
    TPR.custom_from_mask(t1, "bias", torch.tensor(mask))
    _same(m1, t1, steps=1)


def test_random_pruning_counts_and_identity():
    m, _ = _pair(6, 5)
    prune.random_unstructured(m, "weight", amount=0.4)
    assert int((m.weight_mask.numpy() == 0).sum()) == 12
    assert np.array_equal(m.weight.detach().numpy() == 0, m.weight_mask.numpy() == 0)
    m2, _ = _pair(6, 5)
    prune.random_structured(m2, "weight", amount=2, dim=1)
    cols = (m2.weight_mask.numpy() == 0).all(0)
    assert cols.sum() == 2 and (m2.weight_mask.numpy()[:, ~cols] == 1).all()
    m3, _ = _pair()
    prune.identity(m3, "weight")
    assert (m3.weight_mask.numpy() == 1).all() and prune.is_pruned(m3)


def test_prune_errors():
    m, t = _pair()
    with pytest.raises(ValueError, match=r"amount=1.5 should either be a float in the range \[0, 1\] or a "
                                         "non-negative integer"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(TypeError, match="Invalid type for amount: a. Must be int or float."):
        prune.l1_unstructured(m, "weight", amount="a")
    with pytest.raises(ValueError, match="amount=20 should be smaller than the number of parameters to "
                                         "prune=12"):
        prune.l1_unstructured(m, "weight", amount=20)
    assert "weight" in m._parameters and not prune.is_pruned(m)  # a failed pruning is undone
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError, match="Parameter 'weight' of module .* has to be pruned before pruning "
                                         "can be removed"):
        prune.remove(m, "weight")
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE supported'):
        prune.global_unstructured([(m, "weight")], prune.RandomStructured, amount=1)


def test_pruned_training_inside_jit():
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        m, _ = _pair()
        prune.l1_unstructured(m, "weight", amount=0.5)
        opt = mt.optim.SGD(m.parameters(), lr=0.1)
        step = _make_step(m, opt)
        fn = mt.jit(step) if compiled else step
        x = mt.tensor(np.ones((2, 4), np.float32))
        losses = [fn(x).item() for _ in range(2)]
        results.append((losses, m.weight_orig.detach().numpy().copy(), m.weight.detach().numpy().copy()))
    (le, oe, we), (lj, oj, wj) = results
    np.testing.assert_allclose(lj, le, rtol=1e-5)
    np.testing.assert_allclose(oj, oe, rtol=1e-5, atol=1e-6)


def _make_step(m, opt):
    def step(x):
        opt.zero_grad()
        loss = m(x).square().mean()
        loss.backward()
        opt.step()
        return loss
    return step
