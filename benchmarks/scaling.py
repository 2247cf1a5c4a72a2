"""MLP training-step throughput with DataParallel under mt.jit on 1, 2, 4 devices, and the 2-process DDP step.

Each configuration runs in its own subprocess (XLA_FLAGS must be set before JAX starts). On a CPU-only
machine the devices are forced host devices sharing the same cores, so the point is the overhead of
the sharded program (samples/s relative to one device), not a speedup; on a GPU machine the same
command measures real devices (``--real``).

The DDP section times the same step eagerly (a host all-reduce per step) and under ``mt.jit``, where the
step is one SPMD program over the 2 processes and the gradient all-reduce is an XLA collective inside it
(``host collectives`` counts collectives that went through the host during the timed jit steps: 0).

    python benchmarks/scaling.py [--batch 256] [--steps 30] [--real] [--no-ddp]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time
import jax
import minitorch_jax as mt
from minitorch_jax import nn
from minitorch_jax.nn.parallel import DataParallel
n, batch, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
mt.manual_seed(0)
model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
if n > 1:
    model = DataParallel(model, device_ids=list(range(n)))
opt = mt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x, y = mt.randn(batch, 256), mt.randint(0, 10, (batch,))
@mt.jit
def step(x, y):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss
for _ in range(3):
    step(x, y)
jax.block_until_ready(model.state_dict()[next(iter(model.state_dict()))]._data)
t = time.perf_counter()
for _ in range(steps):
    loss = step(x, y)
float(loss)
dt = (time.perf_counter() - t) / steps
print(json.dumps({"devices": n, "step_ms": dt * 1e3, "samples_per_s": batch / dt,
                  "device": str(jax.devices()[0].device_kind)}))
"""

DDP_WORKER = r"""
import json, sys, time
import minitorch_jax as mt
import minitorch_jax.distributed as dist
from minitorch_jax import nn
from minitorch_jax.distributed import _collectives
from minitorch_jax.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group("gloo")
host = [0]
_eager = _collectives._eager
def counting(*a, **k):
    host[0] += 1
    return _eager(*a, **k)
_collectives._eager = counting
batch, steps = int(sys.argv[1]), int(sys.argv[2])
mt.manual_seed(0)
net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
model = DDP(net)
opt = mt.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x, y = mt.randn(batch // 2, 256), mt.randint(0, 10, (batch // 2,))
def step(x, y):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss
out = {}
for name, fn in (("eager", step), ("jit", mt.jit(step))):
    for _ in range(3):
        fn(x, y)
    dist.barrier()
    host[0] = 0
    t = time.perf_counter()
    for _ in range(steps):
        loss = fn(x, y)
    float(loss)
    dt = (time.perf_counter() - t) / steps
    out[name] = {"step_ms": dt * 1e3, "samples_per_s": batch / dt, "host_collectives": host[0]}
if dist.get_rank() == 0:
    print("DDP " + json.dumps(out), flush=True)
dist.destroy_process_group()
"""


def run_dp(n: int, batch: int, steps: int, real: bool) -> dict:
    env = dict(os.environ)
    if not real:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={max(n, 1)}"
        env["JAX_PLATFORMS"] = "cpu"
    r = subprocess.run([sys.executable, "-c", WORKER, str(n), str(batch), str(steps)], env=env,
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"{n}-device run failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_ddp(batch: int, steps: int) -> dict:
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(DDP_WORKER)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    try:
        r = subprocess.run([sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "2",
                            f.name, str(batch), str(steps)], env=env, capture_output=True, text=True,
                           timeout=600)
    finally:
        os.unlink(f.name)
    if r.returncode:
        raise RuntimeError(f"DDP run failed:\n{r.stderr[-2000:]}")
    line = [s for s in r.stdout.splitlines() if s.startswith("DDP ")][-1]
    return json.loads(line[4:])


def main(argv=None) -> None:
    """Run the benchmark and print a table (and JSON with --json)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--devices", default="1,2,4")
    p.add_argument("--real", action="store_true",
                   help="use the machine's real devices (GPU), not forced CPUs")
    p.add_argument("--no-ddp", action="store_true")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    t0 = time.time()
    rows = [run_dp(int(n), a.batch, a.steps, a.real) for n in a.devices.split(",")]
    base = rows[0]["samples_per_s"]
    print(f"DataParallel + mt.jit, MLP 256-512-512-10, batch {a.batch} ({rows[0]['device']})")
    print(f"{'devices':>8} {'step ms':>10} {'samples/s':>12} {'vs 1 device':>12}")
    for r in rows:
        print(f"{r['devices']:>8} {r['step_ms']:>10.2f} {r['samples_per_s']:>12.0f} "
              f"{r['samples_per_s'] / base:>11.2f}x")
    ddp = None
    if not a.no_ddp:
        ddp = run_ddp(a.batch, a.steps)
        print(f"DDP, 2 CPU processes (gloo), global batch {a.batch}; jit = one SPMD program per step, "
              "gradient all-reduce in-program (XLA collective):")
        for k, v in ddp.items():
            print(f"{k:>8} {v['step_ms']:>10.2f} ms/step {v['samples_per_s']:>12.0f} samples/s "
                  f"{v['samples_per_s'] / base:>8.2f}x of 1 device, "
                  f"{v['host_collectives']} host collectives in {a.steps} steps")
    print(f"(total {time.time() - t0:.0f} s)")
    if a.json:
        print(json.dumps({"data_parallel": rows, "ddp": ddp}))


if __name__ == "__main__":
    main()
