"""Shape ops: view/reshape, permute/transpose, squeeze/unsqueeze, expand, cat/stack, split ...

Every op here only moves, copies or selects elements; its gradient is jax.vjp of the forward.
Size arguments take torch's forms: ``x.view(2, 3)``, ``x.view((2, 3))``, ``x.view([2, 3])`` and
``x.view(size=(2, 3))`` are the same call (also for reshape, permute, expand, repeat, tile, flip).
All checks run while JAX traces the op, so they cost nothing on later calls of the same shapes.

Views hold arrays of their own (JAX arrays are immutable), but ``x.view(...)``, ``x.t()``,
``x.narrow(...)``, ``x.diagonal()`` and torch's other view ops remember ``x``: writing into the result
(``y.add_(1)``) writes ``x``, and ``y`` re-reads ``x`` after ``x`` changes in place (``_ops/views.py``).
Values and gradients are what torch gives. Because there are no strides, ``view`` never fails for
"non-contiguous" inputs, where torch asks for ``reshape``.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax.export import is_symbolic_dim

from .. import _dtype
from .._errors import OpIndexError, OpTypeError, OpValueError, ShapeError
from .._tensor import Tensor
from ._helpers import A, B, I, Sample, broadcast_check, norm_dim, norm_dims
from ._registry import REGISTRY, _assign_out, register

_INT = (int, np.integer)


# ----- argument helpers (run at trace time) ---------------------------------------------------
def _sizes(args, op: str, what: str = "size") -> tuple:
    """``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` (after freezing) -> ``(2, 3)``; torch's TypeError else."""
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    for s in args:
        if (isinstance(s, bool) or not isinstance(s, _INT)) and not is_symbolic_dim(s):
            raise OpTypeError(f"{op}(): argument '{what}' must be a tuple of ints, but got "
                              f"{args!r}")
    return tuple(s if is_symbolic_dim(s) else int(s) for s in args)  # dynamic sizes (mt.export) stay


def _pick(args, kw_value, op, what):
    """Varargs sizes, or the keyword form (``dims=...``) when given instead."""
    if kw_value is not None:
        if args:
            raise OpTypeError(f"{op}(): got '{what}' both positionally and as a keyword")
        args = (kw_value,)
    return _sizes(args, op, what)


def _as_tuple(v) -> tuple:
    return v if isinstance(v, tuple) else (v,)


def _infer_shape(shape: tuple, numel: int, op: str) -> tuple:
    """Resolve one ``-1`` in ``shape`` for ``numel`` elements; torch's errors otherwise."""
    if is_symbolic_dim(numel) or any(is_symbolic_dim(s) for s in shape):
        # dynamic sizes (mt.export): -1 is the symbolic quotient (jax.numpy's own inference needs
        # sign facts it cannot prove, e.g. b*t - b >= 0); jax.numpy checks the sizes
        known = 1
        for s in shape:
            if is_symbolic_dim(s) or s != -1:
                known = known * s
        return tuple(numel // known if not is_symbolic_dim(s) and s == -1 else s for s in shape)
    infer, known = -1, 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise ShapeError(f"{op}(): only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise ShapeError(f"{op}(): invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if infer < 0:
        if known != numel:
            raise ShapeError(f"{op}(): shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    if known == 0 and numel == 0:
        raise ShapeError(
            f"{op}(): cannot reshape tensor of 0 elements into shape {list(shape)} because the "
            f"unspecified dimension size -1 can be any value and is ambiguous")
    if known == 0 or numel % known:
        raise ShapeError(f"{op}(): shape '{list(shape)}' is invalid for input of size {numel}")
    return shape[:infer] + (numel // known,) + shape[infer + 1:]


def _expand_shape(shape: tuple, sizes: tuple, op: str) -> tuple:
    """The shape ``expand(*sizes)`` gives a tensor of ``shape`` (-1 keeps a size)."""
    nd, n = len(shape), len(sizes)
    if n < nd:
        raise ShapeError(
            f"{op}(): the number of sizes provided ({n}) must be greater or equal to the number of "
            f"dimensions in the tensor ({nd}) (tensor sizes {list(shape)}, size={list(sizes)})")
    lead = n - nd
    out = []
    for i, s in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if old is None and s == -1:
            raise ShapeError(f"{op}(): The expanded size of the tensor (-1) isn't allowed in a "
                             f"leading, non-existing dimension {i}")
        if s == -1:
            s = old
        elif old not in (None, 1, s):
            raise ShapeError(
                f"{op}(): The expanded size of the tensor ({s}) must match the existing size ({old}) "
                f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
        if s < 0:
            raise ShapeError(f"{op}(): Trying to create tensor with negative dimension {s}: "
                             f"{list(sizes)}")
        out.append(s)
    return tuple(out)


def _slices(x, sizes, d) -> tuple:
    """Consecutive pieces of ``x`` along ``d`` with the given sizes."""
    out, start = [], 0
    for s in sizes:
        out.append(jax.lax.slice_in_dim(x, start, start + s, axis=d))
        start += s
    return tuple(out)


def _torch_type_name(dt) -> str:
    name = _dtype.from_np(dt).name
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
            "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(name, name)


def _call(name):
    """The dispatching callable of op ``name`` (set when the table is installed)."""
    return REGISTRY[name].call


# ----- view / reshape family ---------------------------------------------------------------------
def _view_samples():
    return [Sample(A(2, 3, 4), (4, -1, 2)), Sample(A(), (1, 1)), Sample(A(1), ()),
            Sample(A(0, 3), (3, 0)), Sample(I(2, 6), (12,)), Sample(A(4, dtype="float64"), (2, 2)),
            Sample(A(2, 6), (5, -1)), Sample(A(2, 6), (-1, -1)), Sample(A(0, 3), (-1, 0)),
            Sample(A(2, 6), (-2, 6))]


def _view_kernel(input, *shape, size=None):
    """Return the same data with shape ``shape`` (one entry may be -1, inferred).

    Args:
        shape: ints, or one tuple/list of ints (``x.view(2, 3)`` or ``x.view((2, 3))``).
    Raises:
        RuntimeError: ``shape '[..]' is invalid for input of size N`` when the sizes do not fit.

    The result holds its own array but is a view of ``input``, as in torch (writes reach ``input``),
    and it never requires contiguity. ``x.view(dtype)`` reinterprets the bytes as another dtype
    (the last dim scales by the ratio of element sizes); as in torch, that result is outside
    autograd.
    """
    shape = _infer_shape(_pick(shape, size, "view", "size"), input.size, "view")
    return input.reshape(shape)


def _view_impl(self, *shape, size=None, dtype=None):
    if dtype is None and len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        dtype, shape = shape[0], ()
    if dtype is not None:
        if shape or size is not None:
            raise OpTypeError("view(): takes either a dtype or a size, not both")
        return _call("_view_dtype")(self, _dtype.as_dtype(dtype))
    return _call("view")(self, *shape, size=size) if size is not None else _call("view")(self, *shape)


_view_impl.__doc__ = _view_kernel.__doc__
register("view", function=False, grad_name="ViewBackward0", impl=_view_impl,
         samples=lambda: _view_samples() + [
             Sample(A(2, 4), _dtype.int32, grad=False), Sample(A(2, 4), _dtype.float64, grad=False),
             Sample(A(2, 4), _dtype.int16, grad=False), Sample(A(3), _dtype.float64, grad=False),
             Sample(B(2, 4), _dtype.uint8), Sample((A(2, 2) + 1j * A(2, 2)).astype("complex64"),
                                                   _dtype.float32, grad=False)])(_view_kernel)


def _to_bytes(x):
    """The bytes of ``x``: shape ``x.shape + (itemsize,)`` (uint8)."""
    if x.dtype == jnp.bool_:
        return x.astype(jnp.uint8)[..., None]
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        x = jnp.stack([x.real, x.imag], -1)
        b = _to_bytes(x)
        return b.reshape(b.shape[:-2] + (b.shape[-2] * b.shape[-1],))
    b = jax.lax.bitcast_convert_type(x, jnp.uint8)
    return b if x.dtype.itemsize > 1 else b[..., None]


def _from_bytes(b, dt):
    """Inverse of :func:`_to_bytes`: ``b`` has shape ``shape + (dt.itemsize,)``."""
    if dt == jnp.bool_:
        return b[..., 0] != 0
    if jnp.issubdtype(dt, jnp.complexfloating):
        part = jnp.dtype(jnp.float32 if dt == jnp.complex64 else jnp.float64)
        pair = _from_bytes(b.reshape(b.shape[:-1] + (2, part.itemsize)), part)
        return jax.lax.complex(pair[..., 0], pair[..., 1])
    if dt.itemsize == 1:
        return jax.lax.bitcast_convert_type(b[..., 0], dt)
    return jax.lax.bitcast_convert_type(b, dt)


@register("_view_dtype", method=False, function=False, differentiable=False)
def _view_dtype(input, dtype):
    """Reinterpret the bytes of ``input`` as ``dtype`` (the last dim scales by the size ratio)."""
    src, dst = input.dtype, dtype.np
    if src == dst:
        return input
    a, b = src.itemsize, dst.itemsize
    names = f"{_torch_type_name(src)} as {_torch_type_name(dst)}"
    if a != b:
        if input.ndim == 0:
            raise ShapeError(f"view(): self.dim() cannot be 0 to view {names} (different element "
                             f"sizes)")
        if b > a and input.shape[-1] % (b // a):
            raise ShapeError(f"view(): self.size(-1) must be divisible by {b // a} to view {names} "
                             f"(different element sizes), but got {input.shape[-1]}")
        shape = input.shape[:-1] + (input.shape[-1] * a // b,)
    else:
        shape = input.shape
    return _from_bytes(_to_bytes(input).reshape(shape + (b,)), dst)


@register("view_as", function=False, grad_name="ViewBackward0",
          impl=lambda self, other: _call("view_as")(self, tuple(other.shape)),
          samples=lambda: [Sample(A(2, 6), A(3, 4)), Sample(A(2, 3), A(6)), Sample(A(2, 6), A(5))])
def view_as(input, shape):
    """``self.view(other.size())``: the data of ``self`` in the shape of ``other``."""
    return input.reshape(_infer_shape(shape, input.size, "view_as"))


@register("reshape", grad_name="ViewBackward0", samples=_view_samples)
def reshape(input, *shape_, shape=None):
    """The data of ``input`` with shape ``shape`` (one entry may be -1).

    Args:
        shape: a tuple of ints (``torch.reshape(x, (2, 3))``), or ints as in ``x.reshape(2, 3)``.
    Raises:
        RuntimeError: ``shape '[..]' is invalid for input of size N``.
    """
    return input.reshape(_infer_shape(_pick(shape_, shape, "reshape", "shape"), input.size,
                                      "reshape"))


@register("reshape_as", function=False, grad_name="ViewBackward0",
          impl=lambda self, other: _call("reshape_as")(self, tuple(other.shape)),
          samples=lambda: [Sample(A(2, 6), A(3, 4)), Sample(I(4), A(2, 2)), Sample(A(2, 6), A(5))])
def reshape_as(input, shape):
    """``self.reshape(other.shape)``."""
    return input.reshape(_infer_shape(shape, input.size, "reshape_as"))


@register("flatten", grad_name="ViewBackward0",
          samples=lambda: [Sample(A(2, 3, 4)), Sample(A(2, 3, 4, 5), 1, 2), Sample(A(), 0, -1),
                           Sample(A(2, 0, 3), 1), Sample(I(2, 3)), Sample(A(2, 3), 1, 0),
                           Sample(A(2, 3), 0, 2)])
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` (inclusive) into one; a 0-d input becomes 1-D.

    Args:
        start_dim: the first dim to flatten (default 0).
        end_dim: the last dim to flatten (default -1).
    """
    nd = input.ndim
    s, e = norm_dim(start_dim, nd, "flatten"), norm_dim(end_dim, nd, "flatten")
    if s > e:
        raise ShapeError("flatten(): flatten() has invalid args: start_dim cannot come after end_dim")
    if nd == 0:
        return input.reshape(1)
    shape = input.shape
    n = 1
    for d in shape[s:e + 1]:  # a Python product: a dynamic size (mt.export) stays symbolic
        n = n * d
    return input.reshape(shape[:s] + (n,) + shape[e + 1:])


@register("ravel", grad_name="ViewBackward0",
          samples=lambda: [Sample(A(2, 3)), Sample(A()), Sample(I(2, 0))])
def ravel(input):
    """The elements of ``input`` as a 1-D tensor."""
    return input.reshape(-1)


@register("unflatten", grad_name="ViewBackward0",
          samples=lambda: [Sample(A(2, 6), 1, (2, 3)), Sample(A(2, 6), -1, (3, -1)),
                           Sample(A(6), 0, (1, 6, 1)), Sample(A(2, 6), 1, (4, 2)),
                           Sample(A(2, 6), 1, ()), Sample(A(0, 3), 0, (2, 0))])
def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1).

    Args:
        dim: the dim to expand.
        sizes: the new sizes; their product must equal ``input.size(dim)``.
    """
    sizes = _sizes((sizes,), "unflatten", "sizes")
    if input.ndim == 0:
        raise ShapeError("unflatten(): Dimension specified as 0 but tensor has no dimensions")
    d = norm_dim(dim, input.ndim, "unflatten")
    if not sizes:
        raise ShapeError("unflatten(): sizes must be non-empty")
    n = input.shape[d]
    if -1 not in sizes and math.prod(sizes) != n:  # (math.prod: a size may be symbolic, in an export)
        raise ShapeError(f"unflatten(): Provided sizes {list(sizes)} don't multiply up to the size "
                         f"of dim {dim} ({n}) in the input tensor")
    sizes = _infer_shape(sizes, n, "unflatten")
    return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])


