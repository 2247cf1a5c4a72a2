"""Indexing and selection: ``x[...]`` and ``x[...] = v``, gather/scatter, index_*, masks, take/put,
nonzero/unique, and sort/topk/searchsorted.

Indexing follows torch's rules, which are numpy's with one difference: integers are applied first,
as ``select`` (so in ``x[0, :, idx]`` the advanced dims stay in place). The kernels therefore run
in two steps inside one jitted call: basic indexing (ints, slices, None), then advanced indexing
with only slices left, where numpy's placement rule is torch's.

Where torch raises for an out-of-range index, JAX would clamp (gathers) or drop (scatters)
silently. The ops below check concrete indices eagerly (see :func:`_out_of_range`); that costs a
device->host copy of the index per call, and is skipped while tracing (``mt.jit``, transforms).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.export import is_symbolic_dim

from .. import _dtype, return_types
from .._errors import DataDependentShapeError, DTypeError, OpIndexError, OpTypeError, OpValueError, ShapeError
from .._meta import is_meta_array
from .._tensor import Tensor, _wrap
from ._helpers import A, B, I, Sample, broadcast_check, broadcast_shape, norm_dim
from ._registry import REGISTRY, check_inplace, commit_inplace, dispatch, register

_SCALARS = (int, float, bool, complex)
_INTS = (np.dtype("int8"), np.dtype("int16"), np.dtype("int32"), np.dtype("int64"), np.dtype("uint8"))
_I32_64 = ("int32", "int64")
_TORCH_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                "int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(d) -> str:
    """torch's scalar type name (``Float``, ``Long`` ...) of a numpy/jax dtype."""
    return _TORCH_NAMES.get(np.dtype(d).name, str(d))


def _dt(a):
    """The numpy dtype of a Tensor, array or Python scalar."""
    if isinstance(a, Tensor):
        return a._data.dtype
    return np.asarray(a).dtype if not hasattr(a, "dtype") else np.dtype(a.dtype)


def _host(a):
    """The value of ``a`` as numpy, or None while tracing (inside ``mt.jit`` or a transform) and for
    a meta tensor (no values)."""
    if isinstance(a, Tensor):
        a = a._data
    if is_meta_array(a):
        return None
    try:
        return np.asarray(a)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _concrete(a, op: str):
    """Like :func:`_host`, but raises when the value is abstract (data-dependent output shape)."""
    h = _host(a)
    if h is None and is_meta_array(a._data if isinstance(a, Tensor) else a):
        raise ShapeError(f"{op}: the result's shape depends on the data, which a meta tensor does not "
                         "have")
    if h is None:
        raise DataDependentShapeError(
            op, f"{op}: the result's shape depends on the data, which is not known while tracing "
            "(mt.jit / mt.func transforms). Compute it outside the traced function, or use a "
            "fixed-shape form such as mt.where(mask, x, 0) or masked_fill.")
    return h


def _out_of_range(index, size: int, negative: bool):
    """The first out-of-range value of a concrete integer ``index`` (None if all fit or abstract).

    Cost: one device->host copy of ``index`` (a sync on accelerators). torch raises for these
    indices while JAX clamps or drops them silently, so only the ops where that would give a
    wrong answer call this, and only in eager mode.
    """
    if not np.issubdtype(_dt(index), np.integer):
        return None
    h = _host(index)
    if h is None or h.size == 0:
        return None
    lo = -size if negative else 0
    if h.min() >= lo and h.max() < size:
        return None
    return int(h[(h < lo) | (h >= size)].flat[0])


def _need_index_dtype(op: str, index, allowed=_I32_64, msg=None, exc=DTypeError):
    """Trace-time check of an index tensor's dtype, with torch's message."""
    name = np.dtype(index.dtype).name
    if name not in allowed:
        raise exc(msg.format(_tname(index.dtype)) if msg else
                  f"{op}(): Expected dtype {'/'.join(allowed)} for index (got {_tname(index.dtype)})")


def _as_value(v, dtype):
    """A Python scalar or array as an array of ``dtype``."""
    return jnp.asarray(v, dtype) if isinstance(v, _SCALARS) else v.astype(dtype)


# ======================================================================================
# x[index] and x[index] = value
# ======================================================================================
def _seq_as_tuple(seq) -> bool:
    """torch's legacy rule: a short list holding sequences, tensors, slices, None or ``...``
    indexes like a tuple of those (``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``)."""
    if len(seq) >= 32:
        return False
    return any(it is None or it is Ellipsis or isinstance(it, (slice, Tensor, list, tuple, np.ndarray))
               for it in seq)


def _index_array(it):
    if isinstance(it, Tensor):
        return it._data
    if isinstance(it, jax.Array):
        return it
    arr = np.asarray(it)
    if arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # x[[]] indexes with an empty long tensor, as torch
    return arr


def _index_tensor(a) -> Tensor:
    """An index array as an internal Tensor for dispatch. A numpy array stays numpy: the jitted
    kernel takes it directly (one transfer in JAX's C++ path, faster than converting first)."""
    return _wrap(a)


_NONE, _ELL, _BOOL, _INT, _SLICE, _MASK, _ARR = range(7)


