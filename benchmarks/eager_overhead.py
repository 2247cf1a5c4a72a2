#!/usr/bin/env python
"""Eager per-op overhead of minitorch_jax against raw jax.numpy and torch, in one run.

What is timed (float32 everywhere, one process, same machine):

* ``add`` and ``matmul`` (``@``) on 8x8 and 512x512 inputs, three ways each:
  no grad; inputs with ``requires_grad`` (forward only, so the tape is recorded);
  forward + backward (``out.backward(g)``; JAX baseline: un-jitted ``jax.vjp``).
* a 20-op elementwise chain on 64x64 inputs: forward without grad, and forward + backward,
  against un-jitted ``jax.grad``, ``jax.jit(jax.grad(...))`` and torch eager.

Each number is the median (over several rounds, interleaved between the libraries) of the mean
time per call, after warm-up, with ``block_until_ready`` on every JAX result. Targets checked at the end:
mt/jnp <= 1.3x per op without grad; chain fwd+bwd mt/torch <= 2x; mt faster than un-jitted
jax.grad on the chain.

Usage::

    python benchmarks/eager_overhead.py            # full run (a minute or two)
    python benchmarks/eager_overhead.py --quick    # a few calls per case (smoke test)
    python benchmarks/eager_overhead.py --json results.json
"""

from __future__ import annotations

import argparse
import contextlib
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

import minitorch_jax as mt

try:
    import torch
except ImportError:  # the comparison with torch is optional
    torch = None

OP_TARGET = 1.3  # mt / jax.numpy per op, without grad
CHAIN_TORCH_TARGET = 2.0  # mt / torch eager, chain forward + backward

# Timing settings: (warm-up calls, rounds, seconds per round, min calls, max calls)
FULL = (5, 7, 0.05, 5, 5000)
QUICK = (1, 1, 0.0, 2, 2)


def _block_jax(out):
    jax.block_until_ready(out)  # Tensor is a pytree, so this also waits on mt results
    return out


def _block_none(out):
    return out


def measure(competitors: dict, settings) -> dict:
    """Time each ``name: (fn, block)`` (``block`` waits for ``fn()``'s result).

    Rounds are interleaved (a round of each competitor in turn), so a change in machine load
    hits all of them alike. Returns ``name: {median_us, min_us, calls, rounds}`` per call.
    """
    warmup, rounds, per_round, min_calls, max_calls = settings
    calls = {}
    for name, (fn, block) in competitors.items():
        for _ in range(warmup):
            block(fn())
        if per_round <= 0:
            calls[name] = min_calls
            continue
        t0 = time.perf_counter()
        for _ in range(3):
            block(fn())
        one = (time.perf_counter() - t0) / 3
        calls[name] = int(min(max_calls, max(min_calls, per_round / max(one, 1e-7))))
    gc.collect()
    per_call = {name: [] for name in competitors}
    for _ in range(rounds):
        for name, (fn, block) in competitors.items():
            n = calls[name]
            t0 = time.perf_counter()
            for _ in range(n):
                block(fn())
            per_call[name].append((time.perf_counter() - t0) / n)
    return {name: {"median_us": statistics.median(v) * 1e6, "min_us": min(v) * 1e6,
                   "calls": calls[name], "rounds": rounds} for name, v in per_call.items()}


# ----- inputs -------------------------------------------------------------------------------
def _arrays(shape, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * 0.5).astype(np.float32) for _ in range(k)]


def _mt(a, grad=False):
    t = mt.tensor(a)
    return t.requires_grad_() if grad else t


