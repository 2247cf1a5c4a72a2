"""The process group: ``init_process_group`` on ``jax.distributed.initialize`` and the global mesh.

The group is JAX's multi-controller runtime: each process runs the same program, and a collective
is one small jitted XLA computation over a mesh with one device per process (gloo collectives
between CPU processes, NCCL between GPUs). Only the default (WORLD) group exists.
"""

from __future__ import annotations

import datetime
import os

import jax
import numpy as np

__all__ = ["init_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
           "destroy_process_group", "barrier", "get_backend", "is_torchelastic_launched", "ReduceOp",
           "group", "GroupMember", "new_group", "Backend"]


class ReduceOp:
    """Reduction kinds for :func:`all_reduce` and friends (torch's ``ReduceOp``)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Backend:
    """Backend names accepted by :func:`init_process_group`."""

    JAX = "jax"
    GLOO = "gloo"
    NCCL = "nccl"


class _World:
    """Stands for the default group (``group.WORLD``)."""

    def __repr__(self) -> str:
        return "<ProcessGroup WORLD>"


class group:  # noqa: N801 - torch's name
    """``group.WORLD``: the only process group here."""

    WORLD = _World()


GroupMember = group

_STATE: dict = {"init": False, "rank": 0, "world": 1, "backend": None, "mesh": None, "ours": False}


def is_available() -> bool:
    """True: ``mt.distributed`` is always built (on ``jax.distributed``)."""
    return True


def is_torchelastic_launched() -> bool:
    """True when started by a torchrun-like launcher (``TORCHELASTIC_RUN_ID`` is set)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _env_int(name: str, given):
    if given is not None and given != -1:
        return int(given)
    v = os.environ.get(name)
    if v is None:
        raise ValueError(f"init_process_group(init_method='env://'): environment variable {name} expected, "
                         f"but not set (start the script with `python -m minitorch_jax.distributed.run`)")
    return int(v)


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the process group (torch's ``init_process_group``) via ``jax.distributed.initialize``.

    Must run before any JAX computation in this process (JAX's rule). Reads torchrun's variables:
    MASTER_ADDR, MASTER_PORT (the coordinator), WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE.

    Args:
        backend: 'jax' (default), 'gloo' (CPU processes; JAX's gloo CPU collectives) or 'nccl'
            (GPUs; with several processes per host each takes GPU ``LOCAL_RANK``).
        init_method: 'env://' (default) or 'tcp://host:port'.
        timeout: a ``datetime.timedelta`` (or seconds) for joining.
        world_size, rank: override WORLD_SIZE / RANK.
    """
    if _STATE["init"]:
        raise RuntimeError("trying to initialize the default process group twice!")
    backend = (backend or "jax").lower()
    if backend not in ("jax", "gloo", "nccl", "cpu:gloo,cuda:nccl"):
        raise ValueError(f"init_process_group(): unknown backend {backend!r} "
                         "(expected 'jax', 'gloo' or 'nccl')")
    init_method = init_method or "env://"
    world = _env_int("WORLD_SIZE", world_size)
    rk = _env_int("RANK", rank)
    if not 0 <= rk < world:
        raise ValueError(f"init_process_group(): rank {rk} is not in [0, {world})")
    if init_method.startswith("tcp://"):
        addr = init_method[len("tcp://"):]
    elif init_method.startswith("env://"):
        host = os.environ.get("MASTER_ADDR")
        port = os.environ.get("MASTER_PORT")
        if world > 1 and (host is None or port is None):
            raise ValueError("init_process_group(init_method='env://'): MASTER_ADDR and MASTER_PORT "
                             "must be set")
        addr = f"{host}:{port}"
    else:
        raise ValueError(f"init_process_group(): unsupported init_method {init_method!r}")
    secs = None
    if timeout is not None:
        secs = int(timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout)
    if world > 1:
        try:
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        except Exception:  # noqa: BLE001 - option renamed/absent on some JAX versions: GPUs do not need it
            pass
        kw = {}
        if secs is not None:
            kw["initialization_timeout"] = secs
        local_ids = None
        if backend == "nccl" or device_id is not None:
            lws = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
            if device_id is not None:
                local_ids = [int(getattr(device_id, "index", device_id) or 0)]
            elif lws > 1:
                local_ids = [int(os.environ.get("LOCAL_RANK", "0"))]
        try:
            jax.distributed.initialize(addr, num_processes=world, process_id=rk,
                                       local_device_ids=local_ids, **kw)
        except RuntimeError as e:
            if "before any JAX" in str(e) or "must be called before" in str(e):
                raise RuntimeError(
                    "init_process_group() must run before any tensor is created or computed in this process "
                    f"(JAX's jax.distributed.initialize rule): {e}") from None
            raise
        _STATE["ours"] = True
    _STATE.update(init=True, rank=rk, world=world, backend=backend, mesh=None)


def _require() -> None:
    if not _STATE["init"]:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run."""
    return _STATE["init"]


def get_rank(group=None) -> int:
    """This process's rank in the group."""
    _require()
    return _STATE["rank"]


def get_world_size(group=None) -> int:
    """Number of processes in the group."""
    _require()
    return _STATE["world"]


def get_backend(group=None) -> str:
    """The backend name given to :func:`init_process_group`."""
    _require()
    return _STATE["backend"]


def new_group(ranks=None, timeout=None, backend=None, pg_options=None):
    """Only the whole world is supported as a group: returns ``group.WORLD`` for ``ranks`` None/all."""
    _require()
    if ranks is not None and sorted(ranks) != list(range(_STATE["world"])):
        raise NotImplementedError("new_group(): subgroups are not supported (only the whole world)")
    return group.WORLD


def mesh():
    """A 1-d ``jax.sharding.Mesh`` ('p') holding the first device of each process, in rank order."""
    m = _STATE["mesh"]
    if m is None:
        from jax.sharding import Mesh
        firsts: dict = {}
        for d in jax.devices():
            if d.process_index not in firsts or d.id < firsts[d.process_index].id:
                firsts[d.process_index] = d
        devs = [firsts[p] for p in sorted(firsts)]
        m = _STATE["mesh"] = Mesh(np.array(devs, dtype=object), ("p",))
    return m


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Block until every process reaches this call."""
    _require()
    if _STATE["world"] > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices("mt.distributed.barrier")
    if async_op:
        from ._collectives import Work
        return Work()
    return None


def destroy_process_group(group=None) -> None:
    """Leave the process group (``jax.distributed.shutdown``)."""
    if not _STATE["init"]:
        return
    if _STATE["ours"]:
        try:
            jax.distributed.shutdown()
        except Exception:  # noqa: BLE001 - already shut down by JAX's atexit handler
            pass
    _STATE.update(init=False, rank=0, world=1, backend=None, mesh=None, ours=False)
