"""Run under the launcher with 4 processes: process subgroups (new_group / new_subgroups); prints OK <rank>.

eager: collectives on the subgroup {0, 2} run only on ranks 0 and 2 while ranks 1 and 3 run their own
       subgroup {1, 3} (other values); src/dst are global ranks, group_src/group_dst group ranks; the
       rank mapping functions; a non-member gets NON_GROUP_MEMBER (collectives warn and do nothing, as
       torch); misuse (a member-only group object on a non-member, src outside the group) raises.
jit:   the same collectives inside an mt.jit function, called by every rank (the SPMD rule), give the
       eager results, with no host collective and one all-gather per subgroup collective in the program.
"""
import os
import pickle
import sys
import traceback
import warnings

import numpy as np

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax.distributed import _collectives


def _die(kind, value, tb):  # exit at once: an exception would wait in jax.distributed's shutdown barrier
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
    os._exit(1)


sys.excepthook = _die
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 4
NON = dist.GroupMember.NON_GROUP_MEMBER

HOST_CALLS = [0]
_host = _collectives._eager


def _counting(*a, **k):
    HOST_CALLS[0] += 1
    return _host(*a, **k)


_collectives._eager = _counting


def raises(exc, words, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return
    raise AssertionError(f"{fn.__name__} did not raise {exc.__name__}")


# every process calls new_group with the same ranks (torch's rule); non-members get NON_GROUP_MEMBER
g02 = dist.new_group([2, 0])  # sorted: group rank 0 is global 0, group rank 1 is global 2
g13 = dist.new_group([1, 3])
gall = dist.new_group()
mine = g02 if rank in (0, 2) else g13
other = g13 if rank in (0, 2) else g02
assert other is NON and isinstance(mine, dist.ProcessGroup)
assert mine.size() == 2 and mine.rank() == rank // 2 and repr(mine).startswith("ProcessGroup(")
assert dist.get_rank(mine) == rank // 2 and dist.get_world_size(mine) == 2
assert dist.get_rank(other) == -1 and dist.get_world_size(other) == -1
assert dist.get_process_group_ranks(mine) == ([0, 2] if rank in (0, 2) else [1, 3])
assert dist.get_process_group_ranks(None) == [0, 1, 2, 3] == dist.get_process_group_ranks(gall)
assert dist.get_global_rank(mine, 1) == (2 if rank in (0, 2) else 3)
assert dist.get_group_rank(mine, rank) == rank // 2
assert dist.get_group_rank(dist.group.WORLD, 3) == 3 and dist.get_global_rank(dist.group.WORLD, 3) == 3
assert dist.get_rank(gall) == rank and dist.get_world_size(gall) == 4
raises(ValueError, [f"Global rank {3 - rank % 2 * 3}", "not part of group",
                    "[0, 2]" if rank in (0, 2) else "[1, 3]"], dist.get_group_rank, mine, 3 - rank % 2 * 3)
raises(ValueError, ["Group rank 2", "not part of group"], dist.get_global_rank, mine, 2)
raises(ValueError, ["get_process_group_ranks", f"global rank {rank}", "NON_GROUP_MEMBER"],
       dist.get_process_group_ranks, other)

# new_subgroups: consecutive pairs {0, 1}, {2, 3}
cur, subs = dist.new_subgroups(group_size=2)
assert len(subs) == 2 and subs[rank // 2] is cur and subs[1 - rank // 2] is NON
assert dist.get_process_group_ranks(cur) == [rank - rank % 2, rank - rank % 2 + 1]
raises(ValueError, ["divisible"], dist.new_subgroups, 3)


def check(got, want, what=""):
    assert got.tolist() == want, (what, got.tolist(), want)


def x_of(r):
    return mt.tensor([1.0 + r, -2.0 * r, 0.5 + r])


# ----- eager: ranks 0, 2 on g02 while ranks 1, 3 on g13 (their own values), concurrently ---------------
x = x_of(rank)
a, b = (0, 2) if rank in (0, 2) else (1, 3)
xa, xb = x_of(a).tolist(), x_of(b).tolist()
for op, f in [(dist.ReduceOp.SUM, lambda p, q: p + q), (dist.ReduceOp.MAX, max), (dist.ReduceOp.MIN, min),
              (dist.ReduceOp.PRODUCT, lambda p, q: p * q), (dist.ReduceOp.AVG, lambda p, q: (p + q) / 2)]:
    t = x.clone()
    assert dist.all_reduce(t, op=op, group=mine) is None
    check(t, [f(p, q) for p, q in zip(xa, xb)], op)
ti = mt.tensor([rank + 1, 7], dtype=mt.int64)
dist.all_reduce(ti, group=mine)
check(ti, [a + b + 2, 14])
t = x.clone()
assert isinstance(dist.all_reduce(t, group=mine, async_op=True), dist.Work)
t = x.clone()
dist.broadcast(t, src=b, group=mine)  # src: a global rank
check(t, xb)
t = x.clone()
dist.broadcast(t, group=mine, group_src=0)  # group_src: a rank in the group
check(t, xa)
lst = [mt.zeros(3), mt.zeros(3)]
dist.all_gather(lst, x, group=mine)
check(lst[0], xa)
check(lst[1], xb)
big = mt.zeros(6)
dist.all_gather_into_tensor(big, x, group=mine)
check(big, xa + xb)
t = x * 1
dist.reduce(t, dst=b, group=mine)
check(t, [p + q for p, q in zip(xa, xb)] if rank == b else x.tolist())
rs = mt.zeros(3)
dist.reduce_scatter(rs, [x, x * 10], group=mine)
check(rs, [p + q for p, q in zip(xa, xb)] if rank == a else [10 * (p + q) for p, q in zip(xa, xb)])
gl = [mt.zeros(3), mt.zeros(3)] if rank == a else None
dist.gather(x, gl, group=mine, group_dst=0)
if rank == a:
    check(gl[0], xa)
    check(gl[1], xb)
sc = mt.zeros(3)
dist.scatter(sc, [x, x + 100] if rank == b else None, src=b, group=mine)
check(sc, xb if rank == a else [v + 100 for v in xb])
objs = [None, None]
dist.all_gather_object(objs, {"rank": rank}, group=mine)
assert objs == [{"rank": a}, {"rank": b}]
ol = [rank] if rank == b else [None]
dist.broadcast_object_list(ol, src=b, group=mine)
assert ol == [b]
dist.barrier(group=mine)

# a whole-world new_group is the default group
t = x.clone()
dist.all_reduce(t, group=gall)
check(t, [sum(v) for v in zip(*[x_of(r).tolist() for r in range(4)])])

# ----- eager: only {0, 2} use g02; ranks 1 and 3 do something else (a local op) -------------------------
if rank in (0, 2):
    t = x.clone()
    dist.all_reduce(t, group=g02)
    check(t, [p + q for p, q in zip(x_of(0).tolist(), x_of(2).tolist())])
    import jax  # under a plain jax.jit (no SPMD program) the members' host collective runs via a callback
    HOST_CALLS[0] = 0
    summed = jax.jit(lambda v: _collectives.run("reduce", "sum", v, group=g02))(x._data)
    assert HOST_CALLS[0] == 1 and summed.tolist() == t.tolist()
    raises(ValueError, ["broadcast()", "src 1", "ProcessGroup", "[0, 2]"], dist.broadcast, x.clone(), 1, g02)
    raises(ValueError, ["group_src 2", "not part of", "[0, 2]"], dist.broadcast, x.clone(), group=g02,
           group_src=2)
    raises(ValueError, ["all_gather()", "expected the group size 2"], dist.all_gather, [mt.zeros(3)] * 4, x,
           group=g02)
else:
    t = x.clone()
    v = t._version
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert dist.all_reduce(t, group=g02) is None  # NON_GROUP_MEMBER here: torch warns, does nothing
        dist.broadcast(t, src=0, group=g02)
    assert t._version == v and t.tolist() == x.tolist()
    msgs = [str(m.message) for m in w]
    assert len(msgs) == 2 and f"all_reduce on global rank {rank}" in msgs[0], msgs
    raises(ValueError, ["Invalid process group"], dist.get_backend, g02)
    t = (x * 3).exp()  # something else meanwhile

# misuse: a member-only group object on a non-member (here sent over by rank 0) names group and rank
sent = [pickle.dumps(g02) if rank == 0 else None]
dist.broadcast_object_list(sent, src=0)
foreign = pickle.loads(sent[0])
if rank in (1, 3):
    raises(RuntimeError, ["all_reduce()", f"global rank {rank} is not a member of ProcessGroup", "[0, 2]"],
           dist.all_reduce, x.clone(), group=foreign)
    assert dist.get_rank(foreign) == -1
raises(TypeError, ["all_reduce()", "group must be a ProcessGroup", "str"], dist.all_reduce, x.clone(),
       group="g")
dist.destroy_process_group(mine)
raises(RuntimeError, ["destroyed"], dist.all_reduce, x.clone(), group=mine)
g02 = dist.new_group([0, 2])
mine = g02 if rank in (0, 2) else dist.new_group([1, 3])
if rank in (0, 2):
    assert dist.new_group([1, 3]) is NON
else:
    g02 = NON


# ----- inside mt.jit: every rank calls every collective (SPMD); members get the eager values ----------
def collectives(x, xi):
    outs = []
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.PRODUCT):
        for base in (x, xi):
            t = base * 1
            dist.all_reduce(t, op=op, group=g02)  # non-members (1, 3) hold NON_GROUP_MEMBER: unchanged
            outs.append(t)
    for src in (0, 2):
        t = x + 0
        dist.broadcast(t, src=src, group=g02)
        outs.append(t)
    lst = [mt.zeros(3), mt.zeros(3)]
    dist.all_gather(lst, x, group=g02)
    outs += lst
    t = x * 1
    dist.all_reduce(t, group=mine)  # each rank's own subgroup: {0, 2} or {1, 3}
    outs.append(t)
    rs = mt.zeros(3)
    dist.reduce_scatter(rs, [x, x * 10], op=dist.ReduceOp.MAX, group=mine)
    big = mt.zeros(6)
    dist.all_gather_into_tensor(big, x, group=mine)
    red = x * 3
    dist.reduce(red, group=mine, group_dst=1)
    sc = mt.zeros(3)
    dist.scatter(sc, [x, x + 100] if rank in (0, 1) else None, group=mine, group_src=0)
    flags = x > 1.5
    dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=mine)
    return outs + [rs, big, red, sc, flags]


