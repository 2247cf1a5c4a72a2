"""Where the host time of a compiled training step goes: cProfile of ``mt.jit`` steps of ``jit_step.py``'s
workloads, each step synchronised (as ``jit_step.py`` times them), the top functions by own time.
``xla_program_dispatch`` is jax's C++ call of the compiled program (argument checks, donation, enqueueing;
on a CPU small programs may also run inside it), ``try_to_block`` the wait for the device.

Meant for a machine whose host is slower than the development box (a GPU server): the figures there say
which part of mt.jit's per-call work (guards, gathering, the program call, writing back) to cut next.

    python benchmarks/profile_step.py [--workloads tiny,mlp] [--steps 500] [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats

import jax
import numpy as np
from jit_step import WORKLOADS, _data, _mt_jit_step

import minitorch_jax as mt


def profile(name, steps, top):
    """The profile of ``steps`` synchronised steps of workload ``name``, as text."""
    w = WORKLOADS[name]
    x, y = _data(w, np.random.default_rng(0))
    mt.manual_seed(0)
    compiled, _, step = _mt_jit_step(w, x, y)
    for _ in range(20):
        jax.block_until_ready(step()._data)
    (entry,) = compiled._cache.values()
    program = entry.fn

    def xla_program_dispatch(*args):  # (named, so that the C++ dispatch shows as its own line)
        return program(*args)
    entry.fn = xla_program_dispatch
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        jax.block_until_ready(step()._data)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default="tiny,mlp")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--top", type=int, default=15)
    a = p.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}")
    for name in a.workloads.split(","):
        print(f"--- {name}: {a.steps} synchronised mt.jit steps")
        print(profile(name, a.steps, a.top))


if __name__ == "__main__":
    main()