def _parse(shape, index, zero_d_as_int=True):
    """Split a torch index into a hashable ``spec`` and its index arrays.

    ``spec`` has one token per produced or consumed dim: an int (select), a ``(start, stop,
    step)`` tuple (slice), None (new axis), ``"t"`` (an advanced index array over one dim) or
    ``"b"`` (a Python/0-d bool: a new axis indexed by ``[0]`` or ``[]``, as torch does).
    """
    if isinstance(index, tuple):
        items = index
    elif isinstance(index, list) and _seq_as_tuple(index):
        items = tuple(index)
    else:
        items = (index,)
    ndim = len(shape)
    conv = []
    used = 0
    ellipsis = False
    for it in items:
        if it is None:
            conv.append((_NONE, None))
        elif it is Ellipsis:
            conv.append((_ELL, ellipsis))  # torch: only the first one expands; others take 0 dims
            ellipsis = True
        elif isinstance(it, (bool, np.bool_)):
            conv.append((_BOOL, bool(it)))
        elif isinstance(it, (int, np.integer)):
            conv.append((_INT, int(it)))
            used += 1
        elif isinstance(it, slice):
            conv.append((_SLICE, it))
            used += 1
        elif isinstance(it, (Tensor, jax.Array, np.ndarray, list, tuple)):
            arr = _index_array(it)
            kind = np.dtype(arr.dtype)
            if kind == np.bool_ or kind == np.uint8:
                if arr.ndim == 0:
                    conv.append((_BOOL, bool(_concrete(arr, "indexing with a 0-d bool tensor"))))
                else:
                    conv.append((_MASK, arr))
                    used += arr.ndim
            elif kind in _INTS:
                h = _host(arr) if (arr.ndim == 0 and zero_d_as_int) else None
                conv.append((_INT, int(h)) if h is not None else (_ARR, (arr, it)))
                used += 1
            else:
                raise OpIndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(it, str):
            raise OpTypeError(f"invalid index of type 'str' ({it!r})")
        else:
            raise OpIndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(it).__name__})")
    if used > ndim:
        if ndim == 0:
            raise OpIndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise OpIndexError(f"too many indices for tensor of dimension {ndim}")

    spec = []
    arrays = []
    d = 0
    for kind, v in conv:
        if kind == _NONE:
            spec.append(None)
        elif kind == _ELL:
            for _ in range(0 if v else ndim - used):
                spec.append((0, shape[d], 1))
                d += 1
        elif kind == _INT:
            n = shape[d]
            if is_symbolic_dim(n):  # a dynamic size: jax.numpy takes the negative index as is
                spec.append(v)
                d += 1
                continue
            if v < -n or v >= n:
                raise OpIndexError(f"index {v} is out of bounds for dimension {d} with size {n}")
            spec.append(v % n)
            d += 1
        elif kind == _SLICE:
            spec.append(_norm_slice(v, shape[d]))
            d += 1
        elif kind == _BOOL:
            spec.append("b")
            arrays.append(_index_tensor(np.zeros(1 if v else 0, np.int64)))
        elif kind == _ARR:
            v, orig = v
            bad = _out_of_range(v, shape[d], True)
            if bad is not None:
                raise OpIndexError(f"index {bad} is out of bounds for dimension {d} with size {shape[d]}")
            spec.append("t")
            arrays.append(orig if isinstance(orig, Tensor) else _index_tensor(v))
            d += 1
        else:  # a mask over v.ndim dims: its nonzero positions, computed eagerly
            for j, s in enumerate(v.shape):
                if s != shape[d + j]:
                    raise OpIndexError(
                        f"The shape of the mask {list(v.shape)} at index {j} does not match the shape "
                        f"of the indexed tensor {list(shape)} at index {d + j}")
            h = _concrete(v, "boolean mask indexing")
            for a in np.nonzero(h):
                spec.append("t")
                arrays.append(_index_tensor(a))
            d += v.ndim
    return tuple(spec), arrays


def _norm_slice(s: slice, n: int) -> tuple:
    start, stop, step = (None if x is None else _to_int(x) for x in (s.start, s.stop, s.step))
    if step is not None and step <= 0:
        raise OpValueError("step must be greater than zero")
    if is_symbolic_dim(n) or is_symbolic_dim(start) or is_symbolic_dim(stop):
        # a dynamic (mt.export) size: kept as given, jax.numpy clamps and normalises it symbolically
        return start, stop, step
    return slice(start, stop, step).indices(n)


def _to_int(x) -> int:
    if is_symbolic_dim(x):  # x.shape[1] // 2 of a dynamic dimension
        return x
    try:
        return x.__index__()
    except (AttributeError, TypeError):
        raise OpTypeError(
            f"slice indices must be integers or None or have an __index__ method "
            f"(got {type(x).__name__})") from None


def _split(spec):
    """The basic (step 1) index tuple and the output positions of the advanced arrays."""
    basic = []
    adv_pos = []
    out = 0
    for tok in spec:
        if tok is None:
            basic.append(None)
            out += 1
        elif tok.__class__ is int:
            basic.append(tok)
        elif tok.__class__ is tuple:
            basic.append(slice(*tok))
            out += 1
        elif tok == "t":
            basic.append(slice(None))
            adv_pos.append(out)
            out += 1
        else:  # "b"
            basic.append(None)
            adv_pos.append(out)
            out += 1
    return tuple(basic), adv_pos


def _adv_index(ndim, adv_pos, arrays):
    shapes = [a.shape for a in arrays]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise OpIndexError("shape mismatch: indexing tensors could not be broadcast together with "
                           f"shapes {', '.join(str(list(s)) for s in shapes)}") from None
    idx = [slice(None)] * ndim
    for p, a in zip(adv_pos, arrays):
        idx[p] = a
    return tuple(idx)


def _index_kernel(x, *arrays, spec):
    basic, adv_pos = _split(spec)
    y = x[basic]
    if arrays:
        y = y[_adv_index(y.ndim, adv_pos, arrays)]
    return y


register("_slice", nin=-1, grad_name="SliceBackward0", method=False, function=False)(_index_kernel)
register("_index", nin=-1, grad_name="IndexBackward0", method=False, function=False)(_index_kernel)


def _fit_value(v, target):
    """Broadcast a setitem value to the indexed shape (leading size-1 dims dropped, as torch)."""
    while v.ndim > len(target) and v.shape[0] == 1:
        v = v[0]
    ok = v.ndim <= len(target) and all(
        s in (1, t) for s, t in zip(v.shape[::-1], target[::-1]))
    if not ok:
        raise ShapeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast "
                         f"to indexing result of shape {list(target)}")
    return jnp.broadcast_to(v, target)


def _index_put_kernel(x, v, *arrays, spec, accumulate=False):
    v = _as_value(v, x.dtype)
    basic, adv_pos = _split(spec)
    if not arrays:
        v = _fit_value(v, x[basic].shape)
        return x.at[basic].add(v) if accumulate else x.at[basic].set(v)
    if all(t == "t" or (t.__class__ is tuple and t == (0, n, 1)) for t, n in zip(spec, x.shape)):
        # no ints / new axes: numpy's placement rule is torch's, one scatter does it
        idx = _adv_index(x.ndim, adv_pos, arrays)
        v = _fit_value(v, x[idx].shape)
        return x.at[idx].add(v) if accumulate else x.at[idx].set(v)
    sub = x[basic]
    idx = _adv_index(sub.ndim, adv_pos, arrays)
    v = _fit_value(v, sub[idx].shape)
    sub = sub.at[idx].add(v) if accumulate else sub.at[idx].set(v)
    return x.at[basic].set(sub)


