"""mt.distributed process subgroups: new_group, new_subgroups, group= on collectives, rank mappings.

The multi-process check runs 4 CPU processes under the launcher (tests/_dist_scripts/groups.py: eager
collectives on {0, 2} while {1, 3} run their own, non-member behaviour, misuse errors, and the same
collectives inside an mt.jit function); the in-process ones use a one-process group (world_size 1).
"""

import subprocess
import sys
import warnings
from pathlib import Path

import jax.numpy as jnp
import pytest

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax.distributed import _group, _spmd
from tests.launch_env import launch_env

SCRIPT = Path(__file__).parent / "_dist_scripts" / "groups.py"


def test_subgroups_four_processes_eager_and_jit():
    env = launch_env()
    cmd = [sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "4", str(SCRIPT)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-3000:]
    assert all(f"OK {i}" in r.stdout for i in range(4)), r.stdout


@pytest.fixture
def one_process():
    saved = dict(_group._STATE)
    dist.init_process_group("gloo", world_size=1, rank=0)
    yield
    dist.destroy_process_group()
    _group._STATE.clear()
    _group._STATE.update(saved)


def test_new_group_needs_init():
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.new_group([0])


def test_process_group_object_and_rank_mapping(one_process):
    g = dist.new_group([0])
    assert isinstance(g, dist.ProcessGroup) and g.rank() == 0 and g.size() == 1
    assert repr(g) == f"ProcessGroup(name={g.name()!r}, ranks=[0])"
    assert dist.new_group().ranks == (0,) and dist.new_group().name() != g.name()
    assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1
    assert dist.get_group_rank(g, 0) == 0 and dist.get_global_rank(g, 0) == 0
    assert dist.get_process_group_ranks(g) == [0] == dist.get_process_group_ranks(None)
    assert dist.get_process_group_ranks(dist.group.WORLD) == [0]
    assert dist.group.WORLD.rank() == 0 and dist.group.WORLD.size() == 1
    with pytest.raises(ValueError, match=r"Global rank 3 is not part of group ProcessGroup\(.*ranks=\[0\]"):
        dist.get_group_rank(g, 3)
    with pytest.raises(ValueError, match=r"Group rank 1 is not part of group ProcessGroup"):
        dist.get_global_rank(g, 1)
    with pytest.raises(TypeError, match="get_group_rank.*ProcessGroup.*got str"):
        dist.get_group_rank("world", 0)
    t = mt.tensor([1.0, 2.0])
    dist.all_reduce(t, group=g)  # a group of every process is the default group
    dist.broadcast(t, group=g, group_src=0)
    assert t.tolist() == [1.0, 2.0]


def test_new_group_bad_ranks(one_process):
    with pytest.raises(ValueError, match=r"new_group\(\): ranks \[1\] are not within the world size 1"):
        dist.new_group([0, 1])
    with pytest.raises(ValueError, match="duplicates"):
        dist.new_group([0, 0])
    with pytest.raises(TypeError, match="list of int global ranks"):
        dist.new_group(["a"])
    with pytest.raises(ValueError, match="unknown backend 'mpi'"):
        dist.new_group([0], backend="mpi")


def test_new_subgroups(one_process):
    cur, subs = dist.new_subgroups(group_size=1)
    assert subs == [cur] and dist.get_process_group_ranks(cur) == [0]
    with pytest.raises(ValueError, match="must not exceed the world size"):
        dist.new_subgroups(2)
    with pytest.raises(ValueError, match="must be positive"):
        dist.new_subgroups(0)
    with pytest.raises(ValueError, match="pass group_size"):
        dist.new_subgroups()
    with pytest.raises(ValueError, match="Rank 0 has appeared in both"):
        dist.new_subgroups_by_enumeration([[0], [0]])


def test_non_member_handle_warns_and_does_nothing(one_process):
    non = dist.GroupMember.NON_GROUP_MEMBER
    assert non == -100
    assert dist.get_rank(non) == -1 and dist.get_world_size(non) == -1
    t = mt.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="Running all_reduce on global rank 0 which does not belong"):
        assert dist.all_reduce(t, group=non) is None
    with pytest.warns(UserWarning, match="Running barrier"):
        dist.barrier(group=non)
    assert t.tolist() == [1.0, 2.0] and t._version == 0
    with pytest.raises(ValueError, match="get_process_group_ranks.*global rank 0.*NON_GROUP_MEMBER"):
        dist.get_process_group_ranks(non)


def test_misuse_of_a_group_names_group_and_rank(one_process):
    foreign = dist.ProcessGroup([5], "7")  # a group this process is not in
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match=r"all_reduce\(\): global rank 0 is not a member of "
                                               r"ProcessGroup\(name='7', ranks=\[5\]\)"):
            dist.all_reduce(mt.ones(2), group=foreign)
    with pytest.raises(TypeError, match=r"broadcast\(\): group must be a ProcessGroup.*got str"):
        dist.broadcast(mt.ones(2), group="everyone")
    g = dist.new_group([0])
    with pytest.raises(ValueError, match=r"broadcast\(\): can only specify one of src .* and group_src"):
        dist.broadcast(mt.ones(2), src=0, group=g, group_src=0)
    with pytest.raises(ValueError, match=r"broadcast\(\): src rank 2 is not in \[0, 1\)"):
        dist.broadcast(mt.ones(2), src=2, group=g)
    with pytest.raises(ValueError, match=r"group_dst 1 is not part of the default group"):
        dist.reduce(mt.ones(2), group_dst=1)
    dist.destroy_process_group(g)
    assert "destroyed" in repr(g)
    with pytest.raises(RuntimeError, match="was destroyed"):
        dist.all_reduce(mt.ones(2), group=g)


def test_spmd_subgroup_collective_is_one_all_gather(one_process):
    def run(state, arg_arrays, hp):
        (x,) = arg_arrays
        outs = [_spmd.collective("reduce", "avg", x, None, 1, ranks=(0,)),
                _spmd.collective("gather", None, x, None, 1, ranks=(0,)),
                _spmd.collective("bcast", None, x, 0, 1, ranks=(0,)),
                _spmd.collective("rscatter", "max", x[None], None, 1, ranks=(0,)),
                _spmd.collective("reduce", "sum", x, None, 1, ranks=None)]  # a non-member: the rows
        return outs, state

    prog = _spmd.jit_program(run, ())
    x = jnp.asarray([1.0, -2.0])
    outs, _ = prog(([], [], []), [x], [])
    assert [o.tolist() for o in outs] == [[1.0, -2.0], [[1.0, -2.0]], [1.0, -2.0], [1.0, -2.0], [[1.0, -2.0]]]
    txt = prog.lower(([], [], []), [x], []).as_text()
    assert txt.count("all_gather") >= 5 and "callback" not in txt
