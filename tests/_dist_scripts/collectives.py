"""Run under the launcher with 2 processes: checks collective values, prints OK <rank>."""
import os

import minitorch_jax as mt
import minitorch_jax.distributed as dist

dist.init_process_group("gloo")
r, w = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and w == 2


def check(got, want):
    assert got.tolist() == want, (got.tolist(), want)


for op, want in [(dist.ReduceOp.SUM, [3.0, 5.0]), (dist.ReduceOp.AVG, [1.5, 2.5]),
                 (dist.ReduceOp.MAX, [2.0, 3.0]),
                 (dist.ReduceOp.MIN, [1.0, 2.0]), (dist.ReduceOp.PRODUCT, [2.0, 6.0])]:
    t = mt.tensor([1.0 + r, 2.0 + r])
    v = t._version
    assert dist.all_reduce(t, op=op) is None
    check(t, want)
    assert t._version > v
ti = mt.tensor([r + 1], dtype=mt.int64)
dist.all_reduce(ti)
check(ti, [3])
assert ti.dtype == mt.int64
b = mt.tensor([10.0 * (r + 1)])
dist.broadcast(b, src=1)
check(b, [20.0])
lst = [mt.zeros(2), mt.zeros(2)]
dist.all_gather(lst, mt.tensor([r, r + 0.5]))
check(lst[0], [0.0, 0.5])
check(lst[1], [1.0, 1.5])
out = mt.zeros(1)
dist.reduce_scatter(out, [mt.tensor([1.0 + r]), mt.tensor([10.0 + r])])
check(out, [3.0] if r == 0 else [21.0])
big = mt.zeros(4)
dist.all_gather_into_tensor(big, mt.tensor([r, r]).float())
check(big, [0.0, 0.0, 1.0, 1.0])
objs = [None, None]
dist.all_gather_object(objs, {"rank": r})
assert objs == [{"rank": 0}, {"rank": 1}]


@mt.jit
def traced(x):  # a collective inside a compiled function (in-program XLA collective)
    y = x * 2
    dist.all_reduce(y)
    return y + 1


check(traced(mt.tensor([1.0 + r])), [1.0 + 2 * 3.0])
dist.barrier()
os.write(1, f"OK {r}\n".encode())  # one write: ranks share the pipe, lines must not interleave
dist.destroy_process_group()
