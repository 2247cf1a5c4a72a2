"""Collectives on tensors (torch.distributed's): real XLA collectives over the process mesh.

Each eager call stacks this process's array into a global ``jax.Array`` of shape ``(world, ...)``
sharded one row per process (``jax.make_array_from_single_device_arrays``), runs one cached jitted
reduction or gather whose output sharding makes XLA insert the collective (gloo on CPU, NCCL on GPU),
and reads this process's piece back. Results replace the tensor's array in place, as torch's do.

Inside an ``mt.jit`` compiled step (world_size > 1) the step is one SPMD program over the process mesh
(``_spmd.jit_program``), and a collective on traced values is an in-program XLA collective
(``lax.psum`` -> all-reduce, ``lax.all_gather``, ``lax.psum_scatter`` -> reduce-scatter) that XLA
schedules with the rest of the step: no host round trip. Elsewhere under tracing (a plain ``jax.jit``,
the forward-only programs ``mt.jit`` builds when the caller runs ``backward()`` outside) the host
collective runs through ``jax.pure_callback``. Either way every process must run the same program
with the same collectives in the same order (the SPMD rule).

``group=`` (a :class:`~._group.ProcessGroup` from ``new_group``) restricts a collective to the group's
members: eagerly only they call it, and it runs over the sub-mesh of their devices (an XLA collective
among those processes only); ``src``/``dst`` are global ranks, ``group_src``/``group_dst`` group ranks.
A process outside the group holds ``NON_GROUP_MEMBER``, with which a collective warns and does nothing
(torch). Inside a compiled step every process runs one SPMD program, so every process, members and
non-members, must call a subgroup collective there: it is one all-gather over all processes, then a
reduction or selection over the members' rows (non-members leave their tensors unchanged).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor
from . import _group, _spmd
from ._group import ReduceOp

__all__ = ["all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "reduce", "gather", "scatter", "Work", "all_gather_object",
           "broadcast_object_list"]

_Tracer = jax.core.Tracer

_REDUCE = {
    ReduceOp.SUM: lambda x: jnp.sum(x, axis=0, dtype=x.dtype),
    ReduceOp.AVG: lambda x: (jnp.mean(x, axis=0) if jnp.issubdtype(x.dtype, jnp.inexact)
                             else jnp.sum(x, axis=0) // x.shape[0]).astype(x.dtype),
    ReduceOp.PRODUCT: lambda x: jnp.prod(x, axis=0, dtype=x.dtype),
    ReduceOp.MIN: lambda x: jnp.min(x, axis=0),
    ReduceOp.MAX: lambda x: jnp.max(x, axis=0),
}
_fns: dict = {}


class Work:
    """The handle an ``async_op=True`` collective returns (the work is already done)."""

    def wait(self, timeout=None) -> bool:
        """Return True (collectives here complete before returning)."""
        return True

    def is_completed(self) -> bool:
        """True."""
        return True


def _done(async_op: bool):
    return Work() if async_op else None


def _op(op) -> str:
    if isinstance(op, str) and op.lower() in _REDUCE:
        return op.lower()
    name = getattr(op, "name", None)
    if isinstance(name, str) and name.lower() in _REDUCE:
        return name.lower()
    raise ValueError(f"unsupported reduce op {op!r} (expected one of ReduceOp.SUM, AVG, PRODUCT, MIN, MAX)")


def _fn(kind: str, op: str | None = None, ranks=None):
    """The cached jitted computation for a collective over the process mesh (``ranks``: a sub-mesh)."""
    key = (kind, op, ranks)
    f = _fns.get(key)
    if f is not None:
        return f
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P
    m = _group.mesh(ranks)
    rep, rows = NamedSharding(m, P()), NamedSharding(m, P("p"))
    if kind == "reduce":
        f = jax.jit(_REDUCE[op], out_shardings=rep)
    elif kind == "gather":
        f = jax.jit(lambda x: x, out_shardings=rep)
    elif kind == "rscatter":  # (n, n, ...) rows per process -> reduced, row r to process r
        red = _REDUCE[op]
        f = jax.jit(lambda x: red(x), out_shardings=rows)
    elif kind == "bcast":
        f = jax.jit(lambda x, src: x[src], out_shardings=rep, static_argnums=1)
    else:
        raise AssertionError(kind)
    _fns[key] = f
    return f


def _global(arr, ranks=None):
    """This process's ``arr`` as its row of a global (n, ...) array over the (sub-)mesh of ``ranks``."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P
    m = _group.mesh(ranks)
    dev = _group.mesh().devices[_group._STATE["rank"]]
    local = jax.device_put(jnp.expand_dims(jnp.asarray(arr), 0), dev)
    return jax.make_array_from_single_device_arrays((m.devices.size,) + tuple(arr.shape),
                                                    NamedSharding(m, P("p")), [local])


