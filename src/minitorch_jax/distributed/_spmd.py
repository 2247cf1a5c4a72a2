"""Compiled steps across processes as one SPMD program, with in-program XLA collectives.

When ``mt.distributed`` runs with world_size > 1, ``mt.jit`` builds a training step's program through
:func:`jit_program`: ``jax.jit(shard_map(run, mesh=process mesh, in_specs=P(), out_specs=P()))``. Each
process's local input arrays become global arrays declared replicated over the process mesh
(``jax.make_array_from_single_device_arrays``, no copy). Their shards differ between processes, but
inside ``shard_map`` each process sees only its own shard, which is exactly data-parallel (DDP)
semantics: the program is every process's own step. The outputs are read back as this process's shard.

While ``run`` is traced inside ``shard_map`` a thread-local axis name is set (:func:`axis`), and the
collectives of ``mt.distributed`` on traced values emit ``jax.lax`` collectives over it (``psum``,
``pmax``, ``all_gather`` ...): XLA all-reduce / all-gather / reduce-scatter ops in the compiled program,
scheduled by XLA, with no host round trip. Outside that context (eager calls, plain ``jax.jit``, the
forward-only programs of ``mt.jit``) collectives keep their host path.

A collective on a subgroup (``new_group``) is, in this program, an all-gather over every process
followed by a local reduction or selection over the members' rows (:func:`_sub_collective`): every
process, members and non-members (holding ``NON_GROUP_MEMBER``) alike, must call it, with tensors of
the same element count and dtype; non-members' tensors are left unchanged. If some process skips it,
the processes' programs run different collectives (gloo aborts, NCCL hangs), as with any collective.
"""

from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
from jax import lax

from . import _group

AXIS = "p"  # the process mesh's axis name (``_group.mesh()``)
_TLS = threading.local()


def active() -> bool:
    """True when compiled steps must run as one program over the process mesh (world_size > 1)."""
    st = _group._STATE
    return st["init"] and st["world"] > 1


def axis():
    """The mesh axis name while a step is traced inside the SPMD program, else None."""
    return getattr(_TLS, "axis", None)


class _Program:
    """``run`` compiled as one SPMD program over the process mesh, called on process-local arrays.

    Calling it (or ``.trace``/``.lower``) with ``run``'s arguments as pytrees of this process's arrays
    returns ``run``'s result as this process's arrays, like ``jax.jit(run)`` in one process.
    """

    def __init__(self, run, donate_argnums):
        from jax.sharding import NamedSharding
        from jax.sharding import PartitionSpec as P
        mesh = _group.mesh()
        self._rep = NamedSharding(mesh, P())
        self._dev = mesh.devices[_group._STATE["rank"]]

        def body(*args):
            prev = (getattr(_TLS, "axis", None), getattr(_TLS, "last", None))
            _TLS.axis, _TLS.last = AXIS, [None]
            try:
                out = run(*args)
                return out, _keep_alive(_TLS.last[0])
            finally:
                _TLS.axis, _TLS.last = prev

        sm = jax.shard_map(body, mesh=mesh, in_specs=P(), out_specs=P(), check_vma=False)
        self._jitted = jax.jit(sm, donate_argnums=donate_argnums)

    def _to_global(self, x):
        """This process's array as the process's shard of a replicated global array (no copy)."""
        if not isinstance(x, jax.Array):
            x = jax.device_put(x, self._dev)
        try:
            return jax.make_array_from_single_device_arrays(x.shape, self._rep, [x])
        except ValueError:  # on another local device than the mesh's one: move it there
            return jax.make_array_from_single_device_arrays(x.shape, self._rep,
                                                            [jax.device_put(x, self._dev)])

    def _globals(self, args):
        leaves, tree = jax.tree_util.tree_flatten(args)
        glob = self._to_global
        return jax.tree_util.tree_unflatten(tree, [glob(x) for x in leaves])

    def __call__(self, *args):
        """Run the step on pytrees of process-local arrays (``run``'s arguments); returns ``run``'s
        result as process-local arrays."""
        out, _ = self._jitted(*self._globals(args))
        leaves, tree = jax.tree_util.tree_flatten(out)
        return jax.tree_util.tree_unflatten(tree, [x.addressable_data(0) for x in leaves])

    def trace(self, *args):
        """``jax.jit(...).trace`` of the SPMD program for these local arrays (``.lower()`` on the result)."""
        return self._jitted.trace(*self._globals(args))

    def lower(self, *args):
        """The lowered SPMD program (``.as_text()``, ``.compile()``)."""
        return self.trace(*args).lower()


def jit_program(run, donate_argnums):
    """``jax.jit`` of ``run(state, arg_arrays, hp) -> (outs, new_state)`` as an SPMD program over the
    process mesh; the returned callable takes and returns process-local arrays (see :class:`_Program`)."""
    return _Program(run, tuple(donate_argnums))


# ----- collectives inside the SPMD program ---------------------------------------------------------
def _never(prev):
    """A scalar bool that is False at run time, computed from ``prev``; XLA cannot prove it False."""
    return (lax.axis_index(AXIS) < 0) & (prev.ravel()[0] != 0)


def _after(prev, x):
    """``x`` (same values) computed only once ``prev`` is: a data dependency that XLA keeps.

    XLA drops unused computations, collectives included, and orders independent ones as it likes.
    Where processes use a collective's result differently (rank-dependent code, ``gather`` on
    non-dst ranks), their programs could then run different collectives, or the same ones in another
    order: gloo aborts, NCCL hangs. Chaining each collective's input to the previous one's result
    keeps every collective, in trace order, in every process's program (torch's rule: all processes
    call the same collectives in the same order).
    """
    if prev is None:
        return x
    try:
        other = ~x if x.dtype == jnp.bool_ else x + 1  # differs from x: XLA cannot fold the select
        return jnp.where(_never(prev), other, x)
    except jax.errors.UnexpectedTracerError:  # prev came from a finished inner transform (vmap ...)
        return x


