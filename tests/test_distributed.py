"""mt.distributed: collectives and DDP across 2 CPU processes started by the launcher; launcher failures."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax.nn.parallel import DistributedDataParallel
from tests.launch_env import launch_env

SCRIPTS = Path(__file__).parent / "_dist_scripts"


def _launch(script, *args, n=2, timeout=150):
    env = launch_env()
    cmd = [sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", str(n),
           str(SCRIPTS / script), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def test_not_initialized_errors():
    assert dist.is_available() and not dist.is_initialized()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(mt.ones(2))
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedDataParallel(mt.nn.Linear(2, 2))


def test_collectives_two_processes():
    r = _launch("collectives.py")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK 0" in r.stdout and "OK 1" in r.stdout


def test_ddp_two_processes_equal_doubled_batch_eager_and_jit():
    r = _launch("ddp_train.py", "eager,jit")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK eager,jit 0" in r.stdout and "OK eager,jit 1" in r.stdout


def test_launcher_fails_fast_when_a_rank_crashes():
    t = time.monotonic()
    r = _launch("crash.py", timeout=100)
    took = time.monotonic() - t
    assert r.returncode == 7
    assert "rank 1" in r.stderr and "exited with code 7" in r.stderr
    assert "crashing on purpose" in r.stderr
    assert took < 45, took  # rank 0 would sleep 120 s: it was killed, not waited for


def test_launcher_sets_environment():
    env = dict(os.environ)
    script = SCRIPTS / "print_env.py"
    r = subprocess.run([sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "3",
                        str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = sorted(line for line in r.stdout.split("\n") if line)
    assert lines == [f"{i} {i} 3 3 127.0.0.1 True" for i in range(3)]


def test_ddp_on_process_subgroups():
    r = _launch("ddp_group.py", n=4, timeout=150)
    assert r.returncode == 0, r.stderr[-3000:]
    oks = sorted(line for line in r.stdout.split("\n") if line.startswith("OK"))
    assert oks == [f"OK {i}" for i in range(4)]


def test_rank_raising_after_init_fails_the_job_fast():
    t = time.monotonic()
    r = _launch("crash_after_init.py", timeout=100)
    took = time.monotonic() - t
    assert r.returncode == 1
    assert "rank 1 fails after init on purpose" in r.stderr
    assert took < 45, took  # before the fix rank 1 hung in JAX's shutdown and the launcher waited forever
