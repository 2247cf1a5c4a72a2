"""Run under the launcher with 2 processes; argv[1] picks the check, each prints "OK <mode> <rank>".

train: a DDP model trained with an ``@mt.jit`` step (zero_grad, forward, backward, step) matches the
       eager DDP run and one process on the doubled batch; replicas agree; no host collective runs
       during the compiled steps (the all-reduce is inside the program).
lower: the compiled DDP step's lowered program has an all-reduce and no host callback.
cuda_policy: an ASGD DDP step under mt.jit's CUDA donation policy (forced) matches eager DDP and keeps
       its 0-d state undonated.
ops:   collectives called inside an mt.jit function (every ReduceOp, float and int, all_gather,
       broadcast, reduce_scatter ...) give the eager results, with no host collective; in a plain
       jax.jit the host collective still runs (callback); an mt.jit step with no collective trains
       each rank on its own data as eagerly.
"""
import os
import sys

import numpy as np

import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax import nn
from minitorch_jax.distributed import _collectives
from minitorch_jax.nn.parallel import DistributedDataParallel as DDP

mode = sys.argv[1]
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2

HOST_CALLS = [0]
_host = _collectives._eager


def _counting(*a, **k):
    HOST_CALLS[0] += 1
    return _host(*a, **k)


_collectives._eager = _counting  # every host-side collective (eager, or a pure_callback) passes here


def close(a, b, what, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol, err_msg=what)


def make(seed, bn=False):
    mt.manual_seed(seed)
    mid = [nn.BatchNorm1d(8)] if bn else []
    return nn.Sequential(nn.Linear(5, 8, bias=not bn), *mid, nn.Tanh(), nn.Linear(8, 2))  # no bias before BN


rng = np.random.default_rng(0)
X = rng.standard_normal((24, 5)).astype(np.float32)
Y = rng.standard_normal((24, 2)).astype(np.float32)
STEPS = 5
batches = [(mt.tensor(X[4 * i:4 * i + 4][rank::2]), mt.tensor(Y[4 * i:4 * i + 4][rank::2]))
           for i in range(STEPS)]


def trainer(model, params, jit, opt_cls=mt.optim.Adam, **kw):
    opt = opt_cls(params, lr=0.05, **kw)

    def step(x, y):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return mt.jit(step) if jit else step


def train_ddp(jit, bn=False, data=batches):
    net = make(100 + rank, bn)  # different weights per rank: DDP broadcasts rank 0's
    step = trainer(DDP(net), net.parameters(), jit)
    losses = [float(step(*data[0]))]  # mt.jit runs its first call eagerly (creates .grad, Adam state)
    HOST_CALLS[0] = 0
    losses += [float(step(x, y)) for x, y in data[1:]]
    return net, step, losses


def flat_params(net):
    return mt.cat([p.detach().reshape(-1) for p in net.parameters()])


if mode == "train":
    net_e, _, loss_e = train_ddp(False)
    assert HOST_CALLS[0] == STEPS - 1, HOST_CALLS  # eager DDP: one host all-reduce per step
    net_j, step_j, loss_j = train_ddp(True)
    assert step_j.num_compiles == 1, step_j.explain()
    assert HOST_CALLS[0] == 0, f"compiled DDP steps ran {HOST_CALLS[0]} host collectives"
    close(loss_j, loss_e, "losses jit vs eager")
    ref = make(100)
    ref_step = trainer(ref, ref.parameters(), False)
    for i in range(STEPS):
        ref_step(mt.tensor(X[4 * i:4 * i + 4]), mt.tensor(Y[4 * i:4 * i + 4]))
    for (n, p), q, r in zip(ref.named_parameters(), net_j.parameters(), net_e.parameters()):
        close(q.detach().numpy(), r.detach().numpy(), f"jit vs eager DDP: {n}")
        close(q.detach().numpy(), p.detach().numpy(), f"jit DDP vs doubled batch: {n}")
    mine = flat_params(net_j)
    other = mine.clone()
    dist.broadcast(other, src=0)
    assert mt.equal(mine, other), "replicas differ after compiled DDP steps"
    # BatchNorm buffers: DDP broadcasts rank 0's before every forward (an in-program broadcast)
    big = [(mt.tensor(X[8 * i:8 * i + 8][rank::2]), mt.tensor(Y[8 * i:8 * i + 8][rank::2])) for i in range(3)]
    net_be, _, loss_be = train_ddp(False, bn=True, data=big)
    net_bj, step_bj, loss_bj = train_ddp(True, bn=True, data=big)
    assert HOST_CALLS[0] == 0 and step_bj.num_compiles == 1
    close(loss_bj, loss_be, "BN losses jit vs eager")
    for (n, a), b in zip(net_bj.state_dict().items(), net_be.state_dict().values()):
        close(a.numpy(), b.numpy(), f"BN model jit vs eager DDP: {n}")
