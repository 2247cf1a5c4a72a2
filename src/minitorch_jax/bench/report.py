"""Benchmark output: the text table, the JSON document (results, versions, device, host) and the
optional PNG bar chart (matplotlib)."""

from __future__ import annotations

import json
import os
import platform
import socket
import sys
from importlib import metadata

__all__ = ["format_table", "environment", "write_json", "write_plot", "PlotUnavailable"]


class PlotUnavailable(RuntimeError):
    """``--plot`` was asked for but matplotlib is not installed."""


def _cell(t, key="median_ms"):
    if not t or t.get(key) is None:
        return "-"
    return f"{t[key]:.3f} ±{t['iqr_ms']:.3f}"


def format_table(rows, compare=()) -> str:
    """The results as an aligned text table (ms per step: median ±IQR; compile time in seconds)."""
    head = ["workload", "eager ms/step", "jit ms/step", "compile s", "speedup"]
    if "jax" in compare:
        head.append("JAX+optax jit ms")
    if "torch" in compare:
        head.append("torch eager ms")
    body = []
    for r in rows:
        comp = r["jit"].get("compile_s")
        line = [r["workload"], _cell(r["eager"]), _cell(r["jit"]),
                f"{comp:.2f}" if comp is not None else "-", f"{r['speedup']:.2f}x"]
        if "jax" in compare:
            line.append(_cell(r.get("jax")))
        if "torch" in compare:
            line.append(_cell(r.get("torch")))
        body.append(line)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    lines = [fmt(head), "  ".join("-" * w for w in widths)] + [fmt(b) for b in body]
    return "\n".join(lines)


def _version(pkg):
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def environment(device) -> dict:
    """Versions, the JAX device and the host, for the JSON document and the table's header."""
    import jax
    return {
        "versions": {"minitorch_jax": _version("minitorch_jax"), "jax": jax.__version__,
                     "jaxlib": _version("jaxlib"), "numpy": _version("numpy"), "optax": _version("optax"),
                     "torch": _version("torch"), "python": platform.python_version()},
        "device": {"platform": device.platform, "id": device.id, "kind": getattr(device, "device_kind", ""),
                   "name": str(device), "count": len(jax.devices(device.platform))},
        "host": {"hostname": socket.gethostname(), "system": platform.system(), "release": platform.release(),
                 "machine": platform.machine(), "processor": platform.processor() or platform.machine(),
                 "cpu_count": os.cpu_count(), "python_executable": sys.executable},
    }


def write_json(path, rows, settings, env, wall_s, notes) -> None:
    """Write the machine-readable results to ``path``."""
    doc = {"schema": "minitorch_jax.bench/1", "settings": settings, **env, "wall_time_s": wall_s,
           "results": rows, "notes": notes}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


def write_plot(path, rows, title="") -> None:
    """A PNG bar chart of eager vs ``mt.jit`` median ms/step per workload (log scale, IQR error bars),
    with each speedup written above its pair. Raises :class:`PlotUnavailable` without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise PlotUnavailable("--plot needs matplotlib, which is not installed: pip install matplotlib "
                              "(or pip install 'minitorch_jax[plot]')") from e
    names = [r["workload"] for r in rows]
    eager = [r["eager"]["median_ms"] for r in rows]
    jit = [r["jit"]["median_ms"] for r in rows]
    pos = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(rows) + 2), 4.0))
    ax.bar([p - 0.2 for p in pos], eager, 0.4, yerr=[r["eager"]["iqr_ms"] for r in rows], label="eager")
    ax.bar([p + 0.2 for p in pos], jit, 0.4, yerr=[r["jit"]["iqr_ms"] for r in rows], label="mt.jit")
    for p, r in zip(pos, rows):
        ax.annotate(f"{r['speedup']:.1f}x", (p, max(r["eager"]["median_ms"], r["jit"]["median_ms"])),
                    textcoords="offset points", xytext=(0, 6), ha="center", fontsize=9, weight="bold")
    ax.set_yscale("log")
    ax.set_xticks(pos)
    ax.set_xticklabels(names)
    ax.set_ylabel("ms per training step (median)")
    ax.set_title(title or "minitorch_jax: eager vs mt.jit")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
