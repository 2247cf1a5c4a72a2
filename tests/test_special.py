"""Edge cases of the ops in ``_ops/special.py`` and the plain functions in ``_predicates.py``,
beyond the table-driven parity samples: Python-bool results, error kinds and messages, gradients at
ties, and hypothesis properties against torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax._predicates import is_complex, is_floating_point, numel, result_type

from .oracle import assert_same, to_mt, to_torch, torch


def both(*arrays):
    return to_mt(list(arrays)), to_torch(list(arrays))


# ----- Python-bool results ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["allclose", "equal", "is_same_size"])
def test_bool_ops_method_and_function_match_torch(name):
    x = np.array([1.0, 2.0, np.nan], np.float32)
    cases = [(x, x.copy()), (x, x + 1e-7), (x, x[:2]), (x[:2], np.array([1, 2], np.int64))]
    for a, b in cases:
        (ma, mb), (ta, tb) = both(a, b)
        try:
            want = getattr(torch, name)(ta, tb)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(mt, name)(ma, mb)
            continue
        got_f, got_m = getattr(mt, name)(ma, mb), getattr(ma, name)(mb)
        assert type(got_f) is bool and type(got_m) is bool
        assert got_f == got_m == want, (name, a, b)


def test_allclose_equal_nan_and_tolerances():
    a = mt.tensor([1.0, float("nan")])
    assert not mt.allclose(a, a)
    assert mt.allclose(a, a, equal_nan=True)
    assert mt.allclose(mt.tensor([1.0]), mt.tensor([1.1]), rtol=0.2)
    assert not mt.allclose(mt.tensor([1.0]), mt.tensor([1.1]), rtol=0.01, atol=0.05)


def test_equal_promotes_and_checks_shape():
    assert mt.equal(mt.tensor([1, 2]), mt.tensor([1.0, 2.0])) is True
    assert mt.equal(mt.tensor([1.0, 2.0]), mt.tensor([[1.0, 2.0]])) is False  # no broadcasting
    assert mt.equal(mt.zeros(0), mt.zeros(0)) is True


def test_is_nonzero_values_and_errors():
    assert mt.is_nonzero(mt.tensor([[3]])) is True
    assert mt.tensor(0.0).is_nonzero() is False
    with pytest.raises(RuntimeError, match="no values"):
        mt.is_nonzero(mt.zeros(0))
    with pytest.raises(RuntimeError, match=r"more than one value.*\[2\]"):
        mt.is_nonzero(mt.zeros(2))


# ----- errors: kinds as torch, messages naming the op --------------------------------------------
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_reject_floats_like_torch(name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.ones(2), torch.ones(2))
    with pytest.raises(RuntimeError, match=f"{name}.*Float") as e:
        getattr(mt, name)(mt.ones(2), mt.ones(2))
    assert isinstance(e.value, NotImplementedError)


def test_isclose_dtype_mismatch_and_bad_tolerance():
    with pytest.raises(RuntimeError, match="isclose.*Float did not match Double"):
        mt.isclose(mt.ones(2), mt.ones(2, dtype=mt.float64))
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero, but got -1"):
        mt.isclose(mt.ones(2), mt.ones(2), rtol=-1)
    with pytest.raises(RuntimeError, match="atol"):
        mt.allclose(mt.ones(2), mt.ones(2), atol=-0.5)


def test_heaviside_dtype_mismatch_and_no_grad():
    with pytest.raises(RuntimeError, match="heaviside.*different dtypes"):
        mt.heaviside(mt.ones(2), mt.tensor(0.5, dtype=mt.float64))
    x = mt.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = mt.heaviside(x, mt.tensor(0.5))
    assert y.tolist() == [0.0, 0.5, 1.0]
    assert not y.requires_grad  # torch: no derivative (it raises at backward instead)


def test_rsub_errors():
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        mt.rsub(mt.tensor([1, 2]), 2, alpha=1.5)
    with pytest.raises(RuntimeError, match="bool"):
        mt.rsub(mt.tensor([True]), mt.tensor([True]))
    assert not hasattr(mt.Tensor, "rsub")  # as torch: a function only


def test_clamp_min_inplace_int_with_float_bound_raises():
    x = mt.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.clamp_min_(0.5)
    y = mt.tensor([1.0, -2.0, 3.0])
    assert y.clamp_max_(2.0) is y and y.tolist() == [1.0, -2.0, 2.0]


def test_frexp_rejects_ints_and_has_named_fields():
    with pytest.raises(RuntimeError, match="frexp.*floating-point"):
        mt.frexp(mt.tensor([1, 2]))
    r = mt.tensor([8.0, -0.75, 0.0]).frexp()
    assert r.mantissa.tolist() == [0.5, -0.75, 0.0]
    assert r.exponent.tolist() == [4, 0, 0] and r.exponent.dtype == mt.int32
    m, e = r
    assert m is r.mantissa


def test_polygamma_argument_forms_and_errors():
    x = np.array([0.7, 1.5, 3.0], np.float64)
    want = torch.polygamma(2, torch.from_numpy(x))
    mx = mt.tensor(x)
    for got in (mt.polygamma(2, mx), mx.polygamma(2), mt.polygamma(n=2, input=mx)):
        assert_same(got, want)
    y = mx.clone()
    assert y.polygamma_(2) is y
    assert_same(y, want)
    with pytest.raises(RuntimeError, match="negative n"):
        mt.polygamma(-1, mx)
    with pytest.raises(TypeError, match="must be int"):
        mx.polygamma(1.5)


# ----- gradients ---------------------------------------------------------------------------------
def _grads(fn, *arrays):
    m, t = both(*arrays)
    for v in (*m, *t):
        v.requires_grad_(True)
    fn(mt, *m).sum().backward()
    fn(torch, *t).sum().backward()
    return m, t


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
def test_clamp_one_sided_gradient_at_ties(name):
    x = np.array([-1.0, 0.0, 0.5, 2.0], np.float32)
    b = np.array([0.0, 0.0, 1.0, 1.0], np.float32)  # ties at index 1
    m, t = _grads(lambda lib, a, c: getattr(lib, name)(a, c), x, b)
    for mi, ti in zip(m, t):
        assert_same(mi.grad, ti.grad)


def test_nextafter_gradient_is_one_for_input_zero_for_other():
    m, t = _grads(lambda lib, a, c: lib.nextafter(a, c), np.array([1.0, -2.0], np.float32),
                  np.array([3.0, -5.0], np.float32))
    for mi, ti in zip(m, t):
        assert_same(mi.grad, ti.grad)


def test_frexp_mantissa_gradient():
    m, t = _grads(lambda lib, a: lib.frexp(a)[0] * 3, np.array([5.0, -0.1, 1024.0], np.float64))
    assert_same(m[0].grad, t[0].grad)


def test_polygamma_second_order_gradient():
    x = np.array([0.8, 2.5], np.float64)
    (mx,), (tx,) = both(x)
    mx.requires_grad_(True)
    tx.requires_grad_(True)
    (mg,) = mt.autograd.grad(mt.polygamma(1, mx).sum(), mx, create_graph=True)
    (tg,) = torch.autograd.grad(torch.polygamma(1, tx).sum(), tx, create_graph=True)
    assert_same(mg, tg)
    mg.sum().backward()
    tg.sum().backward()
    assert_same(mx.grad, tx.grad)


def test_ldexp_gradient_is_exact_for_negative_int_exponents():
    # torch computes this gradient with an integer power (2**-3 == 0); we keep the exact 2**other
    x = mt.tensor([1.5, 2.0], requires_grad=True)
    mt.ldexp(x, mt.tensor([-3, 2])).sum().backward()
    assert x.grad.tolist() == [0.125, 4.0]


# ----- hypothesis: isclose against torch -----------------------------------------------------------
_special = st.sampled_from([0.0, -0.0, 1.0, 1.0 + 1e-6, np.inf, -np.inf, np.nan, 1e-9])
_floats = st.one_of(_special, st.floats(-10, 10, width=32))


@given(st.lists(st.tuples(_floats, _floats), min_size=1, max_size=6),
       st.sampled_from([0.0, 1e-5, 0.1]), st.sampled_from([0.0, 1e-8, 0.01]), st.booleans(),
       st.sampled_from(["float32", "float64"]))
def test_isclose_matches_torch(pairs, rtol, atol, equal_nan, dtype):
    a = np.array([p[0] for p in pairs], dtype)
    b = np.array([p[1] for p in pairs], dtype)
    (ma, mb), (ta, tb) = both(a, b)
    assert_same(mt.isclose(ma, mb, rtol, atol, equal_nan), torch.isclose(ta, tb, rtol, atol, equal_nan))
    assert mt.allclose(ma, mb, rtol, atol, equal_nan) == torch.allclose(ta, tb, rtol, atol, equal_nan)


@given(st.lists(st.floats(-(2.0**100), 2.0**100, width=32, allow_subnormal=False), min_size=1, max_size=8))
def test_frexp_reconstructs_input(vals):
    x = mt.tensor(np.array(vals, np.float32))
    m, e = mt.frexp(x)
    assert_same(m, torch.frexp(torch.tensor(vals, dtype=torch.float32))[0])
    np.testing.assert_array_equal(np.ldexp(np.asarray(m._data), np.asarray(e._data)), np.asarray(x._data))


@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6)), min_size=1,
                max_size=6))
def test_gcd_lcm_match_torch(pairs):
    a = np.array([p[0] for p in pairs], np.int64)
    b = np.array([p[1] for p in pairs], np.int64)
    (ma, mb), (ta, tb) = both(a, b)
    assert_same(mt.gcd(ma, mb), torch.gcd(ta, tb))
    assert_same(mt.lcm(ma, mb), torch.lcm(ta, tb))


# ----- predicates ---------------------------------------------------------------------------------
_VALUES = [np.array([1, 2], np.int32), np.array(3, np.int64), np.array([1.0], np.float64),
           np.array(2.0, np.float32), np.array([True]), np.array([1j], np.complex64), 2, 2.5, True, 1j]


@pytest.mark.parametrize("a", _VALUES, ids=repr)
@pytest.mark.parametrize("b", _VALUES, ids=repr)
def test_result_type_matches_torch(a, b):
    want = torch.result_type(to_torch(a), to_torch(b))
    got = result_type(to_mt(a), to_mt(b))
    assert got.name == str(want).rsplit(".", 1)[-1]


def test_predicates_on_tensors_and_errors():
    for dt in ("float32", "float64", "int64", "bool", "complex64"):
        m, t = mt.zeros(2, 3, dtype=getattr(mt, dt)), torch.zeros(2, 3, dtype=getattr(torch, dt))
        assert is_floating_point(m) == torch.is_floating_point(t)
        assert is_complex(m) == torch.is_complex(t)
    assert numel(mt.zeros(2, 3)) == 6 and numel(mt.tensor(1.0)) == 1 and numel(mt.zeros(0, 4)) == 0
    for fn in (is_floating_point, is_complex, numel):
        with pytest.raises(TypeError, match=fn.__name__):
            fn(1.0)
    with pytest.raises(TypeError, match="result_type"):
        result_type(mt.ones(1), "a")


def test_ldexp_and_frexp_special_values_match_torch():
    e = np.arange(-120, 120, 7, dtype=np.int64)
    x = np.full(e.shape, 1.5, np.float32)
    (mx, me), (tx, te) = both(x, e)
    np.testing.assert_array_equal(np.asarray(mt.ldexp(mx, me)._data), torch.ldexp(tx, te).numpy())
    for dt in ("float32", "float64", "float16"):
        v = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 3.0], dt)
        (mv,), (tv,) = both(v)
        assert_same(mt.frexp(mv), torch.frexp(tv))
