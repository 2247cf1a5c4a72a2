"""More shape and indexing ops: repeat_interleave, select and the ``*_scatter`` family, h/v/dsplit,
column_stack/row_stack, split_with_sizes, diagflat, vander, unravel_index, unique_consecutive and
narrow_copy.

Like the ops in ``shape.py`` these only move, copy or select elements, so their gradients are
jax.vjp of the forward. Two have data-dependent output shapes:

* ``repeat_interleave`` with a tensor of repeats: the output length (the sum of the repeats) is
  read from the concrete repeats once, eagerly, and the op then runs as a compiled kernel of that
  size. Inside ``mt.jit`` the repeats are not known: pass ``output_size=`` (torch's own hint for
  this) and it traces like any other op.
* ``unique_consecutive`` runs eagerly on the host (``jit=False``), as ``unique`` does.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpIndexError, OpTypeError, OpValueError, ShapeError
from .._tensor import Tensor, _wrap
from ._helpers import A, I, Sample, norm_dim
from ._registry import REGISTRY, dispatch, register
from .indexing import _concrete, _host, _tname
from .shape import _concat, _join_impl, _slices
from .shape import tensor_split as _tensor_split
from .shape import vstack as _vstack

__all__: list[str] = []

_INT = (int, np.integer)
_I32_64 = (np.dtype("int32"), np.dtype("int64"))


def _int_arg(v, op: str, what: str, pos: int) -> int:
    """``v`` as an int (static arguments are frozen: 0-d tensors arrive as Python numbers)."""
    if isinstance(v, bool) or not isinstance(v, _INT):
        raise OpTypeError(f"{op}(): argument '{what}' (position {pos}) must be int, not "
                          f"{type(v).__name__}")
    return int(v)


def _no_float(op: str, what, pos, v) -> None:
    """torch's TypeError for a float where an int (or a sequence of ints) is expected."""
    if isinstance(v, float):
        raise OpTypeError(f"{op}(): argument '{what}' (position {pos}) must be int, not float")
    if isinstance(v, (list, tuple)) and any(isinstance(x, float) for x in v):
        raise OpTypeError(f"{op}(): argument '{what}' (position {pos}) must be tuple of ints, but found "
                          f"element of type float")


def _ints_only(name: str, nin: int, signature_of, inner=None):
    """The public callable of op ``name``, refusing floats among its static (non-tensor) arguments.

    Static arguments key the compiled-kernel cache, where ``1.0 == 1``: a float arriving after an
    int of the same value would reuse that kernel instead of reaching the kernel's own check, so
    the check runs here, on every call. ``inner`` (default: the op's dispatching callable) then
    runs; ``signature_of`` gives the argument names for the messages.
    """
    sig = inspect.signature(signature_of)
    params = list(sig.parameters)

    def impl(*args, **kwargs):
        for i in range(nin, len(args)):
            _no_float(name, params[i] if i < len(params) else i, i + 1, args[i])
        for k, v in kwargs.items():
            _no_float(name, k, params.index(k) + 1 if k in params else "?", v)
        return (inner or REGISTRY[name].call)(*args, **kwargs)

    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = (inner or signature_of).__doc__
    impl.__signature__ = sig  # help() shows torch's signature
    return impl


def _src_check(op: str, src, slice_shape) -> None:
    if tuple(src.shape) != tuple(slice_shape):
        raise ShapeError(f"{op}(): expected src to have a size equal to the slice of self. src size = "
                         f"{list(src.shape)}, slice size = {list(slice_shape)}")


def _need_tensor_src(op: str, src) -> None:
    if not isinstance(src, Tensor):
        raise OpTypeError(f"{op}(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")


# ----- repeat_interleave -----------------------------------------------------------------------
def _ri_samples():
    return [Sample(A(2, 3), 2), Sample(A(2, 3), np.array([1, 0, 2]), -1),
            Sample(A(3, 2), np.array([2]), 0, output_size=6), Sample(np.array([1, 0, 3]), method=False)]


