"""The process group: ``init_process_group`` on ``jax.distributed.initialize``, the meshes, subgroups.

The group is JAX's multi-controller runtime: each process runs the same program, and a collective
is one small jitted XLA computation over a mesh with one device per process (gloo collectives
between CPU processes, NCCL between GPUs).

Besides the default group (``group.WORLD``), :func:`new_group` makes subgroups (torch's API): a
:class:`ProcessGroup` holding its member ranks, in group-rank order. Eager collectives on a subgroup run
only on its members, over a sub-mesh of their devices (XLA collectives among those processes only; JAX
and gloo support a program over a subset of processes). Like torch, every process calls ``new_group``
with the same ranks (it needs no communication here); a process that is not a member gets
``GroupMember.NON_GROUP_MEMBER``, with which collectives do nothing (torch warns), ``get_rank`` and
``get_world_size`` return -1. Inside an ``mt.jit`` step across processes (one SPMD program) a subgroup
collective is an all-gather over every process followed by a reduction over the members' rows, so
there every process, members and non-members alike, must call it (the SPMD rule; see ``_spmd``).
"""

from __future__ import annotations

import datetime
import os
import sys

import jax
import numpy as np

__all__ = ["init_process_group", "is_initialized", "is_available", "get_rank", "get_world_size",
           "destroy_process_group", "barrier", "get_backend", "is_torchelastic_launched", "ReduceOp",
           "group", "GroupMember", "new_group", "Backend", "ProcessGroup", "new_subgroups",
           "new_subgroups_by_enumeration", "get_group_rank", "get_global_rank", "get_process_group_ranks"]


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


class ProcessGroup:
    """A process group (torch's ``ProcessGroup``): its member processes' global ranks, in group-rank order.

    Made by :func:`new_group` (never directly). ``rank()`` is this process's rank in the group (-1 when
    it is not a member), ``size()`` the number of members. Pass it as ``group=`` to any collective.
    """

    def __init__(self, ranks, name: str, backend: str | None = None):
        self._ranks = tuple(int(r) for r in ranks)
        self._name = name
        self._backend = backend
        self._destroyed = False

    @property
    def ranks(self) -> tuple:
        """The members' global ranks, in group-rank order."""
        return self._ranks

    def rank(self) -> int:
        """This process's rank in the group, or -1 if it is not a member."""
        me = _STATE["rank"]
        return self.ranks.index(me) if me in self.ranks else -1

    def size(self) -> int:
        """The number of processes in the group."""
        return len(self.ranks)

    def name(self) -> str:
        """The group's name (a counter, as torch's default names)."""
        return self._name

    @property
    def group_name(self) -> str:
        """The group's name (``name()``)."""
        return self._name

    def __repr__(self) -> str:
        gone = ", destroyed" if self._destroyed else ""
        return f"ProcessGroup(name={self._name!r}, ranks={list(self.ranks)}{gone})"


class _World(ProcessGroup):
    """Stands for the default group (``group.WORLD``): every process."""

    def __init__(self):
        super().__init__((), "0")

    @property
    def ranks(self) -> tuple:
        _require()
        return tuple(range(_STATE["world"]))

    def __repr__(self) -> str:
        return "<ProcessGroup WORLD>"


class group:  # noqa: N801 - torch's name
    """``group.WORLD``: the default group (every process); ``NON_GROUP_MEMBER``: what :func:`new_group`
    returns to a process outside the new group (torch's value, -100)."""

    WORLD = _World()
    NON_GROUP_MEMBER = -100


GroupMember = group

