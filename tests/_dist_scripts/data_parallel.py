"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4: DataParallel == one device, eager and jit."""
import sys

import jax
import numpy as np

import minitorch_jax as mt
from minitorch_jax import nn
from minitorch_jax.nn.parallel import DataParallel

assert len(jax.devices()) == 4, jax.devices()
modes = (sys.argv[1] if len(sys.argv) > 1 else "eager,jit").split(",")


def make():
    mt.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def train(model, jit: bool, steps=4):
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    xs = [mt.tensor(rng.standard_normal((8, 6)), dtype=mt.float32) for _ in range(steps)]
    ys = [mt.tensor(rng.standard_normal((8, 3)), dtype=mt.float32) for _ in range(steps)]

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if jit:
        step = mt.jit(step)
    losses = [float(step(x, y)) for x, y in zip(xs, ys)]
    return losses


ref = make()
ref_losses = train(ref, jit=False)
for mode in modes:
    base = make()
    dp = DataParallel(base)
    assert dp.module is base
    assert all(k.startswith("module.") for k in dp.state_dict())
    # one forward: output sharded along the batch over the 4 devices, parameters replicated
    out = dp(mt.randn(8, 6))
    osh = out._data.sharding
    assert len(osh.device_set) == 4 and not osh.is_fully_replicated, osh
    w = base[0].weight
    assert w._data.sharding.is_fully_replicated and len(w._data.sharding.device_set) == 4
    losses = train(dp, jit=(mode == "jit"))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5, atol=1e-6)
    for (n, p), (_, q) in zip(ref.named_parameters(), base.named_parameters()):
        np.testing.assert_allclose(np.asarray(q._data), np.asarray(p._data), rtol=1e-5, atol=1e-6,
                                   err_msg=n)
        sh = q._data.sharding
        assert sh.is_fully_replicated and len(sh.device_set) == 4, (n, sh)
        assert q.grad._data.sharding.is_fully_replicated, (n, q.grad._data.sharding)
# odd batch (not divisible by 4): replicated, still correct
o1 = dp(mt.ones(5, 6))
o2 = base(mt.ones(5, 6))
np.testing.assert_allclose(np.asarray(o1._data), np.asarray(o2._data), rtol=1e-6)
dp2 = DataParallel(make(), device_ids=[0, 1])
assert len(dp2(mt.ones(4, 6))._data.sharding.device_set) == 2
print("OK", ",".join(modes))