def _th(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


def has_mt_matmul() -> bool:
    """Whether the op table has matmul yet (the linalg family may not be written)."""
    return hasattr(mt.Tensor, "__matmul__")


# ----- per-op cases -------------------------------------------------------------------------
OPS = {"add": lambda a, b: a + b, "matmul": lambda a, b: a @ b}
JNP_OPS = {"add": jnp.add, "matmul": jnp.matmul}


def _row(case, mode, baseline, competitors, settings, note=None) -> dict:
    row = {"case": case, "mode": mode, "baseline": baseline}
    row.update(measure(competitors, settings))
    if note:
        row["note"] = note
    return row


def op_cases(name, n, settings) -> list[dict]:
    """The three rows (no grad, grad fwd, grad fwd+bwd) for one op and size."""
    f = OPS[name]
    a, b = _arrays((n, n))
    g = np.ones((n, n), np.float32)
    ja, jb, jg = jnp.asarray(a), jnp.asarray(b), jnp.asarray(g)
    jf = JNP_OPS[name]
    label = f"{name} {n}x{n}"
    mt_ok = name != "matmul" or has_mt_matmul()
    note = None if mt_ok else "mt matmul not in the op table yet"
    rows = []

    # no grad, then requires_grad inputs (forward only: the tape is recorded)
    for mode, grad in (("no grad", False), ("grad fwd", True)):
        comp = {"base": (lambda: jf(ja, jb), _block_jax)}
        if mt_ok:
            ma, mb = _mt(a, grad), _mt(b, grad)
            comp["mt"] = (lambda ma=ma, mb=mb: f(ma, mb), _block_jax)
        if torch is not None:
            ta, tb = _th(a, grad), _th(b, grad)
            comp["torch"] = (lambda ta=ta, tb=tb: f(ta, tb), _block_none)
        rows.append(_row(label, mode, "jnp eager", comp, settings, note))

    # forward + backward
    def jax_fb():
        _, vjp = jax.vjp(jf, ja, jb)
        return vjp(jg)

    comp = {"base": (jax_fb, _block_jax)}
    if mt_ok:
        ma, mb, mg = _mt(a, True), _mt(b, True), _mt(g)

        def mt_fb():
            ma.grad = None
            mb.grad = None
            f(ma, mb).backward(mg)
            return ma.grad, mb.grad

        comp["mt"] = (mt_fb, _block_jax)
    if torch is not None:
        ta, tb, tg = _th(a, True), _th(b, True), _th(g)

        def torch_fb():
            ta.grad = None
            tb.grad = None
            f(ta, tb).backward(tg)
            return ta.grad, tb.grad

        comp["torch"] = (torch_fb, _block_none)
    rows.append(_row(label, "grad fwd+bwd", "jax.vjp (no jit)", comp, settings, note))
    return rows


# ----- the 20-op chain ----------------------------------------------------------------------
def chain(x, w, ns):
    """20 elementwise ops (the last one a sum); ``ns`` maps op names to one library's functions."""
    h = x * w                   # 1 mul
    h = h + x                   # 2 add
    h = ns["tanh"](h)           # 3
    h = h * 0.5                 # 4 mul by scalar
    h = ns["exp"](h)            # 5
    h = ns["sin"](h)            # 6
    h = h + w                   # 7
    h = ns["sigmoid"](h)        # 8
    h = h * h                   # 9
    h = ns["cos"](h)            # 10
    h = h - x                   # 11
    h = ns["relu"](h)           # 12
    h = h * w                   # 13
    h = ns["tanh"](h)           # 14
    h = ns["square"](h)         # 15
    h = h + 1.0                 # 16
    h = ns["log"](h)            # 17
    h = ns["sigmoid"](h)        # 18
    h = h * x                   # 19
    return ns["sum"](h)         # 20


NS_MT = {k: getattr(mt, k) for k in ("tanh", "exp", "sin", "sigmoid", "cos", "relu", "square", "log", "sum")}
NS_JNP = {"tanh": jnp.tanh, "exp": jnp.exp, "sin": jnp.sin, "sigmoid": jax.nn.sigmoid, "cos": jnp.cos,
          "relu": jax.nn.relu, "square": jnp.square, "log": jnp.log, "sum": jnp.sum}


def chain_cases(settings) -> list[dict]:
    """Rows for the chain, with torch on one intra-op thread (see ``_one_torch_thread``)."""
    with _one_torch_thread():
        return _chain_cases(settings)


@contextlib.contextmanager
def _one_torch_thread():
    """Time torch's chain on one thread: on 64x64 tensors that is torch's fastest setting here
    (its thread pool gains nothing at this size), and on a 2-core machine its idle pool threads
    would otherwise keep spinning and take CPU from the library measured next."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _chain_cases(settings) -> list[dict]:
    """Rows for the chain: forward without grad, and forward + backward against three baselines."""
    x, w = _arrays((64, 64), seed=1)
    jx, jw = jnp.asarray(x), jnp.asarray(w)
    ns_torch = {k: getattr(torch, k) for k in NS_MT} if torch is not None else None
    label = "chain20 64x64"

    mx, mw = _mt(x), _mt(w)
    comp = {"base": (lambda: chain(jx, jw, NS_JNP), _block_jax),
            "mt": (lambda: chain(mx, mw, NS_MT), _block_jax)}
    if torch is not None:
        tx, tw = _th(x), _th(w)
        comp["torch"] = (lambda: chain(tx, tw, ns_torch), _block_none)
    rows = [_row(label, "fwd, no grad", "jnp eager", comp, settings)]

    mx, mw = _mt(x, True), _mt(w, True)

    def mt_fb():
        mx.grad = None
        mw.grad = None
        chain(mx, mw, NS_MT).backward()
        return mx.grad, mw.grad

    grad_fn = jax.grad(lambda a, b: chain(a, b, NS_JNP), argnums=(0, 1))
    jit_grad = jax.jit(grad_fn)
    comp = {"mt": (mt_fb, _block_jax), "grad": (lambda: grad_fn(jx, jw), _block_jax),
            "jit": (lambda: jit_grad(jx, jw), _block_jax)}
    if torch is not None:
        tx, tw = _th(x, True), _th(w, True)

        def torch_fb():
            tx.grad = None
            tw.grad = None
            chain(tx, tw, ns_torch).backward()
            return tx.grad, tw.grad

        comp["torch"] = (torch_fb, _block_none)
    res = measure(comp, settings)
    for base_name, key in (("jax.grad (no jit)", "grad"), ("jax.jit(jax.grad)", "jit")):
        row = {"case": label, "mode": "fwd+bwd", "baseline": base_name, "base": res[key], "mt": res["mt"]}
        if "torch" in res:
            row["torch"] = res["torch"]
        rows.append(row)

    # the libraries must agree, or the timings compare different work
    mt_fb()
    gx, gw = grad_fn(jx, jw)
    np.testing.assert_allclose(mx.grad.numpy(), np.asarray(gx), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mw.grad.numpy(), np.asarray(gw), rtol=1e-4, atol=1e-5)
    if torch is not None:
        torch_fb()
        np.testing.assert_allclose(tx.grad.numpy(), np.asarray(gx), rtol=1e-4, atol=1e-5)
    return rows


# ----- report -------------------------------------------------------------------------------
def machine_info() -> dict:
    """CPU count, library versions and the JAX device, for the report header."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "cpus_usable": usable, "processor": platform.processor(),
            "jax": jax.__version__, "jax_backend": jax.default_backend(),
            "jax_device": str(jax.devices()[0]), "minitorch_jax": mt.__version__,
            "torch": None, "torch_threads": None}
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def _ratio(row, key):
    if "mt" not in row or key not in row:
        return None
    return row["mt"]["median_us"] / row[key]["median_us"]


