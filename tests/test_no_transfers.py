"""A training step in steady state moves nothing from host to device: every per-call value
(hyperparameters, scalars, RNG keys, captured state) is already on the device. On an accelerator
each such transfer costs a round trip per step; here JAX's transfer guard makes them errors."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import minitorch_jax as mt


def _setup(opt_name):
    mt.manual_seed(0)
    model = mt.nn.Sequential(mt.nn.Linear(8, 16), mt.nn.BatchNorm1d(16), mt.nn.ReLU(), mt.nn.Dropout(0.2),
                             mt.nn.Linear(16, 3))
    kw = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=1e-3), "AdamW": dict(lr=1e-3),
          "RMSprop": dict(lr=1e-3)}[opt_name]
    opt = getattr(mt.optim, opt_name)(model.parameters(), **kw)
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((6, 8)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 3, 6))

    def step(x, y):
        opt.zero_grad()
        loss = mt.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        mt.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    return step, x, y


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "mt.jit"])
def test_steady_state_step_makes_no_transfer(opt_name, compiled):
    step, x, y = _setup(opt_name)
    if compiled:
        step = mt.jit(step)
    for _ in range(4):
        step(x, y)
    with jax.transfer_guard("disallow"):  # nor device-to-host (a hidden sync) or device-to-device
        losses = [step(x, y) for _ in range(3)]
    assert all(np.isfinite(float(v)) for v in losses)


def test_guard_catches_a_transfer():
    # the check itself can fail: a numpy value entering an op each step is a transfer
    a = mt.ones(3)
    a + 1.0
    with jax.transfer_guard_host_to_device("disallow"), pytest.raises(Exception, match="host-to-device"):
        jax.numpy.asarray(np.ones(3, np.float32)) + a._data


def test_changed_learning_rate_is_transferred_once():
    step, x, y = _setup("Adam")
    opt_groups = None
    for cell in step.__closure__:
        if isinstance(cell.cell_contents, mt.optim.Optimizer):
            opt_groups = cell.cell_contents.param_groups
    for _ in range(3):
        step(x, y)
    opt_groups[0]["lr"] = 5e-4  # new value: one transfer, then cached again
    step(x, y)
    with jax.transfer_guard_host_to_device("disallow"):
        step(x, y)


def test_cached_scalars_keep_sign_nan_and_dtype():
    x = mt.tensor([1.0, -2.0])
    assert np.signbit((x * -0.0).numpy()).tolist() == [True, False]
    assert np.signbit((x * 0.0).numpy()).tolist() == [False, True]
    assert np.isnan((x + float("nan")).numpy()).all()
    assert (mt.tensor([1, 2]) * 3).dtype == mt.int64
    assert (mt.tensor([1, 2], dtype=mt.float64) * 0.1).numpy().tolist() == [0.1, 0.2]
    assert (x * True).tolist() == [1.0, -2.0]
    assert (mt.tensor([1.0 + 1j]) * 2j).tolist() == [-2 + 2j]


def test_scalar_cache_filled_while_tracing_holds_no_tracer():
    from minitorch_jax._scalars import _CACHE, device_scalar

    @jax.jit
    def f(a):
        return a * device_scalar(0.4375, np.dtype(np.float32))

    assert float(f(np.float32(2.0))) == 0.875
    for v in _CACHE.values():
        assert not isinstance(v, jax.core.Tracer)

    @mt.jit
    def g(t):
        return t * 0.21875

    assert g(mt.ones(2)).tolist() == [0.21875, 0.21875]
    assert g(mt.ones(2)).tolist() == [0.21875, 0.21875]
    assert (mt.ones(2) * 0.21875).tolist() == [0.21875, 0.21875]
