"""Views: the tensors torch makes share memory with their base (``x[0]``, ``x.view(-1)``, ``w.t()``,
``w.chunk(4)``), and the write-back that gives them torch's semantics on immutable JAX arrays.

A view here holds its own array plus a :class:`ViewInfo`: its root (the tensor at the start of its
chain of views) and the view ops that lead from the root to it. Two rules make it behave like a
torch view:

- **Writing through a view writes its root.** After an in-place op on a view (``x[0].fill_(1)``,
  ``nn.init.orthogonal_(w[:h])``, ``p.view(-1).add_(1)``), the view's new values are scattered into
  its root at the view's positions. Autograd records the scatter as ``CopySlices``, as torch does, so
  gradients flow through the write to the root's earlier value and to the written values.
- **A view re-reads a changed root.** When the root's array changed since the view last saw it (an
  in-place op on the root or through another view), the view recomputes its values, and its graph
  position, from the root before it is next used: by an op, an in-place write, or a conversion
  (``item``, ``tolist``, ``numpy``, printing).

The positions are found by running the view ops on an index array (``arange`` in the root's shape),
on the first write, and kept. Torch's view rules come with it: a view of a leaf that requires grad
cannot be written with grad mode on; views from a multi-output op (``split``, ``chunk``, ``unbind``)
cannot be written while they require grad; an expanded view whose elements overlap cannot be written.
A view holds its root weakly (a view of a big activation must not keep both arrays alive; torch's
view and base share one storage): once the root is gone, the view is a tensor of its own. A root that
is a ``.data``/``.detach()`` alias is held strongly (``p.data[0].fill_(1)`` writes through the
temporary alias into ``p``).
"""

from __future__ import annotations

import functools
import itertools
import sys
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from .._grad_mode import STATE
from .._tensor import Tensor, _DataAlias, _wrap
from . import _registry
from ._registry import REGISTRY, commit_inplace, dispatch, register
from .view_strides import chain_layout, is_dense, view_strides

__all__ = ["ViewInfo", "VIEW_OPS"]

