"""Tensor methods and attributes of ``_ops/tensor_extra.py`` against torch: storage/placement
attributes, legacy constructors and resizes, Python-callable maps, in-place variants,
``fill_diagonal_``, ``index_reduce``, ``sum_to_size``, ``as_subclass`` and post-accumulate-grad hooks.
(The table ops' values and gradients are also checked by ``test_op_parity.py`` from their samples.)"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops._layouts import layout, sparse_coo, strided

from .oracle import assert_same, torch

X = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]], np.float32)


def _pair(a=X, grad=False):
    t, m = torch.tensor(a), mt.tensor(a)
    if grad:
        t.requires_grad_(), m.requires_grad_()
    return t, m


# ----- attributes --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 0, 3), (2, 1, 3), (1, 2, 3, 4)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "bool", "float16", "complex64"])
def test_size_attributes_match_torch(shape, dtype):
    a = np.zeros(shape, dtype)
    t, m = torch.zeros(shape, dtype=getattr(torch, dtype)), mt.tensor(a)  # (numpy's strides differ)
    assert m.stride() == t.stride()
    assert (m.nbytes, m.itemsize, m.is_signed()) == (t.nbytes, t.itemsize, t.is_signed())
    assert m.storage_offset() == t.storage_offset() == 0
    assert m.dim_order() == t.dim_order()
    for d in range(-len(shape), len(shape)):
        assert m.stride(d) == t.stride(d)


def test_flags_and_placement():
    t, m = _pair()
    m = m.cpu()  # (a GPU host's default device is the GPU)
    assert m.is_cpu is True and m.get_device() == t.get_device() == -1
    assert m.output_nr == 0 and m.is_inference() is False
    for flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested", "is_mkldnn",
                 "is_xla", "is_mps", "is_xpu", "is_ipu", "is_vulkan", "is_mtia", "is_maia"):
        assert getattr(m, flag) is False and getattr(t, flag) is False, flag
    assert m.is_pinned() is False and m.is_shared() is False
    assert m.share_memory_() is m and m.record_stream(object()) is None
    outs = mt.tensor([3.0, 1.0], requires_grad=True).max(0)
    assert outs.values.output_nr == 0


def test_layout_objects():
    m = mt.ones(2)
    assert m.layout is strided and repr(strided) == "minitorch_jax.strided"
    assert m.layout != sparse_coo and isinstance(strided, layout)
    assert copy.deepcopy(strided) is strided
    with pytest.raises(TypeError, match="cannot create"):
        layout()
    if hasattr(mt, "strided"):  # once exported by the package (pickled by reference)
        assert pickle.loads(pickle.dumps(strided)) is strided


def test_stride_errors_match_torch():
    t, m = _pair()
    for bad in (2, -3):
        with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\]"):
            m.stride(bad)
        with pytest.raises(IndexError):
            t.stride(bad)
    with pytest.raises(IndexError, match="tensor has no dimensions"):
        mt.tensor(1.0).stride(0)
    with pytest.raises(TypeError, match="must be int"):
        m.stride(1.0)


def test_dim_order_ambiguity_check():
    for shape, check in [((2, 3), True), ((1, 2, 3, 4), [mt.contiguous_format, mt.channels_last]),
                         ((2, 1, 3, 4), [mt.contiguous_format, mt.channels_last]),
                         ((2, 1, 3), True), ((1, 2, 3, 4), True)]:
        a = np.zeros(shape, np.float32)
        tcheck = check if isinstance(check, bool) else \
            [getattr(torch, f._name) for f in check]
        try:
            want = torch.from_numpy(a).dim_order(ambiguity_check=tcheck)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="does not have unique dim order"):
                mt.tensor(a).dim_order(ambiguity_check=check)
            continue
        assert mt.tensor(a).dim_order(ambiguity_check=check) == want
    with pytest.raises(TypeError, match="must be a bool or a list of memory formats"):
        mt.ones(2).dim_order(ambiguity_check=3)


def test_data_ptr():
    m = mt.tensor(X)
    p = m.data_ptr()
    assert isinstance(p, int) and p != 0 and m.data_ptr() == p == m.const_data_ptr()
    assert m.detach().data_ptr() == p  # shares the array
    m.add_(1)
    assert m.data_ptr() != p  # rebound to a new array (torch keeps its storage)
    with pytest.raises(RuntimeError, match="traced"):
        mt.jit(lambda x: x.data_ptr())(m)


def test_pin_memory_is_a_separate_tensor_on_the_graph():
    m = mt.tensor(X)
    p = m.pin_memory()
    assert p is not m and np.array_equal(p.numpy(), X)
    p.add_(1)
    assert np.array_equal(m.numpy(), X)
    g = mt.tensor(X, requires_grad=True)
    (g.pin_memory() * 2).sum().backward()
    assert np.array_equal(g.grad.numpy(), np.full_like(X, 2))


# ----- in-place variants -----------------------------------------------------------------------
@pytest.mark.parametrize("name,other", [
    ("copysign_", np.array([-1.0, 1.0, -2.0], np.float32)), ("hypot_", np.array([1.0, 2.0, 3.0], np.float32)),
    ("heaviside_", np.array([0.5], np.float32)), ("logical_and_", np.array([1, 0, 1])),
    ("logical_or_", np.array([0, 0, 1])), ("logical_xor_", np.array([1, 0, 1])), ("logical_not_", None),
    ("float_power_", np.array([2.0, 0.5, 3.0]))])
def test_inplace_variants_match_torch(name, other):
    base = np.array([[1.5, -2.0, 0.0], [0.0, 3.0, -1.0]], "float64" if name == "float_power_" else "float32")
    t, m = torch.tensor(base), mt.tensor(base)
    args_t = () if other is None else (torch.tensor(other),)
    args_m = () if other is None else (mt.tensor(other),)
    v = m._version
    assert getattr(m, name)(*args_m) is m and m._version == v + 1
    assert_same(m, getattr(t, name)(*args_t))


def test_inplace_variant_errors_match_torch():
    with pytest.raises(RuntimeError, match="float_power_ has dtype Float but the operation's result "
                                           "requires dtype Double"):
        mt.tensor(X).float_power_(2)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        mt.tensor([1, 2]).copysign_(mt.tensor([-1.0, 1.0]))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        mt.tensor(X, requires_grad=True).logical_not_()


# ----- fill_diagonal_ --------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dtype,value,wrap", [
    ((3, 3), "float32", 2.5, False), ((7, 3), "float32", -1.0, True), ((7, 3), "float32", 4.0, False),
    ((3, 7), "float64", 0.1, True), ((3, 3, 3), "float32", 5.0, False), ((3, 4), "int64", 3.7, False),
    ((2, 2), "uint8", -1, False), ((2, 3), "bool", 1, False)])
def test_fill_diagonal_matches_torch(shape, dtype, value, wrap):
    a = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    t, m = torch.from_numpy(a.copy()), mt.tensor(a)
    assert m.fill_diagonal_(value, wrap=wrap) is m
    assert_same(m, t.fill_diagonal_(value, wrap=wrap))


def test_fill_diagonal_errors_and_grad():
    for shape, msg in [((3,), "dimensions must larger than 1"), ((3, 4, 5), "all dimensions of input must "
                                                                          "be of equal length")]:
        with pytest.raises(RuntimeError, match=msg):
            mt.zeros(shape).fill_diagonal_(1)
        with pytest.raises(RuntimeError, match=msg):
            torch.zeros(shape).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="cannot be converted to type int8_t without overflow"):
        mt.zeros(2, 2, dtype=mt.int8).fill_diagonal_(128)
    with pytest.raises(RuntimeError, match="cannot be converted to type float without overflow"):
        mt.zeros(2, 2).fill_diagonal_(1j)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        mt.zeros(2, 2, requires_grad=True).fill_diagonal_(1)
    t, m = _pair(np.arange(1.0, 7.0, dtype=np.float32).reshape(3, 2), grad=True)
    ty, my = t * 2, m * 2
    ty.fill_diagonal_(0.5, wrap=True)
    my.fill_diagonal_(0.5, wrap=True)
    assert_same(my, ty)
    assert my.grad_fn.name() == "CopySlices"
    (ty * ty).sum().backward()
    (my * my).sum().backward()
    assert_same(m.grad, t.grad)


# ----- index_reduce ----------------------------------------------------------------------------
def test_index_reduce_errors_match_torch():
    x = mt.zeros(3, 4)
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin but got "
                                           "sum"):
        x.index_reduce(0, mt.tensor([0]), mt.ones(1, 4), "sum")
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_reduce(0, mt.tensor([0, 5]), mt.ones(2, 4), "prod")
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        x.index_reduce(0, mt.tensor([[0, 1]]), mt.ones(2, 4), "prod")
    with pytest.raises(RuntimeError, match=r"self \(Float\) and source \(Double\) must have the same"):
        x.index_reduce(0, mt.tensor([0]), mt.ones(1, 4, dtype=mt.float64), "amin")
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index but got: Float"):
        x.index_reduce(0, mt.tensor([0.0]), mt.ones(1, 4), "amin")
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        x.index_reduce(0, mt.tensor([0, 1]), mt.ones(2, 3), "mean")


def test_index_reduce_inplace_and_integer_mean():
    t, m = _pair(np.array([-1, 5]))
    idx, src = np.array([0, 0, 1, 1]), np.array([0, 0, 2, 2])
    assert m.index_reduce_(0, mt.tensor(idx), mt.tensor(src), "mean") is m
    assert_same(m, t.index_reduce_(0, torch.tensor(idx), torch.tensor(src), "mean"))


# ----- sum_to_size, unsafe splits ----------------------------------------------------------------
def test_sum_to_size_forms_and_errors():
    t, m = _pair()
    assert m.sum_to_size(2, 3) is m
    assert_same(m.sum_to_size(mt.Size([1, 3])), t.sum_to_size(torch.Size([1, 3])))
    assert_same(m.sum_to_size(2, 1), t.sum_to_size(2, 1))
    with pytest.raises(RuntimeError, match=r"size \{\[1, 2, 3\]\} is not expandable to size \{\[2, 3\]\}"):
        m.sum_to_size(1, 2, 3)
    with pytest.raises(TypeError, match="missing 1 required positional arguments"):
        m.sum_to_size()
    assert not hasattr(mt, "sum_to_size")  # a method only, as in torch


def test_unsafe_split_grad_fn_names():
    m = mt.tensor(X, requires_grad=True)
    assert m.unsafe_split(2, 1)[0].grad_fn.name() == "UnsafeSplitBackward0"
    assert mt.unsafe_chunk(m, 2, dim=1)[0].grad_fn.name() == "UnsafeSplitBackward0"
    assert m.unsafe_split_with_sizes([1, 2], 1)[1].grad_fn.name() == "UnsafeSplitWithSizesBackward0"
    with pytest.raises(TypeError, match="must be int, not list"):
        mt.unsafe_split(m, [1, 2], 1)


# ----- new, resize -------------------------------------------------------------------------------
def test_new_forms_match_torch():
    t, m = _pair()
    for args in [(), (2, 3), ([1, 2],), ((2, 3),), (4,)]:
        r = m.new(*args)
        e = t.new(*args)
        assert tuple(r.shape) == tuple(e.shape) and str(r.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        if args and isinstance(args[0], (list, tuple)):
            assert_same(r, e)
    assert tuple(m.new(mt.Size([2, 1])).shape) == (2, 1)
    src = mt.tensor([1.0, 2.0])
    assert np.array_equal(m.new(src).numpy(), [1.0, 2.0])
    g = mt.tensor(X, requires_grad=True)
    a = g.new(g)
    assert a.requires_grad and a.grad_fn.name() == "AliasBackward0"
    with pytest.raises(TypeError, match="data must be a sequence"):
        m.new(2.5)
    with pytest.raises(TypeError):
        m.new(mt.tensor([1, 2]))
    with pytest.raises(TypeError):
        m.new(2, 3, dtype=mt.float64)


def test_resize_matches_torch():
    for sizes in [(3, 2), (4,), ((2, 2),), (0,), (6,)]:
        t, m = _pair()
        assert m.resize_(*sizes) is m
        assert_same(m, t.resize_(*sizes))
    m = mt.tensor(X)
    m.resize_(3, 3)
    assert m.shape == (3, 3) and np.array_equal(m.numpy().reshape(-1)[6:], np.zeros(3))
    m.resize_as_(mt.zeros(2, 2))
    assert m.shape == (2, 2)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        mt.tensor(X, requires_grad=True).resize_(6)
    with pytest.raises(RuntimeError, match="negative dimension"):
        mt.tensor(X).resize_(-1)
    with pytest.raises(RuntimeError, match="required rank 4"):
        mt.tensor(X).resize_(3, 2, memory_format=mt.channels_last)


def test_deprecated_out_of_place_resize():
    t, m = _pair(grad=True)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        r = m.resize(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = t.resize(6)
    assert_same(r, e)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        assert m.resize_as(mt.zeros(3, 2)).shape == (3, 2)
    with pytest.raises(RuntimeError, match="can only change the shape"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.resize(4)


# ----- Python callables --------------------------------------------------------------------------
def test_apply_map_map2_match_torch():
    t, m = _pair()
    assert m.apply_(lambda v: v * 2 + 1) is m
    assert_same(m, t.apply_(lambda v: v * 2 + 1))
    ti, mi = _pair(np.arange(6).reshape(2, 3))
    assert_same(mi.apply_(lambda v: v / 2), ti.apply_(lambda v: v / 2))
    row = np.array([1.0, -2.0, 3.0], np.float32)
    col = np.array([[2.0], [0.5]], np.float32)
    t, m = _pair()
    assert_same(m.map_(mt.tensor(row), lambda a, b: a * b), t.map_(torch.tensor(row), lambda a, b: a * b))
    assert_same(m.map2_(mt.tensor(row), mt.tensor(col), lambda a, b, c: a + b * c),
                t.map2_(torch.tensor(row), torch.tensor(col), lambda a, b, c: a + b * c))


def test_apply_map_errors():
    m = mt.tensor(X)
    with pytest.raises(RuntimeError, match=r"Can't call apply_\(\) on Variable that requires grad"):
        mt.tensor(X, requires_grad=True).apply_(abs)
    with pytest.raises(RuntimeError, match=r"Can't call map_\(\) on Variable that requires grad"):
        m.map_(mt.tensor(X, requires_grad=True), max)
    with pytest.raises(TypeError, match="expected minitorch_jax.FloatTensor for 'other'"):
        m.map_(mt.tensor([1, 2, 3]), max)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        m.map_(mt.tensor([1.0, 2.0]), max)
    with pytest.raises(TypeError, match="must return a number"):
        m.apply_(lambda v: "a")
    with pytest.raises(RuntimeError, match="traced"):
        mt.jit(lambda x: x.clone().apply_(abs))(m)


# ----- as_subclass, post-accumulate hooks --------------------------------------------------------
class _Sub(mt.Tensor):
    def __init__(self, *args, **kwargs):  # as_subclass must not call this
        raise AssertionError("__init__ called")


def test_as_subclass():
    m = mt.tensor(X)
    s = m.as_subclass(_Sub)
    assert type(s) is _Sub and not s.requires_grad and np.array_equal(s.numpy(), X)
    g = mt.tensor(X, requires_grad=True)
    sg = g.as_subclass(_Sub)
    assert sg.grad_fn.name() == "AliasBackward0" and not sg.is_leaf
    (sg * 3).sum().backward()
    assert np.array_equal(g.grad.numpy(), np.full_like(X, 3))
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        m.as_subclass(int)


def test_post_accumulate_grad_hook_sgd_like_torch():
    seen = []
    for lib in (torch, mt):
        v = lib.tensor([0.0, 0.0, 0.0], requires_grad=True)
        calls = []

        def hook(p, calls=calls):
            calls.append(p.grad.clone())
            p.add_(p.grad, alpha=-0.01)

        h = v.register_post_accumulate_grad_hook(hook)
        (v * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        (v * v + v).sum().backward()  # v used twice: the hook runs once, after accumulating both
        h.remove()
        (v * 5).sum().backward()
        seen.append((v.detach().numpy().copy(), [c.numpy() for c in calls], v.grad.numpy().copy()))
    (tv, tc, tg), (mv, mc, mg) = seen
    np.testing.assert_allclose(mv, tv, rtol=1e-6)
    np.testing.assert_allclose(mg, tg, rtol=1e-6)
    assert len(mc) == len(tc) == 2
    for a, b in zip(mc, tc):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_post_accumulate_grad_hook_with_backward_inputs_but_not_autograd_grad():
    counts = []
    for lib in (torch, mt):
        p, q = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        calls = []
        p.register_post_accumulate_grad_hook(lambda t, calls=calls: calls.append(t.grad.sum().item()))
        (p * q * 3).sum().backward(inputs=[p])  # only p's .grad is set, and its hook runs
        lib.autograd.grad((p * 3).sum(), [p])  # .grad untouched: no hook
        counts.append((calls, q.grad is None))
    assert counts[0] == counts[1] == ([6.0], True)


def test_post_accumulate_grad_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mt.tensor(X).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (mt.tensor(X, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


# ----- inside mt.jit ---------------------------------------------------------------------------
def test_ops_and_attributes_inside_jit():
    v1, v2 = np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0, 2.0], np.float32)

    def step(lib, x, a, b):
        y = lib.addr(x, a, b, alpha=2.0) + x.nbytes + x.stride(0)
        y = y.index_reduce(1, lib.tensor([0, 2, 0]), x * 3, "amax", include_self=False)
        z = y.sum_to_size(1, 3) * 1.0
        w = (x * 1).fill_diagonal_(0.0)
        return z, w, y.unsafe_chunk(3, 1)[2]

    f = mt.jit(lambda x, a, b: step(mt, x, a, b))
    want = step(torch, *(torch.tensor(v) for v in (X, v1, v2)))
    for _ in range(2):
        got = f(*(mt.tensor(v) for v in (X, v1, v2)))
        for g, w in zip(got, want):
            assert_same(g, w)


# ----- as_strided, nonzero_static, dense/strided helpers -----------------------------------------
def test_as_strided_overlapping_grad_and_inplace():
    t, m = _pair(np.arange(6, dtype=np.float32), grad=True)
    ty, my = t.as_strided((3, 2), (1, 1)), mt.as_strided(m, (3, 2), (1, 1))
    assert_same(my, ty)
    assert my.grad_fn.name() == "AsStridedBackward0"
    ty.sum().backward()
    my.sum().backward()
    assert_same(m.grad, t.grad)
    t2, m2 = _pair(np.arange(6, dtype=np.float32))
    assert m2.as_strided_((2, 2), (2, 1), 1) is m2
    assert_same(m2, t2.as_strided_((2, 2), (2, 1), 1))
    with pytest.raises(RuntimeError, match="Negative strides are not supported"):
        m2.as_strided((2,), (-1,))
    with pytest.raises(TypeError, match="must be tuple of ints"):
        m2.as_strided((2.0,), (1,))


def test_nonzero_static_inside_jit():
    a = np.array([[0, 3], [2, 0], [0, 0]])
    f = mt.jit(lambda x: mt.nonzero_static(x, size=3, fill_value=-2))
    assert_same(f(mt.tensor(a)), torch.nonzero_static(torch.tensor(a), size=3, fill_value=-2))
    with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
        mt.tensor(a).nonzero_static(size=-1)


def test_new_empty_strided_to_dense_is_set_to():
    m = mt.tensor(X, dtype=mt.float64)
    e = m.new_empty_strided((2, 4), (4, 1))
    assert e.shape == (2, 4) and e.dtype == mt.float64 and e.stride() == (4, 1)
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        m.new_empty_strided((2, 4), (1,))
    assert m.to_dense() is m and m.to_dense(mt.float32).dtype == mt.float32
    assert m.is_set_to(m) and not m.is_set_to(m.clone())
