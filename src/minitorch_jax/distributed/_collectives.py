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


def _fn(kind: str, op: str | None = None):
    """The cached jitted computation for a collective over the current mesh."""
    key = (kind, op)
    f = _fns.get(key)
    if f is not None:
        return f
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P
    m = _group.mesh()
    rep, rows = NamedSharding(m, P()), NamedSharding(m, P("p"))
    if kind == "reduce":
        f = jax.jit(_REDUCE[op], out_shardings=rep)
    elif kind == "gather":
        f = jax.jit(lambda x: x, out_shardings=rep)
    elif kind == "rscatter":  # (world, world, ...) rows per process -> reduced, row r to process r
        red = _REDUCE[op]
        f = jax.jit(lambda x: red(x), out_shardings=rows)
    elif kind == "bcast":
        f = jax.jit(lambda x, src: x[src], out_shardings=rep, static_argnums=1)
    else:
        raise AssertionError(kind)
    _fns[key] = f
    return f


def _global(arr):
    """This process's ``arr`` as row ``rank`` of a global (world, ...) array."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P
    m = _group.mesh()
    dev = m.devices[_group._STATE["rank"]]
    local = jax.device_put(jnp.expand_dims(jnp.asarray(arr), 0), dev)
    return jax.make_array_from_single_device_arrays((m.devices.size,) + tuple(arr.shape),
                                                    NamedSharding(m, P("p")), [local])


def _local(out):
    return out.addressable_data(0)


def _eager(kind: str, op, arr, extra=None):
    """Run collective ``kind`` on a concrete local array; returns the local result array."""
    if kind == "reduce":
        return _local(_fn("reduce", op)(_global(arr)))
    if kind == "gather":
        return _local(_fn("gather")(_global(arr)))
    if kind == "bcast":
        return _local(_fn("bcast")(_global(arr), extra))
    if kind == "rscatter":
        return _local(_fn("rscatter", op)(_global(arr)))[0]
    raise AssertionError(kind)


def _shape_of(kind: str, arr, world: int):
    shape = tuple(arr.shape)
    if kind == "gather":
        return (world,) + shape
    if kind == "rscatter":
        return shape[1:]
    return shape


def run(kind: str, op, arr, extra=None):
    """Collective ``kind`` on ``arr`` (concrete or traced); the identity-like fast path for world 1."""
    _group._require()
    world = _group._STATE["world"]
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


def _set(t: Tensor, arr) -> None:
    t._data = arr
    t._version += 1


def _check(t, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): expected a Tensor, got {type(t).__name__}")


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across all processes in place (SUM, AVG, PRODUCT, MIN or MAX)."""
    _check(tensor, "all_reduce")
    _set(tensor, run("reduce", _op(op), tensor._data))
    return _done(async_op)


def reduce(tensor: Tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst=None):
    """Reduce ``tensor`` across processes; only rank ``dst`` receives the result (in place)."""
    _check(tensor, "reduce")
    dst = dst if group_dst is None else group_dst
    out = run("reduce", _op(op), tensor._data)
    if _spmd.axis() is not None:  # in a compiled step: choose in the program (the same on every rank)
        _set(tensor, _spmd.on_rank(dst, out, tensor._data))
    elif _group.get_rank() == dst:
        _set(tensor, out)
    return _done(async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every process (in place)."""
    _check(tensor, "broadcast")
    src = src if group_src is None else group_src
    world = _group.get_world_size()
    if not 0 <= src < world:
        raise ValueError(f"broadcast(): src rank {src} is not in [0, {world})")
    _set(tensor, run("bcast", None, tensor._data, src))
    return _done(async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list`` (world_size tensors) with every process's ``tensor``, in rank order."""
    _check(tensor, "all_gather")
    world = _group.get_world_size()
    if len(tensor_list) != world:
        raise ValueError(f"all_gather(): tensor_list has {len(tensor_list)} entries, "
                         f"expected world_size={world}")
    out = run("gather", None, tensor._data)
    for i, t in enumerate(tensor_list):
        _set(t, out[i])
    return _done(async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Every process's ``input_tensor`` concatenated along dim 0 (or stacked) into ``output_tensor``."""
    out = run("gather", None, input_tensor._data)
    world = out.shape[0]
    if tuple(output_tensor.shape) == tuple(out.shape):
        _set(output_tensor, out)
    else:
        flat = out.reshape((world * out.shape[1],) + out.shape[2:]) if out.ndim > 1 else out
        if tuple(flat.shape) != tuple(output_tensor.shape):
            raise ValueError(f"all_gather_into_tensor(): output shape {list(output_tensor.shape)} must be "
                             f"world_size x input shape ({list(out.shape)} stacked or concatenated on dim 0)")
        _set(output_tensor, flat)
    return _done(async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce the ``input_list`` entries across processes; rank r receives the reduced entry r."""
    world = _group.get_world_size()
    if len(input_list) != world:
        raise ValueError(f"reduce_scatter(): input_list has {len(input_list)} entries, expected {world}")
    stacked = jnp.stack([t._data for t in input_list])
    _set(output, run("rscatter", _op(op), stacked))
    return _done(async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """``reduce_scatter`` with ``input`` split along dim 0 into world_size equal chunks."""
    world = _group.get_world_size()
    x = input._data
    if x.shape[0] % world:
        raise ValueError(f"reduce_scatter_tensor(): input dim 0 ({x.shape[0]}) is not divisible by "
                         f"world_size={world}")
    chunks = x.reshape((world, x.shape[0] // world) + x.shape[1:])
    _set(output, run("rscatter", _op(op), chunks).reshape(output._data.shape))
    return _done(async_op)


def gather(tensor: Tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False):
    """Rank ``dst`` receives every process's ``tensor`` in ``gather_list`` (others pass None)."""
    out = run("gather", None, tensor._data)
    if _group.get_rank() == dst:
        if gather_list is None or len(gather_list) != out.shape[0]:
            raise ValueError("gather(): rank dst must pass gather_list with world_size tensors")
        for i, t in enumerate(gather_list):
            _set(t, out[i])
    return _done(async_op)


def scatter(tensor: Tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False):
    """Rank ``src`` sends ``scatter_list[r]`` to rank r's ``tensor`` (in place)."""
    world = _group.get_world_size()
    if _group.get_rank() == src:
        if scatter_list is None or len(scatter_list) != world:
            raise ValueError("scatter(): rank src must pass scatter_list with world_size tensors")
        stacked = jnp.stack([t._data for t in scatter_list])
    else:
        stacked = jnp.zeros((world,) + tuple(tensor.shape), tensor._data.dtype)
    full = run("bcast", None, stacked, src)
    _set(tensor, full[_group.get_rank()])
    return _done(async_op)


def _obj_bytes(obj) -> np.ndarray:
    import pickle
    return np.frombuffer(pickle.dumps(obj), dtype=np.uint8)


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill ``object_list`` with every process's picklable ``obj`` (rank order)."""
    import pickle
    data = _obj_bytes(obj)
    sizes = np.asarray(run("gather", None, jnp.asarray([data.size], jnp.int64)))[:, 0]
    buf = np.zeros(int(sizes.max()), np.uint8)
    buf[:data.size] = data
    allb = np.asarray(run("gather", None, jnp.asarray(buf)))
    for i in range(len(object_list)):
        object_list[i] = pickle.loads(allb[i, :sizes[i]].tobytes())


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s entries with rank ``src``'s (picklable objects)."""
    gathered: list = [None] * _group.get_world_size()
    all_gather_object(gathered, list(object_list) if _group.get_rank() == src else None)
    object_list[:] = gathered[src]
