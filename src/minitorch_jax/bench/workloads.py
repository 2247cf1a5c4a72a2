"""The benchmark workloads: one full training step (forward, backward, optimizer) each.

Every model is written ONCE against a torch-shaped namespace ``lib`` (``minitorch_jax`` or ``torch``),
so the very same code builds the minitorch_jax model (run eagerly and under ``mt.jit``) and the
PyTorch model (``--compare torch``). The ``--compare jax`` step is written by hand in JAX + optax,
reading the minitorch_jax model's initial parameters by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Workload", "WORKLOADS", "make_step"]


@dataclass
class Workload:
    """One benchmark workload.

    Attributes:
        name: the ``--workloads`` name.
        description: one line for the table and the JSON.
        batch: default batch size (``--batch-size`` overrides it).
        build: ``build(lib) -> Module`` for ``lib`` = minitorch_jax or torch.
        data: ``data(rng, batch) -> (x, y)`` numpy arrays (x float32, y int64 labels or float32 targets).
        loss: 'cross_entropy' or 'mse_loss' (a ``lib.nn.functional`` name).
        jax_forward: ``jax_forward(params, x, key) -> output`` hand-written in JAX (training mode).
        jax_buffers: names of BatchNorm running statistics the JAX step updates (as torch does).
    """

    name: str
    description: str
    batch: int
    build: Callable
    data: Callable
    loss: str
    jax_forward: Callable
    jax_buffers: tuple = field(default_factory=tuple)


def make_step(lib, model, opt, loss: str):
    """The training step shared by minitorch_jax (eager and ``mt.jit``) and torch: plain PyTorch code."""
    loss_fn = getattr(lib.nn.functional, loss)

    def train_step(x, y):
        opt.zero_grad()
        out = loss_fn(model(x), y)
        out.backward()
        opt.step()
        return out

    return train_step


def _labels(rng, batch, classes=10):
    return rng.integers(0, classes, batch).astype(np.int64)


# ----- chain: an elementwise chain ---------------------------------------------------------
CHAIN_FEATURES = 256


def _chain_build(lib):
    nn = lib.nn

    class Chain(nn.Module):
        """35 elementwise ops on a learned scale and shift."""

        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(CHAIN_FEATURES))
            self.shift = nn.Parameter(lib.zeros(CHAIN_FEATURES))

        def forward(self, x):
            h = x * self.scale + self.shift
            for _ in range(3):
                h = lib.tanh(h) * 0.9 + h * 0.1
                h = lib.sigmoid(h) * h
                h = lib.exp(-h * h) + lib.sin(h)
            return h

    return Chain()


def _chain_data(rng, batch):
    x = rng.standard_normal((batch, CHAIN_FEATURES)).astype(np.float32)
    return x, np.tanh(x).astype(np.float32)


def _chain_jax(p, x, key):
    import jax
    import jax.numpy as jnp
    h = x * p["scale"] + p["shift"]
    for _ in range(3):
        h = jnp.tanh(h) * 0.9 + h * 0.1
        h = jax.nn.sigmoid(h) * h
        h = jnp.exp(-h * h) + jnp.sin(h)
    return h


# ----- MLPs ------------------------------------------------------------------------------------
def _mlp_build(sizes):
    def build(lib):
        nn = lib.nn
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)
    return build


def _mlp_data(features):
    def data(rng, batch):
        return rng.standard_normal((batch, features)).astype(np.float32), _labels(rng, batch)
    return data


def _mlp_jax(n_layers):
    def fwd(p, x, key):
        import jax
        for i in range(n_layers):
            x = x @ p[f"{2 * i}.weight"].T + p[f"{2 * i}.bias"]
            if i < n_layers - 1:
                x = jax.nn.relu(x)
        return x
    return fwd


# ----- cnn: conv, batch norm, pooling, dropout ----------------------------------------------------
CNN_HW = 16


def _cnn_build(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(16 * (CNN_HW // 4) ** 2, 10))


def _cnn_data(rng, batch):
    return rng.standard_normal((batch, 1, CNN_HW, CNN_HW)).astype(np.float32), _labels(rng, batch)


def _dropout(x, key, p):
    import jax
    import jax.numpy as jnp
    keep = jax.random.bernoulli(key, 1.0 - p, x.shape)
    return jnp.where(keep, x / (1.0 - p), jnp.zeros((), x.dtype))


def _cnn_jax(p, x, key):
    import jax

    def conv(x, i):
        y = jax.lax.conv_general_dilated(x, p[f"{i}.weight"], (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + p[f"{i}.bias"][None, :, None, None]

    def bn(x, i):
        mean = x.mean((0, 2, 3), keepdims=True)
        var = x.var((0, 2, 3), keepdims=True)
        y = (x - mean) * jax.lax.rsqrt(var + 1e-5)
        stats = {f"{i}.running_mean": mean.reshape(-1), f"{i}.running_var": var.reshape(-1)}
        return y * p[f"{i}.weight"][None, :, None, None] + p[f"{i}.bias"][None, :, None, None], stats

    def pool(x):  # 2x2 max pooling, stride 2
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5))

    x, s1 = bn(conv(x, 0), 1)
    x = pool(jax.nn.relu(x))
    x, s2 = bn(conv(x, 4), 5)
    x = pool(jax.nn.relu(x)).reshape(x.shape[0], -1)
    x = _dropout(x, key, 0.25)
    return x @ p["10.weight"].T + p["10.bias"], {**s1, **s2}


# ----- lstm ------------------------------------------------------------------------------------
LSTM_SEQ, LSTM_IN, LSTM_HIDDEN = 16, 16, 32


def _lstm_build(lib):
    nn = lib.nn

    class LSTMClassifier(nn.Module):
        """An LSTM over the sequence, classifying from the last hidden state."""

        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(LSTM_IN, LSTM_HIDDEN, batch_first=True)
            self.head = nn.Linear(LSTM_HIDDEN, 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return LSTMClassifier()


def _lstm_data(rng, batch):
    return rng.standard_normal((batch, LSTM_SEQ, LSTM_IN)).astype(np.float32), _labels(rng, batch)


def _lstm_jax(p, x, key):
    import jax
    import jax.numpy as jnp
    wi, wh = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"]
    b = p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]
    h0 = jnp.zeros((x.shape[0], LSTM_HIDDEN), x.dtype)

    def cell(carry, xt):
        h, c = carry
        gates = xt @ wi.T + h @ wh.T + b
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    (h, _), _ = jax.lax.scan(cell, (h0, h0), jnp.swapaxes(x, 0, 1))
    return h @ p["head.weight"].T + p["head.bias"]


# ----- transformer: one encoder block ----------------------------------------------------------
TR_SEQ, TR_D, TR_HEADS, TR_FF, TR_DROPOUT = 16, 32, 4, 64, 0.1


def _tr_build(lib):
    nn = lib.nn

    class Encoder(nn.Module):
        """One post-norm TransformerEncoderLayer, mean-pooled, with a classification head."""

        def __init__(self):
            super().__init__()
            self.enc = nn.TransformerEncoderLayer(TR_D, TR_HEADS, TR_FF, dropout=TR_DROPOUT, batch_first=True)
            self.head = nn.Linear(TR_D, 10)

        def forward(self, x):
            return self.head(self.enc(x).mean(1))

    return Encoder()


def _tr_data(rng, batch):
    return rng.standard_normal((batch, TR_SEQ, TR_D)).astype(np.float32), _labels(rng, batch)


def _tr_jax(p, x, key):
    import jax
    import jax.numpy as jnp
    k = jax.random.split(key, 4)
    n, s, d = x.shape
    hd = d // TR_HEADS

    def ln(x, name):
        mu = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        return (x - mu) * jax.lax.rsqrt(var + 1e-5) * p[f"{name}.weight"] + p[f"{name}.bias"]

    def lin(x, name):
        return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]

    qkv = x @ p["enc.self_attn.in_proj_weight"].T + p["enc.self_attn.in_proj_bias"]
    q, kk, v = (t.reshape(n, s, TR_HEADS, hd).transpose(0, 2, 1, 3) for t in jnp.split(qkv, 3, -1))
    att = jax.nn.softmax(q @ kk.transpose(0, 1, 3, 2) / jnp.sqrt(jnp.array(hd, x.dtype)), axis=-1)
    att = _dropout(att, k[0], TR_DROPOUT)
    a = (att @ v).transpose(0, 2, 1, 3).reshape(n, s, d)
    x = ln(x + _dropout(lin(a, "enc.self_attn.out_proj"), k[1], TR_DROPOUT), "enc.norm1")
    ff = lin(_dropout(jax.nn.relu(lin(x, "enc.linear1")), k[2], TR_DROPOUT), "enc.linear2")
    x = ln(x + _dropout(ff, k[3], TR_DROPOUT), "enc.norm2")
    return lin(x.mean(1), "head")


WORKLOADS: dict[str, Workload] = {w.name: w for w in [
    Workload("chain", f"elementwise chain, 35 ops on [B, {CHAIN_FEATURES}]", 64, _chain_build, _chain_data,
             "mse_loss", _chain_jax),
    Workload("tiny-mlp", "MLP 32-64-64-10", 32, _mlp_build((32, 64, 64, 10)), _mlp_data(32),
             "cross_entropy", _mlp_jax(3)),
    Workload("mlp", "MLP 784-256-256-10", 64, _mlp_build((784, 256, 256, 10)), _mlp_data(784),
             "cross_entropy", _mlp_jax(3)),
    Workload("cnn", f"2x(conv-BN-ReLU-pool), dropout, linear on 1x{CNN_HW}x{CNN_HW}", 16, _cnn_build,
             _cnn_data, "cross_entropy", _cnn_jax,
             ("1.running_mean", "1.running_var", "5.running_mean", "5.running_var")),
    Workload("lstm", f"LSTM {LSTM_IN}->{LSTM_HIDDEN}, {LSTM_SEQ} steps, linear head", 8, _lstm_build,
             _lstm_data, "cross_entropy", _lstm_jax),
    Workload("transformer", f"encoder block d={TR_D} heads={TR_HEADS} ff={TR_FF}, seq {TR_SEQ}", 8,
             _tr_build, _tr_data, "cross_entropy", _tr_jax),
]}