_STATE: dict = {"init": False, "rank": 0, "world": 1, "backend": None, "mesh": None, "ours": False,
                "submeshes": {}, "groups": 0}


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
        init_method: 'env://' (default), 'tcp://host:port' (the JAX coordinator's address) or
            'file:///path' (a file every process can reach: the coordinator's address goes through it).
        store: a key-value store all processes share (``TCPStore``, ``FileStore``, ...) instead of
            ``init_method``; needs ``world_size`` and ``rank``. Rank 0 publishes the JAX coordinator's
            address in it.
        timeout: a ``datetime.timedelta`` (or seconds) for joining.
        world_size, rank: override WORLD_SIZE / RANK.
    """
    if _STATE["init"]:
        raise RuntimeError("trying to initialize the default process group twice!")
    backend = (backend or "jax").lower()
    if backend not in ("jax", "gloo", "nccl", "cpu:gloo,cuda:nccl"):
        raise ValueError(f"init_process_group(): unknown backend {backend!r} "
                         "(expected 'jax', 'gloo' or 'nccl')")
    if store is not None:  # (torch checks these with asserts)
        if init_method is not None:
            raise AssertionError("Cannot specify both init_method and store.")
        if world_size <= 0:
            raise AssertionError("world_size must be positive if using store")
        if rank < 0:
            raise AssertionError("rank must be non-negative if using store")
    init_method = init_method or "env://"
    world = _env_int("WORLD_SIZE", world_size)
    rk = _env_int("RANK", rank)
    if not 0 <= rk < world:
        raise ValueError(f"init_process_group(): rank {rk} is not in [0, {world})")
    if store is not None:
        addr = _coordinator_via_store(store, rk, group_name) if world > 1 else ""
    elif init_method.startswith("tcp://"):
        addr = init_method[len("tcp://"):]
    elif init_method.startswith("file://"):  # (a FileStore on a file every process can reach)
        from ._rendezvous import rendezvous
        file_store, _, _ = next(rendezvous(init_method, rk, world))
        addr = _coordinator_via_store(file_store, rk, group_name) if world > 1 else ""
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
        _exit_on_uncaught_exception()
    _STATE.update(init=True, rank=rk, world=world, backend=backend, mesh=None)


def _coordinator_via_store(store, rank: int, group_name: str) -> str:
    """The JAX coordinator's ``host:port``, published in ``store`` by rank 0 (a free port on its host:
    MASTER_ADDR, else the TCPStore's host, else this machine) and read by the others."""
    import socket

    key = f"mt/jax_coordinator/{group_name}"
    if rank == 0:
        base = store
        while hasattr(base, "underlying_store"):  # (a PrefixStore)
            base = base.underlying_store
        host = os.environ.get("MASTER_ADDR") or getattr(base, "host", None) or "127.0.0.1"
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        store.set(key, f"{host}:{port}")
        return f"{host}:{port}"
    return store.get(key).decode()


def _exit_on_uncaught_exception() -> None:
    """Make an uncaught exception end this process at once (exit code 1, traceback printed): at a normal
    interpreter exit JAX's distributed shutdown waits for the other processes, which may be blocked in a
    collective waiting for this one - the job would hang instead of failing."""
    previous = sys.excepthook
    if getattr(previous, "_mt_exit_hook", False):
        return

    def hook(kind, value, tb):
        try:
            previous(kind, value, tb)
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - a closed stream must not stop the exit
                    pass
            os._exit(1)

    hook._mt_exit_hook = True
    sys.excepthook = hook


def _require() -> None:
    if not _STATE["init"]:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run."""
    return _STATE["init"]


def _is_non_member(g) -> bool:
    return isinstance(g, int) and not isinstance(g, bool) and g == group.NON_GROUP_MEMBER


def _not_member_msg(fname: str) -> str:
    return (f"{fname}(): this process (global rank {_STATE['rank']}) is not a member of the group: "
            "new_group() returned GroupMember.NON_GROUP_MEMBER to it")


def resolve(g, fname: str):
    """The group a collective named ``fname`` runs over: None for the whole world (``None``, ``WORLD`` or a
    group of every process), ``NON_GROUP_MEMBER`` on a process outside the group, else the
    :class:`ProcessGroup`. Raises for a group this process is not in, a destroyed or a foreign object."""
    _require()
    if g is None or g is group.WORLD:
        return None
    if _is_non_member(g):
        return group.NON_GROUP_MEMBER
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"{fname}(): group must be a ProcessGroup made by new_group(), group.WORLD or None, "
                        f"got {type(g).__name__} {g!r}")
    if g._destroyed:
        raise RuntimeError(f"{fname}(): {g!r} was destroyed (destroy_process_group)")
    if g.rank() < 0:
        raise RuntimeError(f"{fname}(): global rank {_STATE['rank']} is not a member of {g!r}; only its "
                           f"ranks {list(g.ranks)} may call collectives on it (new_group() returns "
                           "GroupMember.NON_GROUP_MEMBER to the other processes)")
    if g.ranks == tuple(range(_STATE["world"])):
        return None
    return g


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the default group if None); -1 if it is not a member."""
    _require()
    if _is_non_member(group):
        return -1
    if group is None or group is GroupMember.WORLD:
        return _STATE["rank"]
    return _check_group(group, "get_rank").rank()


def get_world_size(group=None) -> int:
    """Number of processes in ``group`` (the default group if None); -1 if this process is not a member."""
    _require()
    if _is_non_member(group):
        return -1
    if group is None or group is GroupMember.WORLD:
        return _STATE["world"]
    return _check_group(group, "get_world_size").size()


def _check_group(g, fname: str) -> ProcessGroup:
    if _is_non_member(g):
        raise ValueError(_not_member_msg(fname))
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"{fname}(): group must be a ProcessGroup made by new_group() or group.WORLD, "
                        f"got {type(g).__name__} {g!r}")
    return g


def get_group_rank(group, global_rank: int) -> int:
    """Translate ``global_rank`` into its rank in ``group`` (ValueError if it is not a member)."""
    _require()
    g = _check_group(group, "get_group_rank")
    if g is GroupMember.WORLD:
        return global_rank
    if global_rank not in g.ranks:
        raise ValueError(f"get_group_rank(): Global rank {global_rank} is not part of group {g!r}")
    return g.ranks.index(global_rank)


def get_global_rank(group, group_rank: int) -> int:
    """Translate ``group_rank`` (a rank in ``group``) into the global rank."""
    _require()
    g = _check_group(group, "get_global_rank")
    if g is GroupMember.WORLD:
        return group_rank
    if not isinstance(group_rank, int) or not 0 <= group_rank < g.size():
        raise ValueError(f"get_global_rank(): Group rank {group_rank} is not part of group {g!r}")
    return g.ranks[group_rank]


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``'s members (the default group if None), ordered by group rank."""
    _require()
    if group is None:
        group = GroupMember.WORLD
    return list(_check_group(group, "get_process_group_ranks").ranks)


def get_backend(group=None) -> str:
    """The backend name given to :func:`init_process_group` (or to :func:`new_group`)."""
    _require()
    if _is_non_member(group):
        raise ValueError("get_backend(): Invalid process group specified (GroupMember.NON_GROUP_MEMBER: "
                         f"global rank {_STATE['rank']} is not a member)")
    if isinstance(group, ProcessGroup) and group._backend:
        return group._backend
    return _STATE["backend"]


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None,
              sort_ranks: bool = True):
    """Create a process group of the processes ``ranks`` (global ranks; None or empty: all of them).

    As in torch every process calls it with the same ``ranks``, in the same order as its other
    ``new_group`` calls (with ``use_local_synchronization=True`` only the members need to); no
    communication happens here. Collectives on the group are then called by its members only (in an
    ``mt.jit`` step across processes: by every process, see the module docstring).

    Args:
        ranks: the members' global ranks; sorted (their group ranks follow that order) unless
            ``sort_ranks=False``, where the given order is the group-rank order.
        timeout, pg_options, group_desc, device_id: accepted for torch compatibility (unused).
        backend: a backend name, reported by :func:`get_backend` for this group.

    Returns:
        A :class:`ProcessGroup` on the members; ``GroupMember.NON_GROUP_MEMBER`` on the other processes.
    """
    _require()
    world = _STATE["world"]
    if ranks is None or len(ranks) == 0:
        ranks = list(range(world))
    try:
        ranks = [int(r) for r in ranks]
    except (TypeError, ValueError):
        raise TypeError(f"new_group(): ranks must be a list of int global ranks, got {ranks!r}") from None
    bad = [r for r in ranks if not 0 <= r < world]
    if bad:
        raise ValueError(f"new_group(): ranks {bad} are not within the world size {world} set by "
                         "init_process_group")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group(): ranks {ranks} contain duplicates")
    if backend is not None:
        backend = str(backend).lower()
        if backend not in ("jax", "gloo", "nccl", "cpu:gloo,cuda:nccl"):
            raise ValueError(f"new_group(): unknown backend {backend!r} (expected 'jax', 'gloo' or 'nccl')")
    if sort_ranks:
        ranks = sorted(ranks)
    if use_local_synchronization:  # only members call: a name that every member derives alike
        name = "g" + "_".join(map(str, ranks))
    else:
        _STATE["groups"] += 1
        name = str(_STATE["groups"])
    if _STATE["rank"] not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(ranks, name, backend)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None, pg_options=None,
                                 group_desc=None):
    """One :func:`new_group` per entry of ``ranks_per_subgroup_list`` (disjoint lists of global ranks).

    Returns:
        ``(cur_subgroup, subgroups)``: this process's subgroup (None if it is in none) and the list of
        every ``new_group`` result (``NON_GROUP_MEMBER`` for the subgroups this process is not in).
    """
    if not ranks_per_subgroup_list:
        raise ValueError("new_subgroups_by_enumeration(): The arg 'ranks_per_subgroup_list' cannot be empty")
    seen: dict = {}
    for ranks in ranks_per_subgroup_list:
        for r in ranks:
            if r in seen:
                raise ValueError(f"new_subgroups_by_enumeration(): Rank {r} has appeared in both subgroup "
                                 f"{seen[r]} and {list(ranks)}")
            seen[r] = list(ranks)
    cur, subgroups = None, []
    for ranks in ranks_per_subgroup_list:
        sub = new_group(ranks, timeout=timeout, backend=backend, pg_options=pg_options)
        subgroups.append(sub)
        if isinstance(sub, ProcessGroup):
            cur = sub
    return cur, subgroups


