"""Smoke tests for the project's outer shell: the demo and the eager-overhead benchmark run as
subprocesses with tiny settings, and their output says what it should."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.py"
BENCH = ROOT / "benchmarks" / "eager_overhead.py"


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _load_bench():
    spec = importlib.util.spec_from_file_location("eager_overhead", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_demo_quick_trains_eager_and_jitted_to_the_same_loss():
    r = _run(DEMO, "--quick")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    m = re.search(r"final loss: eager ([0-9.eE+-]+), jitted ([0-9.eE+-]+)", out)
    assert m, out
    eager, jitted = float(m.group(1)), float(m.group(2))
    assert math.isfinite(eager) and math.isfinite(jitted)
    assert abs(eager - jitted) <= 1e-3 + 1e-2 * max(eager, jitted)
    curve = re.search(r"eager\s+\[0\] ([0-9.]+)", out)
    assert curve and eager < float(curve.group(1)), "the loss must go down"
    for label in ("eager:", "jitted:"):
        line = next(ln for ln in out.splitlines() if ln.startswith(label))
        assert float(re.search(r"([0-9.]+) ms/step", line).group(1)) > 0
    assert "OK: eager and jitted training reach the same loss" in out


def test_demo_rejects_too_few_steps():
    r = _run(DEMO, "--steps", "1")
    assert r.returncode == 2
    assert "--steps must be at least 3" in r.stderr


def test_benchmark_quick_writes_a_complete_table(tmp_path):
    path = tmp_path / "bench.json"
    r = _run(BENCH, "--quick", "--json", path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "targets:" in r.stdout and "cpus:" in r.stdout
    data = json.loads(path.read_text())
    info = data["machine"]
    assert info["cpu_count"] >= 1 and info["jax"] and info["jax_device"]
    assert data["quick"] is True

    rows = data["rows"]
    cases = {(row["case"], row["mode"], row["baseline"]) for row in rows}
    for op in ("add", "matmul"):
        for n in (8, 512):
            for mode in ("no grad", "grad fwd", "grad fwd+bwd"):
                assert any(c[0] == f"{op} {n}x{n}" and c[1] == mode for c in cases), (op, n, mode)
    for base in ("jax.grad (no jit)", "jax.jit(jax.grad)"):
        assert ("chain20 64x64", "fwd+bwd", base) in cases

    has_torch = info["torch"] is not None
    bench = _load_bench()
    for row in rows:
        keys = ["base"]
        if not row["case"].startswith("matmul") or bench.has_mt_matmul():
            keys.append("mt")
        if has_torch:
            keys.append("torch")
        for k in keys:
            t = row[k]["median_us"]
            assert math.isfinite(t) and t > 0, (row["case"], row["mode"], k)
    assert data["targets"], "the target summary is empty"
    assert all(isinstance(t["met"], bool) and t["ratio"] > 0 for t in data["targets"])


def _row(case, mode, baseline, mt, base, torch=None):
    r = {"case": case, "mode": mode, "baseline": baseline,
         "mt": {"median_us": mt}, "base": {"median_us": base}}
    if torch is not None:
        r["torch"] = {"median_us": torch}
    return r


@pytest.mark.parametrize("mt_us,met", [(12.0, True), (14.0, False)])
def test_benchmark_op_target_is_mt_over_jnp_at_most_1_3(mt_us, met):
    bench = _load_bench()
    (t,) = bench.check_targets([_row("add 8x8", "no grad", "jnp eager", mt_us, 10.0)])
    assert t["met"] is met and t["ratio"] == pytest.approx(mt_us / 10.0)


def test_benchmark_chain_targets():
    bench = _load_bench()
    rows = [_row("chain20 64x64", "fwd+bwd", "jax.grad (no jit)", 300.0, 1000.0, torch=100.0),
            _row("chain20 64x64", "fwd+bwd", "jax.jit(jax.grad)", 300.0, 50.0, torch=100.0)]
    got = {t["target"]: t for t in bench.check_targets(rows)}
    faster = next(t for k, t in got.items() if "un-jitted" in k)
    vs_torch = next(t for k, t in got.items() if "torch" in k)
    assert faster["met"] and faster["ratio"] == pytest.approx(0.3)
    assert not vs_torch["met"] and vs_torch["ratio"] == pytest.approx(3.0)
    assert len(got) == 2  # the jitted baseline is reported, not a target


def test_jit_benchmarks_run_and_report_every_column(tmp_path):
    """benchmarks/jit_step.py and jit_overhead.py with the fewest steps: they run to the end, and their
    tables hold what the closing notes quote (a script broken by an API change went unnoticed once)."""
    path = tmp_path / "jit_step.json"
    r = _run(ROOT / "benchmarks" / "jit_step.py", "--workloads", "tiny", "--steps", "6", "--eager-steps", "3",
             "--warmup", "2", "--rounds", "1", "--no-isolated-compile", "--json", path)
    assert r.returncode == 0, r.stdout + r.stderr
    row = json.loads(path.read_text())["rows"][0]
    assert row["workload"] == "tiny" and row["mt_jit_donation_copies"] == 0
    for key in ("mt_eager", "mt_jit", "jax_jit", "mt_jit_compile", "jax_jit_compile"):
        assert row[key] > 0, key
    assert re.search(r"^tiny .*x\)", r.stdout, re.M), r.stdout
    r = subprocess.run([sys.executable, "jit_overhead.py", "--workloads", "tiny", "--steps", "5"],
                       cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    for label in ("mt.jit", "program", "JAX"):
        assert re.search(rf"^tiny\s+{re.escape(label)}\s+\d+\s+\d+\s+\d+$", r.stdout, re.M), r.stdout
    assert "donation copies 0" in r.stdout, r.stdout
