"""Strides of a view worked out from its chain of view ops, with no data touched.

A view here records the view ops that lead from its root to it (:mod:`.views`). Its strides are what
``stride()``, ``storage_offset()`` and ``is_contiguous()`` report, and they decide what ``reshape``,
``flatten``, ``contiguous`` and ``view`` do with it, as in torch: a view, a copy, or the "view size is
not compatible" error. For torch's view ops (indexing with ints and slices,
``narrow``, ``select``, the ``split`` family, ``view``/``reshape``/``flatten``, ``squeeze``,
``transpose``/``permute``/``movedim``, ``expand``, ``diagonal``, ``unfold``) the strides follow from
the shapes by arithmetic: microseconds however large the root. A chain with another op
(``as_strided``) returns None, and the caller runs the view ops on an index array instead.
"""

from __future__ import annotations

import functools
import itertools
import math

from ._helpers import norm_dim
from ._tensor_attrs import contiguous_strides

__all__ = ["chain_layout", "view_strides", "is_dense"]


@functools.lru_cache(maxsize=4096)  # (the same reshapes come back every step)
def view_strides(shape, strides, new_shape):
    """torch's rule for ``view``: the strides ``new_shape`` gets over the memory that ``shape``/
    ``strides`` describe, or None where no strides can express it (dimensions that are not contiguous
    with each other would have to merge). Size-1 dimensions never stop a view."""
    shape, strides, new_shape = tuple(shape), tuple(strides), tuple(new_shape)  # (not a Size: fast indexing)
    if math.prod(shape) == 0 or not shape:
        return contiguous_strides(new_shape) if math.prod(new_shape) == math.prod(shape) else None
    out = [0] * len(new_shape)
    v = len(new_shape) - 1
    base = strides[-1]
    numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != numel * base):  # a contiguous run ends
            while v >= 0 and (view_numel < numel or new_shape[v] == 1):
                out[v] = view_numel * base
                view_numel *= new_shape[v]
                v -= 1
            if view_numel != numel:
                return None
            if d > 0:
                base, numel, view_numel = strides[d - 1], 1, 1
    return tuple(out) if v == -1 else None


@functools.lru_cache(maxsize=4096)
def is_dense(shape, strides) -> bool:
    """Whether ``shape``/``strides`` are row-major contiguous, size-1 dimensions skipped (torch's
    ``is_contiguous``)."""
    shape = tuple(shape)
    if 0 in shape:
        return True
    want = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n == 1:
            continue
        if st != want:
            return False
        want *= n
    return True


def chain_layout(root_shape, steps):
    """``(strides, offset)`` of the view that ``steps`` (``(op, key, rest, kwargs, output_index,
    out_shape)`` each) make of a contiguous root of ``root_shape``, or None when a step has no rule
    here or a size is not a plain int (a dynamic export dimension)."""
    shape = tuple(root_shape)
    if not all(type(n) is int for n in shape):
        return None
    strides, offset = contiguous_strides(shape), 0
    for op, _key, rest, kwargs, i, out_shape in steps:
        rule = _RULES.get(op.name)
        if rule is None or not all(type(n) is int for n in out_shape):
            return None
        try:
            got = rule(shape, strides, rest, kwargs, i, out_shape)
        except (TypeError, ValueError, IndexError):  # an argument form the rule does not know
            return None
        if got is None:
            return None
        strides, moved = tuple(got[0]), got[1]
        offset += moved
        shape = tuple(out_shape)
    return tuple(strides), offset


# ----- the rules: (shape, strides, rest, kwargs, i, out_shape) -> (strides, offset moved) or None ----
def _regroup(shape, strides, rest, kwargs, i, out_shape):
    st = view_strides(shape, strides, out_shape)  # (None too for view(dtype) of another item size)
    return None if st is None else (st, 0)


def _unsqueeze(shape, strides, rest, kwargs, i, out_shape):
    d = norm_dim(_arg(rest, kwargs, 0, "dim", None), len(shape) + 1)
    st = list(strides)
    st.insert(d, strides[d] * shape[d] if d < len(shape) else 1)  # torch's stride for the new dim
    return st, 0


