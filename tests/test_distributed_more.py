"""mt.distributed's point-to-point, all-to-all, object collectives, DeviceMesh and everyday helpers.

One 2-process launch (the script below, written to a temp file) checks send/recv of tensors and objects,
batch_isend_irecv, all_to_all(_single) with uneven splits, gather_object/scatter_object_list, 2x1 and 1x2
DeviceMesh groups, the deprecated coalesced collectives and the *_single aliases; the in-process tests use
no group or a one-process group (world size 1) and compare names, messages and tables with torch.
"""

import subprocess
import sys
import warnings

import pytest

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax.distributed import _group, _misc
from tests.launch_env import launch_env

SCRIPT = r'''
# Run under the launcher with 2 processes: p2p, all_to_all, object collectives, DeviceMesh. Prints OK <rank>.
import os
import warnings

import minitorch_jax as mt
import minitorch_jax.distributed as dist

mesh = dist.init_device_mesh("cpu", (2, 1), mesh_dim_names=("dp", "tp"))  # joins the group itself
r = dist.get_rank()
assert dist.get_world_size() == 2 and dist.is_initialized()


def check(got, want):
    assert got.tolist() == want, (r, got.tolist(), want)


# send / recv (tensor), both directions, global and group ranks
t = mt.tensor([1.0, 2.0, 3.0]) if r == 0 else mt.zeros(3)
if r == 0:
    assert dist.send(t, dst=1) is None
else:
    v = t._version
    assert dist.recv(t, src=0) == 0
    assert t._version > v
check(t, [1.0, 2.0, 3.0])
u = mt.tensor([7, 8], dtype=mt.int64) if r == 1 else mt.zeros(2, dtype=mt.int64)
if r == 1:
    dist.isend(u, group_dst=0).wait()
else:
    assert dist.irecv(u, group_src=1).is_completed()
check(u, [7, 8])
assert u.dtype == mt.int64
# an exchange in one batch (both send first: batch_isend_irecv orders the messages)
mine, theirs = mt.tensor([10.0 * (r + 1)]), mt.zeros(1)
ops = [dist.P2POp(dist.isend, mine, 1 - r), dist.P2POp(dist.irecv, theirs, 1 - r)]
works = dist.batch_isend_irecv(ops)
assert len(works) == 2 and all(w.wait() for w in works)
check(theirs, [10.0 * (2 - r)])
# objects
objs = [{"a": 1}, "two", [3]] if r == 0 else [None, None, None]
if r == 0:
    dist.send_object_list(objs, dst=1)
else:
    assert dist.recv_object_list(objs, src=0) == 0
assert objs == [{"a": 1}, "two", [3]], objs
# all_to_all_single with uneven splits: rank 0 sends [1 row, 2 rows], rank 1 sends [3 rows, 1 row]
if r == 0:
    x, ins, outs = mt.tensor([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]]), [1, 2], [1, 3]
else:
    x, ins, outs = mt.tensor([[5.0, 5.5], [6.0, 6.5], [7.0, 7.5], [8.0, 8.5]]), [3, 1], [2, 1]
out = mt.zeros(sum(outs), 2)
dist.all_to_all_single(out, x, output_split_sizes=outs, input_split_sizes=ins)
want = ([[0.0, 0.5], [5.0, 5.5], [6.0, 6.5], [7.0, 7.5]] if r == 0
        else [[1.0, 1.5], [2.0, 2.5], [8.0, 8.5]])
check(out, want)
even = mt.zeros(2)
dist.all_to_all_single(even, mt.tensor([r * 10.0, r * 10.0 + 1]))
check(even, [float(r), 10.0 + r])
outl = [mt.zeros(1), mt.zeros(2)] if r == 0 else [mt.zeros(3), mt.zeros(2)]
inl = [mt.tensor([100.0 * r]), mt.tensor([1.0, 2.0, 3.0])] if r == 0 else [mt.tensor([4.0, 5.0]),
                                                                          mt.tensor([6.0, 7.0])]
dist.all_to_all(outl, inl)
if r == 0:
    check(outl[0], [0.0])
    check(outl[1], [4.0, 5.0])
else:
    check(outl[0], [1.0, 2.0, 3.0])
    check(outl[1], [6.0, 7.0])
# gather_object / scatter_object_list
gl = [None, None] if r == 1 else None
dist.gather_object({"r": r}, gl, dst=1)
if r == 1:
    assert gl == [{"r": 0}, {"r": 1}], gl
box = [None]
dist.scatter_object_list(box, ["zero", ("one",)] if r == 0 else None, src=0)
assert box == (["zero"] if r == 0 else [("one",)]), box
# DeviceMesh 2x1: the dp group is every process, the tp group only this one
assert mesh.shape == (2, 1) and mesh.size() == 2 and mesh.get_rank() == r
assert mesh.mesh.tolist() == [[0], [1]]
assert mesh.get_local_rank("dp") == r and mesh.get_local_rank("tp") == 0
assert mesh.get_coordinate() == (r, 0)
dp, tp = mesh.get_group("dp"), mesh.get_group(mesh_dim="tp")
assert dist.get_process_group_ranks(dp) == [0, 1] and dist.get_process_group_ranks(tp) == [r]
a = mt.tensor([1.0 + r])
dist.all_reduce(a, group=dp)
check(a, [3.0])
dist.all_reduce(a, group=tp)
check(a, [3.0])
sub = mesh["dp"]
assert sub.mesh.tolist() == [0, 1] and sub.get_group() is dp and sub.get_local_rank() == r
mesh2 = dist.init_device_mesh("cpu", (1, 2), mesh_dim_names=("pp", "dp"))
b = mt.tensor([2.0 * (r + 1)])
dist.all_reduce(b, op=dist.ReduceOp.MAX, group=mesh2["dp"].get_group())
check(b, [4.0])
assert dist.get_process_group_ranks(mesh2.get_group("pp")) == [r]
# everyday helpers
dist.monitored_barrier()
assert dist.get_pg_count() >= 5
g = dist.split_group(split_ranks=[[0], [1]])
assert dist.get_process_group_ranks(g) == [r]
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    c = [mt.tensor([1.0 + r]), mt.tensor([[r * 1.0, 2.0]])]
    dist.all_reduce_coalesced(c)
    gl2 = [[mt.zeros(1)], [mt.zeros(1)]]
    dist.all_gather_coalesced(gl2, [mt.tensor([5.0 + r])])
assert sum(issubclass(x.category, FutureWarning) for x in w) == 2
check(c[0], [3.0])
check(c[1], [[1.0, 4.0]])
check(gl2[0][0], [5.0])
check(gl2[1][0], [6.0])
big = mt.zeros(4)
dist.all_gather_single(big, mt.tensor([r, r + 0.5]))
check(big, [0.0, 0.5, 1.0, 1.5])
rs = mt.zeros(1)
dist.reduce_scatter_single(rs, mt.tensor([1.0, 2.0]))
check(rs, [2.0 * (r + 1)])
dist.barrier()
os.write(1, f"OK {r}\n".encode())
dist.destroy_process_group()
'''


