"""mt.multiprocessing: spawn/start_processes (success, a child raising, exiting, killed), a distributed job
started with spawn, and the sharing-strategy calls against torch.multiprocessing."""

from __future__ import annotations

import multiprocessing
import os
import socket
import time

import pytest

import minitorch_jax as mt
from tests import _mp_children as children

from .oracle import torch

mp = mt.multiprocessing


def test_spawn_runs_fn_with_each_index(tmp_path):
    assert mp.spawn(children.square_to_file, args=(str(tmp_path), 2.0), nprocs=2) is None
    got = {r: float((tmp_path / f"rank{r}.txt").read_text()) for r in range(2)}
    assert got == {0: 20.0, 1: 80.0}  # (0^2 + 1^2 + 2^2) * ((r + 1) * 2)^2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spawn_starts_a_distributed_job(tmp_path):
    mp.spawn(children.all_reduce_to_file, args=(2, _free_port(), str(tmp_path)), nprocs=2)
    for r in range(2):
        assert (tmp_path / f"rank{r}.txt").read_text() == repr([3.0, 30.0])


def test_a_raising_child_fails_the_parent_with_its_traceback_and_stops_the_others(tmp_path):
    t = time.monotonic()
    with pytest.raises(mp.ProcessRaisedException) as e:
        mp.spawn(children.raise_in_rank_one, args=(str(tmp_path),), nprocs=2)
    assert time.monotonic() - t < 90  # rank 0 (sleeping 120 s) was terminated, not waited for
    msg = str(e.value)
    assert msg.startswith("\n\n-- Process 1 terminated with the following error:\nTraceback")
    assert "ValueError: boom in rank 1" in msg and "raise_in_rank_one" in msg
    assert e.value.error_index == 1 and isinstance(e.value, mp.ProcessException)
    assert not (tmp_path / "rank0_finished").exists()


def test_exit_codes_and_signals_are_reported_like_torch():
    with pytest.raises(mp.ProcessExitedException, match="^process 0 terminated with exit code 3$") as e:
        mp.spawn(children.exit_with, args=(3,), nprocs=1)
    assert e.value.exit_code == 3 and e.value.signal_name is None and e.value.error_index == 0
    with pytest.raises(mp.ProcessExitedException, match="^process 0 terminated with signal SIGKILL$") as e:
        mp.spawn(children.kill_self, nprocs=1)
    assert e.value.signal_name == "SIGKILL" and e.value.exit_code < 0


def test_join_false_returns_a_context():
    ctx = mp.start_processes(children.sleep_then_return, args=(0.5,), nprocs=2, join=False,
                             start_method="forkserver")
    assert isinstance(ctx, mp.ProcessContext) and not isinstance(ctx, mp.SpawnContext)
    assert len(ctx.pids()) == 2 and all(isinstance(p, int) for p in ctx.pids())
    while not ctx.join(timeout=30):
        pass
    assert all(p.exitcode == 0 for p in ctx.processes)
    assert isinstance(mp.spawn(children.sleep_then_return, args=(0.0,), join=False), mp.SpawnContext)


def test_bad_arguments():
    with pytest.raises(ValueError, match="nprocs must be a positive int, got 0"):
        mp.spawn(children.sleep_then_return, args=(0,), nprocs=0)
    with pytest.raises(ValueError, match="start_method 'threads' is not available"):
        mp.start_processes(children.sleep_then_return, args=(0,), start_method="threads")


@pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed")
def test_sharing_strategies_and_names_match_torch():
    import torch.multiprocessing as tmp
    assert mp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == tmp.get_sharing_strategy()
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(AssertionError, match="invalid sharing strategy 'x'"):
        mp.set_sharing_strategy("x")
    for name in multiprocessing.__all__:
        assert hasattr(mp, name), name
    import inspect
    for ours, theirs in ((mp.spawn, tmp.spawn), (mp.start_processes, tmp.start_processes)):
        assert [(p.name, p.default) for p in inspect.signature(ours).parameters.values()] == \
            [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
    assert os.cpu_count() == mp.cpu_count()
