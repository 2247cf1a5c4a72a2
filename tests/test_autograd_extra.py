"""The rest of torch.func (stack_module_state, linearize, ...), autograd.graph's saved-tensor and
multi-grad hooks, and autograd.forward_ad dual tensors, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import assert_same, torch

G = mt.autograd.graph
fwd = mt.autograd.forward_ad
RNG = np.random.default_rng(7)


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def same_mt(a, b, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a.detach()._data), np.asarray(b.detach()._data),
                               rtol=rtol, atol=atol)


def copy_linear(m_lin, t_lin):
    with torch.no_grad():
        t_lin.weight.copy_(torch.tensor(np.asarray(m_lin.weight._data)))
        t_lin.bias.copy_(torch.tensor(np.asarray(m_lin.bias._data)))


# ----- torch.func extras ------------------------------------------------------------------------------
def _models(lib, n, bn=False):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = lib.nn.Linear(3, 4)
            self.bn = lib.nn.BatchNorm1d(4) if bn else lib.nn.Identity()
            self.l2 = lib.nn.Linear(4, 2)

        def forward(self, x):
            return self.l2(self.bn(self.l1(x)).tanh())

    return [Net() for _ in range(n)]


def test_stack_module_state_ensemble_matches_torch():
    """The model-ensembling recipe: stack_module_state + vmap(functional_call), values and grads."""
    m_models, t_models = _models(mt, 3), _models(torch, 3)
    for mm, tm in zip(m_models, t_models):
        copy_linear(mm.l1, tm.l1)
        copy_linear(mm.l2, tm.l2)
    x = arr(5, 3)
    res = {}
    for lib, models in (("mt", m_models), ("torch", t_models)):
        L = mt if lib == "mt" else torch
        params, buffers = L.func.stack_module_state(models)
        assert buffers == {}
        assert all(p.is_leaf and p.requires_grad for p in params.values())

        def wrapper(p, b, xx, base=models[0], L=L):
            return L.func.functional_call(base, (p, b), (xx,))

        out = L.func.vmap(wrapper, in_dims=(0, 0, None))(params, buffers, L.tensor(x))
        out.pow(2).sum().backward()
        res[lib] = (out, {k: v.grad for k, v in params.items()},
                    {k: tuple(v.shape) for k, v in params.items()})
    assert_same(res["mt"][0], res["torch"][0], rtol=1e-4, atol=1e-5)
    assert res["mt"][2] == res["torch"][2]
    assert res["mt"][2]["l1.weight"] == (3, 4, 3)
    for k in res["torch"][1]:
        assert_same(res["mt"][1][k], res["torch"][1][k], rtol=1e-4, atol=1e-5, what=k)


def test_stack_module_state_buffers():
    m_models, t_models = _models(mt, 2, bn=True), _models(torch, 2, bn=True)
    for models in (m_models, t_models):
        with (mt if models is m_models else torch).no_grad():
            models[1].bn.running_mean.add_(1.5)
    (mp, mb), (tp, tb) = mt.func.stack_module_state(m_models), torch.func.stack_module_state(t_models)
    assert sorted(mb) == sorted(tb) == ["bn.num_batches_tracked", "bn.running_mean", "bn.running_var"]
    for k in tb:
        assert_same(mb[k], tb[k], what=k)
        assert not mb[k].requires_grad
    assert sorted(mp) == sorted(tp)


def test_stack_module_state_errors():
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        mt.func.stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        mt.func.stack_module_state([mt.nn.Linear(2, 2), mt.nn.ReLU()])
    a, b = mt.nn.Linear(2, 2), mt.nn.Linear(2, 2)
    b.eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        mt.func.stack_module_state([a, b])


def test_replace_all_batch_norm_modules():
    s = mt.nn.Sequential(mt.nn.Linear(3, 3), mt.nn.BatchNorm1d(3))
    assert mt.func.replace_all_batch_norm_modules_(s) is s
    bn = s[1]
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert bn.track_running_stats is False
    s.eval()
    x = arr(4, 3)
    t = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    copy_linear(s[0], t[0])
    torch.func.replace_all_batch_norm_modules_(t).eval()
    assert_same(s(mt.tensor(x)), t(torch.tensor(x)), rtol=1e-4, atol=1e-5)  # batch stats in eval mode


def test_linearize_matches_torch():
    x, y, tx, ty = arr(3), arr(3), arr(3), arr(3)

    def f(a, b):
        return (a.sin() * b, (a * b).exp().sum())

    m_out, m_jvp = mt.func.linearize(f, mt.tensor(x), mt.tensor(y))
    tp = (torch.tensor(x), torch.tensor(y))
    t_out, t_tan = torch.func.jvp(f, tp, (torch.tensor(tx), torch.tensor(ty)))
    assert_same(m_out, t_out)
    assert_same(m_jvp(mt.tensor(tx), mt.tensor(ty)), t_tan, rtol=1e-5)
    assert_same(m_jvp(mt.tensor(ty), mt.tensor(tx)),
                torch.func.jvp(f, tp, (torch.tensor(ty), torch.tensor(tx)))[1], rtol=1e-5)
    with pytest.raises(RuntimeError, match="same argspec"):
        m_jvp(mt.tensor(tx))
    with pytest.raises(RuntimeError, match=r"tangent:0 with shape \[4\]"):
        m_jvp(mt.ones(4), mt.ones(3))


def test_functionalize_and_debug_unwrap():
    def f(x):
        y = x.clone()
        y.add_(1)
        return y * 2

    x = mt.tensor(arr(3))
    g = mt.func.functionalize(f)
    assert_same(g(x), f(torch.tensor(np.asarray(x._data))))
    same_mt(mt.func.functionalize(f, remove="mutations_and_views")(x), g(x))
    with pytest.raises(RuntimeError, match="invalid argument for remove=foo"):
        mt.func.functionalize(f, remove="foo")
    assert mt.func.debug_unwrap(x) is x


# ----- saved tensor hooks -----------------------------------------------------------------------------
def _recorders():
    packed, unpacked = [], []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    def unpack(t):
        unpacked.append(tuple(t.shape))
        return t

    return packed, unpacked, pack, unpack


def test_saved_tensors_hooks_chain_and_function_match_torch():
    x = arr(3)

    def make_fn(L):
        class F(L.autograd.Function):
            @staticmethod
            def forward(ctx, a, w):
                ctx.save_for_backward(a, w, None)
                return a * w

            @staticmethod
            def backward(ctx, g):
                a, w, none = ctx.saved_tensors
                assert none is None
                return g * w, g * a
        return F

    results = {}
    for name, L in (("mt", mt), ("torch", torch)):
        packed, unpacked, pack, unpack = _recorders()
        a = L.tensor(x, requires_grad=True)
        w = L.tensor(x * 2)
        F = make_fn(L)
        with L.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (a * a).exp().tanh().sum()      # mul saves both, exp and tanh their result
            z = F.apply(a, w).sum()
            F.apply(L.tensor(x), w)             # nothing requires grad: nothing packed
        chain_packed = list(packed)
        (y + z).backward()
        results[name] = (chain_packed, sorted(unpacked), a.grad)
    assert results["mt"][0] == results["torch"][0] == [(3,)] * 6
    assert results["mt"][1] == results["torch"][1]
    assert_same(results["mt"][2], results["torch"][2])


def test_saved_tensors_hooks_linear_shapes():
    """torch packs linear's input and weight.t() (in, out); mt packs the weight as stored (out, in)."""
    x = arr(2, 4)
    got = {}
    for name, L in (("mt", mt), ("torch", torch)):
        packed, unpacked, pack, unpack = _recorders()
        lin = L.nn.Linear(4, 3)
        with L.autograd.graph.saved_tensors_hooks(pack, unpack):
            out = lin(L.tensor(x, requires_grad=True))
        out.sum().backward()
        got[name] = (packed, unpacked)
    assert got["torch"] == ([(2, 4), (4, 3)], [(2, 4), (4, 3)])
    assert got["mt"] == ([(2, 4), (3, 4)], [(2, 4), (3, 4)])


