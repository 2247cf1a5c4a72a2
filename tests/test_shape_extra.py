"""The ops of ``_ops/shape_extra.py`` beyond their parity samples: keyword and method forms, return
types, error kinds and messages, data-dependent shapes under ``mt.jit``, and gradients torch
cannot give (vander)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import assert_same, torch

rng = np.random.default_rng(0)


def arr(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


# ----- repeat_interleave -----------------------------------------------------------------------
def test_repeat_interleave_forms_match_torch():
    x = arr(2, 3)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    r = np.array([2, 0, 1])
    assert_same(mt.repeat_interleave(input=mx, repeats=2, dim=1),
                torch.repeat_interleave(input=tx, repeats=2, dim=1))
    assert_same(mx.repeat_interleave(mt.tensor(r), dim=-1), tx.repeat_interleave(torch.from_numpy(r), dim=-1))
    assert_same(mx.repeat_interleave(mt.tensor(2), 0), tx.repeat_interleave(torch.tensor(2), 0))
    assert_same(mx.repeat_interleave(3), tx.repeat_interleave(3))
    assert_same(mt.repeat_interleave(mt.tensor(1.5), 2), torch.repeat_interleave(torch.tensor(1.5), 2))
    # one-argument form keeps the repeats' dtype; keyword form too
    r32 = np.array([1, 2], "int32")
    assert_same(mt.repeat_interleave(mt.tensor(r32)), torch.repeat_interleave(torch.from_numpy(r32)))
    assert_same(mt.repeat_interleave(repeats=mt.tensor(r)),
                torch.repeat_interleave(repeats=torch.from_numpy(r)))


def test_repeat_interleave_method_needs_repeats():
    with pytest.raises(TypeError):
        mt.tensor([1, 2]).repeat_interleave()
    with pytest.raises(TypeError):
        torch.tensor([1, 2]).repeat_interleave()


@pytest.mark.parametrize("call,exc,msg", [
    (lambda x: mt.repeat_interleave(x, -1), RuntimeError, "Repeats must be non-negative"),
    (lambda x: mt.repeat_interleave(x, mt.tensor([1, -2]), 0), RuntimeError, "repeats can not be negative"),
    (lambda x: mt.repeat_interleave(x, mt.tensor([1.0, 2.0]), 0), RuntimeError,
     "\"repeat_interleave_cpu\" not implemented for 'Float'"),
    (lambda x: mt.repeat_interleave(x, mt.tensor([[2]]), 0), RuntimeError, "0-dim or 1-dim"),
    (lambda x: mt.repeat_interleave(x, mt.tensor([1, 2]), 1), RuntimeError,
     "repeats.size(0) = 2 and input.size(1) = 3"),
    (lambda x: mt.repeat_interleave(x, mt.tensor([1, 2]), 0, output_size=4), RuntimeError,
     "allocated size does not match required size"),
    (lambda x: mt.repeat_interleave(x, 2, 0, output_size=5), RuntimeError,
     "Invalid output_size, expected 4 but got 5"),
    (lambda x: mt.repeat_interleave(x, 2, 2), IndexError, "Dimension out of range"),
    (lambda x: mt.repeat_interleave(mt.tensor(1.0), 2, 0), IndexError, "no dimensions"),
    (lambda x: mt.repeat_interleave(x, 2.0), TypeError, "'repeats'"),
    (lambda x: mt.repeat_interleave(x, [1, 2], 0), TypeError, "'repeats'"),
    (lambda x: mt.repeat_interleave(mt.tensor([[1, 2]])), RuntimeError, "only accept 1D vector"),
])
def test_repeat_interleave_errors(call, exc, msg):
    with pytest.raises(exc, match="repeat_interleave") as info:
        call(mt.zeros(2, 3))
    assert msg in str(info.value)


def test_repeat_interleave_under_jit_needs_output_size():
    x = mt.tensor(arr(2, 3))
    f = mt.jit(lambda x, r: mt.repeat_interleave(x, r, dim=0))
    with pytest.raises(RuntimeError, match="output_size"):
        f(x, mt.tensor([1, 2]))
    g = mt.jit(lambda x, r: mt.repeat_interleave(x, r, dim=0, output_size=3))
    for r in ([1, 2], [2, 1]):
        want = np.repeat(np.asarray(x._data), r, axis=0)
        np.testing.assert_array_equal(np.asarray(g(x, mt.tensor(r))._data), want)


def test_repeat_interleave_tensor_repeats_gradient():
    x = mt.tensor(arr(3, 2), requires_grad=True)
    y = mt.repeat_interleave(x, mt.tensor([2, 0, 1]), dim=0)
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad._data), [[2, 2], [0, 0], [1, 1]])


# ----- select and scatters ---------------------------------------------------------------------
def test_select_forms_and_errors():
    x = arr(2, 3)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    assert_same(mx.select(dim=0, index=1), tx.select(dim=0, index=1))
    assert_same(mt.select(mx, 1, mt.tensor(-1)), torch.select(tx, 1, torch.tensor(-1)))
    with pytest.raises(IndexError, match=r"select\(\): index 3 out of range for tensor of size \[2, 3\] "
                                         r"at dimension 1"):
        mx.select(1, 3)
    with pytest.raises(IndexError, match="0-dim"):
        mt.tensor(1.0).select(0, 0)
    with pytest.raises(TypeError, match="'index'.*must be int, not float"):
        mx.select(0, 1.0)


def test_scatter_methods_match_torch():
    x, s3, s2 = arr(2, 3), arr(3), arr(2)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    assert_same(mx.select_scatter(mt.tensor(s3), 0, -1), tx.select_scatter(torch.from_numpy(s3), 0, -1))
    assert_same(mx.slice_scatter(mt.tensor(s3[None]), start=1),
                tx.slice_scatter(torch.from_numpy(s3[None]), start=1))
    assert_same(mx.diagonal_scatter(mt.tensor(s2), dim1=1, dim2=0),
                tx.diagonal_scatter(torch.from_numpy(s2), dim1=1, dim2=0))
    # src is cast to input's dtype
    xi = np.arange(6).reshape(2, 3)
    assert_same(mt.select_scatter(mt.tensor(xi), mt.tensor([1.7, 2.2, 3.9]), 0, 0),
                torch.select_scatter(torch.from_numpy(xi), torch.tensor([1.7, 2.2, 3.9]), 0, 0))


def test_scatter_results_do_not_alias_input():
    x = mt.zeros(2, 3)
    y = mt.slice_scatter(x, mt.ones(2, 1), 1, 2)
    y.add_(1)
    assert float(x.sum()) == 0.0
    assert float(y.sum()) == 8.0


@pytest.mark.parametrize("call,exc,msg", [
    (lambda x: mt.select_scatter(x, 1.0, 0, 1), TypeError,
     "argument 'src' (position 2) must be Tensor, not float"),
    (lambda x: mt.select_scatter(x, mt.ones(2), 0, 1), RuntimeError, "src size = [2], slice size = [3]"),
    (lambda x: mt.select_scatter(x, mt.ones(3), 0, 2), IndexError, "index 2 out of range"),
    (lambda x: mt.slice_scatter(x, mt.ones(2, 2), 1, 0, 2, 0), RuntimeError, "slice step must be positive"),
    (lambda x: mt.slice_scatter(x, mt.ones(2), 1, 1, 2), RuntimeError, "src size = [2], slice size = [2, 1]"),
    (lambda x: mt.slice_scatter(mt.tensor(1.0), mt.tensor(2.0)), IndexError, "0-dim"),
    (lambda x: mt.diagonal_scatter(x, mt.ones(2), 0, 0, 0), RuntimeError, "cannot be identical 0, 0"),
    (lambda x: mt.diagonal_scatter(x, mt.ones(3)), RuntimeError, "src size = [3], slice size = [2]"),
    (lambda x: mt.diagonal_scatter(mt.zeros(3), mt.ones(3)), IndexError, "Dimension out of range"),
])
def test_scatter_errors(call, exc, msg):
    with pytest.raises(exc, match="_scatter") as info:
        call(mt.zeros(2, 3))
    assert msg in str(info.value)


# ----- splitting and joining -------------------------------------------------------------------
def test_nsplit_forms_and_return_type():
    x = arr(2, 4, 6)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    for name, args in [("hsplit", (2,)), ("hsplit", (1, 3)), ("vsplit", ([1],)), ("dsplit", (3,)),
                       ("dsplit", ((4, 1),))]:
        m, t = getattr(mx, name)(*args), getattr(tx, name)(*args)
        assert isinstance(m, tuple)
        assert_same(m, t, what=f"{name}{args}")
    assert_same(mt.hsplit(mt.tensor(x[0, 0]), 3), torch.hsplit(tx[0, 0], 3))


@pytest.mark.parametrize("call,msg", [
    (lambda x: mt.hsplit(x, 4), "torch.hsplit attempted to split along dimension 1, but the size of the "
                                "dimension 3 is not divisible by the split_size 4!"),
    (lambda x: mt.hsplit(x, 0), "not divisible by the split_size 0!"),
    (lambda x: mt.hsplit(mt.tensor(1.0), 1), "at least 1 dimension, but got a tensor with 0 dimensions!"),
    (lambda x: mt.vsplit(mt.zeros(4), 2), "at least 2 dimension, but got a tensor with 1 dimensions!"),
    (lambda x: mt.dsplit(x, 1), "at least 3 dimension, but got a tensor with 2 dimensions!"),
])
def test_nsplit_errors(call, msg):
    with pytest.raises(RuntimeError) as info:
        call(mt.zeros(2, 3))
    assert msg in str(info.value)


def test_split_with_sizes_forms_and_errors():
    x = arr(2, 3, 4)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    assert_same(mx.split_with_sizes(split_sizes=(1, 2), dim=1),
                tx.split_with_sizes(split_sizes=(1, 2), dim=1))
    assert_same(mt.split_with_sizes(mx, [3, 1], -1), torch.split_with_sizes(tx, [3, 1], -1))
    with pytest.raises(TypeError, match="'split_sizes'.*must be tuple of ints, not int"):
        mx.split_with_sizes(1, 1)
    with pytest.raises(RuntimeError, match=r"sum exactly to 3 .*split_sizes=\[1, 3\]"):
        mx.split_with_sizes([1, 3], 1)
    with pytest.raises(RuntimeError, match=r"non-negative entries, but got split_sizes=\[4, -1\]"):
        mx.split_with_sizes([4, -1], 1)
    with pytest.raises(RuntimeError, match="at least a 1-dimensional"):
        mt.split_with_sizes(mt.tensor(1.0), [1])


def test_column_and_row_stack():
    a, b = arr(3), arr(3, 2)
    assert_same(mt.column_stack((mt.tensor(a), mt.tensor(b))),
                torch.column_stack((torch.from_numpy(a), torch.from_numpy(b))))
    out = mt.empty(2, 3)
    res = mt.row_stack([mt.tensor(a), mt.tensor(a)], out=out)
    assert res is out
    assert_same(out, torch.row_stack([torch.from_numpy(a), torch.from_numpy(a)]))
    assert not hasattr(mt.Tensor, "column_stack") and not hasattr(mt.Tensor, "row_stack")
    with pytest.raises(RuntimeError, match="column_stack expects a non-empty TensorList"):
        mt.column_stack([])
    with pytest.raises(RuntimeError, match="vstack expects a non-empty TensorList"):
        mt.row_stack([])
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        mt.column_stack(mt.ones(3))


# ----- diagflat, vander ------------------------------------------------------------------------
def test_diagflat_method_and_keyword():
    x = arr(2, 2)
    assert_same(mt.tensor(x).diagflat(offset=-1), torch.from_numpy(x).diagflat(offset=-1))
    assert_same(mt.diagflat(mt.tensor([1, 2]), 1), torch.diagflat(torch.tensor([1, 2]), 1))


def test_vander_values_dtypes_and_errors():
    x = np.array([0.0, 1.5, -2.0], "float32")
    assert_same(mt.vander(mt.tensor(x), N=4, increasing=True),
                torch.vander(torch.from_numpy(x), N=4, increasing=True))
    for v in ([True, False], np.array([1, 2], "uint8"), [1, 2, 3]):
        assert_same(mt.vander(mt.tensor(v)), torch.vander(torch.tensor(v)))
    assert_same(mt.vander(mt.tensor(x), 0), torch.vander(torch.from_numpy(x), 0))
    assert not hasattr(mt.Tensor, "vander")
    with pytest.raises(RuntimeError, match="N must be non-negative"):
        mt.vander(mt.tensor(x), -1)
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        mt.vander(mt.zeros(2, 2))


def test_vander_gradient_matches_calculus():
    # torch 2.13's vander backward raises, so the gradient is checked against d/dx x**k = k x**(k-1)
    x = np.array([0.0, 1.5, -2.0, 0.5], "float64")
    c = arr(4, 5, dtype="float64")
    mx = mt.tensor(x, requires_grad=True)
    (mt.vander(mx, 5) * mt.tensor(c)).sum().backward()
    k = np.arange(4, -1, -1)
    want = (c * k * np.where(k > 0, x[:, None] ** np.maximum(k - 1, 0), 0)).sum(1)
    np.testing.assert_allclose(np.asarray(mx.grad._data), want, rtol=1e-12, atol=1e-12)


# ----- unravel_index ---------------------------------------------------------------------------
def test_unravel_index_types_and_forms():
    idx = np.array([[1234], [5678]])
    m = mt.unravel_index(mt.tensor(idx), (10, 10, 10, 10))
    assert isinstance(m, tuple) and len(m) == 4
    assert_same(m, torch.unravel_index(torch.from_numpy(idx), (10, 10, 10, 10)))
    assert_same(mt.unravel_index(mt.tensor([5]), mt.Size([2, 3])),
                torch.unravel_index(torch.tensor([5]), torch.Size([2, 3])))
    assert mt.unravel_index(mt.tensor([0]), ()) == ()
    f = mt.jit(lambda i: mt.unravel_index(i, (2, 3)))
    assert [t.tolist() for t in f(mt.tensor([4, 5]))] == [[1, 1], [1, 2]]


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: mt.unravel_index(mt.tensor([1.0]), (3,)), TypeError, "expected 'indices' to be integer dtype"),
    (lambda: mt.unravel_index(mt.tensor([True]), (3,)), TypeError, "expected 'indices' to be integer dtype"),
    (lambda: mt.unravel_index(mt.tensor([1]), (3, -2)), ValueError,
     "'shape' cannot have negative values, but got (3, -2)"),
    (lambda: mt.unravel_index(mt.tensor([1]), (3.0,)), TypeError, "only contain ints"),
    (lambda: mt.unravel_index(mt.tensor([1]), (3, 0)), RuntimeError, "ZeroDivisionError"),
])
def test_unravel_index_errors(call, exc, msg):
    with pytest.raises(exc, match="unravel_index") as info:
        call()
    assert msg in str(info.value)


# ----- unique_consecutive ----------------------------------------------------------------------
def test_unique_consecutive_forms():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    assert_same(mx.unique_consecutive(), tx.unique_consecutive())
    assert_same(mx.unique_consecutive(True, True, 0), tx.unique_consecutive(True, True, 0))
    assert_same(mt.unique_consecutive(mx.reshape(2, 4), return_inverse=True),
                torch.unique_consecutive(tx.reshape(2, 4), return_inverse=True))
    s = np.array(3.0, "float32")
    assert_same(mt.unique_consecutive(mt.tensor(s), return_inverse=True, return_counts=True),
                torch.unique_consecutive(torch.from_numpy(s), return_inverse=True, return_counts=True))
    m = np.array([[1, 2], [1, 2], [3, 4], [1, 2]])
    assert_same(mt.unique_consecutive(mt.tensor(m), return_counts=True, dim=1),
                torch.unique_consecutive(torch.from_numpy(m), return_counts=True, dim=1))
    res = mt.unique_consecutive(mx, return_counts=True)
    assert type(res) is tuple


def test_unique_consecutive_errors():
    with pytest.raises(IndexError, match="no dimensions"):
        mt.unique_consecutive(mt.tensor(1.0), dim=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        mt.unique_consecutive(mt.zeros(2, 2), dim=2)
    with pytest.raises(RuntimeError, match="0 sized dimensions"):
        mt.unique_consecutive(mt.zeros(2, 0), dim=0)
    f = mt.jit(lambda x: mt.unique_consecutive(x))
    with pytest.raises(RuntimeError, match="depends on the data"):
        f(mt.tensor([1, 1, 2]))


# ----- narrow_copy -----------------------------------------------------------------------------
def test_narrow_copy_forms_and_errors():
    x = arr(3, 4)
    tx, mx = torch.from_numpy(x), mt.tensor(x)
    assert_same(mx.narrow_copy(1, mt.tensor(1), 2), tx.narrow_copy(1, torch.tensor(1), 2))
    assert_same(mt.narrow_copy(mx, dim=0, start=-2, length=2),
                torch.narrow_copy(tx, dim=0, start=-2, length=2))
    with pytest.raises(RuntimeError, match=r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"):
        mx.narrow_copy(0, 2, 2)
    with pytest.raises(IndexError, match=r"start out of range \(expected to be in range of \[-3, 3\], "
                                         r"but got 4\)"):
        mx.narrow_copy(0, 4, 0)
    with pytest.raises(RuntimeError, match="0-dim"):
        mt.narrow_copy(mt.tensor(1.0), 0, 0, 1)
    x2 = mt.tensor(x, requires_grad=True)
    mt.narrow_copy(x2, 1, -3, 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(x2.grad._data), np.tile([0, 1, 1, 0], (3, 1)))


# ----- float static arguments ------------------------------------------------------------------
@pytest.mark.parametrize("good,bad", [
    (lambda x: mt.select(x, 0, 1), lambda x: mt.select(x, 0, 1.0)),
    (lambda x: x.select(0, 1), lambda x: x.select(0.0, 1)),
    (lambda x: mt.narrow_copy(x, 1, 0, 2), lambda x: mt.narrow_copy(x, 1, 0, length=2.0)),
    (lambda x: mt.diagflat(x, 1), lambda x: mt.diagflat(x, 1.0)),
    (lambda x: mt.split_with_sizes(x, [1, 1]), lambda x: mt.split_with_sizes(x, [1.0, 1])),
    (lambda x: mt.hsplit(x, 3), lambda x: mt.hsplit(x, 3.0)),
    (lambda x: mt.select_scatter(x, mt.ones(3), 0, 1), lambda x: mt.select_scatter(x, mt.ones(3), 0, 1.0)),
    (lambda x: mt.slice_scatter(x, mt.ones(1, 3), 0, 1),
     lambda x: mt.slice_scatter(x, mt.ones(1, 3), 0, 1.0)),
    (lambda x: mt.diagonal_scatter(x, mt.ones(2), 0), lambda x: mt.diagonal_scatter(x, mt.ones(2), 0.0)),
    (lambda x: mt.vander(x[0], 2), lambda x: mt.vander(x[0], N=2.0)),
    (lambda x: mt.repeat_interleave(x, 2, 0), lambda x: mt.repeat_interleave(x, 2, 0.0)),
    (lambda x: mt.unravel_index(mt.tensor([1]), (3,)), lambda x: mt.unravel_index(mt.tensor([1]), (3.0,))),
])
def test_float_arguments_raise_after_an_int_of_the_same_value(good, bad):
    # the int call compiles a kernel whose cache key equals the float call's (1.0 == 1)
    x = mt.zeros(2, 3)
    good(x)
    with pytest.raises(TypeError, match="float|<class 'float'>"):
        bad(x)