def _dtype_match(x, v):
    if isinstance(v, Tensor) and v._data.dtype != x._data.dtype:
        raise DTypeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{_tname(x._data.dtype)} for the destination and {_tname(v._data.dtype)} for the source.")


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` written at ``input[indices]`` (summed there if ``accumulate``).

    Args:
        indices: a tuple of index tensors (long/int, or bool masks), one per leading dim;
            None stands for the whole dim.
        values: a tensor (same dtype as ``input``) broadcastable to the indexed shape.
        accumulate: add into ``input`` (repeated indices add up) instead of overwriting.
    """
    if not isinstance(indices, (tuple, list)):
        raise OpTypeError(f"index_put(): indices must be a tuple of Tensors, got {type(indices).__name__}")
    items = tuple(slice(None) if i is None else i for i in indices)
    spec, arrays = _parse(input._data.shape, items, zero_d_as_int=False)
    _dtype_match(input, values)
    return dispatch(_PUT, [input, values, *arrays], (), {"spec": spec, "accumulate": bool(accumulate)})


def _index_put_samples():
    # without accumulate, repeated indices are avoided: which write wins is undefined in torch, and
    # torch sends every duplicate the gradient while JAX's scatter sends it to the winner only
    return [Sample(A(3, 4), (np.array([2, 0]),), A(2, 4)),
            Sample(A(3, 4), (np.array([0, 2]), np.array([1, 3])), A(2)),
            Sample(A(5), (np.array([0, 0, 2]),), A(3), True),
            Sample(A(3, 4), (B(3, 4),), A(1)),
            Sample(A(3, 4, dtype="float64"), (np.array([1, -1]),), A(4, dtype="float64"), True),
            Sample(I(4), (np.array([0, 3]),), I(2)),
            Sample(A(4), (np.array([0, 3]),), A(2, dtype="float64"))]


register("index_put", nin=-1, inplace=True, impl=index_put, samples=_index_put_samples)(_index_put_kernel)
_PUT = REGISTRY["index_put"]
_SLICE_OP = REGISTRY["_slice"]
_INDEX_OP = REGISTRY["_index"]


def _getitem(self, index):
    """``self[index]``: ints, slices (positive steps), None, ``...``, bool masks and integer index
    tensors/lists, combined by torch's (numpy's) rules. The result is a new tensor, not a view."""
    if index.__class__ is int and not (self._data.shape and is_symbolic_dim(self._data.shape[0])):  # x[i]
        shape = self._data.shape
        if not shape:
            _parse(shape, index)  # raises torch's 0-d error
        n = shape[0]
        if index < -n or index >= n:
            raise OpIndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return dispatch(_SLICE_OP, [self], (), {"spec": (index % n,)})
    spec, arrays = _parse(self._data.shape, index)
    if arrays:
        return dispatch(_INDEX_OP, [self, *arrays], (), {"spec": spec})
    return dispatch(_SLICE_OP, [self], (), {"spec": spec})


def _setitem(self, index, value) -> None:
    """``self[index] = value``: writes ``value`` (broadcast, cast to ``self.dtype``) in place.

    Computed out of place then rebound, like every in-place op: the version counter goes up and
    gradients flow both to ``self``'s previous value and to ``value``.
    """
    check_inplace(self, "__setitem__")
    spec, arrays = _parse(self._data.shape, index)
    if arrays:
        _dtype_match(self, value)
    res = dispatch(_PUT, [self, value, *arrays], (), {"spec": spec})
    commit_inplace(self, res, "__setitem__")


# ======================================================================================
# gather / scatter
# ======================================================================================
def _dim_and_size(input, dim, op):
    shape = input.shape if isinstance(input, Tensor) else np.shape(input)
    d = norm_dim(dim, len(shape), op)
    return d, (shape[d] if shape else 1)


def _check_range(op, index, size, d, negative=False, exc=ShapeError, msg=None):
    bad = _out_of_range(index, size, negative)
    if bad is not None:
        raise exc((msg or "{op}(): index {bad} is out of bounds for dimension {d} with size {size}")
                  .format(op=op, bad=bad, d=d, size=size))


def _as_nd(x):
    return x.reshape(1) if x.ndim == 0 else x


def _slice_to(x, shape):
    """``x`` cut down to ``shape`` (leading part of each dim)."""
    return x[tuple(slice(0, s) for s in shape)]


def _gather_kernel(input, index, dim):
    _need_index_dtype("gather", index)
    nd = input.ndim
    d = norm_dim(dim, nd, "gather")
    if index.ndim != nd and not (nd <= 1 and index.ndim <= 1):
        raise ShapeError("gather(): Index tensor must have the same number of dimensions as input tensor "
                         f"(input {list(input.shape)}, index {list(index.shape)})")
    x, ix = _as_nd(input), _as_nd(index)
    for k in range(x.ndim):
        if k != d and ix.shape[k] > x.shape[k]:
            raise ShapeError(f"gather(): Size does not match at dimension {k} expected index "
                             f"{list(index.shape)} to be no larger than self {list(input.shape)} apart "
                             f"from dimension {d}")
    shape = tuple(s if k == d else ix.shape[k] for k, s in enumerate(x.shape))
    return jnp.take_along_axis(_slice_to(x, shape), ix, axis=d).reshape(index.shape)


def gather(input, dim, index, *, sparse_grad=False):
    """Values of ``input`` along ``dim`` at ``index``: ``out[i][j] = input[index[i][j]][j]`` (dim=0).

    Args:
        dim: the dim to index along.
        index: int64/int32 tensor with ``input``'s number of dims, no larger than ``input``
            in the other dims; the output has its shape.
    """
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "gather")
        _check_range("gather", index, size, d)
    return dispatch(_OPS["gather"], (input, index), (dim,), {})


def _perm_index(shape, dim, n):
    """An index for scatter samples with no repeated target along ``dim`` (values < n)."""
    rng = np.random.default_rng(7)
    moved = list(shape)
    k = moved.pop(dim)
    rows = [rng.permutation(n)[:k] for _ in range(int(np.prod(moved, dtype=np.int64)))]
    arr = np.array(rows, dtype=np.int64).reshape(*moved, k)
    return np.moveaxis(arr, -1, dim)


def _gather_samples():
    return [Sample(A(3, 4), 1, I(3, 2, low=0, high=4)), Sample(A(3, 4), 0, I(5, 4, low=0, high=3)),
            Sample(A(2, 3, 4), -1, I(2, 2, 6, low=0, high=4)), Sample(A(4), 0, I(6, low=0, high=4)),
            Sample(A(3, 4, dtype="float64"), 1, I(3, 4, low=0, high=4, dtype="int32")),
            Sample(I(3, 4), 0, I(2, 4, low=0, high=3)), Sample(A(3, 4), 1, I(3, 0, low=0, high=4)),
            Sample(A(3, 4), 1, A(3, 2)), Sample(A(3, 4), 1, I(3, 2, low=4, high=6)),
            Sample(A(3, 4), 1, I(3, low=0, high=3))]


register("gather", nin=2, impl=gather, samples=_gather_samples)(_gather_kernel)


def _scatter_index(index, dim):
    """Full index arrays for ``out[..., index, ...]`` along ``dim`` (iotas elsewhere)."""
    return tuple(index if k == dim else lax.broadcasted_iota(index.dtype, index.shape, k)
                 for k in range(index.ndim))


def _scatter_prepare(op, input, index, src, dim):
    _need_index_dtype(op, index)
    x = input
    d = norm_dim(dim, x.ndim, op)
    if index.ndim != x.ndim and not (x.ndim <= 1 and index.ndim <= 1):
        raise ShapeError(f"{op}(): Index tensor must have the same number of dimensions as self tensor "
                         f"(self {list(x.shape)}, index {list(index.shape)})")
    xs, ix = _as_nd(x), _as_nd(index)
    if isinstance(src, _SCALARS) or src.ndim == 0:
        src = jnp.broadcast_to(_as_value(src, x.dtype), ix.shape)
    else:
        if src.dtype != x.dtype:
            raise DTypeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                             f"{_tname(x.dtype)} and {_tname(src.dtype)})")
        src = _as_nd(src)
        bad = src.ndim != ix.ndim or any(
            ix.shape[k] > src.shape[k] or (k != d and ix.shape[k] > xs.shape[k]) for k in range(ix.ndim))
        if bad:
            raise ShapeError(f"{op}(): Expected index {list(index.shape)} to be no larger than self "
                             f"{list(x.shape)} apart from dimension {d} and to be no larger size than "
                             f"src {list(src.shape)}")
        src = _slice_to(src, ix.shape)
    return xs, _scatter_index(ix, d), src


def _scatter_kernel(input, index, src, dim, reduce=None):
    xs, idx, src = _scatter_prepare("scatter", input, index, src, dim)
    if reduce is None:
        out = xs.at[idx].set(src)
    elif reduce == "add":
        out = xs.at[idx].add(src)
    elif reduce == "multiply":
        out = xs.at[idx].multiply(src)
    else:
        raise ShapeError("scatter(): reduce argument must be either add or multiply.")
    return out.reshape(input.shape)


def _scatter_checked(name, input, dim, index):
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, name)
        _check_range(name, index, size, d)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src`` written at ``index`` along ``dim``: ``out[index[i][j]][j] = src[i][j]``
    (dim=0). ``src`` may be a tensor (same dtype as ``input``) or a scalar (``value=``).

    Args:
        reduce: None (overwrite; repeated indices pick one writer), 'add' or 'multiply'.
    """
    if src is None:
        src = value
    if src is None:
        raise OpTypeError("scatter() missing required argument 'src' (or 'value')")
    _scatter_checked("scatter", input, dim, index)
    return dispatch(_OPS["scatter"], (input, index, src), (dim,), {"reduce": reduce} if reduce else {})


def _scatter_samples():
    return [Sample(A(3, 4), 1, _perm_index((3, 2), 1, 4), A(3, 2)),
            Sample(A(3, 4), 0, _perm_index((2, 4), 0, 3), A(2, 5), grad=False),  # torch's grad fails
            Sample(A(2, 3, 4), -1, _perm_index((2, 3, 2), 2, 4), A(2, 3, 4), grad=False),
            Sample(A(2, 3, 4), -1, _perm_index((2, 3, 2), 2, 4), A(2, 3, 2)),
            Sample(A(5), 0, _perm_index((3,), 0, 5), 1.5),
            Sample(I(3, 4), 1, _perm_index((3, 2), 1, 4), I(3, 2)),
            Sample(A(3, 4), 1, I(3, 3, low=0, high=4), A(3, 3), reduce="add", grad=False),
            Sample(A(3, 4), 1, I(3, 3, low=0, high=4), A(3, 3), reduce="multiply", grad=False),
            Sample(A(3, 4), 1, _perm_index((3, 2), 1, 4), A(3, 2, dtype="float64")),
            Sample(A(3, 4), 1, I(3, 2, low=4, high=7), A(3, 2)),
            Sample(A(3, 4), 1, I(3, 2, low=0, high=4), A(3, 1))]


register("scatter", nin=3, inplace=True, impl=scatter, samples=_scatter_samples)(_scatter_kernel)


def _scatter_add_kernel(input, index, src, dim):
    xs, idx, src = _scatter_prepare("scatter_add", input, index, src, dim)
    return xs.at[idx].add(src).reshape(input.shape)


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` summed in at ``index`` along ``dim`` (repeated indices add up)."""
    _scatter_checked("scatter_add", input, dim, index)
    return dispatch(_OPS["scatter_add"], (input, index, src), (dim,), {})


def _scatter_add_samples():
    return [Sample(A(3, 4), 1, I(3, 5, low=0, high=4), A(3, 5)),
            Sample(A(3, 4), 0, I(2, 4, low=0, high=3), A(2, 4)),
            Sample(A(2, 3, 4, dtype="float64"), 1, I(2, 2, 4, low=0, high=3, dtype="int32"),
                   A(2, 2, 4, dtype="float64")),
            Sample(I(5), 0, I(3, low=0, high=5), I(3)), Sample(A(4), 0, I(0, low=0, high=4), A(0)),
            Sample(A(3, 4), 1, I(3, 2, low=-9, high=-5), A(3, 2))]


register("scatter_add", nin=3, inplace=True, impl=scatter_add,
         samples=_scatter_add_samples)(_scatter_add_kernel)

_REDUCE_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}


def _scatter_reduce_kernel(input, index, src, dim, reduce, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ShapeError(f"scatter_reduce(): reduce argument must be either sum, prod, mean, amax or "
                         f"amin, got {reduce}")
    xs, idx, src = _scatter_prepare("scatter_reduce", input, index, src, dim)
    d = norm_dim(dim, xs.ndim, "scatter_reduce")
    if reduce in _REDUCE_IDENTITY:
        fill = _REDUCE_IDENTITY[reduce]
    elif jnp.issubdtype(xs.dtype, jnp.floating):
        fill = -jnp.inf if reduce == "amax" else jnp.inf
    else:
        info = jnp.iinfo(xs.dtype) if xs.dtype != jnp.bool_ else None
        fill = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
    base = xs if include_self else xs.at[idx].set(jnp.asarray(fill, xs.dtype))
    if reduce in ("sum", "mean"):
        out = base.at[idx].add(src)
    elif reduce == "amax":
        out = base.at[idx].max(src)
    elif reduce == "amin":
        out = base.at[idx].min(src)
    else:
        out = base * _scatter_prod(xs.shape, idx[d], src, d)
    if reduce == "mean":
        count = jnp.zeros(xs.shape, xs.dtype).at[idx].add(jnp.ones(src.shape, xs.dtype))
        count = count + (1 if include_self else 0)
        safe = jnp.where(count == 0, 1, count)
        mean = out // safe if not jnp.issubdtype(xs.dtype, jnp.inexact) else out / safe
        out = jnp.where(count == 0, xs, mean)
    return out.reshape(input.shape)


def _scatter_prod(shape, index, src, d):
    """The product of ``src`` landing on each position of ``shape`` (1 where none lands).

    Built densely (one-hot over the target dim) because JAX has no gradient for a scatter-multiply
    with repeated indices; memory is index.numel() * shape[d].
    """
    n = shape[d]
    ix = jnp.moveaxis(index, d, -1)[..., None]
    sv = jnp.moveaxis(src, d, -1)[..., None]
    hit = ix == jnp.arange(n, dtype=ix.dtype)
    prod = jnp.prod(jnp.where(hit, sv, jnp.ones((), src.dtype)), axis=-2)
    prod = jnp.moveaxis(prod, -1, d)
    pad = [(0, s - p) for s, p in zip(shape, prod.shape)]
    return jnp.pad(prod, pad, constant_values=1)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` in
    'sum', 'prod', 'mean', 'amax', 'amin'; ``include_self=False`` leaves ``input``'s values out
    of the reduction where something is scattered."""
    _scatter_checked("scatter_reduce", input, dim, index)
    return dispatch(_OPS["scatter_reduce"], (input, index, src), (dim, reduce),
                    {"include_self": bool(include_self)})