def _local(out):
    return out.addressable_data(0)


def _eager(kind: str, op, arr, extra=None, ranks=None):
    """Run collective ``kind`` on a concrete local array among the processes ``ranks`` (None: all);
    returns the local result array. ``extra``: the source's group rank for 'bcast'."""
    if kind == "reduce":
        return _local(_fn("reduce", op, ranks)(_global(arr, ranks)))
    if kind == "gather":
        return _local(_fn("gather", None, ranks)(_global(arr, ranks)))
    if kind == "bcast":
        return _local(_fn("bcast", None, ranks)(_global(arr, ranks), extra))
    if kind == "rscatter":
        return _local(_fn("rscatter", op, ranks)(_global(arr, ranks)))[0]
    raise AssertionError(kind)


def _shape_of(kind: str, arr, world: int):
    shape = tuple(arr.shape)
    if kind == "gather":
        return (world,) + shape
    if kind == "rscatter":
        return shape[1:]
    return shape


def run(kind: str, op, arr, extra=None, group=None):
    """Collective ``kind`` on ``arr`` (concrete or traced) among the processes of ``group``.

    ``group``: None (every process), a :class:`ProcessGroup` this process is in (as
    ``_group.resolve`` returns it), or ``NON_GROUP_MEMBER`` (only inside a compiled step's SPMD program,
    where the call takes part in the members' all-gather and returns its rows, to be ignored).
    ``extra``: the source's rank in the group for 'bcast'. Identity-like fast path for world 1.
    """
    _group._require()
    world = _group._STATE["world"]
    if group is not None:
        return _run_group(kind, op, arr, extra, group, world)
    if world == 1:
        if kind == "gather":
            return jnp.expand_dims(arr, 0)
        if kind == "rscatter":
            return arr[0]
        return arr
    if _spmd.axis() is not None:  # tracing a compiled step's SPMD program: an in-program collective
        return _spmd.collective(kind, op, arr, extra, world)
    if isinstance(arr, _Tracer):
        spec = jax.ShapeDtypeStruct(_shape_of(kind, arr, world), arr.dtype)

        def host(a):
            return np.asarray(_eager(kind, op, jnp.asarray(a), extra))
        return jax.pure_callback(host, spec, arr)
    return _eager(kind, op, arr, extra)


def _run_group(kind: str, op, arr, extra, g, world: int):
    member = g is not _group.GroupMember.NON_GROUP_MEMBER
    if _spmd.axis() is not None:  # every process runs the program: a full-axis gather, then the members'
        return _spmd.collective(kind, op, arr, extra, world, ranks=g.ranks if member else None)
    if not member:
        raise AssertionError("run(): a non-member takes part only in a compiled step's SPMD program")
    ranks = g.ranks
    if isinstance(arr, _Tracer):
        spec = jax.ShapeDtypeStruct(_shape_of(kind, arr, len(ranks)), arr.dtype)

        def host(a):
            return np.asarray(_eager(kind, op, jnp.asarray(a), extra, ranks))
        return jax.pure_callback(host, spec, arr)
    return _eager(kind, op, arr, extra, ranks)


_NON = _group.GroupMember.NON_GROUP_MEMBER


def _resolve(group, fname: str):
    """``_group.resolve``; a non-member (``NON_GROUP_MEMBER``) outside a compiled step gets torch's
    warning (and the collective then does nothing)."""
    g = _group.resolve(group, fname)
    if g is _NON and _spmd.axis() is None:
        _group._warn_not_in_group(fname, stacklevel=4)
    return g


def _non_member(arr) -> None:
    """A non-member's part in a subgroup collective: inside a compiled step's SPMD program it joins the
    members' all-gather (same element count and dtype as theirs); eagerly nothing."""
    if _spmd.axis() is not None:
        run("gather", None, arr, None, _NON)


def _ranks_of(g) -> tuple:
    return tuple(range(_group._STATE["world"])) if g is None else g.ranks


def _size(g) -> int:
    return _group._STATE["world"] if g is None else g.size()


def _name(g) -> str:
    return "the default group" if g is None else repr(g)


