"""nn.AdaptiveLogSoftmaxWithLoss against torch with torch's weights: output, loss, log_prob, predict,
gradients, state-dict names, errors, and a run under mt.jit."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import assert_same, torch

rng = np.random.default_rng(0)
TOL = dict(rtol=1e-5, atol=1e-5)


def _pair(head_bias=True, cutoffs=(4, 9, 15)):
    torch.manual_seed(0)
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, list(cutoffs), div_value=2.0, head_bias=head_bias)
    m = mt.nn.AdaptiveLogSoftmaxWithLoss(16, 20, list(cutoffs), div_value=2.0, head_bias=head_bias)
    copy_state(m, t)  # strict: the same parameter names
    return m, t


def test_forward_loss_and_gradients_match_torch():
    m, t = _pair()
    x = rng.standard_normal((7, 16)).astype("float32")
    y = np.array([0, 3, 5, 19, 12, 9, 4])  # every cluster, both ends of each
    tx, mx = torch.tensor(x, requires_grad=True), mt.tensor(x, requires_grad=True)
    to, mo = t(tx, torch.tensor(y)), m(mx, mt.tensor(y))
    assert type(mo).__name__ == "_ASMoutput" and mo._fields == ("output", "loss")
    assert_same(mo.output, to.output, **TOL)
    assert_same(mo.loss, to.loss, **TOL)
    (to.loss + to.output[2]).backward()
    (mo.loss + mo.output[2]).backward()
    assert_same(mx.grad, tx.grad, **TOL, what="input grad")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert_same(p.grad, tp[name].grad, **TOL, what=f"grad of {name}")
    # unbatched: 1-D input, 0-D target
    to, mo = t(tx[1].detach(), torch.tensor(y[1])), m(mx[1].detach(), mt.tensor(y[1]))
    assert_same(mo.output, to.output, **TOL)
    assert_same(mo.loss, to.loss, **TOL)


def test_log_prob_and_predict_match_torch():
    m, t = _pair(head_bias=True, cutoffs=(3, 8))
    x = rng.standard_normal((9, 16)).astype("float32")
    assert_same(m.log_prob(mt.tensor(x)), t.log_prob(torch.tensor(x)), **TOL)
    with torch.no_grad():  # push the head towards the clusters for some rows, all rows, no row
        for bias in ([0, 0, 0, 3.0, 0], [0, 0, 0, 40.0, 40.0], [40.0, 0, 0, 0, 0]):
            t.head.bias.copy_(torch.tensor(bias))
            copy_state(m, t)
            tp, mp = t.predict(torch.tensor(x)), m.predict(mt.tensor(x))
            assert_same(mp, tp)
            np.testing.assert_array_equal(mp.numpy(), m.log_prob(mt.tensor(x)).argmax(1).numpy())
    assert (mp.numpy() < 3).all()


def test_state_dict_and_repr_match_torch():
    m, t = _pair(head_bias=False)
    assert list(m.state_dict()) == list(t.state_dict())
    assert repr(m) == repr(t)
    assert (m.shortlist_size, m.n_clusters, m.head_size, m.cutoffs) == (4, 3, 7, [4, 9, 15, 20])


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 20], [4, 4], [2.5]])
def test_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        mt.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)


def test_bad_inputs_and_targets():
    m = mt.nn.AdaptiveLogSoftmaxWithLoss(16, 10, [3, 6])
    x = mt.randn(4, 16)
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\], but values in range "
                                           r"\[-1, 10\] were found"):
        m(x, mt.tensor([1, -1, 10, 2]))
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(x, mt.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        m(mt.randn(4, 2, 16), mt.tensor([1, 2, 3, 4]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        m(x, mt.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(x, mt.zeros(4, 2, dtype=mt.int64))


def test_runs_under_jit():
    m, t = _pair()
    x = rng.standard_normal((5, 16)).astype("float32")
    y = np.array([1, 19, 7, 12, 0])

    @mt.jit
    def step(inp, tgt):
        return m(inp, tgt).loss

    loss = step(mt.tensor(x), mt.tensor(y))
    assert_same(loss, t(torch.tensor(x), torch.tensor(y)).loss, **TOL)
    pred = mt.jit(m.predict)(mt.tensor(x))
    assert_same(pred, t.predict(torch.tensor(x)))