# ----- dim reordering --------------------------------------------------------------------------
@register("permute",
          samples=lambda: [Sample(A(2, 3, 4), (2, -3, 1)), Sample(A(), ()),
                           Sample(I(2, 3, 4), (1, 2, 0)), Sample(A(2, 3), (0,)),
                           Sample(A(2, 3), (0, 0)), Sample(A(2, 3), (0, 2))])
def permute(input, *dims_, dims=None):
    """Reorder the dims of ``input``: output dim ``i`` is input dim ``dims[i]``.

    Args:
        dims: a permutation of ``range(input.dim())`` (negative dims allowed); ints or one tuple.
    """
    dims = _pick(dims_, dims, "permute", "dims")
    nd = input.ndim
    if len(dims) != nd:
        raise ShapeError(
            f"permute(): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = "
            f"{len(dims)}")
    axes = tuple(norm_dim(d, nd, "permute") for d in dims)
    if len(set(axes)) != nd:
        raise ShapeError("permute(): duplicate dims are not allowed.")
    return jnp.transpose(input, axes) if nd else input


@register("transpose", aliases=("swapaxes", "swapdims"), inplace="resize",
          samples=lambda: [Sample(A(2, 3, 4), -1, 0), Sample(A(2, 3), 1, 1), Sample(A(), 0, -1),
                           Sample(I(2, 3), 0, 1), Sample(A(2, 3), 0, 2)])
