#!/usr/bin/env python
"""DataLoader throughput with 0, 1 and 2 worker processes.

The dataset's ``__getitem__`` does about 1 ms of numpy CPU work (element-wise math, which numpy
runs on one thread; not a sleep): the work size is calibrated at start-up so that one item takes
``--item-ms`` on this machine. The consumer step is light: one ``mt`` reduction on the batch,
synchronised. Workers are persistent and warmed up by one epoch before timing, so process start-up
is not counted. For each worker count the best of ``--repeat`` epochs is reported as batches per
second, with the speed-up over ``num_workers=0``.

Target (2-core machine): 2 workers >= 1.6x the throughput of ``num_workers=0``.

Usage::

    python benchmarks/dataloader.py            # full run (about half a minute)
    python benchmarks/dataloader.py --quick    # tiny smoke run
    python benchmarks/dataloader.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import minitorch_jax as mt
from minitorch_jax.utils.data import DataLoader, Dataset


def work(n: int, i: int) -> np.ndarray:
    """Element-wise numpy work on ``n`` values (single-threaded CPU time ~ n)."""
    a = np.linspace(0.0, 1.0, n) * (i % 7 + 1)
    for _ in range(4):
        a = np.sin(a) * np.exp(-a * a) + np.cos(1.5 * a)
    return a[:256].astype(np.float32)


class CpuDataset(Dataset):
    """``length`` items of ``work(n, i)`` plus a label."""

    def __init__(self, length: int, n: int) -> None:
        self.length, self.n = length, n

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i):
        return work(self.n, i), i % 10


def calibrate(item_ms: float) -> int:
    """The work size for which one item takes about ``item_ms`` milliseconds here."""
    n = 4096
    while True:
        t0 = time.perf_counter()
        reps = 20
        for i in range(reps):
            work(n, i)
        per = (time.perf_counter() - t0) / reps * 1e3
        if per > 0.2 or n > 1 << 24:
            return max(256, int(n * item_ms / per))
        n *= 4


def _work_chunk(args) -> float:
    n, lo, hi = args
    t0 = time.perf_counter()
    for i in range(lo, hi):
        work(n, i)
    return time.perf_counter() - t0


def parallel_ceiling(n: int, items: int) -> float:
    """Speed-up of the bare item work split over 2 processes (no DataLoader): what the CPUs allow."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    serial = _work_chunk((n, 0, items))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(_work_chunk, [(n, 0, 4), (n, 0, 4)]))  # start both processes
        t0 = time.perf_counter()
        list(ex.map(_work_chunk, [(n, 0, items // 2), (n, items // 2, items)]))
        par = time.perf_counter() - t0
    return serial / par


def consume(batch) -> float:
    x, y = batch
    return float((x.sum() + y.sum()).item())  # a light, synchronised consumer step


def epoch_rate(loader) -> float:
    t0 = time.perf_counter()
    nb = 0
    for batch in loader:
        consume(batch)
        nb += 1
    return nb / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    p.add_argument("--item-ms", type=float, default=1.0, help="CPU time per item (ms)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--batches", type=int, default=60, help="batches per epoch")
    p.add_argument("--repeat", type=int, default=3, help="timed epochs per worker count (best kept)")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--json", help="write the results to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.batches, args.repeat = 6, 1

    n = calibrate(args.item_ms)
    ds = CpuDataset(args.batches * args.batch_size, n)
    t0 = time.perf_counter()
    for i in range(50):
        ds[i]
    item_ms = (time.perf_counter() - t0) / 50 * 1e3

    rows = []
    for nw in args.workers:
        kw = dict(num_workers=nw, persistent_workers=True) if nw else {}
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, **kw)
        epoch_rate(loader)  # warm-up: starts the workers, compiles the consumer
        rate = max(epoch_rate(loader) for _ in range(args.repeat))
        rows.append({"num_workers": nw, "batches_per_s": rate})
        del loader
    base = next((r["batches_per_s"] for r in rows if r["num_workers"] == 0), None)
    for r in rows:
        r["speedup"] = r["batches_per_s"] / base if base else None

    ceiling = parallel_ceiling(n, min(ds.length, 400))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cpus: {cpus}  python {platform.python_version()}  load average: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"item: {item_ms:.2f} ms of numpy work (size {n}), batch {args.batch_size}, "
          f"{args.batches} batches/epoch, best of {args.repeat}")
    print(f"ceiling: the bare item work in 2 processes runs {ceiling:.2f}x faster than in one")
    print(f"{'num_workers':>11} | {'batches/s':>10} | {'items/s':>9} | {'vs 0 workers':>12}")
    print("-" * 52)
    for r in rows:
        sp = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
        print(f"{r['num_workers']:>11} | {r['batches_per_s']:>10.1f} | "
              f"{r['batches_per_s'] * args.batch_size:>9.0f} | {sp:>12}")
    two = next((r for r in rows if r["num_workers"] == 2), None)
    if two and two["speedup"]:
        ok = "met" if two["speedup"] >= 1.6 else "NOT met"
        print(f"target: 2 workers >= 1.6x num_workers=0: {two['speedup']:.2f}x ({ok})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"quick": args.quick, "cpus": cpus, "item_ms": item_ms, "rows": rows,
                       "ceiling_2proc": ceiling,
                       "mt_version": mt.__version__}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