def test_unpack_result_is_used_and_checked():
    a = mt.tensor(arr(3), requires_grad=True)
    # the pack hook stores a numpy copy; backward uses what unpack returns
    with G.saved_tensors_hooks(lambda t: np.asarray(t._data).copy(), lambda p: mt.tensor(p) * 0):
        y = (a * a).sum()
    y.backward()
    assert float(a.grad.abs().sum()) == 0.0
    with G.saved_tensors_hooks(lambda t: t, lambda p: 3):
        y = a.sin().sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of type int"):
        y.backward()


def test_save_on_cpu_gradients_and_retain_graph():
    x = arr(3, 3)
    a = mt.tensor(x, requires_grad=True)
    with G.save_on_cpu(pin_memory=False):
        y = (a @ a).sin().sum()
    y.backward(retain_graph=True)
    y.backward()
    ta = torch.tensor(x, requires_grad=True)
    (ta @ ta).sin().sum().backward()
    assert_same(a.grad, 2 * ta.grad, rtol=1e-5)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_disable_saved_tensors_hooks():
    with G.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with G.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with G.saved_tensors_hooks(lambda t: t, lambda t: t):
        with pytest.raises(RuntimeError, match="inner"):
            with G.disable_saved_tensors_hooks("inner"):
                pass
    with G.saved_tensors_hooks(lambda t: t, lambda t: t):  # usable again after exit
        pass
    from minitorch_jax._ops import _registry
    assert _registry.SAVED_TENSORS_HOOK is None   # no cost left behind once every context exited