def _scatter_reduce_samples():
    out = []
    for red in ("sum", "prod", "mean", "amax", "amin"):
        out.append(Sample(A(3, 4), 1, I(3, 5, low=0, high=4), A(3, 5), red))
        out.append(Sample(A(3, 4), 0, I(2, 4, low=0, high=3), A(2, 4), red, include_self=False))
    out += [Sample(I(3, 4), 1, I(3, 3, low=0, high=4), I(3, 3), "mean"),
            Sample(I(3, 4), 1, I(3, 3, low=0, high=4), I(3, 3), "amax", include_self=False)]
    return out


register("scatter_reduce", nin=3, inplace=True, impl=scatter_reduce,
         samples=_scatter_reduce_samples)(_scatter_reduce_kernel)


# ======================================================================================
# index_select / index_add / index_copy / index_fill
# ======================================================================================
def _along(d, index):
    return (slice(None),) * d + (index,)


def _vector_index(op, index, exc=OpIndexError):
    if index.ndim > 1:
        raise exc(f"{op}(): Index is supposed to be a vector (got shape {list(index.shape)})")
    return index.reshape(-1)


def _index_select_kernel(input, index, dim):
    if np.dtype(index.dtype).name not in _I32_64:
        raise DTypeError(f"index_select(): Expected dtype int32 or int64 for index (got "
                         f"{_tname(index.dtype)})")
    ix = _vector_index("index_select", index)
    d = norm_dim(dim, input.ndim, "index_select")
    return jnp.take(_as_nd(input), ix, axis=d).reshape(
        input.shape[:d] + (ix.shape[0],) + input.shape[d + 1:] if input.ndim else index.shape)


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "index_select")
        _check_range("index_select", index, size, d, exc=OpIndexError, msg="index out of range in self")
    return dispatch(_OPS["index_select"], (input, index), (dim,), {})


