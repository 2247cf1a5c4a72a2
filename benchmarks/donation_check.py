"""What mt.jit's donation policy for 0-d state and random keys costs and protects, on this machine.

On CUDA, mt.jit never donates 0-d state (step counters, ASGD's ``mu``) or generator keys to a step program:
XLA there can return a stale value for a donated scalar whose new value equals another output's
(jax-ml/jax#39625). Elsewhere it donates them: on the CPU a changed array passed undonated makes the next
call wait for this one. This script runs both policies on the default device:

* correctness: an ASGD step (4 parameters share ``eta``/``mu`` values) compiled against eager, the
  largest difference in any optimizer state after 5 steps (non-zero: the bug is there);
* speed: the tiny MLP and the MLP + Adam steps of ``jit_step.py``, in us per call, synchronised
  (median) and queued (mean).

    python benchmarks/donation_check.py [--steps 300]
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

_ORIGINAL = _compiled._never_donated


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


def _times(name, steps):
    w = WORKLOADS[name]
    x, y = _data(w, np.random.default_rng(0))
    mt.manual_seed(0)
    _, _, step = _mt_jit_step(w, x, y)
    for _ in range(20):
        out = step()
    jax.block_until_ready(out._data)
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300)
    a = p.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; us per call (sync median / queued mean)")
    for label, cuda in (("scalars+keys kept (CUDA policy)", True), ("all donated (CPU policy)", False)):
        _compiled._never_donated = partial(_ORIGINAL, cuda=cuda)
        try:
            err = _asgd_state_error()
            figures = [_times(n, a.steps) for n in ("tiny", "mlp")]
        finally:
            _compiled._never_donated = _ORIGINAL
        cells = "  ".join(f"{n} {s:.0f}/{q:.0f}" for n, (s, q) in zip(("tiny", "mlp"), figures))
        print(f"{label:34s} ASGD state error {err:.1e}  {cells}")


if __name__ == "__main__":
    main()
