"""Run under the launcher with 4 processes: two DDP replicas groups ({0, 1} and {2, 3}, from
new_subgroups(2)) train side by side, eagerly and with mt.jit; each group ends equal to one process on
its members' concatenated batches, and the groups differ from each other."""
import os
import sys

import numpy as np

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax import nn
from minitorch_jax.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 4
mine, _all = dist.new_subgroups(2)
members = dist.get_process_group_ranks(mine)
g02 = dist.new_group([0, 2])


def make(seed):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))


def batches(r):
    rng = np.random.default_rng(10 + r)
    return [(rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32))
            for _ in range(4)]


def trainer(model, jit):
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return mt.jit(step) if jit else step


for jit in (False, True):
    net = make(100 + rank)  # different start on every rank: DDP broadcasts the group's first rank's
    step = trainer(DDP(net, process_group=mine), jit)
    for x, y in batches(rank):
        step(mt.tensor(x), mt.tensor(y))
    ref = make(100 + members[0])
    ref_step = trainer(ref, False)
    for parts in zip(*(batches(r) for r in members)):
        xs = np.concatenate([p[0] for p in parts])
        ref_step(mt.tensor(xs), mt.tensor(np.concatenate([p[1] for p in parts])))
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=2e-5, atol=2e-6,
                                   err_msg=f"rank {rank} jit={jit}")
    # the two groups trained on different data: their weights differ
    flat = mt.cat([p.detach().reshape(-1) for p in net.parameters()])
    everyone = [mt.zeros_like(flat) for _ in range(world)]
    dist.all_gather(everyone, flat)
    assert mt.equal(everyone[members[0]], everyone[members[1]])
    assert not mt.allclose(everyone[0], everyone[2])

if rank in (1, 3):
    try:
        DDP(make(0), process_group=g02)
    except ValueError as e:
        assert "not a member of process_group" in str(e), e
    else:
        raise AssertionError("DDP on a group this rank is not in must raise")
dist.barrier()
os.write(1, f"OK {rank}\n".encode())
dist.destroy_process_group()
sys.exit(0)
