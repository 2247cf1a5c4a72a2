"""mt.optim's torch API around the update rules: hyperparameters changed mid-run (no recompile),
closure, zero_grad, state_dict round trips and torch interchange, the optax side (rules as
GradientTransformations, the ``Optax`` wrapper), steps inside ``jax.jit``, and torch's errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import minitorch_jax as mt
from minitorch_jax._tensor import _wrap
from minitorch_jax.optim._rule import group_step_fn, static_zeros
from tests.oracle import torch
from tests.test_optim import assert_close, build, compare_state, make_problem, set_grads, to_np


def _cache_size(opt, group=0):
    rule, g = opt._rule, opt.param_groups[group]
    return group_step_fn(rule, rule.static(g), static_zeros(rule, rule.hyper(g)))._cache_size()


# ----- hyperparameters are inputs, not constants ----------------------------------------------
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("RMSprop", dict(centered=True)), ("RAdam", dict(lr=0.01))])
def test_hyperparameters_changed_mid_run_take_effect_without_recompiling(name, kw):
    init, grads = make_problem(np.float32, steps=30)
    mps, mo = build("mt", name, kw, {}, init)
    tps, to = build("torch", name, kw, {}, init)
    sizes = []
    for i, gs in enumerate(grads):
        if i == 10:
            for o in (mo, to):
                o.param_groups[0]["lr"] = 0.5 * o.param_groups[0]["lr"]
                o.param_groups[1]["weight_decay"] = 0.1
        if i == 20:
            for o in (mo, to):
                o.param_groups[0]["lr"] = 0.003
                if "betas" in o.param_groups[1]:
                    o.param_groups[1]["betas"] = (0.8, 0.95)
                if "momentum" in o.param_groups[0] and o.param_groups[0]["momentum"]:
                    o.param_groups[0]["momentum"] = 0.5
        set_grads(mps, gs, "mt")
        set_grads(tps, gs, "torch")
        mo.step()
        to.step()
        sizes.append(_cache_size(mo))
    for m, t in zip(mps, tps):
        assert_close(m, t)
    # compiled once for the first step (state created inside) and once for the steady state
    assert sizes[1] == sizes[-1], sizes


@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam",
                                  "Adadelta", "ASGD"])
def test_zero_weight_decay_leaves_the_term_out(name):
    # torch skips ``grad + weight_decay * param`` when weight_decay == 0: an infinite parameter stays
    # infinite instead of turning NaN through 0 * inf (and the compiled update reads the parameter once)
    init = [np.array([np.inf, 1.0, -2.0], np.float32)]
    mp, tp = mt.nn.Parameter(mt.tensor(init[0])), torch.nn.Parameter(torch.tensor(init[0]))
    mo, to = getattr(mt.optim, name)([mp], lr=0.1), getattr(torch.optim, name)([tp], lr=0.1)
    for _ in range(2):
        mp.grad, tp.grad = mt.tensor([0.5, -1.0, 2.0]), torch.tensor([0.5, -1.0, 2.0])
        mo.step()
        to.step()
    np.testing.assert_allclose(to_np(mp), to_np(tp), rtol=1e-5)
    assert np.isinf(to_np(mp)[0])


def test_lr_as_tensor():
    p = mt.nn.Parameter(mt.ones(3))
    opt = mt.optim.Adam([p], lr=mt.tensor(0.1))
    p.grad = mt.ones(3)
    opt.step()
    np.testing.assert_allclose(to_np(p), 0.9, rtol=1e-6)


ALL = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True), "Adam": dict(amsgrad=True), "AdamW": {},
       "RMSprop": dict(centered=True, momentum=0.9), "Adagrad": {}, "Adadelta": {}, "Adamax": {},
       "NAdam": {}, "RAdam": {}}


@pytest.mark.parametrize("name", list(ALL))
def test_float32_update_has_no_float64_and_is_one_call_per_group(name, monkeypatch):
    ps = [mt.nn.Parameter(mt.ones(3)), mt.nn.Parameter(mt.ones(2, 2))]
    opt = getattr(mt.optim, name)(ps, **ALL[name])
    for p in ps:
        p.grad = mt.ones_like(p)
    opt.step()
    rule = opt._rule
    group = opt.param_groups[0]
    fn = group_step_fn(rule, rule.static(group))
    sts = [{k: v._data for k, v in opt.state[p].items()} or None for p in ps]
    hyper = np.zeros(len(rule.names), np.float32)
    jaxpr = jax.make_jaxpr(fn)([p._data for p in ps], [p.grad._data for p in ps], sts, hyper)
    assert "f64" not in str(jaxpr)
    # the eager step is a single dispatch of the (donating) compiled update
    import minitorch_jax.optim._rule as rule_mod
    donating = rule_mod.group_step_donating_fn(rule, rule.static(group))
    moved = [s or {} for s in sts]
    jaxpr = jax.make_jaxpr(donating)([p._data for p in ps], [p.grad._data for p in ps], moved,
                                     [{} for _ in ps], hyper)
    assert "f64" not in str(jaxpr)
    calls = []

    def counting(factory):
        def make(*a):
            f = factory(*a)
            return lambda *args: (calls.append(1), f(*args))[1]
        return make

    monkeypatch.setattr(rule_mod, "group_step_fn", counting(group_step_fn))
    monkeypatch.setattr(rule_mod, "group_step_donating_fn", counting(rule_mod.group_step_donating_fn))
    opt.step()
    assert len(calls) == 1


# ----- step / closure / zero_grad ------------------------------------------------------------
def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = mt.nn.Parameter(mt.tensor([1.0, -2.0]))
    opt = mt.optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        calls.append(mt.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert float(loss) == 5.0
    np.testing.assert_allclose(to_np(w), [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None


def test_zero_grad():
    w = mt.nn.Parameter(mt.ones(3))
    opt = mt.optim.SGD([w], lr=0.1)
    w.grad = mt.ones(3)
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and to_np(w.grad).tolist() == [0, 0, 0]
    opt.zero_grad()
    assert w.grad is None


def test_step_rebinds_params_and_state_tensors_in_place():
    w = mt.nn.Parameter(mt.ones(3))
    opt = mt.optim.Adam([w], lr=0.1)
    w.grad = mt.ones(3)
    opt.step()
    v, exp_avg = w._version, opt.state[w]["exp_avg"]
    opt.step()
    assert w._version == v + 1
    assert opt.state[w]["exp_avg"] is exp_avg  # the same Tensor object, new array
    assert isinstance(opt.state[w]["step"], mt.Tensor) and float(opt.state[w]["step"]) == 2.0


def test_step_inside_jax_jit_with_traced_state_and_lr():
    init, grads = make_problem(np.float32, steps=4)
    kw = dict(lr=0.01, amsgrad=True)
    mps, mo = build("mt", "Adam", kw, {}, init)
    rps, ro = build("mt", "Adam", kw, {}, init)
    for ps in (mps, rps):
        set_grads(ps, grads[0], "mt")
    mo.step()
    ro.step()
    keys = [(p, k) for p in mps for k in sorted(mo.state[p])]

    @jax.jit
    def train_step(pa, ga, sa, lr):
        for p, a, g in zip(mps, pa, ga):
            p._data = a
            p.grad = _wrap(g)
        for (p, k), a in zip(keys, sa):
            mo.state[p][k]._data = a
        mo.param_groups[0]["lr"] = lr
        mo.step()
        return [p._data for p in mps], [mo.state[p][k]._data for p, k in keys]

    pa, sa = [p._data for p in mps], [mo.state[p][k]._data for p, k in keys]
    for i, lr in enumerate([0.01, 0.02, 0.005]):
        pa, sa = train_step(pa, [jnp.asarray(g) for g in grads[i + 1]], sa, jnp.float32(lr))
        ro.param_groups[0]["lr"] = lr
        set_grads(rps, grads[i + 1], "mt")
        ro.step()
    assert train_step._cache_size() == 1
    for a, r in zip(pa, rps):
        np.testing.assert_allclose(np.asarray(a), to_np(r), rtol=1e-6)


# ----- state_dict -----------------------------------------------------------------------------
def _mt_to_torch(sd):
    state = {i: {k: torch.tensor(to_np(v)) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


def _torch_to_mt(sd):
    state = {i: {k: mt.tensor(v.numpy()) for k, v in s.items()} for i, s in sd["state"].items()}
    return {"state": state, "param_groups": sd["param_groups"]}


INTERCHANGE = [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
               ("RMSprop", dict(centered=True, momentum=0.5)), ("NAdam", {}),
               ("Adagrad", dict(lr_decay=0.01)),
               ("Adadelta", {}), ("Adamax", {}), ("RAdam", {}), ("AdamW", {}),
               ("Rprop", dict(lr=0.02)), ("ASGD", dict(t0=4, lambd=0.01)),
               ("Adafactor", dict(weight_decay=0.1))]


@pytest.mark.parametrize("name,kw", INTERCHANGE, ids=[n for n, _ in INTERCHANGE])
def test_state_dict_interchange_with_torch(name, kw):
    init, grads = make_problem(np.float32, steps=20)
    kw1 = dict(lr=0.002)
    # torch runs 10 steps, its state dict goes into a fresh mt optimizer (and vice versa)
    tps, to = build("torch", name, kw, kw1, init)
    mps, mo = build("mt", name, kw, kw1, init)
    for gs in grads[:10]:
        set_grads(tps, gs, "torch")
        set_grads(mps, gs, "mt")
        to.step()
        mo.step()
    init_t, init_m = [to_np(p) for p in tps], [to_np(p) for p in mps]
    mps2, mo2 = build("mt", name, {**kw, "lr": 123.0}, {}, init_t)
    mo2.load_state_dict(_torch_to_mt(to.state_dict()))
    tps2, to2 = build("torch", name, {**kw, "lr": 123.0}, {}, init_m)
    to2.load_state_dict(_mt_to_torch(mo.state_dict()))
    assert mo2.param_groups[1]["lr"] == 0.002 and mo2.param_groups[0]["params"] == mps2[:2]
    for gs in grads[10:]:
        for ps, lib in ((tps, "torch"), (mps, "mt"), (mps2, "mt"), (tps2, "torch")):
            set_grads(ps, gs, lib)
        for o in (to, mo, mo2, to2):
            o.step()
    for t, m2, m, t2 in zip(tps, mps2, mps, tps2):
        assert_close(m2, t)
        assert_close(t2, m)
        assert_close(m, t)
    compare_state(mo2, to2, 1e-4)


def test_state_dict_round_trip_and_layout():
    init, grads = make_problem(np.float32, steps=6)
    mps, mo = build("mt", "Adam", dict(lr=0.01), dict(lr=0.1), init)
    for gs in grads[:3]:
        set_grads(mps, gs, "mt")
        mo.step()
    sd = mo.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    mps2, mo2 = build("mt", "Adam", dict(lr=0.5), {}, [to_np(p) for p in mps])
    mo2.load_state_dict(sd)
    assert mo2.param_groups[1]["lr"] == 0.1
    assert mo2.state[mps2[0]]["exp_avg"] is not mo.state[mps[0]]["exp_avg"]
    for gs in grads[3:]:
        set_grads(mps, gs, "mt")
        set_grads(mps2, gs, "mt")
        mo.step()
        mo2.step()
    for a, b in zip(mps, mps2):
        np.testing.assert_array_equal(to_np(a), to_np(b))


def test_load_state_dict_errors():
    p, q = mt.nn.Parameter(mt.ones(2)), mt.nn.Parameter(mt.ones(2))
    a = mt.optim.SGD([p, q], lr=0.1)
    b = mt.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
    c = mt.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        a.load_state_dict(b.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size"):
        c.load_state_dict(a.state_dict())


# ----- the optax side ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)), ("RMSprop", dict(centered=True)),
                                     ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True))])
def test_rule_as_optax_transformation_matches_the_optimizer(name, kw):
    init, grads = make_problem(np.float32, steps=8)
    ps = [mt.nn.Parameter(mt.tensor(a)) for a in init]
    opt = getattr(mt.optim, name)(ps, **kw)
    tx = opt.transformation()
    params = [jnp.asarray(a) for a in init]
    state = tx.init(params)
    step = jax.jit(tx.update)
    for gs in grads:
        set_grads(ps, gs, "mt")
        opt.step()
        ups, state = step([jnp.asarray(g) for g in gs], state, params)
        params = optax.apply_updates(params, ups)
    for p, a in zip(ps, params):
        np.testing.assert_allclose(to_np(p), np.asarray(a), rtol=1e-5, atol=1e-6)


def test_optax_wrapper_equals_optax_by_hand():
    init, grads = make_problem(np.float32, steps=10)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-2, weight_decay=0.1))
    ps = [mt.nn.Parameter(mt.tensor(a)) for a in init]
    opt = mt.optim.Optax(ps, tx)
    params = [jnp.asarray(a) for a in init]
    state = tx.init(params)
    for gs in grads:
        set_grads(ps, gs, "mt")
        opt.step()
        ups, state = tx.update([jnp.asarray(g) for g in gs], state, params)
        params = optax.apply_updates(params, ups)
    for p, a in zip(ps, params):
        np.testing.assert_allclose(to_np(p), np.asarray(a), rtol=1e-6, atol=1e-7)
    leaves = jax.tree_util.tree_leaves(opt.state["optax"], is_leaf=lambda x: isinstance(x, mt.Tensor))
    assert leaves and all(isinstance(t, mt.Tensor) for t in leaves)
    # its state dict round-trips
    ps2 = [mt.nn.Parameter(mt.tensor(to_np(p))) for p in ps]
    opt2 = mt.optim.Optax(ps2, tx)
    opt2.load_state_dict(opt.state_dict())
    for o, qs in ((opt, ps), (opt2, ps2)):
        set_grads(qs, grads[0], "mt")
        o.step()
    for a, b in zip(ps, ps2):
        np.testing.assert_array_equal(to_np(a), to_np(b))


def test_optax_wrapper_leaves_params_without_grad_unchanged():
    ps = [mt.nn.Parameter(mt.ones(2)), mt.nn.Parameter(mt.ones(3))]
    opt = mt.optim.Optax(ps, optax.sgd(0.1))
    ps[0].grad = mt.ones(2)
    v = ps[1]._version
    opt.step()
    np.testing.assert_allclose(to_np(ps[0]), 0.9, rtol=1e-6)
    np.testing.assert_array_equal(to_np(ps[1]), 1.0)
    assert ps[1]._version == v


def test_optax_wrapper_with_lr_in_param_groups():
    init, grads = make_problem(np.float32, steps=6)
    ps = [mt.nn.Parameter(mt.tensor(a)) for a in init]
    opt = mt.optim.Optax([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}], optax.scale_by_adam(), lr=0.01)
    ref = mt.optim.Adam([{"params": [mt.nn.Parameter(mt.tensor(a)) for a in init[:2]]},
                         {"params": [mt.nn.Parameter(mt.tensor(init[2]))], "lr": 0.1}], lr=0.01, eps=1e-8)
    rps = ref.param_groups[0]["params"] + ref.param_groups[1]["params"]
    for i, gs in enumerate(grads):
        if i == 3:
            opt.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 0.05
        set_grads(ps, gs, "mt")
        set_grads(rps, gs, "mt")
        opt.step()
        ref.step()
    for p, r in zip(ps, rps):
        np.testing.assert_allclose(to_np(p), to_np(r), rtol=1e-5, atol=1e-6)
    assert "lr: 0.05" in repr(opt)


# ----- errors (torch's kinds and messages) -------------------------------------------------------
def test_errors_like_torch():
    p = mt.nn.Parameter(mt.ones(2))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        mt.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        mt.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        mt.optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        mt.optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        mt.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        mt.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    opt = mt.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": p})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        mt.optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -1.0$"):
        mt.optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        mt.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value: -1e-08"):
        mt.optim.RAdam([p], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        mt.optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -1"):
        mt.optim.AdamW([p], weight_decay=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        mt.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid alpha value: -0.1"):
        mt.optim.RMSprop([p], alpha=-0.1)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        mt.optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        mt.optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -1"):
        mt.optim.NAdam([p], momentum_decay=-1)
    with pytest.raises(TypeError, match="GradientTransformation"):
        mt.optim.Optax([p], "adam")


def test_error_messages_equal_torch():
    for make in (lambda o, p: o.SGD([p], lr=-1.0), lambda o, p: o.Adam([p], betas=(1.2, 0.9)),
                 lambda o, p: o.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True),
                 lambda o, p: o.RMSprop([p], eps=-1.0),
                 lambda o, p: o.Adagrad([p], initial_accumulator_value=-1)):
        with pytest.raises(ValueError) as te:
            make(torch.optim, torch.nn.Parameter(torch.ones(2)))
        with pytest.raises(ValueError) as me:
            make(mt.optim, mt.nn.Parameter(mt.ones(2)))
        assert str(me.value) == str(te.value)


def test_step_hooks_and_custom_subclass():
    class PlainSGD(mt.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        with mt.no_grad():
                            p.sub_(p.grad * group["lr"])

    p = mt.nn.Parameter(mt.ones(2))
    opt = PlainSGD([p])
    seen = []
    h = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    p.grad = mt.ones(2)
    opt.step()
    h.remove()
    opt.step()
    assert seen == ["pre", "post", "post"]
    np.testing.assert_allclose(to_np(p), 0.8, rtol=1e-6)


# ----- donation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_eager_step_updates_in_place_and_keeps_shared_arrays_valid(name):
    """The eager step donates old parameter/state memory (XLA writes the new values into it), except
    arrays something else still references: those stay valid and unchanged."""
    import copy

    mt.manual_seed(0)
    lin = mt.nn.Linear(16, 8)
    opt = getattr(mt.optim, name)(lin.parameters(), lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    x = mt.randn(4, 16)

    def step():
        opt.zero_grad()
        lin(x).pow(2).mean().backward()
        opt.step()

    step()
    step()
    key = "momentum_buffer" if name == "SGD" else "exp_avg"
    w_ptr = lin.weight._data.unsafe_buffer_pointer()
    m_ptr = opt.state[lin.weight][key]._data.unsafe_buffer_pointer()
    step()
    assert lin.weight._data.unsafe_buffer_pointer() == w_ptr  # updated in place
    assert opt.state[lin.weight][key]._data.unsafe_buffer_pointer() == m_ptr
    # holders of the old arrays: a state_dict snapshot, an optimizer snapshot, a view, .data, a raw array
    snap = copy.deepcopy(lin.state_dict())
    opt_snap = copy.deepcopy(opt.state_dict())
    w_before, m_before = snap["weight"].numpy().copy(), opt_snap["state"][0][key].numpy().copy()
    row = lin.weight[:2]
    alias = lin.weight.data
    raw = lin.bias.jax()
    raw_before = np.asarray(raw).copy()
    step()
    np.testing.assert_array_equal(snap["weight"].numpy(), w_before)
    np.testing.assert_array_equal(opt_snap["state"][0][key].numpy(), m_before)
    np.testing.assert_array_equal(np.asarray(raw), raw_before)
    assert not np.array_equal(lin.weight.detach().numpy(), w_before)
    np.testing.assert_array_equal(row.detach().numpy(), lin.weight.detach().numpy()[:2])
    np.testing.assert_array_equal(alias.numpy(), lin.weight.detach().numpy())
