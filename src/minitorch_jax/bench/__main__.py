"""``minitorch-jax bench`` / ``python -m minitorch_jax.bench``: training-step time of each workload,
eager vs ``mt.jit`` (optionally vs hand-written JAX+optax and PyTorch eager), as a table, JSON and a plot."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

DEFAULT_STEPS = 20
DEFAULT_WARMUP = 2


def build_parser() -> argparse.ArgumentParser:
    """The ``bench`` command's argument parser."""
    from .runner import DTYPES
    from .workloads import WORKLOADS
    p = argparse.ArgumentParser(
        prog="minitorch-jax bench",
        description="Time a full training step (forward, backward, optimizer) of each workload, written in "
                    "ordinary minitorch_jax code, run eagerly and under mt.jit. Step times are medians "
                    "(± interquartile range) over --steps timed steps; compilation is timed apart.")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated subset of: {', '.join(WORKLOADS)} (default: all)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"timed steps (default {DEFAULT_STEPS})")
    p.add_argument("--warmup", type=int, default=DEFAULT_WARMUP,
                   help=f"untimed steps before timing, after compiling (default {DEFAULT_WARMUP})")
    p.add_argument("--device", default=None,
                   help="cpu, cuda (= gpu) or tpu, optionally ':index' (default: JAX's default device, "
                        "the accelerator when there is one)")
    p.add_argument("--dtype", default="float32", choices=DTYPES, help="parameter and input dtype")
    p.add_argument("--batch-size", type=int, default=None, help="override every workload's batch size")
    p.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"),
                   help="float32 matmul/convolution precision of every column "
                        "(mt.set_float32_matmul_precision; the JAX and torch columns get the same "
                        "level): 'highest' (torch's default, full float32) or "
                        "'high'/'medium' (TF32/bf16 passes on GPUs and TPUs)")
    p.add_argument("--compare", action="append", default=[], metavar="{jax,torch}",
                   help="add a column: 'jax' (the same step hand-written in JAX+optax under jax.jit) or "
                        "'torch' (PyTorch eager); repeat or comma-separate for both")
    p.add_argument("--json", metavar="PATH", help="write results, versions, device and host info as JSON")
    p.add_argument("--plot", metavar="PATH", help="write a PNG bar chart eager vs jit (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _parse(argv):
    from .runner import BenchError, select_device
    from .workloads import WORKLOADS
    p = build_parser()
    a = p.parse_args(argv)
    a.workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]
    unknown = [w for w in a.workloads if w not in WORKLOADS]
    if unknown or not a.workloads:
        p.error(f"unknown workload(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from: {', '.join(WORKLOADS)}")
    a.compare = sorted({c.strip() for cs in a.compare for c in cs.split(",") if c.strip()})
    bad = [c for c in a.compare if c not in ("jax", "torch")]
    if bad:
        p.error(f"--compare accepts jax and torch, got {', '.join(bad)}")
    if a.steps < 1 or a.warmup < 0:
        p.error(f"--steps must be >= 1 and --warmup >= 0, got {a.steps} and {a.warmup}")
    if a.batch_size is not None and a.batch_size < 2:
        p.error(f"--batch-size must be >= 2, got {a.batch_size}")
    if a.plot:
        import importlib.util
        if importlib.util.find_spec("matplotlib") is None:
            p.error("--plot needs matplotlib, which is not installed: pip install matplotlib "
                    "(or pip install 'minitorch_jax[plot]')")
    if a.device is None:
        import jax
        a.device = {"gpu": "cuda"}.get(jax.devices()[0].platform, jax.devices()[0].platform)
    try:
        a.jax_device = select_device(a.device)
    except BenchError as e:
        p.error(str(e))
    return a


def bench(argv=None) -> list:
    """Run the benchmark with command-line arguments ``argv``; print the table; return the result rows."""
    import jax

    from .report import PlotUnavailable, environment, format_table, write_json, write_plot
    from .runner import run_workload
    a = _parse(argv)
    t_start = time.perf_counter()
    env = environment(a.jax_device)
    notes = []
    if "torch" in a.compare and env["versions"]["torch"] is None:
        notes.append("--compare torch: PyTorch is not installed, so there is no torch column data "
                     "(pip install torch)")
    rows = []
    with _precision(a.matmul_precision), jax.default_device(a.jax_device):
        for name in a.workloads:
            rows.append(run_workload(name, steps=a.steps, warmup=a.warmup, batch_size=a.batch_size,
                                     dtype=a.dtype, compare=a.compare, platform=a.jax_device.platform,
                                     progress=not a.quiet))
    wall = time.perf_counter() - t_start
    v, d, h = env["versions"], env["device"], env["host"]
    print(f"minitorch_jax {v['minitorch_jax']}, jax {v['jax']}, device {d['name']} ({d['kind']}), "
          f"host {h['processor']} x{h['cpu_count']}; {a.dtype} (matmul precision {a.matmul_precision}), "
          f"{a.steps} timed steps after {a.warmup} warm-up (median ±IQR)")
    print(format_table(rows, a.compare))
    for r in rows:
        notes.extend(f"{r['workload']}: {n}" for n in r["notes"] if "torch is not installed" not in n)
    if "torch" in a.compare and rows and rows[0].get("torch"):
        notes.append(f"torch ran on {rows[0]['torch']['device']} with {_torch_threads()} threads")
    for n in notes:
        print("note:", n)
    print(f"total wall time {wall:.1f} s")
    settings = {"workloads": a.workloads, "steps": a.steps, "warmup": a.warmup, "device": a.device,
                "dtype": a.dtype, "batch_size": a.batch_size, "compare": a.compare,
                "matmul_precision": a.matmul_precision}
    if a.json:
        write_json(a.json, rows, settings, env, wall, notes)
    if a.plot:
        try:
            write_plot(a.plot, rows, title=f"eager vs mt.jit ({d['platform']}, {a.dtype})")
        except PlotUnavailable as e:
            print(f"minitorch-jax bench: error: {e}", file=sys.stderr)
            raise SystemExit(3) from None
    return rows


@contextlib.contextmanager
def _precision(level: str):
    """One float32 matmul precision for every column while the benchmark runs: mt's ops get it as
    ``precision=``, hand-written JAX through jax's default (so no column computes at TF32 while another
    computes in full float32); both settings are restored afterwards."""
    import jax

    import minitorch_jax as mt
    before = mt.get_float32_matmul_precision(), jax.config.jax_default_matmul_precision
    mt.set_float32_matmul_precision(level)
    jax.config.update("jax_default_matmul_precision", {"medium": "default"}.get(level, level))
    try:
        yield
    finally:
        mt.set_float32_matmul_precision(before[0])
        jax.config.update("jax_default_matmul_precision", before[1])


def _torch_threads():
    import torch
    return torch.get_num_threads()


def main(argv=None) -> int:
    """The ``minitorch-jax`` console script: ``minitorch-jax bench [options]`` (``bench`` is the only
    command, and the default)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        argv = argv[1:]
    elif argv and not argv[0].startswith("-"):
        print(f"minitorch-jax: unknown command {argv[0]!r}; available: bench", file=sys.stderr)
        return 2
    bench(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