def transpose(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` (aliases: ``swapaxes``, ``swapdims``)."""
    nd = input.ndim
    a, b = norm_dim(dim0, nd, "transpose"), norm_dim(dim1, nd, "transpose")
    return jnp.swapaxes(input, a, b) if nd and a != b else input


@register("t", grad_name="TBackward0", inplace="resize",
          samples=lambda: [Sample(A(2, 3)), Sample(A(3)), Sample(A()), Sample(I(2, 3)),
                           Sample(A(2, 3, 4))])
def t(input):
    """Transpose a matrix; 0-d and 1-D inputs come back unchanged; more dims raise RuntimeError."""
    if input.ndim > 2:
        raise ShapeError(f"t(): t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input.T


def _adjoint_check(input, what):
    if input.ndim < 2:
        raise ShapeError(f"{what} is only supported on matrices or batches of matrices. Got "
                         f"{input.ndim}-D tensor.")


@register("adjoint", grad_name="TransposeBackward0",
          samples=lambda: [Sample(A(4, 2, 3)), Sample(A(3)),
                           Sample((A(2, 3) + 1j * A(2, 3)).astype("complex64")), Sample(I(2, 3))])
def adjoint(input):
    """The conjugate transpose of the last two dims (needs at least 2 dims)."""
    _adjoint_check(input, "adjoint(): tensor.adjoint()")
    return jnp.conj(jnp.swapaxes(input, -1, -2)) if jnp.iscomplexobj(input) else \
        jnp.swapaxes(input, -1, -2)


@register("movedim", aliases=("moveaxis",), grad_name="PermuteBackward0",
          samples=lambda: [Sample(A(2, 3, 4), (0, 1), (2, 0)), Sample(A(), 0, 0), Sample(I(2, 3), 1, 0),
                           Sample(A(2, 3), (0, 0), (0, 1)),
                           Sample(A(2, 3), (0, 1), (1,)), Sample(A(2, 3), 2, 0)])
def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or equal-length tuples), keeping
    the order of the other dims (alias: ``moveaxis``)."""
    src, dst = _as_tuple(source), _as_tuple(destination)
    if len(src) != len(dst):
        raise ShapeError(
            f"movedim(): Invalid source or destination dims: source ({list(src)} dims) should contain "
            f"the same number of dims as destination ({list(dst)} dims)")
    nd = input.ndim
    s = tuple(norm_dim(d, nd, "movedim") for d in src)
    e = tuple(norm_dim(d, nd, "movedim") for d in dst)
    if len(set(s)) != len(s):
        raise ShapeError(f"movedim(): repeated dim in `source` ({list(src)})")
    if len(set(e)) != len(e):
        raise ShapeError(f"movedim(): repeated dim in `destination` ({list(dst)})")
    return jnp.moveaxis(input, s, e) if nd else input


# ----- adding and removing size-1 dims ----------------------------------------------------------
@register("squeeze", inplace="resize",
          samples=lambda: [Sample(A(2, 1, 3, 1)), Sample(A(2, 1, 3), 0), Sample(A(1, 2, 1), (-1, 1)),
                           Sample(A(), 0), Sample(I(1, 3)), Sample(A(2, 1), 2),
                           Sample(A(1, 1), (0, 0))])
def squeeze(input, dim=None):
    """Remove size-1 dims: all of them, or those among ``dim`` (an int or a tuple of ints).

    A listed dim whose size is not 1 is left as it is, as in torch.
    """
    shape = input.shape
    if dim is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = tuple(a for a in norm_dims(dim, input.ndim, "squeeze") if shape[a] == 1)
    return jnp.squeeze(input, axes) if axes else input


@register("unsqueeze", inplace="resize",
          samples=lambda: [Sample(A(2, 3), -1), Sample(A(2, 3), 2), Sample(A(), 0),
                           Sample(I(3), 1), Sample(A(2, 3), 3), Sample(A(2, 3), -4)])
def unsqueeze(input, dim):
    """Insert a size-1 dim at position ``dim`` (in ``[-input.dim()-1, input.dim()]``)."""
    return jnp.expand_dims(input, norm_dim(dim, input.ndim + 1, "unsqueeze"))


# ----- broadcasting ------------------------------------------------------------------------------
def _expand_samples():
    return [Sample(A(3, 1), (2, -1, 4)), Sample(A(), (2, 3)), Sample(A(1, 3), (0, 3)),
            Sample(I(2, 1), (2, 5)),
            Sample(A(2, 3), (2, 4)), Sample(A(2, 3), (3,)), Sample(A(2, 3), (-1, 2, 3))]


@register("expand", function=False, samples=_expand_samples)
def expand(input, *sizes, size=None):
    """Broadcast ``input`` to ``sizes``: -1 keeps a dim, new dims may be added in front.

    Args:
        sizes: ints or one tuple of ints; size-1 dims may grow, others must match.
    Raises:
        RuntimeError: torch's "The expanded size of the tensor (..) must match ..." message.
    """
    return jnp.broadcast_to(input, _expand_shape(input.shape, _pick(sizes, size, "expand", "size"),
                                                 "expand"))


@register("expand_as", function=False, grad_name="ExpandBackward0",
          impl=lambda self, other: _call("expand_as")(self, tuple(other.shape)),
          samples=lambda: [Sample(A(3, 1), A(2, 3, 4)), Sample(A(), A(2)), Sample(A(2, 3), A(2, 4))])
def expand_as(input, shape):
    """``self.expand(other.size())``."""
    return jnp.broadcast_to(input, _expand_shape(input.shape, shape, "expand_as"))


@register("broadcast_to", grad_name="ExpandBackward0", samples=_expand_samples)
def broadcast_to(input, size):
    """Broadcast ``input`` to shape ``size`` (as :meth:`Tensor.expand`)."""
    return jnp.broadcast_to(input, _expand_shape(input.shape, _sizes((size,), "broadcast_to"),
                                                 "broadcast_to"))


def _broadcast_tensors_impl(*tensors):
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise OpTypeError(f"broadcast_tensors(): expected Tensor as element {i} in argument 0, "
                              f"but got {type(t_).__name__}")
    return _call("broadcast_tensors")(*tensors)


@register("broadcast_tensors", nin=-1, method=False, impl=_broadcast_tensors_impl,
          samples=lambda: [Sample(A(2, 3), A(3), A()),
                           Sample(I(2, 1), A(3)), Sample(A(2, 3), A(4)), Sample(A(0, 1), A(3))])
def broadcast_tensors(*tensors):
    """Broadcast all ``tensors`` to their common shape; returns a tuple (dtypes unchanged)."""
    shape = broadcast_check("broadcast_tensors", *tensors)
    return tuple(jnp.broadcast_to(x, shape) for x in tensors)


def _repeat_shape(shape, sizes, op):
    if any(s < 0 for s in sizes):
        padded = (1,) * (len(sizes) - len(shape)) + tuple(shape)
        out = [p * s for p, s in zip(padded, sizes)]
        neg = next(v for v in out if v < 0)
        raise ShapeError(f"{op}(): Trying to create tensor with negative dimension {neg}: {out}")


@register("repeat", function=False,
          samples=lambda: [Sample(A(2, 3), (1, 2, 2)), Sample(A(), (3,)),
                           Sample(I(3), (0, 2)), Sample(A(2, 3), (2,)), Sample(A(2, 3), (2, -1))])
def repeat(input, *sizes, repeats=None):
    """Tile ``input`` ``sizes[i]`` times along each dim (more sizes than dims add leading dims).

    Args:
        sizes: ints or one tuple; at least ``input.dim()`` of them.
    """
    if not sizes and repeats is None:
        raise OpTypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _pick(sizes, repeats, "repeat", "repeats")
    if len(sizes) < input.ndim:
        raise ShapeError("repeat(): Number of dimensions of repeat dims can not be smaller than "
                         "number of dimensions of tensor")
    _repeat_shape(input.shape, sizes, "repeat")
    return jnp.tile(input, sizes)


@register("tile", grad_name="RepeatBackward0",
          samples=lambda: [Sample(A(2, 3), (2, 1, 3)), Sample(A(), ()),
                           Sample(I(3), (2,)), Sample(A(2, 3), (-1,))])
def tile(input, *dims_, dims=None):
    """Like :meth:`Tensor.repeat`, but fewer ``dims`` than input dims are padded with 1s in front."""
    dims = _pick(dims_, dims, "tile", "dims")
    dims = (1,) * (input.ndim - len(dims)) + dims
    _repeat_shape(input.shape, dims, "tile")
    return jnp.tile(input, dims)


# ----- joining ---------------------------------------------------------------------------------
def _tensor_list(tensors, op: str) -> list:
    if not isinstance(tensors, (list, tuple)):
        raise OpTypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                          f"{type(tensors).__name__}")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise OpTypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got "
                              f"{type(t_).__name__}")
    return list(tensors)


def _join_impl(name, empty_error, doc, with_dim=True):
    """The public callable of a join op (``cat``, ``stack`` ...): a list of tensors, an optional ``dim``
    (``with_dim``) and ``out=``, with torch's error for an empty list."""
    def join(tensors, dim=None, out=None):
        tensors = _tensor_list(tensors, name)
        if not tensors:
            raise empty_error
        call = _call(name)
        res = call(tensors) if dim is None else call(tensors, dim=dim)
        if out is not None:
            _assign_out(REGISTRY[name], out, res)
            return out
        return res

    if with_dim:
        def impl(tensors, dim=None, *, out=None):
            return join(tensors, dim, out)
    else:
        def impl(tensors, *, out=None):
            return join(tensors, None, out)
    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = doc
    return impl


def _concat(xs, dim, op):
    """Concatenate arrays along ``dim`` with torch's checks (1-D empty tensors are skipped)."""
    for i, x in enumerate(xs):
        if x.ndim == 0:
            raise ShapeError(f"{op}(): zero-dimensional tensor (at position {i}) cannot be "
                             f"concatenated")
    keep = [(i, x) for i, x in enumerate(xs) if x.shape != (0,)]
    if not keep:
        norm_dim(dim, 1, op)
        return jnp.concatenate(xs, 0)
    ref = keep[0][1]
    d = norm_dim(dim, ref.ndim, op)
    for i, x in keep[1:]:
        if x.ndim != ref.ndim:
            raise ShapeError(f"{op}(): Tensors must have same number of dimensions: got {ref.ndim} "
                             f"and {x.ndim}")
        for a in range(ref.ndim):
            if a != d and x.shape[a] != ref.shape[a]:
                raise ShapeError(
                    f"{op}(): Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[a]} but got size {x.shape[a]} for tensor number {i} in the list.")
    arrays = [x for _, x in keep]
    return jnp.concatenate(arrays, d) if len(arrays) > 1 else arrays[0]


def _cat_samples():
    return [Sample([A(2, 3), A(2, 1)], 1), Sample([A(2, 3)], -1),
            Sample([A(2, 3), I(2, 3)], 0), Sample([I(2), I(3, dtype="int32")]),
            Sample([A(2, dtype="float64"), A(3)]), Sample([B(2), I(2, dtype="int8")]),
            Sample([A(0), A(2, 3), A(1, 3)]), Sample([A(0), A(0)]), Sample([A(2, 3), A(2, 4)]),
            Sample([A(2, 3), A(3)]), Sample([A(), A()]), Sample([A(2, 3), A(2, 3)], 2),
            Sample([A(2, 0), A(2, 3)], 1)]


_CAT_DOC = """Concatenate ``tensors`` along an existing dim (aliases: ``concat``, ``concatenate``).

    Args:
        tensors: a non-empty list/tuple of tensors with equal sizes except in ``dim``; dtypes are
            promoted to their common type. 1-D empty tensors are skipped, as in torch.
        dim: the dim to join along (default 0).
        out: optional tensor to write the result into.
    """


@register("cat", seq=True, method=False, promote="common", aliases=("concat", "concatenate"),
          impl=_join_impl("cat", OpValueError("cat(): expected a non-empty list of Tensors"),
                          _CAT_DOC), samples=_cat_samples)
def cat(*tensors, dim=0):
    """Kernel of :func:`cat` on arrays (the public ``mt.cat`` checks the list first)."""
    return _concat(tensors, dim, "cat")


_STACK_DOC = """Join equal-shaped ``tensors`` along a new dim ``dim`` (dtypes promoted).

    Args:
        tensors: a non-empty list/tuple of tensors of one shape.
        dim: position of the new dim, in ``[-ndim-1, ndim]`` (default 0).
        out: optional tensor to write the result into.
    """


@register("stack", seq=True, method=False, promote="common",
          impl=_join_impl("stack", ShapeError("stack(): stack expects a non-empty TensorList"),
                          _STACK_DOC),
          samples=lambda: [Sample([A(2, 3), A(2, 3), A(2, 3)], -1),
                           Sample([A(), A()]), Sample([I(2), A(2)], 1), Sample([A(0, 2)]),
                           Sample([A(2, 3), A(2, 4)]), Sample([A(2), A(2)], 2)])
def stack(*tensors, dim=0):
    """Kernel of :func:`stack` on arrays (the public ``mt.stack`` checks the list first)."""
    ref = tensors[0]
    d = norm_dim(dim, ref.ndim + 1, "stack")
    for i, x in enumerate(tensors[1:], 1):
        if x.shape != ref.shape:
            raise ShapeError(f"stack(): stack expects each tensor to be equal size, but got "
                             f"{list(ref.shape)} at entry 0 and {list(x.shape)} at entry {i}")
    return jnp.stack(tensors, d)


def _at_least(x, n):
    if x.ndim >= n:
        return x
    if n == 3 and x.ndim == 2:
        return x[:, :, None]
    if n == 3 and x.ndim == 1:
        return x[None, :, None]
    return x.reshape((1,) * (n - x.ndim) + x.shape)


def _stack_samples():
    return [Sample([A(3), A(2)]), Sample([A(2, 3), A(2, 1)]), Sample([A(), I()]),
            Sample([A(1, 2, 3), A(1, 2, 3)]), Sample([A(2, 3), A(3, 3)])]


def _register_nstack(name, n, dim_of, doc):
    def kernel(*tensors):
        xs = [_at_least(x, n) for x in tensors]
        return _concat(xs, dim_of(xs), name)
    kernel.__name__ = name
    kernel.__doc__ = doc
    register(name, seq=True, method=False, promote="common", grad_name="CatBackward0",
             impl=_join_impl(name, ShapeError(f"{name}(): {name} expects a non-empty TensorList"),
                             doc), samples=_stack_samples)(kernel)
    return kernel


hstack = _register_nstack("hstack", 1, lambda xs: 0 if xs[0].ndim == 1 else 1,
                          "Concatenate horizontally: along dim 0 for 1-D inputs, else dim 1.")
vstack = _register_nstack("vstack", 2, lambda xs: 0,
                          "Concatenate vertically: 1-D inputs become rows, then join along dim 0.")
dstack = _register_nstack("dstack", 3, lambda xs: 2,
                          "Concatenate depth-wise: inputs made at least 3-D, then joined on dim 2.")


def _register_atleast(n):
    name = f"atleast_{n}d"

    def kernel(*tensors):
        out = tuple(_at_least(x, n) for x in tensors)
        return out[0] if len(out) == 1 else out

    def impl(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            res = _call(name)(*_tensor_list(tensors[0], name))
            return res if isinstance(res, tuple) else (res,)
        return _call(name)(*_tensor_list(tensors, name))

    kernel.__name__ = impl.__name__ = name
    impl.__doc__ = kernel.__doc__ = (
        f"View each input with at least {n} dims (size-1 dims added as torch does). One tensor "
        f"gives a tensor; several tensors, or a list, give a tuple.")
    register(name, nin=-1, method=False, impl=impl, grad_name="ViewBackward0",
             samples=lambda: [Sample(A()), Sample(A(3)), Sample(A(2, 3)), Sample(A(3), I(2, 2)),
                              Sample([A(2)])])(kernel)
    return impl


atleast_1d = _register_atleast(1)
atleast_2d = _register_atleast(2)
atleast_3d = _register_atleast(3)


# ----- splitting ---------------------------------------------------------------------------------
def _need_1d(input, op, msg):
    if input.ndim == 0:
        raise ShapeError(f"{op}(): {msg}")


def _static_pieces(n, op: str, d: int) -> None:
    """Refuse to cut a dynamic dimension (a symbolic batch inside ``mt.jit.trace(dynamic_batch=True)``
    or ``mt.export``) into a number of pieces that would depend on its size."""
    if is_symbolic_dim(n):
        raise ShapeError(f"{op}(): dimension {d} has the dynamic size {n}, and the number of pieces would "
                         f"depend on it, which one compiled program cannot have. Cut a static dimension, "
                         f"or slice with sizes computed from x.shape (x[:k], x.narrow({d}, start, length))")


@register("split", grad_name="SplitBackward0",
          samples=lambda: [Sample(A(5, 2), 2), Sample(A(2, 6), [1, 0, 5], -1), Sample(A(0, 2), 0),
                           Sample(A(4), 9), Sample(I(4, 2), 3), Sample(A(), 1),
                           Sample(A(4), 0), Sample(A(4), -1), Sample(A(4), (1, 2)),
                           Sample(A(4), (-1, 5))])
def split(input, split_size_or_sections, dim=0):
    """Split ``input`` along ``dim`` into pieces; returns a tuple.

    Args:
        split_size_or_sections: an int (pieces of that size, the last one possibly smaller) or a
            list of sizes that sum to ``input.size(dim)``.
        dim: the dim to split (default 0).
    """
    _need_1d(input, "split", "split expects at least a 1-dimensional tensor")
    d = norm_dim(dim, input.ndim, "split")
    n = input.shape[d]
    arg = split_size_or_sections
    if isinstance(arg, tuple):
        if any(s < 0 for s in arg):
            raise ShapeError(f"split(): split_with_sizes expects split_sizes have only non-negative "
                             f"entries, but got split_sizes={list(arg)}")
        if sum(arg) != n:
            raise ShapeError(f"split(): split_with_sizes expects split_sizes to sum exactly to {n} "
                             f"(input tensor's size at dimension {d}), but got split_sizes={list(arg)}")
        return _slices(input, arg, d)
    _static_pieces(n, "split", d)
    if arg < 0:
        raise ShapeError(f"split(): split expects split_size be non-negative, but got split_size={arg}")
    if arg == 0 and n != 0:
        raise ShapeError(f"split(): split_size can only be 0 if dimension size is 0, but got "
                         f"dimension size of {n}")
    if n == 0:
        return (input,)
    sizes = (arg,) * (n // arg) + ((n % arg,) if n % arg else ())
    return _slices(input, sizes, d)


@register("chunk", grad_name="SplitBackward0",
          samples=lambda: [Sample(A(5, 2), 3), Sample(A(4), 6), Sample(A(2, 6), 4, 1), Sample(A(0), 2),
                           Sample(A(3), 0), Sample(A(), 1)])
def chunk(input, chunks, dim=0):
    """Split ``input`` into ``chunks`` pieces of ``ceil(size / chunks)`` (maybe fewer pieces)."""
    _need_1d(input, "chunk", "chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise ShapeError(f"chunk(): chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = norm_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    _static_pieces(n, "chunk", d)
    if n == 0:
        return (input,) * chunks
    size = -(-n // chunks)
    return _slices(input, (size,) * (n // size) + ((n % size,) if n % size else ()), d)


@register("tensor_split", grad_name="SliceBackward0",
          samples=lambda: [Sample(A(2, 7), 3, 1), Sample(A(6), (1, 4)),
                           Sample(A(6), [4, 2, 9]), Sample(A(6), [-1]), Sample(A(2), 4),
                           Sample(A(6), 0), Sample(A(), 2), Sample(I(5), 2)])
def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None):
    """Split into ``sections`` near-equal pieces (the first ``size % sections`` one larger), or
    at the positions ``indices`` (like Python slicing: ``[:i0], [i0:i1], ..., [ik:]``).

    Args:
        indices_or_sections: an int (number of pieces) or a list of indices (also a tensor).
        dim: the dim to split (default 0).
    """
    arg = next(a for a in (indices_or_sections, sections, indices, 1) if a is not None)
    if input.ndim == 0:
        raise ShapeError("tensor_split(): tensor_split expected at least a 1-dimensional tensor, "
                         "but got a tensor with 0 dims")
    d = norm_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    if isinstance(arg, tuple):
        bounds = (0, *arg, None)
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            start, stop, _ = slice(a, b).indices(n)
            out.append(jax.lax.slice_in_dim(input, start, max(start, stop), axis=d))
        return tuple(out)
    if arg <= 0:
        raise ShapeError(f"tensor_split(): number of sections must be larger than 0, got {arg}")
    q, r = divmod(n, arg)
    return _slices(input, (q + 1,) * r + (q,) * (arg - r), d)


@register("unbind",
          samples=lambda: [Sample(A(3, 2), 1), Sample(A(2, 0), -1), Sample(A(0, 2)),
                           Sample(I(2, 2)), Sample(A())])
def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple (the dim is removed)."""
    if input.ndim == 0:
        raise OpIndexError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = norm_dim(dim, input.ndim, "unbind")
    return tuple(jax.lax.index_in_dim(input, i, d, keepdims=False) for i in range(input.shape[d]))


@register("narrow", grad_name="SliceBackward0",
          samples=lambda: [Sample(A(4, 3), -1, -2, 2), Sample(A(4, 3), 1, 3, 0),
                           Sample(I(5), 0, 0, 5), Sample(A(4, 3), 1, 2, 2), Sample(A(4, 3), 1, 4, 0),
                           Sample(A(4, 3), 1, 0, -1), Sample(A(), 0, 0, 1)])
def narrow(input, dim, start, length):
    """Elements ``start .. start+length-1`` of dim ``dim`` (``start`` may be negative)."""
    if input.ndim == 0:
        raise ShapeError("narrow(): narrow() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    if not -n <= start <= n:
        raise OpIndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], "
                           f"but got {start})")
    start = start + n if start < 0 else start
    if length < 0:
        raise ShapeError("narrow(): narrow(): length must be non-negative.")
    if start + length > n:
        raise ShapeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return jax.lax.slice_in_dim(input, start, start + length, axis=d)


# ----- flips, rolls, rotations -----------------------------------------------------------------
@register("flip",
          samples=lambda: [Sample(A(2, 3, 4), (0, -1)), Sample(A(2, 3), ()),
                           Sample(A(), (0,)), Sample(I(3), (0,)), Sample(A(2, 3), (0, 0)),
                           Sample(A(2, 3), (2,))])
def flip(input, *dims_, dims=None):
    """Reverse the order of elements along ``dims`` (ints or one tuple)."""
    axes = norm_dims(_pick(dims_, dims, "flip", "dims"), input.ndim, "flip")
    return jnp.flip(input, axes) if axes else input


@register("fliplr", grad_name="FlipBackward0",
          samples=lambda: [Sample(A(2, 3)), Sample(A(2, 3, 4)), Sample(I(2, 2)), Sample(A(3))])
def fliplr(input):
    """Flip dim 1 (left/right); needs at least 2 dims."""
    if input.ndim < 2:
        raise ShapeError("fliplr(): Input must be >= 2-d.")
    return jnp.flip(input, 1)


@register("flipud", grad_name="FlipBackward0",
          samples=lambda: [Sample(A(2, 3)), Sample(A(3)), Sample(I(2, 2)), Sample(A())])
def flipud(input):
    """Flip dim 0 (up/down); needs at least 1 dim."""
    if input.ndim < 1:
        raise ShapeError("flipud(): Input must be >= 1-d.")
    return jnp.flip(input, 0)


@register("roll",
          samples=lambda: [Sample(A(3, 4), 1), Sample(A(3, 4), (1, 2), (0, -1)), Sample(A(3, 4), 5, 0),
                           Sample(A(0, 2), 1), Sample(A(), 1), Sample(I(5), 2),
                           Sample(A(3, 4), (1, 2)), Sample(A(3, 4), (1, 2), (0,)),
                           Sample(A(3, 4), 1, 2)])
def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims``; without dims, along the
    flattened tensor (shape restored)."""
    shifts = _as_tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        if input.size == 0:
            return input
        return jnp.roll(input.reshape(-1), shifts[0]).reshape(input.shape)
    dims = _as_tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                         f"dims:{len(dims)}")
    axes = tuple(norm_dim(d, input.ndim, "roll") for d in dims)
    if input.size == 0 or input.ndim == 0:
        return input
    return jnp.roll(input, shifts, axes)


@register("rot90",
          samples=lambda: [Sample(A(2, 3)), Sample(A(2, 3, 4), -1, (2, 0)), Sample(A(2, 3), 6, (1, 0)),
                           Sample(I(2, 3), 3), Sample(A(3)),
                           Sample(A(2, 3), 1, (0,)), Sample(A(2, 3), 1, (0, -2)),
                           Sample(A(2, 3), 1, (0, 2))])
def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second dim."""
    dims = _as_tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90(): expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ShapeError(f"rot90(): expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = norm_dim(dims[0], input.ndim, "rot90"), norm_dim(dims[1], input.ndim, "rot90")
    if a == b:
        raise ShapeError(f"rot90(): expected rotation dims to be different, but got dim0 = {dims[0]} "
                         f"and dim1 = {dims[1]}")
    return jnp.rot90(input, k, (a, b))


# ----- triangles and diagonals -----------------------------------------------------------------
def _tri_samples():
    return [Sample(A(3, 4), 1), Sample(A(4, 3), -1), Sample(A(2, 3, 3), 0), Sample(I(3, 3)),
            Sample(B(3, 3)), Sample(A(3, 3), 5), Sample(A(0, 2)), Sample(A(3))]


@register("tril", inplace=True, samples=_tri_samples)
def tril(input, diagonal=0):
    """Zero the elements above diagonal ``diagonal`` of the last two dims (lower triangle)."""
    if input.ndim < 2:
        raise ShapeError("tril(): tril: input tensor must have at least 2 dimensions")
    return jnp.tril(input, diagonal)


@register("triu", inplace=True, samples=_tri_samples)
def triu(input, diagonal=0):
    """Zero the elements below diagonal ``diagonal`` of the last two dims (upper triangle)."""
    if input.ndim < 2:
        raise ShapeError("triu(): triu: input tensor must have at least 2 dimensions")
    return jnp.triu(input, diagonal)


@register("diag",
          samples=lambda: [Sample(A(3), 1), Sample(A(3), -2), Sample(A(3, 4), 2), Sample(A(3, 4), -5),
                           Sample(I(3)), Sample(A(0)),
                           Sample(A()), Sample(A(2, 2, 2))])
def diag(input, diagonal=0):
    """1-D input: a square matrix with ``input`` on diagonal ``diagonal``.
    2-D input: diagonal ``diagonal`` of the matrix, as a 1-D tensor."""
    if input.ndim not in (1, 2):
        raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return jnp.diag(input, diagonal)


@register("diagonal",
          samples=lambda: [Sample(A(3, 4), -2), Sample(A(2, 3, 4), 1, -1, 0), Sample(A(2, 3, 4), 0, 2, 1),
                           Sample(A(2, 3, 4), 5), Sample(I(3, 3)), Sample(A(2, 3, 4), 0, 1, 1),
                           Sample(A(3))])
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices in dims ``dim1``/``dim2``, appended as the last dim."""
    a, b = norm_dim(dim1, input.ndim, "diagonal"), norm_dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise ShapeError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return jnp.diagonal(input, offset, a, b)


@register("diag_embed",
          samples=lambda: [Sample(A(3)), Sample(A(2, 3), -2), Sample(A(2, 3), 0, 0, 2),
                           Sample(A(2, 3), 1, 2, 0), Sample(I(2)),
                           Sample(A(2, 0)), Sample(A(2, 3), 0, 1, 1), Sample(A())])
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of ``input`` on diagonal ``offset`` of new square matrices in dims
    ``dim1``/``dim2`` of the output (which has one more dim than ``input``)."""
    nd = input.ndim + 1
    a, b = norm_dim(dim1, nd, "diag_embed"), norm_dim(dim2, nd, "diag_embed")
    if a == b:
        raise ShapeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1]
    m = n + abs(offset)
    idx = np.arange(n)
    rows, cols = idx + max(-offset, 0), idx + max(offset, 0)
    out = jnp.zeros(input.shape[:-1] + (m, m), input.dtype).at[..., rows, cols].set(input)
    return jnp.moveaxis(out, (-2, -1), (a, b))


# ----- Tensor properties -----------------------------------------------------------------------
_T_WARNING = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor.")


def _T(self):
    """The tensor with all dims reversed (for a matrix, its transpose)."""
    nd = self.ndim
    if nd > 2:
        warnings.warn(_T_WARNING, UserWarning, stacklevel=2)
    return _call("permute")(self, tuple(range(nd - 1, -1, -1)))


def _mT(self):
    """The transpose of the last two dims (batches of matrices)."""
    if self.ndim < 2:
        raise ShapeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                         f"{self.ndim}-D tensor.")
    return _call("transpose")(self, -2, -1)


def _H(self):
    """The conjugate transpose of a matrix (2-D tensors only)."""
    nd = self.ndim
    if nd == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return _call("view")(_call("adjoint")(_call("view")(self, (1, 1))), ())
    if nd != 2:
        raise ShapeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor."
                         + (" For batches of matrices, consider using tensor.mH" if nd > 2 else ""))
    return _call("adjoint")(self)


def _mH(self):
    """The conjugate transpose of the last two dims (batches of matrices)."""
    _adjoint_check(self, "tensor.mH")
    return _call("adjoint")(self)


def install() -> None:
    """Put the transpose properties ``T``, ``mT``, ``H`` and ``mH`` on :class:`Tensor`."""
    Tensor.T = property(_T)
    Tensor.mT = property(_mT)
    Tensor.H = property(_H)
    Tensor.mH = property(_mH)
