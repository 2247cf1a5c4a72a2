"""Tensor methods torch has beside the main op families: ``addr``, ``index_reduce``,
``fill_diagonal_``, ``sum_to_size``, ``unsafe_chunk``/``unsafe_split``/``unsafe_split_with_sizes``,
``nonzero_static``, ``as_strided``/``as_strided_``, and (via :func:`install`) the storage/placement
attributes of :mod:`._tensor_attrs`, the legacy methods of :mod:`._tensor_legacy` and the
``mt.layout`` objects of :mod:`._layouts`.

Differences from torch:

- ``unsafe_*`` splits are the ordinary splits (JAX arrays are never aliased, so there is nothing
  unsafe to skip); only their ``grad_fn`` names differ from ``split``'s;
- ``index_reduce``'s range check on ``index`` is made eagerly and skipped inside ``mt.jit``
  (no value to look at while tracing), like the other index ops;
- ``fill_diagonal_`` on a tensor that requires grad is recorded as an op (torch: ``CopySlices``);
  the filled positions get a zero gradient, as in torch;
- ``as_strided`` reads ``input``'s own elements in row-major order as the storage: on a view
  (a copy here) that is the view's elements, not its base's storage as in torch.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpIndexError, OpTypeError, ShapeError
from .._tensor import Tensor
from ._helpers import A, B, I, Sample, norm_dim
from ._registry import REGISTRY, check_inplace, commit_inplace, register
from ._tensor_attrs import _view_layout
from .indexing import _check_range, _dim_and_size, _scatter_reduce_kernel, _tname
from .reduction import _acc_dtype
from .shape import chunk as _chunk_kernel
from .shape import split as _split_kernel
from .shape_extra import _ints_only
from .shape_extra import split_with_sizes as _split_with_sizes_kernel

__all__ = ["install", "expand_check"]


def expand_check(op: str, shape, target) -> None:
    """Raise torch's RuntimeError when ``shape`` cannot be expanded (broadcast one way) to ``target``."""
    shape, target = tuple(shape), tuple(target)
    if len(shape) > len(target):
        raise ShapeError(f"{op}(): expand(size={list(shape)} to {list(target)}): the number of sizes "
                         f"provided ({len(target)}) must be greater or equal to the number of "
                         f"dimensions in the tensor ({len(shape)})")
    lead = len(target) - len(shape)
    for i, s in enumerate(shape):
        t = target[lead + i]
        if s != 1 and s != t:
            raise ShapeError(f"{op}(): The expanded size of the tensor ({t}) must match the existing "
                             f"size ({s}) at non-singleton dimension {lead + i}.  Target sizes: "
                             f"{list(target)}.  Tensor sizes: {list(shape)}")


# ----- addr ------------------------------------------------------------------------------------
def _scale_check(name: str, v, dt) -> None:
    """torch's rules for addr's ``beta``/``alpha`` against the result dtype ``dt``."""
    if dt == np.bool_:
        return
    if isinstance(v, bool):
        raise DTypeError(f"addr(): Boolean {name} only supported for Boolean results.")
    if not _dtype.is_inexact(dt) and isinstance(v, (float, complex)):
        raise DTypeError(f"addr(): For integral input tensors, argument {name} must not be a floating "
                         f"point number.")
    if isinstance(v, complex) and np.dtype(dt).kind != "c":
        raise DTypeError(f"addr(): {name}={v} cannot be converted to type {_tname(dt)} without overflow")


def _scaled(x, v, dt):
    return x * (jnp.asarray(v, dt) if _dtype.is_inexact(dt) else int(v))