def _ri_kernel(input, repeats, count, dim, output_size):
    """Kernel of :func:`repeat_interleave`: ``count`` (static int) or ``repeats`` (an array)."""
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, x.ndim, "repeat_interleave")
    if repeats is None:
        return jnp.repeat(x, count, axis=d)
    n = x.shape[d]
    reps = jnp.broadcast_to(repeats.reshape(-1), (n,))
    return jnp.repeat(x, reps, axis=d, total_repeat_length=output_size)


def repeat_interleave(input=None, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along ``dim``) of ``input`` ``repeats`` times.

    Args:
        input: the tensor to repeat.
        repeats: an int, or an integer tensor (0-d, one element, or one entry per slice along
            ``dim``) of non-negative counts.
        dim: the dim to repeat along; None (default) flattens ``input`` first.
        output_size: the total size of the result along ``dim`` (``sum(repeats)``); needed
            with tensor repeats inside ``mt.jit``, where their values are not known.

    ``repeat_interleave(repeats)`` (one 1-D integer tensor) gives
    ``repeat_interleave(arange(len(repeats)), repeats)`` in the dtype of ``repeats``.
    With tensor repeats and no ``output_size`` the output length is read from ``repeats``
    eagerly (one device-to-host copy).
    """
    op = "repeat_interleave"
    if repeats is None or input is None:  # the one-argument form
        reps = input if repeats is None else repeats
        if not isinstance(reps, Tensor):
            raise OpTypeError(f"{op}(): missing required argument 'repeats'")
        if reps.ndim != 1:
            raise ShapeError(f"{op}(): repeat_interleave only accept 1D vector as repeat (got shape "
                             f"{list(reps.shape)})")
        _ri_dtype(reps)
        input, dim = _wrap(jnp.arange(reps.shape[0], dtype=reps._data.dtype)), 0
    else:
        reps = repeats
    _no_float(op, "dim", 3, dim)
    if input.ndim == 0 and dim is not None:
        raise OpIndexError(f"{op}(): Dimension specified as {dim} but tensor has no dimensions")
    if dim is not None:
        d = norm_dim(dim, input.ndim, op)
        n = input.shape[d]
    else:
        n = int(np.prod(input.shape, dtype=np.int64))
    if output_size is not None:
        output_size = _int_arg(output_size, op, "output_size", 4)
    if isinstance(reps, Tensor):
        return _ri_tensor(input, reps, dim, n, output_size)
    count = _int_arg(reps, op, "repeats", 2)
    if count < 0:
        raise ShapeError(f"{op}(): Repeats must be non-negative (got {count})")
    if output_size is not None and output_size != n * count:
        raise ShapeError(f"{op}(): repeat_interleave: Invalid output_size, expected {n * count} but "
                         f"got {output_size}")
    return dispatch(REGISTRY[op], (input, None), (count, dim, None), {})


def _ri_dtype(reps):
    if reps._data.dtype not in _I32_64:
        raise DTypeError(f"repeat_interleave(): \"repeat_interleave_cpu\" not implemented for "
                         f"'{_tname(reps._data.dtype)}' (repeats must be int32 or int64)")


def _ri_tensor(input, reps, dim, n, output_size):
    op = "repeat_interleave"
    _ri_dtype(reps)
    if reps.ndim > 1:
        raise ShapeError(f"{op}(): repeats must be 0-dim or 1-dim tensor (got shape {list(reps.shape)})")
    k = reps.shape[0] if reps.ndim else 1
    if k != 1 and k != n:
        raise ShapeError(f"{op}(): repeats must have the same size as input along dim, but got "
                         f"repeats.size(0) = {k} and input.size({0 if dim is None else dim}) = {n}")
    h = _host(reps)
    if h is None:  # traced: the values are unknown, the size must be given
        if output_size is None:
            raise ShapeError(f"{op}(): with tensor repeats the output size depends on their values, "
                             "which are not known while tracing (mt.jit / mt.func transforms); pass "
                             "output_size=<sum of repeats>")
    else:
        if h.size and h.min() < 0:
            raise ShapeError(f"{op}(): repeats can not be negative (got {h.reshape(-1).tolist()})")
        total = int(h.sum()) * (n if k == 1 else 1)
        if output_size is None:
            output_size = total
        elif output_size != total:
            raise ShapeError(f"{op}(): allocated size does not match required size (output_size="
                             f"{output_size}, sum of repeats {total})")
    return dispatch(REGISTRY[op], (input, reps), (None, dim, output_size), {})


def _ri_method(self, repeats, dim=None, *, output_size=None):
    return repeat_interleave(self, repeats, dim, output_size=output_size)


_ri_method.__name__ = "repeat_interleave"
_ri_method.__qualname__ = "Tensor.repeat_interleave"
_ri_method.__doc__ = repeat_interleave.__doc__

register("repeat_interleave", nin=2, impl=repeat_interleave, samples=_ri_samples)(_ri_kernel)


# ----- select and the scatter counterparts of the view ops -------------------------------------
def _select_position(op, input, dim, index, pos):
    """``(dim, index)`` of a ``select`` (negatives resolved), with torch's errors (``op``'s name first;
    ``pos``: index's argument position)."""
    where = "" if op == "select" else "select(): "
    if input.ndim == 0:
        raise OpIndexError(f"{op}(): select() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.ndim, op)
    i = _int_arg(index, op, "index", pos)
    n = input.shape[d]
    if not -n <= i < n:
        raise OpIndexError(f"{op}(): {where}index {i} out of range for tensor of size {list(input.shape)} at "
                           f"dimension {d}")
    return d, i % n


def select(input, dim, index):
    """The slice of ``input`` at ``index`` along ``dim`` (that dim removed).

    Args:
        dim: the dim to index.
        index: the position along ``dim`` (negative counts from the end).
    """
    d, i = _select_position("select", input, dim, index, 3)
    return jax.lax.index_in_dim(input, i, d, keepdims=False)


register("select", impl=_ints_only("select", 1, select),
         samples=lambda: [Sample(A(2, 3), 1, -1), Sample(A(2, 3, 4), -3, 1), Sample(A(2, 3), 0, 2),
                          Sample(A(), 0, 0)])(select)


def _select_scatter_kernel(input, src, dim, index):
    d, i = _select_position("select_scatter", input, dim, index, 4)
    _src_check("select_scatter", src, input.shape[:d] + input.shape[d + 1:])
    return input.at[(slice(None),) * d + (i,)].set(src.astype(input.dtype))


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim`` (the inverse of select).

    Args:
        src: a tensor of the shape of ``input.select(dim, index)``; cast to ``input``'s dtype.
        dim: the dim to index.
        index: the position along ``dim``.
    """
    _need_tensor_src("select_scatter", src)
    return dispatch(REGISTRY["select_scatter"], (input, src), (dim, index), {})


register("select_scatter", nin=2, impl=_ints_only("select_scatter", 2, select_scatter, select_scatter),
         samples=lambda: [Sample(A(2, 3), A(3), 0, 1), Sample(A(2, 3, 4), A(2, 4, dtype="float64"), -2, -1),
                          Sample(A(2, 3), A(2), 0, 1), Sample(I(2, 3), A(2), 1, 2, grad=False)])(
    _select_scatter_kernel)


def _slice_scatter_kernel(input, src, dim=0, start=None, end=None, step=1):
    if input.ndim == 0:
        raise OpIndexError("slice_scatter(): slice() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise ShapeError(f"slice_scatter(): slice step must be positive (got {step})")
    n = input.shape[d]
    s, e, _ = slice(start, end, step).indices(n)
    e = max(e, s)
    cut = slice(s, e, step)
    length = len(range(s, e, step))
    _src_check("slice_scatter", src, input.shape[:d] + (length,) + input.shape[d + 1:])
    return input.at[(slice(None),) * d + (cut,)].set(src.astype(input.dtype))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written into ``input[..., start:end:step, ...]`` (in dim
    ``dim``): the inverse of slicing.

    Args:
        src: a tensor of the shape of that slice; cast to ``input``'s dtype.
        dim: the dim to slice (default 0).
        start, end: the slice bounds (Python slicing rules; None for the ends).
        step: the slice step (positive; default 1).
    """
    _need_tensor_src("slice_scatter", src)
    return dispatch(REGISTRY["slice_scatter"], (input, src), (dim, start, end, step), {})


register("slice_scatter", nin=2, impl=_ints_only("slice_scatter", 2, slice_scatter, slice_scatter),
         samples=lambda: [Sample(A(4, 3), A(2, 3), start=2), Sample(A(2, 5), A(2, 2), -1, -4, None, 2),
                          Sample(A(2, 3), A(2, 1), 1, 0, 2), Sample(A(2, 3), A(2, 2), 1, 0, 2, 0)])(
    _slice_scatter_kernel)


def _diag_index(shape, offset, a, b):
    """Row and column positions of diagonal ``offset`` of the dims ``a``/``b`` of ``shape``."""
    r0, c0 = max(-offset, 0), max(offset, 0)
    length = max(0, min(shape[a] - r0, shape[b] - c0))
    idx = np.arange(length)
    return idx + r0, idx + c0


def _diagonal_scatter_kernel(input, src, offset=0, dim1=0, dim2=1):
    a = norm_dim(dim1, input.ndim, "diagonal_scatter")
    b = norm_dim(dim2, input.ndim, "diagonal_scatter")
    if a == b:
        raise ShapeError(f"diagonal_scatter(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = _diag_index(input.shape, offset, a, b)
    rest = tuple(s for k, s in enumerate(input.shape) if k not in (a, b))
    _src_check("diagonal_scatter", src, rest + (len(rows),))
    moved = jnp.moveaxis(input, (a, b), (-2, -1))
    out = moved.at[..., rows, cols].set(src.astype(input.dtype))
    return jnp.moveaxis(out, (-2, -1), (a, b))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on the diagonal that
    ``input.diagonal(offset, dim1, dim2)`` reads (the inverse of diagonal).

    Args:
        src: a tensor of that diagonal's shape (the other dims, then the diagonal's length).
        offset: which diagonal (0 main, > 0 above, < 0 below).
        dim1, dim2: the dims of the matrices (default 0 and 1).
    """
    _need_tensor_src("diagonal_scatter", src)
    return dispatch(REGISTRY["diagonal_scatter"], (input, src), (offset, dim1, dim2), {})


register("diagonal_scatter", nin=2, impl=_ints_only("diagonal_scatter", 2, diagonal_scatter,
                                                     diagonal_scatter),
         samples=lambda: [Sample(A(3, 4), A(3)), Sample(A(3, 4), A(2), -1),
                          Sample(A(2, 3, 4), A(2, 2), 1, -1, 1), Sample(A(3, 4), A(2))])(
    _diagonal_scatter_kernel)


# ----- splitting and joining -------------------------------------------------------------------
def _register_nsplit(name, min_dims, dim_of, doc):
    def kernel(input, indices_or_sections):
        nd = input.ndim
        if nd < min_dims:
            raise ShapeError(f"{name}(): torch.{name} requires a tensor with at least {min_dims} "
                             f"dimension, but got a tensor with {nd} dimensions!")
        d = dim_of(nd)
        arg = indices_or_sections
        if isinstance(arg, tuple):
            return _tensor_split(input, arg, d)
        n = input.shape[d]
        arg = _int_arg(arg, name, "sections", 2)
        if arg == 0 or n % arg:
            raise ShapeError(f"{name}(): torch.{name} attempted to split along dimension {d}, but the "
                             f"size of the dimension {n} is not divisible by the split_size {arg}!")
        return _tensor_split(input, arg, d)

    def impl(input, *indices_or_sections):
        if len(indices_or_sections) == 1:
            arg = indices_or_sections[0]
        elif indices_or_sections:  # x.hsplit(1, 2): the indices as varargs, as torch's method takes
            arg = tuple(indices_or_sections)
        else:
            raise OpTypeError(f"{name}(): missing required argument 'indices_or_sections'")
        _no_float(name, "indices_or_sections", 2, arg)
        return REGISTRY[name].call(input, arg)

    kernel.__name__ = impl.__name__ = name
    kernel.__doc__ = impl.__doc__ = doc
    register(name, impl=impl, grad_name="SliceBackward0",
             samples=lambda: [Sample(A(2, 4, 6), 2), Sample(A(2, 4, 6), [1, 3]), Sample(A(3, 4, 3), 3),
                              Sample(A(6), 4)])(kernel)
    return impl


_SPLIT_DOC = """Split ``input`` {where} into pieces; returns a tuple.

    Args:
        indices_or_sections: an int ``n`` (``n`` equal pieces; the size must be divisible by it)
            or a list of indices to split at (as :func:`tensor_split`).
    {extra}"""

hsplit = _register_nsplit("hsplit", 1, lambda nd: 1 if nd > 1 else 0, _SPLIT_DOC.format(
    where="horizontally (along dim 1, or dim 0 for 1-D input)", extra="Needs at least 1 dim."))
vsplit = _register_nsplit("vsplit", 2, lambda nd: 0, _SPLIT_DOC.format(
    where="vertically (along dim 0)", extra="Needs at least 2 dims."))
dsplit = _register_nsplit("dsplit", 3, lambda nd: 2, _SPLIT_DOC.format(
    where="depth-wise (along dim 2)", extra="Needs at least 3 dims."))


def split_with_sizes(input, split_sizes, dim=0):
    """Split ``input`` along ``dim`` into pieces of the given sizes; returns a tuple.

    Args:
        split_sizes: non-negative ints summing to ``input.size(dim)``.
        dim: the dim to split (default 0).
    """
    op = "split_with_sizes"
    if not isinstance(split_sizes, tuple):
        raise OpTypeError(f"{op}(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                          f"{type(split_sizes).__name__}")
    if input.ndim == 0:
        raise ShapeError(f"{op}(): split expects at least a 1-dimensional tensor")
    d = norm_dim(dim, input.ndim, op)
    sizes = tuple(_int_arg(s, op, "split_sizes", 2) for s in split_sizes)
    if any(s < 0 for s in sizes):
        raise ShapeError(f"{op}(): split_with_sizes expects split_sizes have only non-negative entries, "
                         f"but got split_sizes={list(sizes)}")
    n = input.shape[d]
    if sum(sizes) != n:
        raise ShapeError(f"{op}(): split_with_sizes expects split_sizes to sum exactly to {n} (input "
                         f"tensor's size at dimension {d}), but got split_sizes={list(sizes)}")
    return _slices(input, sizes, d)


register("split_with_sizes", grad_name="SplitWithSizesBackward0",
         impl=_ints_only("split_with_sizes", 1, split_with_sizes),
         samples=lambda: [Sample(A(2, 3, 4), [1, 2], 1), Sample(A(5, 2), (2, 0, 3)),
                          Sample(A(2, 3), [1, 3], -1), Sample(A(2, 3), [3, -1], 1)])(split_with_sizes)


_COLUMN_STACK_DOC = """Join ``tensors`` as columns: 0-d and 1-D tensors become ``(n, 1)`` columns, then
    everything is concatenated along dim 1 (dtypes promoted).

    Args:
        tensors: a non-empty list/tuple of tensors.
        out: optional tensor to write the result into.
    """


@register("column_stack", seq=True, method=False, promote="common", grad_name="CatBackward0",
          impl=_join_impl("column_stack",
                          ShapeError("column_stack(): column_stack expects a non-empty TensorList"),
                          _COLUMN_STACK_DOC, with_dim=False),
          samples=lambda: [Sample([A(3), A(3, 2)]), Sample([A(), I()]), Sample([A(2, 3, 4), A(2, 1, 4)]),
                           Sample([A(2), A(3)])])
def column_stack(*tensors):
    """Kernel of :func:`column_stack` on arrays (the public ``mt.column_stack`` checks the list)."""
    cols = [x.reshape(x.size, 1) if x.ndim <= 1 else x for x in tensors]
    return _concat(cols, 1, "column_stack")


_ROW_STACK_DOC = """Alias of :func:`vstack`: 1-D inputs become rows, then everything is joined along
    dim 0 (dtypes promoted).

    Args:
        tensors: a non-empty list/tuple of tensors.
        out: optional tensor to write the result into.
    """

register("row_stack", seq=True, method=False, promote="common", grad_name="CatBackward0",
         impl=_join_impl("row_stack", ShapeError("row_stack(): vstack expects a non-empty TensorList"),
                         _ROW_STACK_DOC, with_dim=False),
         samples=lambda: [Sample([A(3), A(2, 3)]), Sample([A(1, 2, 2), I(2, 2, 2)]),
                          Sample([A(2), A(3)])])(_vstack)


# ----- matrices built from vectors -------------------------------------------------------------
def diagflat(input, offset=0):
    """A square matrix with the flattened ``input`` on diagonal ``offset`` (0 main, > 0 above,
    < 0 below); its size is ``input.numel() + abs(offset)``."""
    offset = _int_arg(offset, "diagflat", "offset", 2)
    return jnp.diag(input.reshape(-1), offset)


register("diagflat", grad_name="DiagEmbedBackward0", impl=_ints_only("diagflat", 1, diagflat),
         samples=lambda: [Sample(A(3)), Sample(A(2, 2), 1), Sample(A(), -2), Sample(I(0), 2)])(diagflat)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: column ``j`` is ``x ** (N - 1 - j)`` (or
    ``x ** j`` with ``increasing=True``).

    Args:
        x: a 1-D tensor; bool and integer inputs give int64.
        N: the number of columns (default ``len(x)``).
        increasing: powers increase from left to right.

    The gradient is that of the cumulative product (torch 2.13's own vander backward fails with
    an in-place error, so the parity samples skip gradients; tests check it against calculus).
    """
    if x.ndim != 1:
        raise ShapeError(f"vander(): x must be a one-dimensional tensor. (got {x.ndim} dims)")
    n = x.shape[0]
    if N is None:
        N = n
    N = _int_arg(N, "vander", "N", 2)
    if N < 0:
        raise ShapeError(f"vander(): N must be non-negative. (got N={N})")
    if not _dtype.is_inexact(x.dtype):
        x = x.astype(np.int64)
    if N == 0:
        return jnp.zeros((n, 0), x.dtype)
    powers = jnp.cumprod(jnp.broadcast_to(x[:, None], (n, N - 1)), axis=1)
    out = jnp.concatenate([jnp.ones((n, 1), x.dtype), powers], axis=1)
    return out if increasing else jnp.flip(out, 1)


register("vander", method=False, grad_name="FlipBackward0", impl=_ints_only("vander", 1, vander),
         samples=lambda: [Sample(A(3), grad=False),
                          Sample(np.array([0.0, 1.5, -2.0], "float32"), 4, True, grad=False),
                          Sample(I(4, dtype="int32"), N=2), Sample(A(2, 2))])(vander)


# ----- indices ----------------------------------------------------------------------------------
def _unravel_kernel(indices, shape):
    """Kernel of :func:`unravel_index`; ``shape`` is a checked tuple of positive ints."""
    dt = indices.dtype
    if not jnp.issubdtype(dt, jnp.integer):
        raise OpTypeError(f"unravel_index(): expected 'indices' to be integer dtype, but got "
                          f"{_dtype.from_np(dt)}")
    idx = indices.astype(jnp.int64)
    out, coef = [], 1
    for s in reversed(shape):
        out.append(jnp.floor_divide(idx, coef) % s)
        coef *= s
    return tuple(reversed(out))


def unravel_index(indices, shape):
    """The coordinates, in a tensor of ``shape``, of the flat ``indices``: a tuple of int64 tensors
    (one per dim of ``shape``, each of ``indices``' shape).

    Args:
        indices: an integer tensor of flat indices (values outside ``[0, prod(shape))`` wrap
            around, as in torch).
        shape: an int or a sequence of non-negative ints (also ``mt.Size``).
    """
    op = "unravel_index"
    if isinstance(shape, _INT) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)):
        raise OpTypeError(f"{op}(): expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, _INT):
            raise OpTypeError(f"{op}(): expected 'shape' sequence to only contain ints, but got {type(s)}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise OpValueError(f"{op}(): 'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise ShapeError(f"{op}(): ZeroDivisionError (shape {shape} has a zero-size dim)")
    return REGISTRY[op].call(indices, shape)


register("unravel_index", method=False, differentiable=False, impl=unravel_index,
         samples=lambda: [Sample(np.array(4), (3, 2)), Sample(np.array([[5, -1], [0, 6]]), (2, 3)),
                          Sample(I(3, low=0, high=4, dtype="int32"), 4), Sample(A(3), (3,))])(_unravel_kernel)


# ----- unique_consecutive -------------------------------------------------------------------------
def _uc_samples():
    return [Sample(np.array([1, 1, 2, 2, 3, 1, 1, 2]), True, True, grad=False),
            Sample(np.array([[1, 2], [1, 2], [3, 4], [1, 2]], "float32"), return_inverse=True,
                   return_counts=True, dim=0, grad=False),
            Sample(np.array([1.0, np.nan, np.nan, 2.0, 2.0], "float32"), return_counts=True, grad=False),
            Sample(I(2, 0), dim=0, grad=False)]


@register("unique_consecutive", jit=False, differentiable=False, samples=_uc_samples)
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Keep the first of each run of equal consecutive values (or slices along ``dim``).

    Args:
        return_inverse: also return, for each input element (slice), the index of its run (int64,
            ``input``'s shape, or its size along ``dim``).
        return_counts: also return the length of each run (int64).
        dim: compare slices along this dim; None (default) works on the flattened input.

    Returns the values alone, or a tuple ``(values, inverse?, counts?)``. The output size depends
    on the data: runs eagerly.
    """
    op = "unique_consecutive"
    h = _concrete(input, f"{op}()")
    if dim is None:
        flat = h.reshape(-1)
        starts = np.ones(flat.shape, bool)
        starts[1:] = flat[1:] != flat[:-1]
        vals = flat[starts]
        inv = (np.cumsum(starts) - 1).reshape(h.shape)
    else:
        if h.ndim == 0:
            raise OpIndexError(f"{op}(): Dimension specified as {dim} but tensor has no dimensions")
        d = norm_dim(dim, h.ndim, op)
        m = np.moveaxis(h, d, 0)
        if m.shape[0] and 0 in m.shape[1:]:
            raise ShapeError(f"{op}(): There are 0 sized dimensions, and they aren't selected, so unique "
                             f"cannot be applied (input shape {list(h.shape)}, dim {dim})")
        rows = m.reshape(m.shape[0], -1)
        starts = np.ones(rows.shape[0], bool)
        starts[1:] = np.any(rows[1:] != rows[:-1], axis=1)
        vals = np.take(h, np.nonzero(starts)[0], axis=d)
        inv = np.cumsum(starts) - 1
    out = [jnp.asarray(vals, input.dtype)]
    if return_inverse:
        out.append(jnp.asarray(inv, jnp.int64))
    if return_counts:
        pos = np.nonzero(starts)[0]
        out.append(jnp.asarray(np.diff(np.append(pos, starts.shape[0])), jnp.int64))
    return out[0] if len(out) == 1 else tuple(out)


# ----- narrow_copy ------------------------------------------------------------------------------
def narrow_copy(input, dim, start, length):
    """A copy of elements ``start .. start+length-1`` of dim ``dim`` (``start`` may be negative);
    the same values as :func:`narrow` (which in this library copies too).

    (The negative-start sample skips the gradient check: torch 2.13's own NarrowCopyBackward0
    fails on a negative ``start``; ours gives the gradient of the slice.)"""
    op = "narrow_copy"
    if input.ndim == 0:
        raise ShapeError(f"{op}(): narrow() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.ndim, op)
    start = _int_arg(start, op, "start", 3)
    length = _int_arg(length, op, "length", 4)
    n = input.shape[d]
    if not -n <= start <= n:
        raise OpIndexError(f"{op}(): start out of range (expected to be in range of [{-n}, {n}], but got "
                           f"{start})")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise ShapeError(f"{op}(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return jax.lax.slice_in_dim(input, start, start + length, axis=d)


register("narrow_copy", impl=_ints_only("narrow_copy", 1, narrow_copy),
         samples=lambda: [Sample(A(4, 3), -1, -2, 2, grad=False), Sample(A(4, 3), 0, 1, 2),
                          Sample(A(4, 3), 0, 4, 0), Sample(A(4, 3), 1, 0, -1)])(narrow_copy)


def install() -> None:
    """Install the strict ``Tensor.repeat_interleave`` (``repeats`` required, as in torch)."""
    Tensor.repeat_interleave = _ri_method