def test_saved_tensors_hooks_inside_jit():
    count = []
    lin = mt.nn.Linear(3, 2)

    @mt.jit
    def step(x):
        with G.saved_tensors_hooks(lambda t: count.append(1) or t, lambda t: t):
            loss = lin(x).tanh().sum()
        loss.backward()
        return loss

    x = mt.tensor(arr(4, 3))
    step(x)
    assert len(count) == 3   # input, weight, tanh's output (counted while tracing)


def test_allow_mutation_on_saved_tensors():
    b = mt.tensor(arr(3), requires_grad=True)
    c = b * 1
    d = (c * c).sum()
    with mt.no_grad():
        c.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        d.backward()
    with G.allow_mutation_on_saved_tensors() as ctx:
        c = b * 1
        d = (c * c).sum()
        with mt.no_grad():
            c.mul_(10)
        d.backward()
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with G.allow_mutation_on_saved_tensors():
                pass
    assert ctx is not None
    same_mt(b.grad, 2 * b)


# ----- multi grad hooks -------------------------------------------------------------------------------
def test_register_multi_grad_hook_matches_torch():
    xs = [arr(3) for _ in range(3)]
    logs = {}
    for name, L in (("mt", mt), ("torch", torch)):
        a, b, c = (L.tensor(x, requires_grad=True) for x in xs)
        log = []
        h = L.autograd.graph.register_multi_grad_hook(
            (a, b, c), lambda gs, log=log: log.append([None if g is None else g.tolist() for g in gs]))
        (a * 2 + b).sum().backward()
        (a * b * c).sum().backward()
        h.remove()
        (a * 2).sum().backward()
        h = L.autograd.graph.register_multi_grad_hook(
            (a, b), lambda g, log=log: log.append(("any", g.tolist())), mode="any")
        (a * b).sum().backward()
        (b * 3).sum().backward()
        h.remove()
        n = a * 2     # a non-leaf
        h = L.autograd.graph.register_multi_grad_hook(
            (n, b), lambda gs, log=log: log.append([g.tolist() for g in gs]))
        (n * b).sum().backward()
        h.remove()
        logs[name] = log
    assert mt._autograd_graph.BACKWARD_END_HOOK is None   # the engine hook is unset with the last handle
    assert len(logs["mt"]) == len(logs["torch"]) == 5
    for m, t in zip(logs["mt"], logs["torch"]):
        if t[0] == "any":   # the first gradient computed: engines may order a*b's two leaves differently
            assert m[0] == "any"
            assert np.allclose(m[1], t[1]) or any(np.allclose(m[1], x) for x in xs), m
            continue
        for gm, gt in zip(m, t):
            assert (gm is None) == (gt is None)
            if gt is not None:
                np.testing.assert_allclose(gm, gt, rtol=1e-6)
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        G.register_multi_grad_hook((mt.ones(2, requires_grad=True),), print, mode="foo")
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        G.register_multi_grad_hook((mt.ones(2),), print)


def test_stream_switches_recorded():
    G.set_warn_on_accumulate_grad_stream_mismatch(False)
    assert G._SWITCHES["warn_on_accumulate_grad_stream_mismatch"] is False
    G.set_warn_on_accumulate_grad_stream_mismatch(True)
    G.set_override_stale_capture_stream(False)


# ----- forward AD -------------------------------------------------------------------------------------
def _chain(L, a, W):
    y = (a * 2 + 1).sin().exp() / (a.abs() + 1)
    z = y @ W
    return (z.tanh().sum(1), z.max(dim=0).values, z.softmax(-1), z.reshape(-1)[3:7],
            z[1:, ::2].t(), L.cat([z, y], 1).norm())