xi = mt.tensor([1 + rank, 3 - 2 * rank, 7], dtype=mt.int64)
HOST_CALLS[0] = 0
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the non-members' eager warnings
    want = collectives(x, xi)
assert HOST_CALLS[0] > 0
comp = mt.jit(collectives)
HOST_CALLS[0] = 0
for _ in range(2):
    got = comp(x, xi)
assert HOST_CALLS[0] == 0, f"compiled subgroup collectives ran {HOST_CALLS[0]} host collectives"
assert comp.num_compiles == 1, comp.explain()
for i, (gv, wv) in enumerate(zip(got, want)):
    assert gv.dtype == wv.dtype and gv.shape == wv.shape, (i, gv, wv)
    np.testing.assert_allclose(gv.numpy(), wv.numpy(), rtol=1e-6, err_msg=f"output {i}")
if rank in (1, 3):  # non-members of g02: untouched by its collectives
    check(got[0], x.tolist())
    check(got[8], x.tolist())
txt = comp.lower(x, xi).as_text()
assert "all_gather" in txt or "all-gather" in txt, "no all-gather in the compiled subgroup collectives"
assert "callback" not in txt
dist.barrier()
os.write(1, f"OK {rank}\n".encode())  # one write per line (ranks share the launcher's pipe)
dist.destroy_process_group()
