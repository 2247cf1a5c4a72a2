"""All-to-all, object gather/scatter, and torch's ``*_single`` / deprecated ``*_coalesced`` collectives.

``all_to_all`` / ``all_to_all_single`` are built on all-gathers over the group (JAX's eager path has no
ragged all-to-all): one all-gather of the (group size) element counts each process sends to each
other, then one all-gather of every process's send buffer padded to the longest; each process cuts
its pieces out. The cost is ``group size x`` the largest send buffer per process (an all-to-all moves
only ``1x``): fine for the small exchanges it is used for (token routing metadata, uneven shards),
not a bandwidth-optimal all-to-all. They run eagerly only: inside ``mt.jit``/``jax.jit`` they raise.

``gather_object`` and ``scatter_object_list`` go through ``all_gather_object`` / ``broadcast_object_list``
(pickled bytes, all-gathered).
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor, _wrap
from . import _collectives as C
from . import _group
from ._group import ReduceOp

__all__ = ["all_to_all", "all_to_all_single", "gather_object", "scatter_object_list", "all_gather_single",
           "reduce_scatter_single", "all_gather_coalesced", "all_reduce_coalesced"]


def _eager_only(fname: str, *arrs) -> None:
    if any(isinstance(a, jax.core.Tracer) for a in arrs):
        raise RuntimeError(f"{fname}(): not supported inside mt.jit / jax.jit (the split sizes are exchanged "
                           "on the host); call it eagerly, outside the compiled function")


def _exchange(pieces: list, want: list, g, fname: str) -> list:
    """Send ``pieces[j]`` (flat arrays, one dtype) to group rank j; receive ``want[i]`` elements from group
    rank i. Returns the received flat arrays, in group-rank order."""
    n = C._size(g)
    me = _group._STATE["rank"] if g is None else g.rank()
    counts = jnp.asarray([int(p.size) for p in pieces], jnp.int64)
    table = np.asarray(C.run("gather", None, counts, group=g))  # table[src, dst]: elements src -> dst
    got = [int(table[s, me]) for s in range(n)]
    if got != list(want):
        raise RuntimeError(f"{fname}(): group rank {me} expects {list(want)} elements from group ranks "
                           f"0..{n - 1}, but they send {got}")
    longest = int(table.sum(axis=1).max())
    buf = np.zeros(longest, np.asarray(pieces[0]).dtype)  # packed and cut on the host: no per-offset compiles
    flat = np.concatenate([np.asarray(p).reshape(-1) for p in pieces])
    buf[:flat.size] = flat
    rows = np.asarray(C.run("gather", None, jnp.asarray(buf), group=g))
    out = []
    for s in range(n):
        off = int(table[s, :me].sum())
        out.append(rows[s, off:off + got[s]])
    return out


def all_to_all(output_tensor_list: list, input_tensor_list: list, group=None, async_op: bool = False):
    """Send ``input_tensor_list[j]`` to group rank j; fill ``output_tensor_list[i]`` (in place) with what
    group rank i sent here. Tensors may differ in shape (the receiver's shapes must match the sender's)."""
    g = C._resolve(group, "all_to_all")
    if g is C._NON:
        return C._done(async_op)
    n = C._size(g)
    if len(input_tensor_list) != n or len(output_tensor_list) != n:
        raise ValueError(f"all_to_all(): input_tensor_list ({len(input_tensor_list)}) and output_tensor_list "
                         f"({len(output_tensor_list)}) must both have the group size {n} entries")
    for t in list(input_tensor_list) + list(output_tensor_list):
        C._check(t, "all_to_all")
    _eager_only("all_to_all", *[t._data for t in input_tensor_list])
    dtype = input_tensor_list[0]._data.dtype
    got = _exchange([np.asarray(t._data).astype(dtype).reshape(-1) for t in input_tensor_list],
                    [int(np.prod(t.shape)) for t in output_tensor_list], g, "all_to_all")
    for t, a in zip(output_tensor_list, got):
        C._set(t, jnp.asarray(a.reshape(t._data.shape), t._data.dtype))
    return C._done(async_op)


def _splits(sizes, rows: int, n: int, fname: str, what: str) -> list:
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise ValueError(f"{fname}(): {what} dim 0 ({rows}) is not divisible by the group size {n}; "
                             f"pass {what}_split_sizes")
        return [rows // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n:
        raise ValueError(f"{fname}(): {what}_split_sizes has {len(sizes)} entries, expected the group "
                         f"size {n}")
    if sum(sizes) != rows or min(sizes) < 0:
        raise RuntimeError("Split sizes doesn't match total dim 0 size")
    return sizes


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes=None,  # noqa: A002
                      input_split_sizes=None, group=None, async_op: bool = False):
    """Split ``input`` along dim 0 (evenly, or by ``input_split_sizes``), send chunk j to group rank j, and
    write the chunks received from each rank, concatenated in rank order (sizes ``output_split_sizes``),
    into ``output`` in place.

    Shapes: input ``(sum(input_split_sizes), *rest)``, output ``(sum(output_split_sizes), *rest)``.
    """
    C._check(output, "all_to_all_single")
    C._check(input, "all_to_all_single")
    g = C._resolve(group, "all_to_all_single")
    if g is C._NON:
        return C._done(async_op)
    _eager_only("all_to_all_single", input._data)
    n = C._size(g)
    x = np.asarray(input._data)
    rest = tuple(x.shape[1:])
    if tuple(output.shape[1:]) != rest:
        raise ValueError(f"all_to_all_single(): output shape {list(output.shape)} and input shape "
                         f"{list(x.shape)} must agree beyond dim 0")
    ins = _splits(input_split_sizes, x.shape[0], n, "all_to_all_single", "input")
    outs = _splits(output_split_sizes, output.shape[0], n, "all_to_all_single", "output")
    row = int(np.prod(rest))
    bounds = np.cumsum([0] + ins)
    pieces = [x[bounds[j]:bounds[j + 1]].reshape(-1) for j in range(n)]
    got = _exchange(pieces, [s * row for s in outs], g, "all_to_all_single")
    _set_cat(output, got)
    return C._done(async_op)


def _set_cat(output: Tensor, parts: list) -> None:
    flat = np.concatenate(parts) if parts else np.zeros(0)
    C._set(output, jnp.asarray(flat.reshape(output._data.shape), output._data.dtype))


def gather_object(obj, object_gather_list=None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """Process ``dst`` (a global rank, default 0; or ``group_dst``) receives every member's picklable ``obj``
    in ``object_gather_list`` (group-rank order; the other processes pass None). Costs an all-gather."""
    g = C._resolve(group, "gather_object")
    if g is C._NON:
        return
    _, dst = C._peer(g, "gather_object", "dst", dst, group_dst)
    me = _group._STATE["rank"]
    if me == dst and object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if me != dst and object_gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    gathered: list = [None] * C._size(g)
    C.all_gather_object(gathered, obj, group=g)
    if me == dst:
        if len(object_gather_list) != len(gathered):
            raise ValueError(f"gather_object(): object_gather_list has {len(object_gather_list)} entries, "
                             f"expected the group size {len(gathered)}")
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src: int | None = None, group=None, group_src: int | None = None) -> None:
    """Process ``src`` (a global rank, default 0; or ``group_src``) sends ``scatter_object_input_list[i]`` to
    group rank i, which stores it in ``scatter_object_output_list[0]``."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    g = C._resolve(group, "scatter_object_list")
    if g is C._NON:
        return
    gsrc, src = C._peer(g, "scatter_object_list", "src", src, group_src)
    n = C._size(g)
    me = _group._STATE["rank"]
    if me == src and (scatter_object_input_list is None or len(scatter_object_input_list) != n):
        raise ValueError(f"scatter_object_list(): rank src must pass scatter_object_input_list with {n} "
                         f"objects (the group size)")
    box = [list(scatter_object_input_list) if me == src else None]
    C.broadcast_object_list(box, group=g, group_src=gsrc)
    scatter_object_output_list[0] = box[0][me if g is None else g.rank()]


