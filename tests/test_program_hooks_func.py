"""Same-source program parity: introspection and functional idioms.

One program (``build(torch)``) written as ordinary PyTorch code -- forward hooks collecting features
into a dict, full backward hooks and ``Tensor.register_hook`` recording/scaling gradients, custom
``autograd.Function``s (straight-through estimator, clamp with a custom backward) inside a model,
``torch.func`` (functional_call, per-sample gradients with vmap(grad), jacrev/hessian, ensembling with
stack_module_state + vmap), ``parameters_to_vector``, and model surgery (swapping a submodule, freezing
layers, an optimizer over the trainable parameters only) -- runs on real torch and on minitorch_jax.
"""

from __future__ import annotations

import copy
import types

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import torch

D_IN, D, N_CLS = 5, 8, 3


def make_data(n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D_IN)).astype(np.float32)
    y = rng.integers(0, N_CLS, size=n).astype(np.int64)
    return x, y


def build(torch):
    """The program. ``torch`` is the real torch or minitorch_jax."""
    nn, F = torch.nn, torch.nn.functional
    functional_call, grad, vmap = torch.func.functional_call, torch.func.grad, torch.func.vmap
    jacrev, hessian, stack_module_state = torch.func.jacrev, torch.func.hessian, torch.func.stack_module_state

    class STEQuantize(torch.autograd.Function):
        """Round in the forward pass, identity gradient in the backward pass."""

        @staticmethod
        def forward(ctx, x, scale):
            return torch.round(x * scale) / scale

        @staticmethod
        def backward(ctx, g):
            return g, None

    class ClampGrad(torch.autograd.Function):
        """Clamp whose backward lets gradient through only inside [lo, hi], scaled by 0.5 outside."""

        @staticmethod
        def forward(ctx, x, lo, hi):
            ctx.save_for_backward(x)
            ctx.lo, ctx.hi = lo, hi
            return x.clamp(lo, hi)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            inside = (x >= ctx.lo) & (x <= ctx.hi)
            return torch.where(inside, g, g * 0.5), None, None

    class Net(nn.Module):
        def __init__(self, d_in=D_IN, d=D, n_cls=N_CLS):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(d_in, d), nn.ReLU(), nn.Linear(d, d))
            self.norm = nn.LayerNorm(d)
            self.act = nn.Tanh()
            self.head = nn.Linear(d, n_cls)

        def forward(self, x):
            h = self.encoder(x)
            h = ClampGrad.apply(h, -1.0, 1.0)
            h = STEQuantize.apply(self.act(self.norm(h)), 8.0)
            return self.head(h)

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(D_IN, 4)
            self.fc2 = nn.Linear(4, N_CLS)

        def forward(self, x):
            return self.fc2(torch.tanh(self.fc1(x)))

    def attach_feature_hooks(model, names):
        feats, handles = {}, []
        modules = dict(model.named_modules())
        for name in names:
            def hook(mod, inp, out, name=name):
                feats[name] = out.detach()
            handles.append(modules[name].register_forward_hook(hook))
        return feats, handles

    def attach_backward_hooks(model):
        grads = {}

        def bhook(mod, grad_input, grad_output):
            grads["head_in"] = grad_input[0].detach().clone()
            grads["head_out"] = grad_output[0].detach().clone()

        handles = [model.head.register_full_backward_hook(bhook),
                   # halve the gradient flowing out of the norm layer into the encoder
                   model.norm.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,)),
                   # per-parameter gradient clamp
                   model.encoder[0].weight.register_hook(lambda g: g.clamp(-0.05, 0.05)),
                   # rescale the head's input
                   model.head.register_forward_pre_hook(lambda mod, args: (args[0] * 1.5,))]
        return grads, handles

    def train_step(model, opt, x, y, grad_scale=None):
        model.train()
        opt.zero_grad()
        logits = model(x)
        if grad_scale is not None:
            logits.register_hook(lambda g: g * grad_scale)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        opt.step()
        return loss.detach()

    def make_optim(model):
        return torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)

    def freeze(module):
        for p in module.parameters():
            p.requires_grad_(False)

    def swap_activation(model, old_cls, new_factory):
        """Model surgery: replace every ``old_cls`` submodule via setattr on its parent."""
        for _name, mod in list(model.named_modules()):
            for child_name, child in list(mod.named_children()):
                if isinstance(child, old_cls):
                    setattr(mod, child_name, new_factory())
        return model

    def per_sample_grads(model, x, y):
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss_fn(params, xi, yi):
            out = functional_call(model, (params, buffers), (xi.unsqueeze(0),))
            return F.cross_entropy(out, yi.unsqueeze(0))

        return vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, x, y)

    def loop_grads(model, x, y):
        out = {k: [] for k, _ in model.named_parameters()}
        for i in range(x.shape[0]):
            model.zero_grad()
            F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
            for k, p in model.named_parameters():
                out[k].append(p.grad.detach().clone())
        return {k: torch.stack(v) for k, v in out.items()}

    def small_fn(w):
        return (torch.sin(w) * w.pow(2)).sum() + (w[0] * w[1])

    def vec_fn(w):
        return torch.stack([w.sum() ** 2, (w * w).prod(), torch.exp(w).mean()])

    def ensemble_predict(models, x):
        params, buffers = stack_module_state(models)
        base = models[0]

        def fmodel(p, b, xx):
            return functional_call(base, (p, b), (xx,))

        return vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)

    def make_ensemble(models):
        params, buffers = stack_module_state(models)
        base = copy.deepcopy(models[0])
        opt = torch.optim.Adam(params.values(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            out = vmap(lambda p, b, xx: functional_call(base, (p, b), (xx,)), in_dims=(0, 0, None))(
                params, buffers, x)
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.repeat(len(models)))
            loss.backward()
            opt.step()
            return loss.item()

        return params, step

    return types.SimpleNamespace(**locals())


# ----------------------------------------------------------------------------- helpers

def _np(t):
    return np.asarray(t.detach().cpu().numpy()) if hasattr(t, "cpu") else np.asarray(t.detach().numpy())


def _close(m, t, rtol=1e-4, atol=1e-5, what=""):
    np.testing.assert_allclose(_np(m), _np(t), rtol=rtol, atol=atol, err_msg=what)


def _pair(cls="Net"):
    T, M = build(torch), build(mt)
    torch.manual_seed(0)
    t_model = getattr(T, cls)()
    m_model = copy_state(getattr(M, cls)(), t_model)
    return T, M, t_model, m_model


def _data(lib, x, y):
    return lib.from_numpy(x.copy()), lib.from_numpy(y.copy())


# ----------------------------------------------------------------------------- tests

def test_training_with_hooks_and_custom_functions():
    T, M, t_model, m_model = _pair()
    x, y = make_data()
    tx, ty = _data(torch, x, y)
    mx, my = _data(mt, x, y)
    t_feats, t_h = T.attach_feature_hooks(t_model, ["encoder.0", "encoder", "norm"])
    m_feats, m_h = M.attach_feature_hooks(m_model, ["encoder.0", "encoder", "norm"])
    t_grads, t_bh = T.attach_backward_hooks(t_model)
    m_grads, m_bh = M.attach_backward_hooks(m_model)
    t_opt, m_opt = T.make_optim(t_model), M.make_optim(m_model)
    for step in range(4):
        scale = 2.0 if step % 2 else None
        tl = T.train_step(t_model, t_opt, tx, ty, grad_scale=scale)
        ml = M.train_step(m_model, m_opt, mx, my, grad_scale=scale)
        np.testing.assert_allclose(ml.item(), tl.item(), rtol=1e-4, err_msg=f"step {step}")
        assert list(m_feats) == list(t_feats)
        for k in t_feats:
            _close(m_feats[k], t_feats[k], what=f"feature {k}")
        for k in ("head_in", "head_out"):
            _close(m_grads[k], t_grads[k], what=f"backward hook {k} step {step}")
    for (n, p), (tn, tp) in zip(m_model.named_parameters(), t_model.named_parameters()):
        assert n == tn
        _close(p, tp, what=n)
    for h in t_h + t_bh:
        h.remove()
    for h in m_h + m_bh:
        h.remove()
    t_feats.clear()
    m_feats.clear()
    with torch.no_grad():
        t_out = t_model.eval()(tx)
    with mt.no_grad():
        m_out = m_model.eval()(mx)
    assert not m_feats and not t_feats
    _close(m_out, t_out)
    assert not m_out.requires_grad
    _close(torch.nn.utils.parameters_to_vector(t_model.parameters()),
           mt.nn.utils.parameters_to_vector(m_model.parameters()))


def test_custom_function_gradients():
    T, M = build(torch), build(mt)
    v = np.array([-2.0, -0.5, 0.3, 1.7], np.float32)
    res = {}
    for lib, P in ((torch, T), (mt, M)):
        x = lib.tensor(v, requires_grad=True)
        y = P.ClampGrad.apply(x, -1.0, 1.0)
        z = P.STEQuantize.apply(x, 2.0)
        (y * 3 + z.pow(2)).sum().backward()
        res[lib.__name__] = (y, z, x.grad, type(y.grad_fn).__name__)
    (my, mz, mg, mname), (ty, tz, tg, tname) = res["minitorch_jax"], res["torch"]
    _close(my, ty)
    _close(mz, tz)
    _close(mg, tg)
    assert mname == tname


def test_per_sample_grads_and_functional_call():
    T, M, t_model, m_model = _pair("Small")
    x, y = make_data(4, seed=1)
    tx, ty = _data(torch, x, y)
    mx, my = _data(mt, x, y)
    t_ps = T.per_sample_grads(t_model, tx, ty)
    m_ps = M.per_sample_grads(m_model, mx, my)
    m_loop = M.loop_grads(m_model, mx, my)
    assert list(m_ps) == list(t_ps)
    for k in t_ps:
        assert tuple(m_ps[k].shape) == tuple(t_ps[k].shape)
        _close(m_ps[k], t_ps[k], what=k)
        _close(m_ps[k], m_loop[k], what=f"loop {k}")
    # functional_call with replaced parameters does not touch the module's own weights
    t_new = {k: v * 0.5 for k, v in t_model.named_parameters()}
    m_new = {k: v * 0.5 for k, v in m_model.named_parameters()}
    t_out = torch.func.functional_call(t_model, t_new, (tx,))
    m_out = mt.func.functional_call(m_model, m_new, (mx,))
    _close(m_out, t_out)
    _close(m_model(mx), t_model(tx))
    # gradient flows back through functional_call into the dict's tensors (and from them to the weights)
    t_model.zero_grad()
    m_model.zero_grad()
    t_out.sum().backward()
    m_out.sum().backward()
    _close(m_model.fc1.weight.grad, t_model.fc1.weight.grad)


def test_jacrev_hessian():
    T, M = build(torch), build(mt)
    w = np.array([0.3, -1.2, 0.7], np.float32)
    tw, mw = torch.tensor(w), mt.tensor(w)
    _close(M.jacrev(M.vec_fn)(mw), T.jacrev(T.vec_fn)(tw))
    _close(M.hessian(M.small_fn)(mw), T.hessian(T.small_fn)(tw))


def test_ensemble_stack_module_state():
    T, M = build(torch), build(mt)
    torch.manual_seed(1)
    t_models = [T.Small() for _ in range(3)]
    m_models = [copy_state(M.Small(), tm) for tm in t_models]
    x, _ = make_data(4, seed=2)
    tx, mx = torch.from_numpy(x), mt.from_numpy(x)
    t_out = T.ensemble_predict(t_models, tx)
    m_out = M.ensemble_predict(m_models, mx)
    assert tuple(m_out.shape) == tuple(t_out.shape) == (3, 4, N_CLS)
    _close(m_out, t_out)
    t_params, t_step = T.make_ensemble(t_models)
    m_params, m_step = M.make_ensemble(m_models)
    assert list(m_params) == list(t_params)
    for k in t_params:
        assert m_params[k].requires_grad == t_params[k].requires_grad
        _close(m_params[k], t_params[k])
    y = np.array([0, 2, 1, 1], np.int64)
    for i in range(2):
        np.testing.assert_allclose(m_step(mx, mt.from_numpy(y)), t_step(tx, torch.from_numpy(y)), rtol=1e-4,
                                   err_msg=f"ensemble step {i}")
    for k in t_params:
        _close(m_params[k], t_params[k], what=f"ensemble {k}")
    for m_model, t_model in zip(m_models, t_models):   # the stacked copies are independent
        _close(m_model.fc1.weight, t_model.fc1.weight)


def test_surgery_and_freezing():
    T, M, t_model, m_model = _pair()
    for P, model in ((T, t_model), (M, m_model)):
        model.set_submodule("encoder.1", P.nn.GELU())
        P.swap_activation(model, P.nn.Tanh, lambda P=P: P.nn.Sigmoid())
        P.freeze(model.encoder)
    assert [type(m).__name__ for m in m_model.modules()] == [type(m).__name__ for m in t_model.modules()]
    assert [(n, p.requires_grad) for n, p in m_model.named_parameters()] == \
        [(n, p.requires_grad) for n, p in t_model.named_parameters()]
    t_opt, m_opt = T.make_optim(t_model), M.make_optim(m_model)
    assert len(m_opt.param_groups[0]["params"]) == len(t_opt.param_groups[0]["params"]) == 4
    x, y = make_data()
    tx, ty = _data(torch, x, y)
    mx, my = _data(mt, x, y)
    frozen = _np(m_model.encoder[0].weight).copy()
    for step in range(3):
        tl = T.train_step(t_model, t_opt, tx, ty)
        ml = M.train_step(m_model, m_opt, mx, my)
        np.testing.assert_allclose(ml.item(), tl.item(), rtol=1e-4, err_msg=f"step {step}")
    np.testing.assert_array_equal(_np(m_model.encoder[0].weight), frozen)
    assert m_model.encoder[0].weight.grad is None and t_model.encoder[0].weight.grad is None
    for (n, p), (_, tp) in zip(m_model.named_parameters(), t_model.named_parameters()):
        _close(p, tp, what=n)


def test_jit_train_step_matches_eager():
    _, M, _, m_model = _pair()
    _, M2, _, m_model2 = _pair()
    x, y = make_data()
    mx, my = _data(mt, x, y)
    opt, opt2 = M.make_optim(m_model), M2.make_optim(m_model2)

    def step(xx, yy):
        return M2.train_step(m_model2, opt2, xx, yy)

    jstep = mt.jit(step)
    for i in range(4):
        el = M.train_step(m_model, opt, mx, my)
        jl = jstep(mx, my)
        np.testing.assert_allclose(jl.item(), el.item(), rtol=1e-5, err_msg=f"step {i}")
    assert jstep.num_compiles == 1
    for (n, p), (_, q) in zip(m_model.named_parameters(), m_model2.named_parameters()):
        _close(q, p, what=n)


def test_state_dict_round_trip(tmp_path):
    T, M, t_model, m_model = _pair()
    x, _ = make_data()
    mt.save(m_model.state_dict(), tmp_path / "m.pt")
    fresh = M.Net()
    fresh.load_state_dict(mt.load(tmp_path / "m.pt"))
    mx = mt.from_numpy(x)
    _close(fresh(mx), m_model(mx))
    t_fresh = T.Net()
    t_fresh.load_state_dict(torch.load(tmp_path / "m.pt"))
    _close(t_fresh(torch.from_numpy(x)), m_model(mx))


def _err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return ei.value


def test_bad_inputs():
    T, M, t_model, m_model = _pair("Small")
    x = np.zeros((2, D_IN + 1), np.float32)
    te = _err(lambda: t_model(torch.from_numpy(x)))
    me = _err(lambda: m_model(mt.from_numpy(x)))
    assert type(me) is type(te), (me, te)
    assert "Linear" in str(me) and "[2, 6]" in str(me), str(me)
    # vmap over a dim of mismatched sizes
    a, b = np.zeros((3, 2), np.float32), np.zeros((4, 2), np.float32)
    te = _err(lambda: torch.func.vmap(torch.add)(torch.from_numpy(a), torch.from_numpy(b)))
    me = _err(lambda: mt.func.vmap(mt.add)(mt.from_numpy(a), mt.from_numpy(b)))
    assert type(me) is type(te), (me, te)
    # custom Function backward returning the wrong number of gradients
    for lib in (torch, mt):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, g
        xx = lib.ones(3, requires_grad=True)
        err = _err(lambda Bad=Bad, xx=xx: Bad.apply(xx).sum().backward())
        if lib is torch:
            te = err
        else:
            me = err
    assert type(me) is type(te), (me, te)


# ----------------------------------------------------------------------------- regressions for library fixes

def test_func_transforms_keep_dict_order():
    """vmap(grad(f)) over a params dict iterates like the dict given (JAX rebuilt dicts sorted)."""
    params = {"w": mt.ones(2, 3), "a": mt.ones(2)}
    seen = []

    def loss(p, x):
        seen.append(list(p))
        return ((x @ p["w"].T + p["a"]) ** 2).sum()

    g = mt.func.grad(loss)(params, mt.ones(3))
    assert list(g) == ["w", "a"]
    per = mt.func.vmap(mt.func.grad(loss), in_dims=(None, 0))(params, mt.ones(4, 3))
    assert list(per) == ["w", "a"] and seen[-1] == ["w", "a"]
    assert list(mt.func.vmap(lambda x: {"z": x, "b": x})(mt.ones(3))) == ["z", "b"]
    jac = mt.func.jacrev(lambda d: {"z": d["w"] * 2, "a": d["a"].sum()})({"w": mt.ones(2), "a": mt.ones(2)})
    assert list(jac) == ["z", "a"] and list(jac["z"]) == ["w", "a"]


def test_func_error_messages_match_torch():
    for lib in (torch, mt):
        m = lib.nn.Linear(2, 2)
        with pytest.raises(RuntimeError) as ei:
            lib.func.functional_call(m, {"x": lib.ones(1)}, (lib.ones(2),), strict=True)
        w, b = lib.ones(2, 2), lib.ones(2)
        with pytest.raises(ValueError) as ej:
            lib.func.functional_call(m, ({"weight": w, "bias": b}, {"bias": b, "weight": w}), (lib.ones(2),))

        def ident(t):
            return t

        with pytest.raises(ValueError) as ek:
            lib.func.vmap(ident, in_dims=(1,))(lib.ones(2))
        if lib is torch:
            expect = (str(ei.value), str(ej.value), str(ek.value))
    assert (str(ei.value), str(ej.value), str(ek.value)) == expect


def test_set_submodule_matches_torch():
    """Module.set_submodule was missing; its errors follow torch's."""
    res = {}
    for lib in (torch, mt):
        nn = lib.nn
        m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
        m.set_submodule("1.0", nn.Tanh())
        m.set_submodule("1.extra", nn.Identity())
        errs = []
        for args in (("", nn.ReLU()), ("0", 3), ("1.nope", nn.ReLU(), True), ("0.weight", nn.ReLU()),
                     ("2.x", nn.ReLU())):
            with pytest.raises((ValueError, AttributeError)) as ei:
                m.set_submodule(*args)
            errs.append((type(ei.value).__name__, str(ei.value)))
        res[lib.__name__] = ([type(c).__name__ for c in m.modules()], errs)
    assert res["minitorch_jax"] == res["torch"]