def test_forward_ad_chain_matches_torch():
    x, t, W = arr(4, 3), arr(4, 3), arr(3, 5)
    tf = torch.autograd.forward_ad
    with tf.dual_level():
        d = tf.make_dual(torch.tensor(x), torch.tensor(t))
        t_res = [tf.unpack_dual(o) for o in _chain(torch, d, torch.tensor(W))]
    with fwd.dual_level() as level:
        assert level == 0
        d = fwd.make_dual(mt.tensor(x), mt.tensor(t))
        m_res = [fwd.unpack_dual(o) for o in _chain(mt, d, mt.tensor(W))]
    for i, (m, tt) in enumerate(zip(m_res, t_res)):
        assert isinstance(m, fwd.UnpackedDualTensor)
        assert_same(m.primal, tt.primal, rtol=1e-5, atol=1e-6, what=f"primal {i}")
        assert_same(m.tangent, tt.tangent, rtol=1e-4, atol=1e-5, what=f"tangent {i}")
    assert fwd.unpack_dual(d).tangent is None   # dropped on exit


def test_forward_ad_module_and_func_jvp_agree():
    x, t = arr(5, 4), arr(5, 4)
    m_lin, t_lin = mt.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    copy_linear(m_lin, t_lin)
    tf = torch.autograd.forward_ad
    with tf.dual_level():
        t_tan = tf.unpack_dual(t_lin(tf.make_dual(torch.tensor(x), torch.tensor(t))).tanh()).tangent
    with fwd.dual_level():
        out = m_lin(fwd.make_dual(mt.tensor(x), mt.tensor(t))).tanh()
        m_tan = fwd.unpack_dual(out).tangent
    assert_same(m_tan, t_tan, rtol=1e-4, atol=1e-5)
    _, j = mt.func.jvp(lambda a: m_lin(a).tanh(), (mt.tensor(x),), (mt.tensor(t),))
    same_mt(m_tan, j, rtol=1e-5)


def test_forward_ad_inplace_reverse_and_jit():
    x, t = arr(3), arr(3)
    a = mt.tensor(x, requires_grad=True)
    with fwd.dual_level():
        d = fwd.make_dual(a, mt.tensor(t))
        e = d * 1
        e.mul_(3)                      # in-place keeps the tangent up to date
        assert_same(fwd.unpack_dual(e).tangent, torch.tensor(3 * t))
        e.sin().sum().backward()       # reverse mode flows through the dual to `a`
        e.copy_(mt.ones(3))            # overwritten by a non-dual value: zero tangent (as torch)
        same_mt(fwd.unpack_dual(e).tangent, mt.zeros(3))
        p = mt.ones(3)
        p.copy_(d)                     # a plain tensor overwritten by a dual one becomes dual
        same_mt(fwd.unpack_dual(p).tangent, mt.tensor(t))
    assert_same(a.grad, torch.tensor(3 * np.cos(3 * x)), rtol=1e-5)

    @mt.jit
    def jvp_sin(p, tan):   # a dual level inside a compiled function
        with fwd.dual_level():
            return fwd.unpack_dual((fwd.make_dual(p, tan) * 2).sin().sum()).tangent

    for shift in (0.0, 1.0):
        assert_same(jvp_sin(mt.tensor(x + shift), mt.tensor(t)),
                    torch.tensor(2 * np.cos(2 * (x + shift)) * t).sum(), rtol=1e-5)
    assert jvp_sin.num_compiles == 1


def test_forward_ad_errors():
    with pytest.raises(RuntimeError, match="no level exists"):
        fwd.make_dual(mt.ones(3), mt.ones(3))
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwd.exit_dual_level()
    lvl = fwd.enter_dual_level()
    try:
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwd.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given forward gradient "
                                               r"is of size \[4\]"):
            fwd.make_dual(mt.ones(3), mt.ones(4))
        with pytest.raises(ValueError, match="floating point or complex"):
            fwd.make_dual(mt.ones(3, dtype=mt.int64), mt.ones(3))
        p, tan = fwd.unpack_dual(mt.ones(2))
        assert tan is None
        A = fwd.make_dual(mt.tensor(arr(3, 3)), mt.tensor(arr(3, 3)))
        with pytest.raises(RuntimeError, match="forward-mode AD: no forward derivative for op 'linalg_eig'"):
            mt.linalg.eig(A)
    finally:
        fwd.exit_dual_level(level=lvl)
    with pytest.raises(RuntimeError, match="no level exists"):
        fwd.make_dual(mt.ones(3), mt.ones(3))