def test_p2p_all_to_all_objects_device_mesh_two_processes(tmp_path):
    script = tmp_path / "more.py"
    script.write_text(SCRIPT)
    env = launch_env()
    cmd = [sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "2", str(script)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK 0" in r.stdout and "OK 1" in r.stdout, r.stdout


@pytest.fixture
def one_process():
    saved = dict(_group._STATE)
    dist.init_process_group("gloo", world_size=1, rank=0)
    yield
    dist.destroy_process_group()
    _group._STATE.clear()
    _group._STATE.update(saved)


def test_needs_init_like_torch():
    assert not dist.is_initialized() and dist.get_pg_count() == 0
    msg = "Default process group has not been initialized"
    for call in [lambda: dist.send(mt.ones(2), 1), lambda: dist.recv(mt.ones(2), 0),
                 lambda: dist.gather_object(1), lambda: dist.all_to_all_single(mt.ones(2), mt.ones(2)),
                 lambda: dist.monitored_barrier(), lambda: dist.breakpoint(),
                 lambda: dist.send_object_list([1], 1), lambda: dist.scatter_object_list([None], [1])]:
        with pytest.raises(ValueError, match=msg):
            call()


def test_availability_backends_and_tables_match_torch():
    from tests.oracle import torch
    td = torch.distributed
    assert dist.is_gloo_available() and not dist.is_mpi_available() and not dist.is_ucc_available()
    assert not dist.is_xccl_available() and isinstance(dist.is_nccl_available(), bool)
    for b in ["gloo", "GLOO", "mpi", "foo"]:
        assert dist.is_backend_available(b) == td.is_backend_available(b), b
    for d in ["cpu", "cuda", "cuda:0", mt.device("cpu")]:
        assert dist.get_default_backend_for_device(d) == td.get_default_backend_for_device(str(d))
    for backend_of in (td.get_default_backend_for_device, dist.get_default_backend_for_device):
        with pytest.raises(ValueError, match="Default backend not registered for device : meta"):
            backend_of("meta")
    with pytest.raises(RuntimeError, match="device string: xyz"):
        dist.get_default_backend_for_device("xyz")
    for op in ["SUM", "AVG", "MAX", "MIN", "PRODUCT"]:
        want = td.supports_complex(getattr(td.ReduceOp, op))
        assert dist.supports_complex(getattr(dist.ReduceOp, op)) == want, op
    for name in ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError", "QueueEmptyError"]:
        ours = [c.__name__ for c in getattr(dist, name).__mro__]
        theirs = [c.__name__ for c in getattr(td, name).__mro__]
        assert ours == theirs, name
    with pytest.raises(dist.DistError):
        raise dist.QueueEmptyError("empty")


def test_node_local_rank_and_debug_level(monkeypatch):
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    with pytest.raises(RuntimeError, match="LOCAL_RANK is not in the environment"):
        dist.get_node_local_rank()
    assert dist.get_node_local_rank(fallback_rank=3) == 3
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert dist.get_node_local_rank(fallback_rank=3) == 2
    assert dist.get_debug_level() == dist.DebugLevel.OFF
    try:
        dist.set_debug_level(dist.DebugLevel.DETAIL)
        assert dist.get_debug_level() == dist.DebugLevel.DETAIL
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "info")
        dist.set_debug_level_from_env()
        assert dist.get_debug_level() == dist.DebugLevel.INFO
        monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "bogus")
        with pytest.raises(ValueError, match="must be OFF, INFO, or DETAIL"):
            dist.set_debug_level_from_env()
        with pytest.raises(TypeError, match="set_debug_level.*DebugLevel.*got str"):
            dist.set_debug_level("INFO")
    finally:
        dist.set_debug_level(dist.DebugLevel.OFF)


