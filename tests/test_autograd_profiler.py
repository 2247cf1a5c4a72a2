"""mt.autograd.profiler (torch's legacy profiler API) and the autograd multithreading switch, against
torch's."""

from __future__ import annotations

import json
import time

import pytest

import minitorch_jax as mt

from .oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def _work():
    with mt.autograd.profiler.record_function("outer"):
        time.sleep(0.02)
        with mt.autograd.profiler.record_function("inner"):
            time.sleep(0.01)
            a = mt.randn(3, 4, requires_grad=True)
            (a @ a.T).relu().sum().backward()


def test_legacy_profile_records_labelled_blocks_with_nesting(tmp_path):
    with mt.autograd.profiler.profile(use_cuda=False, record_shapes=True) as prof:
        _work()
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["outer"].count == 1 and rows["inner"].count == 1
    assert rows["outer"].cpu_time_total >= 30e3 and rows["inner"].cpu_time_total >= 10e3
    assert rows["outer"].self_cpu_time_total < rows["outer"].cpu_time_total  # inner is nested in outer
    assert prof.self_cpu_time_total == pytest.approx(sum(r.self_cpu_time_total for r in rows.values()))
    assert [e.name for e in prof.function_events] == ["inner", "outer"]
    text = prof.table(sort_by="cpu_time_total", row_limit=5)
    assert text.index("outer") < text.index("inner")  # sorted by total time
    trace = json.load(open(prof.export_chrome_trace(str(tmp_path / "t.json"))))
    assert {e["name"] for e in trace["traceEvents"]} == {"outer", "inner"}


def test_disabled_or_reentered_profile():
    with mt.autograd.profiler.profile(enabled=False) as prof:
        _work()
    assert prof.function_events == [] and prof.self_cpu_time_total == 0
    p = mt.autograd.profiler.profile()
    with p:
        with pytest.raises(RuntimeError, match="not reentrant"):
            p.__enter__()
    with mt.autograd.profiler.profile(use_device="cuda") as prof:  # waits for device work: still works
        _work()
    assert mt.profiler.ProfilerActivity.CUDA in prof.activities
    with mt.autograd.profiler.emit_nvtx(), mt.autograd.profiler.emit_itt():
        _work()
    assert mt.autograd.profiler.kineto_available() is False


@needs_torch
def test_api_matches_torchs_names_and_defaults():
    import inspect
    for name in ("profile", "record_function", "emit_nvtx", "emit_itt", "kineto_available"):
        assert hasattr(torch.autograd.profiler, name) and hasattr(mt.autograd.profiler, name)
    ours = inspect.signature(mt.autograd.profiler.profile.__init__).parameters
    theirs = inspect.signature(torch.autograd.profiler.profile.__init__).parameters
    for name, p in theirs.items():
        if name in ("self", "post_processing_timeout_s", "activity_filters"):
            continue
        assert name in ours and ours[name].default == p.default, name


@needs_torch
def test_multithreading_switch_like_torch():
    assert mt.autograd.is_multithreading_enabled() == torch.autograd.is_multithreading_enabled()
    with mt.autograd.set_multithreading_enabled(False), torch.autograd.set_multithreading_enabled(False):
        assert mt.autograd.is_multithreading_enabled() == torch.autograd.is_multithreading_enabled() is False
        a = mt.ones(2, requires_grad=True)
        (a * 3).sum().backward()
        assert a.grad.tolist() == [3.0, 3.0]
    assert mt.autograd.is_multithreading_enabled() == torch.autograd.is_multithreading_enabled() is True
    s = mt.autograd.set_multithreading_enabled(False)  # applies at once, as torch's does
    assert not mt.autograd.is_multithreading_enabled()
    with s.clone():
        assert not mt.autograd.is_multithreading_enabled()
    s.__exit__(None, None, None)
    assert mt.autograd.is_multithreading_enabled()
