"""Selective activation checkpointing (mt.utils.checkpoint.create_selective_checkpoint_contexts) and
mt.ops.aten against torch: the op objects, the policy calls, values and gradients, what is saved vs
recomputed (counted in the backward program), use inside mt.jit, and torch's errors."""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils import checkpoint as C

from .oracle import needs_torch, torch

TC = torch.utils.checkpoint
R = np.random.default_rng(0)
X = R.standard_normal((3, 4)).astype(np.float32)
W1 = R.standard_normal((4, 8)).astype(np.float32)
W2 = R.standard_normal((8, 5)).astype(np.float32)


def _ctx(lib, policy):
    return functools.partial(lib.utils.checkpoint.create_selective_checkpoint_contexts, policy)


def _save_mm(lib):
    def policy(ctx, op, *args, **kwargs):
        if op in (lib.ops.aten.mm.default, lib.ops.aten.addmm.default):
            return lib.utils.checkpoint.CheckpointPolicy.MUST_SAVE
        return lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE
    return policy


def _recompute_all(lib):
    return lambda ctx, op, *a, **k: lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE


def _fn(x, w1, w2):
    return (x.mm(w1).sin().mm(w2)).tanh()


def test_aten_namespace():
    a = mt.ops.aten
    assert a.mm.default is a.mm.default and a.mm.default == a.mm.default
    assert a.mm.default != a.addmm.default and a.mm != a.mm.default
    assert len({a.mm.default, a.mm.default, a.addmm.default}) == 2
    for name in ("mm", "add"):
        for ov in ("default", "Tensor") if name == "add" else ("default",):
            m, t = getattr(getattr(a, name), ov), getattr(getattr(torch.ops.aten, name), ov)
            assert (repr(m), str(m), m.name(), m.__name__) == (repr(t), str(t), t.name(), t.__name__)
    assert (repr(a.mm), str(a.mm)) == (repr(torch.ops.aten.mm), str(torch.ops.aten.mm))
    assert a.mm.default.overloadpacket is a.mm
    np.testing.assert_allclose(a.mm.default(mt.tensor(X), mt.tensor(W1)).numpy(), X @ W1, rtol=1e-5)
    np.testing.assert_allclose(a.add.Tensor(mt.tensor(X), 1.0).numpy(), X + 1, rtol=1e-6)
    with pytest.raises(AttributeError, match="'_OpNamespace' 'aten' object has no attribute 'nosuch'"):
        _ = a.nosuch
    with pytest.raises(AttributeError, match="The underlying op of 'aten.mm' has no overload name 'bad'"):
        _ = a.mm.bad


@needs_torch(2, 13, "SelectiveCheckpointContext.op_output")
def test_policy_sees_torch_op_names():
    seen = {"mt": [], "torch": []}

    def make(lib, key):
        def policy(ctx, op, *args, **kwargs):
            assert ctx.is_recompute is False and ctx.op_output is not None
            seen[key].append(str(op))
            return lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE
        return policy

    for lib, key in ((mt, "mt"), (torch, "torch")):
        w = lib.tensor(W1.T.copy(), requires_grad=True)
        b = lib.zeros(8, requires_grad=True)

        def f(x, lib=lib, w=w, b=b):
            h = lib.nn.functional.linear(x, w, b).relu() * 2
            return lib.nn.functional.linear(h, lib.ones(3, 8)).sum()

        lib.utils.checkpoint.checkpoint(f, lib.tensor(X), use_reentrant=False,
                                        context_fn=_ctx(lib, make(lib, key)))
    # torch also reports the views/transposes it decomposes linear into; mt reports one op per call
    assert [s for s in seen["torch"] if not s.startswith(("aten.t.", "aten.view", "aten.ones", "aten.empty",
                                                          "aten.fill"))] == \
        ["aten.addmm.default", "aten.relu.default", "aten.mul.Tensor", "aten.mm.default", "aten.sum.default"]
    assert [s for s in seen["mt"] if not s.startswith("aten.ones")] == \
        ["aten.addmm.default", "aten.relu.default", "aten.mul.Tensor", "aten.mm.default", "aten.sum.default"]