def all_gather_single(output_tensor: Tensor, input_tensor: Tensor, group=None, async_op: bool = False):
    """:func:`all_gather_into_tensor` (torch's alias)."""
    return C.all_gather_into_tensor(output_tensor, input_tensor, group=group, async_op=async_op)


def reduce_scatter_single(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """:func:`reduce_scatter_tensor` (torch's alias)."""
    return C.reduce_scatter_tensor(output, input, op=op, group=group, async_op=async_op)


def _deprecated(name: str) -> None:
    warnings.warn(f"`torch.distributed.{name}` will be deprecated. If you must use it, please revisit our "
                  "documentation later at https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=3)


def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Deprecated (FutureWarning, as torch): :func:`all_reduce` of each tensor of ``tensors`` (in place),
    done as one all-reduce of their flattened concatenation."""
    _deprecated("all_reduce_coalesced")
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in ts:
        C._check(t, "all_reduce_coalesced")
    if not ts:
        return C._done(async_op)
    dtype = ts[0]._data.dtype
    flat = _wrap(jnp.concatenate([t._data.astype(dtype).reshape(-1) for t in ts]))
    C.all_reduce(flat, op=op, group=group)
    off = 0
    for t in ts:
        k = int(np.prod(t.shape))
        C._set(t, flat._data[off:off + k].reshape(t._data.shape).astype(t._data.dtype))
        off += k
    return C._done(async_op)


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op: bool = False):
    """Deprecated (FutureWarning, as torch): ``output_tensor_lists[i][k]`` receives group rank i's
    ``input_tensor_list[k]`` (one :func:`all_gather` per input tensor)."""
    _deprecated("all_gather_coalesced")
    for k, t in enumerate(input_tensor_list):
        C.all_gather([lst[k] for lst in output_tensor_lists], t, group=group)
    return C._done(async_op)