# torch's view ops (https://pytorch.org/docs/stable/tensor_view.html) that exist in the op table.
VIEW_OPS = ("_slice", "view", "view_as", "reshape", "reshape_as", "flatten", "ravel", "unflatten",
            "squeeze", "unsqueeze", "transpose", "t", "adjoint", "permute", "movedim", "narrow", "select",
            "diagonal", "expand", "expand_as", "broadcast_to", "unfold", "split", "chunk", "unbind",
            "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "as_strided")
# views whose elements may overlap (one root element seen at several positions)
_MAY_OVERLAP = frozenset({"expand", "expand_as", "broadcast_to", "unfold", "as_strided"})
# these keep a contiguous input contiguous; after any other, strides decide (view_strides.py)
_CONTIGUOUS = frozenset({"view", "view_as", "reshape", "reshape_as", "flatten", "ravel", "unflatten",
                         "squeeze", "unsqueeze"})
_BOXES = frozenset({"_slice", "narrow", "select", "split", "chunk", "unbind", "tensor_split", "vsplit",
                    "split_with_sizes"})  # a box of their input
_RESHAPES = frozenset({"reshape", "reshape_as", "flatten", "ravel", "view", "view_as"})
# multi-output views torch refuses to write while they require grad (tensor_split/hsplit slice instead)
_MULTI = frozenset({"split", "chunk", "unbind", "split_with_sizes"})


class ViewInfo:
    """How a view derives from its root (the tensor at the start of its chain of views): ``steps`` are
    the ``(op, key, rest, kwargs, output_index, output_shape)`` of the view ops applied to ``root``;
    ``arr`` is the root's array when the view last read it; ``index`` (made on the first write) the
    flat position in the root of each element of the view; ``contiguous`` whether torch would call the
    view contiguous (None until worked out: see :func:`is_dense_view`); ``layout`` its strides and
    offset, once worked out."""

    __slots__ = ("_ref", "steps", "arr", "index", "contiguous", "layout")

    def __init__(self, root, steps, arr, contiguous):
        self._ref = _repeat(root).__next__ if isinstance(root, _DataAlias) else _WEAKREF(root)
        self.steps = steps
        self.arr = arr
        self.index = None
        self.contiguous = contiguous
        self.layout = None

    @property
    def root(self):
        """The root tensor, or ``_DEAD`` (whose ``_data`` is None) once it has been freed."""
        r = self._ref()
        return _DEAD if r is None else r


class _Dead:
    """Stands for a freed root: its ``_data`` matches no array, so the view's next use unlinks it."""

    _data = None


_DEAD = _Dead()
_WEAKREF = weakref.ref
_repeat = itertools.repeat


_PLAIN: dict = {}  # tensor class -> whether its array is a plain slot (or a .data/.detach() alias)


def _plain_storage(cls) -> bool:
    """Whether tensors of class ``cls`` can be roots: sparse, masked and quantized tensors keep their
    own layouts."""
    ok = _PLAIN.get(cls)
    if ok is None:
        ok = _PLAIN[cls] = cls._data is Tensor._data or issubclass(cls, _DataAlias)
    return ok


def tag(op, key, parent, rest, kwargs, outs, multi) -> None:
    """Mark the outputs of view op ``op`` applied to ``parent`` as views of ``parent``'s root.

    Only the root is kept, not the views in between (``buf = buf[1:]`` in a loop must not keep every
    earlier copy alive); a view in between that is still alive re-reads the root when next used."""
    pinfo = parent._view
    name = op.name
    if pinfo is None:
        if not _plain_storage(parent.__class__):
            return
        root, steps, contiguous = parent, (), True
    else:
        if name in _RESHAPES and not is_dense_view(pinfo, parent._data.shape):  # (plain tuples: fast)
            lay = _strides(pinfo)  # (None: no elements, any shape views them)
            if lay is not None and view_strides(parent._data.shape, lay[0], outs[0]._data.shape) is None:
                if name not in _VIEW_ONLY:
                    return  # torch copies here: this reshape of a transposed/strided view is not a view
                raise RuntimeError(_VIEW_ERROR)
        root, steps, contiguous = pinfo.root, pinfo.steps, pinfo.contiguous
        if root is _DEAD:  # the parent outlived its root: it is the root now
            unlink(parent)
            root, steps, contiguous = parent, (), True
    if name not in _CONTIGUOUS:
        contiguous = None  # strided or not, depending on the shapes: worked out when it matters
    arr = root._data
    if not multi:
        outs[0]._view = ViewInfo(root, steps + ((op, key, rest, kwargs, None, outs[0]._data.shape),), arr,
                                 contiguous)
        return
    for i, o in enumerate(outs):
        o._view = ViewInfo(root, steps + ((op, key, rest, kwargs, i, o._data.shape),), arr, contiguous)


def is_dense_view(info, shape) -> bool:
    """Whether the view ``info`` describes (of ``shape``) is contiguous as torch counts it. Known
    from the ops alone when they only regroup dimensions (``view``, ``flatten`` ...); otherwise from
    its strides, worked out once and kept."""
    dense = info.contiguous
    if dense is None:
        if all(type(n) is int for n in shape):
            lay = _strides(info)
            dense = lay is None or is_dense(shape, lay[0])
        else:  # a dynamic export dimension: no strides to compare; boxes count as contiguous
            dense = all(s[0].name in _CONTIGUOUS or s[0].name in _BOXES for s in info.steps)
        info.contiguous = dense
    return dense


def _strides(info):
    """``(strides, offset)`` of the view ``info`` describes (None when it has no elements): from its
    ops' shapes (view_strides.py), else from its positions in its root; kept on ``info``."""
    lay = info.layout
    if lay is None:
        lay = info.layout = _chain_strides(info) or _layout_of(info) or ()
    return lay or None


def _chain_strides(info):
    """``(strides, offset)`` from the view ops' shapes (``chain_layout``), or None where a step has no
    rule; cached per chain: the same one comes back every step (``x.transpose(1, 2).reshape(...)``)."""
    key = (info.arr.shape, tuple([(s[0], s[1], s[4], s[5]) for s in info.steps]))
    try:
        lay = _LAYOUTS.get(key)
    except TypeError:  # an unhashable op argument
        return chain_layout(info.arr.shape, info.steps)
    if lay is None:
        lay = chain_layout(info.arr.shape, info.steps)
        if lay is not None:
            if len(_LAYOUTS) >= 4096:
                _LAYOUTS.clear()
            _LAYOUTS[key] = lay
    return lay


_LAYOUTS: dict = {}  # (root shape, view steps) -> (strides, offset)


_VIEW_ONLY = frozenset({"view", "view_as"})  # never copy: torch raises where strides do not allow a view
_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one dimension "
               "spans across two contiguous subspaces). Use .reshape(...) instead.")