def _many_ops(lib, x):
    x.mul(2), x * x, x - 1, x / 2, x.eq(1), x.eq(x), x.gt(0), x.pow(2), x.remainder(2), x.sum(1)
    x.mean(1), x.mean(), x.max(1), x.max(), lib.maximum(x, x), lib.atan2(x, x), x.transpose(0, 1)
    x.softmax(1), lib.nn.functional.layer_norm(x, (4,)), x.add(x, alpha=2), 1 - x, lib.where(x > 0, x, x)
    return x.sin()


def test_op_overloads_reported_like_torch():
    seen = {"mt": [], "torch": []}
    for lib, key in ((mt, "mt"), (torch, "torch")):
        def policy(ctx, op, *a, key=key, lib=lib, **k):
            seen[key].append(str(op))
            return lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE
        lib.utils.checkpoint.checkpoint(functools.partial(_many_ops, lib), lib.tensor(X, requires_grad=True),
                                        use_reentrant=False, context_fn=_ctx(lib, policy))
    assert seen["mt"] == seen["torch"]


def _bwd_dots(y):
    """dot_generals in the backward program of a selectively checkpointed output (recomputed ones
    included): 4 for _fn's gradients, plus one per recomputed mm."""
    node = y.grad_fn
    ct = (jax.numpy.ones(y.shape, y._data.dtype),)
    return str(jax.make_jaxpr(node._vjp)(ct)).count("dot_general")


@pytest.mark.parametrize("which", ["save_mm", "recompute", "list", "first_only"])
def test_values_grads_and_what_is_recomputed(which):
    counter = {"mm": 0}

    def first_only(lib):
        def policy(ctx, op, *args, **kwargs):
            if op == lib.ops.aten.mm.default:
                counter["mm"] += 1
                if counter["mm"] == 1:
                    return lib.utils.checkpoint.CheckpointPolicy.MUST_SAVE
            return lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE
        return policy

    make = {"save_mm": _save_mm, "recompute": _recompute_all, "first_only": first_only,
            "list": lambda lib: [lib.ops.aten.mm.default]}[which]
    res = {}
    for lib in (mt, torch):
        counter["mm"] = 0
        xs = [lib.tensor(a, requires_grad=True) for a in (X, W1, W2)]
        y = lib.utils.checkpoint.checkpoint(_fn, *xs, use_reentrant=False, context_fn=_ctx(lib, make(lib)))
        if lib is mt:
            assert type(y.grad_fn).__name__ == "SelectiveCheckpointFunctionBackward"
            dots = _bwd_dots(y)
        (y * y).sum().backward()
        res[lib.__name__] = [y.detach().numpy()] + [x.grad.numpy() for x in xs]
    expected = {"save_mm": 4, "list": 4, "recompute": 6, "first_only": 5}[which]
    assert dots == expected  # MUST_SAVE mms are not recomputed, the others are
    # the same without checkpointing
    xs = [mt.tensor(a, requires_grad=True) for a in (X, W1, W2)]
    y = _fn(*xs)
    (y * y).sum().backward()
    plain = [y.detach().numpy()] + [x.grad.numpy() for x in xs]
    for a, b, c in zip(res["minitorch_jax"], res["torch"], plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-6)


