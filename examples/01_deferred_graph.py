#!/usr/bin/env python
"""Immediate vs deferred execution: the same expression run eagerly and built as a graph.

What it teaches:

* **eager** (PyTorch's default): ``(x**2 + y**2) ** 0.5`` on tensors computes a value at once;
* **deferred**: on ``mt.jit.placeholder()`` values the same Python builds a *graph* and runs nothing.
  The graph is callable (``callable(c)`` is True): ``c(3., 4.)`` feeds the placeholders in creation
  order, ``c(a=..., b=...)`` by name; ``c.graph`` is its instruction listing, and ``c.compile()`` turns it
  into one XLA program (an ``mt.jit`` object with ``.num_compiles`` and ``.explain()``).

Usage: ``python examples/01_deferred_graph.py [--n N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import minitorch_jax as mt


def hypot(a, b):
    """``sqrt(a**2 + b**2)`` written once; works on tensors (eager) and placeholders (deferred)."""
    return (a ** 2 + b ** 2) ** 0.5


def _ms(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in milliseconds (the result is synchronised each time)."""
    fn().numpy()  # warm-up: compiles each op's kernel for this shape
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn().numpy()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="The same expression run eagerly and as a deferred graph.")
    ap.add_argument("--n", type=int, default=100_000, help="length of the vectors in the timing part")
    ap.add_argument("--repeat", type=int, default=20, help="timed repetitions")
    args = ap.parse_args(argv)

    print("== eager: every line computes a value ==")
    x, y = mt.tensor(3.0), mt.tensor(4.0)
    z = hypot(x, y)
    print(f"hypot(tensor(3.), tensor(4.)) = {z!r}")

    print("\n== deferred: placeholders build a graph, nothing runs yet ==")
    a = mt.jit.placeholder(name="a")
    b = mt.jit.placeholder(name="b")
    c = (a ** 2 + b ** 2) ** 0.5
    print(f"c = {c!r}")
    print(f"callable(c) = {callable(c)}")
    print(f"c(3., 4.)   = {c(3.0, 4.0)!r}")
    by_name = c(a=mt.tensor([5.0, 8.0]), b=mt.tensor([12.0, 15.0]))
    print(f"c(a=tensor([5., 8.]), b=tensor([12., 15.])) = {by_name!r}")
    print("c.graph:")
    print("  " + c.graph.replace("\n", "\n  "))

    print("\n== c.compile(): the whole graph as one XLA program ==")
    f = c.compile()
    u = mt.tensor([3.0, 6.0, 20.0])
    v = mt.tensor([4.0, 8.0, 21.0])
    out = f(u, v)
    print(f"{f!r}")
    print(f"f({u.tolist()}, {v.tolist()}) = {out!r}")
    assert np.allclose(out.numpy(), [5.0, 10.0, 29.0])

    print(f"\n== timing on vectors of {args.n} (median of {args.repeat}) ==")
    rng = np.random.default_rng(0)
    xs = mt.tensor(rng.standard_normal(args.n).astype(np.float32))
    ys = mt.tensor(rng.standard_normal(args.n).astype(np.float32))
    f(xs, ys)  # compile for this shape outside the timing
    eager_ms = _ms(lambda: hypot(xs, ys), args.repeat)
    graph_ms = _ms(lambda: c(xs, ys), args.repeat)
    comp_ms = _ms(lambda: f(xs, ys), args.repeat)
    ref = np.hypot(xs.numpy(), ys.numpy())
    assert np.allclose(f(xs, ys).numpy(), ref, rtol=1e-5, atol=1e-6)
    assert np.allclose(c(xs, ys).numpy(), ref, rtol=1e-5, atol=1e-6)
    print(f"eager expression        : {eager_ms:.3f} ms  (4 ops, 4 dispatches)")
    print(f"graph c(x, y)           : {graph_ms:.3f} ms  (the graph evaluated op by op)")
    print(f"compiled c.compile()    : {comp_ms:.3f} ms  (one fused XLA program)")
    print(f"compilations so far: {f.num_compiles} (one per input shape)")
    print("OK: eager, deferred and compiled agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
