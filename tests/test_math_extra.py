"""The math/statistics ops of ``_ops/math_extra.py`` beyond their parity samples: errors (kind and
torch's message), keyword and method forms, named-tuple results, in-place variants, operators."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import assert_same, check_grads, to_mt, to_torch, torch

X = np.array([[0.3, -1.2, 2.0, 0.7, -0.1], [1.5, 0.2, -0.8, 0.9, 1.1]], np.float32)


# ----- quantile, nanquantile ---------------------------------------------------------------------
def test_quantile_higher_and_keyword_forms_match_torch():
    t, m = torch.from_numpy(X), mt.tensor(X)
    q = np.array([0.1, 0.5, 0.85], np.float32)
    assert_same(mt.quantile(m, mt.tensor(q), dim=1, keepdim=True, interpolation="higher"),
                torch.quantile(t, torch.from_numpy(q), dim=1, keepdim=True, interpolation="higher"))
    assert_same(m.quantile(0.3, 0), t.quantile(0.3, 0))
    assert_same(m.nanquantile(0.3, dim=-1, interpolation="linear"), t.nanquantile(0.3, dim=-1))
    assert_same(mt.quantile(m, 1, keepdim=True), torch.quantile(t, 1, keepdim=True))
    assert_same(mt.quantile(mt.tensor(2.0), 0.5, dim=0, keepdim=True),
                torch.quantile(torch.tensor(2.0), 0.5, dim=0, keepdim=True))


def test_nanquantile_all_nan_row_and_quantile_nan():
    x = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 3.0]], np.float32)
    assert_same(mt.nanquantile(mt.tensor(x), 0.5, dim=1), torch.nanquantile(torch.from_numpy(x), 0.5, dim=1))
    assert_same(mt.quantile(mt.tensor(x), 0.5, dim=1), torch.quantile(torch.from_numpy(x), 0.5, dim=1))


def test_quantile_gradient_in_q_matches_torch():
    x, q = X, np.array([0.25, 0.6], np.float32)
    m_in, t_in = to_mt([x, q], True), to_torch([x, q], True)
    check_grads(mt.quantile(*m_in, dim=1), torch.quantile(*t_in, dim=1), m_in, t_in)


@pytest.mark.parametrize("args,kwargs,exc,msg", [
    ((X, 1.5), {}, RuntimeError, r"q must be in the range \[0, 1\] but got 1.5"),
    ((X, np.array([0.2, 1.2], np.float32)), {}, RuntimeError, r"q values must be in the range \[0, 1\]"),
    ((X, np.array([0.2], np.float64)), {}, RuntimeError, "q tensor must be same dtype as the input tensor"),
    ((X, np.array([[0.2]], np.float32)), {}, RuntimeError, "q must be a scalar or 1D tensor"),
    ((X.astype(np.int64), 0.5), {}, RuntimeError, "input tensor must be either float or double dtype"),
    ((np.zeros((0,), np.float32), 0.5), {}, RuntimeError, "input tensor must be non-empty"),
    ((X, 0.5), {"interpolation": "cubic"}, RuntimeError, "interpolation must be one of linear, lower.*cubic"),
    ((X, 0.5), {"dim": 2}, IndexError, "Dimension out of range"),
    ((X, [0.5]), {}, TypeError, "q"),
])
def test_quantile_errors(args, kwargs, exc, msg):
    t_args, m_args = to_torch(args), to_mt(args)
    if not isinstance(args[1], list):
        with pytest.raises(exc, match=msg):
            torch.quantile(*t_args, **kwargs)
    for f in (mt.quantile, mt.nanquantile):
        with pytest.raises(exc, match=msg):
            f(*m_args, **kwargs)


def test_quantile_under_jit():
    f = mt.jit(lambda x, q: mt.quantile(x, q, dim=1))
    q = np.array([0.3, 0.9], np.float32)
    assert_same(f(mt.tensor(X), mt.tensor(q)),
                torch.quantile(torch.from_numpy(X), torch.from_numpy(q), dim=1))


# ----- histogram -------------------------------------------------------------------------------
def test_histogram_named_tuple_and_method():
    x = mt.tensor([0.0, 1.0, 2.0, 3.0, 1.5])
    r = x.histogram(3)
    assert type(r).__name__ == "histogram" and r._fields == ("hist", "bin_edges")
    hist, edges = r
    t = torch.histogram(torch.tensor([0.0, 1.0, 2.0, 3.0, 1.5]), 3)
    assert_same(r.hist, t.hist)
    assert_same(edges, t.bin_edges)
    assert_same(mt.histogram(x, bins=mt.tensor([0.0, 1.0, 3.0]), density=True).hist,
                torch.histogram(torch.tensor([0.0, 1.0, 2.0, 3.0, 1.5]), bins=torch.tensor([0.0, 1.0, 3.0]),
                                density=True).hist)
    assert not mt.histogram(mt.tensor(X, requires_grad=True), 2).hist.requires_grad


@pytest.mark.parametrize("x", [np.zeros(0, np.float32), np.full(3, 2.0, np.float32), np.float32(4.0)])
def test_histogram_degenerate_ranges(x):
    x = np.asarray(x)
    m, t = mt.histogram(mt.tensor(x), 3), torch.histogram(torch.from_numpy(x), 3)
    assert_same(tuple(m), tuple(t))


def test_histogram_errors():
    x = mt.tensor(X)
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0 for dimension 0"):
        mt.histogram(x, 0)
    with pytest.raises(RuntimeError, match="min should not exceed max, but got min 1 max 0"):
        mt.histogram(x, 2, range=(1.0, 0.0))
    with pytest.raises(RuntimeError, match=r"range \[0, inf\] is not finite"):
        mt.histogram(x, 2, range=(0.0, float("inf")))
    with pytest.raises(RuntimeError, match=r"range \[0, inf\] is not finite"):
        mt.histogram(mt.tensor([0.0, 1.0, float("inf")]), 2)
    with pytest.raises(RuntimeError, match=r"range \[nan, nan\] is not finite"):
        mt.histogram(mt.tensor([0.0, float("nan")]), 2)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        mt.histogram(mt.tensor([1, 2]), 2)
    with pytest.raises(RuntimeError, match="bins tensors should have the same dtype.*float.*double"):
        mt.histogram(x, mt.tensor([0.0, 1.0], dtype=mt.float64))
    with pytest.raises(RuntimeError, match="should have one dimension, but got 2 dimensions"):
        mt.histogram(x, mt.tensor([[0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="weight tensor should have the same dtype"):
        mt.histogram(x, 2, weight=mt.ones(2, 5, dtype=mt.float64))
    with pytest.raises(RuntimeError, match=r"weight with shape \[5\]"):
        mt.histogram(x, 2, weight=mt.ones(5))
    with pytest.raises(TypeError):
        mt.histogram(x, mt.tensor([0.0, 1.0]), range=(0.0, 1.0))
    with pytest.raises(TypeError):
        mt.histogram(x, 2.0)


# ----- renorm ----------------------------------------------------------------------------------
def test_renorm_inplace_matches_torch():
    t = torch.from_numpy(X.copy())
    m = mt.tensor(X)
    v = m._version
    assert m.renorm_(2, 0, 1.0) is m and m._version == v + 1
    assert_same(m, t.renorm_(2, 0, 1.0))
    assert_same(mt.renorm(mt.tensor(X), 2, 0, mt.tensor(1.0)), torch.renorm(torch.from_numpy(X), 2, 0, 1.0))
    assert_same(mt.renorm(mt.tensor(X, dtype=mt.float16), 2, 1, 0.5),
                torch.renorm(torch.from_numpy(X).half(), 2, 1, 0.5))


@pytest.mark.parametrize("args,exc,msg", [
    ((X, 0, 0, 1.0), RuntimeError, "renorm: non-positive-norm not supported"),
    ((X, 2, 0, -1.0), RuntimeError, "renorm: expected maxnorm to be >= 0 but got -1"),
    ((X[0], 2, 0, 1.0), RuntimeError, "renorm: input needs at least 2 dimensions, got 1 dimensions"),
    ((X.astype(np.int64), 2, 0, 1.0), RuntimeError, "floating point or complex tensor as input. Got Long"),
    ((X, 2, 2, 1.0), IndexError, "Dimension out of range"),
    ((X, 2, 0.0, 1.0), TypeError, "dim"),
])
def test_renorm_errors(args, exc, msg):
    with pytest.raises(exc, match=msg):
        torch.renorm(*to_torch(args))
    with pytest.raises(exc, match=msg):
        mt.renorm(*to_mt(args))


# ----- gradient --------------------------------------------------------------------------------
def test_gradient_coordinates_match_torch_with_grads():
    y = np.array([[1.0, 2.0, 4.0, 8.0], [10.0, 20.0, 40.0, 80.0], [3.0, 5.0, 1.0, 0.0]], np.float32)
    c0, c1 = np.array([0.0, 1.0, 3.0], np.float32), np.array([0.0, 1.0, 1.5, 3.5], np.float32)
    m_in, t_in = to_mt([y, c0, c1], True), to_torch([y, c0, c1], True)
    mo = mt.gradient(m_in[0], spacing=(m_in[1], m_in[2]), edge_order=2)
    to = torch.gradient(t_in[0], spacing=(t_in[1], t_in[2]), edge_order=2)
    assert isinstance(mo, tuple) and len(mo) == 2
    assert_same(mo, to)
    check_grads(mo, to, m_in, t_in)
    assert_same(mt.gradient(mt.tensor(y), spacing=[mt.tensor(c0)], dim=0),
                torch.gradient(torch.from_numpy(y), spacing=[torch.from_numpy(c0)], dim=0))


def test_gradient_dims_and_dtypes_match_torch():
    y = np.array([1, 2, 4, 7, 11], np.int64)
    for kw in ({}, {"spacing": 2}, {"spacing": 2, "edge_order": 2}, {"spacing": [mt.tensor([0, 1, 2, 4, 5])]},
               {"dim": -1}, {"spacing": mt.tensor(0.5), "dim": 0}):
        tkw = {k: (to_torch(np.asarray(v._data)) if isinstance(v, mt.Tensor) else
                   [torch.tensor(np.asarray(c._data)) for c in v] if isinstance(v, list) else v)
               for k, v in kw.items()}
        assert_same(mt.gradient(mt.tensor(y), **kw), torch.gradient(torch.from_numpy(y), **tkw))
    y2 = np.arange(12, dtype=np.float64).reshape(3, 4) ** 2
    assert_same(mt.gradient(mt.tensor(y2), spacing=[1.5, 0.5], dim=(1, 0)),
                torch.gradient(torch.from_numpy(y2), spacing=[1.5, 0.5], dim=(1, 0)))
    assert mt.gradient(mt.tensor(3.0)) == ()


@pytest.mark.parametrize("shape,kwargs,exc,msg", [
    ((3, 4), {"edge_order": 3}, RuntimeError, "only supports edge_order=1 and edge_order=2"),
    ((2,), {"edge_order": 2}, RuntimeError, "each dimension size to be at least edge_order\\+1"),
    ((3, 4), {"spacing": [2.0, 3.0, 4.0]}, RuntimeError, "list of length equal to 'self.dim\\(\\) = 2'"),
    ((3, 4), {"spacing": [2.0, 3.0], "dim": 0}, RuntimeError, "spacing argument of length 2 and a dim"),
    ((3, 4), {"dim": 2}, IndexError, "Dimension out of range"),
    ((3, 4), {"dim": [0, 0]}, RuntimeError, "appears multiple times"),
])
def test_gradient_errors(shape, kwargs, exc, msg):
    x = np.ones(shape, np.float32)
    with pytest.raises(exc, match=msg):
        torch.gradient(torch.from_numpy(x), **kwargs)
    with pytest.raises(exc, match=msg):
        mt.gradient(mt.tensor(x), **kwargs)


def test_gradient_bad_spacing_elements():
    x = mt.ones(3, 4)
    with pytest.raises(RuntimeError, match="to have one dimension, but got an element with 0 dimensions"):
        mt.gradient(x, spacing=[mt.tensor(2.0), mt.tensor(3.0)])
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        mt.gradient(x, spacing=(mt.tensor([0.0, 1.0, 2.0]), 2.0))
    with pytest.raises(RuntimeError, match="does not support uint8"):
        mt.gradient(mt.ones(3, dtype=mt.uint8))
    with pytest.raises(RuntimeError, match="one per sample"):
        mt.gradient(x, spacing=[mt.tensor([0.0, 1.0])], dim=0)


# ----- isreal, nuclear_norm, frobenius_norm ------------------------------------------------------
def test_isreal_method_and_nan_parts():
    z = np.array([complex(np.nan, 0), complex(0, np.nan), 1 + 0j], np.complex64)
    assert_same(mt.tensor(z).isreal(), torch.from_numpy(z).isreal())
    assert not mt.isreal(mt.tensor([1.0 + 0j], requires_grad=True)).requires_grad


def test_deprecated_norms_warn_and_check():
    x = mt.tensor(X)
    with pytest.warns(UserWarning, match="deprecated"):
        n = mt.nuclear_norm(x, keepdim=True)
    assert n.shape == (1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(mt.nuclear_norm(x, True), torch.nuclear_norm(torch.from_numpy(X), True))
        with pytest.raises(RuntimeError, match="dims must be different. Got \\(0, 0\\)"):
            mt.nuclear_norm(x, 0)
        with pytest.raises(RuntimeError, match="floating point or complex tensor as input. Got Long"):
            mt.nuclear_norm(mt.tensor([[1, 2]]))
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            mt.nuclear_norm(mt.ones(3))
        assert_same(mt.frobenius_norm(x, (), keepdim=True),
                    torch.frobenius_norm(torch.from_numpy(X), (), True))
        assert_same(mt.frobenius_norm(x, 1), torch.frobenius_norm(torch.from_numpy(X), 1))
        with pytest.raises(RuntimeError, match="Expected at most 2 dimensions, but got 3 dimensions"):
            mt.frobenius_norm(mt.ones(2, 2, 2), (0, 1, 2))
        with pytest.raises(RuntimeError, match="Got Long instead"):
            mt.frobenius_norm(mt.tensor([[1, 2]]), (0, 1))
        with pytest.raises(RuntimeError, match="appears multiple times"):
            mt.frobenius_norm(x, (0, 0))
        with pytest.raises(TypeError):
            mt.frobenius_norm(x)
    assert not hasattr(mt.Tensor, "nuclear_norm") and not hasattr(mt.Tensor, "frobenius_norm")


# ----- igamma, igammac, mvlgamma ---------------------------------------------------------------
def test_igamma_methods_inplace_and_errors():
    a = np.array([0.5, 1.0, 2.0, 3.0], np.float32)
    x = np.array([0.3, 1.0, 2.5, 0.0], np.float32)
    for name in ("igamma",):  # igammac shares the code (and is in test_op_parity); compiles are slow
        m = mt.tensor(a)
        assert getattr(m, name + "_")(mt.tensor(x)) is m
        assert_same(m, getattr(torch.from_numpy(a.copy()), name + "_")(torch.from_numpy(x)))
        assert_same(getattr(mt.tensor(a), name)(mt.tensor(x)),
                    getattr(torch, name)(torch.tensor(a), torch.tensor(x)))
        with pytest.raises(RuntimeError, match=f"\"{name}_cpu\" not implemented for 'Long'"):
            getattr(mt, name)(mt.tensor([1, 2]), mt.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="ComplexFloat"):
            getattr(mt, name)(mt.tensor([1j]), mt.tensor([1j]))
        with pytest.raises(RuntimeError, match="can't be cast"):
            getattr(mt.tensor([1, 2]), name + "_")(mt.tensor([1.0, 2.0]))
        with pytest.raises(RuntimeError, match="must match the size"):
            getattr(mt, name)(mt.tensor(a), mt.tensor(x[:3]))


def test_igamma_gradient_in_input_is_available():
    # torch raises "not implemented" in backward; JAX's derivative in a is used here
    a0 = np.array([0.5, 1.0, 2.0, 3.0], np.float32)
    x = mt.tensor([0.3, 1.0, 2.5, 0.5])
    a = mt.tensor(a0, requires_grad=True)
    mt.igamma(a, x).sum().backward()
    h = 1e-2
    num = (mt.igamma(mt.tensor(a0 + h), x) - mt.igamma(mt.tensor(a0 - h), x)) / (2 * h)
    np.testing.assert_allclose(np.asarray(a.grad._data), np.asarray(num._data), rtol=2e-2, atol=1e-3)
    assert_same(mt.igamma(mt.tensor(a0, dtype=mt.float16), x.half()),
                torch.igamma(torch.from_numpy(a0).half(), torch.tensor([0.3, 1.0, 2.5, 0.5]).half()))


def test_mvlgamma_forms_and_errors():
    x = np.array([2.0, 3.5], np.float32)
    m = mt.tensor(x)
    assert m.mvlgamma_(p=3) is m
    assert_same(m, torch.from_numpy(x.copy()).mvlgamma_(p=3))
    assert_same(mt.tensor(x).mvlgamma(2), torch.from_numpy(x).mvlgamma(2))
    assert_same(mt.mvlgamma(mt.tensor([0.5, 1.0]), p=2), torch.mvlgamma(torch.tensor([0.5, 1.0]), p=2))
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        mt.mvlgamma(m, 0)
    with pytest.raises(TypeError, match="argument 'p' .* must be int, not float"):
        mt.mvlgamma(m, 2.0)
    with pytest.raises(RuntimeError, match="may not be a boolean tensor"):
        mt.mvlgamma(mt.tensor([True]), 1)
    with pytest.raises(RuntimeError, match="can't be cast"):
        mt.tensor([2, 3]).mvlgamma_(2)


# ----- binomial --------------------------------------------------------------------------------
def test_binomial_generator_broadcast_and_moments():
    # one shape throughout: jax.random.binomial compiles slowly (seconds per shape)
    count = mt.full((2, 1), 10.0, requires_grad=True)
    p = np.full(3000, 0.3, np.float32)
    p[:2] = [0.0, 1.0]
    prob = mt.tensor(p)
    g1, g2 = mt.Generator().manual_seed(3), mt.Generator().manual_seed(3)
    a, b = mt.binomial(count, prob, generator=g1), mt.binomial(count, prob, g2)
    assert a.dtype == mt.float32 and a.shape == (2, 3000) and not a.requires_grad
    v = np.asarray(a._data)
    np.testing.assert_array_equal(v, np.asarray(b._data))
    np.testing.assert_array_equal(v[:, :2], [[0.0, 10.0], [0.0, 10.0]])
    v = v[:, 2:]
    assert np.all(v == np.round(v)) and v.min() >= 0 and v.max() <= 10
    assert abs(v.mean() - 3.0) < 0.15 and abs(v.var() - 2.1) < 0.3
    assert not np.array_equal(v, np.asarray(mt.binomial(count, prob, generator=g1)._data)[:, 2:])
    assert not hasattr(mt.Tensor, "binomial")


def test_binomial_errors():
    with pytest.raises(ValueError, match="binomial only supports floating-point dtypes for count, got: Long"):
        mt.binomial(mt.tensor([1, 2]), mt.tensor([0.5, 0.5]))
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        mt.binomial(mt.tensor([1.0]), mt.tensor([0.5], dtype=mt.float64))
    with pytest.raises(TypeError, match="'prob' .* must be Tensor"):
        mt.binomial(mt.tensor([1.0]), 0.5)
    with pytest.raises(RuntimeError, match="must match the size"):
        mt.binomial(mt.ones(3), mt.ones(2))


# ----- bitwise shifts --------------------------------------------------------------------------
def test_shift_operators_and_inplace_match_torch():
    a = np.array([1, -2, 3, 40], np.int64)
    b = np.array([1, 2, 0, 3], np.int64)
    m, t = mt.tensor(a), torch.from_numpy(a.copy())
    assert_same(m << mt.tensor(b), t << torch.from_numpy(b))
    assert_same(m >> 1, t >> 1)
    assert_same(2 << mt.tensor(b), 2 << torch.from_numpy(b))
    assert_same(100 >> mt.tensor(b), 100 >> torch.from_numpy(b))
    assert_same(mt.bitwise_left_shift(3, mt.tensor(b)), torch.bitwise_left_shift(3, torch.from_numpy(b)))
    assert_same(mt.tensor([True, False]).bitwise_left_shift(1),
                torch.tensor([True, False]).bitwise_left_shift(1))
    i32 = mt.tensor(a.astype(np.int32))
    assert_same(i32 << 2, torch.from_numpy(a.astype(np.int32)) << 2)
    assert_same(i32 << mt.tensor(b), torch.from_numpy(a.astype(np.int32)) << torch.from_numpy(b))
    m2 = mt.tensor(a.astype(np.int32))
    v = m2._version
    m2 <<= 2
    m2 >>= 1
    t2 = torch.from_numpy(a.astype(np.int32))
    t2 <<= 2
    t2 >>= 1
    assert_same(m2, t2)
    assert m2._version == v + 2 and m2.dtype == mt.int32
    assert m2.bitwise_right_shift_(mt.tensor(b)) is m2


def test_shift_errors():
    with pytest.raises(RuntimeError, match="\"lshift_cpu\" not implemented for 'Float'"):
        mt.tensor([1.0]) << 1
    with pytest.raises(RuntimeError, match="\"rshift_cpu\" not implemented for 'Float'"):
        mt.tensor([1, 2]) >> 1.5
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        mt.bitwise_left_shift(mt.tensor([True]), mt.tensor([True]))
    with pytest.raises(RuntimeError, match="must match the size"):
        mt.tensor([1, 2]) << mt.tensor([1, 2, 3])
