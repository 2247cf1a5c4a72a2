"""Indexing against real PyTorch: ``x[...]``, ``x[...] = v`` (values, shapes, gradients, errors),
and the edge cases of the selection ops that the table samples do not reach."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax import return_types

from .oracle import assert_same, check_grads, to_mt, to_torch, torch

RNG = np.random.default_rng(0)


def arr(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


class Idx:
    """An index written once, built for either library: ``T(...)`` marks an index tensor."""

    def __init__(self, build):
        self.build = build

    def torch(self):
        return self.build(lambda v, dt=None: torch.tensor(v, dtype=getattr(torch, dt) if dt else None))

    def mt(self):
        return self.build(lambda v, dt=None: mt.tensor(v, dtype=getattr(mt, dt) if dt else None))


MASK = np.array([True, False, True, True, False])
MASK2 = RNG.random((5, 6)) > 0.5
MASK4 = np.zeros((5, 6), bool)
MASK4.flat[[1, 8, 17, 29]] = True  # exactly 4 True: broadcasts with a length-4 index

GET_CASES = [
    ((5, 6, 7), lambda T: 0), ((5, 6, 7), lambda T: -1), ((5, 6, 7), lambda T: slice(1, None)),
    ((5, 6, 7), lambda T: slice(None, None, 2)), ((5, 6, 7), lambda T: (slice(-3, -1), 2)),
    ((5, 6, 7), lambda T: (Ellipsis, 0)), ((5, 6, 7), lambda T: (None, 0)),
    ((5, 6, 7), lambda T: (Ellipsis, 0, Ellipsis)), ((5, 6, 7), lambda T: (Ellipsis, None, Ellipsis)),
    ((5, 6, 7), lambda T: (0, None, Ellipsis, None)), ((5, 6, 7), lambda T: ()),
    ((5, 6, 7), lambda T: Ellipsis), ((5, 6, 7), lambda T: slice(10, 20)),
    ((5, 6, 7), lambda T: (slice(-100, 100, 3), slice(None), slice(5, 1))),
    ((5, 6, 7), lambda T: T([0, 2, 0])), ((5, 6, 7), lambda T: [0, 2, 4, 2]),
    ((5, 6, 7), lambda T: [[0, 1], [1, 2]]), ((5, 6, 7), lambda T: T([[0, 1], [2, 0]])),
    ((5, 6, 7), lambda T: T(MASK)), ((5, 6, 7), lambda T: MASK), ((5, 6, 7), lambda T: MASK.tolist()),
    ((5, 6, 7), lambda T: T(MASK2)), ((5, 6, 7), lambda T: (slice(None), T([True, False] * 3))),
    ((5, 6, 7), lambda T: (T(MASK4), T([0, 1, 6, 3]))),
    ((5, 6, 7), lambda T: (0, slice(None), T([0, 1]))),
    ((5, 6, 7), lambda T: (T([0, 1]), slice(None), T([1, 2]))),
    ((5, 6, 7), lambda T: (slice(None), T([0, 1]), T([1, 2]))),
    ((5, 6, 7), lambda T: (None, T([[0, 1]]), None, T([0, 1]))),
    ((5, 6, 7), lambda T: (T([0, 1]), 1, slice(2, 4))),
    ((5, 6, 7), lambda T: (True,)), ((5, 6, 7), lambda T: False), ((5, 6, 7), lambda T: (T([0, 1]), True)),
    ((5, 6, 7), lambda T: (True, 0)), ((5, 6, 7), lambda T: (T([0, 1]), T(True))),
    ((5, 6, 7), lambda T: T(1)), ((5, 6, 7), lambda T: (T([0, 1]), T(0))),
    ((5, 6, 7), lambda T: np.int64(3)), ((5, 6, 7), lambda T: T([-1, -5])),
    ((5, 6, 7), lambda T: T([1, 3], "int32")), ((5, 6, 7), lambda T: []),
    ((5, 6, 7), lambda T: (slice(None), slice(None), T([[6, 0], [0, 6]]))),
    ((5, 6, 7), lambda T: (T(np.zeros((5, 6, 7), bool)))), ((), lambda T: None), ((), lambda T: ...),
    ((4,), lambda T: T(np.array([True, True, False, True]))),
    ((3, 0), lambda T: (slice(None), T([], "int64"))),
]


@pytest.mark.parametrize("shape,build", GET_CASES, ids=[str(i) for i in range(len(GET_CASES))])
def test_getitem_matches_torch(shape, build):
    idx = Idx(build)
    x = arr(*shape)
    tx, mx = to_torch(x, grad=True), to_mt(x, grad=True)
    t_out, m_out = tx[idx.torch()], mx[idx.mt()]
    assert_same(m_out, t_out)
    check_grads(m_out, t_out, [mx], [tx])


def test_getitem_repeated_indices_accumulate_grad():
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[mt.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_getitem_int_and_bool_dtypes():
    for dt in ("int64", "int32", "bool", "uint8", "float64"):
        x = (RNG.random((4, 3)) * 10).astype(dt)
        assert_same(to_mt(x)[1:, mt.tensor([0, 2])], to_torch(x)[1:, torch.tensor([0, 2])])


def test_getitem_uint8_tensor_is_a_mask():
    x = arr(4)
    m = np.array([1, 0, 1, 1], np.uint8)
    with pytest.warns(UserWarning):
        t_out = to_torch(x)[torch.from_numpy(m)]
    assert_same(to_mt(x)[mt.tensor(m)], t_out)


ERR_CASES = [
    ((3,), lambda T: 5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3, 4), lambda T: (0, -5), IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    ((3,), lambda T: T([0, 3]), IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((3, 4), lambda T: (slice(None), T([-5])), IndexError, "dimension 1 with size 4"),
    ((3,), lambda T: 1.5, IndexError, "valid indices"),
    ((3,), lambda T: T([1.0]), IndexError, "must be long, int, byte or bool"),
    ((3,), lambda T: slice(None, None, -1), ValueError, "step must be greater than zero"),
    ((3,), lambda T: slice(None, None, 0), ValueError, "step must be greater than zero"),
    ((3, 4), lambda T: (0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ((), lambda T: 0, IndexError, "invalid index of a 0-dim tensor"),
    ((3,), lambda T: T([True, False]), IndexError, "shape of the mask"),
    ((3, 4), lambda T: (T([0, 1]), T([0, 1, 2])), IndexError, "shape mismatch"),
    ((3, 4), lambda T: "a", TypeError, "str"),
]


@pytest.mark.parametrize("shape,build,exc,msg", ERR_CASES, ids=[str(i) for i in range(len(ERR_CASES))])
def test_getitem_errors_match_torch(shape, build, exc, msg):
    idx = Idx(build)
    x = arr(*shape)
    with pytest.raises(exc):
        to_torch(x)[idx.torch()]
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        to_mt(x)[idx.mt()]


SET_CASES = [
    ((4, 5), lambda T: 0, (), None), ((4, 5), lambda T: (slice(None), 1), (4,), None),
    ((4, 5), lambda T: T([0, 2]), (5,), None), ((4, 5), lambda T: T([0, 2]), (2, 1), None),
    ((4, 5), lambda T: T(MASK2[:4, :5]), (), None), ((4, 5), lambda T: (Ellipsis, 1), (1, 4), None),
    ((3, 4, 5), lambda T: (0, slice(None), T([0, 3])), (4, 2), None),
    ((3, 4, 5), lambda T: (T([0, 1]), slice(None), T([1, 2])), (2, 4), None),
    ((3, 4, 5), lambda T: (None, 1, slice(1, 3)), (1, 2, 5), None),
    ((3, 4, 5), lambda T: (T([0, 1]), True), (2, 4, 5), None),
    ((3, 4, 5), lambda T: (slice(None, None, 2), T([[0], [3]]), T([1, 4])), (2, 2), None),
    ((4, 5), lambda T: slice(1, 3), 2.5, None), ((4,), lambda T: T([True, False, True, False]), (2,), None),
    ((4, 5), lambda T: (slice(None), T([0, 2])), (1, 1, 4, 2), None),
]


@pytest.mark.parametrize("shape,build,vshape,_", SET_CASES, ids=[str(i) for i in range(len(SET_CASES))])
def test_setitem_matches_torch_with_grads(shape, build, vshape, _):
    idx = Idx(build)
    base = arr(*shape)
    v = arr(*vshape) if isinstance(vshape, tuple) else vshape
    tb, mb = to_torch(base, grad=True), to_mt(base, grad=True)
    tv, mv = (to_torch(v, grad=True), to_mt(v, grad=True)) if isinstance(v, np.ndarray) else (v, v)
    tx, mx = tb.clone(), mb.clone()
    tx[idx.torch()] = tv
    mx[idx.mt()] = mv
    assert_same(mx, tx)
    check_grads(mx, tx, [mb, mv], [tb, tv])


def test_setitem_casts_scalar_and_tensor_values_for_basic_indexing():
    x = mt.zeros(3, dtype=mt.int64)
    x[0] = 1.7
    x[1] = mt.tensor(2.9)
    t = torch.zeros(3, dtype=torch.int64)
    t[0] = 1.7
    t[1] = torch.tensor(2.9)
    assert_same(x, t)


def test_setitem_dtype_mismatch_with_index_tensor_raises():
    with pytest.raises(RuntimeError):
        torch.zeros(3)[torch.tensor([0])] = torch.tensor([2])
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        mt.zeros(3)[mt.tensor([0])] = mt.tensor([2])


def test_setitem_shape_mismatch_raises_runtime_error():
    with pytest.raises(RuntimeError):
        torch.zeros(3, 4)[torch.tensor([0, 1])] = torch.ones(3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        mt.zeros(3, 4)[mt.tensor([0, 1])] = mt.ones(3)
    with pytest.raises(RuntimeError):
        mt.zeros(3, 4)[0] = mt.ones(3)


def test_setitem_out_of_range_raises_index_error():
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        mt.zeros(3)[mt.tensor([3])] = 1.0
    with pytest.raises(IndexError):
        mt.zeros(3)[3] = 1.0


def test_setitem_is_inplace_version_and_leaf_rules():
    x = mt.zeros(3)
    v0 = x._version
    x[1] = 2.0
    assert x._version == v0 + 1
    leaf = mt.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    with mt.no_grad():
        leaf[0] = 1.0  # allowed without grad mode, as torch (parameter init)
    assert leaf.tolist() == [1.0, 0.0, 0.0] and leaf.is_leaf


def test_setitem_on_saved_tensor_trips_version_check():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    y = b * b  # saves b
    b[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_setitem_value_requires_grad_makes_target_part_of_graph():
    x = mt.zeros(4)
    v = mt.tensor([1.0, 2.0], requires_grad=True)
    x[mt.tensor([1, 3])] = v
    assert x.requires_grad and x.grad_fn is not None
    (x * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 4.0])


def test_index_put_accumulate_and_inplace():
    x = mt.zeros(4)
    r = x.index_put_((mt.tensor([0, 0, 3]),), mt.tensor([1.0, 2.0, 3.0]), accumulate=True)
    assert r is x
    assert x.tolist() == [3.0, 0.0, 0.0, 3.0]


# ----- hypothesis: random basic + advanced indices against torch ---------------------------
@st.composite
def _index(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    items = []
    d = 0
    adv = False
    while d < len(shape) and draw(st.booleans()):
        n = shape[d]
        kind = draw(st.sampled_from(["int", "slice", "none", "arr"] if n else ["slice", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
            d += 1
        elif kind == "slice":
            lo = draw(st.none() | st.integers(-6, 6))
            hi = draw(st.none() | st.integers(-6, 6))
            items.append(slice(lo, hi, draw(st.none() | st.integers(1, 3))))
            d += 1
        elif kind == "none":
            items.append(None)
        else:
            k = 2 if adv else draw(st.integers(0, 3))  # later arrays broadcast with the first
            items.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k)),
                                  dtype=np.int64))
            adv = True
            d += 1
    if draw(st.booleans()) and len(items) < len(shape):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return shape, tuple(items)


def _fix_arrays(items):
    sizes = {a.size for a in items if isinstance(a, np.ndarray)}
    if len(sizes) > 1:  # keep broadcastable: cut every array to the smallest length
        m = min(sizes)
        items = tuple(a[:m] if isinstance(a, np.ndarray) else a for a in items)
    return items


@given(_index())
def test_getitem_hypothesis_matches_torch(case):
    shape, items = case
    items = _fix_arrays(items)
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t_idx = tuple(torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in items)
    m_idx = tuple(mt.tensor(a) if isinstance(a, np.ndarray) else a for a in items)
    t_out = torch.from_numpy(x)[t_idx]
    assert_same(mt.tensor(x)[m_idx], t_out)
    t = torch.from_numpy(x.copy())
    m = mt.tensor(x)
    t[t_idx] = -1.0
    m[m_idx] = -1.0
    assert_same(m, t)


# ----- tracing: index tensors are abstract, masks cannot be -----------------------------------
def test_getitem_under_jax_jit_skips_eager_checks():
    f = jax.jit(lambda t, i: t[i, 1:])
    out = f(mt.tensor(arr(4, 3)), mt.tensor([0, 3]))
    assert tuple(out.shape) == (2, 2)


def test_mask_indexing_under_jit_explains():
    f = jax.jit(lambda t: t[t > 0])
    with pytest.raises(RuntimeError, match="depends on the data"):
        f(mt.tensor(arr(4)))


# ----- selection ops: errors and edge cases ---------------------------------------------------
def test_gather_errors_match_torch():
    x = mt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="gather.*index 4 is out of bounds for dimension 1 with size 4"):
        x.gather(1, mt.tensor([[4]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        x.gather(1, mt.tensor([[-1]]))
    with pytest.raises(RuntimeError, match="gather.*Expected dtype int32/int64 for index"):
        x.gather(1, mt.tensor([[1.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, mt.tensor([1]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.gather(2, mt.tensor([[1]]))


def test_index_select_and_take_out_of_range_raise_index_error():
    with pytest.raises(IndexError, match="index out of range in self"):
        mt.zeros(3).index_select(0, mt.tensor([3]))
    with pytest.raises(IndexError, match="tried to access index 6 on a tensor of 6 elements"):
        mt.zeros(2, 3).take(mt.tensor([6]))
    with pytest.raises(IndexError):
        mt.zeros(3).index_select(0, mt.tensor([[0]]))


def test_gather_repeated_index_gradient_is_summed():
    x = mt.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.gather(1, mt.tensor([[0, 0, 2, 0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 0.0, 1.0]])


def test_scatter_add_repeated_indices_add_up():
    out = mt.zeros(3).scatter_add(0, mt.tensor([0, 0, 2]), mt.tensor([1.0, 2.0, 3.0]))
    assert out.tolist() == [3.0, 0.0, 3.0]


def test_inplace_selection_ops_return_self():
    x = mt.zeros(3, 4)
    assert x.scatter_(1, mt.tensor([[1], [2], [0]]), 1.0) is x
    assert x.index_fill_(0, mt.tensor([2]), 5.0) is x
    assert x.masked_fill_(mt.tensor([True, False, False, False]), -1.0) is x
    t = torch.zeros(3, 4)
    t.scatter_(1, torch.tensor([[1], [2], [0]]), 1.0).index_fill_(0, torch.tensor([2]), 5.0)
    t.masked_fill_(torch.tensor([True, False, False, False]), -1.0)
    assert_same(x, t)


def test_masked_fill_inplace_cannot_grow_self():
    with pytest.raises(RuntimeError):
        torch.zeros(3).masked_fill_(torch.ones(2, 3, dtype=torch.bool), 1.0)
    with pytest.raises(RuntimeError):
        mt.zeros(3).masked_fill_(mt.ones(2, 3, dtype=mt.bool), 1.0)


def test_masked_fill_value_tensor_gets_grad():
    v = mt.tensor(2.0, requires_grad=True)
    mt.zeros(3).masked_fill(mt.tensor([True, True, False]), v).sum().backward()
    assert v.grad.item() == 2.0


def test_nonzero_as_tuple_indexes_back():
    x = arr(3, 4)
    m = mt.tensor(x)
    sel = m[(m > 0).nonzero(as_tuple=True)]
    assert_same(sel, torch.from_numpy(x)[torch.from_numpy(x > 0)])


def test_sort_and_topk_return_named_tuples():
    x = mt.tensor([3.0, 1.0, 2.0])
    s = mt.sort(x)
    assert isinstance(s, return_types.sort) and s.values.tolist() == [1.0, 2.0, 3.0]
    assert s.indices.tolist() == [1, 2, 0] and s.indices.dtype == mt.int64
    k = x.topk(2)
    assert isinstance(k, return_types.topk)
    v, i = k
    assert v.tolist() == [3.0, 2.0] and i.tolist() == [0, 2]


def test_sort_stable_ties_match_torch():
    x = RNG.integers(0, 3, size=(4, 9))
    for desc in (False, True):
        ts = torch.sort(torch.from_numpy(x), dim=1, descending=desc, stable=True)
        ms = mt.sort(mt.tensor(x), dim=1, descending=desc, stable=True)
        assert_same(list(ms), list(ts))


def test_topk_with_ties_and_unsorted_compares_values():
    x = RNG.integers(0, 4, size=(3, 10)).astype(np.float32)
    for largest in (True, False):
        tv = torch.topk(torch.from_numpy(x), 4, largest=largest, sorted=False).values
        mv = mt.topk(mt.tensor(x), 4, largest=largest, sorted=False).values
        np.testing.assert_array_equal(np.sort(mv.numpy(), -1), np.sort(tv.numpy(), -1))


def test_topk_gradient_goes_to_selected():
    x = mt.tensor([1.0, 5.0, 3.0, 4.0], requires_grad=True)
    x.topk(2).values.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_unique_matches_torch():
    x = RNG.integers(0, 5, size=(4, 6))
    t = torch.unique(torch.from_numpy(x), return_inverse=True, return_counts=True)
    assert_same(list(mt.unique(mt.tensor(x), return_inverse=True, return_counts=True)), list(t))
    assert_same(mt.tensor(x).unique(), torch.from_numpy(x).unique())


def test_searchsorted_scalar_and_side():
    seq = mt.tensor([1, 3, 5, 7])
    assert mt.searchsorted(seq, 5).item() == 2
    assert mt.searchsorted(seq, 5, side="right").item() == 3
    with pytest.raises(ValueError):
        mt.searchsorted(seq, 5, side="middle")
    with pytest.raises(RuntimeError):
        mt.searchsorted(mt.zeros(2, 3), mt.zeros(3))
