"""torch's type promotion: mt.result dtypes equal torch's for every pair of dtypes and scalars."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt

from .oracle import torch

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]


def _pair(name, zero_dim, lib):
    shape = () if zero_dim else (2,)
    return lib.ones(shape, dtype=getattr(lib, name))


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(NAMES, 2)))
def test_promote_types_matches_torch(a, b):
    assert mt.promote_types(getattr(mt, a), getattr(mt, b)).name == \
        str(torch.promote_types(getattr(torch, a), getattr(torch, b))).split(".")[-1]


@given(st.sampled_from(NAMES), st.sampled_from(NAMES), st.booleans(), st.booleans(),
       st.sampled_from(["add", "mul", "sub", "maximum", "eq", "where"]))
def test_binary_result_dtype_matches_torch(a, b, a0, b0, op):
    ta, tb = _pair(a, a0, torch), _pair(b, b0, torch)
    ma, mb = _pair(a, a0, mt), _pair(b, b0, mt)
    if op == "sub" and "bool" in (a, b):
        return  # torch forbids bool subtraction; covered in test_errors
    if op == "where":
        t = torch.where(torch.ones((), dtype=torch.bool), ta, tb)
        m = mt.where(mt.ones((), dtype=mt.bool), ma, mb)
    else:
        t = getattr(torch, op)(ta, tb)
        m = getattr(mt, op)(ma, mb)
    assert m.dtype.name == str(t.dtype).split(".")[-1]
    assert tuple(m.shape) == tuple(t.shape)


@given(st.sampled_from(NAMES), st.booleans(), st.sampled_from([True, 3, 2.5, 1 + 2j]),
       st.sampled_from(["add", "mul", "div"]))
def test_scalar_promotion_matches_torch(a, a0, scalar, op):
    if a in ("float16", "bfloat16") and isinstance(scalar, complex):
        return  # torch makes complex32 here, a dtype minitorch_jax does not have (complex64 instead)
    t = getattr(torch, op)(_pair(a, a0, torch), scalar)
    m = getattr(mt, op)(_pair(a, a0, mt), scalar)
    assert m.dtype.name == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(np.asarray(m._data).astype(complex),
                               t.to(torch.complex128).numpy(), rtol=1e-2)


def test_reflected_scalar_ops():
    x = mt.tensor([1, 2, 3])
    assert (2 - x).tolist() == [1, 0, -1]
    assert (1 / mt.tensor([2.0, 4.0])).tolist() == [0.5, 0.25]
    assert (2 ** mt.tensor([1, 2])).tolist() == [2, 4]
    assert (7 // x).tolist() == [7, 3, 2]
    assert (7 % x).tolist() == [0, 1, 1]


def test_float32_program_stays_float32():
    x = mt.ones(3)
    for y in (x * 2.5, x + 1, x / 3, x ** 2, mt.exp(x), x.mean(), x.sum(), 1.5 - x):
        assert y.dtype == mt.float32


def test_int_true_division_gives_default_float():
    assert (mt.tensor([1, 2]) / 2).dtype == mt.float32
    mt.set_default_dtype(mt.float64)
    try:
        assert (mt.tensor([1, 2]) / 2).dtype == mt.float64
        assert mt.tensor([1.5]).dtype == mt.float64
    finally:
        mt.set_default_dtype(mt.float32)
    assert mt.get_default_dtype() == mt.float32


def test_set_default_dtype_rejects_ints():
    with pytest.raises(TypeError):
        mt.set_default_dtype(mt.int32)


def test_inplace_cannot_downcast_category():
    x = mt.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(1.5)
    t = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):
        t.add_(1.5)
    y = mt.tensor([1.0, 2.0])
    y.add_(mt.tensor([1, 1]))
    assert y.dtype == mt.float32 and y.tolist() == [2.0, 3.0]


def test_no_float64_anywhere_in_a_float32_program():
    """Trace a float32 program (ops with Python scalars, int tensors, reductions) and look for f64."""
    import jax

    def program(x, i):
        y = (x * 2.5 + 1) / 3 - i * 0.5
        y = mt.exp(y).sigmoid() ** 2 + mt.where(y > 0, y, 0.1)
        z = y.mean() + y.sum() * 1e-3 + (i / 2).sum()
        return mt.clamp(y, -1.0, 1.0).sum() + z

    x = mt.ones(4, 3)
    i = mt.tensor([1, 2, 3], dtype=mt.int32)
    text = str(jax.make_jaxpr(lambda a, b: program(a, b))(x, i))
    assert "f64" not in text, text
