"""mt.optim.Muon against torch.optim.Muon: multi-step parity (float32 / float64, two parameter groups),
hyperparameter changes without recompiling, state_dict interchange both ways, torch's errors, and a
training step compiled by ``mt.jit`` equal to eager."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.optim.muon import newton_schulz
from tests.oracle import torch
from tests.test_optim import assert_close, compare_state, set_grads, to_np
from tests.test_optim_api import _cache_size, _mt_to_torch, _torch_to_mt

SHAPES = [(4, 6), (6, 4), (3, 3)]  # group 0: the first two, group 1: the last
STEPS = 8

# every other test below reuses one of these configurations (the compiled updates are cached)
CASES = [
    (dict(lr=0.05), dict(lr=0.02, weight_decay=0.0)),
    (dict(lr=0.05, nesterov=False, adjust_lr_fn="match_rms_adamw"), dict(momentum=0.5, lr=0.02)),
    (dict(lr=0.03, momentum=0.0, weight_decay=0.01, ns_coefficients=(2.0, -1.5, 0.5), ns_steps=3),
     dict(nesterov=False, eps=1e-3, adjust_lr_fn="original")),
]


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in kw.items()) for kw, _ in cases]


def make_problem(dtype, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


def build(lib, kw, kw1, init):
    ns = mt if lib == "mt" else torch
    ps = [ns.nn.Parameter(ns.tensor(a)) for a in init]
    return ps, ns.optim.Muon([{"params": ps[:2]}, {"params": ps[2:], **kw1}], **kw)


def run_both(kw, kw1, dtype, steps=STEPS):
    init, grads = make_problem(dtype, steps)
    mps, mo = build("mt", kw, kw1, init)
    tps, to = build("torch", kw, kw1, init)
    for gs in grads:
        set_grads(mps, gs, "mt")
        set_grads(tps, gs, "torch")
        mo.step()
        to.step()
    return mps, mo, tps, to


@pytest.mark.parametrize("kw,kw1", CASES, ids=_ids(CASES))
def test_parity_float32(kw, kw1):
    mps, mo, tps, to = run_both(kw, kw1, np.float32)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float32
        assert_close(m, t, 2e-5, f"param {i}")
    compare_state(mo, to, 2e-5)


@pytest.mark.parametrize("kw,kw1", CASES[1:2], ids=_ids(CASES[1:2]))
def test_parity_float64(kw, kw1):
    # the Newton-Schulz iteration runs in bfloat16 for float64 parameters too (as torch)
    mps, mo, tps, to = run_both(kw, kw1, np.float64)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float64
        assert_close(m, t, 1e-9, f"param {i}")
    compare_state(mo, to, 1e-9)


def test_update_is_orthogonalized():
    # one step from zero, no weight decay: the parameter is minus the Newton-Schulz output
    rng = np.random.default_rng(1)
    ps = [mt.nn.Parameter(mt.zeros(s)) for s in SHAPES[:2]]
    opt = mt.optim.Muon(ps, lr=1.0, weight_decay=0.0)
    set_grads(ps, [rng.standard_normal(s).astype(np.float32) for s in SHAPES[:2]], "mt")
    opt.step()
    for p, scale in zip(ps, (1.0, 1.5 ** 0.5)):  # "original": sqrt(max(1, rows / cols))
        s = np.linalg.svd(to_np(p) / scale, compute_uv=False)
        assert np.all((s > 0.5) & (s < 1.3)), s  # singular values pushed towards 1
    g = mt.randn(3, 5)._data
    assert np.asarray(newton_schulz(g, (1.0, 0.0, 0.0), 0, 1e-7)).dtype == np.float32


def test_hyperparameters_changed_mid_run_take_effect_without_recompiling():
    init, grads = make_problem(np.float32, steps=9)
    mps, mo = build("mt", dict(lr=0.05), {}, init)
    tps, to = build("torch", dict(lr=0.05), {}, init)
    sizes = []
    for i, gs in enumerate(grads):
        if i == 3:
            for o in (mo, to):
                o.param_groups[0]["lr"] = 0.01
                o.param_groups[0]["momentum"] = 0.8
                o.param_groups[1]["weight_decay"] = 0.3
        if i == 6:
            for o in (mo, to):
                o.param_groups[0]["ns_coefficients"] = (3.0, -3.0, 1.0)
        set_grads(mps, gs, "mt")
        set_grads(tps, gs, "torch")
        mo.step()
        to.step()
        sizes.append(_cache_size(mo))
    for m, t in zip(mps, tps):
        assert_close(m, t)
    assert sizes[1] == sizes[-1], sizes


def test_lr_as_tensor_and_params_without_grad():
    init, grads = make_problem(np.float32, steps=3)
    mps, mo = build("mt", dict(lr=mt.tensor(0.05)), {}, init)
    tps, to = build("torch", dict(lr=torch.tensor(0.05)), {}, init)
    for gs in grads:
        set_grads(mps[:2], gs[:2], "mt")
        set_grads(tps[:2], gs[:2], "torch")
        mo.step()
        to.step()
    for m, t in zip(mps, tps):
        assert_close(m, t)
    assert mps[2] not in mo.state and np.array_equal(to_np(mps[2]), init[2])


def test_state_dict_layout_and_interchange_with_torch():
    init, grads = make_problem(np.float32, steps=8)
    kw, kw1 = dict(lr=0.05), dict(lr=0.02, nesterov=False, adjust_lr_fn="match_rms_adamw")
    tps, to = build("torch", kw, kw1, init)
    mps, mo = build("mt", kw, kw1, init)
    for gs in grads[:4]:
        set_grads(tps, gs, "torch")
        set_grads(mps, gs, "mt")
        to.step()
        mo.step()
    sd = mo.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2] and sorted(sd["state"][0]) == ["momentum_buffer"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"] == to.state_dict()["param_groups"]
    # torch's state into a fresh mt optimizer, mt's into a fresh torch optimizer
    mps2, mo2 = build("mt", {**kw, "lr": 9.0}, {}, [to_np(p) for p in tps])
    mo2.load_state_dict(_torch_to_mt(to.state_dict()))
    tps2, to2 = build("torch", {**kw, "lr": 9.0}, {}, [to_np(p) for p in mps])
    to2.load_state_dict(_mt_to_torch(mo.state_dict()))
    assert mo2.param_groups[1]["lr"] == 0.02 and mo2.param_groups[1]["nesterov"] is False
    for gs in grads[4:]:
        for ps, lib in ((tps, "torch"), (mps, "mt"), (mps2, "mt"), (tps2, "torch")):
            set_grads(ps, gs, lib)
        for o in (to, mo, mo2, to2):
            o.step()
    for t, m2, m, t2 in zip(tps, mps2, mps, tps2):
        assert_close(m2, t)
        assert_close(t2, m)
        assert_close(m, t)
    compare_state(mo2, to2, 1e-4)


BAD = [dict(lr=-1.0), dict(weight_decay=-0.5), dict(momentum=-0.1), dict(adjust_lr_fn="rms"),
       dict(lr=-1.0, momentum=-1.0, weight_decay=-1.0, adjust_lr_fn="x"),
       dict(weight_decay=-1.0, momentum=-1.0)]


@pytest.mark.parametrize("kw", BAD, ids=[str(kw) for kw in BAD])
def test_hyperparameter_errors_equal_torch(kw):
    with pytest.raises(ValueError) as te:
        torch.optim.Muon([torch.nn.Parameter(torch.ones(2, 2))], **kw)
    with pytest.raises(ValueError) as me:
        mt.optim.Muon([mt.nn.Parameter(mt.ones(2, 2))], **kw)
    assert str(me.value) == str(te.value)


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2), ()])
def test_only_2d_parameters(shape):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        torch.optim.Muon([torch.nn.Parameter(torch.ones(shape))])
    size = ", ".join(map(str, shape))
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found a parameter "
                                         rf"with size: minitorch_jax\.Size\(\[{size}\]\)"):
        mt.optim.Muon([mt.nn.Parameter(mt.ones(shape))])


def test_step_errors_equal_torch():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        mt.optim.Muon([mt.nn.Parameter(mt.ones(2, 2))], lr=mt.tensor([0.1, 0.2]))
    for ns in (torch, mt):
        # a group added later is not checked until its gradient reaches step
        w = ns.nn.Parameter(ns.ones(2, 2))
        opt = ns.optim.Muon([w])
        b = ns.nn.Parameter(ns.ones(3))
        opt.add_param_group({"params": [b]})
        b.grad = ns.ones(3)
        with pytest.raises(ValueError, match="Param gradient must be a 2D matrix"):
            opt.step()
        c = ns.nn.Parameter(ns.ones(2, 2, dtype=ns.complex64))
        opt = ns.optim.Muon([c])
        opt.step()  # no gradient: nothing to do
        c.grad = ns.ones(2, 2, dtype=ns.complex64)
        with pytest.raises(RuntimeError, match="Muon does not support complex parameters"):
            opt.step()


def test_defaults_repr_and_closure():
    mo = mt.optim.Muon([mt.nn.Parameter(mt.ones(2, 3))])
    to = torch.optim.Muon([torch.nn.Parameter(torch.ones(2, 3))])
    assert mo.defaults == to.defaults
    assert repr(mo) == repr(to)
    w = mt.nn.Parameter(mt.ones(2, 3))
    opt = mt.optim.Muon([w], lr=0.1)
    calls = []

    def closure():
        calls.append(mt.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mt.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and float(loss) == 6.0 and not np.allclose(to_np(w), 1.0)


def test_mt_jit_step_equals_eager():
    def make():
        mt.manual_seed(0)
        model = mt.nn.Sequential(mt.nn.Linear(4, 6, bias=False), mt.nn.Tanh(), mt.nn.Linear(6, 2, bias=False))
        return model, mt.optim.Muon(model.parameters(), lr=0.05)

    def step(model, opt, x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    me, oe = make()
    mc, oc = make()
    compiled = mt.jit(lambda x, y: step(mc, oc, x, y))
    rng = np.random.default_rng(0)
    for i in range(4):
        if i == 2:
            oe.param_groups[0]["lr"] = oc.param_groups[0]["lr"] = 0.01
        x = mt.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        y = mt.tensor(rng.standard_normal((5, 2)).astype(np.float32))
        le, lc = step(me, oe, x, y), compiled(x, y)
        np.testing.assert_allclose(float(lc), float(le), rtol=1e-5)
    for a, b in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(to_np(b), to_np(a), rtol=1e-5, atol=1e-6)
        bc, be = oc.state[b]["momentum_buffer"], oe.state[a]["momentum_buffer"]
        np.testing.assert_allclose(to_np(bc), to_np(be), rtol=1e-5, atol=1e-7)
