"""Per-call overhead of ``mt.jit``: a compiled training step called through ``mt.jit`` (guards, state
gathering, write-back) against the very same compiled XLA program called directly, and against
hand-written JAX+optax, on the tiny MLP (32-64-64-10, batch 32) and the MLP (784-512-512-10, batch 128).

Per workload it prints, in microseconds, the median time until each call returns and until its loss is
ready when every step is synchronised (``sync``), and the mean time per step when steps are queued
without synchronising (``async``); each figure is the best of alternating rounds of the three steps.
``zg last`` is mt.jit on the same step with ``opt.zero_grad()`` last instead of first (no ``.grad`` comes
back). ``mt.jit - program`` is what automatic state capture costs per call; ``program - JAX`` is what the
program's extra inputs and outputs (``.grad``, the RNG key, hyperparameters) cost. ``mt.jit's Python
alone`` times the call with its XLA program stubbed out: the guards, gathering and writing back, without
the machine's noise in a difference of two timings.

    python benchmarks/jit_overhead.py [--matmul-precision highest] [--workloads tiny,mlp] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np
from jit_step import WORKLOADS, _data, _jax_params, _jax_step, _mt_jit_step

import minitorch_jax as mt
from minitorch_jax.jit._compiled import split_state


def _ready(out):
    jax.block_until_ready(out._data if isinstance(out, mt.Tensor) else out)


def _sync(step, n):
    """Median (call returned, loss ready) times in us over n synchronised steps."""
    for _ in range(20):
        _ready(step())
    returned, ready = [], []
    for _ in range(n):
        t = time.perf_counter()
        out = step()
        t1 = time.perf_counter()
        _ready(out)
        returned.append(t1 - t)
        ready.append(time.perf_counter() - t)
    return statistics.median(returned) * 1e6, statistics.median(ready) * 1e6


def _async(step, n):
    """Best mean time per step in us over three runs of n queued steps."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            out = step()
        _ready(out)
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def _program_of(compiled, x, y):
    """A step calling ``compiled``'s XLA program directly with the state threaded by hand (no guards,
    no gathering from or writing back to the Python objects)."""
    entry = next(iter(compiled._cache.values()))
    cap = compiled._cap
    args = [mt.tensor(x)._data, mt.tensor(y)._data]
    state = [compiled._gather(cap)]
    hp = compiled._hp(cap)

    def step():
        # a step program takes its state split into donated and kept arrays, and returns first what it
        # changed, by index: everything but the generator key, in a training step without dropout
        data, grads, keys = state[0]
        (new_data, new_grads, _), outs = entry.fn(*split_state(entry, state[0]), args, hp)
        assert len(new_data) == len(data), "a step that leaves some state alone: thread it by index"
        state[0] = (list(new_data.values()), [new_grads.get(i) for i in range(len(grads))], keys)
        return outs[0]

    def restore():  # hand the (donated, so replaced) state back to the Python objects
        data, grads, keys = state[0]
        for t, a, g in zip(cap.tensors, data, grads):
            t._data = a
            if g is not None:
                t._grad._data = g
        for gen, k in zip(cap.generators, keys):
            gen._key = k
        state[0] = None  # the objects alone hold the arrays again (else mt.jit must copy, not donate)
    return step, restore


def _python_only(compiled, mt_step, calls=3000):
    """mt.jit's own Python per call, in us: the step with its XLA program replaced by a stub that hands
    back one saved result (and donation off, so nothing is copied or deleted). Best of 5 runs; steadier
    than the timed differences above, which include the machine's noise twice."""
    entry = next(iter(compiled._cache.values()))
    real, saved = entry.fn, []
    entry.fn = lambda *a: saved.append(real(*a)) or saved[0]
    mt_step()
    entry.fn, donate = (lambda *a: saved[0]), compiled.donate
    compiled.donate = False
    try:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(calls):
                mt_step()
            best = min(best, (time.perf_counter() - t) / calls)
    finally:
        entry.fn, compiled.donate = real, donate
    return best * 1e6


def measure(name, steps, rounds=3):
    """The three steps of one workload, timed in ``rounds`` alternating rounds (clock ramps and drifts then
    hit all three alike; a fresh GPU process's first figures are slow); the best of each figure, in us."""
    w = WORKLOADS[name]
    x, y = _data(w, np.random.default_rng(0))
    mt.manual_seed(0)
    compiled, model, mt_step = _mt_jit_step(w, x, y)
    mt_step()
    mt_step()  # eager warm-up, then the compile
    jax_step = _jax_step(w, _jax_params(model), x, y)
    mt.manual_seed(0)
    last_step = _mt_jit_step(w, x, y, zero_grad_last=True)[2]  # (its program returns no .grad)
    last_step()
    last_step()
    res: dict = {}
    for _ in range(rounds):
        program, restore = _program_of(compiled, x, y)
        figures = {"program": _sync(program, steps) + (_async(program, steps),)}
        restore()
        for label, fn in (("mt.jit", mt_step), ("JAX", jax_step), ("zg last", last_step)):
            figures[label] = _sync(fn, steps) + (_async(fn, steps),)
        for label, f in figures.items():
            res[label] = tuple(map(min, res.get(label, f), f))
    assert compiled.num_compiles == 1, compiled.explain()
    res["copies"], res["walks"] = compiled._n_copies, compiled._n_walks
    res["python"] = _python_only(compiled, mt_step)  # (last: the stub's saved state replaces the model's)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default="tiny,mlp")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"))
    a = p.parse_args(argv)
    mt.set_float32_matmul_precision(a.matmul_precision)
    jax.config.update("jax_default_matmul_precision", {"medium": "default"}.get(a.matmul_precision,
                                                                                a.matmul_precision))
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; matmul precision {a.matmul_precision}; us")
    print(f"{'workload':9s}{'':9s}{'sync: returned':>16s}{'ready':>9s}{'async':>9s}")
    for name in a.workloads.split(","):
        r = measure(name, a.steps, a.rounds)
        for label in ("mt.jit", "program", "JAX", "zg last"):
            ret, ready, asy = r[label]
            print(f"{name:9s}{label:9s}{ret:16.0f}{ready:9.0f}{asy:9.0f}")
        d = [r["mt.jit"][i] - r["program"][i] for i in range(3)]
        print(f"{name:9s}mt.jit's Python alone (program stubbed out): {r['python']:.1f} us")
        print(f"{name:9s}mt.jit - program: {d[0]:.0f} / {d[1]:.0f} / {d[2]:.0f} us; donation copies "
              f"{r['copies']}, state re-walks {r['walks']}")


if __name__ == "__main__":
    main()
