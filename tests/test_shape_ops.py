"""Shape ops beyond the parity samples: argument forms, error kinds and messages, the transpose
properties, copy (not alias) semantics of views, in-place variants, and gradients of chains."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops import REGISTRY

from .oracle import assert_same, check_grads, to_mt, to_torch, torch

rng = np.random.default_rng(0)


def arr(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


# ----- argument forms ------------------------------------------------------------------------
@pytest.mark.parametrize("name,forms", [
    ("view", [(4, 6), ((4, 6),), ([4, 6],), (-1, 6)]),
    ("reshape", [(4, 6), ((4, 6),), ([2, -1],)]),
    ("permute", [(2, 0, 1), ((2, 0, 1),), ([2, 0, 1],), (-1, 0, 1)]),
    ("expand", [(2, 2, 3, 4), ((2, 2, 3, 4),), (2, -1, -1, -1)]),
    ("repeat", [(1, 2, 1), ((1, 2, 1),), ([2, 1, 1, 1],)]),
    ("tile", [(2,), ((2,),), (2, 1, 1, 1)]),
    ("flip", [(0,), ((0, 2),), ([1],)]),
])
def test_varargs_and_tuple_forms_match_torch(name, forms):
    x = arr(2, 3, 4)
    for args in forms:
        t = getattr(torch.from_numpy(x), name)(*args)
        m = getattr(mt.tensor(x), name)(*args)
        assert_same(m, t, what=f"{name}{args}")


@pytest.mark.parametrize("name,kw", [
    ("view", {"size": (24,)}), ("reshape", {"shape": (6, 4)}), ("permute", {"dims": (2, 1, 0)}),
    ("expand", {"size": (2, 2, 3, 4)}), ("flip", {"dims": (1,)}), ("tile", {"dims": (2,)}),
    ("squeeze", {"dim": (0,)}), ("repeat", {"repeats": (1, 1, 2)}),
])
def test_keyword_forms_match_torch(name, kw):
    x = arr(2, 3, 4)
    assert_same(getattr(mt.tensor(x), name)(**kw), getattr(torch.from_numpy(x), name)(**kw))


def test_size_and_zero_dim_tensor_arguments():
    x = mt.tensor(arr(2, 3, 4))
    assert x.view(x.shape).shape == (2, 3, 4)
    assert x.reshape(mt.tensor(4), -1).shape == (4, 6)
    assert x.narrow(1, mt.tensor(1), 2).shape == (2, 2, 4)
    parts = x.tensor_split(mt.tensor([1, 3]), 2)
    assert [tuple(p.shape) for p in parts] == [(2, 3, 1), (2, 3, 2), (2, 3, 1)]


# ----- errors: kind as torch, message naming the op and the values ---------------------------
ERRORS = [
    ("view", lambda x: x.view(5, 5), ["view", "shape '[5, 5]' is invalid for input of size 24"]),
    ("view", lambda x: x.view(-1, -1), ["only one dimension can be inferred"]),
    ("view", lambda x: x.view(-2, 12), ["invalid shape dimension -2"]),
    ("view", lambda x: x.view((4, 6), 1), ["view"]),
    ("view", lambda x: x.view(2.0, 12), ["view"]),
    ("reshape", lambda x: x.reshape(7), ["reshape", "shape '[7]' is invalid for input of size 24"]),
    ("permute", lambda x: x.permute(0, 1), ["permute", "input.dim() = 3", "len(dims) = 2"]),
    ("permute", lambda x: x.permute(0, 1, 1), ["duplicate dims"]),
    ("permute", lambda x: x.permute(0, 1, 5), ["Dimension out of range", "got 5"]),
    ("t", lambda x: x.t(), ["t() expects a tensor with <= 2 dimensions, but self is 3D"]),
    ("transpose", lambda x: x.transpose(0, 3), ["transpose", "got 3"]),
    ("swapaxes", lambda x: x.swapaxes(0, 3), ["got 3"]),
    ("movedim", lambda x: x.movedim((0, 0), (1, 2)), ["repeated dim in `source`"]),
    ("movedim", lambda x: x.movedim((0, 1), (1,)), ["same number of dims"]),
    ("squeeze", lambda x: x.squeeze(3), ["squeeze", "got 3"]),
    ("unsqueeze", lambda x: x.unsqueeze(4), ["unsqueeze", "[-4, 3]"]),
    ("expand", lambda x: x.expand(2, 3, 5),
     ["expand", "expanded size of the tensor (5) must match the existing size (4)", "[2, 3, 5]"]),
    ("expand", lambda x: x.expand(3, 4), ["number of sizes provided (2)"]),
    ("expand", lambda x: x.expand(-1, 2, 3, 4), ["leading, non-existing dimension 0"]),
    ("broadcast_to", lambda x: x.broadcast_to((2, 3, 5)), ["broadcast_to", "(5)", "(4)"]),
    ("repeat", lambda x: x.repeat(2, 2), ["repeat", "can not be smaller"]),
    ("repeat", lambda x: x.repeat(2, 2, -1), ["negative dimension -4"]),
    ("split", lambda x: x.split(0), ["split_size can only be 0"]),
    ("split", lambda x: x.split(-1), ["non-negative"]),
    ("split", lambda x: x.split([1, 2]), ["sum exactly to 2", "[1, 2]"]),
    ("chunk", lambda x: x.chunk(0), ["chunk", "got: 0"]),
    ("tensor_split", lambda x: x.tensor_split(0), ["tensor_split", "got 0"]),
    ("narrow", lambda x: x.narrow(1, 2, 2), ["start (2) + length (2) exceeds dimension size (3)"]),
    ("narrow", lambda x: x.narrow(1, 4, 0), ["start out of range", "got 4"]),
    ("narrow", lambda x: x.narrow(1, 0, -1), ["length must be non-negative"]),
    ("flip", lambda x: x.flip(0, 0), ["flip", "multiple times"]),
    ("roll", lambda x: x.roll((1, 2), (0,)), ["shifts and dimensions must align"]),
    ("roll", lambda x: x.roll((1, 2)), ["shifts: 2, dims:0"]),
    ("rot90", lambda x: x.rot90(1, (0, -3)), ["rotation dims to be different", "dim1 = -3"]),
    ("rot90", lambda x: x.rot90(1, (0,)), ["total rotation dims == 2"]),
    ("diag", lambda x: x.diag(), ["diag", "Got 3D"]),
    ("diagonal", lambda x: x.diagonal(0, 1, 1), ["diagonal dimensions cannot be identical 1, 1"]),
    ("diag_embed", lambda x: x.diag_embed(0, 1, 1), ["cannot be identical"]),
    ("flatten", lambda x: x.flatten(2, 1), ["start_dim cannot come after end_dim"]),
    ("unflatten", lambda x: x.unflatten(1, (2, 2)), ["unflatten", "[2, 2]", "(3)"]),
    ("unflatten", lambda x: x.unflatten(1, ()), ["sizes must be non-empty"]),
    ("mT", lambda x: x.flatten().mT, ["mT is only supported on matrices", "Got 1-D"]),
    ("H", lambda x: x.H, ["H is only supported on matrices (2-D tensors). Got 3-D"]),
    ("adjoint", lambda x: x.flatten().adjoint(), ["adjoint() is only supported"]),
    ("mH", lambda x: x.flatten().mH, ["mH is only supported"]),
    ("view_dtype", lambda x: x.narrow(-1, 0, 3).view(mt.float64 if isinstance(x, mt.Tensor)
                                                      else torch.float64),
     ["divisible by 2", "Float as Double"]),
]


@pytest.mark.parametrize("name,f,texts", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_error_kind_and_message(name, f, texts):
    x = arr(2, 3, 4)
    with pytest.raises(Exception) as t_err:
        f(torch.from_numpy(x))
    kind = t_err.type if t_err.type in (TypeError, IndexError, ValueError) else RuntimeError
    with pytest.raises(kind) as m_err:
        f(mt.tensor(x))
    for text in texts:
        assert text in str(m_err.value), f"{text!r} not in {str(m_err.value)!r}"


@pytest.mark.parametrize("f,kind,text", [
    (lambda: mt.cat([]), ValueError, "cat(): expected a non-empty list of Tensors"),
    (lambda: mt.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda: mt.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    (lambda: mt.cat([mt.zeros(2, 3), mt.zeros(2, 4)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor "
     "number 1"),
    (lambda: mt.cat([mt.zeros(2, 3), mt.zeros(3)]), RuntimeError, "got 2 and 1"),
    (lambda: mt.cat([mt.zeros(()), mt.zeros(())]), RuntimeError, "zero-dimensional tensor (at position 0)"),
    (lambda: mt.cat([mt.zeros(2, 3)], 2), IndexError, "Dimension out of range"),
    (lambda: mt.cat([mt.zeros(2), 1]), TypeError, "expected Tensor as element 1"),
    (lambda: mt.cat(mt.zeros(2, 3)), TypeError, "must be tuple of Tensors, not Tensor"),
    (lambda: mt.stack([mt.zeros(2, 3), mt.zeros(2, 4)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1"),
    (lambda: mt.broadcast_tensors(mt.zeros(2, 3), mt.zeros(4)), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda: mt.broadcast_tensors([mt.zeros(3)]), TypeError, "expected Tensor as element 0"),
    (lambda: mt.zeros(()).unbind(), IndexError, "no dimensions"),
    (lambda: mt.zeros(()).narrow(0, 0, 1), RuntimeError, "0-dim"),
    (lambda: mt.zeros(()).split(1), RuntimeError, "at least a 1-dimensional tensor"),
    (lambda: mt.zeros(3).tril(), RuntimeError, "at least 2 dimensions"),
    (lambda: mt.zeros(3).fliplr(), RuntimeError, "Input must be >= 2-d."),
    (lambda: mt.zeros(()).flipud(), RuntimeError, "Input must be >= 1-d."),
    (lambda: mt.zeros(2, 3).repeat(), TypeError, "repeats"),
    (lambda: mt.zeros(()).view(mt.int16), RuntimeError, "cannot be 0"),
    (lambda: mt.zeros(0, 3).view(-1, 0), RuntimeError, "ambiguous"),
])
def test_error_messages(f, kind, text):
    with pytest.raises(kind) as err:
        f()
    assert text in str(err.value)


def test_cat_errors_match_torch_kinds():
    for tensors in ([], [np.zeros((2, 3)), np.zeros((2, 4))], [np.zeros(()), np.zeros(())]):
        with pytest.raises(Exception) as t_err:
            torch.cat(to_torch(tensors))
        kind = t_err.type if t_err.type in (TypeError, IndexError, ValueError) else RuntimeError
        with pytest.raises(kind):
            mt.cat(to_mt(tensors))


# ----- torch behaviours worth pinning -------------------------------------------------------------
def test_squeeze_of_non_singleton_dim_is_a_no_op():
    x = mt.zeros(2, 1, 3)
    assert x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze((0, 1)).shape == (2, 3)
    assert x.squeeze().shape == (2, 3)
    assert mt.zeros(()).squeeze(0).shape == ()


def test_cat_promotes_and_skips_legacy_empty():
    assert mt.cat([mt.zeros(2, dtype=mt.int32), mt.zeros(2)]).dtype == mt.float32
    assert mt.cat([mt.zeros(2, dtype=mt.bool), mt.zeros(2, dtype=mt.int8)]).dtype == mt.int8
    assert mt.cat([mt.zeros(2, dtype=mt.float64), mt.zeros(2)]).dtype == mt.float64
    assert mt.cat([mt.zeros(0), mt.ones(2, 3)]).shape == (2, 3)
    assert mt.concat((mt.ones(2), mt.ones(1))).shape == (3,)
    assert mt.concatenate([mt.ones(1, 2), mt.ones(1, 2)], dim=1).shape == (1, 4)


def test_cat_out():
    out = mt.zeros(4)
    res = mt.cat([mt.ones(2), mt.ones(2)], out=out)
    assert res is out and out.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_splits_return_tuples():
    x = mt.arange(10.)
    for res in (x.split(3), mt.split(x, [5, 5]), x.chunk(3), x.unbind(), x.tensor_split(4),
                mt.broadcast_tensors(x, x)):
        assert isinstance(res, tuple)
    assert [len(p) for p in x.split(3)] == [3, 3, 3, 1]
    assert [len(p) for p in x.chunk(4)] == [3, 3, 3, 1]
    assert [len(p) for p in mt.arange(6.).chunk(4)] == [2, 2, 2]
    assert len(mt.zeros(0).chunk(3)) == 3
    assert [p.item() for p in mt.tensor([1, 2, 3])] == [1, 2, 3]  # __iter__ unbinds


def test_atleast_and_stacks():
    assert mt.atleast_1d(mt.tensor(1.)).shape == (1,)
    assert mt.atleast_2d(mt.ones(3)).shape == (1, 3)
    assert mt.atleast_3d(mt.ones(3)).shape == (1, 3, 1)
    assert mt.atleast_3d(mt.ones(2, 3)).shape == (2, 3, 1)
    assert isinstance(mt.atleast_2d([mt.ones(3)]), tuple)
    assert isinstance(mt.atleast_2d(mt.ones(3), mt.ones(2)), tuple)
    assert mt.atleast_1d() == ()
    assert mt.hstack([mt.ones(2), mt.ones(3)]).shape == (5,)
    assert mt.vstack([mt.ones(3), mt.ones(3)]).shape == (2, 3)
    assert mt.dstack([mt.ones(3), mt.ones(3)]).shape == (1, 3, 2)


def test_transpose_properties_match_torch():
    x = arr(2, 3, 4)
    c = (arr(2, 3) + 1j * arr(2, 3)).astype("complex64")
    assert_same(mt.tensor(x[0]).T, torch.from_numpy(x[0]).T)
    assert_same(mt.tensor(x[0, 0]).T, torch.from_numpy(x[0, 0]).T)
    assert_same(mt.tensor(x).mT, torch.from_numpy(x).mT)
    assert_same(mt.tensor(c).H, torch.from_numpy(c).H)
    assert_same(mt.tensor(c).mH, torch.from_numpy(c).mH)
    assert_same(mt.tensor(c).adjoint(), torch.from_numpy(c).adjoint())
    assert_same(mt.tensor(x).mH, torch.from_numpy(x).mH)
    with pytest.warns(UserWarning, match="x.T"):
        m = mt.tensor(x).T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(m, torch.from_numpy(x).T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = mt.tensor(x[0]).T  # no warning for matrices
    with pytest.warns(UserWarning, match="conj"):
        z = mt.tensor(np.complex64(1 + 2j)).H
    assert z.shape == () and z.item() == 1 - 2j


def test_transpose_properties_are_differentiable():
    x = arr(2, 3, 4)
    for f in (lambda v: v.mT, lambda v: v.mH, lambda v: v.unbind()[1].T):
        t_in, m_in = to_torch(x, True), to_mt(x, True)
        assert check_grads(f(m_in), f(t_in), [m_in], [t_in])


def test_tril_triu_inplace():
    x_np = arr(3, 4)
    x = mt.tensor(x_np)
    before = x._version
    assert x.tril_(1) is x and x._version == before + 1
    np.testing.assert_array_equal(np.asarray(x._data), np.tril(x_np, 1))
    y = mt.tensor(x_np)
    y.triu_(-1)
    np.testing.assert_array_equal(np.asarray(y._data), np.triu(x_np, -1))
    leaf = mt.tensor(x_np, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.tril_()


def test_view_dtype_reinterprets_bits():
    x = arr(2, 4)
    for d in ("int32", "int16", "float64", "uint8", "complex64"):
        t = torch.from_numpy(x).view(getattr(torch, d))
        m = mt.tensor(x).view(getattr(mt, d))
        assert tuple(m.shape) == tuple(t.shape) and str(m.dtype).endswith(d)
        np.testing.assert_array_equal(np.asarray(m._data).view(np.uint8),
                                      t.numpy().view(np.uint8))
    c = (arr(3) + 1j * arr(3)).astype("complex64")
    assert_same(mt.tensor(c).view(mt.float32), torch.from_numpy(c).view(torch.float32))
    b = np.array([0, 1, 1], np.uint8)
    assert_same(mt.tensor(b).view(mt.bool), torch.from_numpy(b).view(torch.bool))
    g = mt.ones(4, requires_grad=True)
    assert not g.view(mt.float32).requires_grad  # torch: view(dtype) is outside autograd


def test_gradient_of_a_chain_of_shape_ops():
    x, y = arr(2, 3, 4), arr(4, 6)

    def f(lib, a, b):
        z = a.permute(2, 0, 1).reshape(4, 6)
        z = lib.cat([z, b.flip(0)], 1).unsqueeze(0).expand(2, -1, -1)
        p, q = z.split([5, 7], -1)
        w = lib.stack([p.sum(-1), q.narrow(2, 1, 3).mean(-1)], 0)
        return lib.diag_embed(w.movedim(0, -1)).tril().flatten(1).roll(2, 1)

    t_in, m_in = to_torch([x, y], True), to_mt([x, y], True)
    t_out, m_out = f(torch, *t_in), f(mt, *m_in)
    assert_same(m_out, t_out)
    assert check_grads(m_out, t_out, m_in, t_in)


def test_higher_order_gradient_through_shape_ops():
    x_np = arr(3, 2)

    mt_autograd = pytest.importorskip("minitorch_jax.autograd")
    if not hasattr(mt_autograd, "grad"):
        pytest.skip("minitorch_jax.autograd.grad not available")

    def g(lib, x):
        y = (x.t().reshape(-1) ** 3).sum()
        (gx,) = (torch.autograd.grad if lib is torch else mt_autograd.grad)(y, x, create_graph=True)
        return (gx.permute(1, 0) ** 2).sum()
    t_x, m_x = to_torch(x_np, True), to_mt(x_np, True)
    g(torch, t_x).backward()
    g(mt, m_x).backward()
    assert_same(m_x.grad, t_x.grad)


def test_each_call_is_one_cached_dispatch():
    x = mt.ones(2, 3, 4)
    op = REGISTRY["permute"]
    x.permute(2, 0, 1)
    n = len(op._fwd)
    for _ in range(3):
        x.permute(2, 0, 1)
    assert len(op._fwd) == n
    cat = REGISTRY["cat"]
    mt.cat([x, x], 1)
    n = len(cat._fwd)
    mt.cat([x, x], 1)
    assert len(cat._fwd) == n


def test_inplace_shape_ops_match_torch():
    for name, args in [("t_", ()), ("transpose_", (0, 1)), ("squeeze_", ()), ("unsqueeze_", (0,)),
                       ("swapaxes_", (0, 1))]:
        a = np.arange(6, dtype=np.float32).reshape(2, 1, 3)[:, 0] if name == "t_" else \
            np.arange(6, dtype=np.float32).reshape(2, 1, 3)
        m, t = mt.tensor(a), torch.tensor(a)
        v = m._version
        assert getattr(m, name)(*args) is m and m._version == v + 1
        getattr(t, name)(*args)
        assert tuple(m.shape) == tuple(t.shape) and m.tolist() == t.tolist()
    w = mt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.t_()


def test_broadcast_shapes():
    assert mt.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)
    with pytest.raises(RuntimeError, match="broadcast_shapes"):
        mt.broadcast_shapes((2,), (3,))