def _index_select_samples():
    return [Sample(A(3, 4), 0, I(5, low=0, high=3)), Sample(A(3, 4), 1, I(2, low=0, high=4)),
            Sample(A(2, 3, 4, dtype="float64"), -1, I(3, low=0, high=4, dtype="int32")),
            Sample(I(4), 0, I(0, low=0, high=4)), Sample(A(3, 4), 0, np.array(1)),
            Sample(A(3, 4), 0, A(2)), Sample(A(3, 4), 0, np.array([3])),
            Sample(A(3, 4), 0, np.array([-1]))]


register("index_select", nin=2, impl=index_select, samples=_index_select_samples)(_index_select_kernel)


def _index_source_check(op, input, ix, source, d):
    want = input.shape[:d] + (ix.shape[0],) + input.shape[d + 1:]
    if source.shape != want and not (source.ndim == 0 and want == (1,)):
        raise ShapeError(f"{op}(): source tensor shape must match self tensor shape, excluding the "
                         f"specified dimension. Got self.shape = {list(input.shape)} source.shape = "
                         f"{list(source.shape)}")
    return source.reshape(want)


def _index_add_kernel(input, index, source, dim, alpha=1):
    _need_index_dtype("index_add", index)
    if source.dtype != input.dtype:
        raise DTypeError(f"index_add_(): self ({_tname(input.dtype)}) and source ({_tname(source.dtype)}) "
                         "must have the same scalar type")
    x = _as_nd(input)
    ix = _vector_index("index_add", index)
    d = norm_dim(dim, input.ndim, "index_add")
    src = _index_source_check("index_add", x, ix, source, d)
    return x.at[_along(d, ix)].add(src if alpha == 1 else src * alpha).reshape(input.shape)


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``
    (repeated indices add up). ``source`` has ``input``'s shape with ``len(index)`` at ``dim``."""
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "index_add")
        if input.ndim > 1:  # torch's two code paths raise differently
            _check_range("index_add", index, size, d)
        else:
            _check_range("index_add", index, size, d, exc=OpIndexError, msg="index out of range in self")
    return dispatch(_OPS["index_add"], (input, index, source), (dim,), {"alpha": alpha})


def _index_add_samples():
    return [Sample(A(3, 4), 0, I(5, low=0, high=3), A(5, 4)),
            Sample(A(3, 4), 1, I(2, low=0, high=4), A(3, 2), alpha=2.5),
            Sample(A(2, 3, dtype="float64"), -1, I(2, low=0, high=3, dtype="int32"),
                   A(2, 2, dtype="float64")),
            Sample(I(4), 0, I(3, low=0, high=4), I(3)), Sample(A(3, 4), 0, I(2, low=0, high=3), A(2, 3)),
            Sample(A(3, 4), 0, np.array([3]), A(1, 4)), Sample(A(3), 0, np.array([1]), A(1, dtype="float64"))]


register("index_add", nin=3, inplace=True, impl=index_add, samples=_index_add_samples)(_index_add_kernel)


def _index_copy_kernel(input, index, source, dim):
    if np.dtype(index.dtype).name != "int64":
        raise DTypeError(f"index_copy_(): Expected a long tensor for index, but got {_tname(index.dtype)}")
    if source.dtype != input.dtype:
        raise DTypeError(f"index_copy_(): self and source expected to have the same dtype, but got "
                         f"(self) {_tname(input.dtype)} and (source) {_tname(source.dtype)}")
    x = _as_nd(input)
    ix = _vector_index("index_copy", index)
    d = norm_dim(dim, input.ndim, "index_copy")
    src = _index_source_check("index_copy", x, ix, source, d)
    return x.at[_along(d, ix)].set(src).reshape(input.shape)


def index_copy(input, dim, index, source):
    """``input`` with the slices of ``source`` copied to the positions ``index`` along ``dim``."""
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "index_copy")
        _check_range("index_copy_", index, size, d, exc=OpIndexError)
    return dispatch(_OPS["index_copy"], (input, index, source), (dim,), {})


def _index_copy_samples():
    return [Sample(A(3, 4), 0, np.array([2, 0]), A(2, 4)), Sample(A(3, 4), 1, np.array([3, 1, 0]), A(3, 3)),
            Sample(I(5), 0, np.array([4]), I(1)),
            Sample(A(3, 4), 0, np.array([2, 0], dtype="int32"), A(2, 4)),
            Sample(A(3, 4), 0, np.array([4]), A(1, 4)), Sample(A(3, 4), 0, np.array([1]), A(1, 3))]


register("index_copy", nin=3, inplace=True, impl=index_copy, samples=_index_copy_samples)(_index_copy_kernel)


