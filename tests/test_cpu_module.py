"""mt.cpu's device-agnostic helpers (streams, events, capabilities) against torch.cpu."""

from __future__ import annotations

import pytest

import minitorch_jax as mt

from .oracle import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")


def test_names_match_torch_cpu():
    for name in ("Stream", "Event", "StreamContext", "stream", "current_stream", "set_device",
                 "is_initialized", "get_capabilities", "synchronize", "device_count", "current_device",
                 "is_available"):
        assert hasattr(torch.cpu, name) and hasattr(mt.cpu, name), name


def test_streams_and_events_behave_like_torch():
    for lib in (torch, mt):
        s = lib.cpu.Stream()
        assert lib.cpu.current_stream() is not s
        with lib.cpu.stream(s):
            assert lib.cpu.current_stream() is s
            with lib.cpu.stream(None):
                assert lib.cpu.current_stream() is s
        assert lib.cpu.current_stream() is not s
        e = lib.cpu.Event()
        assert e.query() is True and e.record() is None and e.synchronize() is None and e.wait() is None
        assert s.wait_stream(s) is None and s.record_event() is None and s.wait_event(e) is None
        assert lib.cpu.set_device("cpu") is None and lib.cpu.is_initialized() is True


def test_capabilities_agree_with_torchs_on_this_host():
    ours, theirs = mt.cpu.get_capabilities(), torch.cpu.get_capabilities()
    assert ours["architecture"] == theirs["architecture"]
    assert ours["num_logical_cores"] == theirs["num_logical_cores"]
    shared = [k for k, v in ours.items() if isinstance(v, bool) and k in theirs]
    assert len(shared) >= 20
    assert {k: ours[k] for k in shared} == {k: theirs[k] for k in shared}
