"""mt.optim against torch.optim: 50-step parity for every optimizer and option (two parameter
groups with different hyperparameters), float32 and float64, and the state each keeps."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

STEPS = 50
SHAPES0 = [(3, 4), (5,)]
SHAPES1 = [(2, 3)]

# (optimizer, kwargs for both groups, extra kwargs for group 1)
CASES = [
    ("SGD", dict(lr=0.05), dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9), dict(momentum=0.5, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), dict(lr=0.01, momentum=0.7)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, maximize=True), dict(lr=0.02)),
    ("Adam", dict(), dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, amsgrad=True), dict(weight_decay=0.1, eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, maximize=True), dict(lr=0.003)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True, amsgrad=True), dict(lr=0.02)),
    ("AdamW", dict(lr=0.01), dict(weight_decay=0.1, betas=(0.5, 0.9))),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True), dict(lr=0.001)),
    ("RMSprop", dict(), dict(lr=0.001, alpha=0.9)),
    ("RMSprop", dict(centered=True), dict(weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(momentum=0.9), dict(momentum=0.5, alpha=0.95)),
    ("RMSprop", dict(centered=True, momentum=0.8, weight_decay=0.01, maximize=True), dict(lr=0.003)),
    ("Adagrad", dict(), dict(lr=0.1, eps=1e-6)),
    ("Adagrad", dict(lr_decay=0.01, weight_decay=0.1), dict(lr_decay=0.1)),
    ("Adagrad", dict(initial_accumulator_value=0.1, maximize=True), dict(lr=0.05)),
    ("Adadelta", dict(), dict(rho=0.5, lr=0.5)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True), dict(eps=1e-4)),
    ("Adamax", dict(), dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adamax", dict(weight_decay=0.1, maximize=True), dict(eps=1e-4)),
    ("NAdam", dict(), dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1), dict(betas=(0.8, 0.99))),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True), dict(lr=0.01)),
    ("RAdam", dict(lr=0.01), dict(betas=(0.8, 0.99))),
    ("RAdam", dict(weight_decay=0.1), dict(lr=0.02)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
     dict(betas=(0.9, 0.9))),
]

# one float64 run per optimizer: the richest option set
F64 = [c for i, c in enumerate(CASES) if i in (3, 7, 9, 13, 16, 18, 20, 23, 26)]


def _ids(cases):
    return [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw, _ in cases]


def make_problem(dtype, seed=0, steps=STEPS):
    """Initial parameters (two groups) and a gradient sequence, as numpy."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES0 + SHAPES1]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES0 + SHAPES1] for _ in range(steps)]
    return init, grads


def build(lib, name, kw, kw1, init):
    """An optimizer of ``lib`` ('mt' or 'torch') over two groups built from ``init``."""
    if lib == "mt":
        ps = [mt.nn.Parameter(mt.tensor(a)) for a in init]
        cls = getattr(mt.optim, name)
    else:
        ps = [torch.nn.Parameter(torch.tensor(a)) for a in init]
        cls = getattr(torch.optim, name)
    n0 = len(SHAPES0)
    return ps, cls([{"params": ps[:n0]}, {"params": ps[n0:], **kw1}], **kw)


def set_grads(ps, gs, lib):
    for p, g in zip(ps, gs):
        p.grad = mt.tensor(g) if lib == "mt" else torch.tensor(g)


def to_np(t):
    if isinstance(t, mt.Tensor):
        return np.asarray(t.detach()._data)
    return t.detach().numpy()


def assert_close(m, t, rtol=2e-5, what=""):
    """Relative comparison (2e-5 for float32); an absolute floor for values near zero."""
    m, t = to_np(m).astype(np.float64), to_np(t).astype(np.float64)
    assert m.shape == t.shape, what
    scale = max(1.0, float(np.max(np.abs(t)))) if t.size else 1.0
    np.testing.assert_allclose(m, t, rtol=rtol, atol=rtol * 0.05 * scale, err_msg=what)