def test_p2p_errors_one_process(one_process):
    with pytest.raises(ValueError, match="Invalid destination rank: destination rank should not be the same"):
        dist.send(mt.ones(2), 0)
    with pytest.raises(ValueError, match="Invalid source rank"):
        dist.irecv(mt.ones(2), group_src=0)
    with pytest.raises(ValueError, match=r"recv\(\): pass src .*any rank \(src=None\) is not supported"):
        dist.recv(mt.ones(2))
    with pytest.raises(ValueError, match=r"send\(\): dst rank 3 is not in \[0, 1\)"):
        dist.send(mt.ones(2), 3)
    with pytest.raises(TypeError, match=r"send\(\): expected a Tensor, got list"):
        dist.send([1.0], 1)
    with pytest.raises(ValueError, match="Invalid ``op``. Expected ``op`` to be of type"):
        dist.P2POp(dist.all_reduce, mt.ones(2), 0)
    with pytest.raises(ValueError, match="batch_isend_irecv.*non-empty list of P2POp"):
        dist.batch_isend_irecv([])
    with pytest.warns(UserWarning, match="Running send on global rank 0 which does not belong"):
        dist.send(mt.ones(2), 1, group=dist.GroupMember.NON_GROUP_MEMBER)
    with pytest.warns(UserWarning):
        assert dist.recv(mt.ones(2), 1, group=dist.GroupMember.NON_GROUP_MEMBER) == -1


def test_exchange_collectives_one_process(one_process):
    out = mt.zeros(3, 2)
    x = mt.arange(6.0).reshape(3, 2)
    assert dist.all_to_all_single(out, x) is None
    assert out.tolist() == x.tolist() and out._version == 1
    dist.all_to_all_single(out, x * 2, [3], [3])
    assert out.tolist() == (x * 2).tolist()
    with pytest.raises(RuntimeError, match="Split sizes doesn't match total dim 0 size"):
        dist.all_to_all_single(out, x, [2], [3])
    with pytest.raises(ValueError, match="output_split_sizes has 2 entries, expected the group size 1"):
        dist.all_to_all_single(out, x, [1, 2], [3])
    with pytest.raises(ValueError, match=r"output shape \[3, 2\] and input shape \[3, 3\]"):
        dist.all_to_all_single(out, mt.zeros(3, 3))
    outl = [mt.zeros(2, dtype=mt.int64)]
    assert dist.all_to_all(outl, [mt.tensor([4, 5])]) is None
    assert outl[0].tolist() == [4, 5] and outl[0].dtype == mt.int64
    with pytest.raises(ValueError, match="must both have the group size 1 entries"):
        dist.all_to_all([mt.zeros(1)] * 2, [mt.zeros(1)])
    gl = [None]
    dist.gather_object({"a": 1}, gl)
    assert gl == [{"a": 1}]
    with pytest.raises(ValueError, match="Argument ``gather_list`` must be specified on destination rank."):
        dist.gather_object(1, None, dst=0)
    box = [None]
    dist.scatter_object_list(box, [("x", 1)])
    assert box == [("x", 1)]
    with pytest.raises(ValueError, match="scatter_object_output_list to be a list of size at least 1"):
        dist.scatter_object_list([], [1])
    with pytest.warns(FutureWarning, match="`torch.distributed.all_reduce_coalesced` will be deprecated"):
        ts = [mt.ones(2), mt.ones(1, 2)]
        dist.all_reduce_coalesced(ts, op=dist.ReduceOp.AVG)
    assert ts[1].shape == (1, 2) and ts[1].tolist() == [[1.0, 1.0]]
    with pytest.warns(FutureWarning, match="all_gather_coalesced` will be deprecated"):
        o = [[mt.zeros(2)]]
        dist.all_gather_coalesced(o, [mt.tensor([1.0, 2.0])])
    assert o[0][0].tolist() == [1.0, 2.0]
    big = mt.zeros(2)
    dist.all_gather_single(big, mt.tensor([3.0, 4.0]))
    dist.reduce_scatter_single(big, big * 2)
    assert big.tolist() == [6.0, 8.0]