def _positions(info):
    """The flat position in the root of each element of the view (an int array), overlapping views
    included: ``offset + sum(index_d * stride_d)`` from the view's strides (one small program the size
    of the view), or, for a chain with no stride rule (``as_strided``), the view ops run on an
    ``arange`` in the root's shape."""
    shape = info.arr.shape
    n = int(np.prod(shape, dtype=np.int64))
    dt = jnp.int32 if n < 2 ** 31 else jnp.int64
    lay = info.layout or _chain_strides(info)
    if lay:
        strides, offset = lay
        return _strided_positions(tuple(info.steps[-1][5]), strides, dt)(offset)
    idx = jnp.arange(n, dtype=dt).reshape(shape)
    for op, key, _rest, _kwargs, i, _shape in info.steps:
        idx = op.forward(key)(idx)
        if i is not None:
            idx = idx[i]
    return idx


@functools.lru_cache(maxsize=512)
def _strided_positions(shape, strides, dt):
    """A compiled ``offset -> offset + sum_d(iota_d * strides[d])`` over ``shape`` (the offset is an
    argument: ``cache[:, t]`` at a new ``t`` each step must not recompile)."""
    def positions(offset):
        idx = jnp.full(shape, offset, dt)
        for d, st in enumerate(strides):
            if shape[d] > 1 and st:
                idx = idx + jax.lax.broadcasted_iota(dt, shape, d) * st
        return idx
    return jax.jit(positions)


def layout(t):
    """``(strides, storage_offset)`` of view ``t`` as torch reports them for a view of a contiguous
    root (in elements), or None when ``t`` is not a view of a live root. Worked out from its view
    ops' shapes as torch does (view_strides.py); for a chain with ``as_strided``, measured from the
    view's positions in its root, where a size-1 dimension, with no neighbour to measure, gets the
    stride torch's ``unsqueeze`` gives it."""
    info = t._view
    if info is None or info.root is _DEAD:
        return None
    return _strides(info)


def _layout_of(info):
    """``(strides, offset)`` of the view ``info`` describes, measured from its positions in its root,
    or None when it has no elements."""
    with jax.ensure_compile_time_eval():
        idx = _index_map(info)  # (kept for later writes) False when elements overlap: compute them anyway
        pos = np.asarray(_positions(info) if idx is False else idx)
    if pos.size == 0:
        return None
    first = (0,) * pos.ndim
    base = int(pos[first])
    strides = [0] * pos.ndim
    for d in range(pos.ndim - 1, -1, -1):
        if pos.shape[d] > 1:
            unit = list(first)
            unit[d] = 1
            strides[d] = int(pos[tuple(unit)]) - base
        else:
            strides[d] = strides[d + 1] * pos.shape[d + 1] if d + 1 < pos.ndim else 1
    return tuple(strides), base


def unlink(t) -> None:
    """Make ``t`` a tensor of its own (an in-place shape op on a view, a root rebound to a new shape)."""
    t.__dict__.pop("_view", None)


def sync(t) -> None:
    """Bring view ``t`` up to date with its root."""
    info = t._view
    if info.root._data is not info.arr:
        refresh(t)