def run_both(name, kw, kw1, dtype, steps=STEPS):
    init, grads = make_problem(dtype, steps=steps)
    mps, mo = build("mt", name, kw, kw1, init)
    tps, to = build("torch", name, kw, kw1, init)
    for gs in grads:
        set_grads(mps, gs, "mt")
        set_grads(tps, gs, "torch")
        mo.step()
        to.step()
    return mps, mo, tps, to


def compare_state(mo, to, rtol):
    ms, ts = mo.state_dict()["state"], to.state_dict()["state"]
    assert sorted(ms) == sorted(ts)
    for i in ts:
        assert sorted(ms[i]) == sorted(ts[i]), f"state keys of param {i}"
        for k in ts[i]:
            assert str(ms[i][k].dtype).split(".")[-1] == str(ts[i][k].dtype).split(".")[-1], k
            assert_close(ms[i][k], ts[i][k], rtol, f"state {i}.{k}")


@pytest.mark.parametrize("name,kw,kw1", CASES, ids=_ids(CASES))
def test_parity_float32(name, kw, kw1):
    mps, mo, tps, to = run_both(name, kw, kw1, np.float32)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float32
        assert_close(m, t, 2e-5, f"{name} param {i}")
    compare_state(mo, to, 1e-4)
    assert mo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


@pytest.mark.parametrize("name,kw,kw1", F64, ids=_ids(F64))
def test_parity_float64(name, kw, kw1):
    mps, mo, tps, to = run_both(name, kw, kw1, np.float64)
    for i, (m, t) in enumerate(zip(mps, tps)):
        assert m.dtype == mt.float64
        assert_close(m, t, 1e-10, f"{name} param {i}")
    compare_state(mo, to, 1e-9)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                  "RAdam"])
def test_repr_and_defaults_match_torch(name):
    kw = {"lr": 0.1} if name == "SGD" else {}
    mo = getattr(mt.optim, name)([mt.nn.Parameter(mt.zeros(2))], **kw)
    to = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))], **kw)
    assert repr(mo) == repr(to)
    assert mo.defaults == to.defaults
    assert mo.state_dict()["param_groups"] == to.state_dict()["param_groups"]


def test_skips_params_without_grad_like_torch():
    init, grads = make_problem(np.float32, steps=3)
    mps, mo = build("mt", "Adam", {}, {}, init)
    tps, to = build("torch", "Adam", {}, {}, init)
    for gs in grads:
        set_grads(mps[:2], gs[:2], "mt")
        set_grads(tps[:2], gs[:2], "torch")
        mo.step()
        to.step()
    assert mps[2] not in mo.state and len(to.state_dict()["state"]) == 2
    np.testing.assert_array_equal(to_np(mps[2]), init[2])
    for m, t in zip(mps, tps):
        assert_close(m, t)
    # a group with no gradient at all is skipped too
    for p in mps:
        p.grad = None
    v = mps[0]._version
    mo.step()
    assert mps[0]._version == v


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)), ("RMSprop", dict(centered=True)),
                                     ("NAdam", {}), ("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("Rprop", dict(lr=0.05)), ("ASGD", dict(t0=3, lambd=0.01))])
def test_complex_parameters_follow_torch_real_view(name, kw):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex64)
    mp, tp = mt.nn.Parameter(mt.tensor(a)), torch.nn.Parameter(torch.tensor(a))
    mo, to = getattr(mt.optim, name)([mp], **kw), getattr(torch.optim, name)([tp], **kw)
    for _ in range(10):
        g = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex64)
        mp.grad, tp.grad = mt.tensor(g), torch.tensor(g)
        mo.step()
        to.step()
    np.testing.assert_allclose(to_np(mp), to_np(tp), rtol=2e-5, atol=1e-6)
    for k, v in to.state_dict()["state"][0].items():
        assert str(mo.state[mp][k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
