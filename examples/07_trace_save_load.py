#!/usr/bin/env python
"""Trace a model into one program, save it, and run it in a fresh Python process without the model code.

What it teaches:

* ``mt.jit.trace(model, example_inputs)`` records the model (weights and buffers included) as one XLA
  program (``jax.export`` / StableHLO); ``traced.graph`` lists it;
* ``mt.jit.save(traced, path)`` writes program + weights to one file; ``mt.jit.load(path)`` reads it back
  in another process that imports only ``minitorch_jax`` and ``numpy`` - never this file or the model's
  classes - and checks the input signature (shape and dtype) on every call;
* ``dynamic_batch=True`` makes dim 0 symbolic, so one saved program serves any batch size;
* a whole training step (forward, backward, optimizer update) can be traced and saved too: the loaded
  program carries the weights and optimizer state from call to call and goes on training.

Usage: ``python examples/07_trace_save_load.py [--steps N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import minitorch_jax as mt
from minitorch_jax import nn

# What the fresh process runs: it knows nothing about MLP or this file.
CONSUMER = r"""
import sys
from pathlib import Path
import numpy as np
import minitorch_jax as mt

d = Path(sys.argv[1])
data = np.load(d / "data.npz")
x, y = data["x"], data["y"]

f = mt.jit.load(d / "mlp.mtjit")
print(f"[1] loaded {f!r}")
out = f(mt.tensor(x))
np.save(d / "pred.npy", out.numpy())
print(f"    ran on {list(x.shape)} -> {list(out.shape)}")
try:
    f(mt.tensor(x[:3]))
except ValueError as e:
    print(f"    wrong batch size refused: {e}")

g = mt.jit.load(d / "mlp_dynamic.mtjit")
print(f"[2] loaded {g!r}")
outs = [g(mt.tensor(x[:n])).numpy() for n in (1, 7, len(x))]
np.save(d / "dyn.npy", outs[-1])
print(f"    batch sizes 1, 7, {len(x)} -> output shapes {[list(o.shape) for o in outs]}")

h = mt.jit.load(d / "train_step.mtjit")
print(f"[3] loaded {h!r}")
losses = [h(mt.tensor(x), mt.tensor(y)).item() for _ in range(int(sys.argv[2]))]
print(f"    the training step run {len(losses)} times: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
"""


class MLP(nn.Module):
    """Regression MLP: (N, 8) -> (N, 1), with LayerNorm and GELU."""

    def __init__(self, d_in: int = 8, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.LayerNorm(hidden), nn.GELU(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def make_data(n: int = 256, seed: int = 0):
    """Inputs (n, 8) and targets (n, 1), float32 numpy arrays."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    y = np.sin(x[:, :1] * 2) + 0.5 * x[:, 1:2] * x[:, 2:3]
    return x, y.astype(np.float32)


def consume(directory: Path, train_steps: int) -> str:
    """Run :data:`CONSUMER` in a fresh interpreter; return its stdout (raise with its stderr on failure)."""
    r = subprocess.run([sys.executable, "-c", CONSUMER, str(directory), str(train_steps)],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"the fresh process failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="mt.jit.trace / save / load, run in a fresh process.")
    ap.add_argument("--steps", type=int, default=200, help="training steps before tracing")
    ap.add_argument("--train-steps", type=int, default=20, help="steps the loaded training step runs")
    ap.add_argument("--out", type=Path, default=None, help="directory for the saved programs (default: temp)")
    args = ap.parse_args(argv)

    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name)
    else:
        out = args.out
        out.mkdir(parents=True, exist_ok=True)

    mt.manual_seed(0)
    xn, yn = make_data()
    x, y = mt.tensor(xn), mt.tensor(yn)
    model = MLP()
    opt = mt.optim.Adam(model.parameters(), lr=1e-2)

    def train_step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = mt.jit(train_step)
    for _ in range(args.steps):
        loss = step(x, y)
    print(f"trained {args.steps} steps, loss {loss.item():.4f}")

    # 1. a traced forward with a fixed signature
    model.eval()
    with mt.no_grad():
        expected = model(x).numpy()
        traced = mt.jit.trace(model, (x,))
    print(f"[1] {traced!r}")
    lines = traced.graph.splitlines()
    print("    traced.graph (first lines):\n      " + "\n      ".join(lines[:4])
          + f"\n      ... ({len(lines)} lines)")
    mt.jit.save(traced, out / "mlp.mtjit")
    np.savez(out / "data.npz", x=xn, y=yn)

    # 2. dynamic_batch=True: one program for every batch size
    with mt.no_grad():
        dyn = mt.jit.trace(model, (x[:4],), dynamic_batch=True)
    mt.jit.save(dyn, out / "mlp_dynamic.mtjit")
    print(f"[2] {dyn!r}  (dynamic_batch=True)")

    # 3. a whole training step (it runs once while tracing, as torch.jit.trace runs the function)
    model.train()
    traced_step = mt.jit.trace(train_step, (x, y))
    mt.jit.save(traced_step, out / "train_step.mtjit")
    print(f"[3] {traced_step!r}")

    sizes = ", ".join(f"{p.name} {p.stat().st_size} B" for p in sorted(out.glob("*.mtjit")))
    print(f"\nsaved: {sizes}\nloading and running them in a fresh process (no model code):")
    print("  " + consume(out, args.train_steps).strip().replace("\n", "\n  "))
    got, got_dyn = np.load(out / "pred.npy"), np.load(out / "dyn.npy")
    print(f"max |fresh process - in process|: fixed {np.abs(got - expected).max():.2e}, "
          f"dynamic batch {np.abs(got_dyn - expected).max():.2e}")
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.allclose(got_dyn, expected, rtol=1e-5, atol=1e-6)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