def test_all_to_all_inside_jit_says_call_eagerly(one_process):
    @mt.jit
    def step(x):
        out = mt.zeros_like(x)
        dist.all_to_all_single(out, x)
        return out

    with pytest.raises(RuntimeError, match=r"all_to_all_single\(\): not supported inside mt.jit"):
        step(mt.ones(2))


def test_device_mesh_one_process(one_process):
    n0 = dist.get_pg_count()
    m = dist.init_device_mesh("cpu", (1, 1), mesh_dim_names=("dp", "tp"))
    assert dist.get_pg_count() == n0 + 2
    assert m.shape == (1, 1) and m.ndim == 2 and m.size() == 1 and m.size("tp") == 1
    assert m.mesh.tolist() == [[0]] and m.mesh.dtype == mt.int32 and m.device_type == "cpu"
    assert m.get_rank() == 0 and m.get_local_rank("tp") == 0 and m.get_coordinate() == (0, 0)
    assert dist.get_process_group_ranks(m.get_group("dp")) == [0]
    assert m.get_all_groups() == [m.get_group(0), m.get_group(1)]
    sub = m["tp"]
    assert sub.mesh_dim_names == ("tp",) and sub.get_group() is m.get_group("tp")
    assert m[("tp", "dp")].mesh_dim_names == ("tp", "dp")
    t = mt.tensor([2.0])
    dist.all_reduce(t, group=sub.get_group())
    assert t.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="`mesh_dim` needs to be specified when device_mesh.ndim > 1"):
        m.get_group()
    with pytest.raises(KeyError, match=r"Invalid mesh_dim_names \('xx',\) specified. Valid mesh_dim_names "
                                       r"are \['dp', 'tp'\]"):
        m["xx"]
    with pytest.raises(KeyError, match="Mesh dimension 'pp' does not exist"):
        m.get_local_rank("pp")
    with pytest.raises(RuntimeError, match="Mesh should not be bigger than default world size 1"):
        dist.init_device_mesh("cpu", (2,))
    with pytest.raises(RuntimeError, match="should have same length"):
        dist.init_device_mesh("cpu", (1,), mesh_dim_names=("a", "b"))
    with pytest.raises(RuntimeError, match="Device type with index is not supported but got cuda:0"):
        dist.init_device_mesh("cuda:0", (1,))
    g = dist.split_group(split_ranks=[[0]])
    assert dist.get_process_group_ranks(g) == [0]
    with pytest.raises(ValueError, match=r"split_group\(\): ranks \[1\] of split \[1\] are not in"):
        dist.split_group(split_ranks=[[1]])


def test_monitored_barrier_and_breakpoint(one_process, monkeypatch):
    assert dist.monitored_barrier(timeout=None, wait_all_ranks=True) is None
    entered = []
    import pdb
    monkeypatch.setattr(pdb.Pdb, "set_trace", lambda self, frame=None: entered.append(frame))
    monkeypatch.setitem(_misc._BP, "calls", 0)
    dist.breakpoint(rank=0, skip=1)  # skipped
    assert entered == []
    dist.breakpoint(rank=0, skip=1)
    assert len(entered) == 1
    dist.breakpoint(rank=5)  # another rank's breakpoint: only the barrier
    assert len(entered) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist.monitored_barrier()


def test_backend_config_group_name_record_comm(one_process):
    from tests.oracle import torch
    for b in ["gloo", "nccl", "cpu:gloo,cuda:nccl"]:
        assert str(dist.BackendConfig(b)) == str(torch.distributed.BackendConfig(b)), b
        assert (dist.BackendConfig(b).get_device_backend_map()
                == torch.distributed.BackendConfig(b).get_device_backend_map())
    assert dist.get_backend_config() == "cpu:gloo,cuda:gloo"
    with pytest.raises(ValueError, match="BackendConfig.*unknown backend 'bogus'"):
        dist.BackendConfig("bogus")
    assert dist.GroupName("g") == "g"
    t = mt.tensor([1.0])
    with dist.record_comm("layer1::all_reduce"):
        assert _misc._COMM["name"] == "layer1::all_reduce"
        dist.all_reduce(t)
    assert _misc._COMM["name"] is None and t.tolist() == [1.0]
