#!/usr/bin/env python
"""Eager training step of an MLP 784-512-512-10 (batch 128, cross-entropy, Adam), one process.

Competitors (float32, same data, same initial weights):

* ``mt eager``: minitorch_jax - forward, ``loss.backward()``, ``mt.optim.Adam.step()``, ``zero_grad``.
  Uses ``mt.nn.Linear`` / ``mt.nn.functional.cross_entropy`` when they exist, otherwise raw
  Parameters (``x @ w.t() + b``, ``mt.relu``, ``log_softmax`` + ``gather``).
* ``torch eager``: the same step with torch.nn / torch.optim.Adam (when torch is installed).
* ``jax+optax (no jit)``: ``jax.value_and_grad`` + ``optax.adam`` update + ``apply_updates``, un-jitted.
* ``jax+optax (jit)``: the same step as ONE hand-written ``jax.jit``.
* ``mt Adam.step only`` / ``torch Adam.step only``: the optimizer step alone (grads already set).

Each number is the median over rounds (interleaved between competitors) of the mean time per
step, after warm-up, with every JAX result blocked on. Target: mt eager <= 1.5x torch eager.

Usage::

    python benchmarks/eager_step.py            # full run
    python benchmarks/eager_step.py --quick    # a few steps (smoke test)
    python benchmarks/eager_step.py --json results.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import minitorch_jax as mt

try:
    import torch
except ImportError:  # the comparison with torch is optional
    torch = None

TARGET = 1.5  # mt eager / torch eager
SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 1e-3
FULL = (5, 7, 0.3, 3, 2000)  # warm-up calls, rounds, seconds per round, min calls, max calls
QUICK = (1, 1, 0.0, 2, 2)


def measure(competitors: dict, settings) -> dict:
    """Time each ``name: fn`` (``fn`` runs one step and waits for it); rounds are interleaved."""
    warmup, rounds, per_round, min_calls, max_calls = settings
    calls = {}
    for name, fn in competitors.items():
        for _ in range(warmup):
            fn()
        if per_round <= 0:
            calls[name] = min_calls
            continue
        t0 = time.perf_counter()
        for _ in range(3):
            fn()
        one = (time.perf_counter() - t0) / 3
        calls[name] = int(min(max_calls, max(min_calls, per_round / max(one, 1e-7))))
    gc.collect()
    times = {name: [] for name in competitors}
    for _ in range(rounds):
        for name, fn in competitors.items():
            n = calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: {"median_ms": statistics.median(v) * 1e3, "min_ms": min(v) * 1e3, "calls": calls[name],
                   "rounds": rounds} for name, v in times.items()}


def data(seed=0):
    """Initial weights (torch Linear layout: weight [out, in]) and one batch."""
    rng = np.random.default_rng(seed)
    ws = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        ws.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        ws.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int64)
    return ws, x, y


# ----- minitorch_jax -------------------------------------------------------------------------
def mt_step_fn(ws, x, y):
    """The mt eager step; returns ``(step, model description, params)``."""
    nn = mt.nn
    F = getattr(nn, "functional", None)
    xs, ys = mt.tensor(x), mt.tensor(y)
    if hasattr(nn, "Linear") and F is not None and hasattr(F, "cross_entropy"):
        layers = [nn.Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:])]
        params = [p for m in layers for p in m.parameters()]
        with mt.no_grad():
            for p, w in zip(params, ws):
                p.copy_(mt.tensor(w))
        l1, l2, l3 = layers

        def loss_fn():
            return F.cross_entropy(l3(mt.relu(l2(mt.relu(l1(xs))))), ys)
        desc = "nn.Linear + mt.relu + F.cross_entropy"
    else:
        params = [nn.Parameter(mt.tensor(w)) for w in ws]
        w1, b1, w2, b2, w3, b3 = params
        idx = ys.reshape(-1, 1)

        def loss_fn():
            h = mt.relu(xs @ w1.t() + b1)
            h = mt.relu(h @ w2.t() + b2)
            out = h @ w3.t() + b3
            return -mt.log_softmax(out, 1).gather(1, idx).mean()
        desc = "raw Parameters (x @ w.t() + b, relu, log_softmax + gather)"
    opt = mt.optim.Adam(params, lr=LR)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        jax.block_until_ready([p._data for p in params])
        return loss

    return step, desc, params, opt


# ----- torch ---------------------------------------------------------------------------------
def torch_step_fn(ws, x, y):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    with torch.no_grad():
        for p, w in zip(model.parameters(), ws):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        return loss

    return step, list(model.parameters()), opt


# ----- raw JAX + optax -----------------------------------------------------------------------
def _jax_loss(params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h = jax.nn.relu(x @ w1.T + b1)
    h = jax.nn.relu(h @ w2.T + b2)
    out = h @ w3.T + b3
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out, 1), y[:, None], 1))


def jax_step_fns(ws, x, y):
    tx = optax.adam(LR)
    xs, ys = jnp.asarray(x), jnp.asarray(y)

    def raw(params, state):
        loss, grads = jax.value_and_grad(_jax_loss)(params, xs, ys)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    jitted = jax.jit(raw)
    fns = {}
    for name, f in (("jax+optax (no jit)", raw), ("jax+optax (jit)", jitted)):
        box = {"p": [jnp.asarray(w) for w in ws]}
        box["s"] = tx.init(box["p"])

        def step(f=f, box=box):
            box["p"], box["s"], loss = f(box["p"], box["s"])
            jax.block_until_ready(box["p"])
            return loss

        fns[name] = step
    return fns


def check_same_losses(ws, x, y, steps=5) -> float:
    """Max |mt loss - torch loss| over a few steps from the same start (0 when torch is missing)."""
    if torch is None:
        return 0.0
    ms, _, _, _ = mt_step_fn(ws, x, y)
    ts, _, _ = torch_step_fn(ws, x, y)
    return max(abs(float(ms().detach()) - float(ts().detach())) for _ in range(steps))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few steps per competitor (smoke test)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    settings = QUICK if args.quick else FULL
    ws, x, y = data()

    diff = check_same_losses(ws, x, y)
    mt_step, desc, mt_params, mt_opt = mt_step_fn(ws, x, y)
    comp = {"mt eager": mt_step}
    if torch is not None:
        t_step, t_params, t_opt = torch_step_fn(ws, x, y)
        comp["torch eager"] = t_step
    comp.update(jax_step_fns(ws, x, y))

    # the optimizer step alone (gradients already in .grad)
    mt_step()

    def mt_opt_only():
        mt_opt.step()
        jax.block_until_ready([p._data for p in mt_params])
    comp["mt Adam.step only"] = mt_opt_only
    if torch is not None:
        t_step()
        comp["torch Adam.step only"] = t_opt.step

    res = measure(comp, settings)
    base = res.get("torch eager", res["jax+optax (no jit)"])["median_ms"]
    base_name = "torch eager" if "torch eager" in res else "jax+optax (no jit)"
    print(f"eager training step: MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, cross-entropy, Adam")
    print(f"mt model: {desc}")
    print(f"python {platform.python_version()}, jax {jax.__version__}, optax {optax.__version__}, "
          f"torch {torch.__version__ if torch is not None else 'not installed'}, "
          f"cpus: {os.cpu_count()}, device: {jax.devices()[0].platform}")
    print(f"{'competitor':<24}{'median ms/step':>16}{'min ms':>10}{'/ ' + base_name:>20}")
    for name, r in res.items():
        ratio = r["median_ms"] / base if not name.endswith("only") else float("nan")
        print(f"{name:<24}{r['median_ms']:>16.3f}{r['min_ms']:>10.3f}{ratio:>20.2f}")
    if "torch Adam.step only" in res:
        print(f"optimizer step alone: mt/torch = "
              f"{res['mt Adam.step only']['median_ms'] / res['torch Adam.step only']['median_ms']:.2f}")
    print(f"max |mt loss - torch loss| over 5 steps: {diff:.2e}")
    ok = True
    if torch is not None:
        ratio = res["mt eager"]["median_ms"] / res["torch eager"]["median_ms"]
        ok = ratio <= TARGET
        verdict = "OK" if ok else "MISSED"
        print(f"targets: mt eager / torch eager = {ratio:.2f} (target <= {TARGET}): {verdict}")
    else:
        print("targets: torch not installed, ratio not checked")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": res, "model": desc, "loss_diff": diff, "target": TARGET}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