def _peer(g, fname: str, what: str, global_rank, group_rank):
    """(group rank, global rank) of a ``src``/``dst`` given as a global rank or as ``group_<what>``."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"{fname}(): can only specify one of {what} (a global rank) and group_{what} "
                         f"(a group rank), got {what}={global_rank}, group_{what}={group_rank}")
    ranks = _ranks_of(g)
    if group_rank is not None:
        if not isinstance(group_rank, int) or not 0 <= group_rank < len(ranks):
            raise ValueError(f"{fname}(): group_{what} {group_rank} is not part of {_name(g)} "
                             f"(group ranks 0..{len(ranks) - 1})")
        return group_rank, ranks[group_rank]
    r = 0 if global_rank is None else global_rank
    if r not in ranks:
        if g is None:
            raise ValueError(f"{fname}(): {what} rank {r} is not in [0, {len(ranks)})")
        raise ValueError(f"{fname}(): {what} {r} (a global rank) is not part of {_name(g)}; pass a member's "
                         f"global rank, or its group rank as group_{what}=")
    return ranks.index(r), r


def _set(t: Tensor, arr) -> None:
    t._data = arr
    t._version += 1


def _check(t, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): expected a Tensor, got {type(t).__name__}")


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across the processes of ``group`` (all if None) in place (SUM, AVG, PRODUCT, MIN
    or MAX). On a process outside ``group`` (``NON_GROUP_MEMBER``) it does nothing (torch warns)."""
    _check(tensor, "all_reduce")
    op = _op(op)
    g = _resolve(group, "all_reduce")
    if g is _NON:
        _non_member(tensor._data)
        return _done(async_op)
    _set(tensor, run("reduce", op, tensor._data, group=g))
    return _done(async_op)


