"""Views share their base's values, as in torch: writing through a view (``x[0].fill_(1)``,
``nn.init.orthogonal_(w[:h])``, ``w.chunk(4)``) writes the base, a view re-reads a base changed in place,
and autograd records the write as ``CopySlices``. Each case runs the same code on torch and on mt."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt

torch = pytest.importorskip("torch")
from .oracle import needs_torch  # noqa: E402  (after the skip: torch is the oracle)

LIBS = (torch, mt)


def _run(fn, data=None):
    """fn(L, x) on torch and mt with x = data (default a 3x4 float arange); returns both results."""
    data = np.arange(12, dtype=np.float32).reshape(3, 4) if data is None else data
    out = []
    for L in LIBS:
        x = L.tensor(data)
        r = fn(L, x)
        out.append((np.asarray(x.tolist()), None if r is None else np.asarray(r.tolist())))
    return out


def _same(fn, data=None):
    (tx, tr), (mx, mr) = _run(fn, data)
    np.testing.assert_array_equal(mx, tx)
    if tr is not None:
        np.testing.assert_array_equal(mr, tr)


# ----- writing through a view writes the base --------------------------------------------------
WRITES = {
    "int index": lambda L, x: x[1].fill_(7),
    "slice": lambda L, x: x[:, 1:3].mul_(2),
    "step slice": lambda L, x: x[::2, ::3].add_(10),
    "None and ellipsis": lambda L, x: x[None, ..., 1].zero_(),
    "t": lambda L, x: x.t()[0].zero_(),
    "T": lambda L, x: x.T[1:].neg_(),
    "transpose": lambda L, x: x.transpose(0, 1)[3].fill_(-1),
    "permute": lambda L, x: x.permute(1, 0)[:, 2].sub_(1),
    "movedim": lambda L, x: x.movedim(0, 1)[0].fill_(5),
    "view": lambda L, x: x.view(-1)[5:7].copy_(L.tensor([-1.0, -2.0])),
    "view_as": lambda L, x: x.view_as(L.zeros(6, 2))[2].fill_(9),
    "reshape": lambda L, x: x.reshape(2, 6)[1].mul_(-1),
    "flatten": lambda L, x: x.flatten()[::5].fill_(0),
    "unflatten": lambda L, x: x.unflatten(1, (2, 2))[:, 1, 0].fill_(4),
    "squeeze/unsqueeze": lambda L, x: x.unsqueeze(0).squeeze(0)[2].zero_(),
    "narrow": lambda L, x: x.narrow(1, 1, 2).neg_(),
    "select": lambda L, x: x.select(1, 2).fill_(3),
    "diagonal": lambda L, x: x.diagonal().fill_(-5),
    "diagonal offset": lambda L, x: x.diagonal(1).mul_(100),
    "unbind": lambda L, x: x.unbind(0)[1].mul_(0),
    "chunk": lambda L, x: [c.add_(100 * i) for i, c in enumerate(x.chunk(2, 1))][1],
    "split": lambda L, x: [c.add_(1) for c in x.split([1, 3], 1)][0],
    "tensor_split": lambda L, x: x.tensor_split(3, 0)[2].fill_(1),
    "hsplit": lambda L, x: x.hsplit(2)[1].fill_(2),
    "view of a view of a view": lambda L, x: x[1:].t()[1:3, 0].fill_(8),
    "setitem on a view": lambda L, x: x[1:].__setitem__((0, 0), 99),
    "masked setitem on a view": lambda L, x: x[:, :2].__setitem__(x[:, :2] > 4, -3.0),
    "index_fill_ on a view": lambda L, x: x[1:].index_fill_(1, L.tensor([0, 3]), 0.5),
    "clamp_": lambda L, x: x[0].clamp_(1, 2),
    "out=": lambda L, x: L.add(L.ones(4), 1, out=x[2]),
    "unfold": lambda L, x: x.unfold(1, 2, 2)[0, 1].fill_(6),
    "as_strided": lambda L, x: x.as_strided((2, 2), (4, 1), 1).fill_(-7),
}


@pytest.mark.parametrize("case", list(WRITES), ids=list(WRITES))
def test_write_through_view_matches_torch(case):
    _same(WRITES[case])


def test_reshape_of_non_contiguous_view_is_a_copy_as_in_torch():
    _same(lambda L, x: x.t().contiguous().fill_(1))
    _same(lambda L, x: x[1].contiguous().fill_(1))  # already contiguous: the view itself
    _same(lambda L, x: x.t().reshape(-1).fill_(1))
    _same(lambda L, x: x.t().flatten()[0].fill_(1))
    _same(lambda L, x: x[:2].reshape(8)[0].fill_(1))  # contiguous: a view


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float64])
def test_write_through_view_other_dtypes(dtype):
    data = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    _same(lambda L, x: x[1].fill_(1), data)
    _same(lambda L, x: x.t()[0].fill_(0), data)


def test_random_and_init_fills_write_the_base():
    for L in LIBS:
        x = L.zeros(4, 6)
        L.manual_seed(0)
        x[1].normal_()
        x[:, 5].uniform_(2, 3)
        assert (x[1, :5] != 0).all() and (x[0, :5] == 0).all() and (x[:, 5] >= 2).all()
        w = L.zeros(8, 3)
        with L.no_grad():
            for c in w.chunk(4, 0):
                L.nn.init.orthogonal_(c)
            L.nn.init.constant_(w[:, 0], 0.5)
        for c in w.chunk(4, 0):
            g = c[:, 1:] @ c[:, 1:].T
            assert abs(float(g.trace())) > 0.1
        assert (w[:, 0] == 0.5).all()


def test_lstm_style_chunked_orthogonal_init_is_orthogonal():
    h = 4
    lstm = mt.nn.LSTM(3, h)
    with mt.no_grad():
        for i in range(4):
            mt.nn.init.orthogonal_(lstm.weight_hh_l0[i * h:(i + 1) * h])
    w = lstm.weight_hh_l0.detach().numpy()
    for i in range(4):
        blk = w[i * h:(i + 1) * h]
        np.testing.assert_allclose(blk @ blk.T, np.eye(h), atol=1e-5)
    assert lstm.weight_hh_l0.is_leaf and lstm.weight_hh_l0.requires_grad


def test_embedding_padding_row_zeroed_through_a_view():
    emb = mt.nn.Embedding(5, 3)
    with mt.no_grad():
        emb.weight[2].zero_()
    assert emb.weight[2].abs().sum().item() == 0 and emb.weight[1].abs().sum().item() > 0
    assert emb.weight.is_leaf and emb.weight.grad_fn is None


def test_write_through_data_and_detach_views():
    for L in LIBS:
        p = L.nn.Parameter(L.ones(2, 3))
        p.data[0].fill_(5)
        p.detach()[:, 2].zero_()
        assert p.tolist() == [[5.0, 5.0, 0.0], [1.0, 1.0, 0.0]]
        assert p.is_leaf


# ----- a view re-reads a base changed in place --------------------------------------------------
def test_view_sees_base_changed_in_place():
    def f(L, x):
        v = x[0]
        x.add_(1)
        return v * 1
    _same(f)

    def g(L, x):
        v = x[0]
        x.add_(1)
        v.add_(1)  # starts from the base's new values
        return v
    _same(g)

    def sibling(L, x):
        a, b = x[0], x[0, 1:]
        a.fill_(3)
        return b
    _same(sibling)

    def nested(L, x):
        v = x.t()[1:]
        x[0, 1] = 42.0
        return v
    _same(nested)


def test_views_in_between_see_writes_and_are_not_kept_alive():
    import gc
    import weakref
    x = mt.zeros(3, 4)
    a = x[1:]
    b = a.t()
    b[0].fill_(1)  # writes x; a (alive) re-reads it
    assert a.tolist() == [[1.0, 0.0, 0.0, 0.0]] * 2 and x[0].tolist() == [0.0] * 4
    mid = x[1:]
    ref = weakref.ref(mid)
    last = mid[1:]
    del mid
    gc.collect()
    assert ref() is None  # a view keeps its root alive, not the views in between
    last.fill_(2)
    assert x[2].tolist() == [2.0] * 4


def test_a_view_does_not_keep_its_root_alive():
    import gc
    import weakref
    big = mt.zeros(1000)
    ref = weakref.ref(big)
    v = big[:10]
    del big
    gc.collect()
    assert ref() is None  # (torch's view shares storage; here the root's array would be a second copy)
    v.fill_(1)  # a tensor of its own now
    assert v.tolist() == [1.0] * 10 and v._view is None
    # the classic chain: the parent outlived its root and becomes the root of its own views
    x = mt.arange(12.0).reshape(3, 4)
    x[1].fill_(7)
    assert x.tolist()[1] == [7.0] * 4
    # ...but a .data alias root is held: the write reaches the parameter
    p = mt.nn.Parameter(mt.zeros(2, 2))
    p.data[0].fill_(3)
    gc.collect()
    assert p.tolist() == [[3.0, 3.0], [0.0, 0.0]]


def test_stale_view_conversions_read_the_new_values():
    for L in LIBS:
        x = L.zeros(2, 2)
        v = x[1]
        x.fill_(3)
        assert v.tolist() == [3.0, 3.0]
        assert v[0].item() == 3.0
        assert np.asarray(v).tolist() == [3.0, 3.0]
        assert v.numpy().tolist() == [3.0, 3.0]
        assert "3." in repr(v)


def test_base_rebound_to_another_shape_ends_the_view():
    x = mt.zeros(2, 3)
    v = x[0]
    x.t_()
    v.fill_(1)  # no longer a view of x (torch would reinterpret storage; here it stops sharing)
    assert x.tolist() == [[0.0, 0.0]] * 3
    assert v.tolist() == [1.0, 1.0, 1.0]


def test_version_counter_follows_writes_through_views():
    x = mt.zeros(3)
    v = x[1:]
    v.add_(1)
    assert x._version == 1
    x.add_(1)
    assert x.tolist() == [1.0, 2.0, 2.0] and v.tolist() == [2.0, 2.0]


def test_deepcopy_of_a_view_is_independent():
    x = mt.zeros(3)
    v = copy.deepcopy(x[1:])
    v.fill_(1)
    assert x.tolist() == [0.0, 0.0, 0.0]


# ----- autograd -------------------------------------------------------------------------------------
def _grads(fn):
    out = []
    for L in LIBS:
        a = L.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
        b = L.tensor([0.5, -1.0], requires_grad=True)
        y = fn(L, a, b)
        (y * L.arange(1.0, y.numel() + 1).reshape(y.shape)).sum().backward()
        out.append((np.asarray(y.tolist()), a.grad.numpy().copy(),
                    None if b.grad is None else b.grad.numpy().copy(), type(y.grad_fn).__name__))
    (ty, ta, tb, tn), (my, ma, mb, mn) = out
    np.testing.assert_allclose(my, ty, rtol=1e-6)
    np.testing.assert_allclose(ma, ta, rtol=1e-6)
    if tb is None:
        assert mb is None
    else:
        np.testing.assert_allclose(mb, tb, rtol=1e-6)
    return tn, mn


def test_gradients_through_writes_into_views_match_torch():
    def mul_slice(L, a, b):
        x = a * 2
        x[1:3].mul_(b)
        return x
    assert _grads(mul_slice) == ("CopySlices", "CopySlices")

    def copy_into_view(L, a, b):
        x = a.sin()
        x.view(2, 3)[:, 0].copy_(b * 3)
        return x
    _grads(copy_into_view)

    def chain(L, a, b):
        x = a.sin().reshape(2, 3)
        x.t()[1].add_(b)
        x[0].mul_(3.0)
        return x

    _grads(chain)

    def read_view_after_write(L, a, b):
        x = a * 1
        v = x[:2]
        x[1:3] = b * b  # v sees the write, and its gradient goes through it
        return v * a[:2]
    _grads(read_view_after_write)


def test_saved_view_modified_in_place_raises_like_torch():
    for L in LIBS:
        a = L.ones(4, requires_grad=True)
        x = a * 2
        y = x.exp()  # exp saves its result
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y[0].zero_()
            y.sum().backward()


SAVED_VIEW_WRITES = {  # a view saved for backward, then its root written: torch's shared version counter
    "root_written": lambda L, a: (a[:2].sin(), lambda: a.mul_(2)),
    "sibling_view_written": lambda L, a: (a[:2].sin(), lambda: a[1:].zero_()),
    "chain_written": lambda L, a: (a.view(2, 2)[0].sin(), lambda: a.add_(1)),
}


@pytest.mark.parametrize("case", sorted(SAVED_VIEW_WRITES))
def test_saved_view_whose_root_is_written_raises_like_torch(case):
    for L in LIBS:
        x = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a = x * 1
        out, write = SAVED_VIEW_WRITES[case](L, a)  # sin saves its input: the view
        write()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    # untouched, or written through autograd-safe paths, the same views backpropagate
    for L in LIBS:
        x = L.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        a = x * 1
        v = a[:2]
        out = v.exp()  # exp saves its result, not the view
        a.mul_(2)
        out.sum().backward()
        assert x.grad is not None


# ----- errors ------------------------------------------------------------------------------------------
def test_view_of_leaf_requiring_grad_raises_like_torch():
    for L in LIBS:
        w = L.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            w[0].zero_()
        with L.no_grad():
            w[0].zero_()
        assert w.tolist() == [0.0, 1.0, 1.0] and w.is_leaf
    with pytest.raises(RuntimeError, match=r"zero_.*shape \[\] of a leaf of shape \[3\]"):
        mt.ones(3, requires_grad=True)[0].zero_()


@needs_torch(2, 13, "the message naming a multi-output view's function")
def test_multi_output_view_written_with_grad_raises_like_torch():
    for L in LIBS:
        a = L.ones(4, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="Output 0 of Split is a view and is being modified"):
            a.chunk(2)[0].mul_(2)
        with pytest.raises(RuntimeError, match="returns multiple views"):
            a.unbind()[1].add_(1)
        with L.no_grad():
            a.chunk(2)[1].fill_(0)
        assert a.tolist() == [2.0, 2.0, 0.0, 0.0]
        a.tensor_split(2)[0].add_(1)  # slices, not a multi-output view function: allowed
        assert a.tolist() == [3.0, 3.0, 0.0, 0.0]


def test_overlapping_expanded_view_write_raises_like_torch():
    for L in LIBS:
        x = L.zeros(1, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            x.expand(2, 3).add_(1)
        assert x.tolist() == [[0.0, 0.0, 0.0]]
        x.expand(1, 3).add_(1)  # nothing repeated: allowed
        assert x.tolist() == [[1.0, 1.0, 1.0]]


# ----- mt.jit ------------------------------------------------------------------------------------------
def test_compiled_step_writing_through_a_view_matches_eager():
    def make():
        mt.manual_seed(0)
        model = mt.nn.Linear(4, 3)
        opt = mt.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            with mt.no_grad():
                model.weight[0].clamp_(-0.05, 0.05)  # constrain one row, in place through a view
            return loss
        return model, step

    x = mt.tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))
    m_eager, s_eager = make()
    m_jit, s_jit = make()
    s_jit = mt.jit(s_jit)
    for _ in range(3):
        le, lj = s_eager(x), s_jit(x)
        np.testing.assert_allclose(lj.item(), le.item(), rtol=1e-6)
    np.testing.assert_allclose(m_jit.weight.detach().numpy(), m_eager.weight.detach().numpy(), rtol=1e-6)
    assert np.abs(m_jit.weight.detach().numpy()[0]).max() <= 0.05 + 1e-7
    assert s_jit.num_compiles == 1


# ----- shape logic ---------------------------------------------------------------------------------
_slice = st.builds(slice, st.integers(-5, 5) | st.none(), st.integers(-5, 5) | st.none(),
                   st.integers(1, 3) | st.none())


@given(st.tuples(st.integers(-3, 2) | _slice, _slice), st.floats(-10, 10, allow_nan=False))
def test_random_basic_index_writes_match_torch(index, value):
    def f(L, x):
        v = x[index]
        if v.numel():
            v.fill_(value)
        return None
    _same(f)


def test_view_held_across_compiled_steps_follows_its_root():
    """A view of a parameter made once (eagerly) and read inside a compiled step: it re-reads the
    parameter each call, and its gradient reaches the parameter, as eagerly and in torch."""
    def make():
        mt.manual_seed(0)
        lin = mt.nn.Linear(4, 4)
        opt = mt.optim.SGD(lin.parameters(), lr=0.1)
        half = lin.weight[:2]

        def step(x):
            opt.zero_grad()
            loss = (lin(x) ** 2).mean() + (half ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        return lin, half, step

    x = mt.tensor(np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32))
    l_e, h_e, s_e = make()
    l_j, h_j, s_j = make()
    s_j = mt.jit(s_j)
    for _ in range(3):
        np.testing.assert_allclose(s_j(x).item(), s_e(x).item(), rtol=1e-6)
    np.testing.assert_allclose(l_j.weight.detach().numpy(), l_e.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(h_j.detach().numpy(), l_j.weight.detach().numpy()[:2], rtol=1e-6)
    assert s_j.num_compiles == 1
    # the same in torch: the view's gradient reaches the weight
    tl = torch.nn.Linear(4, 4)
    fresh = make()[0]
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(fresh.weight.detach().numpy()))
        tl.bias.copy_(torch.tensor(fresh.bias.detach().numpy()))
    topt = torch.optim.SGD(tl.parameters(), lr=0.1)
    th = tl.weight[:2]
    tx = torch.tensor(x.numpy())
    for _ in range(3):
        topt.zero_grad()
        ((tl(tx) ** 2).mean() + (th ** 2).sum()).backward()
        topt.step()
    np.testing.assert_allclose(l_e.weight.detach().numpy(), tl.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def _view_shapes(n):
    """Every shape of 1-2 dimensions with ``n`` elements, and the 3-dimensional ones with a 1 or a 2
    in front (a merge, a split, a size-1 dimension), from a few small factors."""
    out = set()
    for k in (1, 2, 3):
        for dims in itertools.product((1, 2, 3, 4, 6, 8, 12, 24), repeat=k):
            if int(np.prod(dims)) == n and (k < 3 or dims[0] in (1, 2)):
                out.add(dims)
    return sorted(out)


@pytest.mark.parametrize("base,step", [((2, 3, 4), 1), ((2, 1, 3, 2), 5)])
def test_view_of_permuted_view_raises_or_views_like_torch(base, step):
    a = np.arange(int(np.prod(base)), dtype=np.float32).reshape(base)
    rt, rm = torch.tensor(a), mt.tensor(a)  # (the roots stay alive, as a view's base in torch)
    for perm in list(itertools.permutations(range(len(base))))[1::step]:
        xt, xm = rt.permute(*perm), rm.permute(*perm)
        for shape in _view_shapes(xt.numel()):
            try:
                want, err = xt.view(*shape), None
            except RuntimeError as e:
                want, err = None, str(e)
            if err is None:
                np.testing.assert_array_equal(xm.view(*shape).numpy(), want.numpy())
            else:
                with pytest.raises(RuntimeError) as e:
                    xm.view(*shape)
                assert str(e.value) == err, (perm, shape)


def test_view_of_expanded_and_transposed_views_like_torch():
    r = mt.ones(3, 1)
    e = r.expand(3, 4)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        e.view(12)
    assert e.view(3, 2, 2).shape == (3, 2, 2) and e.reshape(12).shape == (12,)
    x = mt.arange(24.0).reshape(2, 3, 4)
    t = x.transpose(0, 1)
    with pytest.raises(RuntimeError, match=r"Use \.reshape\(\.\.\.\) instead"):
        t.view_as(mt.zeros(6, 4))
    v = t.view(3, 2, 2, 2)  # splits the last dimension only: a view, as in torch
    v[1, 0, 1, 1].fill_(-1.0)
    assert x[0, 1, 3].item() == -1.0
    assert t.reshape(24).shape == (24,) and t.flatten().shape == (24,)  # copies, as in torch

    @mt.jit
    def f(y):
        return y.transpose(0, 1).view(-1)

    with pytest.raises(RuntimeError, match="view size is not compatible"):
        f(mt.ones(2, 3))


LAYOUT_VIEWS = [
    ("transpose", lambda x: x.transpose(0, 2)), ("select_middle", lambda x: x[:, 1]),
    ("index", lambda x: x[1]), ("slice", lambda x: x[:, :2]), ("step", lambda x: x[..., ::2]),
    ("permute", lambda x: x.permute(1, 2, 0)), ("none_middle", lambda x: x[:, None]),
    ("none_first", lambda x: x[None]), ("unsqueeze", lambda x: x.unsqueeze(-1)),
    ("narrow", lambda x: x.narrow(2, 1, 2)), ("select", lambda x: x.select(1, 2)),
    ("diagonal", lambda x: x.diagonal(0, 1, 2)), ("expand", lambda x: x[:, :1, :].expand(2, 5, 4)),
    ("unfold", lambda x: x.unfold(2, 2, 1)), ("view", lambda x: x.view(6, 4)),
    ("flatten", lambda x: x.flatten()), ("chunk", lambda x: x.chunk(2, dim=2)[1]),
    ("unbind", lambda x: x.unbind(1)[2]), ("transpose_then_index", lambda x: x.transpose(0, 1)[0]),
    ("movedim_slice", lambda x: x.movedim(0, -1)[:, 1:]),
]


@pytest.mark.parametrize("name,f", LAYOUT_VIEWS, ids=[n for n, _ in LAYOUT_VIEWS])
def test_view_strides_offset_and_contiguity_like_torch(name, f):
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    rt, rm = torch.tensor(a), mt.tensor(a)
    vt, vm = f(rt), f(rm)
    assert (vm.stride(), vm.storage_offset(), vm.is_contiguous()) == \
        (vt.stride(), vt.storage_offset(), vt.is_contiguous())
    assert vm.stride(-1) == vt.stride(-1)
    # as_strided counts into the root, as into torch's storage
    for args in ((vm.size(), vm.stride()), ((2, 2), (1, 3)), ((2, 2), (1, 3), 5)):
        targs = (tuple(args[0]),) + tuple(args[1:])
        np.testing.assert_array_equal(vm.as_strided(*args).numpy(), vt.as_strided(*targs).numpy())
    assert vm.contiguous().is_contiguous() == vt.contiguous().is_contiguous() is True
    assert (vm.contiguous() is vm) == (vt.contiguous() is vt)


def test_as_strided_of_a_view_sends_gradients_to_the_root_like_torch():
    grads = []
    for lib in LIBS:
        x = lib.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4), requires_grad=True)
        v = (x * 2).transpose(0, 2)
        (v.as_strided((3, 2), (5, 1)) ** 2).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_base_and_is_view_like_torch():
    out = []
    for L in LIBS:
        a = L.arange(6.0)  # (kept alive: here a view whose root is freed becomes a tensor of its own)
        x = a.view(2, 3)
        out.append((x._base is a, x.view(-1)._base is a, x[0].t()._base is a, x.chunk(2, 1)[0]._base is a,
                    (x + 1)._base, a._base, a._is_view(), x._is_view(), x.detach()._is_view(),
                    x.t().contiguous()._is_view(), x[:, :2].reshape(-1)._is_view(),
                    x[:1].reshape(-1)._is_view()))
    assert out[1] == out[0]
    assert out[0][:4] == (True,) * 4