def sync_all(tensors) -> None:
    """:func:`sync` each view among ``tensors``."""
    for t in tensors:
        info = t._view
        if info is not None and info.root._data is not info.arr:
            refresh(t)


def refresh(t) -> None:
    """Re-read view ``t`` from its root, whose array changed since ``t`` last saw it."""
    info = t._view
    root = info.root
    if root is _DEAD or root._data.shape != info.arr.shape or root._data.dtype != info.arr.dtype:
        unlink(t)  # the root is gone, or was rebound to another shape (t_(), p.data = other)
        return
    new = root
    for op, _key, rest, kwargs, i, _shape in info.steps:
        new = dispatch(op, [new], rest, kwargs)
        if i is not None:
            new = new[i]
    t._data = new._data
    t.grad_fn = new.grad_fn
    t.requires_grad = new.requires_grad
    t._output_nr = new._output_nr
    t._version += 1
    info.arr = root._data


def _overlap_error(t, opname):
    return RuntimeError(
        f"{opname}: unsupported operation: more than one element of the written-to tensor refers to a "
        f"single memory location (an expanded view of shape {list(t.shape)}). Please clone() the "
        f"tensor before performing the operation.")


def before_inplace(t, opname: str) -> None:
    """Checks before an in-place op writes view ``t``: re-read a changed root first, and torch's
    errors for writes it refuses."""
    sync(t)
    info = t._view
    if info is None:
        return
    if any(s[0].name in _MAY_OVERLAP for s in info.steps) and _index_map(info) is False:
        raise _overlap_error(t, opname)
    if not STATE.grad:
        return
    root = info.root
    if root.requires_grad and root.grad_fn is None:
        raise RuntimeError(
            f"{opname}: a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation (view of shape {list(t.shape)} of a leaf of shape {list(root.shape)}). Wrap it "
            f"in `with mt.no_grad():`, or write into a clone.")
    op, i = info.steps[-1][0], info.steps[-1][4]
    if t.requires_grad and op.name in _MULTI:
        raise RuntimeError(
            f"{opname}: Output {i} of {op.node_cls.__name__.removesuffix('Backward0')} is a view and is "
            f"being modified inplace. This view is the output of a function that returns multiple views "
            f"({op.name}). Such functions do not allow the output views to be modified inplace. You "
            f"should replace the inplace operation by an out-of-place one.")


def _index_map(info):
    """For each element of the view, the flat position in its root it reads (an int array), or False
    when two elements read the same position."""
    idx = info.index
    if idx is not None:
        return idx
    idx = _positions(info)
    if isinstance(idx, jax.core.Tracer):  # built inside a trace: not kept beyond it
        return idx
    if any(step[0].name in _MAY_OVERLAP for step in info.steps):
        flat = np.asarray(idx).ravel()
        if np.unique(flat).size != flat.size:
            idx = False
    info.index = idx
    return idx


def write_back(t, opname: str) -> None:
    """After an in-place op changed view ``t``: write its values into its root (``CopySlices``)."""
    info = t._view
    idx = _index_map(info)
    if idx is False:  # an overlapping view written without before_inplace's check (out=, init)
        raise _overlap_error(t, opname)
    root = info.root
    if root is _DEAD:  # nothing left to write into
        unlink(t)
        return
    info.arr = root._data  # t's values are the ones to keep: dispatch must not re-read t from root
    new = dispatch(_WRITE_OP, [root, t, _wrap(idx)], (), {})
    commit_inplace(root, new, opname)
    info.arr = root._data


def _write_kernel(base, values, index):
    """``base`` with ``values`` written at the flat positions ``index`` (same shape as ``values``)."""
    flat = base.reshape(-1).at[index.reshape(-1)].set(values.reshape(-1).astype(base.dtype))
    return flat.reshape(base.shape)


register("_view_write", nin=3, method=False, function=False, grad_name="CopySlices")(_write_kernel)
_WRITE_OP = REGISTRY["_view_write"]

for _name in VIEW_OPS:
    REGISTRY[_name].view = True

_registry.VIEWS = sys.modules[__name__]