def _squeeze(shape, strides, rest, kwargs, i, out_shape):
    dims = _arg(rest, kwargs, 0, "dim", None)
    if dims is None:
        drop = {d for d, n in enumerate(shape) if n == 1}
    else:
        dims = dims if isinstance(dims, (list, tuple)) else [dims]
        drop = {d for d in (norm_dim(x, len(shape)) for x in dims) if d < len(shape) and shape[d] == 1}
    st = [s for d, s in enumerate(strides) if d not in drop]
    return (st, 0) if len(st) == len(out_shape) else None


def _arg(rest, kwargs, pos, name, default):
    if len(rest) > pos:
        return rest[pos]
    return kwargs.get(name, default)


def _box(strides, d, start, out_shape, keep=True):
    """A box along dim ``d`` from ``start`` (kept with its stride, or removed when ``keep`` is False)."""
    st = list(strides)
    offset = start * st[d]
    if not keep:
        del st[d]
    if len(st) != len(out_shape):
        return None
    return st, offset


def _slice(shape, strides, rest, kwargs, i, out_shape):
    st, offset, d = [], 0, 0
    for entry in kwargs["spec"]:
        if entry is None:  # a new size-1 dim
            st.append(strides[d] * shape[d] if d < len(shape) else 1)
        elif type(entry) is int:
            offset += entry * strides[d]
            d += 1
        elif type(entry) is tuple and all(type(v) is int for v in entry):
            start, _stop, step = entry
            offset += start * strides[d]
            st.append(strides[d] * step)
            d += 1
        else:  # an index tensor, a mask, a symbolic bound: not a view made here
            return None
    st.extend(strides[d:])
    return (st, offset) if len(st) == len(out_shape) else None


def _narrow(shape, strides, rest, kwargs, i, out_shape):
    d = norm_dim(_arg(rest, kwargs, 0, "dim", None), len(shape))
    start = _arg(rest, kwargs, 1, "start", None).__index__()
    return _box(strides, d, start + shape[d] if start < 0 else start, out_shape)


def _select(shape, strides, rest, kwargs, i, out_shape):
    d = norm_dim(_arg(rest, kwargs, 0, "dim", None), len(shape))
    index = _arg(rest, kwargs, 1, "index", None).__index__()
    return _box(strides, d, index + shape[d] if index < 0 else index, out_shape, keep=False)


def _unbind(shape, strides, rest, kwargs, i, out_shape):
    d = norm_dim(_arg(rest, kwargs, 0, "dim", 0), len(shape))
    return _box(strides, d, i, out_shape, keep=False)


def _pieces(dim_pos):
    """A rule for an op that cuts its input into consecutive pieces along one dim; ``starts(n, rest,
    kwargs)`` gives where each piece begins."""
    def wrap(starts):
        def rule(shape, strides, rest, kwargs, i, out_shape):
            d = norm_dim(_arg(rest, kwargs, dim_pos, "dim", 0), len(shape))
            return _box(strides, d, starts(shape[d], rest, kwargs)[i], out_shape)
        return rule
    return wrap