@register("addr", nin=3, promote="common", inplace=True, saves=(1, 2), samples=lambda: [
    Sample(A(3, 4), A(3), A(4)), Sample(A(4), A(3), A(4), beta=0.5, alpha=2.0),
    Sample(A(3, 4), A(3), A(4, dtype="float64"), beta=0, grad=False),  # torch's grad fails on mixed dtypes
    Sample(I(2, 3), I(2), I(3), beta=2, alpha=3), Sample(B(2, 3), B(2), B(3)),
    Sample(A(3, 4), A(1, 3), A(4)), Sample(I(2, 3), I(2), I(3), alpha=0.5)])
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``: the outer product of two vectors added to a
    matrix (torch.addr).

    Args:
        input: broadcastable to ``(len(vec1), len(vec2))``; ignored (NaNs included) when beta is 0.
        vec1, vec2: 1-D tensors (dtypes are promoted together with ``input``'s).
        beta, alpha: multipliers (ints for integer results; for bool tensors they act as
            truth values: ``(beta and input) or (alpha and vec1 & vec2)``).
    """
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise ShapeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    shape = (vec1.shape[0], vec2.shape[0])
    expand_check("addr", input.shape, shape)
    dt = vec1.dtype
    _scale_check("beta", beta, dt)
    _scale_check("alpha", alpha, dt)
    if dt == np.bool_:
        prod = jnp.logical_and(vec1[:, None], vec2[None, :]) & bool(alpha)
        return prod | (jnp.broadcast_to(input, shape) & bool(beta)) if beta else prod
    prod = vec1[:, None] * vec2[None, :]
    if alpha != 1:
        prod = _scaled(prod, alpha, dt)
    if beta == 0:
        return prod
    return ((input if beta == 1 else _scaled(input, beta, dt)) + prod).astype(dt)


# ----- index_reduce ------------------------------------------------------------------------------
_INDEX_REDUCE = ("prod", "mean", "amax", "amin")


def _index_reduce_kernel(input, index, source, dim, reduce, include_self=True):
    if reduce not in _INDEX_REDUCE:
        raise ShapeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but "
                         f"got {reduce}.")
    if np.dtype(index.dtype).name not in ("int32", "int64"):
        raise DTypeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                         f"{_tname(index.dtype)}")
    if index.ndim > 1:
        raise OpIndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                           f"{index.ndim} with type: {_tname(index.dtype)} and size: {list(index.shape)}")
    if source.dtype != input.dtype:
        raise DTypeError(f"index_reduce_(): self ({_tname(input.dtype)}) and source "
                         f"({_tname(source.dtype)}) must have the same scalar type")
    d = norm_dim(dim, input.ndim, "index_reduce")
    ix = index.reshape(-1)
    n = ix.shape[0]
    want = input.shape[:d] + (n,) + input.shape[d + 1:] if input.ndim else ()
    if source.shape != want:
        raise ShapeError(f"index_reduce(): source tensor shape must match self tensor shape, excluding "
                         f"the specified dimension. Got self.shape = {list(input.shape)} source.shape = "
                         f"{list(source.shape)}")
    x = input.reshape(1) if input.ndim == 0 else input
    src = source.reshape(x.shape[:d] + (n,) + x.shape[d + 1:])
    full = jnp.broadcast_to(ix.astype(jnp.int64).reshape((1,) * d + (n,) + (1,) * (x.ndim - d - 1)),
                            src.shape)
    out = _scatter_reduce_kernel(x, full, src, d, reduce, include_self)
    return out.reshape(input.shape)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with the slices of ``source`` reduced into the positions ``index`` along ``dim``.

    Args:
        dim: the dim ``index`` runs along.
        index: a 1-D int32/int64 tensor of positions in ``input.size(dim)`` (repeats allowed).
        source: ``input``'s shape and dtype, with ``len(index)`` at ``dim``.
        reduce: 'prod', 'mean', 'amax' or 'amin' (integer 'mean' rounds down, as torch).
        include_self: whether ``input``'s own values take part where something is reduced in.

    Differentiable in ``input`` and ``source`` (ties of amax/amin share the gradient evenly).
    """
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "index_reduce")
        _check_range("index_reduce", index, size, d, exc=OpIndexError, msg="index out of range in self")
    return REGISTRY["index_reduce"].call(input, index, source, dim, reduce, include_self=bool(include_self))


def _index_reduce_samples():
    return [Sample(A(3, 4), 0, np.array([0, 2, 0]), A(3, 4), "prod"),
            Sample(A(3, 4), 1, np.array([3, 1]), A(3, 2), "mean", include_self=False),
            Sample(A(3, 4), 0, np.array([0, 2, 0]), A(3, 4), "amax"),
            Sample(A(3, 4), 1, np.array([3, 1, 3]), A(3, 3), "amin", include_self=False),
            Sample(I(3, 4), 0, np.array([1, 1, 2], dtype="int32"), I(3, 4), "mean"),
            Sample(A(3, 4), 0, np.array([0, 1]), A(2, 4), "sum")]


register("index_reduce", nin=3, inplace=True, impl=index_reduce,
         samples=_index_reduce_samples)(_index_reduce_kernel)


# ----- fill_diagonal_ ------------------------------------------------------------------------------
@register("_fill_diagonal", nin=2, method=False, function=False, grad_name="CopySlices")
def _fill_diagonal(input, value, wrap=False):
    """``input`` with its main diagonal (``[i, i, ..., i]``) set to the 0-d ``value``."""
    shape = input.shape
    if input.ndim == 2:
        rows, cols = shape
        step = cols + 1
        limit = rows * cols if wrap else min(rows, cols) * cols
    else:
        step = sum(math.prod(shape[k + 1:]) for k in range(input.ndim))
        limit = input.size
    pos = np.arange(0, limit, step)
    return input.reshape(-1).at[pos].set(jnp.asarray(value).astype(input.dtype)).reshape(shape)


