"""What mt.jit's CUDA donation policy costs and protects, on this machine.

On CUDA, mt.jit does not donate state whose new value is also another output or an input of the step
program (``jit/_shared_values.py``): XLA there can return a stale value for such a donated output
(jax-ml/jax#39625). Everything else the step changes is donated, as on every other backend (on the CPU a
changed array passed undonated makes the next call wait for this one). This script runs both policies on
the default device:

* correctness: an ASGD step (4 parameters, whose ``eta``/``mu`` are one value each to XLA) compiled
  against eager, the largest difference in any optimizer state after 5 steps (non-zero: the bug is there);
* speed: the tiny MLP and the MLP + Adam steps of ``jit_step.py``, in us per call, synchronised
  (median) and queued (mean); the four steps are built first and timed in alternating rounds (the first
  figures of a fresh process on a GPU are slow: timing one policy after the other favoured the second).

    python benchmarks/donation_check.py [--steps 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import jax
import numpy as np
from jit_step import WORKLOADS, _data, _mt_jit_step

import minitorch_jax as mt
from minitorch_jax.jit import _compiled

_ORIGINAL = _compiled._on_cuda


def _policy(cuda, cap):
    """``_compiled._on_cuda`` forced to ``cuda``."""
    return cuda


def _asgd_state_error() -> float:
    def run(jit):
        mt.manual_seed(0)
        model = mt.nn.Sequential(mt.nn.Linear(4, 6), mt.nn.Tanh(), mt.nn.Linear(6, 2))
        opt = mt.optim.ASGD(model.parameters(), lr=0.05, t0=2)

        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = mt.jit(step) if jit else step
        rng = np.random.default_rng(0)
        for _ in range(5):
            f(mt.tensor(rng.standard_normal((5, 4)).astype(np.float32)),
              mt.tensor(rng.standard_normal((5, 2)).astype(np.float32)))
        return [v.cpu().numpy() for p in model.parameters() for v in opt.state[p].values()]

    return max(float(np.max(np.abs(a - b))) for a, b in zip(run(True), run(False)))


def _build(name, cuda):
    """The jitted step of workload ``name``, its donation policy fixed at its first (probing) call."""
    w = WORKLOADS[name]
    x, y = _data(w, np.random.default_rng(0))
    mt.manual_seed(0)
    _, _, step = _mt_jit_step(w, x, y)
    _compiled._on_cuda = partial(_policy, cuda)
    try:
        for _ in range(20):
            out = step()
    finally:
        _compiled._on_cuda = _ORIGINAL
    jax.block_until_ready(out._data)
    return step


def _time(step, steps):
    """(synchronised median, queued mean) of ``steps`` calls, in us."""
    sync = []
    for _ in range(steps):
        t = time.perf_counter()
        jax.block_until_ready(step()._data)
        sync.append(time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(steps):
        out = step()
    jax.block_until_ready(out._data)
    return statistics.median(sync) * 1e6, (time.perf_counter() - t) / steps * 1e6


POLICIES = (("shared values kept (CUDA policy)", True), ("all donated (CPU policy)", False))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; us per call (sync median / queued mean, "
          f"best of {a.rounds} interleaved rounds)")
    errors = {}
    for label, cuda in POLICIES:
        _compiled._on_cuda = partial(_policy, cuda)
        try:
            errors[label] = _asgd_state_error()
        finally:
            _compiled._on_cuda = _ORIGINAL
    steps = {(label, n): _build(n, cuda) for n in ("tiny", "mlp") for label, cuda in POLICIES}
    best: dict = {}
    for _ in range(a.rounds):  # the policies alternate, so that clock ramps and drifts hit both alike
        for key, step in steps.items():
            s, q = _time(step, a.steps)
            old = best.get(key, (float("inf"), float("inf")))
            best[key] = (min(old[0], s), min(old[1], q))
    for label, _ in POLICIES:
        cells = "  ".join(f"{n} {best[label, n][0]:.0f}/{best[label, n][1]:.0f}" for n in ("tiny", "mlp"))
        print(f"{label:34s} ASGD state error {errors[label]:.1e}  {cells}")


if __name__ == "__main__":
    main()