@_pieces(1)
def _chunk(n, rest, kwargs):
    chunks = _arg(rest, kwargs, 0, "chunks", None)
    size = -(-n // chunks)
    return [k * size for k in range(chunks)] if size else [0] * chunks


@_pieces(1)
def _split(n, rest, kwargs):
    arg = _arg(rest, kwargs, 0, "split_size_or_sections", None)
    if isinstance(arg, (list, tuple)):
        return list(itertools.accumulate(arg, initial=0))
    return list(range(0, max(n, 1), arg)) if arg else [0]


@_pieces(1)
def _split_with_sizes(n, rest, kwargs):
    return list(itertools.accumulate(_arg(rest, kwargs, 0, "split_sizes", None), initial=0))


def _section_starts(n, arg):
    if isinstance(arg, (list, tuple)):
        return [slice(a, None).indices(n)[0] for a in (0, *arg)]
    q, r = divmod(n, arg.__index__())
    return [k * q + min(k, r) for k in range(arg)]


def _tensor_split(shape, strides, rest, kwargs, i, out_shape):
    arg = next(a for a in (_arg(rest, kwargs, 0, "indices_or_sections", None), kwargs.get("sections"),
                           kwargs.get("indices"), 1) if a is not None)
    d = norm_dim(_arg(rest, kwargs, 1, "dim", 0), len(shape))
    return _box(strides, d, _section_starts(shape[d], arg)[i], out_shape)


def _permuted(strides, perm):
    if sorted(perm) != list(range(len(strides))):
        return None
    return [strides[p] for p in perm], 0


def _transpose(shape, strides, rest, kwargs, i, out_shape):
    n = len(shape)
    if n < 2 and not rest:  # t() of a 0-d or 1-d tensor
        return list(strides), 0
    a = norm_dim(_arg(rest, kwargs, 0, "dim0", -2), n)
    b = norm_dim(_arg(rest, kwargs, 1, "dim1", -1), n)
    perm = list(range(n))
    perm[a], perm[b] = b, a
    return _permuted(strides, perm)


def _permute(shape, strides, rest, kwargs, i, out_shape):
    dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest or kwargs["dims"]
    return _permuted(strides, [norm_dim(d, len(shape)) for d in dims])


def _movedim(shape, strides, rest, kwargs, i, out_shape):
    n = len(shape)
    src, dst = _arg(rest, kwargs, 0, "source", None), _arg(rest, kwargs, 1, "destination", None)
    src = [norm_dim(d, n) for d in (src if isinstance(src, (list, tuple)) else [src])]
    dst = [norm_dim(d, n) for d in (dst if isinstance(dst, (list, tuple)) else [dst])]
    perm = [d for d in range(n) if d not in src]
    for to, frm in sorted(zip(dst, src)):
        perm.insert(to, frm)
    return _permuted(strides, perm)


def _expand(shape, strides, rest, kwargs, i, out_shape):
    lead = len(out_shape) - len(shape)
    st = [0] * lead + [0 if n == 1 and m != 1 else s
                       for n, m, s in zip(shape, out_shape[lead:], strides)]
    return st, 0


def _diagonal(shape, strides, rest, kwargs, i, out_shape):
    n = len(shape)
    offset = _arg(rest, kwargs, 0, "offset", 0)
    a = norm_dim(_arg(rest, kwargs, 1, "dim1", 0), n)
    b = norm_dim(_arg(rest, kwargs, 2, "dim2", 1), n)
    moved = offset * strides[b] if offset >= 0 else -offset * strides[a]
    if out_shape[-1] == 0:
        moved = 0
    st = [s for d, s in enumerate(strides) if d not in (a, b)] + [strides[a] + strides[b]]
    return st, moved


def _unfold(shape, strides, rest, kwargs, i, out_shape):
    d = norm_dim(_arg(rest, kwargs, 0, "dimension", None), len(shape))
    step = _arg(rest, kwargs, 2, "step", None)
    if not shape:
        return [1], 0
    st = list(strides)
    st[d] = strides[d] * step
    return st + [strides[d]], 0


def _split_at(d_of):
    def rule(shape, strides, rest, kwargs, i, out_shape):
        d = d_of(len(shape))
        return _box(strides, d, _section_starts(shape[d], rest[0])[i], out_shape)
    return rule


_RULES = {name: _regroup for name in ("view", "view_as", "reshape", "reshape_as", "flatten", "ravel",
                                      "unflatten")}
_RULES.update({"unsqueeze": _unsqueeze, "squeeze": _squeeze})
_RULES.update({"_slice": _slice, "narrow": _narrow, "select": _select, "unbind": _unbind,
               "chunk": _chunk, "split": _split, "split_with_sizes": _split_with_sizes,
               "tensor_split": _tensor_split, "vsplit": _split_at(lambda n: 0),
               "hsplit": _split_at(lambda n: 1 if n > 1 else 0), "dsplit": _split_at(lambda n: 2),
               "transpose": _transpose, "t": _transpose, "adjoint": _transpose, "permute": _permute,
               "movedim": _movedim, "expand": _expand, "expand_as": _expand, "broadcast_to": _expand,
               "diagonal": _diagonal, "unfold": _unfold})
