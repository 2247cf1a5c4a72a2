"""Interop with JAX, optax, flax.nnx and DLPack: from_jax, to_jax, jax_function, dlpack, FlaxModule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import minitorch_jax as mt
from minitorch_jax.interop import from_jax, jax_function, to_jax
from minitorch_jax.nn.modules.flax_module import FlaxModule
from minitorch_jax.utils.dlpack import from_dlpack, to_dlpack

nnx = pytest.importorskip("flax.nnx")


# ---------------------------------------------------------------- arrays ---------------------------------
def test_from_jax_and_jax_no_copy():
    a = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
    t = from_jax(a)
    assert isinstance(t, mt.Tensor) and t.jax() is a and t.dtype is mt.float32
    with pytest.raises(TypeError, match="jax.Array"):
        from_jax(np.ones(2))


def test_dlpack_numpy_jax_and_capsule_roundtrip():
    x = np.arange(5, dtype=np.int32)
    t = from_dlpack(x)
    assert t.dtype is mt.int32 and t.tolist() == [0, 1, 2, 3, 4]
    m = mt.arange(4.0)
    back = from_dlpack(to_dlpack(m))
    assert back.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(TypeError):
        from_dlpack([1, 2])


def test_bare_capsule_keeps_its_device_and_is_imported_once():
    from minitorch_jax.utils.dlpack import _capsule_device
    m = mt.arange(3.0)
    cap = to_dlpack(m)
    dev = m._data.devices().pop()
    assert _capsule_device(cap) == ((1, 0) if dev.platform == "cpu" else (2, dev.id))  # kDLCPU / kDLCUDA
    assert from_dlpack(cap).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="already consumed"):
        from_dlpack(cap)


def test_dlpack_with_torch():
    torch = pytest.importorskip("torch")
    for tt in (torch.randn(2, 3), torch.randn(4).to(torch.bfloat16), torch.tensor([True, False]),
               torch.arange(6).reshape(2, 3).t(), torch.randn(3, requires_grad=True)):
        m = from_dlpack(tt)
        assert m.dtype.name == str(tt.dtype).rsplit(".", 1)[-1]
        ref = tt.detach().float() if tt.dtype == torch.bfloat16 else tt.detach()
        np.testing.assert_array_equal(np.asarray(m.float()._data) if tt.dtype == torch.bfloat16
                                      else m.numpy(), ref.numpy())
    m = mt.randn(3, 2)
    tt = torch.utils.dlpack.from_dlpack(to_dlpack(m))
    assert tt.device.type == m.device.type  # (cuda on a GPU host: the capsule stays on the device)
    np.testing.assert_array_equal(tt.cpu().numpy(), m.numpy())
    m2 = from_dlpack(torch.utils.dlpack.to_dlpack(torch.ones(3)))
    assert m2.tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- jax_function ---------------------------
def test_jax_function_grads_match_jax():
    def f(x, w, scale=2.0):
        return jnp.tanh(x @ w) * scale, jnp.sum(jnp.sin(w))

    op = jax_function(f)
    xn = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    wn = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    x, w = mt.tensor(xn, requires_grad=True), mt.tensor(wn, requires_grad=True)
    y, s = op(x, w, scale=3.0)
    (y.sum() + 2 * s).backward()
    gx, gw = jax.grad(lambda a, b: jnp.sum(f(a, b, 3.0)[0]) + 2 * f(a, b, 3.0)[1], (0, 1))(xn, wn)
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-6)
    assert y.grad_fn is not None and "Backward" in y.grad_fn.name()


def test_jax_function_pytrees_and_jit():
    @jax_function
    def g(d):
        return {"sum": d["a"] + d["b"], "n": jnp.argmax(d["a"])}

    a = mt.tensor([1.0, 3.0, 2.0], requires_grad=True)
    out = g({"a": a, "b": mt.ones(3)})
    assert out["n"].item() == 1 and out["n"].dtype in (mt.int64, mt.int32)
    out["sum"].sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]

    softplus = jax_function(jax.nn.softplus)
    lin = mt.nn.Linear(3, 1)

    @mt.jit
    def loss_fn(x):
        return softplus(lin(x)).sum()

    x = mt.randn(4, 3)
    assert abs(loss_fn(x).item() - softplus(lin(x)).sum().item()) < 1e-5


# ---------------------------------------------------------------- to_jax -----------------------------------
class _Net(mt.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = mt.nn.Linear(3, 8)
        self.bn = mt.nn.BatchNorm1d(8)
        self.fc2 = mt.nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(mt.relu(self.bn(self.fc1(x))))


def test_to_jax_is_pure_and_transformable():
    mt.manual_seed(0)
    net = _Net().eval()
    apply_fn, params = to_jax(net)
    assert list(params) == list(net.state_dict())
    assert all(isinstance(v, jax.Array) for v in params.values())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    want = net(mt.tensor(x)).detach().numpy()
    np.testing.assert_allclose(np.asarray(jax.jit(apply_fn)(params, x)), want, rtol=1e-6)
    per_row = jax.vmap(lambda row: apply_fn(params, row[None])[0])(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(per_row), want, rtol=1e-5, atol=1e-6)
    floats = {k: v for k, v in params.items() if jnp.issubdtype(v.dtype, jnp.floating)}
    rest = {k: v for k, v in params.items() if k not in floats}  # BatchNorm's num_batches_tracked
    grads = jax.grad(lambda p: jnp.sum(apply_fn({**p, **rest}, x)))(floats)
    out = net(mt.tensor(x)).sum()
    out.backward()
    np.testing.assert_allclose(np.asarray(grads["fc1.weight"]), net.fc1.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_to_jax_optax_training_matches_mt_optim_and_loads_back():
    mt.manual_seed(1)
    net = _Net().eval()
    twin = _Net().eval()
    twin.load_state_dict(net.state_dict())
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    apply_fn, params = to_jax(net)
    trainable = {k for k, _ in net.named_parameters()}
    train_p = {k: v for k, v in params.items() if k in trainable}
    frozen = {k: v for k, v in params.items() if k not in trainable}
    tx = optax.adam(1e-2)
    state = tx.init(train_p)

    @jax.jit
    def step(p, s):
        loss, g = jax.value_and_grad(lambda q: jnp.mean((apply_fn({**q, **frozen}, x) - y) ** 2))(p)
        upd, s = tx.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    opt = mt.optim.Adam(twin.parameters(), lr=1e-2)
    mx, my = mt.tensor(x), mt.tensor(y)
    for _ in range(4):
        train_p, state, _ = step(train_p, state)
        opt.zero_grad()
        mt.nn.functional.mse_loss(twin(mx), my).backward()
        opt.step()
    net.load_state_dict({k: from_jax(v) for k, v in {**train_p, **frozen}.items()})
    for (k, a), (_, b) in zip(net.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


# ---------------------------------------------------------------- FlaxModule ----------------------------
class _Mlp(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(3, 8, rngs=rngs)
        self.l2 = nnx.Linear(8, 1, rngs=rngs)

    def __call__(self, x):
        return self.l2(nnx.relu(self.l1(x)))


class _BnMlp(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(3, 4, rngs=rngs)
        self.bn = nnx.BatchNorm(4, rngs=rngs)
        self.layers = nnx.List([nnx.Linear(4, 2, rngs=rngs)])

    def __call__(self, x):
        x = self.bn(self.l1(x))
        for layer in self.layers:
            x = layer(x)
        return x


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    return x, (x.sum(1, keepdims=True) ** 2).astype(np.float32)


def _optax_reference(steps):
    model = _Mlp(nnx.Rngs(0))
    graphdef, params = nnx.split(model, nnx.Param)
    x, y = _data()
    tx = optax.sgd(0.05)
    s = tx.init(params)
    @jax.jit
    def step(params, s):
        g = jax.grad(lambda p: jnp.mean((nnx.merge(graphdef, p)(x) - y) ** 2))(params)
        u, s = tx.update(g, s, params)
        return optax.apply_updates(params, u), s

    for _ in range(steps):
        params, s = step(params, s)
    return params


@pytest.mark.parametrize("compiled", [False, True])
def test_flax_module_trains_with_mt_optim_like_optax(compiled):
    fm = FlaxModule(_Mlp(nnx.Rngs(0)))
    assert [n for n, _ in fm.named_parameters()] == ["l1.bias", "l1.kernel", "l2.bias", "l2.kernel"]
    assert all(isinstance(p, mt.nn.Parameter) for p in fm.parameters())
    opt = mt.optim.SGD(fm.parameters(), lr=0.05)
    x, y = (mt.tensor(a) for a in _data())

    def step():
        opt.zero_grad()
        loss = ((fm(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = mt.jit(step)
    losses = [step().item() for _ in range(5)]
    assert losses[-1] < losses[0]
    ref = _optax_reference(5)
    np.testing.assert_allclose(fm.l1.kernel.detach().numpy(), np.asarray(ref["l1"]["kernel"][...]),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fm.to_nnx().l2.bias[...], ref["l2"]["bias"][...], rtol=1e-5, atol=1e-6)


def test_flax_module_state_dict_buffers_and_modes():
    fm = FlaxModule(_BnMlp(nnx.Rngs(0)))
    sd = fm.state_dict()
    assert {"l1.kernel", "bn.scale", "bn.mean", "bn.var", "layers.0.kernel"} <= set(sd)
    assert [n for n, _ in fm.named_buffers()] == ["bn.mean", "bn.var"]
    x = mt.randn(8, 3) * 3 + 1
    fm(x)
    assert not np.allclose(fm.bn.mean.numpy(), 0)  # running stats were written back
    fm.eval()
    a = fm(x)
    b = fm(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    other = FlaxModule(_BnMlp(nnx.Rngs(5))).eval()
    other.load_state_dict(fm.state_dict())
    np.testing.assert_allclose(other(x).detach().numpy(), a.detach().numpy(), rtol=1e-6)
    fm.train()
    assert fm.training
