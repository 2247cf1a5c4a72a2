"""Parameters that start stepping together share one 'step' counter (fewer inputs to a compiled
step); a step that skips some of them (no .grad) gives those their own counter, as torch's
per-parameter counters behave."""

from __future__ import annotations

import io

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch


def _pair(names=("Adam", "AdamW", "NAdam", "RAdam", "Adamax")):
    return names


def _models(seed=0):
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4,), (2, 3))]
    mps = [mt.nn.Parameter(mt.tensor(w)) for w in ws]
    tps = [torch.nn.Parameter(torch.tensor(w)) for w in ws]
    return rng, mps, tps


def _set_grads(rng, mps, tps, skip=()):
    for i, (m, t) in enumerate(zip(mps, tps)):
        if i in skip:
            m.grad, t.grad = None, None
            continue
        g = rng.standard_normal(tuple(m.shape)).astype(np.float32)
        m.grad, t.grad = mt.tensor(g), torch.tensor(g)


@pytest.mark.parametrize("name", _pair())
def test_skipped_parameters_keep_their_own_step_count(name):
    rng, mps, tps = _models()
    mo = getattr(mt.optim, name)(mps, lr=0.01)
    to = getattr(torch.optim, name)(tps, lr=0.01)
    plan = [(), (), (1,), (0, 2), (), (1,), ()]
    for skip in plan:
        _set_grads(rng, mps, tps, skip)
        mo.step()
        to.step()
        for m, t in zip(mps, tps):
            np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
            if t in to.state:
                assert float(mo.state[m]["step"]) == float(to.state[t]["step"])
    # parameters with different histories no longer share a counter
    steps = [mo.state[m]["step"] for m in mps]
    assert [float(s) for s in steps] == [float(to.state[t]["step"]) for t in tps]


def test_params_starting_together_share_one_counter():
    _, mps, _ = _models()
    opt = mt.optim.Adam(mps, lr=0.1)
    for p in mps:
        p.grad = mt.ones_like(p)
    opt.step()
    assert len({id(opt.state[p]["step"]) for p in mps}) == 1
    opt.step()
    assert all(float(opt.state[p]["step"]) == 2.0 for p in mps)


def test_shared_counter_survives_save_and_load():
    rng, mps, tps = _models()
    mo = mt.optim.Adam(mps, lr=0.01)
    to = torch.optim.Adam(tps, lr=0.01)
    for _ in range(3):
        _set_grads(rng, mps, tps)
        mo.step()
        to.step()
    buf = io.BytesIO()
    mt.save(mo.state_dict(), buf)
    buf.seek(0)
    sd = mt.load(buf)
    mo2 = mt.optim.Adam(mps, lr=0.01)
    mo2.load_state_dict(sd)
    _set_grads(rng, mps, tps, skip=(2,))
    mo2.step()
    to.step()
    for m, t in zip(mps, tps):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert float(mo2.state[m]["step"]) == float(to.state[t]["step"])


def test_compiled_step_captures_one_counter_per_group():
    model = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.ReLU(), mt.nn.Linear(8, 2))
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    x, y = mt.randn(5, 4), mt.randn(5, 2)

    @mt.jit
    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    losses = [float(step(x, y)) for _ in range(4)]
    assert losses[-1] < losses[0]
    steps = {id(opt.state[p]["step"]) for p in model.parameters()}
    assert len(steps) == 1
    captured = step._cap.tensors
    assert sum(1 for t in captured if t.ndim == 0) == 1  # the shared counter only
    assert float(next(iter(opt.state.values()))["step"]) == 4.0