_CTYPES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
           "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
           "bool": "bool"}


def _fill_value(value, dt: np.dtype, op: str):
    """A Python number as a 0-d numpy array of ``dt``, refusing values torch calls an overflow."""
    bad = RuntimeError(f"{op}: value cannot be converted to type {_CTYPES.get(dt.name, dt.name)} "
                       f"without overflow")
    if isinstance(value, complex) and dt.kind != "c":
        if value.imag != 0:
            raise bad
        value = value.real
    if dt.kind in "iu" and not isinstance(value, bool):
        if not math.isfinite(value):
            raise bad
        info = np.iinfo(dt)
        lo = -int(info.max) if dt.kind == "u" else int(info.min)
        if not lo <= int(value) <= int(info.max):
            raise bad
        return np.asarray(int(value)).astype(dt)
    return np.asarray(value).astype(dt)


def fill_diagonal_(self, fill_value, wrap=False) -> Tensor:
    """Fill the main diagonal (``self[i, i, ..., i]``) with ``fill_value``, in place.

    Args:
        fill_value: a number (or a 0-d tensor), cast to self's dtype.
        wrap: for a tall matrix (more rows than columns), start the diagonal again after every
            ``cols + 1`` rows.

    ``self`` needs at least 2 dims, all of equal length when it has more than 2.
    """
    if self.ndim < 2:
        raise ShapeError("fill_diagonal_(): dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise ShapeError("fill_diagonal_(): all dimensions of input must be of equal length")
    check_inplace(self, "fill_diagonal_")
    if isinstance(fill_value, Tensor):
        if fill_value.numel() != 1:
            raise ShapeError(f"fill_diagonal_(): fill_value must be a number or a one-element tensor, "
                             f"got a tensor of shape {list(fill_value.shape)}")
        value = fill_value.detach().reshape(())
    elif isinstance(fill_value, (int, float, complex, bool, np.number)):
        value = _fill_value(fill_value.item() if isinstance(fill_value, np.number) else fill_value,
                            self._data.dtype, "fill_diagonal_")
    else:
        raise OpTypeError(f"fill_diagonal_(): argument 'fill_value' (position 1) must be Number, not "
                          f"{type(fill_value).__name__}")
    res = REGISTRY["_fill_diagonal"].call(self, value, bool(wrap))
    return commit_inplace(self, res, "fill_diagonal_")


# ----- sum_to_size -----------------------------------------------------------------------------
def _sum_to_size(input, size):
    """Kernel of :meth:`Tensor.sum_to_size`."""
    lead = input.ndim - len(size)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and input.shape[lead + i] != 1)
    out = jnp.sum(input.astype(_acc_dtype(input, None)), axis=axes, keepdims=True)
    return out.reshape(size)


def sum_to_size(self, *size) -> Tensor:
    """Sum ``self`` down to ``size`` (a shape ``self`` broadcasts from): the leading extra dims and
    the dims where ``size`` has 1 are summed. Returns ``self`` when the shape already matches.

    Args:
        size: ints, or one tuple/list/Size of ints.
    """
    if not size:
        raise OpTypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(size)
    if not all(hasattr(s, "__index__") and not isinstance(s, bool) for s in size):
        raise OpTypeError(f"sum_to_size(): argument 'size' must be tuple of ints, but found "
                          f"{[type(s).__name__ for s in size]}")
    size = tuple(s.__index__() for s in size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise ShapeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if size == shape:
        return self
    return REGISTRY["sum_to_size"].call(self, size)


register("sum_to_size", function=False, grad_name="SumBackward1", impl=sum_to_size, samples=lambda: [
    Sample(A(2, 3, 4), (3, 1)), Sample(I(2, 3), (3,)), Sample(A(2, 3), (2, 3)), Sample(A(2, 3), (2, 2)),
    Sample(B(2, 3), (1,))])(_sum_to_size)


# ----- unsafe_chunk / unsafe_split / unsafe_split_with_sizes -----------------------------------------
def unsafe_split(input, split_size, dim=0):
    """:func:`split` with an int ``split_size`` (JAX arrays are never aliased, so it is the same)."""
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise OpTypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                          f"{type(split_size).__name__}")
    return REGISTRY["unsafe_split"].call(input, int(split_size), dim)


def unsafe_chunk(input, chunks, dim=0):
    """:func:`chunk` (JAX arrays are never aliased, so it is the same)."""
    return REGISTRY["unsafe_chunk"].call(input, chunks, dim)


register("unsafe_split", grad_name="UnsafeSplitBackward0", impl=unsafe_split,
         samples=lambda: [Sample(A(2, 6), 4, -1), Sample(A(4), [1, 3])])(_split_kernel)
