#!/usr/bin/env python
"""Train a small MLP with minitorch_jax, first eagerly, then as one compiled XLA step.

The model is a 2-layer MLP regressing a smooth function of 8 inputs (generated data). Both runs
use the same mt code for the loss and the same initial weights and full-batch SGD:

* eager: PyTorch style - ``loss.backward()`` fills ``.grad``, the update runs under
  ``mt.no_grad()`` with in-place ops;
* compiled: Tensor is a JAX pytree, so ``jax.jit`` takes a pure step function of Tensors and
  ``jax.value_and_grad`` differentiates the same mt loss (until ``mt.jit`` lands).

It prints the loss curves, the final losses and ms/step for both, and checks they agree.

Usage: ``python examples/demo.py [--steps N] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time

import jax
import numpy as np

import minitorch_jax as mt

N, D, H = 512, 8, 32
LR = 0.2
HAS_MATMUL = hasattr(mt.Tensor, "__matmul__")


def make_data(seed: int = 0):
    """Inputs ``x`` of shape (N, D) and targets ``y`` of shape (N,), as numpy float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D)).astype(np.float32)
    a = rng.standard_normal(D).astype(np.float32) / np.sqrt(D)
    b = rng.standard_normal(D).astype(np.float32) / np.sqrt(D)
    y = np.sin(2.0 * x @ a) + 0.5 * np.tanh(x @ b) ** 2
    y += 0.05 * rng.standard_normal(N).astype(np.float32)
    return x, y.astype(np.float32)


def as_input(x: np.ndarray) -> mt.Tensor:
    """The input tensor: (N, D), or (N, D, 1) when mt has no matmul yet (see ``layer1``)."""
    return mt.tensor(x if HAS_MATMUL else x[:, :, None])


def init_params(seed: int = 1) -> dict:
    """Weights scaled like torch's default init, as leaf tensors that require grad."""
    rng = np.random.default_rng(seed)

    def rand(*shape, scale):
        return (mt.tensor(rng.uniform(-1.0, 1.0, shape).astype(np.float32)) * scale).requires_grad_()

    return {"w1": rand(D, H, scale=D ** -0.5), "b1": rand(H, scale=D ** -0.5),
            "w2": rand(H, scale=H ** -0.5), "b2": rand(1, scale=H ** -0.5)}


def layer1(x: mt.Tensor, w1: mt.Tensor) -> mt.Tensor:
    """``x @ w1`` for x (N, D), w1 (D, H); without mt matmul, a broadcast product and a sum."""
    if HAS_MATMUL:
        return x @ w1
    return (x * w1).sum(1)  # (N, D, 1) * (D, H) -> (N, D, H) -> (N, H)


def loss_fn(p: dict, x: mt.Tensor, y: mt.Tensor) -> mt.Tensor:
    """Mean squared error of the MLP ``tanh(x w1 + b1) . w2 + b2`` (written with mt ops)."""
    h = mt.tanh(layer1(x, p["w1"]) + p["b1"])
    pred = (h * p["w2"]).sum(-1) + p["b2"]
    return ((pred - y) ** 2).mean()


def train_eager(params: dict, x, y, steps: int):
    """Full-batch SGD with ``loss.backward()``; returns the losses and the time per step."""
    losses = []
    t0 = None
    for step in range(steps):
        if step == 2:  # the first steps compile each op's forward and backward
            t0 = time.perf_counter()
        loss = loss_fn(params, x, y)
        for p in params.values():
            p.grad = None
        loss.backward()
        with mt.no_grad():
            for p in params.values():
                p -= LR * p.grad
        losses.append(loss.item())
    ms = (time.perf_counter() - t0) * 1e3 / max(steps - 2, 1) if t0 is not None else float("nan")
    return losses, ms


def sgd_step(params: dict, x, y):
    """One pure SGD step on a dict of Tensors: ``(new_params, loss)``, traceable by jax.jit."""
    loss, grads = jax.value_and_grad(lambda p: loss_fn(p, x, y).jax())(params)
    return {k: params[k] - LR * grads[k] for k in params}, loss


def train_jit(params: dict, x, y, steps: int):
    """The same training with ``jax.jit(sgd_step)``; returns losses, ms/step and compile time."""
    step_fn = jax.jit(sgd_step)
    params = {k: v.detach() for k, v in params.items()}
    t0 = time.perf_counter()
    params, loss = step_fn(params, x, y)
    jax.block_until_ready(loss)
    compile_s = time.perf_counter() - t0
    losses = [float(loss)]
    t0 = time.perf_counter()
    for _ in range(steps - 1):
        params, loss = step_fn(params, x, y)
        losses.append(loss)  # kept on device: no host sync inside the loop
    jax.block_until_ready(params)
    ms = (time.perf_counter() - t0) * 1e3 / max(steps - 1, 1)
    return [float(v) for v in losses], ms, compile_s


def show_curve(name: str, losses: list, points: int = 6) -> None:
    """Print a few evenly spaced points of a loss curve."""
    idx = sorted({round(i * (len(losses) - 1) / (points - 1)) for i in range(points)})
    print(f"  {name:<9}" + "  ".join(f"[{i}] {losses[i]:.4f}" for i in idx))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train a small MLP eagerly and compiled with minitorch_jax.")
    ap.add_argument("--steps", type=int, default=None, help="SGD steps per run (default 300)")
    ap.add_argument("--quick", action="store_true", help="a short run (40 steps) for smoke tests")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (40 if args.quick else 300)
    if steps < 3:
        ap.error("--steps must be at least 3")

    xn, yn = make_data()
    x, y = as_input(xn), mt.tensor(yn)
    init = init_params()
    print(f"2-layer MLP ({D} -> {H} -> 1), {N} samples, full-batch SGD lr={LR}, {steps} steps, "
          f"jax on {jax.devices()[0]}")
    if not HAS_MATMUL:
        print("  (mt has no matmul yet: layer 1 is a broadcast product and a sum)")

    eager_params = {k: v.detach().clone().requires_grad_() for k, v in init.items()}  # (detach shares)
    eager_losses, eager_ms = train_eager(eager_params, x, y, steps)
    jit_losses, jit_ms, compile_s = train_jit(init, x, y, steps)

    print("loss curves:")
    show_curve("eager", eager_losses)
    show_curve("jitted", jit_losses)
    print(f"final loss: eager {eager_losses[-1]:.6f}, jitted {jit_losses[-1]:.6f}")
    print(f"eager:  {eager_ms:.3f} ms/step")
    print(f"jitted: {jit_ms:.3f} ms/step (compile {compile_s:.2f} s), "
          f"speed-up {eager_ms / jit_ms:.1f}x")

    a, b = eager_losses[-1], jit_losses[-1]
    assert abs(a - b) <= 1e-3 + 1e-2 * max(a, b), f"eager and jitted losses differ: {a} vs {b}"
    assert a < 0.9 * eager_losses[0], f"training did not reduce the loss: {eager_losses[0]} -> {a}"
    print("OK: eager and jitted training reach the same loss")
    return 0


if __name__ == "__main__":
    sys.exit(main())