def _fmt_us(r):
    return f"{r['median_us']:10.1f}" if r else f"{'n/a':>10}"


def _fmt_x(v):
    return f"{v:7.2f}x" if v is not None else f"{'n/a':>8}"


def print_table(rows) -> None:
    """Print the rows as a fixed-width table (times in microseconds, medians)."""
    head = (f"{'case':<16}{'mode':<14}{'baseline':<20}{'mt us':>10}{'base us':>10}{'torch us':>10}"
            f"{'mt/base':>9}{'mt/torch':>9}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['case']:<16}{r['mode']:<14}{r['baseline']:<20}{_fmt_us(r.get('mt'))}"
              f"{_fmt_us(r.get('base'))}{_fmt_us(r.get('torch'))}{_fmt_x(_ratio(r, 'base'))}"
              f"{_fmt_x(_ratio(r, 'torch'))}" + (f"   ({r['note']})" if r.get("note") else ""))


def check_targets(rows) -> list[dict]:
    """The stated targets, each with the measured ratio and whether it is met."""
    out = []
    for r in rows:
        if r["mode"] == "no grad" and "mt" in r:
            v = _ratio(r, "base")
            out.append({"target": f"{r['case']} no grad: mt/jnp <= {OP_TARGET}x", "ratio": v,
                        "met": v <= OP_TARGET})
    for r in rows:
        if r["case"].startswith("chain") and r["mode"] == "fwd+bwd":
            if r["baseline"] == "jax.grad (no jit)":
                v = _ratio(r, "base")
                out.append({"target": "chain fwd+bwd: mt faster than un-jitted jax.grad", "ratio": v,
                            "met": v < 1.0})
                v = _ratio(r, "torch")
                if v is not None:
                    out.append({"target": f"chain fwd+bwd: mt/torch eager <= {CHAIN_TORCH_TARGET}x",
                                "ratio": v, "met": v <= CHAIN_TORCH_TARGET})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a few calls per case (numbers are noisy)")
    p.add_argument("--json", metavar="PATH", help="also write machine info, rows and targets as JSON")
    args = p.parse_args(argv)
    settings = QUICK if args.quick else FULL

    info = machine_info()
    print("minitorch_jax eager overhead benchmark" + (" (--quick: numbers are noise)" if args.quick else ""))
    print(f"  cpus: {info['cpu_count']} (usable {info['cpus_usable']}), python {info['python']}, "
          f"{info['platform']}")
    print(f"  jax {info['jax']} on {info['jax_device']} (backend {info['jax_backend']}), "
          f"minitorch_jax {info['minitorch_jax']}")
    if torch is not None:
        print(f"  torch {info['torch']} eager on CPU, {info['torch_threads']} threads")
    else:
        print("  torch: not importable - torch columns are n/a "
              "(pip install torch==2.13.0 to compare)")
    if not has_mt_matmul():
        print("  note: mt has no matmul yet (linalg family pending): matmul rows time jnp/torch only")
    print(f"  medians of {settings[1]} rounds, microseconds per call, float32\n")

    rows = []
    for name in ("add", "matmul"):
        for n in (8, 512):
            rows.extend(op_cases(name, n, settings))
    rows.extend(chain_cases(settings))
    print_table(rows)

    targets = check_targets(rows)
    print("\ntargets:")
    for t in targets:
        print(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['ratio']:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "quick": args.quick, "rows": rows, "targets": targets}, fh,
                      indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
