"""The ``minitorch-jax bench`` command end to end with tiny settings: table, JSON schema, --compare,
--plot (when matplotlib is installed), and its errors."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import subprocess
import sys

import jax
import pytest

from minitorch_jax.bench.report import PlotUnavailable, format_table, write_plot
from minitorch_jax.bench.runner import Progress, summarize
from minitorch_jax.bench.workloads import WORKLOADS

HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
PLATFORM = jax.devices()[0].platform  # the bench runs on the default device: 'gpu' on a GPU machine


def _bench(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "minitorch_jax.bench", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    r = _bench("--steps", 3, "--warmup", 1, "--workloads", "tiny-mlp,chain", "--compare", "jax",
               "--compare", "torch", "--json", path)
    assert r.returncode == 0, r.stdout + r.stderr
    return r, json.loads(path.read_text())


def test_table_lists_each_workload_with_times_and_speedup(tiny_run):
    r, _ = tiny_run
    out = r.stdout
    for col in ("workload", "eager ms/step", "jit ms/step", "compile s", "speedup", "JAX+optax jit ms",
                "torch eager ms"):
        assert col in out, out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.split() and ln.split()[0] in WORKLOADS}
    assert set(lines) == {"tiny-mlp", "chain"}, out
    assert all("±" in ln and ln.rstrip().endswith(("x", "-")) or "x " in ln for ln in lines.values())
    assert "total wall time" in out
    assert r.stderr.strip() == "" or "[" not in r.stderr  # no progress bar when stderr is a pipe


def test_json_schema(tiny_run):
    _, doc = tiny_run
    for key in ("schema", "settings", "versions", "device", "host", "results", "notes", "wall_time_s"):
        assert key in doc, key
    assert doc["settings"]["steps"] == 3 and doc["settings"]["compare"] == ["jax", "torch"]
    assert doc["versions"]["jax"] and doc["versions"]["python"]
    assert doc["device"]["platform"] == PLATFORM and doc["host"]["cpu_count"] >= 1
    assert doc["settings"]["matmul_precision"] == "highest"
    assert [row["workload"] for row in doc["results"]] == ["tiny-mlp", "chain"]
    for row in doc["results"]:
        for side in ("eager", "jit", "jax"):
            t = row[side]
            assert t["steps"] == 3 and len(t["times_ms"]) == 3
            assert t["median_ms"] > 0 and t["iqr_ms"] >= 0
        assert row["jit"]["compile_s"] > 0 and row["jit"]["num_compiles"] == 1
        assert row["jit"]["calls_to_compile"] in (1, 2)
        assert row["jax"]["compile_s"] > 0
        assert math.isclose(row["speedup"], row["eager"]["median_ms"] / row["jit"]["median_ms"])


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_compare_torch_column(tiny_run):
    _, doc = tiny_run
    import torch
    want = "cuda" if PLATFORM == "gpu" and torch.cuda.is_available() else "cpu"
    for row in doc["results"]:
        assert row["torch"]["median_ms"] > 0 and row["torch"]["device"] == want
    assert doc["versions"]["torch"]


def test_unknown_workload_errors_with_the_list():
    r = _bench("--workloads", "tiny-mlp,resnet9000", timeout=120)
    assert r.returncode == 2
    assert "resnet9000" in r.stderr
    for name in WORKLOADS:
        assert name in r.stderr


def test_absent_device_errors_with_available_devices():
    missing = "tpu" if PLATFORM != "tpu" else "cuda"
    r = _bench("--device", missing, "--workloads", "chain", timeout=120)
    assert r.returncode == 2
    assert "not available" in r.stderr and f"{PLATFORM}:0" in r.stderr


def _rows():
    t = {"median_ms": 2.0, "iqr_ms": 0.1}
    return [{"workload": "a", "eager": {**t, "median_ms": 4.0}, "jit": {**t, "compile_s": 0.5},
             "speedup": 2.0},
            {"workload": "b", "eager": {**t, "median_ms": 9.0}, "jit": {**t, "compile_s": 0.2},
             "speedup": 4.5}]


@pytest.mark.skipif(not HAS_MPL, reason="matplotlib is not installed (optional extra 'plot'); "
                    "the --plot PNG cannot be written here")
def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "bench.png"
    write_plot(path, _rows())
    data = path.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotUnavailable, match="pip install matplotlib"):
        write_plot(tmp_path / "x.png", _rows())


def test_format_table_and_summary():
    text = format_table(_rows(), compare=("jax",))
    assert "4.000 ±0.100" in text and "2.00x" in text and "4.50x" in text and "JAX+optax" in text
    s = summarize([0.001, 0.002, 0.003, 0.004])
    assert s["median_ms"] == pytest.approx(2.5) and s["iqr_ms"] == pytest.approx(1.5) and s["steps"] == 4


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_tty_and_is_quiet_otherwise():
    tty = _TTY()
    bar = Progress("mlp", 4, stream=tty)
    bar.advance("eager")
    bar.advance("jit", 3)
    bar.close()
    assert "mlp" in tty.getvalue() and "4/4" in tty.getvalue() and "#" in tty.getvalue()
    pipe = io.StringIO()
    Progress("mlp", 4, stream=pipe).advance("eager")
    quiet = _TTY()
    Progress("mlp", 4, enabled=False, stream=quiet).advance("eager")
    assert pipe.getvalue() == "" and quiet.getvalue() == ""


def test_plot_option_without_matplotlib_fails_before_running(tmp_path, monkeypatch, capsys):
    import importlib.util as iu

    from minitorch_jax.bench.__main__ import main
    real = iu.find_spec
    monkeypatch.setattr(iu, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(SystemExit) as e:
        main(["--plot", str(tmp_path / "x.png"), "--workloads", "chain"])
    assert e.value.code == 2 and "pip install matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