def _index_fill_kernel(input, index, value, dim):
    if np.dtype(index.dtype).name != "int64":
        raise OpIndexError(f"index_fill_(): Expected dtype int64 for index (got {_tname(index.dtype)}).")
    if not isinstance(value, _SCALARS) and value.ndim != 0:
        raise ShapeError(f"index_fill_(): only supports a 0-dimensional value tensor, but got tensor with "
                         f"{value.ndim} dimension(s).")
    x = _as_nd(input)
    ix = _vector_index("index_fill", index)
    d = norm_dim(dim, input.ndim, "index_fill")
    ix = jnp.where(ix < 0, ix + x.shape[d], ix)
    return x.at[_along(d, ix)].set(_as_value(value, x.dtype)).reshape(input.shape)


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a scalar or a 0-d
    tensor; negative indices count from the end)."""
    if isinstance(index, Tensor):
        d, size = _dim_and_size(input, dim, "index_fill")
        _check_range("index_fill", index, size, d, True, exc=OpIndexError,
                     msg="index {bad} is out of bounds for dimension {d} with size {size}")
    return dispatch(_OPS["index_fill"], (input, index, value), (dim,), {})


def _index_fill_samples():
    return [Sample(A(3, 4), 0, np.array([2, 0]), 1.5), Sample(A(3, 4), 1, np.array([3, 1]), A()),
            Sample(A(3, 4), 1, np.array([-1, 1]), 2.0),
            Sample(I(5), 0, np.array([4]), 7), Sample(A(3, 4), 0, np.array([1], dtype="int32"), 1.0),
            Sample(A(3, 4), 0, np.array([3]), 1.0), Sample(A(3, 4), 0, np.array([1]), A(2))]


register("index_fill", nin=3, inplace=True, impl=index_fill, samples=_index_fill_samples)(_index_fill_kernel)


# ======================================================================================
# masks
# ======================================================================================
def _mask_dtype(op, mask, what):
    if mask.dtype != jnp.bool_:
        raise DTypeError(f"{op} only supports boolean masks, but got mask with dtype "
                         f"{_dtype.from_np(mask.dtype).name}" if what is None else what)


@register("masked_fill", nin=3, inplace=True, samples=lambda: [
    Sample(A(3, 4), B(3, 4), 1.5), Sample(A(3, 4), B(4), -2.0), Sample(A(3, 4), B(2, 1, 4), A()),
    Sample(I(3, 4), B(3, 4), 7), Sample(I(3), B(3), 1.5), Sample(A(0, 2), B(2), 1.0),
    Sample(A(3, dtype="float64"), B(3), A()), Sample(A(3), I(3, low=0, high=2), 1.0),
    Sample(A(3), B(3), A(1)), Sample(A(), B(), 3.0)])
def masked_fill(input, mask, value):
    """``input`` with ``value`` (a scalar or a 0-d tensor) where the bool ``mask`` is True;
    ``mask`` broadcasts with ``input``."""
    _mask_dtype("masked_fill_", mask, None)
    if not isinstance(value, _SCALARS) and value.ndim != 0:
        raise ShapeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                         f"{value.ndim} dimension(s).")
    broadcast_check("masked_fill", input, mask)
    return jnp.where(mask, _as_value(value, input.dtype), input)


def _masked_select_kernel(input, flat, shape):
    return jnp.broadcast_to(input, shape).reshape(-1)[flat]


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-D tensor (``mask`` and
    ``input`` broadcast). The positions are found eagerly; the gather is one jitted call."""
    shape = broadcast_check("masked_select", input, mask)
    m = _concrete(mask, "masked_select")
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_select: expected BoolTensor for mask (got {_tname(m.dtype)})")
    flat = np.flatnonzero(np.broadcast_to(m, shape))
    return dispatch(_OPS["masked_select"], (input, flat), (shape,), {})


register("masked_select", nin=2, impl=masked_select, samples=lambda: [
    Sample(A(3, 4), B(3, 4)), Sample(A(3, 4), B(4)), Sample(A(4), B(3, 1)),
    Sample(I(3, 4), B(3, 4)), Sample(A(0, 3), B(3)), Sample(A(), B()),
    Sample(A(3, dtype="float64"), B(3)), Sample(A(3), I(3, low=0, high=2))])(_masked_select_kernel)


@register("masked_scatter", nin=3, inplace=True, samples=lambda: [
    Sample(A(3, 4), B(3, 4), A(12)), Sample(A(3, 4), B(4), A(4, 5)), Sample(I(5), B(5), I(6)),
    Sample(A(2, 3, dtype="float64"), B(2, 3), A(2, 3, dtype="float64"))])
def masked_scatter(input, mask, source):
    """``input`` with the True positions of ``mask`` filled, in order, by the leading elements
    of ``source`` (which needs at least as many elements as ``mask`` has True values)."""
    _mask_dtype("masked_scatter_", mask, "masked_scatter_: expected BoolTensor for mask")
    if source.dtype != input.dtype:
        raise DTypeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                         f"{_tname(input.dtype)} and {_tname(source.dtype)}")
    shape = broadcast_check("masked_scatter", input, mask)
    m = jnp.broadcast_to(mask, shape).reshape(-1)
    flat = source.reshape(-1)
    if flat.shape[0] == 0:
        flat = jnp.zeros(1, source.dtype)
    pos = jnp.clip(jnp.cumsum(m) - 1, 0, flat.shape[0] - 1)
    return jnp.where(m, flat[pos], jnp.broadcast_to(input, shape).reshape(-1)).reshape(shape)


# ======================================================================================
# take / take_along_dim / put
# ======================================================================================
def _take_kernel(input, index):
    if np.dtype(index.dtype).name != "int64":
        raise DTypeError(f"take(): Expected a long tensor for index, but got {_tname(index.dtype)}")
    flat = input.reshape(-1)
    return flat[jnp.where(index < 0, index + flat.shape[0], index)]


def _flat_range(op, input, index):
    if isinstance(index, Tensor):
        n = int(np.prod(input.shape, dtype=np.int64))
        bad = _out_of_range(index, n, True)
        if bad is not None:
            raise OpIndexError(f"{op}: out of range: tried to access index {bad} on a tensor of {n} "
                               "elements.")


def take(input, index):
    """The elements of ``input`` seen as 1-D at ``index`` (int64, negatives from the end); the
    result has ``index``'s shape."""
    _flat_range("take", input, index)
    return dispatch(_OPS["take"], (input, index), (), {})


register("take", nin=2, impl=take, samples=lambda: [
    Sample(A(3, 4), I(5, low=-12, high=12)), Sample(A(5), I(2, 3, low=0, high=5)),
    Sample(I(2, 3), I(4, low=0, high=6)), Sample(A(3), np.array(1)),
    Sample(A(3), I(2, low=0, high=3, dtype="int32")), Sample(A(3), np.array([3]))])(_take_kernel)