def test_module_with_dropout_matches_plain_run():
    m = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.GELU(), mt.nn.Dropout(0.5), mt.nn.Linear(8, 4))
    xm = mt.tensor(X, requires_grad=True)
    mt.manual_seed(1)
    y0 = m(xm)
    y0.square().sum().backward()
    ref = [p.grad.numpy().copy() for p in m.parameters()] + [xm.grad.numpy()]
    m.zero_grad()
    x1 = mt.tensor(X, requires_grad=True)
    mt.manual_seed(1)
    y1 = C.checkpoint(m, x1, use_reentrant=False, context_fn=_ctx(mt, _save_mm(mt)))
    np.testing.assert_allclose(y1.detach().numpy(), y0.detach().numpy(), rtol=1e-6)
    y1.square().sum().backward()
    for a, b in zip([p.grad.numpy() for p in m.parameters()] + [x1.grad.numpy()], ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y1.sum().backward()


def _jit_run(policy, compiled):
    mt.manual_seed(0)
    m = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.Tanh(), mt.nn.Linear(8, 4))
    opt = mt.optim.SGD(m.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = C.checkpoint(m, x, use_reentrant=False, context_fn=_ctx(mt, policy)).square().mean()
        loss.backward()
        opt.step()
        return loss

    fn = mt.jit(step) if compiled else step
    x = mt.tensor(X)
    losses = [fn(x).item() for _ in range(2)]
    text = fn.lower(x).as_text() if compiled else None
    return losses, [p.detach().numpy().copy() for p in m.parameters()], text


def test_inside_jit_matches_eager_and_saves():
    le, pe, _ = _jit_run(_save_mm(mt), False)
    lj, pj, text_save = _jit_run(_save_mm(mt), True)
    np.testing.assert_allclose(lj, le, rtol=1e-5)
    for a, b in zip(pj, pe):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    _, _, text_rec = _jit_run(_recompute_all(mt), True)
    # the backward needs the first Linear's output (the second's is the checkpoint's output):
    # recompute-all runs that matmul again, saving it does not
    assert text_save.count("dot_general") == 5  # forward 2, backward 3
    assert text_rec.count("dot_general") == 6


def test_under_func_transform():
    lin = mt.nn.Linear(4, 3)
    g = mt.func.grad(lambda x: C.checkpoint(lin, x, use_reentrant=False,
                                            context_fn=_ctx(mt, _save_mm(mt))).tanh().sum())(mt.tensor(X))
    x = mt.tensor(X, requires_grad=True)
    lin(x).tanh().sum().backward()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_errors_and_odd_policies():
    x = mt.tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match=r"Expected op in `op_list` to be an OpOverload but got: aten.mm of "
                                         r"type .*Please update the OpOverloadPacket"):
        C.create_selective_checkpoint_contexts([mt.ops.aten.mm])
    with pytest.raises(TypeError, match="policy_fn_or_list must be either a function or a list of ops."):
        C.create_selective_checkpoint_contexts(3)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when "
                                         "use_reentrant=False."):
        C.checkpoint(lambda t: t.sin(), x, use_reentrant=True, context_fn=_ctx(mt, []))
    # like torch: a non-policy return value means recompute, a bool means save/recompute
    for ret in (None, "x", True, False):
        y = C.checkpoint(lambda t: t.mm(mt.tensor(W1)).sin(), x, use_reentrant=False,
                         context_fn=_ctx(mt, lambda *a, ret=ret, **k: ret))
        assert _bwd_dots(y) == (1 if ret is True else 2)
        y.sum().backward()
    # the policy's own errors come through
    with pytest.raises(ZeroDivisionError):
        C.checkpoint(lambda t: t.sin(), x, use_reentrant=False, context_fn=_ctx(mt, lambda *a, **k: 1 / 0))
    # no grad: a plain call, the policy is not consulted (as torch)
    calls = []
    with mt.no_grad():
        C.checkpoint(lambda t: t.sin(), x, use_reentrant=False,
                     context_fn=_ctx(mt, lambda *a, **k: calls.append(1)))
    assert calls == []


def test_enum_and_helpers_match_torch():
    assert [(p.name, p.value) for p in C.CheckpointPolicy] == [(p.name, p.value) for p in TC.CheckpointPolicy]
    assert mt.ops.aten.detach.default in C.SAC_IGNORED_OPS
    ctx = C.SelectiveCheckpointContext(is_recompute=False)
    assert ctx.is_recompute is False and ctx.op_output is None
    cpu = mt.tensor(X, device="cpu")  # (a GPU host's default device is the GPU)
    assert C.get_device_states(cpu, 3) == TC.get_device_states(torch.tensor(X), 3) == ([], [])
    C.set_device_states([], [])
    prev = C.DefaultDeviceType.get_device_type()
    try:
        C.DefaultDeviceType.set_device_type("meta")
        assert C.DefaultDeviceType.get_device_type() == "meta"
        C.set_device_states([0], [None])  # meta: nothing to do
    finally:
        C.DefaultDeviceType.set_device_type(prev)
    with C.GraphExecGroup() as g:
        assert C.GraphExecGroup._get_current_group() is g
        with pytest.raises(RuntimeError, match="GraphExecGroup contexts cannot be nested"):
            with C.GraphExecGroup():
                pass
    assert C.GraphExecGroup._get_current_group() is None
