"""torch's top-level ATen-named ops (``_ops/toplevel_ops.py``): what the parity samples cannot
check - random results (statistics, mask consistency), in-place effects, running-stat updates,
copy semantics of ``frombuffer``, randomized low-rank SVD accuracy, and ``mt.jit``."""

from __future__ import annotations

import array

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch


def _np(t):
    return np.asarray(t.detach()._data)


# ----- dropout family ----------------------------------------------------------------------------
def test_native_dropout_statistics_mask_and_grad():
    mt.manual_seed(0)
    x = mt.ones(4000, requires_grad=True)
    out, mask = mt.native_dropout(x, 0.3, True)
    assert mask.dtype == mt.bool and out.shape == x.shape
    m = _np(mask)
    assert abs(m.mean() - 0.7) < 0.04
    np.testing.assert_allclose(_np(out), m / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), m / 0.7, rtol=1e-6)
    assert type(out.grad_fn).__name__ == "NativeDropoutBackward0"
    assert not mask.requires_grad


def test_native_dropout_seeded_train_false_and_none():
    x = mt.randn(50)
    mt.manual_seed(3)
    a = mt.native_dropout(x, 0.5, None)[1]  # None means train
    mt.manual_seed(3)
    b = mt.native_dropout(x, 0.5, True)[1]
    assert np.array_equal(_np(a), _np(b)) and not _np(a).all()
    c = mt.native_dropout(x, 0.5, True)[1]
    assert not np.array_equal(_np(a), _np(c))  # the generator advanced
    out, mask = mt.native_dropout(x, 0.5, False)
    assert _np(mask).all() and np.array_equal(_np(out), _np(x))
    with pytest.raises(RuntimeError, match="bernoulli_ expects p to be in"):
        mt.native_dropout(x, 1.5, True)


@pytest.mark.parametrize("name", ["dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_"])
def test_inplace_dropouts(name):
    mt.manual_seed(1)
    x = mt.randn(8, 16, 5)
    before = _np(x).copy()
    v = x._version
    r = getattr(mt, name)(x, 0.5, True)
    assert r is x and x._version > v
    after = _np(x)
    if name.startswith("feature"):  # one draw per (sample, channel): each slice all kept or all dropped
        ratio = after / before
        assert np.allclose(ratio, ratio[..., :1], atol=1e-5) or name == "feature_alpha_dropout_"
        if name == "feature_dropout_":
            dropped = (after == 0).all(-1)
            assert 0.2 < dropped.mean() < 0.8 and ((after == 0).any(-1) == dropped).all()
    elif name == "dropout_":
        kept = after != 0
        assert 0.4 < kept.mean() < 0.6
        np.testing.assert_allclose(after[kept], before[kept] * 2, rtol=1e-6)
    else:  # alpha dropout: dropped elements all take one value
        vals, counts = np.unique(np.round(after, 5), return_counts=True)
        assert counts.max() > after.size * 0.3
    y = mt.randn(3, 4)
    keep = _np(y).copy()
    assert getattr(mt, name)(y, 0.5, False) is y and np.array_equal(_np(y), keep)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
        getattr(mt, name)(y, -0.1, True)


# ----- norms ---------------------------------------------------------------------------------------
def test_native_batch_norm_updates_running_stats_like_torch():
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype("float32")
    w, b = np.ones(3, "float32") * 1.5, np.zeros(3, "float32")
    rm, rv = mt.zeros(3), mt.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    out, sm, si = mt.native_batch_norm(mt.tensor(x), mt.tensor(w), mt.tensor(b), rm, rv, True, 0.2, 1e-5)
    tout, tsm, tsi = torch.native_batch_norm(torch.tensor(x), torch.tensor(w), torch.tensor(b), trm, trv,
                                             True, 0.2, 1e-5)
    for m, t in ((out, tout), (sm, tsm), (si, tsi), (rm, trm), (rv, trv)):
        np.testing.assert_allclose(_np(m), t.numpy(), rtol=1e-5, atol=1e-5)
    _, e1, e2 = mt.native_batch_norm(mt.tensor(x), None, None, rm, rv, False, 0.2, 1e-5)
    assert e1.shape == (0,) and e2.shape == (0,)


def test_native_layer_norm_stats_do_not_require_grad():
    x = mt.randn(2, 3, 4, requires_grad=True)
    out, mean, rstd = mt.native_layer_norm(x, [4], None, None, 1e-5)
    assert out.requires_grad and not mean.requires_grad and not rstd.requires_grad
    assert mean.shape == (2, 3, 1) and rstd.shape == (2, 3, 1)
    np.testing.assert_allclose(_np(mean)[..., 0], _np(x).mean(-1), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError):
        mt.native_group_norm(mt.randn(2, 6), None, None, 2, 6, 2, 3, 1e-5)  # N*C*HxW != numel


# ----- factories -----------------------------------------------------------------------------------
def test_empty_strided_and_permuted():
    t = mt.empty_strided((2, 3), (1, 2), dtype=mt.float64, requires_grad=True)
    assert t.shape == (2, 3) and t.dtype == mt.float64 and t.requires_grad and t.is_contiguous()
    p = mt.empty_permuted((2, 3, 4), (0, 2, 1), dtype=mt.int32)
    assert p.shape == (2, 3, 4) and p.dtype == mt.int32
    with pytest.raises(RuntimeError, match="must match dimensionality of strides"):
        mt.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="Duplicate dim"):
        mt.empty_permuted((2, 3), (1, 1))