elif mode == "lower":
    net = make(1)
    step = trainer(DDP(net), net.parameters(), True)
    x, y = batches[0]
    step(x, y)
    step(x, y)
    txt = step.lower(x, y).as_text()
    assert "all_reduce" in txt or "all-reduce" in txt, "no all-reduce in the compiled DDP step"
    assert "callback" not in txt, "the compiled DDP step still calls back to the host"
elif mode == "ops":
    ops = [dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.PRODUCT, dist.ReduceOp.MIN, dist.ReduceOp.MAX]

    def collectives(x, xi):
        outs = []
        for op in ops:
            for base in (x, xi):
                t = base * 1  # a fresh tensor: all_reduce works in place
                dist.all_reduce(t, op=op)
                outs.append(t)
        lst = [mt.zeros_like(x) for _ in range(world)]
        dist.all_gather(lst, x)
        outs += lst
        for src in (0, 1):
            b = x + 0
            dist.broadcast(b, src=src)
            outs.append(b)
        rs = mt.zeros(3)
        dist.reduce_scatter(rs, [x, x * 10])
        rs_max = mt.zeros(3)
        dist.reduce_scatter(rs_max, [x, -x], op=dist.ReduceOp.MAX)
        big = mt.zeros(6)
        dist.all_gather_into_tensor(big, x)
        flags = (x > 1.5)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        red = x * 3
        dist.reduce(red, dst=1, op=dist.ReduceOp.SUM)  # only rank 1's changes
        sc = mt.zeros(3)
        dist.scatter(sc, [x, x + 100] if rank == 0 else None, src=0)
        gl = [mt.zeros(3), mt.zeros(3)] if rank == 1 else None
        dist.gather(x * 2, gl, dst=1)  # rank 0 ignores the gathered values
        return outs + [rs, rs_max, big, flags, red, sc] + (gl or [mt.zeros(3), mt.zeros(3)])

    x = mt.tensor([1.0 + rank, -2.0 * rank, 0.5 + rank], dtype=mt.float32)
    xi = mt.tensor([1 + rank, 3 - 2 * rank, 7], dtype=mt.int64)
    HOST_CALLS[0] = 0
    want = collectives(x, xi)
    assert HOST_CALLS[0] > 0
    comp = mt.jit(collectives)
    HOST_CALLS[0] = 0
    got = comp(x, xi)
    assert HOST_CALLS[0] == 0, f"compiled collectives ran {HOST_CALLS[0]} host collectives"
    assert comp.num_compiles == 1, comp.explain()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, (i, g, w)
        assert g.tolist() == w.tolist(), (i, g.tolist(), w.tolist())
    # outside an mt.jit step program (a plain jax.jit) the host collective still runs, via a callback
    import jax
    HOST_CALLS[0] = 0
    summed = jax.jit(lambda a: _collectives.run("reduce", "sum", a))(x._data)
    assert HOST_CALLS[0] == 1 and summed.tolist() == want[0].tolist()
    # a compiled step with no collective at all: each rank trains on its own data, as eagerly
    results = []
    for jit in (False, True):
        net = make(7)
        step = trainer(net, net.parameters(), jit)
        for xb, yb in batches[:4]:
            step(xb, yb)
        results.append(flat_params(net))
    assert step.num_compiles == 1, step.explain()
    close(results[1].numpy(), results[0].numpy(), "no-collective step jit vs eager")
    other = results[1].clone()
    dist.broadcast(other, src=0)
    assert (rank == 0) == bool(mt.equal(other, results[1])), "ranks trained on different data must differ"
elif mode == "cuda_policy":
    # mt.jit's CUDA donation policy (state of the kind of a value returned twice passed undonated) in an
    # SPMD program, forced on these CPU processes: ASGD's eta and mu, one value for every parameter
    from minitorch_jax.jit import _compiled
    _compiled._on_cuda = lambda cap: True
    analysed, _value_ids = [], _compiled.value_ids
    _compiled.value_ids = lambda jaxpr: analysed.append(_value_ids(jaxpr)) or analysed[-1]  # (no fallback)
    runs = []
    for jit in (False, True):
        net = make(100 + rank)
        step = trainer(DDP(net), net.parameters(), jit, mt.optim.ASGD, t0=2)
        runs.append((net, step, [float(step(x, y)) for x, y in batches]))
    (net_e, _, loss_e), (net_j, step_j, loss_j) = runs
    close(loss_j, loss_e, "ASGD losses jit vs eager")
    for (n, a), b in zip(net_j.state_dict().items(), net_e.state_dict().values()):
        close(a.numpy(), b.numpy(), f"ASGD jit vs eager DDP: {n}")
    (entry,) = step_j._cache.values()
    scalars = [t._data.ndim == 0 for t in step_j._cap.tensors]
    assert analysed and any(scalars) and entry.split.keep[0] == tuple(scalars), (entry.split.keep, scalars)
else:
    raise SystemExit(f"unknown mode {mode!r}")
dist.barrier()
os.write(1, f"OK {mode} {rank}\n".encode())  # one write per line (ranks share the launcher's pipe)
dist.destroy_process_group()
