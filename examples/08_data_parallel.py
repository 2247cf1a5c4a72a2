"""Data-parallel training across devices with ``nn.DataParallel`` (runs on a CPU too).

What it teaches:

* ``nn.DataParallel(model)`` replicates the parameters over the local devices and splits each
  batch along dim 0. It is built on ``jax.sharding`` (a device mesh and named shardings), so XLA
  inserts the gradient all-reduce itself: the training step is the ordinary single-device code.
* It works eagerly and under ``mt.jit``, and gives the same numbers as one device.
* On a machine without several accelerators, ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
  splits the CPU into 4 JAX devices (this script sets it when run directly, before JAX starts).

    python examples/08_data_parallel.py [--devices 4] [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__" and "jax" not in sys.modules:  # must happen before JAX initialises
    n = next((a.split("=")[1] for a in sys.argv if a.startswith("--devices=")), None)
    if n is None and "--devices" in sys.argv:
        n = sys.argv[sys.argv.index("--devices") + 1]
    os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={n or 4}")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import minitorch_jax as mt  # noqa: E402
from minitorch_jax import nn  # noqa: E402


def make_model(seed: int) -> nn.Module:
    """The same small MLP for every run (same seed, same weights)."""
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))


def train(model, x, y, steps, jit):
    """``steps`` SGD steps of cross-entropy; returns the losses."""
    opt = mt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if jit:
        step = mt.jit(step)
    return [float(step(x, y)) for _ in range(steps)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--devices", type=int, default=4, help="forced CPU devices when run as a script")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    a = p.parse_args(argv)

    devices = jax.local_devices()
    print(f"{len(devices)} local device(s): {', '.join(str(d) for d in devices)}")
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((a.batch_size, 16)).astype("float32"))
    y = mt.tensor(rng.integers(0, 4, a.batch_size))

    single = train(make_model(0), x, y, a.steps, jit=False)
    dp_model = nn.DataParallel(make_model(0))
    eager = train(dp_model, x, y, a.steps, jit=False)
    dp_model_j = nn.DataParallel(make_model(0))
    jitted = train(dp_model_j, x, y, a.steps, jit=True)
    print(f"one device      : loss {single[0]:.4f} -> {single[-1]:.4f}")
    print(f"DataParallel    : loss {eager[0]:.4f} -> {eager[-1]:.4f}")
    print(f"DataParallel+jit: loss {jitted[0]:.4f} -> {jitted[-1]:.4f}")
    w = dp_model_j.module[0].weight
    print(f"parameters live on {len(w._data.devices())} device(s); state_dict keys start with "
          f"{next(iter(dp_model.state_dict()))!r}")
    diff = max(abs(s - e) for s, e in zip(single, eager)) + max(abs(s - j) for s, j in zip(single, jitted))
    print("OK: data parallel matches one device" if diff < 1e-3 else f"MISMATCH: {diff}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