def test_frombuffer_copies_and_checks():
    buf = bytearray(np.arange(4, dtype="float32").tobytes())
    t = mt.frombuffer(buf, dtype=mt.float32)
    buf[0:4] = np.float32(9).tobytes()  # torch would see this write; the copy does not
    assert _np(t).tolist() == [0.0, 1.0, 2.0, 3.0]
    a = mt.frombuffer(array.array("i", [5, 6, 7]), dtype=mt.int32, count=2, offset=4)
    assert _np(a).tolist() == [6, 7] and a.dtype == mt.int32
    with pytest.raises(ValueError, match="must be a multiple of element size"):
        mt.frombuffer(bytearray(6), dtype=mt.float32)
    with pytest.raises(TypeError):
        mt.frombuffer(buf)  # dtype is required


# ----- histogramdd ---------------------------------------------------------------------------------
def test_histogramdd_result_type_and_torch_values():
    x = np.random.default_rng(2).standard_normal((50, 3)).astype("float64")
    r = mt.histogramdd(mt.tensor(x), [2, 3, 4], weight=mt.tensor(np.abs(x[:, 0])), density=True)
    tr = torch.histogramdd(torch.tensor(x), [2, 3, 4], weight=torch.tensor(np.abs(x[:, 0])), density=True)
    assert type(r).__name__ == "histogramdd" and isinstance(r.bin_edges, tuple) and len(r.bin_edges) == 3
    np.testing.assert_allclose(_np(r.hist), tr.hist.numpy(), rtol=1e-10)
    for e, te in zip(r.bin_edges, tr.bin_edges):
        np.testing.assert_allclose(_np(e), te.numpy(), rtol=1e-12)


# ----- low-rank SVD / PCA --------------------------------------------------------------------------
def _low_rank(m, n, k, seed=0, batch=()):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(batch + (m, k)) @ rng.standard_normal(batch + (k, n))).astype("float64")


@pytest.mark.parametrize("shape", [(12, 8), (6, 10), (2, 9, 7)])
def test_svd_lowrank_reconstructs_low_rank_matrix(shape):
    mt.manual_seed(0)
    a = _low_rank(shape[-2], shape[-1], 3, batch=shape[:-2])
    u, s, v = mt.svd_lowrank(mt.tensor(a), q=5)
    k = min(5, *shape[-2:])
    assert u.shape == shape[:-2] + (shape[-2], k) and s.shape == shape[:-2] + (k,)
    assert v.shape == shape[:-2] + (shape[-1], k)
    rec = _np(u) @ (_np(s)[..., :, None] * np.swapaxes(_np(v), -1, -2))
    np.testing.assert_allclose(rec, a, atol=1e-8)
    np.testing.assert_allclose(_np(s)[..., :3], np.linalg.svd(a, compute_uv=False)[..., :3], rtol=1e-8)


def test_svd_lowrank_with_m_and_grad():
    mt.manual_seed(1)
    a = _low_rank(10, 6, 2, seed=3)
    m = np.full((1, 6), 0.5)
    at = mt.tensor(a + m, requires_grad=True)
    u, s, v = mt.svd_lowrank(at, q=4, M=mt.tensor(m))
    np.testing.assert_allclose(_np(s)[:2], np.linalg.svd(a, compute_uv=False)[:2], rtol=1e-8)
    s[:2].sum().backward()  # the nuclear norm's gradient of a rank-2 matrix: U_2 V_2^T
    uu, _, vh = np.linalg.svd(a)
    np.testing.assert_allclose(_np(at.grad), uu[:, :2] @ vh[:2], atol=1e-6)


def test_pca_lowrank_matches_exact_singular_values():
    mt.manual_seed(2)
    a = _low_rank(20, 5, 5, seed=4) + 3.0
    u, s, v = mt.pca_lowrank(mt.tensor(a), niter=4)
    assert s.shape == (5,) and v.shape == (5, 5)
    ts = torch.linalg.svdvals(torch.tensor(a - a.mean(0))).numpy()
    np.testing.assert_allclose(_np(s), ts, rtol=1e-6)
    with pytest.raises(ValueError, match=r"q\(=6\) must be non-negative integer"):
        mt.pca_lowrank(mt.tensor(a[:, :4].copy()), q=6)


# ----- inside mt.jit -------------------------------------------------------------------------------
def test_ops_inside_jit_match_eager():
    x = mt.randn(2, 3, 8)
    w = mt.randn(4, 3, 3)

    def f(x, w):
        y = mt.convolution(x, w, None, [1], [1], [1], False, [0], 1)
        y = mt.constant_pad_nd(y, [1, 1], 0.5)
        out, mean, rstd = mt.native_layer_norm(y, [10], None, None, 1e-5)
        g = mt.native_group_norm(out, None, None, 2, 4, 10, 2, 1e-5)[0]
        return g, mean, rstd

    eager = f(x, w)
    jitted = mt.jit(f)(x, w)
    for e, j in zip(eager, jitted):
        np.testing.assert_allclose(_np(e), _np(j), rtol=1e-5, atol=1e-5)

    @mt.jit
    def drop(x):
        return mt.native_dropout(x, 0.5, True)[1]

    m1, m2 = drop(mt.ones(64)), drop(mt.ones(64))
    assert not np.array_equal(_np(m1), _np(m2))  # the generator's key is threaded through the jit
