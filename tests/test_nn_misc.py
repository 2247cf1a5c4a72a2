"""Distances and small functional ops against torch: normalize, cosine_similarity,
pairwise_distance, pdist, and the CosineSimilarity / PairwiseDistance layers."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import compare_module
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

F = mt.nn.functional
rng = np.random.default_rng(0)


def _x(*shape, dtype="float64"):
    return rng.standard_normal(shape).astype(dtype)


def _compare(name, args, kwargs=None):
    kwargs = kwargs or {}
    t_args, m_args = to_torch(args, True), to_mt(args, True)
    t_out = getattr(torch.nn.functional, name)(*t_args, **kwargs)
    m_out = getattr(F, name)(*m_args, **kwargs)
    assert_same(m_out, t_out)
    check_grads(m_out, t_out, m_args, t_args)


@pytest.mark.parametrize("args,kw", [((_x(3, 4),), {}), ((_x(2, 3, 4),), {"p": 1.0, "dim": -1}),
                                     ((np.zeros((2, 3)),), {}), ((_x(4, dtype="float32"),), {"dim": 0})])
def test_normalize(args, kw):
    _compare("normalize", args, kw)


@pytest.mark.parametrize("args,kw", [((_x(3, 4), _x(3, 4)), {}), ((_x(2, 3, 4), _x(3, 4)), {"dim": -1}),
                                     ((np.zeros((2, 3)), _x(2, 3)), {"eps": 1e-3})])
def test_cosine_similarity(args, kw):
    _compare("cosine_similarity", args, kw)


@pytest.mark.parametrize("args,kw", [((_x(3, 4), _x(3, 4)), {}), ((_x(3, 4), _x(4)), {"p": 1.0}),
                                     ((_x(2, 5), _x(2, 5)), {"p": 3.0, "keepdim": True})])
def test_pairwise_distance(args, kw):
    _compare("pairwise_distance", args, kw)


def test_pdist_and_layers():
    _compare("pdist", (_x(5, 3),))
    _compare("pdist", (_x(4, 2),), {"p": 1.0})
    for tm, mm in [(torch.nn.CosineSimilarity(), mt.nn.CosineSimilarity()),
                   (torch.nn.CosineSimilarity(0, 1e-3), mt.nn.CosineSimilarity(0, 1e-3)),
                   (torch.nn.PairwiseDistance(), mt.nn.PairwiseDistance()),
                   (torch.nn.PairwiseDistance(1.0, 1e-3, True), mt.nn.PairwiseDistance(1.0, 1e-3, True))]:
        compare_module(mm, tm, _x(3, 4, dtype="float32"), _x(3, 4, dtype="float32"))
        assert repr(mm) == repr(tm)


def test_errors():
    with pytest.raises(RuntimeError, match="cosine_similarity"):
        F.cosine_similarity(mt.randn(3, 4), mt.randn(2, 4))
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 1D"):
        F.pdist(mt.randn(3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.normalize(mt.randn(3, 4), dim=2)
