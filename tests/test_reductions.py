"""Reductions beyond the parity samples: torch's gradient conventions at ties, zeros and NaNs,
argument spellings and overloads, named result tuples, error kinds and messages, and
hypothesis properties over shapes and dims."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax import return_types

from .oracle import assert_same, check_grads, to_mt, to_torch, torch

NAN = float("nan")
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 2.0], [-1.0, -1.0, -1.0, -1.0]], "float64")
WITH_NAN = np.array([[1.0, NAN, 3.0, NAN], [0.5, 2.0, 2.0, -1.0]], "float64")
ZEROS = np.array([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.5, 0.0, 3.0], [1.0, 2.0, -3.0]], "float64")


def same(fn, x, *args, grad=True, **kwargs):
    """Run ``fn(lib)(tensor, *args, **kwargs)`` in torch and mt; compare values and gradients."""
    tx, mx = to_torch(x, grad), to_mt(x, grad)
    t_out = fn(torch)(tx, *args, **kwargs)
    m_out = fn(mt)(mx, *args, **kwargs)
    assert_same(m_out, t_out)
    if grad:
        assert check_grads(m_out, t_out, [mx], [tx]), "no output required grad"
    return m_out, t_out


def op(name):
    return lambda lib: getattr(lib, name)


# ----- gradient conventions ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["max", "min", "median", "nanmedian"])
def test_full_reduction_shares_gradient_evenly_among_ties(name):
    m, _ = same(op(name), TIES)
    x = mt.tensor(TIES, requires_grad=True)
    getattr(mt, name)(x).backward()
    g = x.grad.numpy()
    hits = TIES == m.item()
    np.testing.assert_allclose(g[hits], 1.0 / hits.sum())
    assert np.all(g[~hits] == 0)


@pytest.mark.parametrize("name", ["max", "min", "median", "nanmedian"])
def test_full_reduction_with_nan_gives_gradient_to_the_nans(name):
    same(op(name), WITH_NAN)


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [0, 1, (0, 1), ()])
def test_amax_amin_share_gradient_evenly(name, dim):
    same(op(name), TIES, dim)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_with_nan_result_has_nan_gradient_like_torch(name):
    m, _ = same(op(name), WITH_NAN, 1)
    x = mt.tensor(WITH_NAN, requires_grad=True)
    getattr(mt, name)(x, 1).sum().backward()
    assert np.isnan(x.grad.numpy()[0]).all() and not np.isnan(x.grad.numpy()[1]).any()


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_dim_sends_gradient_to_the_first_index(name, dim):
    m, _ = same(op(name), TIES, dim)
    x = mt.tensor(TIES, requires_grad=True)
    v, i = getattr(mt, name)(x, dim)
    v.sum().backward()
    onehot = np.zeros(TIES.shape)
    np.put_along_axis(onehot, np.expand_dims(i.numpy(), dim), 1.0, axis=dim)
    np.testing.assert_array_equal(x.grad.numpy(), onehot)


@pytest.mark.parametrize("dim", [0, 1])
def test_max_dim_with_nan_returns_the_nan_and_its_index(dim):
    same(op("max"), WITH_NAN, dim)
    same(op("min"), WITH_NAN, dim)


def test_aminmax_ties_share_gradient():
    same(lambda lib: lambda x: lib.aminmax(x, dim=1), TIES)
    same(op("aminmax"), TIES)


@pytest.mark.parametrize("name,args", [("median", (1,)), ("nanmedian", (1,)), ("kthvalue", (2, 1)),
                                       ("mode", (1,))])
def test_value_index_ops_send_gradient_to_their_index_even_with_ties(name, args):
    # torch leaves the index among equal values unspecified: check values, the index's value, and
    # that the gradient goes exactly to the returned index
    x = mt.tensor(TIES, requires_grad=True)
    v, i = getattr(mt, name)(x, *args)
    t_v, _ = getattr(torch, name)(torch.from_numpy(TIES), *args)
    np.testing.assert_array_equal(v.detach().numpy(), t_v.numpy())
    np.testing.assert_array_equal(np.take_along_axis(TIES, i.numpy()[:, None], 1)[:, 0], v.detach().numpy())
    v.sum().backward()
    onehot = np.zeros(TIES.shape)
    np.put_along_axis(onehot, i.numpy()[:, None], 1.0, axis=1)
    np.testing.assert_array_equal(x.grad.numpy(), onehot)


def test_median_dim_index_with_ties_matches_torch_for_a_simple_case():
    same(lambda lib: lambda x: lib.median(x, 0), np.array([3.0, 1.0, 3.0, 1.0, 3.0, 1.0]))


def test_mode_prefers_smallest_most_frequent_value_and_its_last_index():
    x = np.array([[3, 1, 3, 1, 2, 2], [5, 5, 4, 4, 4, 0]])
    same(op("mode"), x, grad=False)
    same(op("mode"), x.astype("float32"))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_ties_take_the_latest_index_and_nan_propagates(name):
    same(op(name), TIES, 1)
    same(op(name), WITH_NAN, 1)
    same(op(name), np.array([1, 1, 2, 2, 1, 0, 0]), 0, grad=False)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros(dim):
    args = () if dim is None else (dim,)
    same(op("prod"), ZEROS, *args)
    same(op("prod"), ZEROS[2:], *args)  # a single zero


def test_cumprod_gradient_with_zeros():
    same(op("cumprod"), ZEROS, 1)
    same(op("cumprod"), ZEROS, 0)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, float("inf"), -float("inf"), 0])
def test_norm_gradient_is_zero_where_the_input_or_norm_is_zero(p):
    same(lambda lib: lambda x: lib.norm(x, p, 1), ZEROS)
    same(lambda lib: lambda x: x.norm(p), ZEROS)


def test_std_gradient_zero_where_std_is_zero_and_nan_where_undefined():
    same(lambda lib: lambda x: lib.std(x, 1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(lambda lib: lambda x: lib.std(x, 1), np.array([[2.0], [1.0]]))


def test_softmax_and_logsumexp_with_infinities():
    x = np.array([[-np.inf, -np.inf, 0.0], [1.0, 2.0, 3.0], [np.inf, 0.0, 1.0]])
    same(lambda lib: lambda t: lib.logsumexp(t, 1), x)
    same(lambda lib: lambda t: lib.softmax(t[:2], 1), x)
    same(lambda lib: lambda t: lib.log_softmax(t[:2], 1), x)
    same(lambda lib: lambda t: lib.logcumsumexp(t[:2], 1), x)


def test_nansum_nanmean_gradients_skip_nans():
    same(op("nansum"), WITH_NAN)
    same(op("nanmean"), WITH_NAN, 1)


def test_second_order_gradient_through_tie_rules():
    x_np = np.array([0.5, 2.0, 2.0, -1.0])
    c = np.array([1.0, -2.0, 0.5, 3.0])
    grads = []
    for lib, x in ((torch, to_torch(x_np, True)), (mt, to_mt(x_np, True))):
        y = lib.max(x) * (x * x).sum() + lib.std(x) ** 3
        y.backward(create_graph=True)
        g = x.grad
        x.grad = None
        (g * lib.tensor(c)).sum().backward()
        grads.append((g, x.grad))
    assert_same(grads[1][0], grads[0][0])
    assert_same(grads[1][1], grads[0][1])


# ----- overloads, spellings and result types ----------------------------------------------------
def test_max_overloads():
    x, y = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    same(lambda lib: lambda t: lib.max(t, lib.tensor(y)), x)
    same(lambda lib: lambda t: lib.max(t, other=lib.tensor(y[0])), x)
    same(lambda lib: lambda t: lib.min(t, dim=1, keepdim=True), x)
    same(lambda lib: lambda t: t.max(0, True), x)
    same(lambda lib: lambda t: t.min(), x)


def test_named_result_tuples():
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    r = mt.max(x, 1)
    assert type(r) is return_types.max and r._fields == ("values", "indices")
    v, i = r
    assert v is r.values and i is r.indices
    assert i.dtype == mt.int64 and v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    assert type(mt.min(x, 0)) is return_types.min
    mm = mt.aminmax(x)
    assert type(mm) is return_types.aminmax and (mm.min.item(), mm.max.item()) == (0.0, 7.0)
    for name in ("median", "nanmedian", "mode", "cummax", "cummin"):
        assert type(getattr(mt, name)(x, 1)) is getattr(return_types, name)
    assert type(mt.kthvalue(x, 2)) is return_types.kthvalue
    assert repr(r).startswith("minitorch_jax.return_types.max(\nvalues=")
    for name in ("sort", "topk"):
        assert getattr(return_types, name)._fields == ("values", "indices")
    assert type(mt.std_mean(x)) is tuple and type(mt.var_mean(x, 1)) is tuple


def test_out_argument_for_value_index_pair():
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    v, i = mt.empty(2), mt.zeros(2, dtype=mt.int64)
    res = mt.max(x, 1, out=(v, i))
    assert res[0] is v and v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.std(x, True), lambda lib, x: lib.std(x, False),
    lambda lib, x: lib.var(x, 0, False, True), lambda lib, x: lib.var(x, 0),
    lambda lib, x: lib.var(x, 1, True), lambda lib, x: lib.std(x, unbiased=False),
    lambda lib, x: lib.std(x, dim=(0, 1), correction=0, keepdim=True),
    lambda lib, x: lib.var(x, dim=1, correction=2), lambda lib, x: x.std(1, keepdim=True),
    lambda lib, x: lib.std_mean(x, 0, True), lambda lib, x: lib.var_mean(x, False),
])
def test_var_std_argument_spellings(call):
    # runs in sequence, so a cache keyed on False == 0 would give a wrong divisor here
    same(lambda lib: lambda t: call(lib, t), np.arange(12.0).reshape(3, 4) ** 1.5)


def test_var_rejects_unbiased_with_correction():
    x = mt.ones(3, 4)
    with pytest.raises(TypeError):
        torch.var(torch.ones(3, 4), 0, unbiased=True, correction=1)
    with pytest.raises(TypeError, match="var"):
        mt.var(x, 0, unbiased=True, correction=1)


def test_std_correction_larger_than_n_gives_inf_with_a_warning():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], "float32")
    # N - correction == 0 divides by zero; torch's gradient there (+-inf) is not matched (NaN here)
    for fn, grad in ((lambda lib: lambda t: lib.std(t, 1, correction=5), True),
                     (lambda lib: lambda t: lib.var(t, 1, correction=4), True),
                     (lambda lib: lambda t: lib.var(t, 1, correction=3), False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m, _ = same(fn, x, grad=grad)
        assert np.isinf(m.detach().numpy()[0]) and np.isnan(m.detach().numpy()[1])
    for name, c in (("std", 7.25), ("var_mean", 9.5)):  # corrections not traced before: fresh traces
        with pytest.warns(UserWarning, match=f"{name}\\(\\): degrees of freedom"):
            getattr(mt, name)(mt.tensor(x), 1, correction=c)


def test_integer_and_bool_dtype_rules():
    i32 = np.array([[1, -2, 3], [4, 0, -6]], "int32")
    for name in ("sum", "prod", "nansum", "cumsum", "cumprod"):
        args = (1,) if name.startswith("cum") else ()
        assert getattr(mt, name)(mt.tensor(i32), *args).dtype == mt.int64
    u8 = mt.tensor(np.array([[0, 3], [1, 1]], "uint8"))
    assert mt.all(u8).dtype == mt.uint8 and mt.any(u8, 0).dtype == mt.uint8
    assert mt.all(u8, 1).tolist() == [0, 1]
    assert mt.any(mt.tensor(i32), 1).dtype == mt.bool
    assert mt.logsumexp(mt.tensor(i32), 1).dtype == mt.float32
    assert mt.softmax(mt.tensor(i32), 1, dtype=mt.float64).dtype == mt.float64
    assert mt.count_nonzero(mt.tensor(i32), 0).tolist() == [2, 1, 2]


@pytest.mark.parametrize("name,args", [("std", ()), ("var", (0,)), ("norm", ()), ("logsumexp", (1,)),
                                       ("softmax", (1,)), ("log_softmax", (0,)), ("mean", (1,)),
                                       ("nanmean", ()), ("median", ()), ("cumsum", (1,)),
                                       ("logcumsumexp", (1,)), ("amax", (0,))])
def test_float32_stays_float32(name, args):
    assert getattr(mt, name)(mt.ones(3, 4), *args).dtype == mt.float32
    r = getattr(mt, name)(mt.ones(3, 4, dtype=mt.complex64), *args) if name in ("std", "norm") else None
    assert r is None or r.dtype == mt.float32


def test_softmax_implicit_dim_warns_like_functional():
    x = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    with pytest.warns(UserWarning, match="Implicit dimension"):
        m = mt.log_softmax(mt.tensor(x + 1))  # a fresh trace
    assert_same(m, torch.nn.functional.log_softmax(torch.from_numpy(x + 1), dim=1))
    assert "softmax" in mt._ops.FUNCTIONAL and "log_softmax" in mt._ops.FUNCTIONAL


def test_norm_spellings():
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype("float32")
    same(lambda lib: lambda t: lib.norm(t, "fro", (0, 2), True), x)
    same(lambda lib: lambda t: lib.norm(t, dim=-1, dtype=lib.float64), x)
    same(lambda lib: lambda t: t.norm(p=3, dim=(1, 2)), x)
    same(lambda lib: lambda t: lib.norm(t[0], "nuc"), x.astype("float64"))


# ----- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,args", [
    ("sum", (2,)), ("mean", (-3,)), ("prod", (2,)), ("max", (2,)), ("min", (-3,)), ("amax", (2,)),
    ("argmax", (2,)), ("std", (2,)), ("var_mean", ((0, 2),)), ("norm", (2, 5)), ("logsumexp", (2,)),
    ("cumsum", (2,)), ("cummax", (-3,)), ("softmax", (2,)), ("median", (2,)), ("kthvalue", (1, 2)),
    ("all", (2,)), ("count_nonzero", (2,)), ("nansum", (3,)), ("mode", (2,)),
])
def test_dim_out_of_range_is_an_index_error_naming_op_and_range(name, args):
    with pytest.raises(IndexError):
        getattr(torch, name)(torch.ones(2, 3), *args)
    with pytest.raises(IndexError, match=rf"{name}\(\).*\[-2, 1\]"):
        getattr(mt, name)(mt.ones(2, 3), *args)


@pytest.mark.parametrize("call,kind,match", [
    (lambda lib: lib.mean(lib.ones(3, dtype=lib.int64)), RuntimeError, "mean"),
    (lambda lib: lib.nanmean(lib.ones(3, dtype=lib.int64)), RuntimeError, "nanmean"),
    (lambda lib: lib.std(lib.ones(3, dtype=lib.int64)), RuntimeError, "std"),
    (lambda lib: lib.norm(lib.ones(3, dtype=lib.int64)), RuntimeError, "norm"),
    (lambda lib: lib.max(lib.zeros(0, 3)), RuntimeError, "max"),
    (lambda lib: lib.max(lib.zeros(0, 3), 0), IndexError, "max.*dim 0"),
    (lambda lib: lib.amin(lib.zeros(0, 3), 0), IndexError, "amin.*dim 0"),
    (lambda lib: lib.argmax(lib.zeros(0, 3)), IndexError, "argmax"),
    (lambda lib: lib.aminmax(lib.zeros(0, 3)), RuntimeError, "aminmax"),
    (lambda lib: lib.median(lib.zeros(2, 0), 1), IndexError, "median.*dim 1"),
    (lambda lib: lib.logsumexp(lib.ones(3)), TypeError, "dim"),
    (lambda lib: lib.kthvalue(lib.ones(2, 3), 4), RuntimeError, "kthvalue.*out of range"),
    (lambda lib: lib.argmax(lib.ones(3, dtype=lib.bool)), RuntimeError, "bool"),
    (lambda lib: lib.prod(lib.ones(2, 3), (0, 1)), TypeError, "prod"),
    (lambda lib: lib.amax(lib.ones(2, 3), (0, 0)), RuntimeError, "multiple times"),
    (lambda lib: lib.norm(lib.ones(2, 3, 4), "fro", (0, 1, 2)), RuntimeError, "2-tuple"),
    (lambda lib: lib.norm(lib.ones(2, 3), "abc"), RuntimeError, "abc"),
    (lambda lib: lib.logcumsumexp(lib.ones(3, dtype=lib.int64), 0), RuntimeError, "logcumsumexp"),
    (lambda lib: lib.softmax(lib.ones(3, dtype=lib.int64), 0), RuntimeError, "softmax"),
])
def test_errors_match_torch_kind(call, kind, match):
    with pytest.raises(kind):
        call(torch)
    with pytest.raises(kind, match=match):
        call(mt)


def test_empty_reductions_with_identity():
    e = np.zeros((0, 3), "float32")
    for fn in (lambda lib: lambda t: lib.sum(t), lambda lib: lambda t: lib.prod(t, 0),
               lambda lib: lambda t: lib.logsumexp(t, 0), lambda lib: lambda t: lib.all(t),
               lambda lib: lambda t: lib.any(t, 0), lambda lib: lambda t: lib.max(t, 1),
               lambda lib: lambda t: lib.median(t), lambda lib: lambda t: lib.norm(t, dim=0)):
        same(fn, e, grad=False)


# ----- properties ------------------------------------------------------------------------------
shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3)


@st.composite
def array_and_dims(draw):
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).integers(-3, 4, size=shape).astype("float32")  # ties likely
    nd = max(len(shape), 1)
    dims = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd))
    return x, tuple(dims), draw(st.booleans())


@given(array_and_dims(), st.sampled_from(["sum", "amax", "std", "logsumexp", "count_nonzero"]))
def test_multi_dim_reductions_match_torch(case, name):
    x, dims, keepdim = case
    kw = {} if name == "count_nonzero" else {"keepdim": keepdim}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(lambda lib: lambda t: getattr(lib, name)(t, dims, **kw), x, grad=name != "count_nonzero")


@given(array_and_dims(), st.sampled_from(["max", "argmin", "cummax", "softmax", "median"]))
def test_single_dim_ops_match_torch(case, name):
    x, dims, keepdim = case
    d = dims[0]
    if name in ("cummax", "softmax"):
        same(lambda lib: lambda t: getattr(lib, name)(t, d), x)
    elif name != "median":
        same(lambda lib: lambda t: getattr(lib, name)(t, d, keepdim), x, grad=name == "max")
    else:  # torch's index among equal medians is unspecified: check the value it points at
        v, i = mt.median(mt.tensor(x), d, keepdim)
        assert_same(v, torch.median(torch.from_numpy(x), d, keepdim)[0])
        if x.ndim:
            idx = i.numpy() if keepdim else np.expand_dims(i.numpy(), d)
            np.testing.assert_array_equal(np.take_along_axis(x, idx, d).reshape(v.shape), v.numpy())