def _keep_alive(last):
    """A scalar output (returned and discarded) that needs the step's last collective, hence all."""
    if last is None:
        return jnp.zeros((), jnp.bool_)
    try:
        return _never(last)
    except jax.errors.UnexpectedTracerError:
        return jnp.zeros((), jnp.bool_)


def on_rank(rank: int, a, b):
    """``a`` on process ``rank``, ``b`` elsewhere, chosen in the program (``lax.axis_index``), so
    that every process compiles the same program."""
    return jnp.where(lax.axis_index(AXIS) == rank, a, b)


def _reduce(op: str, x, world: int):
    ax = AXIS
    if x.dtype == jnp.bool_:  # as the eager path: reduce 0/1 integers, nonzero -> True
        return _reduce(op, x.astype(jnp.int32), world).astype(jnp.bool_)
    if op == "sum":
        return lax.psum(x, ax)
    if op == "avg":
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            return lax.psum(x, ax) // world
        if jnp.finfo(x.dtype).bits < 32:  # accumulate half precision in float32, as jnp.mean does
            return (lax.psum(x.astype(jnp.float32), ax) / world).astype(x.dtype)
        return (lax.psum(x, ax) / world).astype(x.dtype)
    if op == "max":
        return lax.pmax(x, ax)
    if op == "min":
        return lax.pmin(x, ax)
    if op == "product":
        return jnp.prod(lax.all_gather(x, ax), axis=0, dtype=x.dtype)
    raise AssertionError(op)


def collective(kind: str, op, arr, extra, world: int, ranks=()):
    """Collective ``kind`` as a ``jax.lax`` collective over the process axis (inside the SPMD program).

    ``kind``: 'reduce' (``op`` over processes), 'gather' (stack every process's array: (world, ...)),
    'bcast' (process ``extra``'s array), 'rscatter' (arr is (world, ...): reduce, row r to process r).
    ``ranks``: ``()`` for every process; a subgroup's members (global ranks in group-rank order, with
    ``extra`` the source's group rank and results over the group, see :func:`_sub_collective`); None on
    a process outside the subgroup, which only joins the all-gather (its result is to be ignored).
    """
    last = getattr(_TLS, "last", None)
    x = jnp.asarray(arr)
    if last is not None:
        x = _after(last[0], x)
    if ranks == ():
        out = _collective(kind, op, x, extra, world)
    else:
        out = _sub_collective(kind, op, x, extra, world, ranks)
    if last is not None and out.size:
        last[0] = out
    return out


def _reduce_rows(op: str, rows):
    """Reduce ``rows`` (n, ...) over axis 0 as the eager collectives do (bool as 0/1 integers)."""
    if rows.dtype == jnp.bool_:
        return _reduce_rows(op, rows.astype(jnp.int32)).astype(jnp.bool_)
    n = rows.shape[0]
    if op == "sum":
        return jnp.sum(rows, axis=0, dtype=rows.dtype)
    if op == "avg":
        if not jnp.issubdtype(rows.dtype, jnp.inexact):
            return jnp.sum(rows, axis=0, dtype=rows.dtype) // n
        return jnp.mean(rows, axis=0).astype(rows.dtype)  # half precision accumulates in float32
    if op == "product":
        return jnp.prod(rows, axis=0, dtype=rows.dtype)
    if op == "min":
        return jnp.min(rows, axis=0)
    if op == "max":
        return jnp.max(rows, axis=0)
    raise AssertionError(op)


def _sub_collective(kind: str, op, x, extra, world: int, ranks):
    """A subgroup's collective inside the SPMD program, where every process runs it.

    One ``lax.all_gather`` of the flattened array over the whole process axis (every process, member or
    not, so that all run the same collectives: only the element count and dtype must agree), then the
    members' rows are selected and reduced locally. ``lax.psum(..., axis_index_groups=...)`` works in
    ``shard_map`` on CPU, but its groups must cover every process and be the same in every process's
    program: a non-member (holding ``NON_GROUP_MEMBER``) does not know the group, and with
    ``new_subgroups`` each process passes its own subgroup, so the processes' programs would differ.
    ``ranks`` None: a non-member, which gets the gathered rows back (to ignore).
    """
    rows = lax.all_gather(x.reshape(-1), AXIS).reshape((world,) + x.shape)
    if ranks is None:
        return rows
    mine = rows[jnp.asarray(ranks)]  # (n, ...) in group-rank order
    if kind == "reduce":
        return _reduce_rows(op, mine)
    if kind == "gather":
        return mine
    if kind == "bcast":
        return rows[ranks[extra]]
    if kind == "rscatter":  # x is (n, ...): reduce the members' stacks, group rank g keeps row g
        table = jnp.asarray([ranks.index(r) if r in ranks else 0 for r in range(world)], jnp.int32)
        return lax.dynamic_index_in_dim(_reduce_rows(op, mine), table[lax.axis_index(AXIS)], 0,
                                        keepdims=False)
    raise AssertionError(kind)


def _collective(kind: str, op, x, extra, world: int):
    ax = AXIS
    if kind == "reduce":
        return _reduce(op, x, world)
    if kind == "gather":
        return lax.all_gather(x, ax)
    if kind == "bcast":
        return lax.all_gather(x, ax)[extra]
    if kind == "rscatter":
        if op == "sum" and x.dtype != jnp.bool_:
            return lax.psum_scatter(x, ax, scatter_dimension=0, tiled=False)
        return lax.dynamic_index_in_dim(_reduce(op, x, world), lax.axis_index(ax), 0, keepdims=False)
    raise AssertionError(kind)
