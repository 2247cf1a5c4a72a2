"""Run under the launcher with 2 processes: SyncBatchNorm on each rank's part of a batch (unequal
parts) gives the outputs, input gradients, summed parameter gradients and running statistics of one
process's BatchNorm on the whole batch, eagerly and in an mt.jit step (argv[1] = 'eager,jit' or one of
them); eval mode does not sync. Prints OK <rank>."""
import os
import sys

import numpy as np

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax import nn
from minitorch_jax.nn.modules.sync_batchnorm import SyncBatchNorm

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2
modes = (sys.argv[1] if len(sys.argv) > 1 else "eager").split(",")


def close(a, b, what, tol=1e-5):
    a, b = np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy())
    assert a.shape == b.shape, (what, a.shape, b.shape)
    assert np.allclose(a, b, rtol=tol, atol=tol), (what, np.abs(a - b).max())


def make(cls, c, momentum, seed):
    m = cls(c, momentum=momentum)
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        m.weight.copy_(mt.tensor(rng.standard_normal(c), dtype=mt.float32))
        m.bias.copy_(mt.tensor(rng.standard_normal(c), dtype=mt.float32))
    return m


def check(cls, shape, momentum, split, jit=False, steps=2):
    rng = np.random.default_rng(1)
    c = shape[1]
    ref = make(cls, c, momentum, 5)
    syn = SyncBatchNorm.convert_sync_batchnorm(make(cls, c, momentum, 5))
    assert type(syn) is SyncBatchNorm
    lo, hi = (0, split) if rank == 0 else (split, shape[0])

    def sync_step(x, g):
        out = syn(x)
        (out * g).sum().backward()
        return out, x.grad  # (returned: mt.jit writes back state, not an argument's .grad)
    run = mt.jit(sync_step) if jit else sync_step
    for _ in range(steps):
        X = rng.standard_normal(shape).astype(np.float32) * 2 + 1
        G = rng.standard_normal(shape).astype(np.float32)
        xr = mt.tensor(X, requires_grad=True)
        out_ref = ref(xr)
        (out_ref * mt.tensor(G)).sum().backward()
        xs = mt.tensor(X[lo:hi], requires_grad=True)
        syn.zero_grad()
        out, xgrad = run(xs, mt.tensor(G[lo:hi]))
        close(out, out_ref[lo:hi], "output")
        close(xgrad, xr.grad[lo:hi], "input grad")
        for name in ("weight", "bias"):
            g = getattr(syn, name).grad.clone()
            dist.all_reduce(g)
            close(g, getattr(ref, name).grad, name + " grad (summed over ranks)")
        ref.zero_grad()
        for b in ("running_mean", "running_var", "num_batches_tracked"):
            close(getattr(syn, b), getattr(ref, b), b)
    if jit:
        assert run.num_compiles >= 1, run.explain()
    # eval: running statistics, no collective (each rank its own part)
    syn.eval()
    ref.eval()
    X = rng.standard_normal(shape).astype(np.float32)
    close(syn(mt.tensor(X[lo:hi])), ref(mt.tensor(X))[lo:hi], "eval output")


for mode in modes:
    jit = mode == "jit"
    check(nn.BatchNorm1d, (6, 3), 0.1, 3, jit)
    check(nn.BatchNorm1d, (6, 2, 5), None, 2, jit)
    check(nn.BatchNorm2d, (4, 3, 3, 2), 0.3, 2, jit)
os.write(1, f"OK {rank}\n".encode())  # one write: ranks share the launcher's pipe