@register("take_along_dim", nin=2, samples=lambda: [
    Sample(A(3, 4), I(3, 2, low=0, high=4), 1), Sample(A(3, 4), I(5, low=0, high=12)),
    Sample(A(3, 4), I(1, 2, low=0, high=4), 1), Sample(A(3, 1), I(3, 5, low=0, high=3), 0),
    Sample(A(3, 4), I(3, 2, low=0, high=4, dtype="int32"), 1)])
def take_along_dim(input, indices, dim=None):
    """``input`` indexed along ``dim`` by ``indices`` (int64); the other dims broadcast.
    With ``dim=None`` both are flattened first."""
    if np.dtype(indices.dtype).name != "int64":
        raise DTypeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                         f"{_tname(indices.dtype)}")
    if dim is None:
        return jnp.take_along_axis(input.reshape(-1), indices.reshape(-1), axis=0)
    d = norm_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise ShapeError(f"torch.take_along_dim(): input and indices should have the same number of "
                         f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
                         "dimensions for indices")
    a = list(input.shape)
    b = list(indices.shape)
    a[d] = b[d] = 1
    common = list(broadcast_shape("take_along_dim", tuple(a), tuple(b)))
    xs = jnp.broadcast_to(input, tuple(common[:d] + [input.shape[d]] + common[d + 1:]))
    ix = jnp.broadcast_to(indices, tuple(common[:d] + [indices.shape[d]] + common[d + 1:]))
    return jnp.take_along_axis(xs, ix, axis=d)


def _put_kernel(input, index, source, accumulate=False):
    if np.dtype(index.dtype).name != "int64":
        raise DTypeError(f"put_(): Expected a long tensor for index, but got {_tname(index.dtype)}")
    if source.dtype != input.dtype:
        raise DTypeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                         f"{_tname(input.dtype)} and source.dtype = {_tname(source.dtype)}")
    if source.size != index.size:
        raise OpIndexError(f"put_(): Expected source and index to have the same number of elements, but "
                           f"got source.numel() = {source.size}, index.numel() = {index.size}")
    flat = input.reshape(-1)
    ix = index.reshape(-1)
    ix = jnp.where(ix < 0, ix + flat.shape[0], ix)
    src = source.reshape(-1)
    out = flat.at[ix].add(src) if accumulate else flat.at[ix].set(src)
    return out.reshape(input.shape)


def put(input, index, source, accumulate=False):
    """``input`` seen as 1-D with ``source`` written (or added, ``accumulate=True``) at ``index``."""
    _flat_range("put_", input, index)
    return dispatch(_OPS["put"], (input, index, source), (), {"accumulate": bool(accumulate)})


register("put", nin=3, inplace=True, impl=put, samples=lambda: [
    Sample(A(3, 4), np.array([0, 5, -1]), A(3)), Sample(A(5), np.array([0, 0, 3]), A(3), True),
    Sample(I(2, 3), np.array([[1, 2]]), I(1, 2)), Sample(A(3), np.array([3]), A(1)),
    Sample(A(3), np.array([1]), A(2)), Sample(A(3), np.array([1]), A(1, dtype="float64"))])(_put_kernel)


# ======================================================================================
# nonzero / argwhere / unique (data-dependent shapes: eager)
# ======================================================================================
@register("nonzero", jit=False, differentiable=False, samples=lambda: [
    Sample(B(3, 4)), Sample(I(5, low=-1, high=2)), Sample(A(2, 3, 2)), Sample(np.array(3.0)),
    Sample(np.array(0)), Sample(B(0, 3)), Sample(B(3, 4), as_tuple=True), Sample(np.array(2), as_tuple=True),
    Sample(I(4, low=0, high=2), as_tuple=True)])