def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None, group_desc=None):
    """Split ``group`` (the default group if None) into consecutive subgroups of ``group_size`` processes.

    ``group_size`` must divide the group's size. Returns ``(cur_subgroup, subgroups)``: this process's
    subgroup and every subgroup (``NON_GROUP_MEMBER`` for those this process is not in), as torch.
    """
    _require()
    if group_size is None:
        raise ValueError("new_subgroups(): pass group_size (the default, one subgroup per machine's CUDA "
                         "devices, needs CUDA)")
    if not isinstance(group_size, int) or group_size <= 0:
        raise ValueError(f"new_subgroups(): The arg 'group_size' ({group_size}) must be positive")
    ranks = get_process_group_ranks(group)
    if len(ranks) < group_size:
        raise ValueError(f"new_subgroups(): The arg 'group_size' ({group_size}) must not exceed the world "
                         f"size ({len(ranks)})")
    if len(ranks) % group_size:
        raise ValueError(f"new_subgroups(): The world size ({len(ranks)}) must be divisible by "
                         f"group_size={group_size}")
    return new_subgroups_by_enumeration([ranks[i:i + group_size] for i in range(0, len(ranks), group_size)],
                                        timeout=timeout, backend=backend, pg_options=pg_options)


def mesh(ranks=None):
    """A 1-d ``jax.sharding.Mesh`` ('p') holding the first device of each process, in rank order; with
    ``ranks`` (global ranks, in group-rank order) the sub-mesh of those processes' devices."""
    m = _STATE["mesh"]
    if m is None:
        from jax.sharding import Mesh
        firsts: dict = {}
        for d in jax.devices():
            if d.process_index not in firsts or d.id < firsts[d.process_index].id:
                firsts[d.process_index] = d
        devs = [firsts[p] for p in sorted(firsts)]
        m = _STATE["mesh"] = Mesh(np.array(devs, dtype=object), ("p",))
    if ranks is None:
        return m
    key = tuple(ranks)
    sub = _STATE["submeshes"].get(key)
    if sub is None:
        from jax.sharding import Mesh
        sub = _STATE["submeshes"][key] = Mesh(np.array([m.devices[r] for r in key], dtype=object), ("p",))
    return sub


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Block until every process of ``group`` (all processes if None) reaches this call.

    On a subgroup, only its members call it (a small XLA all-reduce over their devices); on a process
    outside the group (``NON_GROUP_MEMBER``) it does nothing and warns, as torch.
    """
    _require()
    g = resolve(group, "barrier")
    if g is GroupMember.NON_GROUP_MEMBER:
        _warn_not_in_group("barrier")
    elif g is not None:
        import jax.numpy as jnp

        from ._collectives import run
        jax.block_until_ready(run("reduce", "sum", jnp.zeros((1,), jnp.int32), group=g))
    elif _STATE["world"] > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices("mt.distributed.barrier")
    if async_op:
        from ._collectives import Work
        return Work()
    return None


def _warn_not_in_group(fname: str, stacklevel: int = 3) -> None:
    import warnings
    warnings.warn(f"Running {fname} on global rank {_STATE['rank']} which does not belong to the given "
                  "group.", stacklevel=stacklevel)


def destroy_process_group(group=None) -> None:
    """Leave the process group (``jax.distributed.shutdown``); with a subgroup, only forget that group."""
    if not _STATE["init"]:
        return
    if _is_non_member(group):
        return
    if group is not None and group is not GroupMember.WORLD:
        g = _check_group(group, "destroy_process_group")
        g._destroyed = True
        return
    if _STATE["ours"]:
        try:
            jax.distributed.shutdown()
        except Exception:  # noqa: BLE001 - already shut down by JAX's atexit handler
            pass
    _STATE.update(init=False, rank=0, world=1, backend=None, mesh=None, ours=False, submeshes={}, groups=0)
