"""Run under the launcher with 2 processes (argv[1] = 'eager,jit' or one of them): DDP training on
data sharded by DistributedSampler ends with the same parameters as one process training on the
doubled batch."""
import os
import sys

import numpy as np

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax import nn
from minitorch_jax.nn.parallel import DistributedDataParallel as DDP
from minitorch_jax.utils.data import DataLoader, DistributedSampler, TensorDataset

modes = (sys.argv[1] if len(sys.argv) > 1 else "eager,jit").split(",")
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()


def make(seed):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))


rng = np.random.default_rng(0)
X = mt.tensor(rng.standard_normal((16, 5)), dtype=mt.float32)
Y = mt.tensor(rng.standard_normal((16, 2)), dtype=mt.float32)
data = TensorDataset(X, Y)


def trainer(model, jit):
    opt = mt.optim.Adam(model.parameters(), lr=0.05)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return mt.jit(step) if jit else step


def run(mode):
    # every rank starts from different weights: DDP must broadcast rank 0's
    net = make(100 + rank)
    ddp = DDP(net)
    assert all(k.startswith("module.") for k in ddp.state_dict())
    sampler = DistributedSampler(data, shuffle=True, seed=3)
    loader = DataLoader(data, batch_size=4, sampler=sampler)
    step = trainer(ddp, mode == "jit")
    seen = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            step(xb, yb)
            seen.append((xb, yb))
    return net, ddp, seen


results = {m: run(m) for m in modes}
net, ddp, seen = results[modes[0]]
# the reference: one process, the same steps on the doubled (both ranks') batches
all_seen = [None, None]
dist.all_gather_object(all_seen, [(x.numpy(), y.numpy()) for x, y in seen])
ref = make(100)
ref_step = trainer(ref, False)
for i in range(len(seen)):
    xb = mt.tensor(np.concatenate([all_seen[0][i][0], all_seen[1][i][0]]))
    yb = mt.tensor(np.concatenate([all_seen[0][i][1], all_seen[1][i][1]]))
    ref_step(xb, yb)
for m, (net_m, _, _) in results.items():
    for (n, p), q in zip(ref.named_parameters(), net_m.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=2e-5, atol=2e-6,
                                   err_msg=f"{m}: {n}")
# the replicas agree exactly
flat = mt.cat([p.detach().reshape(-1) for p in net.parameters()])
other = flat.clone()
dist.broadcast(other, src=0)
assert mt.equal(flat, other)
with ddp.no_sync():  # no averaging inside no_sync
    net.zero_grad()
    ddp(X[rank::2][:2]).sum().backward()
g = net[0].weight.grad.clone()
dist.broadcast(g, src=0)
assert (rank == 0) == bool(mt.equal(g, net[0].weight.grad))
os.write(1, f"OK {','.join(modes)} {rank} {len(seen)}\n".encode())  # one write per line (shared pipe)
dist.destroy_process_group()
