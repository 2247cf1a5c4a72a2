"""Dropout family: statistics (fraction zeroed, scaling), reproducibility with mt.manual_seed,
fresh masks per call, identity for p=0 / eval, gradient = mask / (1 - p), channel-wise variants,
alpha dropout's moments, errors, and the generator key threaded through an outer jax.jit."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import _random as R
from minitorch_jax._tensor import _wrap

from .oracle import torch

F = mt.nn.functional


def _np(t):
    return np.asarray(t.detach()._data)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_statistics_and_scaling(p):
    x = mt.ones(200, 100)
    y = _np(F.dropout(x, p))
    frac = (y == 0).mean()
    assert abs(frac - p) < 0.02, frac
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)


def test_dropout_reproducible_and_fresh_draws():
    x = mt.randn(50, 40)
    mt.manual_seed(123)
    a = _np(F.dropout(x, 0.5))
    b = _np(F.dropout(x, 0.5))
    mt.manual_seed(123)
    a2 = _np(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a == 0, b == 0)
    layer = mt.nn.Dropout(0.3)
    mt.manual_seed(7)
    c = _np(layer(x))
    mt.manual_seed(7)
    np.testing.assert_array_equal(c, _np(layer(x)))


def test_identity_for_p0_and_eval():
    x = mt.randn(4, 5)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    layer = mt.nn.Dropout(0.5).eval()
    assert layer(x) is x
    for cls in (mt.nn.Dropout1d, mt.nn.Dropout2d, mt.nn.Dropout3d, mt.nn.AlphaDropout):
        z = mt.randn(2, 3, 4, 4, 4) if cls is mt.nn.Dropout3d else mt.randn(2, 3, 4)
        assert cls(0.5).eval()(z) is z
    key = R.default_generator._key
    F.dropout(x, 0.5, training=False)
    assert R.default_generator._key is key  # no draw in eval mode
    np.testing.assert_array_equal(_np(F.dropout(x, 1.0)), np.zeros((4, 5), np.float32))


def test_dropout_gradient_is_mask_over_keep_prob():
    p = 0.4
    x = mt.randn(30, 20, requires_grad=True)
    y = F.dropout(x, p)
    g = mt.randn(30, 20)
    (y * g).sum().backward()
    mask = (_np(y) != 0).astype(np.float32)
    np.testing.assert_allclose(_np(x.grad), mask * _np(g) / (1 - p), rtol=1e-6, atol=1e-7)
    assert y.grad_fn is not None


def test_dropout_float64_and_half_dtypes():
    for dt in (mt.float64, mt.bfloat16, mt.float16):
        x = mt.ones(64, 64, dtype=dt)
        y = F.dropout(x, 0.5)
        assert y.dtype == dt
        vals = np.unique(_np(y.float()))
        assert set(vals.tolist()) <= {0.0, 2.0}


def test_dropout2d_zeroes_whole_channels():
    x = mt.ones(8, 16, 5, 5)
    y = _np(F.dropout2d(x, 0.5))
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert 0.3 < frac < 0.7
    # unbatched Dropout3d input (C, D, H, W): whole channels too
    z = _np(mt.nn.Dropout3d(0.5)(mt.ones(20, 2, 2, 2))).reshape(20, -1)
    assert np.all((z == 0).all(-1) | (z == 2).all(-1))
    # Dropout1d on (C, L)
    w = _np(F.dropout1d(mt.ones(30, 6), 0.5))
    assert np.all((w == 0).all(-1) | (w == 2).all(-1))
    # a 3-D input to dropout2d warns and is taken as (N, C, L)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        v = _np(F.dropout2d(mt.ones(4, 10, 7), 0.5))
    assert any("Received a 3D input to dropout2d" in str(r.message) for r in rec)
    assert np.all((v == 0).all(-1) | (v == 2).all(-1))


def test_alpha_dropout_keeps_moments():
    mt.manual_seed(0)
    x = mt.randn(400, 250)
    y = _np(F.alpha_dropout(x, 0.3, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.03
    assert F.alpha_dropout(x, 0.3) is x  # training defaults to False
    fa = _np(F.feature_alpha_dropout(mt.ones(6, 20, 4), 0.5, True)).reshape(6, 20, 4)
    assert np.all(fa.max(-1) == fa.min(-1))
    assert repr(mt.nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))


def test_errors_reprs_and_inplace():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(mt.randn(3), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        mt.nn.Dropout(-0.1)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(mt.randn(2, 3, 4, 5), 0.5)
    for args in [(), (0.2, True)]:
        for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d"):
            assert repr(getattr(mt.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    x = mt.ones(10, 10)
    v = x._version
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x and x._version == v + 1 and set(np.unique(_np(x)).tolist()) <= {0.0, 2.0}
    leaf = mt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.dropout(leaf, 0.5, inplace=True)
    # torch.dropout's signature (input, p, train)
    assert mt.dropout(x, 0.3, False) is x


def test_dropout_under_outer_jit_threads_the_key():
    gen = R.default_generator
    mt.manual_seed(5)

    @jax.jit
    def f(xa, key):
        gen._key = key
        y = F.dropout(_wrap(xa), 0.5)
        return y._data, gen._key

    xa = mt.ones(20, 20)._data
    y1, k1 = f(xa, mt.default_generator._key)
    y2, k2 = f(xa, k1)
    gen._key = k2
    assert not np.array_equal(np.asarray(y1), np.asarray(y2))
    assert set(np.unique(np.asarray(y1)).tolist()) <= {0.0, 2.0}
