"""Layer forward+backward: mt eager vs raw jax.numpy eager vs jax.jit of the same functional
computation vs torch eager, in one run.

Workloads (issue 3): Conv2d(64->64, 3x3) on 32x64x32x32, LSTM(256, 256) on (T=32, B=32),
MultiheadAttention(256, 8) on (B=16, L=128). Reported: median ms per forward+backward and the
ratio mt eager / raw jax eager (target <= 2x).

    python benchmarks/layers.py [--repeat 10] [--small]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import minitorch_jax as mt


def _median_ms(fn, repeat, warmup=2):
    for _ in range(warmup):
        jax.block_until_ready(fn())
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def _grads_of(ts):
    return [t.grad._data for t in ts]


def conv_case(small):
    n, c, hw = (4, 16, 16) if small else (32, 64, 32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, hw, hw)).astype("float32")
    layer = mt.nn.Conv2d(c, c, 3, padding=1)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()

    def mt_step():
        xt = mt.tensor(x, requires_grad=True)
        layer.zero_grad()
        layer(xt).sum().backward()
        return _grads_of([xt, layer.weight, layer.bias])

    def f(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return (y + b[None, :, None, None]).sum()

    args = (jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))
    return "Conv2d", mt_step, f, args, _torch_conv(x, w, b)


def _torch_conv(x, w, b):
    try:
        import torch
    except ImportError:
        return None
    layer = torch.nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.bias.copy_(torch.from_numpy(b))

    def step():
        xt = torch.from_numpy(x).requires_grad_()
        layer.zero_grad()
        layer(xt).sum().backward()
        return xt.grad.numpy()
    return step


def lstm_case(small):
    t_, b_, h = (8, 4, 32) if small else (32, 32, 256)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((t_, b_, h)).astype("float32")
    layer = mt.nn.LSTM(h, h)
    params = [p.detach().numpy() for p in layer.parameters()]

    def mt_step():
        xt = mt.tensor(x, requires_grad=True)
        layer.zero_grad()
        out, _ = layer(xt)
        out.sum().backward()
        return _grads_of([xt, *layer.parameters()])

    def f(x, w_ih, w_hh, b_ih, b_hh):
        def cell(carry, xt):
            hh, cc = carry
            gates = xt @ w_ih.T + b_ih + hh @ w_hh.T + b_hh
            i, fg, g, o = jnp.split(gates, 4, axis=-1)
            cc = jax.nn.sigmoid(fg) * cc + jax.nn.sigmoid(i) * jnp.tanh(g)
            hh = jax.nn.sigmoid(o) * jnp.tanh(cc)
            return (hh, cc), hh
        z = jnp.zeros((x.shape[1], w_hh.shape[1]), x.dtype)
        _, ys = jax.lax.scan(cell, (z, z), x)
        return ys.sum()

    args = (jnp.asarray(x), *map(jnp.asarray, params))
    return "LSTM", mt_step, f, args, _torch_lstm(x, params)


def _torch_lstm(x, params):
    try:
        import torch
    except ImportError:
        return None
    h = x.shape[-1]
    layer = torch.nn.LSTM(h, h)
    with torch.no_grad():
        for p, v in zip(layer.parameters(), params):
            p.copy_(torch.from_numpy(v))

    def step():
        xt = torch.from_numpy(x).requires_grad_()
        layer.zero_grad()
        layer(xt)[0].sum().backward()
        return xt.grad.numpy()
    return step


def mha_case(small):
    b_, l_, e, heads = (2, 16, 32, 4) if small else (16, 128, 256, 8)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((b_, l_, e)).astype("float32")
    layer = mt.nn.MultiheadAttention(e, heads, batch_first=True)
    w_in, b_in = layer.in_proj_weight.detach().numpy(), layer.in_proj_bias.detach().numpy()
    w_out, b_out = layer.out_proj.weight.detach().numpy(), layer.out_proj.bias.detach().numpy()

    def mt_step():
        xt = mt.tensor(x, requires_grad=True)
        layer.zero_grad()
        out, _ = layer(xt, xt, xt, need_weights=False)
        out.sum().backward()
        return _grads_of([xt, layer.in_proj_weight])

    def f(x, w_in, b_in, w_out, b_out):
        q, k, v = jnp.split(x @ w_in.T + b_in, 3, axis=-1)

        def heads_of(t):
            return t.reshape(b_, l_, heads, e // heads).transpose(0, 2, 1, 3)
        q, k, v = heads_of(q), heads_of(k), heads_of(v)
        att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(e // heads), axis=-1)
        o = (att @ v).transpose(0, 2, 1, 3).reshape(b_, l_, e)
        return (o @ w_out.T + b_out).sum()

    args = tuple(map(jnp.asarray, (x, w_in, b_in, w_out, b_out)))
    return "MultiheadAttention", mt_step, f, args, _torch_mha(x, w_in, b_in, w_out, b_out, heads)


def _torch_mha(x, w_in, b_in, w_out, b_out, heads):
    try:
        import torch
    except ImportError:
        return None
    layer = torch.nn.MultiheadAttention(x.shape[-1], heads, batch_first=True)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.from_numpy(w_in))
        layer.in_proj_bias.copy_(torch.from_numpy(b_in))
        layer.out_proj.weight.copy_(torch.from_numpy(w_out))
        layer.out_proj.bias.copy_(torch.from_numpy(b_out))

    def step():
        xt = torch.from_numpy(x).requires_grad_()
        layer.zero_grad()
        layer(xt, xt, xt, need_weights=False)[0].sum().backward()
        return xt.grad.numpy()
    return step


def run(repeat=10, small=False):
    rows = []
    for case in (conv_case, lstm_case, mha_case):
        name, mt_step, f, args, torch_step = case(small)
        grad_f = jax.grad(f, argnums=tuple(range(len(args))))
        raw = _median_ms(lambda g=grad_f, a=args: g(*a), repeat)
        jitted = jax.jit(grad_f)
        jit_ms = _median_ms(lambda g=jitted, a=args: g(*a), repeat)
        mt_ms = _median_ms(mt_step, repeat)
        torch_ms = _median_ms(torch_step, repeat) if torch_step is not None else None
        rows.append((name, mt_ms, raw, jit_ms, torch_ms))
    return rows


def report(rows):
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; forward+backward, median ms")
    print(f"{'layer':20s}{'mt eager':>10s}{'jax eager':>11s}{'jax.jit':>9s}{'torch eager':>13s}"
          f"{'mt/jax eager':>14s}")
    for name, mt_ms, raw, jit_ms, torch_ms in rows:
        t = f"{torch_ms:13.2f}" if torch_ms is not None else f"{'-':>13s}"
        print(f"{name:20s}{mt_ms:10.2f}{raw:11.2f}{jit_ms:9.2f}{t}{mt_ms / raw:13.2f}x")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--small", action="store_true", help="tiny sizes (a smoke run)")
    a = p.parse_args(argv)
    rows = run(a.repeat, a.small)
    report(rows)
    return rows


if __name__ == "__main__":
    main()