def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: an ``(n, ndim)`` int64 tensor, or with ``as_tuple``
    one 1-D tensor per dim (a 0-d input counts as 1-D there)."""
    h = _concrete(input, "nonzero()")
    if as_tuple:
        return tuple(jnp.asarray(a, jnp.int64) for a in np.nonzero(np.atleast_1d(h)))
    idx = np.stack(np.nonzero(h), axis=1) if h.ndim else np.zeros((int(h != 0), 0), np.int64)
    return jnp.asarray(idx, jnp.int64)


@register("argwhere", jit=False, differentiable=False, samples=lambda: [
    Sample(B(3, 4)), Sample(A(5)), Sample(np.array(1))])
def argwhere(input):
    """The indices of the non-zero elements as an ``(n, ndim)`` int64 tensor (like nonzero)."""
    return nonzero(input)


def _unique_samples():
    return [Sample(I(10, low=0, high=4), grad=False),
            Sample(I(3, 4, low=0, high=3), return_inverse=True, return_counts=True, grad=False),
            Sample(np.array([1.5, -1.0, 1.5, 2.0], dtype="float32"), return_counts=True, grad=False),
            Sample(np.array([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True, grad=False),
            Sample(B(6), grad=False), Sample(I(0), return_inverse=True, grad=False)]


@register("unique", jit=False, differentiable=False, samples=_unique_samples)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values of ``input`` (sorted), optionally with the inverse mapping (int64,
    ``input``'s shape, or its size along ``dim``) and the counts (int64). With ``dim``, distinct
    slices along that dim."""
    h = _concrete(input, "unique()")
    if dim is None:
        vals, inv, cnt = np.unique(h.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(h.shape)
    else:
        d = norm_dim(dim, h.ndim, "unique")
        vals, inv, cnt = np.unique(h, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = [jnp.asarray(vals, input.dtype)]
    if return_inverse:
        out.append(jnp.asarray(inv, jnp.int64))
    if return_counts:
        out.append(jnp.asarray(cnt, jnp.int64))
    return out[0] if len(out) == 1 else tuple(out)


# ======================================================================================
# sort / argsort / msort / topk / searchsorted / bucketize
# ======================================================================================
def _sortable(op, x):
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise DTypeError(f"{op}(): Sort does not support complex dtypes (got {_tname(x.dtype)})")


def _argsort(x, d, descending):
    """Stable argsort along ``d``; NaN counts as largest (last ascending, first descending)."""
    return jnp.argsort(x, axis=d, stable=True, descending=descending).astype(jnp.int64)


def _sort_samples(values=True):
    def samples():
        out = [Sample(A(3, 4)), Sample(A(3, 4), 0), Sample(A(2, 3, 4), 1, True), Sample(A()),
               Sample(A(5, dtype="float64"), descending=True), Sample(A(0, 3)),
               Sample(I(10, low=0, high=3), stable=True),
               Sample(I(2, 8, low=0, high=3), dim=-1, descending=True, stable=True),
               Sample(B(7), stable=True), Sample(np.array([1.0, np.nan, -np.inf, np.nan, 2.0], "float32")),
               Sample(np.array([1.0, np.nan, -np.inf, np.nan, 2.0], "float32"), descending=True),
               Sample(A(3, 4), 2), Sample(np.array([1 + 1j], "complex64"))]
        return out if values else [s for s in out if not s.args or s.args[0].dtype != np.complex64]
    return samples


def _sort_pair(outs):
    return return_types.sort(*outs)


@register("sort", out_wrap=_sort_pair, samples=_sort_samples())
def sort(input, dim=-1, descending=False, *, stable=False):
    """Sort along ``dim``: returns ``(values, indices)`` (``return_types.sort``).

    The order is always stable (ties keep their input order, which torch guarantees for
    ``stable=True``); NaN sorts as the largest value.
    """
    _sortable("sort", input)
    d = norm_dim(dim, input.ndim, "sort")
    x = _as_nd(input)
    idx = _argsort(x, d, descending)
    return jnp.take_along_axis(x, idx, axis=d).reshape(input.shape), idx.reshape(input.shape)


@register("argsort", differentiable=False, samples=_sort_samples())
def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64; stable, NaN largest)."""
    _sortable("argsort", input)
    d = norm_dim(dim, input.ndim, "argsort")
    return _argsort(_as_nd(input), d, descending).reshape(input.shape)


@register("msort", samples=lambda: [Sample(A(4, 3)), Sample(I(5, low=0, high=3)), Sample(A(0, 2))])
def msort(input):
    """``input`` sorted along dim 0 (the values of ``sort(input, dim=0)``)."""
    _sortable("msort", input)
    x = _as_nd(input)
    return jnp.take_along_axis(x, _argsort(x, 0, False), axis=0).reshape(input.shape)


def _distinct_ints(*shape):
    """Integers without ties (torch does not define which tied index topk returns)."""
    n = int(np.prod(shape))
    return np.random.default_rng(3).permutation(np.arange(-n, n, 2)).reshape(shape)


def _topk_pair(outs):
    return return_types.topk(*outs)


@register("topk", out_wrap=_topk_pair, samples=lambda: [
    Sample(A(3, 6), 2), Sample(A(3, 6), 3, 0), Sample(A(2, 3, 5), 2, 1, False),
    Sample(A(8, dtype="float64"), 8, largest=False), Sample(_distinct_ints(3, 7), 3),
    Sample(A(), 1), Sample(A(3, 0), 0), Sample(A(4), 5), Sample(A(4), -1),
    Sample(np.array([1.0, np.nan, 3.0, -1.0], "float32"), 2),
    Sample(np.array([1.0, np.nan, 3.0, -1.0], "float32"), 2, largest=False)])
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices
    (``return_types.topk``), in sorted order. NaN counts as largest; which of tied values'
    indices come back is not specified (as in torch)."""
    _sortable("topk", input)
    d = norm_dim(dim, input.ndim, "topk")
    x = _as_nd(input)
    n = x.shape[d]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 or k > n:
        raise ShapeError(f"topk(): selected index k out of range (k={k}, size {n} at dim {d})")
    xm = jnp.moveaxis(x, d, -1)
    if largest and k > 0:
        keys = xm.astype(jnp.uint8) if xm.dtype == jnp.bool_ else xm
        _, idx = lax.top_k(keys, k)
    else:
        idx = _argsort(xm, -1, False)[..., :k]
    idx = idx.astype(jnp.int64)
    vals = jnp.take_along_axis(xm, idx, axis=-1)
    out_shape = input.shape[:d] + (k,) + input.shape[d + 1:] if input.ndim else ()
    vals = jnp.moveaxis(vals, -1, d).reshape(out_shape)
    return vals, jnp.moveaxis(idx, -1, d).reshape(out_shape)


def _searchsorted_kernel(sorted_sequence, input, sorter=None, *, out_int32=False, side="left"):
    seq = sorted_sequence
    if sorter is not None:
        seq = jnp.take_along_axis(seq, sorter, axis=-1)
    v = jnp.asarray(input)
    if seq.ndim > 1 and (v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]):
        raise ShapeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
    if seq.ndim <= 1:
        out = jnp.searchsorted(seq.reshape(-1), v, side=side)
    else:
        flat_s = seq.reshape(-1, seq.shape[-1])
        flat_v = v.reshape(-1, v.shape[-1])
        out = jax.vmap(lambda s, q: jnp.searchsorted(s, q, side=side))(flat_s, flat_v).reshape(v.shape)
    return out.astype(jnp.int32 if out_int32 else jnp.int64)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where the values ``input`` would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted (``right``/``side='right'``: after equal values).

    Args:
        sorted_sequence: 1-D, or N-D whose first N-1 dims match ``input``'s.
        input: a tensor or a scalar (the result then is 0-d).
        sorter: indices that sort an unsorted ``sorted_sequence``.
    """
    if side is not None:
        if side not in ("left", "right"):
            raise OpValueError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise OpValueError("torch.searchsorted(): side and right can't be set to opposites")
        right = side == "right"
    return dispatch(_OPS["searchsorted"], (sorted_sequence, input, sorter), (),
                    {"out_int32": bool(out_int32), "side": "right" if right else "left"})


def _ss_seq(*shape):
    return np.sort(A(*shape), axis=-1)


register("searchsorted", nin=3, promote="common", promote_args=(0, 1), differentiable=False,
         impl=searchsorted, samples=lambda: [
             Sample(_ss_seq(6), A(3, 4)), Sample(_ss_seq(6), A(5), right=True),
             Sample(_ss_seq(2, 5), A(2, 3)), Sample(np.array([1, 3, 5, 7]), np.array([3, 6, 9, 1])),
             Sample(np.array([1, 3, 5, 7]), 3, side="right"), Sample(_ss_seq(4), A(4), out_int32=True),
             Sample(np.array([3.0, 1.0, 2.0], "float32"), A(4), sorter=np.array([1, 2, 0])),
             Sample(_ss_seq(2, 5), A(3))])(_searchsorted_kernel)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value of ``input``, the index of its bucket in the sorted 1-D ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``)."""
    return dispatch(_OPS["bucketize"], (input, boundaries), (),
                    {"out_int32": bool(out_int32), "right": bool(right)})


def _bucketize_kernel(input, boundaries, *, out_int32=False, right=False):
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                         f"{boundaries.ndim})")
    return _searchsorted_kernel(boundaries, input, out_int32=out_int32, side="right" if right else "left")


register("bucketize", nin=2, promote="common", differentiable=False, impl=bucketize, samples=lambda: [
    Sample(A(3, 4), _ss_seq(5)), Sample(np.array([[3, 6], [9, 1]]), np.array([1, 3, 5, 7]), right=True),
    Sample(np.array([3, 6, 9, 1]), np.array([1, 3, 5, 7])), Sample(A(4), _ss_seq(3), out_int32=True)])(
    _bucketize_kernel)


_OPS = REGISTRY


def install() -> None:
    """Put ``__getitem__`` and ``__setitem__`` on Tensor."""
    Tensor.__getitem__ = _getitem
    Tensor.__setitem__ = _setitem
