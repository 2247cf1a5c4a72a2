"""Functions run by ``mt.multiprocessing.spawn`` in tests/test_multiprocessing.py (importable by the
spawned children; nothing heavy is imported at module level)."""

from __future__ import annotations

import os
import time


def _cpu_env():
    os.environ["JAX_PLATFORMS"] = "cpu"
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count")]
    os.environ["XLA_FLAGS"] = " ".join(flags)


def square_to_file(rank, out_dir, scale):
    _cpu_env()
    import minitorch_jax as mt
    value = (mt.arange(3.0) * (rank + 1) * scale).pow(2).sum().item()
    with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
        f.write(repr(value))


def all_reduce_to_file(rank, world_size, port, out_dir):
    _cpu_env()
    import minitorch_jax as mt
    import minitorch_jax.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    t = mt.tensor([float(rank + 1), 10.0 * (rank + 1)])
    dist.all_reduce(t)
    with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
        f.write(repr(t.tolist()))
    dist.destroy_process_group()


def raise_in_rank_one(rank, out_dir):
    if rank == 1:
        raise ValueError(f"boom in rank {rank}")
    time.sleep(120)  # rank 0 would run on: the parent must stop it
    with open(os.path.join(out_dir, "rank0_finished"), "w") as f:
        f.write("should not happen")


def exit_with(rank, code):
    os._exit(code)


def kill_self(rank):
    import signal
    os.kill(os.getpid(), signal.SIGKILL)


def sleep_then_return(rank, seconds):
    time.sleep(seconds)
