"""Run as ``store_init.py <kind> <rank> <where>`` in 2 processes: join the process group through a store
(``tcp``: a TCPStore whose master is rank 0, on port ``where``; ``file``: a FileStore at path ``where``;
``fileinit``: ``init_method="file://<where>"``), all-reduce, print "OK <kind> <rank>"."""
import datetime
import os
import sys

import minitorch_jax as mt
import minitorch_jax.distributed as dist

kind, rank, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
timeout = datetime.timedelta(seconds=60)
if kind == "tcp":
    store = dist.TCPStore("127.0.0.1", int(where), 2, rank == 0, timeout=timeout)
else:
    store = dist.FileStore(where + ".results", 2)
    store.set_timeout(timeout)
if kind == "fileinit":
    dist.init_process_group("gloo", init_method=f"file://{where}", rank=rank, world_size=2)
else:
    if kind == "file":
        store = dist.FileStore(where, 2)
        store.set_timeout(timeout)
    dist.init_process_group("gloo", store=dist.PrefixStore("job", store), rank=rank, world_size=2)
assert dist.get_rank() == rank and dist.get_world_size() == 2
t = mt.tensor([1.0, 2.0]) * (rank + 1)
dist.all_reduce(t)
assert t.tolist() == [3.0, 6.0], t.tolist()
store.add("done", 1)
dist.barrier()
os.write(1, f"OK {kind} {rank}\n".encode())
dist.destroy_process_group()
