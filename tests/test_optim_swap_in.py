"""optim.swap_in_optimizer_params_and_state: a step inside the block updates the swapped-in parameters and
state exactly as torch's does, and the live optimizer, parameters and state are untouched afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import needs_torch, torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch not installed")


def _setup(lib, ws, opt_cls, **kw):
    params = [lib.nn.Parameter(lib.tensor(w)) for w in ws]
    opt = getattr(lib.optim, opt_cls)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], **kw)
    for p in params:
        p.grad = lib.ones_like(p) * 0.3
    opt.step()
    return params, opt


def _clone_state(lib, sd):
    return {"state": {k: {n: (v.clone() if isinstance(v, lib.Tensor) else v) for n, v in s.items()}
                      for k, s in sd["state"].items()},
            "param_groups": [dict(g) for g in sd["param_groups"]]}


@pytest.mark.parametrize("opt_cls,kw", [("Adam", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9})])
@needs_torch(2, 13, "torch.optim.swap_in_optimizer_params_and_state")
def test_step_on_swapped_in_params_matches_torch(opt_cls, kw):
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 2)).astype("float32"), rng.standard_normal(2).astype("float32")]
    new_ws = [w + 1.0 for w in ws]
    res = {}
    for name, lib in (("mt", mt), ("torch", torch)):
        params, opt = _setup(lib, ws, opt_cls, **kw)
        live_before = [p.detach().clone() for p in params]
        live_state = opt.state_dict()["state"]
        swap = {f"p{i}": lib.nn.Parameter(lib.tensor(w)) for i, w in enumerate(new_ws)}
        for p in swap.values():
            p.grad = lib.ones_like(p) * -0.7
        osd = _clone_state(lib, opt.state_dict())
        osd["param_groups"][0]["lr"] = 0.01
        with lib.optim.swap_in_optimizer_params_and_state(opt, swap, osd):
            assert opt.param_groups[0]["lr"] == 0.01
            assert opt.param_groups[0]["params"][0] is swap["p0"]
            opt.step()
        assert opt.param_groups[0]["lr"] == kw["lr"] and opt.param_groups[0]["params"][0] is params[0]
        for p, b in zip(params, live_before):
            np.testing.assert_array_equal(p.detach().numpy(), b.numpy())
        assert opt.state_dict()["state"].keys() == live_state.keys()
        res[name] = ([p.detach().numpy() for p in swap.values()],
                     {k: {n: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for n, v in s.items()}
                      for k, s in osd["state"].items()})
    for a, b in zip(res["mt"][0], res["torch"][0]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for k in res["torch"][1]:
        for n in res["torch"][1][k]:
            np.testing.assert_allclose(res["mt"][1][k][n], res["torch"][1][k][n], rtol=1e-6, atol=1e-7)


def test_bad_swap_in_and_restore_on_error():
    params, opt = _setup(mt, [np.ones((2, 2), "float32"), np.ones(2, "float32")], "SGD", lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="got 1 swap-in parameters for an optimizer with 2"):
        with mt.optim.swap_in_optimizer_params_and_state(opt, [params[0]], sd):
            pass
    with pytest.raises(TypeError, match="must be Tensors, got ndarray"):
        with mt.optim.swap_in_optimizer_params_and_state(opt, [np.ones(2), params[1]], sd):
            pass
    with pytest.raises(ValueError, match="1 param groups, the optimizer has 2"):
        with mt.optim.swap_in_optimizer_params_and_state(opt, params, {"state": {}, "param_groups": sd[
                "param_groups"][:1]}):
            pass
    with pytest.raises(KeyError):
        with mt.optim.swap_in_optimizer_params_and_state(opt, [p.clone() for p in params], sd):
            raise KeyError("boom")
    assert opt.param_groups[0]["params"][0] is params[0] and opt.param_groups[1]["params"][0] is params[1]
