"""Embedding against torch: lookup values and weight gradients, padding_idx (zero gradient row,
zero-initialised), max_norm renormalisation in place, scale_grad_by_freq, from_pretrained,
default init, repr, errors; torch.embedding's ATen signature; one_hot."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import compare_module
from .oracle import assert_same, torch

F = mt.nn.functional
rng = np.random.default_rng(0)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1, "scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_module_parity(kw):
    tm = torch.nn.Embedding(6, 3, **kw)
    mm = mt.nn.Embedding(6, 3, **kw)
    idx = np.array([[0, 2, 5, 2], [1, 2, 3, 0]], dtype=np.int64)
    compare_module(mm, tm, idx)
    # max_norm renormalised the looked-up rows of the weight in place, as torch
    assert_same(mm.weight, tm.weight.detach(), what="weight after forward")
    assert repr(mm) == repr(tm)


def test_padding_idx_gradient_is_zero_and_row_initialised_to_zero():
    emb = mt.nn.Embedding(5, 4, padding_idx=1)
    assert np.all(np.asarray(emb.weight._data[1]) == 0)
    idx = mt.tensor([[1, 2, 1], [0, 1, 4]])
    emb(idx).sum().backward()
    g = np.asarray(emb.weight.grad._data)
    assert np.all(g[1] == 0) and np.all(g[0] == 1) and np.all(g[3] == 0) and np.all(g[2] == 1)


def test_functional_embedding_and_aten_form():
    w = rng.standard_normal((5, 3))
    idx = np.array([4, 0, 4, 2])
    tw, mw = torch.tensor(w, requires_grad=True), mt.tensor(w, requires_grad=True)
    t_out = torch.embedding(tw, torch.from_numpy(idx), 0, True)
    m_out = mt.embedding(mw, mt.tensor(idx), 0, True)
    assert_same(m_out, t_out)
    ct = rng.standard_normal((4, 3))
    (t_out * torch.from_numpy(ct)).sum().backward()
    (m_out * mt.tensor(ct)).sum().backward()
    assert_same(mw.grad, tw.grad)
    assert_same(F.embedding(mt.tensor(idx, dtype=mt.int32), mw), torch.nn.functional.embedding(
        torch.from_numpy(idx).int(), tw))


def test_from_pretrained_init_and_errors():
    w = mt.randn(4, 2)
    emb = mt.nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad and emb.num_embeddings == 4 and emb.embedding_dim == 2
    assert mt.nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    big = mt.nn.Embedding(400, 100).weight._data
    assert abs(float(big.mean())) < 0.02 and abs(float(big.std()) - 1) < 0.02
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(mt.tensor([5]), mt.randn(4, 2))
    with pytest.raises(IndexError, match="index out of range"):
        mt.nn.Embedding(4, 2)(mt.tensor([-1]))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        F.embedding(mt.tensor([1.0]), mt.randn(4, 2))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        mt.nn.Embedding(3, 2, padding_idx=3)
    for kw in [{}, {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True,
                    "sparse": True}]:
        assert repr(mt.nn.Embedding(3, 4, **kw)) == repr(torch.nn.Embedding(3, 4, **kw))


def test_one_hot():
    x = np.array([[0, 3], [2, 1]])
    assert_same(F.one_hot(mt.tensor(x)), torch.nn.functional.one_hot(torch.from_numpy(x)))
    assert_same(F.one_hot(mt.tensor(x), 6), torch.nn.functional.one_hot(torch.from_numpy(x), 6))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(mt.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(mt.tensor([-1, 2]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(mt.tensor([1.0]))
