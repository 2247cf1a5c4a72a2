"""mt.jit steps across processes: collectives inside a compiled step are XLA collectives in the program.

The multi-process checks run 2 CPU processes under the launcher (tests/_dist_scripts/ddp_jit.py); the
in-process ones check the SPMD program wrapper on this process's one-device mesh.
"""

import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import minitorch_jax.distributed as dist
from minitorch_jax.distributed import _group, _spmd
from tests.launch_env import launch_env

SCRIPT = Path(__file__).parent / "_dist_scripts" / "ddp_jit.py"


def _launch(mode, timeout=150):
    env = launch_env()
    cmd = [sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "2", str(SCRIPT), mode]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"OK {mode} 0" in r.stdout and f"OK {mode} 1" in r.stdout, r.stdout


def test_ddp_jit_step_matches_eager_ddp_and_doubled_batch():
    _launch("train")


def test_ddp_jit_step_program_has_all_reduce_and_no_host_callback():
    _launch("lower")


def test_ddp_jit_step_under_the_cuda_donation_policy_matches_eager():
    _launch("cuda_policy")


def test_collectives_inside_jit_match_eager_and_step_without_collective():
    _launch("ops")


@pytest.fixture
def local_mesh():
    saved = dict(_group._STATE)
    yield _group.mesh()
    _group._STATE.clear()
    _group._STATE.update(saved)


def test_spmd_inactive_without_process_group():
    assert not dist.is_initialized()
    assert _spmd.active() is False
    assert _spmd.axis() is None


def test_jit_program_on_one_process_mesh(local_mesh):
    seen = []

    def run(state, arg_arrays, hp):
        data, grads, keys = state
        seen.append(_spmd.axis())
        (x,) = arg_arrays
        total = _spmd.collective("reduce", "sum", x, None, 1)
        gathered = _spmd.collective("gather", None, x, None, 1)
        new = [d * hp[0] for d in data]
        return [total, gathered], (new, grads, keys)

    prog = _spmd.jit_program(run, (0,))
    state = ([jnp.arange(3.0)], [None], [jax.random.PRNGKey(0)])
    outs, (data, grads, keys) = prog(state, [jnp.ones(2)], [jnp.asarray(2.0)])
    assert seen == ["p"] and _spmd.axis() is None  # the flag is set only while tracing the program
    assert outs[0].tolist() == [1.0, 1.0] and outs[1].tolist() == [[1.0, 1.0]]
    assert data[0].tolist() == [0.0, 2.0, 4.0] and grads == [None] and keys[0].shape == (2,)
    assert all(len(a.devices()) == 1 for a in (outs[0], data[0]))  # process-local arrays back
    # a second call reuses the program (no retrace)
    prog(([jnp.arange(3.0)], [None], [jax.random.PRNGKey(1)]), [jnp.ones(2)], [jnp.asarray(3.0)])
    assert len(seen) == 1
    txt = prog.lower(([jnp.arange(3.0)], [None], [jax.random.PRNGKey(1)]), [jnp.ones(2)],
                     [jnp.asarray(3.0)]).as_text()
    assert "all_reduce" in txt and "callback" not in txt


def test_spmd_collective_rejects_unknown_kind(local_mesh):
    def run(state, arg_arrays, hp):
        return _spmd.collective("nope", None, arg_arrays[0], None, 1), state

    with pytest.raises(AssertionError, match="nope"):
        _spmd.jit_program(run, ())(([], [], []), [jnp.ones(2)], [])