register("unsafe_chunk", grad_name="UnsafeSplitBackward0",
         impl=_ints_only("unsafe_chunk", 1, unsafe_chunk),
         samples=lambda: [Sample(A(5, 2), 3), Sample(A(2, 6), 4, 1)])(_chunk_kernel)
register("unsafe_split_with_sizes", grad_name="UnsafeSplitWithSizesBackward0",
         impl=_ints_only("unsafe_split_with_sizes", 1, _split_with_sizes_kernel),
         samples=lambda: [Sample(A(5, 2), (2, 0, 3)), Sample(A(2, 3), [1, 1], 1)])(_split_with_sizes_kernel)


# ----- nonzero_static, as_strided ---------------------------------------------------------------
@register("nonzero_static", differentiable=False, samples=lambda: [
    Sample(I(3, 4, low=0, high=2), size=5), Sample(B(6), size=2, fill_value=7), Sample(A(2, 2), size=6),
    Sample(I(3), size=-1)])
def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the non-zero elements, as :func:`nonzero`, in a fixed ``(size, ndim)`` int64
    result: cut to the first ``size`` hits, or padded with rows of ``fill_value``. Its shape does
    not depend on the data, so it works inside ``mt.jit``."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ShapeError("nonzero_static: 'size' must be an non-negative integer")
    if input.ndim == 0:
        return jnp.zeros((size, 0), jnp.int64)
    idx = jnp.nonzero(input, size=size, fill_value=fill_value)
    return jnp.stack(idx, axis=1).astype(jnp.int64)


def _as_strided_kernel(input, size, stride, storage_offset=None):
    size, stride = tuple(size), tuple(stride)
    off = 0 if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise ShapeError("as_strided(): mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise ShapeError(f"as_strided: Negative strides are not supported at the moment, got strides: "
                         f"{list(stride)}")
    if any(s < 0 for s in size):
        raise ShapeError(f"as_strided(): Trying to create tensor with negative dimension: {list(size)}")
    if off < 0:
        raise ShapeError(f"as_strided(): Tensor: invalid storage offset {off}")
    need = 0 if 0 in size else off + 1 + sum((n - 1) * st for n, st in zip(size, stride))
    if need > input.size:
        item = input.dtype.itemsize
        raise ShapeError(f"as_strided(): setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                         f"offset {off}, and itemsize {item} requiring a storage size of {need * item} "
                         f"are out of bounds for storage of size {input.size * item}")
    idx = np.full(size, off, np.int64)
    for k, (n, st) in enumerate(zip(size, stride)):
        idx = idx + (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (len(size) - k - 1))
    return input.reshape(-1)[idx]


def as_strided(input, size, stride, storage_offset=None):
    """A tensor of shape ``size`` whose element ``[i, j, ...]`` is ``input``'s element number
    ``storage_offset + i * stride[0] + j * stride[1] + ...`` in row-major order.

    On a view of a live root (``x[:, 1:]``, ``x.t()``) the numbers count into the root's elements,
    as into the base's storage in torch, and ``storage_offset`` defaults to the view's
    ``storage_offset()``, so ``v.as_strided(v.size(), v.stride())`` is ``v``; on any other tensor they
    count into its own elements. Differentiable (positions read twice add up their gradients).
    """
    for name, v in (("size", size), ("stride", stride)):
        if not isinstance(v, (tuple, list)) or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in v):
            raise OpTypeError(f"as_strided(): argument '{name}' must be tuple of ints, not {v!r}")
    lay = _view_layout(input)
    if lay is not None:
        input, storage_offset = input._view.root, lay[1] if storage_offset is None else storage_offset
    return REGISTRY["as_strided"].call(input, tuple(size), tuple(stride), storage_offset)


register("as_strided", inplace="resize", impl=as_strided, samples=lambda: [
    Sample(A(6), (2, 2), (1, 2)), Sample(A(2, 3), (3, 2), (1, 1), 1), Sample(A(6), (3, 3), (2, 2)),
    Sample(A(6), (2,), (1, 2))])(_as_strided_kernel)


# ----- alias (for as_subclass / new(tensor)) ----------------------------------------------------
@register("_alias", method=False, function=False, grad_name="AliasBackward0")
def _alias(input):
    """``input`` itself, recorded by autograd (torch's alias view)."""
    return input


def install() -> None:
    """Put the non-op attributes on :class:`Tensor`: storage/placement attributes, legacy methods,
    and ``fill_diagonal_``."""
    from . import _tensor_attrs, _tensor_legacy
    for name, attr in {**_tensor_attrs.ATTRIBUTES, **_tensor_legacy.METHODS,
                       "fill_diagonal_": fill_diagonal_}.items():
        if callable(attr):
            attr.__qualname__ = "Tensor." + name
        setattr(Tensor, name, attr)
