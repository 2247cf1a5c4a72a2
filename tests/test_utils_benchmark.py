"""``mt.utils.benchmark`` (Timer, Measurement, Compare) and ``mt.jit.compare`` on work with a known
cost ratio (no sleeps)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils.benchmark import Compare, Measurement, Timer


def _work(a):
    return np.cumsum(np.sqrt(a * 1.5 + 1.0)).sum()


A1 = np.arange(100_000, dtype=np.float64)
A4 = np.arange(400_000, dtype=np.float64)


def test_timer_string_stmt_sees_cost_ratio():
    m1 = Timer("f(a)", globals={"f": _work, "a": A1}, label="numpy", sub_label="n").blocked_autorange(
        min_run_time=0.05)
    m4 = Timer("f(a)", globals={"f": _work, "a": A4}, label="numpy", sub_label="4n").blocked_autorange(
        min_run_time=0.05)
    assert isinstance(m1, Measurement)
    assert m4.median / m1.median > 1.5, (m1, m4)
    assert len(m1.times) >= 1 and m1.number_per_run >= 1 and m1.iqr >= 0 and m1.mean > 0


def test_timer_callable_and_setup_and_timeit():
    m1 = Timer(lambda: _work(A1)).timeit(20)
    m4 = Timer(lambda: _work(A4)).timeit(20)
    assert m1.number_per_run == 20 and len(m1.raw_times) == 1
    assert m4.median / m1.median > 1.5
    m = Timer("b = a.sum()", setup="import numpy as np\na = np.ones(1000)").timeit(100)
    assert m.median > 0 and "setup: import numpy" in repr(m)


def test_timer_waits_for_jax_work_and_adaptive_autorange():
    x1, x2 = mt.randn(128, 128), mt.randn(256, 256)
    m1 = Timer("y = x @ x", globals={"x": x1}).adaptive_autorange(min_run_time=0.05, max_run_time=2.0)
    m2 = Timer("x @ x", globals={"x": x2}).adaptive_autorange(min_run_time=0.05, max_run_time=2.0)
    assert m2.median / m1.median > 1.5, (m1, m2)  # 8x the flops: the sync made the work count


def test_measurement_repr_like_torch():
    m = Measurement(10, [0.001, 0.0011, 0.0012, 0.0013], stmt="f(x)", label="lbl", sub_label="sub",
                    description="desc", num_threads=1)
    text = repr(m)
    assert "lbl: sub" in text and "desc" in text and "Median: 115.00 us" in text and "IQR:" in text
    assert "4 measurements, 10 runs per measurement, 1 thread" in text
    assert m.median == pytest.approx(1.15e-4) and m.times[0] == pytest.approx(1e-4)


def test_compare_table_groups_by_label_row_and_column():
    ms = [Measurement(1, [t] * 3, stmt="s", label=lab, sub_label=sub, description=d)
          for lab in ("add", "mul") for sub, t in (("n=8", 1e-5), ("n=64", 4e-5)) for d in ("eager", "jit")]
    c = Compare(ms)
    c.trim_significant_figures()
    c.colorize()
    text = str(c)
    for word in ("add", "mul", "n=8", "n=64", "eager", "jit", "1 threads", "microseconds"):
        assert word in text, text
    assert text.index("[") < text.index("n=8") and text.count("Times are in") == 2
    with pytest.raises(ValueError):
        Compare([1.0])


def test_jit_compare_sees_cost_ratio_and_prints_a_table():
    def f(x):
        return (x @ x).sum()
    # 64x the flops: a ratio that overhead and a busy machine cannot hide
    r1 = mt.jit.compare(f, mt.randn(64, 64), repeat=5, warmup=1)
    r4 = mt.jit.compare(f, mt.randn(512, 512), repeat=5, warmup=1)
    assert r4.jit_median_ms / r1.jit_median_ms > 1.5
    assert r4.eager_median_ms / r1.eager_median_ms > 1.5
    assert r1.num_compiles == 1 and r1.compile_s > 0 and r1.calls_to_compile == 1
    text = str(r1)
    assert "eager" in text and "mt.jit" in text and "median ms" in text and "speedup" in text
    assert r1.speedup == pytest.approx(r1.eager_median_ms / r1.jit_median_ms)
    assert set(r1.as_dict()) >= {"eager", "jit", "compile_s", "speedup", "num_compiles"}


def test_jit_compare_counts_the_compiling_call_after_an_eager_warm_up_call():
    mt.manual_seed(0)
    model = mt.nn.Linear(16, 16)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)

    def step(x):  # gradients are None at every entry, so mt.jit's first call runs eagerly
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    r = mt.jit.compare(step, mt.randn(8, 16), repeat=3, warmup=1)
    assert r.calls_to_compile == 2 and r.num_compiles == 1 and r.compile_s > 0
    assert "compiled" in r.explain


def test_jit_compare_accepts_a_compiled_function_and_validates():
    cf = mt.jit(lambda x: x * 2 + 1)
    r = mt.jit.compare(cf, mt.ones(4), repeat=2, warmup=0)
    assert r.num_compiles == 1
    with pytest.raises(ValueError):
        mt.jit.compare(cf, mt.ones(4), repeat=0)
