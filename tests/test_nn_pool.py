"""Pooling layers against torch: outputs, indices, gradients (ties included), reprs, errors and the
output-size formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax._ops.nn_pool import pool_out_size

from .nn_oracle import compare_module
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

rng = np.random.default_rng(0)
TOL = dict(rtol=1e-5, atol=1e-5)


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=True),
     (2, 2, 7, 8)),
    ("MaxPool2d", (3,), dict(stride=2, return_indices=True, ceil_mode=True), (2, 6, 6)),
    ("MaxPool3d", (2,), dict(stride=1, padding=1), (1, 2, 3, 4, 3)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 2, 7, 6)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (2, 5, 5)),
    ("AvgPool3d", (2,), dict(padding=1, count_include_pad=False), (1, 2, 3, 4, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool3d", ((2, 3, 1),), {}, (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, 5),), {}, (2, 7, 6)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 3, 4, 5)),
    ("LPPool1d", (2, 3), {}, (2, 3, 8)),
    ("LPPool2d", (3.0, 2), dict(stride=1), (2, 2, 5, 5)),
]


@pytest.mark.parametrize("name,args,kw,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_pool_layers_match_torch(name, args, kw, shape):
    t = getattr(torch.nn, name)(*args, **kw)
    m = getattr(mt.nn, name)(*args, **kw)
    assert repr(m) == repr(t)
    x = _x(*shape) if not name.startswith("LP") else np.abs(_x(*shape)) + 0.1
    compare_module(m, t, x, train=False, **TOL)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_indices_and_unpool_roundtrip(nd):
    shape = (2, 3) + (6, 5, 4)[:nd]
    x = _x(*shape, dtype="float64")
    tm = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    mm = getattr(mt.nn, f"MaxPool{nd}d")(2, return_indices=True)
    tv, ti = tm(torch.from_numpy(x))
    mv, mi = mm(mt.tensor(x))
    assert_same(mv, tv)
    assert_same(mi, ti)
    tu = getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    mu = getattr(mt.nn, f"MaxUnpool{nd}d")(2)
    assert repr(mu) == repr(tu)
    size = list(shape[2:])
    assert_same(mu(mv, mi, output_size=size), tu(tv, ti, output_size=size))


@pytest.mark.parametrize("kw", [{}, dict(return_indices=True), dict(padding=1, stride=1)])
def test_max_pool_ties_send_gradient_to_first_max(kw):
    x = np.ones((1, 2, 4, 4), np.float32)
    x[0, 1, :2, :2] = 2.0
    t_in, m_in = to_torch([x], True), to_mt([x], True)
    t_out = torch.nn.functional.max_pool2d(t_in[0], 2, **kw)
    m_out = mt.nn.functional.max_pool2d(m_in[0], 2, **kw)
    assert_same(m_out, t_out)
    check_grads(m_out, t_out, m_in, t_in)


def test_pool_errors():
    F = mt.nn.functional
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(mt.randn(1, 1, 5, 5), 3, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(mt.randn(1, 1, 3, 3), 4)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        mt.nn.AvgPool2d(5)(mt.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError):
        F.max_pool2d(mt.randn(5, 5), 2)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.adaptive_avg_pool2d(mt.randn(5, 5), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(mt.randn(1, 1, 4, 4), 2, divisor_override=0)
    assert not hasattr(mt, "adaptive_avg_pool2d")


@settings(max_examples=20)
@given(n=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), ceil=st.booleans())
def test_pool_output_size_formula(n, k, s, p, d, ceil):
    if p > k // 2:
        return
    x = torch.zeros(1, 1, n)
    try:
        expected = torch.nn.functional.max_pool1d(x, k, s, p, d, ceil).shape[-1]
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mt.nn.functional.max_pool1d(mt.zeros(1, 1, n), k, s, p, d, ceil)
        return
    assert pool_out_size(n, k, s, p, d, ceil) == expected
    assert mt.nn.functional.max_pool1d(mt.zeros(1, 1, n), k, s, p, d, ceil).shape[-1] == expected
    if d == 1:
        assert torch.nn.functional.avg_pool1d(x, k, s, p, ceil).shape[-1] == expected
