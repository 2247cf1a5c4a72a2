"""Rank 1 raises after joining the process group while rank 0 waits in a collective: the launcher
must report rank 1's error and stop rank 0 within seconds (no hang in JAX's shutdown at exit)."""
import minitorch_jax as mt
import minitorch_jax.distributed as dist

dist.init_process_group("gloo")
if dist.get_rank() == 1:
    raise ValueError("rank 1 fails after init on purpose")
dist.all_reduce(mt.ones(3))  # rank 0 waits here for a partner that never comes
