"""Strides of views worked out from their chain of view ops (``_ops/view_strides.py``), against torch's
``stride()``; and what they decide, as in torch: ``view`` of a strided view raises or views,
``reshape``/``flatten`` of one is a view (writes reach the base) or a copy, ``contiguous()`` returns
the tensor itself or a copy. Chains of view ops are drawn at random by hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax._ops.view_strides import chain_layout, is_dense, view_strides

torch = pytest.importorskip("torch")


def _ops(shape):
    """Every (name, fn(L, x)) view op this test draws from that applies to a tensor of ``shape``."""
    n = len(shape)
    out = [("unsqueeze0", lambda L, x: x.unsqueeze(0)), ("unsqueeze-1", lambda L, x: x.unsqueeze(-1))]
    if n == 0:
        return out
    out += [("flatten", lambda L, x: x.flatten()), ("view-1", lambda L, x: x.view(-1)),
            ("squeeze", lambda L, x: x.squeeze())]
    for d in range(n):
        size = shape[d]
        out += [(f"slice{d}", lambda L, x, d=d, s=size: x[(slice(None),) * d + (slice(s // 3, None, 2),)]),
                (f"chunk{d}", lambda L, x, d=d: x.chunk(2, d)[-1]),
                (f"split{d}", lambda L, x, d=d: x.split(2, dim=d)[-1]),
                (f"tensor_split{d}", lambda L, x, d=d: x.tensor_split(3, d)[1]),
                (f"split_sizes{d}", lambda L, x, d=d, s=size: x.split([s // 2, s - s // 2], d)[1])]
        if size > 0:
            out += [(f"select{d}", lambda L, x, d=d, s=size: x.select(d, s - 1)),
                    (f"narrow{d}", lambda L, x, d=d, s=size: x.narrow(d, s // 2, s - s // 2)),
                    (f"index{d}", lambda L, x, d=d, s=size: x[(slice(None),) * d + (-1,)]),
                    (f"unbind{d}", lambda L, x, d=d: x.unbind(d)[-1]),
                    (f"unfold{d}", lambda L, x, d=d: x.unfold(d, 1, 2))]
        if size > 1:
            out.append((f"split_view{d}", lambda L, x, d=d, s=size: x.view(
                *x.shape[:d], 1 if s % 2 else 2, s // (1 if s % 2 else 2), *x.shape[d + 1:])))
        if size == 1:
            out.append((f"expand{d}", lambda L, x, d=d: x.expand(*x.shape[:d], 3, *x.shape[d + 1:])))
    if n >= 2:
        out += [("t", lambda L, x: x.transpose(0, -1)),
                ("permute", lambda L, x: x.permute(*range(n - 1, -1, -1))),
                ("movedim", lambda L, x: x.movedim(0, -1)), ("diagonal", lambda L, x: x.diagonal(0, 0, 1)),
                ("diagonal_off", lambda L, x: x.diagonal(1, -1, 0)),
                ("merge01", lambda L, x: x.reshape(-1, *x.shape[2:])),
                ("vsplit", lambda L, x: x.vsplit([1])[1]), ("hsplit", lambda L, x: x.hsplit([1])[0])]
    if n >= 3:
        out.append(("dsplit", lambda L, x: x.dsplit([2])[1]))
    return out


@st.composite
def chains(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    picks = draw(st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=4))
    return shape, picks


def _apply(shape, picks):
    """The chain drawn, applied to torch and mt roots of ``shape``: (torch root, torch view, mt root,
    mt view, names). An op torch refuses (a view it cannot make) is left out, as in mt."""
    a = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    rt, rm = torch.tensor(a), mt.tensor(a)
    vt, vm, names = rt, rm, []
    keep = []  # a torch view keeps its base alive; here a view whose root is freed becomes a root
    for p in picks:
        ops = _ops(tuple(vt.shape))
        name, f = ops[p % len(ops)]
        try:
            nt = f(torch, vt)
        except RuntimeError:
            continue
        vt, vm = nt, f(mt, vm)
        keep.append(vm)
        names.append(name)
    assert tuple(vm.shape) == tuple(vt.shape), names
    vm._keep = keep
    return rt, vt, rm, vm, names


def _layout(vm):
    info = vm._view
    return None if info is None else chain_layout(info.arr.shape, info.steps)


@settings(max_examples=30)  # (each example runs its chain on torch and mt; a 3000-example run passed)
@given(chains())
def test_chain_strides_and_offset_are_torchs(chain):
    rt, vt, rm, vm, names = _apply(*chain)
    if vm._view is None:  # no view op drawn (or a copy): nothing to lay out
        return
    lay = _layout(vm)
    assert lay is not None, names
    strides, offset = lay
    if vt.numel() > 0:  # (torch's strides of an empty view follow other rules)
        assert (strides, offset) == (vt.stride(), vt.storage_offset()), names
        assert (vm.stride(), vm.storage_offset()) == (vt.stride(), vt.storage_offset()), names
    assert is_dense(tuple(vt.shape), strides) == vt.is_contiguous() == vm.is_contiguous(), names


@settings(max_examples=30)
@given(chains(), st.integers(0, 3))
def test_view_reshape_and_contiguous_of_a_chain_act_as_in_torch(chain, k):
    rt, vt, rm, vm, names = _apply(*chain)
    shape = tuple(vt.shape)
    targets = [(-1,), shape + (1,), (1,) + shape]
    if len(shape) >= 2:
        targets.append((shape[0] * shape[1],) + shape[2:])
    target = targets[k % len(targets)]
    try:
        vt.view(*target)
        err = None
    except RuntimeError as e:
        err = str(e)
    if err is None:
        assert tuple(vm.view(*target).shape) == tuple(vt.view(*target).shape)
    else:
        with pytest.raises(RuntimeError, match="view size is not compatible") as e:
            vm.view(*target)
        assert str(e.value) == err
    assert (vm.contiguous() is vm) == (vt.contiguous() is vt), names
    # a reshape is a view exactly where torch's is: writing into it reaches the root, or not
    if vt.numel() and not any(s == 0 for s in vt.stride()):  # (an expanded view cannot be written)
        with torch.no_grad(), mt.no_grad():
            vt.reshape(*target).fill_(-1.0)
            vm.reshape(*target).fill_(-1.0)
            np.testing.assert_array_equal(rm.numpy(), rt.numpy(), err_msg=str(names))
            vt.flatten().mul_(3.0)
            vm.flatten().mul_(3.0)
            vt.contiguous().add_(1.0)
            vm.contiguous().add_(1.0)
            vt.add_(0.5)  # the view itself: written at the positions its strides give
            vm.add_(0.5)
        np.testing.assert_array_equal(rm.numpy(), rt.numpy(), err_msg=str(names))


CASES = [
    ("columns", lambda L, x: x.view(4, 4)[:, :2], (-1,)),
    ("rows_stepped", lambda L, x: x.view(4, 4)[::2], (-1,)),
    ("narrow", lambda L, x: x.view(4, 4).narrow(1, 1, 2), (8,)),
    ("chunk", lambda L, x: x.view(4, 4).chunk(2, dim=1)[0], (-1,)),
    ("size1_column", lambda L, x: x.view(4, 4)[:, :1], (-1,)),
    ("rows", lambda L, x: x.view(4, 4)[1:3], (-1,)),
    ("split_inner", lambda L, x: x.view(4, 4)[:, :2], (4, 2, 1)),
    ("stepped_inner", lambda L, x: x.view(2, 8)[:, ::2], (8,)),
]


@pytest.mark.parametrize("name,f,shape", CASES, ids=[c[0] for c in CASES])
def test_view_of_a_slice_raises_or_views_and_reshape_copies_or_views_like_torch(name, f, shape):
    out = []
    for L in (torch, mt):
        root = L.arange(16.0)
        v = f(L, root)
        try:
            v.view(*shape)
            viewed = "view"
        except RuntimeError as e:
            viewed = str(e)
        r = v.reshape(*shape)
        r.fill_(-1.0)  # reaches root only where the reshape is a view
        c = v.contiguous()
        out.append((viewed, root.tolist(), c is v, v.is_contiguous()))
    assert out[1] == out[0]


def test_view_strides_follow_torchs_rule():
    # merging needs contiguous neighbours; size-1 dimensions never stop a view
    assert view_strides((4, 2), (4, 1), (8,)) is None
    assert view_strides((4, 2), (2, 1), (8,)) == (1,)
    assert view_strides((2, 1, 3), (3, 99, 1), (6,)) == (1,)
    assert view_strides((4, 2), (4, 1), (2, 2, 2)) == (8, 4, 1)
    assert view_strides((0, 3), (3, 1), (3, 0)) is not None
    assert view_strides((2, 3), (1, 2), (3, 2)) is None


def test_reshape_of_a_transposed_view_that_only_splits_is_a_view_like_torch():
    for L in (torch, mt):
        x = L.arange(24.0).reshape(2, 3, 4)
        t = x.transpose(0, 1)
        t.reshape(3, 2, 2, 2)[1, 0, 1, 1].fill_(-1.0)  # splits the last dim only: a view in torch
        t.reshape(6, 4)[0].fill_(-2.0)  # merges transposed dims: a copy
        assert x[0, 1, 3].item() == -1.0 and x[0, 0, 0].item() == 0.0


def test_a_chain_with_as_strided_falls_back_to_positions():
    x = mt.arange(16.0)
    v = x.as_strided((4, 2), (4, 1))
    assert _layout(v) is None  # no rule: mt computes its positions instead
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        v.view(-1)
    assert v.contiguous() is not v and not v.is_contiguous()


def test_writing_through_a_view_touches_only_the_views_elements(monkeypatch):
    # positions come from the strides, over the view's shape: no arange the size of the root
    from minitorch_jax._ops import views

    def no_root_arange(*a, **k):
        raise AssertionError("positions computed over the whole root")

    x = mt.zeros(512, 512)
    monkeypatch.setattr(views.jnp, "arange", no_root_arange)
    x[:, 3].fill_(1.0)
    x.narrow(0, 100, 2)[:, ::4].add_(2.0)
    monkeypatch.undo()
    want = np.zeros((512, 512), np.float32)
    want[:, 3] = 1.0
    want[100:102, ::4] += 2.0
    np.testing.assert_array_equal(x.numpy(), want)
