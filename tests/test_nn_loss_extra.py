"""MultiMarginLoss, MultiLabelMarginLoss, TripletMarginWithDistanceLoss, ChannelShuffle and gumbel_softmax
against torch (values, input gradients, reprs, errors); gumbel_softmax by its statistics (its noise
comes from mt's generator, not torch's)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.modules.loss_extra import (
    ChannelShuffle,
    MultiLabelMarginLoss,
    MultiMarginLoss,
    TripletMarginWithDistanceLoss,
)

from .oracle import torch

F = mt.nn.functional
TF = torch.nn.functional
rng = np.random.default_rng(0)


def _pair(a, grad=True):
    t = torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    m = mt.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return m, t


def _check(m_out, t_out, m_in, t_in, tol=1e-5):
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)
    if m_in:
        cot = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
        (m_out * mt.tensor(cot)).sum().backward()
        (t_out * torch.tensor(cot)).sum().backward()
        for m, t in zip(m_in, t_in):
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


# ----- MultiMarginLoss ----------------------------------------------------------------------------
@pytest.mark.parametrize("p,margin,reduction", [(1, 1.0, "mean"), (2, 0.5, "none"), (1, 2.0, "sum")])
def test_multi_margin_module_matches_torch(p, margin, reduction):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = rng.integers(0, 4, 5)
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    mx, tx = _pair(x)
    m = MultiMarginLoss(p=p, margin=margin, weight=mt.tensor(w), reduction=reduction)
    t = torch.nn.MultiMarginLoss(p=p, margin=margin, weight=torch.tensor(w), reduction=reduction)
    _check(m(mx, mt.tensor(y)), t(tx, torch.tensor(y)), [mx], [tx])
    assert "weight" in m.state_dict() and repr(m) == repr(t) == "MultiMarginLoss()"


def test_multi_margin_errors():
    x, y = mt.randn(3, 4), mt.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(x, y, p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        MultiMarginLoss(p=0)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
        MultiMarginLoss(weight=mt.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3\], but got \[2\]"):
        F.multi_margin_loss(x, mt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"non-empty vector or matrix .* got: \[2, 3, 4\]"):
        F.multi_margin_loss(mt.randn(2, 3, 4), mt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        F.multi_margin_loss(x, y.float())
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 4 but got \[3\]"):
        F.multi_margin_loss(x, y, weight=mt.ones(3))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.multi_margin_loss(x, y, weight=mt.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.multi_margin_loss(x, y, reduction="foo")


def test_multi_margin_under_jit():
    x = mt.randn(4, 3)
    y = mt.tensor([0, 2, 1, 1])
    f = mt.jit(lambda a, b: F.multi_margin_loss(a, b, p=2))
    ref = TF.multi_margin_loss(torch.tensor(x.numpy()), torch.tensor(y.numpy()), p=2)
    np.testing.assert_allclose(f(x, y).item(), ref.item(), rtol=1e-5)


# ----- MultiLabelMarginLoss -----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "none", "sum"])
def test_multilabel_margin_module_matches_torch(reduction):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [4, 4, 2, -1, -1]])
    mx, tx = _pair(x)
    m, t = MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(reduction=reduction)
    _check(m(mx, mt.tensor(y)), t(tx, torch.tensor(y)), [mx], [tx])
    assert repr(m) == repr(t)


def test_multilabel_margin_errors():
    x = mt.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"inconsistent target size: \[3\] for input of size: \[3, 4\]"):
        F.multilabel_margin_loss(x, mt.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
        F.multilabel_margin_loss(x, mt.zeros(3, 4, dtype=mt.int32))
    with pytest.raises(RuntimeError, match="non-empty vector or matrix"):
        F.multilabel_margin_loss(mt.randn(2, 3, 4), mt.zeros(2, 3, 4, dtype=mt.int64))


# ----- TripletMarginWithDistanceLoss --------------------------------------------------------------
def _cos_dist(a, b):
    return 1.0 - (a * b).sum(-1) / ((a * a).sum(-1).sqrt() * (b * b).sum(-1).sqrt())


@pytest.mark.parametrize("dist", ["default", "l1", "cos"])
@pytest.mark.parametrize("swap,reduction", [(False, "mean"), (True, "none")])
def test_triplet_with_distance_matches_torch(dist, swap, reduction):
    arrs = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(3)]
    pairs = [_pair(a) for a in arrs]
    md = {"default": None, "l1": mt.nn.PairwiseDistance(p=1), "cos": _cos_dist}[dist]
    td = {"default": None, "l1": torch.nn.PairwiseDistance(p=1), "cos": _cos_dist}[dist]
    m = TripletMarginWithDistanceLoss(distance_function=md, margin=0.7, swap=swap, reduction=reduction)
    t = torch.nn.TripletMarginWithDistanceLoss(distance_function=td, margin=0.7, swap=swap,
                                               reduction=reduction)
    _check(m(*[p[0] for p in pairs]), t(*[p[1] for p in pairs]), [p[0] for p in pairs], [p[1] for p in pairs])
    if dist != "cos":
        assert repr(m) == repr(t)


def test_triplet_with_distance_errors():
    a = mt.randn(3, 2)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0 instead"):
        TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=-1)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_with_distance_loss(a, a, mt.randn(2))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, a, a, reduction="bad")
    with pytest.raises(TypeError, match="distance_function must be callable"):
        F.triplet_margin_with_distance_loss(a, a, a, distance_function=3)


# ----- channel_shuffle ----------------------------------------------------------------------------
def test_channel_shuffle_everywhere():
    x = np.arange(2 * 6 * 2, dtype=np.float32).reshape(2, 6, 2)
    want = torch.channel_shuffle(torch.tensor(x), 3).numpy()
    for f in (mt.channel_shuffle, mt.native_channel_shuffle, F.channel_shuffle, ChannelShuffle(3)):
        out = f(mt.tensor(x)) if isinstance(f, ChannelShuffle) else f(mt.tensor(x), 3)
        np.testing.assert_array_equal(out.numpy(), want)
    assert repr(ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    with pytest.raises(RuntimeError, match="Got 6 channels and 4 groups"):
        ChannelShuffle(4)(mt.tensor(x))
    with pytest.raises(RuntimeError, match="expects input with > 2 dims"):
        F.channel_shuffle(mt.randn(2, 4), 2)
    with pytest.raises(RuntimeError, match="Value of groups:0"):
        F.channel_shuffle(mt.randn(2, 4, 1), 0)
    with pytest.raises(TypeError, match="'groups' must be int"):
        F.channel_shuffle(mt.randn(2, 4, 1), 2.0)


# ----- gumbel_softmax -----------------------------------------------------------------------------
def test_gumbel_softmax_shape_sum_and_reproducible():
    logits = mt.randn(3, 4, 5)
    mt.manual_seed(7)
    a = F.gumbel_softmax(logits, tau=0.5, dim=1)
    b = F.gumbel_softmax(logits, tau=0.5, dim=1)
    mt.manual_seed(7)
    a2 = F.gumbel_softmax(logits, tau=0.5, dim=1)
    assert a.shape == (3, 4, 5) and a.dtype == mt.float32
    np.testing.assert_allclose(a.sum(1).numpy(), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    assert not np.allclose(a.numpy(), b.numpy())
    h = F.gumbel_softmax(logits.double(), hard=True)
    assert h.dtype == mt.float64
    assert set(np.unique(h.numpy())) <= {0.0, 1.0} and np.all(h.sum(-1).numpy() == 1)


def test_gumbel_softmax_statistics():
    p = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    logits = mt.tensor(np.log(np.tile(p, (20000, 1))))
    mt.manual_seed(0)
    hard = F.gumbel_softmax(logits, hard=True).numpy()
    np.testing.assert_allclose(hard.mean(0), p, atol=0.015)  # argmax of logits + Gumbel ~ Categorical(p)
    soft = F.gumbel_softmax(logits, tau=100.0).numpy()  # high temperature: near uniform
    np.testing.assert_allclose(soft.mean(0), 0.25, atol=0.01)


def test_gumbel_softmax_straight_through_gradient():
    logits = mt.randn(4, 3, requires_grad=True)
    w = mt.randn(4, 3)
    mt.manual_seed(3)
    soft = F.gumbel_softmax(logits, tau=0.7)
    (soft * w).sum().backward()
    g_soft = logits.grad.numpy().copy()
    logits.grad = None
    mt.manual_seed(3)  # same noise: the hard sample's gradient is the soft sample's
    hard = F.gumbel_softmax(logits, tau=0.7, hard=True)
    (hard * w).sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), g_soft, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(hard.detach().numpy().argmax(1), soft.detach().numpy().argmax(1))
    assert np.all(hard.detach().numpy().max(1) == 1)


def test_gumbel_softmax_errors_and_warning():
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(mt.randn(2, 3), eps=1e-5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.gumbel_softmax(mt.randn(2, 3), dim=2)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.gumbel_softmax(mt.tensor([[1, 2]]))


def test_gumbel_softmax_under_jit_draws_fresh_noise():
    f = mt.jit(lambda x: F.gumbel_softmax(x, tau=1.0))
    x = mt.zeros(2, 8)
    a, b = f(x).numpy(), f(x).numpy()
    assert a.shape == (2, 8) and not np.allclose(a, b)
    np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