def reduce(tensor: Tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Reduce ``tensor`` across the processes of ``group``; only ``dst`` (a global rank; or ``group_dst``, a
    rank in ``group``; default global rank 0) receives the result (in place)."""
    _check(tensor, "reduce")
    op = _op(op)
    g = _resolve(group, "reduce")
    if g is _NON:
        _non_member(tensor._data)
        return _done(async_op)
    _, dst = _peer(g, "reduce", "dst", dst, group_dst)
    out = run("reduce", op, tensor._data, group=g)
    if _spmd.axis() is not None:  # in a compiled step: choose in the program (the same on every rank)
        _set(tensor, _spmd.on_rank(dst, out, tensor._data))
    elif _group.get_rank() == dst:
        _set(tensor, out)
    return _done(async_op)


def broadcast(tensor: Tensor, src=None, group=None, async_op: bool = False, group_src=None):
    """Copy process ``src``'s ``tensor`` into ``tensor`` on every process of ``group`` (in place).

    ``src`` is a global rank (default 0); ``group_src`` the source's rank in ``group`` instead.
    """
    _check(tensor, "broadcast")
    g = _resolve(group, "broadcast")
    if g is _NON:
        _non_member(tensor._data)
        return _done(async_op)
    gsrc, src = _peer(g, "broadcast", "src", src, group_src)
    _set(tensor, run("bcast", None, tensor._data, src if g is None else gsrc, group=g))
    return _done(async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list`` (one tensor per process of ``group``) with every member's ``tensor``, in group
    rank order."""
    _check(tensor, "all_gather")
    g = _resolve(group, "all_gather")
    if g is _NON:
        _non_member(tensor._data)
        return _done(async_op)
    n = _size(g)
    if len(tensor_list) != n:
        raise ValueError(f"all_gather(): tensor_list has {len(tensor_list)} entries, expected the group "
                         f"size {n} ({_name(g)})")
    out = run("gather", None, tensor._data, group=g)
    for i, t in enumerate(tensor_list):
        _set(t, out[i])
    return _done(async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Every member's ``input_tensor`` concatenated along dim 0 (or stacked) into ``output_tensor``."""
    g = _resolve(group, "all_gather_into_tensor")
    if g is _NON:
        _non_member(input_tensor._data)
        return _done(async_op)
    out = run("gather", None, input_tensor._data, group=g)
    n = out.shape[0]
    if tuple(output_tensor.shape) == tuple(out.shape):
        _set(output_tensor, out)
    else:
        flat = out.reshape((n * out.shape[1],) + out.shape[2:]) if out.ndim > 1 else out
        if tuple(flat.shape) != tuple(output_tensor.shape):
            raise ValueError(f"all_gather_into_tensor(): output shape {list(output_tensor.shape)} must be "
                             f"group size x input shape ({list(out.shape)} stacked or concatenated on dim 0)")
        _set(output_tensor, flat)
    return _done(async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce the ``input_list`` entries across the members of ``group``; group rank r receives the reduced
    entry r."""
    op = _op(op)
    g = _resolve(group, "reduce_scatter")
    if g is _NON:
        _non_member(jnp.stack([t._data for t in input_list]))
        return _done(async_op)
    n = _size(g)
    if len(input_list) != n:
        raise ValueError(f"reduce_scatter(): input_list has {len(input_list)} entries, expected the group "
                         f"size {n} ({_name(g)})")
    stacked = jnp.stack([t._data for t in input_list])
    _set(output, run("rscatter", op, stacked, group=g))
    return _done(async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """``reduce_scatter`` with ``input`` split along dim 0 into group-size equal chunks."""
    op = _op(op)
    g = _resolve(group, "reduce_scatter_tensor")
    x = input._data
    if g is _NON:
        _non_member(x)
        return _done(async_op)
    n = _size(g)
    if x.shape[0] % n:
        raise ValueError(f"reduce_scatter_tensor(): input dim 0 ({x.shape[0]}) is not divisible by the group "
                         f"size {n} ({_name(g)})")
    chunks = x.reshape((n, x.shape[0] // n) + x.shape[1:])
    _set(output, run("rscatter", op, chunks, group=g).reshape(output._data.shape))
    return _done(async_op)


def gather(tensor: Tensor, gather_list=None, dst=None, group=None, async_op: bool = False, group_dst=None):
    """Process ``dst`` (global rank, default 0; or ``group_dst``) receives every member's ``tensor`` in
    ``gather_list`` (group rank order; the others pass None)."""
    g = _resolve(group, "gather")
    if g is _NON:
        _non_member(tensor._data)
        return _done(async_op)
    _, dst = _peer(g, "gather", "dst", dst, group_dst)
    out = run("gather", None, tensor._data, group=g)
    if _group.get_rank() == dst:
        if gather_list is None or len(gather_list) != out.shape[0]:
            raise ValueError(f"gather(): rank dst must pass gather_list with {out.shape[0]} tensors "
                             f"(the size of {_name(g)})")
        for i, t in enumerate(gather_list):
            _set(t, out[i])
    return _done(async_op)


def scatter(tensor: Tensor, scatter_list=None, src=None, group=None, async_op: bool = False, group_src=None):
    """Process ``src`` (global rank, default 0; or ``group_src``) sends ``scatter_list[i]`` to the ``tensor``
    of the group's rank i (in place)."""
    g = _resolve(group, "scatter")
    world = _group._STATE["world"]
    spmd_sub = g is not None and _spmd.axis() is not None
    if g is _NON:  # in a compiled step: join the members' gather of a world-sized stack (see below)
        _non_member(jnp.zeros((world,) + tuple(tensor.shape), tensor._data.dtype))
        return _done(async_op)
    gsrc, src = _peer(g, "scatter", "src", src, group_src)
    n = _size(g)
    me = _group._STATE["rank"]
    if me == src:
        if scatter_list is None or len(scatter_list) != n:
            raise ValueError(f"scatter(): rank src must pass scatter_list with {n} tensors "
                             f"(the size of {_name(g)})")
        parts = [t._data for t in scatter_list]
        if spmd_sub:  # indexed by global rank, so that non-members can give the same shape
            zero = jnp.zeros_like(parts[0])
            at = dict(zip(g.ranks, parts))
            parts = [at.get(r, zero) for r in range(world)]
        stacked = jnp.stack(parts)
    else:
        stacked = jnp.zeros(((world if spmd_sub else n),) + tuple(tensor.shape), tensor._data.dtype)
    full = run("bcast", None, stacked, src if g is None else gsrc, group=g)
    _set(tensor, full[me if (g is None or spmd_sub) else g.rank()])
    return _done(async_op)


def _obj_bytes(obj) -> np.ndarray:
    import pickle
    return np.frombuffer(pickle.dumps(obj), dtype=np.uint8)


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill ``object_list`` (one entry per process of ``group``) with every member's picklable ``obj``
    (group rank order). On a process outside ``group`` it does nothing (torch warns)."""
    import pickle
    g = _resolve(group, "all_gather_object")
    if g is _NON:
        return
    data = _obj_bytes(obj)
    sizes = np.asarray(run("gather", None, jnp.asarray([data.size], jnp.int64), group=g))[:, 0]
    buf = np.zeros(int(sizes.max()), np.uint8)
    buf[:data.size] = data
    allb = np.asarray(run("gather", None, jnp.asarray(buf), group=g))
    for i in range(len(object_list)):
        object_list[i] = pickle.loads(allb[i, :sizes[i]].tobytes())


def broadcast_object_list(object_list: list, src=None, group=None, device=None, group_src=None) -> None:
    """Replace ``object_list``'s entries with process ``src``'s (a global rank, default 0; or
    ``group_src``, its rank in ``group``); picklable objects."""
    g = _resolve(group, "broadcast_object_list")
    if g is _NON:
        return
    gsrc, src = _peer(g, "broadcast_object_list", "src", src, group_src)
    gathered: list = [None] * _size(g)
    all_gather_object(gathered, list(object_list) if _group._STATE["rank"] == src else None, group=g)
    object_list[:] = gathered[gsrc]
