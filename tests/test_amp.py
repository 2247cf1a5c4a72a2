"""mt.autocast / mt.amp.GradScaler against torch's CPU autocast and GradScaler: result dtypes, values,
gradients, nesting, mt.jit, skipped steps, scale updates, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 8)).astype("float32")
W = RNG.standard_normal((3, 8)).astype("float32")
IMG = RNG.standard_normal((1, 2, 5, 5)).astype("float32")
K = RNG.standard_normal((3, 2, 3, 3)).astype("float32")
HOST = mt.get_default_device().type

CASES = {
    "mm": lambda L, a, b: L.mm(a, b.t()),
    "linear": lambda L, a, b: L.nn.functional.linear(a, b),
    "matmul_operator": lambda L, a, b: a @ b.t(),
    "softmax_of_mm": lambda L, a, b: L.softmax(L.mm(a, b.t()), 1),
    "layer_norm_of_mm": lambda L, a, b: L.nn.functional.layer_norm(L.mm(a, b.t()), (3,)),
    "mse_loss": lambda L, a, b: L.nn.functional.mse_loss(L.mm(a, b.t()), L.zeros(4, 3)),
    "cross_entropy": lambda L, a, b: L.nn.functional.cross_entropy(L.mm(a, b.t()), L.tensor([0, 1, 2, 0])),
    "add_mixed": lambda L, a, b: L.mm(a, b.t()) + a[:, :3],
    "inverse": lambda L, a, b: L.linalg.inv(L.mm(a[:3], b.t()) + 3 * L.eye(3)),
    "float64_untouched": lambda L, a, b: L.mm(a.double(), b.t().double()),
}


@pytest.mark.skipif(HOST != "cpu", reason="compares with torch's CPU autocast lists")
@pytest.mark.parametrize("name", sorted(CASES))
def test_cpu_autocast_dtypes_values_and_grads_match_torch(name):
    f = CASES[name]
    ta, tb = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    ma, mb = mt.tensor(X, requires_grad=True), mt.tensor(W, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        t = f(torch, ta, tb)
    with mt.autocast("cpu", dtype=mt.bfloat16):
        m = f(mt, ma, mb)
    assert m.dtype.name == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(m.float().detach().numpy(), t.float().detach().numpy(), rtol=2e-2, atol=2e-2)
    t.float().sum().backward()
    m.float().sum().backward()
    assert ma.grad.dtype == mt.float32 and mb.grad.dtype == mt.float32  # grads in the parameters' dtype
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy(), rtol=5e-2, atol=5e-2)


def test_conv_and_module_forward_run_in_bfloat16_and_nesting_restores():
    conv = nn.Conv2d(2, 3, 3)
    with mt.autocast(HOST, dtype=mt.bfloat16):
        assert conv(mt.tensor(IMG)).dtype == mt.bfloat16
        assert mt.is_autocast_enabled(HOST) and mt.get_autocast_dtype(HOST) == mt.bfloat16
        with mt.autocast(HOST, enabled=False):
            assert conv(mt.tensor(IMG)).dtype == mt.float32
            assert not mt.is_autocast_enabled(HOST)
        assert conv(mt.tensor(IMG)).dtype == mt.bfloat16
    assert conv(mt.tensor(IMG)).dtype == mt.float32 and not mt.is_autocast_enabled(HOST)


def test_decorator_and_float16():
    lin = nn.Linear(8, 3)

    @mt.autocast(HOST, dtype=mt.float16)
    def fwd(x):
        return lin(x)

    assert fwd(mt.tensor(X)).dtype == mt.float16
    assert lin(mt.tensor(X)).dtype == mt.float32


def test_autocast_under_mt_jit_matches_eager_and_is_a_guard():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = mt.tensor(X)

    def fwd(x):
        with mt.autocast(HOST, dtype=mt.bfloat16):
            return model(x).float().softmax(-1)

    compiled = mt.jit(fwd)
    with mt.no_grad():
        eager = fwd(x)
        got = compiled(x)
        np.testing.assert_allclose(got.numpy(), eager.numpy(), rtol=1e-2, atol=1e-2)
        plain = mt.jit(lambda x: model(x))
        plain(x)  # (the first call runs eagerly: the parameters have no .grad yet)
        a = plain(x)
        with mt.autocast(HOST, dtype=mt.bfloat16):
            b = plain(x)
        assert a.dtype == mt.float32 and b.dtype == mt.bfloat16
        assert plain.num_compiles == 2 and "grad mode, autocast or matmul precision" in plain.explain()


def test_autocast_errors_and_warnings():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'gpu0'"):
        mt.autocast("gpu0")
    with pytest.raises(ValueError, match="device_type"):
        mt.autocast(3)
    other = "cuda" if HOST == "cpu" else "cpu"
    with pytest.warns(UserWarning, match="Disabling autocast"):
        ac = mt.autocast(other)
    with ac:
        assert nn.Linear(8, 3)(mt.tensor(X)).dtype == mt.float32
    with pytest.warns(UserWarning, match="not supported"):
        mt.autocast(HOST, dtype=mt.float64)
    with pytest.warns(FutureWarning, match="deprecated"):
        getattr(mt, HOST).amp.autocast()
    from minitorch_jax.cpu.amp import autocast  # noqa: F401  (torch's import paths work)
    from minitorch_jax.cuda.amp import GradScaler  # noqa: F401


# ----- GradScaler ----------------------------------------------------------------------------------
def _pair(seed=0):
    torch.manual_seed(seed)
    t = torch.nn.Linear(8, 3)
    m = nn.Linear(8, 3)
    m.load_state_dict({k: mt.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return m, t


def _run(lib, model, opt, scaler, xs, poison=()):
    losses = []
    for i, x in enumerate(xs):
        opt.zero_grad()
        loss = (model(lib.tensor(x)) ** 2).mean()
        scaler.scale(loss).backward()
        if i in poison:
            model.weight.grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        losses.append(float(loss))
    return losses


def test_grad_scaler_matches_torch_with_skipped_steps_backoff_and_growth():
    xs = [RNG.standard_normal((4, 8)).astype("float32") for _ in range(7)]
    m, t = _pair()
    mo, to = mt.optim.Adam(m.parameters(), lr=0.1), torch.optim.Adam(t.parameters(), lr=0.1)
    ms = mt.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    ts = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    lm = _run(mt, m, mo, ms, xs, poison=(1, 4))
    lt = _run(torch, t, to, ts, xs, poison=(1, 4))
    np.testing.assert_allclose(lm, lt, rtol=1e-5)
    assert ms.get_scale() == ts.get_scale()
    for (k, v), tv in zip(m.state_dict().items(), t.state_dict().values()):
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    sd, tsd = ms.state_dict(), ts.state_dict()
    assert sd.keys() == tsd.keys() and sd["scale"] == tsd["scale"]
    assert sd["_growth_tracker"] == tsd["_growth_tracker"]


def test_skipped_step_leaves_parameters_and_optimizer_state_unchanged():
    m, _ = _pair()
    opt = mt.optim.Adam(m.parameters(), lr=0.1)
    scaler = mt.amp.GradScaler("cpu", init_scale=8.0)
    _run(mt, m, opt, scaler, [X])
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    st = {k: v.numpy().copy() for k, v in opt.state[m.weight].items()}
    _run(mt, m, opt, scaler, [X], poison=(0,))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    for k, v in opt.state[m.weight].items():
        np.testing.assert_array_equal(v.numpy(), st[k])
    assert scaler.get_scale() == 4.0


def _scaled_training(compiled, xs):
    m, _ = _pair(1)
    opt = mt.optim.SGD(m.parameters(), lr=0.1)
    scaler = mt.amp.GradScaler("cpu", init_scale=64.0, growth_interval=2)

    def step(x):
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss

    f = mt.jit(step) if compiled else step
    losses = [float(f(mt.tensor(x))) for x in xs]
    if compiled:
        assert f.num_compiles == 1, f.explain()
    return losses, m.weight.detach().numpy().copy(), scaler.get_scale()


def test_grad_scaler_under_mt_jit_equals_eager():
    xs = [RNG.standard_normal((4, 8)).astype("float32") for _ in range(5)]
    eager, compiled = _scaled_training(False, xs), _scaled_training(True, xs)
    np.testing.assert_allclose(eager[0], compiled[0], rtol=1e-6)
    np.testing.assert_allclose(eager[1], compiled[1], rtol=1e-6)
    assert eager[2] == compiled[2] == 64.0 * 4


def test_grad_scaler_errors_and_disabled():
    m, _ = _pair()
    opt = mt.optim.SGD(m.parameters(), lr=0.1)
    scaler = mt.amp.GradScaler("cpu")
    scaler.scale((m(mt.tensor(X)) ** 2).mean()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0)
    with pytest.raises(RuntimeError, match="state dict is empty"):
        scaler.load_state_dict({})
    with pytest.raises(AssertionError, match="growth factor"):
        mt.amp.GradScaler(growth_factor=0.5)
    off = mt.amp.GradScaler(enabled=False)
    loss = mt.tensor(2.0)
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.amp.GradScaler("cpu").load_state_dict(torch.amp.GradScaler("cpu", init_scale=4.0).state_dict())


def test_autocast_applies_to_ops_already_run_without_it():
    # the eager fast path reuses an op's compiled kernel: it must not bypass autocast
    dev = mt.get_default_device().type
    a = mt.ones(3, 3)
    assert (a @ a).dtype == mt.float32 and mt.exp(a).dtype == mt.float32
    with mt.autocast(dev, dtype=mt.bfloat16):
        assert (a @ a).dtype == mt.bfloat16
    assert (a @ a).dtype == mt.float32
