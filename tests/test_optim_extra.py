"""mt.optim.Rprop, ASGD and Adafactor against torch.optim: multi-step parity (two parameter groups,
float32 and float64, weight decay / maximize variants), state keys and layout, torch's hyperparameter
errors, state_dict interchange with torch, and steps compiled by ``mt.jit``."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch
from tests.test_optim import assert_close, build, compare_state, make_problem, run_both, set_grads, to_np

STEPS = 25

CASES = [
    ("Rprop", dict(), dict(lr=0.001, etas=(0.3, 1.5))),
    ("Rprop", dict(lr=0.05, step_sizes=(1e-3, 0.2), maximize=True), dict(etas=(0.9, 1.1))),
    ("ASGD", dict(), dict(lr=0.05, lambd=0.01)),
    ("ASGD", dict(t0=5, lambd=0.01, alpha=0.6), dict(weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.02, t0=0, weight_decay=0.05, maximize=True), dict(t0=10)),
    ("Adafactor", dict(), dict(lr=0.05, beta2_decay=-0.5)),
    ("Adafactor", dict(weight_decay=0.1), dict(eps=(1e-30, 1e-3), lr=0.05, d=2.0)),
    ("Adafactor", dict(lr=0.1, eps=(1e-3, 0.1), weight_decay=0.05, maximize=True), dict(d=1.5)),
]
F64 = [CASES[i] for i in (1, 3, 7)]
NAMES = ["Rprop", "ASGD", "Adafactor"]


def _ids(cases):
    return [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw, _ in cases]


@pytest.mark.parametrize("name,kw,kw1", CASES, ids=_ids(CASES))
def test_parity_float32(name, kw, kw1):
    mps, mo, tps, to = run_both(name, kw, kw1, np.float32, steps=STEPS)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float32
        assert_close(m, t, 2e-5, f"{name} param {i}")
        assert not np.allclose(to_np(t), make_problem(np.float32, steps=1)[0][i])  # it moved
    compare_state(mo, to, 1e-4)
    assert mo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


@pytest.mark.parametrize("name,kw,kw1", F64, ids=_ids(F64))
def test_parity_float64(name, kw, kw1):
    mps, mo, tps, to = run_both(name, kw, kw1, np.float64, steps=STEPS)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float64
        assert_close(m, t, 1e-10, f"{name} param {i}")
    compare_state(mo, to, 1e-9)


def test_state_keys_and_shapes():
    init, grads = make_problem(np.float32, steps=1)
    expect = {"Rprop": ["prev", "step", "step_size"], "ASGD": ["ax", "eta", "mu", "step"]}
    for name, keys in expect.items():
        ps, o = build("mt", name, {}, {}, init)
        set_grads(ps, grads[0], "mt")
        o.step()
        sd = o.state_dict()["state"]
        assert sorted(sd[0]) == keys
    ps, o = build("mt", "Adafactor", {}, {}, init)
    set_grads(ps, grads[0], "mt")
    o.step()
    st = o.state_dict()["state"]
    assert sorted(st[0]) == ["col_var", "row_var", "step"] and sorted(st[1]) == ["step", "variance"]
    assert tuple(st[0]["row_var"].shape) == (3, 1) and tuple(st[0]["col_var"].shape) == (1, 4)


def test_adafactor_3d_and_scalar_params():
    rng = np.random.default_rng(3)
    shapes = [(2, 3, 4), (), (1, 5)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    mps = [mt.nn.Parameter(mt.tensor(a)) for a in init]
    tps = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    mo, to = mt.optim.Adafactor(mps, lr=0.05), torch.optim.Adafactor(tps, lr=0.05)
    for _ in range(8):
        gs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        set_grads(mps, gs, "mt")
        set_grads(tps, gs, "torch")
        mo.step()
        to.step()
    for m, t in zip(mps, tps):
        assert_close(m, t, 2e-5)
    compare_state(mo, to, 1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_repr_and_defaults_match_torch(name):
    mo = getattr(mt.optim, name)([mt.nn.Parameter(mt.zeros(2))])
    to = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))])
    assert repr(mo) == repr(to)
    assert mo.defaults == to.defaults
    assert mo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


BAD = [
    ("Rprop", dict(lr=-1.0)), ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("Rprop", dict(etas=(0.0, 1.2))),
    ("ASGD", dict(lr=-0.1)), ("ASGD", dict(weight_decay=-1)),
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1e-3))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{kw}" for n, kw in BAD])
def test_hyperparameter_errors_equal_torch(name, kw):
    with pytest.raises(ValueError) as te:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)
    with pytest.raises(ValueError) as me:
        getattr(mt.optim, name)([mt.nn.Parameter(mt.ones(2))], **kw)
    assert str(me.value) == str(te.value)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_must_be_one_element(name):
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(mt.optim, name)([mt.nn.Parameter(mt.ones(2))], lr=mt.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name,kw", [("Rprop", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=2)),
                                     ("Adafactor", dict(lr=0.05, weight_decay=0.01))])
def test_mt_jit_step_equals_eager(name, kw):
    def make():
        mt.manual_seed(0)
        model = mt.nn.Sequential(mt.nn.Linear(4, 6), mt.nn.Tanh(), mt.nn.Linear(6, 2))
        return model, getattr(mt.optim, name)(model.parameters(), **kw)

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
    for _ in range(4):
        x = mt.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        y = mt.tensor(rng.standard_normal((5, 2)).astype(np.float32))
        le, lc = step(me, oe, x, y), compiled(x, y)
        np.testing.assert_allclose(float(lc), float(le), rtol=1e-5)
    for a, b in zip(me.parameters(), mc.parameters()):
        np.testing.assert_allclose(to_np(b), to_np(a), rtol=1e-5, atol=1e-6)
    for i, (a, b) in enumerate(zip(me.parameters(), mc.parameters())):
        for k, v in oe.state[a].items():
            np.testing.assert_allclose(to_np(oc.state[b][k]), to_np(v), rtol=1e-5, atol=1e-7,
                                       err_msg=f"state {k!r} of parameter {i}\n{compiled.explain()}")


def test_adafactor_rejects_complex_like_torch():
    a = np.ones((2, 2), np.complex64)
    mp, tp = mt.nn.Parameter(mt.tensor(a)), torch.nn.Parameter(torch.tensor(a))
    mp.grad, tp.grad = mt.tensor(a), torch.tensor(a)
    with pytest.raises(RuntimeError) as te:
        torch.optim.Adafactor([tp]).step()
    with pytest.raises(RuntimeError) as me:
        mt.optim.Adafactor([mp]).step()
    assert str(me.value) == str(te.value)


def test_skips_params_without_grad():
    init, grads = make_problem(np.float32, steps=3)
    for name in NAMES:
        mps, mo = build("mt", name, {}, {}, init)
        tps, to = build("torch", name, {}, {}, init)
        for gs in grads:
            set_grads(mps[:2], gs[:2], "mt")
            set_grads(tps[:2], gs[:2], "torch")
            mo.step()
            to.step()
        assert mps[2] not in mo.state and len(to.state_dict()["state"]) == 2
        for m, t in zip(mps, tps):
            assert_close(m, t)
