"""Edge cases of the statistics ops (diff, histc, bincount, cdist, meshgrid, unfold ...) against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt

from .oracle import assert_same, torch


def test_diff_errors_name_op_and_values():
    with pytest.raises(RuntimeError, match=r"diff\(\).*-1"):
        mt.diff(mt.ones(3), n=-1)
    with pytest.raises(IndexError):
        mt.diff(mt.ones(3), dim=2)


def test_unfold_errors_match_torch_kind():
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 5 but size is 6"):
        mt.ones(5).unfold(0, 6, 1)
    with pytest.raises(RuntimeError, match="step is 0"):
        mt.ones(5).unfold(0, 2, 0)


@given(n=st.integers(0, 7), size=st.integers(0, 7), step=st.integers(1, 4), lead=st.integers(1, 3))
def test_unfold_matches_torch(n, size, step, lead):
    x = np.arange(lead * n, dtype=np.float32).reshape(lead, n)
    try:
        t = torch.from_numpy(x).unfold(1, size, step)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mt.tensor(x).unfold(1, size, step)
        return
    assert_same(mt.tensor(x).unfold(1, size, step), t)


def test_cdist_float32_accuracy_close_points():
    rng = np.random.default_rng(0)
    a = (1000 + rng.standard_normal((6, 4))).astype(np.float32)
    b = (a[:5] + 1e-3 * rng.standard_normal((5, 4))).astype(np.float32)
    assert_same(mt.cdist(mt.tensor(a), mt.tensor(b)), torch.cdist(torch.tensor(a), torch.tensor(b)),
                rtol=1e-5, atol=1e-5)


def test_cdist_grad_at_zero_distance_is_zero_like_torch():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    m = mt.tensor(x).requires_grad_(True)
    t = torch.tensor(x, requires_grad=True)
    mt.cdist(m, mt.tensor(x)).sum().backward()
    torch.cdist(t, torch.tensor(x)).sum().backward()
    assert_same(m.grad, t.grad)
    assert np.isfinite(np.asarray(m.grad._data)).all()


def test_histc_edges_and_data_range():
    x = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, -0.1], np.float32)
    for args in [(4, 0, 1), (3,), (2, 0.25, 0.75)]:
        assert_same(mt.histc(mt.tensor(x), *args), torch.histc(torch.tensor(x), *args))


def test_bincount_minlength_and_weights_dtype():
    x = np.array([0, 2, 2, 5], np.int64)
    assert_same(mt.bincount(mt.tensor(x), minlength=8), torch.bincount(torch.tensor(x), minlength=8))
    w = np.array([1, 2, 3, 4], np.int64)
    assert_same(mt.bincount(mt.tensor(x), mt.tensor(w)), torch.bincount(torch.tensor(x), torch.tensor(w)))


def test_meshgrid_default_indexing_warns_and_is_ij():
    a, b = np.arange(3.0, dtype=np.float32), np.arange(2.0, dtype=np.float32)
    with pytest.warns(UserWarning):
        out = mt.meshgrid(mt.tensor(a), mt.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.meshgrid(torch.tensor(a), torch.tensor(b))
    assert_same(out, ref)
    assert isinstance(out, tuple)


def test_meshgrid_list_and_varargs_agree():
    a, b = mt.arange(3.0), mt.arange(4.0)
    for x, y in zip(mt.meshgrid([a, b], indexing="xy"), mt.meshgrid(a, b, indexing="xy")):
        assert_same(x, torch.tensor(np.asarray(y._data)))


def test_cov_weights_grad_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5))
    w = rng.uniform(0.5, 2, 5)
    mx, mw = mt.tensor(x).requires_grad_(True), mt.tensor(w).requires_grad_(True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    mt.cov(mx, aweights=mw, correction=1).sum().backward()
    torch.cov(tx, aweights=tw, correction=1).sum().backward()
    assert_same(mx.grad, tx.grad)
    assert_same(mw.grad, tw.grad)


def test_trapz_alias_and_chain_matmul_single():
    y = np.array([1.0, 3.0, 2.0], np.float32)
    assert_same(mt.trapz(mt.tensor(y), dx=0.5), torch.trapz(torch.tensor(y), dx=0.5))
    m = mt.ones(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(mt.chain_matmul(m), torch.chain_matmul(torch.ones(2, 3)))
    with pytest.raises(RuntimeError, match="chain_matmul"):
        mt.chain_matmul()
