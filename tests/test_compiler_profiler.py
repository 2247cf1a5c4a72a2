"""mt.compiler (is_compiling inside mt.jit, disable, reset, set_stance) and mt.profiler
(record_function timings, schedule parity with torch.profiler.schedule, trace handler)."""

from __future__ import annotations

import json
import os
import time
import warnings

import pytest

import minitorch_jax as mt
from minitorch_jax.profiler import ProfilerActivity, profile, record_function, schedule


def test_is_compiling_true_only_while_tracing():
    seen = []

    @mt.compile
    def f(x):
        seen.append((mt.compiler.is_compiling(), mt.compiler.is_dynamo_compiling()))
        return x * 2

    x = mt.ones(3)
    f(x)
    f(x)
    assert seen == [(True, True)] and not mt.compiler.is_compiling()
    with mt.jit.disable():
        f(x)
    assert seen[-1] == (False, False)


def test_disable_runs_eagerly_and_warns_inside_a_trace():
    calls = []

    @mt.compiler.disable
    def g(x):
        calls.append(mt.compiler.is_compiling())
        return x + 1

    assert mt.compiler.compile(g) is g and mt.jit(g) is g and mt.compile(g) is g
    assert float(g(mt.ones(1))) == 2.0 and calls == [False]

    @mt.jit
    def h(x):
        return g(x) * 2

    with pytest.warns(UserWarning, match="cannot leave the XLA program"):
        out = h(mt.ones(2))
    assert out.tolist() == [4.0, 4.0] and calls[-1] is True

    cf = mt.compile(lambda x: x - 1)
    assert mt.compiler.disable(cf) is cf.eager
    assert mt.compiler.disable()(g) is not None


def test_recursive_disable_runs_compiled_callees_eagerly():
    traced = []
    inner = mt.jit(lambda x: (traced.append(mt.compiler.is_compiling()), x + 1)[1])
    outer = mt.compiler.disable(lambda x: inner(x))
    outer(mt.ones(1))
    outer(mt.ones(1))
    assert traced == [False, False] and inner.num_compiles == 0


def test_reset_recompiles_and_set_stance():
    f = mt.compile(lambda x: x * 3)
    x = mt.ones(2)
    f(x)
    assert f.num_compiles == 1
    mt.compiler.reset()
    assert f.num_compiles == 0
    f(x)
    assert f.num_compiles == 1
    with mt.compiler.set_stance("force_eager"):
        assert mt.jit.get_stance() == "force_eager"
    assert mt.jit.get_stance() == "default"
    with pytest.raises(ValueError, match="unknown stance"):
        mt.compiler.set_stance("nope")
    assert mt.compiler.allow_in_graph(len) is len and mt.compiler.assume_constant_result(len) is len
    assert mt.compiler.cudagraph_mark_step_begin() is None and not mt.compiler.is_exporting()


# ----- profiler -------------------------------------------------------------------------------------
def test_record_function_timings_and_table():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            with record_function("outer"):
                with record_function("inner"):
                    time.sleep(0.004)
                time.sleep(0.002)
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["outer"].count == 3 and rows["inner"].count == 3
    assert rows["outer"].cpu_time_total >= 3 * 6000 * 0.9
    assert rows["inner"].cpu_time_total >= 3 * 4000 * 0.9
    assert rows["outer"].self_cpu_time_total == pytest.approx(
        rows["outer"].cpu_time_total - rows["inner"].cpu_time_total, rel=1e-6)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=1)
    assert "outer" in table and "inner" not in table and "# of Calls" in table
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="nope")
    with record_function("outside"):  # no profiler active: nothing recorded, no error
        pass
    assert "outside" not in {r.key for r in prof.key_averages()}


def test_record_function_decorator_and_inside_jit():
    @record_function("deco")
    def work(x):
        return x + 1

    @mt.jit
    def step(x):
        with record_function("in_jit"):
            return x * 2

    with profile() as prof:
        work(mt.ones(1))
        assert step(mt.ones(2)).tolist() == [2.0, 2.0]
    keys = {r.key for r in prof.key_averages()}
    assert "deco" in keys and "in_jit" not in keys  # traced code is not timed (it runs as one program)
    assert "in_jit" in step.lower(mt.ones(2)).as_text(debug_info=True)  # a named scope in the program


def test_schedule_matches_torch():
    tp = pytest.importorskip("torch.profiler")
    for kw in (dict(wait=1, warmup=1, active=2, repeat=2, skip_first=1), dict(wait=2, warmup=1, active=1,
               skip_first_wait=1, repeat=2), dict(wait=0, warmup=2, active=3)):
        ours, theirs = schedule(**kw), tp.schedule(**kw)
        assert [ours(i).name for i in range(14)] == [theirs(i).name for i in range(14)]
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=-1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="warmup"):
        schedule(wait=1, warmup=0, active=1)


def test_profile_with_schedule_saves_each_cycle(tmp_path):
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = schedule(wait=1, warmup=1, active=2, repeat=2)
    with profile(schedule=sched, on_trace_ready=lambda p: got.append(
            sorted((r.key, r.count) for r in p.key_averages()))) as prof:
        for _ in range(9):
            with record_function("body"):
                pass
            prof.step()
    assert got == [[("ProfilerStep#2", 1), ("ProfilerStep#3", 1), ("body", 2)],
                   [("ProfilerStep#6", 1), ("ProfilerStep#7", 1), ("body", 2)]]

    handler = mt.profiler.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w")
    with profile(on_trace_ready=handler):
        with record_function("labelled"):
            pass
    files = os.listdir(tmp_path / "tb")
    assert len(files) == 1 and files[0].startswith("w.") and files[0].endswith(".pt.trace.json")
    with open(tmp_path / "tb" / files[0]) as f:
        names = [e["name"] for e in json.load(f)["traceEvents"]]
    assert names == ["labelled"]
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
