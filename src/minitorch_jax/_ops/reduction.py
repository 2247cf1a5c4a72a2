"""Reductions over dims: sums, means, extrema, statistics, scans and logical reductions.

Gradients follow torch's conventions, which sometimes differ from plain ``jax.vjp``:

* ``max()``/``min()`` without a dim, ``median()`` and ``nanmedian()`` without a dim share the
  gradient evenly among all elements equal to the result (NaNs count as equal to a NaN result);
  ``amax``/``amin``/``aminmax`` share it evenly among ties too (NaN results give NaN gradients).
* the ``(values, indices)`` ops (``max(dim)``, ``median(dim)``, ``kthvalue``, ``mode``,
  ``cummax`` ...) send the gradient to the returned index: their values are gathered from the
  input at the indices, so JAX differentiates the gather.
* ``std`` and ``norm`` have a zero (not NaN) gradient where the result is zero.
"""

from __future__ import annotations

import builtins
import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype, return_types
from .._errors import DTypeError, OpIndexError, OpTypeError, ShapeError
from .._tensor import Tensor
from ._helpers import A, B, I, Sample, norm_dim, norm_dims
from ._registry import REGISTRY, register

_INT_TO_LONG = {"bool", "int8", "uint8", "int16", "int32"}
_LONG = jnp.int64
_TORCH_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                "int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_INF = float("inf")
_NAN = float("nan")


# ----- shared helpers (run at trace time) ------------------------------------------------------
def _tname(dt) -> str:
    """torch's scalar type name of a numpy/JAX dtype (``Long``, ``Float`` ...)."""
    return _TORCH_NAMES.get(jnp.dtype(dt).name, str(dt))


def _acc_dtype(x, dtype):
    """torch's result dtype for sum/prod/cumsum: integers and bool accumulate in int64."""
    if dtype is not None:
        return _dtype.to_np(dtype)
    if jnp.dtype(x.dtype).name in _INT_TO_LONG:
        return jnp.dtype(jnp.int64)
    return x.dtype


def _axes(dim, ndim: int, op: str):
    """Reduction axes for ``dim``; None (and, as in torch, an empty tuple) means all dims."""
    axes = norm_dims(dim, ndim, op)
    return None if axes is None or (axes == () and isinstance(dim, (tuple, list))) else axes


def _all_axes(axes, ndim: int) -> tuple:
    return tuple(range(ndim)) if axes is None else axes


def _shape_after(shape, axes, keepdim) -> tuple:
    """The output shape of reducing ``axes`` (a tuple) of ``shape``."""
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _need_float(x, op: str, what: str = "floating point or complex") -> None:
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f"{op}(): expected input to have {what} dtype but got {_tname(x.dtype)}")


def _need_nonempty(x, axes, op: str) -> None:
    """torch's errors for max-like reductions (no identity) over an empty dim."""
    if axes is None:
        if x.size == 0:
            raise ShapeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                f"the reduction dim with the 'dim' argument.")
        return
    for a in axes:
        if x.shape[a] == 0:
            raise OpIndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


def _squeeze(v, d: int, keepdim: bool):
    return v if keepdim else jnp.squeeze(v, d)


def _gather(x, idx, d: int, keepdim: bool):
    """``(x[idx] along d, idx)`` as a values/indices pair; the gradient flows to ``idx``."""
    vals = jnp.take_along_axis(x, idx, axis=d)
    return _squeeze(vals, d, keepdim), _squeeze(idx.astype(_LONG), d, keepdim)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _even(x, v, axes, nan_eq=True):
    """``v`` (``x`` reduced over ``axes``, kept dims) with torch's evenly shared gradient.

    The tangent is the mean of the input tangents at the positions equal to ``v`` (with
    ``nan_eq``, NaN positions when ``v`` is NaN, as torch's ``evenly_distribute_backward``;
    without it, as torch's amax/amin, a NaN result has no equal position and gives NaN).
    """
    return v


@_even.defjvp
def _even_jvp(axes, nan_eq, primals, tangents):
    x, v = primals
    tx = tangents[0]
    mask = x == v
    if nan_eq:
        mask = mask | (jnp.isnan(x) & jnp.isnan(v))
    cnt = jnp.sum(mask, axes, keepdims=True)
    w = mask.astype(tx.dtype)
    if not nan_eq:
        # no equal element (a NaN result): torch's gradient is 0/0 = NaN over the slice. Under jit
        # XLA turns ``mask * g`` into a select, which would give 0, so make the weights NaN too.
        w = w + jnp.where(cnt == 0, jnp.asarray(_NAN, tx.dtype), jnp.zeros((), tx.dtype))
    return v, jnp.sum(w * tx, axes, keepdims=True) / cnt.astype(tx.dtype)


def _even_reduce(x, fn, axes, keepdim, nan_eq):
    """``fn`` (jnp.max/min) over ``axes`` with the evenly shared gradient (floats only)."""
    v = fn(x, axis=axes, keepdims=True)
    if _dtype.is_inexact(x.dtype):
        v = _even(x, v, _all_axes(axes, x.ndim), nan_eq)
    return v if keepdim else jnp.reshape(v, _shape_after(x.shape, _all_axes(axes, x.ndim), False))


def _even_all(x, v):
    """``v``, a 0-d reduction of all of ``x``, with the evenly shared gradient."""
    return _even(x, jnp.reshape(v, (1,) * x.ndim), tuple(range(x.ndim))).reshape(())


def _safe_sqrt(v):
    """``sqrt(v)`` whose gradient is 0 (not inf) where ``v == 0``, as torch's std and norm."""
    zero = v == 0
    return jnp.where(zero, v * 0, jnp.sqrt(jnp.where(zero, jnp.ones((), v.dtype), v)))


def _reduce_samples(ints=True, extra=()):
    def samples():
        out = [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), (0, 2), keepdim=True),
               Sample(A(2, 3, 4), -1, True), Sample(A()), Sample(A(5, dtype="float64"), 0),
               Sample(A(0, 3), 0), Sample(A(2, 3), ())]
        if ints:
            out += [Sample(I(3, 4)), Sample(I(3, 4, dtype="int32"), 1), Sample(B(3, 4), 0)]
        return out + [s() for s in extra]
    return samples


# ----- sums, means, products -------------------------------------------------------------------
@register("sum", samples=_reduce_samples(extra=(lambda: Sample(I(3, 4), 1, dtype=_dtype.float64),)))
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    """Sum over ``dim`` (all dims if None); integer inputs sum to int64 as in torch.

    Args:
        dim: an int or a tuple of ints; None (or ``()``) reduces everything.
        keepdim: keep reduced dims with size 1.
        dtype: cast the input to this dtype first.
    """
    axes = _axes(dim, input.ndim, "sum")
    return jnp.sum(input.astype(_acc_dtype(input, dtype)), axis=axes, keepdims=keepdim)


@register("mean", samples=_reduce_samples(ints=False))
def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` (all dims if None); needs a floating or complex input (or ``dtype=``)."""
    if dtype is not None:
        input = input.astype(_dtype.to_np(dtype))
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_tname(input.dtype)}")
    axes = _axes(dim, input.ndim, "mean")
    return jnp.mean(input, axis=axes, keepdims=keepdim)


def _prod_samples():
    z = A(3, 4)
    z[0, 1] = 0.0
    z[2, :2] = 0.0
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), -1, True), Sample(A()),
            Sample(z), Sample(z, 1), Sample(z, 0), Sample(A(0, 3), 0), Sample(I(3, 4, low=-3, high=4)),
            Sample(I(3, 4, dtype="int32"), 0), Sample(B(3, 4), 1), Sample(A(5, dtype="float64"), 0),
            Sample(A(3, 4), 1, dtype=_dtype.float64)]


@register("prod", samples=_prod_samples)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one ``dim`` (all elements if None); integer inputs multiply in int64.

    The gradient is right with zeros in the input (it is the product of the other elements).
    """
    if isinstance(dim, (tuple, list)):
        raise OpTypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    axes = norm_dims(dim, input.ndim, "prod")
    return jnp.prod(input.astype(_acc_dtype(input, dtype)), axis=axes, keepdims=keepdim)


def _nan_samples(ints=True):
    def samples():
        x = A(3, 4)
        x[0, 1] = x[2, 0] = x[2, 3] = _NAN
        out = [Sample(x), Sample(x, 1), Sample(x, (0, 1), keepdim=True), Sample(A(2, 3), 0),
               Sample(A(5, dtype="float64"), 0), Sample(A()), Sample(A(0, 2), 0)]
        if ints:
            out += [Sample(I(3, 4)), Sample(B(3, 4), 1)]
        return out
    return samples


@register("nansum", samples=_nan_samples())
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` treating NaN as zero (torch.nansum); integers sum to int64."""
    axes = _axes(dim, input.ndim, "nansum")
    x = input.astype(_acc_dtype(input, dtype))
    if _dtype.is_inexact(x.dtype):
        x = jnp.where(jnp.isnan(x), jnp.zeros((), x.dtype), x)
    return jnp.sum(x, axis=axes, keepdims=keepdim)


@register("nanmean", samples=_nan_samples(ints=False))
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` of the non-NaN elements (NaN where all are NaN); floating inputs only."""
    if dtype is not None:
        input = input.astype(_dtype.to_np(dtype))
    _need_float(input, "nanmean")
    axes = _axes(dim, input.ndim, "nanmean")
    ok = ~jnp.isnan(input)
    s = jnp.sum(jnp.where(ok, input, jnp.zeros((), input.dtype)), axis=axes, keepdims=keepdim)
    return s / jnp.sum(ok, axis=axes, keepdims=keepdim).astype(input.dtype)


# ----- extrema ---------------------------------------------------------------------------------
def _extreme(op, x, dim, keepdim, is_max):
    """max/min: a 0-d value without ``dim``, (values, indices) with it."""
    if dim is None:
        _need_nonempty(x, None, op)
        return _even_reduce(x, jnp.max if is_max else jnp.min, None, False, True)
    d = norm_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return x, jnp.zeros((), _LONG)
    _need_nonempty(x, (d,), op)
    idx = (jnp.argmax if is_max else jnp.argmin)(x, axis=d, keepdims=True)
    return _gather(x, idx, d, keepdim)


def _extreme_impl(op, pair, input, dim, keepdim, other, out):
    kw = {} if out is None else {"out": out}
    if other is not None or isinstance(dim, Tensor):
        return REGISTRY[pair].call(input, dim if other is None else other, **kw)
    if dim is None:
        if keepdim:
            raise OpTypeError(f"{op}(): keepdim=True needs a dim")
        return REGISTRY[op].call(input, **kw)
    if isinstance(dim, float):
        raise OpTypeError(f"{op}(): argument 'dim' must be int or a Tensor, not float")
    return REGISTRY[op].call(input, dim, keepdim, **kw)


def _max_impl(input, dim=None, keepdim=False, *, other=None, out=None):
    """The maximum: of all elements, along ``dim``, or elementwise against ``other``.

    Overloads (as torch.max):
        ``max(input)``: the largest element (0-d); the gradient is shared evenly among ties.
        ``max(input, dim, keepdim=False)``: ``return_types.max(values, indices)``; the gradient
        goes to the returned index (the first maximum; NaN counts as the largest).
        ``max(input, other)``: :func:`maximum`.
    """
    return _extreme_impl("max", "maximum", input, dim, keepdim, other, out)


def _min_impl(input, dim=None, keepdim=False, *, other=None, out=None):
    """The minimum: of all elements, along ``dim``, or elementwise against ``other``.

    Overloads (as torch.min):
        ``min(input)``: the smallest element (0-d); the gradient is shared evenly among ties.
        ``min(input, dim, keepdim=False)``: ``return_types.min(values, indices)``.
        ``min(input, other)``: :func:`minimum`.
    """
    return _extreme_impl("min", "minimum", input, dim, keepdim, other, out)


def _ties():
    x = A(3, 4)
    x[0, 1] = x[0, 3] = 5.0
    x[1, :] = -1.0
    x[2, 2] = _NAN
    return x


def _extreme_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), -1, True), Sample(A()),
            Sample(A(), 0), Sample(_ties()), Sample(_ties(), 1), Sample(_ties(), 0, keepdim=True),
            Sample(A(0, 3)), Sample(A(0, 3), 0), Sample(A(0, 3), 1), Sample(I(3, 4)), Sample(I(3, 4), 0),
            Sample(B(3, 4), 1), Sample(A(5, dtype="float64"), 0), Sample(A(3, 4), A(4)),
            Sample(A(3, 4), other=A(3, 1)), Sample(A(3, 4), dim=1)]


@register("max", samples=_extreme_samples, impl=_max_impl,
          out_wrap=lambda outs: return_types.max(*outs))
def max(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """Kernel of :func:`max` for the reduction overloads (no dim, or ``dim``/``keepdim``)."""
    return _extreme("max", input, dim, keepdim, True)


@register("min", samples=_extreme_samples, impl=_min_impl,
          out_wrap=lambda outs: return_types.min(*outs))
def min(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """Kernel of :func:`min` for the reduction overloads (no dim, or ``dim``/``keepdim``)."""
    return _extreme("min", input, dim, keepdim, False)


def _amax_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), (0, 2), True), Sample(A()),
            Sample(_ties(), 1), Sample(_ties(), 0), Sample(_ties(), ()), Sample(A(0, 3), 0),
            Sample(A(0, 3), 1), Sample(A(0, 3)), Sample(I(3, 4), 0), Sample(B(3, 4), 1),
            Sample(A(3, 4), (0, 0))]


def _amax_like(op, x, dim, keepdim, fn):
    axes = _axes(dim, x.ndim, op)
    _need_nonempty(x, axes, op)
    return _even_reduce(x, fn, axes, keepdim, False)


@register("amax", samples=_amax_samples)
def amax(input, dim=(), keepdim=False):
    """The maximum over ``dim`` (an int or tuple; ``()`` means all dims); ties share the gradient."""
    return _amax_like("amax", input, dim, keepdim, jnp.max)


@register("amin", samples=_amax_samples)
def amin(input, dim=(), keepdim=False):
    """The minimum over ``dim`` (an int or tuple; ``()`` means all dims); ties share the gradient."""
    return _amax_like("amin", input, dim, keepdim, jnp.min)


@register("aminmax", samples=lambda: [
    Sample(A(3, 4)), Sample(A(3, 4), dim=1), Sample(A(2, 3), dim=0, keepdim=True), Sample(A()),
    Sample(_ties(), dim=1), Sample(I(3, 4)), Sample(B(3, 4), dim=0), Sample(A(0, 3)),
    Sample(A(0, 3), dim=0), Sample(A(0, 3), dim=1)], out_wrap=lambda outs: return_types.aminmax(*outs))
def aminmax(input, *, dim=None, keepdim=False):
    """``return_types.aminmax(min, max)`` over ``dim`` (an int; all dims if None)."""
    if dim is None:
        if input.size == 0:
            raise ShapeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                             "operation has no identity.")
        axes = None
    else:
        axes = (norm_dim(dim, input.ndim, "aminmax"),) if input.ndim else ()
        _need_nonempty(input, axes, "aminmax")
    return (_even_reduce(input, jnp.min, axes, keepdim, False),
            _even_reduce(input, jnp.max, axes, keepdim, False))


def _arg_extreme(op, x, dim, keepdim, fn):
    if x.dtype == jnp.bool_:
        raise DTypeError(f"{op}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise OpIndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        idx = fn(x.reshape(-1)).astype(_LONG)
        return idx.reshape((1,) * x.ndim) if keepdim else idx
    d = norm_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return jnp.zeros((), _LONG)
    _need_nonempty(x, (d,), op)
    return fn(x, axis=d, keepdims=keepdim).astype(_LONG)


def _arg_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(3, 4), keepdim=True),
            Sample(A(2, 3, 4), -1, True), Sample(A()), Sample(_ties(), 1), Sample(_ties()),
            Sample(I(3, 4), 0), Sample(A(0, 3)), Sample(A(0, 3), 0), Sample(A(0, 3), 1),
            Sample(B(3, 4))]


@register("argmax", differentiable=False, samples=_arg_samples)
def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum over ``dim`` (of the flattened input if None), as int64."""
    return _arg_extreme("argmax", input, dim, keepdim, jnp.argmax)


@register("argmin", differentiable=False, samples=_arg_samples)
def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum over ``dim`` (of the flattened input if None), as int64."""
    return _arg_extreme("argmin", input, dim, keepdim, jnp.argmin)


# ----- statistics ------------------------------------------------------------------------------
def _var_core(op, x, dim, keepdim, correction):
    """(var, mean) over ``dim`` with divisor ``max(0, N - correction)``."""
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f"{op}(): std and var only support floating point and complex dtypes")
    axes = _axes(dim, x.ndim, op)
    n = math.prod(x.shape[a] for a in _all_axes(axes, x.ndim))
    dof = n - correction
    if dof <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=2)
    m = jnp.mean(x, axis=axes, keepdims=True)
    d = x - m
    sq = jnp.real(d * jnp.conj(d)) if jnp.iscomplexobj(d) else d * d
    s = jnp.sum(sq, axis=axes, keepdims=keepdim)
    var = s / jnp.asarray(builtins.max(dof, 0), s.dtype)
    if dof < 0:  # torch's value is inf (or NaN), while its gradient divides by the raw N - correction
        raw = s / jnp.asarray(dof, s.dtype)
        var = raw + jax.lax.stop_gradient(var - raw)
    return var, (m if keepdim else jnp.reshape(m, _shape_after(x.shape, _all_axes(axes, x.ndim),
                                                                False)))


def _var_impl(name, what):
    """The public callable of var/std/var_mean/std_mean: torch's overloads, parsed here so
    that the kernel sees one spelling (``dim`` positional, ``correction``/``keepdim`` keywords)."""
    def impl(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        if isinstance(dim, bool):  # std(x, True): the legacy (input, unbiased) overload
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise OpTypeError(f"{name}(): pass either unbiased or correction, not both")
        if correction is None:
            correction = 0 if unbiased is False else 1
        kw = {"correction": correction, "keepdim": builtins.bool(keepdim)}
        if out is not None:
            kw["out"] = out
        return REGISTRY[name].call(input, dim, **kw)

    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = what + _VAR_DOC
    return impl


_VAR_DOC = """

    Args:
        dim: an int or a tuple of ints (all dims if None or ``()``).
        unbiased: legacy flag (positional in torch's ``(input, dim, unbiased, keepdim)`` and
            ``(input, unbiased)`` overloads): True means ``correction=1``, False ``correction=0``.
        keepdim: keep reduced dims with size 1.
        correction: subtract this from the element count N in the divisor (default 1); where
            ``N - correction <= 0`` the result is inf (NaN for zero deviations) with a warning.
    Complex inputs give real results.

    Example::

        >>> mt.var(mt.tensor([[1.0, 2.0], [3.0, 5.0]]), 1, correction=0)
        tensor([0.2500, 1.0000])"""


def _var_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(2, 3, 4), (0, 2), keepdim=True),
            Sample(A(3, 4), 0, True, True), Sample(A(3, 4), False), Sample(A(3, 4), unbiased=False),
            Sample(A(3, 4), dim=1, correction=0), Sample(A(3, 4), dim=0, correction=2.5),
            Sample(A(3, 4), dim=0, correction=5), Sample(A(1, 3), 0), Sample(A()),
            Sample(A(5, dtype="float64"), 0), Sample(I(3, 4)), Sample(A(0, 3), 0),
            Sample((A(3, 4) + 1j * A(3, 4)).astype("complex64"), 1, grad=False),
            Sample(A(3, 4), 0, unbiased=False, correction=1), Sample(A(3, 4), (), grad=False)]


@register("var", samples=_var_samples,
          impl=_var_impl("var", "Variance over ``dim``: ``sum(|x - mean|^2) / max(0, N - correction)``."))
def var(input, dim=None, *, correction=1, keepdim=False):
    """Kernel of :func:`var` (see the public callable for torch's overloads)."""
    return _var_core("var", input, dim, keepdim, correction)[0]


@register("std", samples=_var_samples,
          impl=_var_impl("std", "Standard deviation over ``dim``: the square root of var."))
def std(input, dim=None, *, correction=1, keepdim=False):
    """Kernel of :func:`std`; its gradient is 0 where the result is 0."""
    return _safe_sqrt(_var_core("std", input, dim, keepdim, correction)[0])


@register("var_mean", samples=_var_samples,
          impl=_var_impl("var_mean", "``(var, mean)`` over ``dim`` (a plain tuple, as torch)."))
def var_mean(input, dim=None, *, correction=1, keepdim=False):
    """Kernel of :func:`var_mean`."""
    return _var_core("var_mean", input, dim, keepdim, correction)


@register("std_mean", samples=_var_samples,
          impl=_var_impl("std_mean", "``(std, mean)`` over ``dim`` (a plain tuple, as torch)."))
def std_mean(input, dim=None, *, correction=1, keepdim=False):
    """Kernel of :func:`std_mean`."""
    v, m = _var_core("std_mean", input, dim, keepdim, correction)
    return _safe_sqrt(v), m


def _abs0(x):
    """``|x|`` whose derivative is torch's ``sgn``: 0 at 0 and at NaN (also for complex ``x``)."""
    ok = (x != 0) & ~jnp.isnan(x)
    return jnp.where(ok, jnp.abs(jnp.where(ok, x, jnp.ones((), x.dtype))),
                     jnp.abs(jax.lax.stop_gradient(x)))


def _vector_norm(x, p, axes, keepdim):
    a = _abs0(x)
    if p in (_INF, -_INF):
        return _even_reduce(a, jnp.max if p > 0 else jnp.min, axes, keepdim, True)
    if p == 0:
        return jnp.sum((a != 0).astype(a.dtype), axis=axes, keepdims=keepdim)
    if p == 1:
        return jnp.sum(a, axis=axes, keepdims=keepdim)
    if p == 2:
        return _safe_sqrt(jnp.sum(a * a, axis=axes, keepdims=keepdim))
    one = jnp.ones((), a.dtype)
    if p < 0:
        return jnp.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    nz = a != 0  # torch's gradient is 0 at zero elements and where the norm is 0
    s = jnp.sum(jnp.where(nz, jnp.where(nz, a, one) ** p, 0 * a), axis=axes, keepdims=keepdim)
    pos = s > 0
    return jnp.where(pos, jnp.where(pos, s, one) ** (1.0 / p), s)


def _norm_samples():
    z = A(3, 4)
    z[1] = 0.0
    z[0, 0] = 0.0
    return [Sample(A(3, 4)), Sample(A(3, 4), 1), Sample(A(3, 4), _INF, 1), Sample(A(3, 4), -_INF),
            Sample(A(3, 4), 0), Sample(A(3, 4), 3, (0, 1)), Sample(A(3, 4), 0.5, 1),
            Sample(A(3, 4), "fro", 0, True), Sample(A(2, 3, 4), "fro", (0, 2)),
            Sample(A(3, 4), "nuc", atol=1e-4, rtol=1e-4), Sample(A(2, 3, 4), "nuc", (2, 0)),
            Sample(z), Sample(z, dim=1), Sample(z, 1, 1), Sample(z, 3, 1), Sample(z, 0.5, 1),
            Sample(z, _INF, 1), Sample(_ties(), _INF, 1), Sample(A()), Sample(A(0, 3), dim=0),
            Sample(A(5, dtype="float64"), 2), Sample(A(3, 4), dim=1, dtype=_dtype.float64),
            Sample(I(3, 4)), Sample(A(2, 3, 4), "fro", (0, 1, 2)), Sample(A(3, 4), "abc"),
            Sample((A(3, 4) + 1j * A(3, 4)).astype("complex64"), grad=False)]


@register("norm", samples=_norm_samples)
def norm(input, p="fro", dim=None, keepdim=False, *, dtype=None):
    """The vector or matrix norm of ``input`` (torch.norm, which defers to torch.linalg).

    Args:
        p: a number (vector p-norm; ``inf``/``-inf`` max/min of absolute values; 0 the count of
            nonzeros), ``'fro'`` (the 2-norm over ``dim``, at most two dims) or ``'nuc'``
            (nuclear norm over two dims).
        dim: an int or tuple of dims (all dims if None).
        keepdim: keep reduced dims with size 1.
        dtype: compute in this dtype (the input is cast first).
    Complex inputs give real results. The gradient is zero where the norm is zero.
    """
    if dtype is not None:
        input = input.astype(_dtype.to_np(dtype))
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(f"norm(): Expected a floating point or complex tensor as input. Got "
                         f"{_tname(input.dtype)}")
    if p is None:
        p = 2.0
    if isinstance(p, str):
        if p == "fro" and (dim is None or not isinstance(dim, (tuple, list)) or len(dim) <= 2):
            p = 2.0
        else:
            return _matrix_norm(input, p, dim, keepdim)
    axes = _axes(dim, input.ndim, "norm")
    if axes is not None and input.ndim and p in (_INF, -_INF):
        _need_nonempty(input, axes, "norm")
    elif axes is None and input.size == 0 and p in (_INF, -_INF):
        raise ShapeError("norm(): cannot compute the infinity norm of an empty tensor")
    return _vector_norm(input, p, axes, keepdim)


def _matrix_norm(x, p, dim, keepdim):
    dims = tuple(range(x.ndim)) if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) \
        else (dim,)
    if len(dims) != 2:
        raise ShapeError(f"norm(): dim must be a 2-tuple for the {p!r} norm. Got {list(dims)}")
    if p not in ("fro", "nuc"):
        raise ShapeError(f"norm(): Order {p} not supported.")
    d0, d1 = (norm_dim(d, x.ndim, "norm") for d in dims)
    if d0 == d1:
        raise ShapeError(f"norm(): dims must be different. Got ({d0}, {d1})")
    m = jnp.moveaxis(x, (d0, d1), (-2, -1))
    r = jnp.sum(jnp.linalg.svd(m, compute_uv=False), axis=-1)
    if keepdim:
        r = jnp.expand_dims(r, tuple(sorted((d0, d1))))
    return r


@register("logsumexp", promote="float", samples=lambda: [
    Sample(A(3, 4), 1), Sample(A(2, 3, 4), (0, 2), True), Sample(A(3, 4), -1, keepdim=True),
    Sample(A(), 0), Sample(A(5, dtype="float64"), 0), Sample(I(3, 4), 0), Sample(A(0, 3), 0),
    Sample(A(3, 4, low=50, high=90), 1),
    Sample(np.array([[-_INF, -_INF], [1.0, 2.0], [_INF, 0.0]], "float32"), 1),
    Sample(A(3, 4))])
def logsumexp(input, dim=None, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim`` (required: an int or tuple), computed stably."""
    if dim is None:
        raise OpTypeError('logsumexp() missing 1 required positional arguments: "dim"')
    axes = _axes(dim, input.ndim, "logsumexp")
    if input.size == 0:
        return jnp.log(jnp.sum(jnp.exp(input), axis=axes, keepdims=keepdim))
    m = jax.lax.stop_gradient(jnp.max(input.real, axis=axes, keepdims=True))
    m = jnp.where(jnp.isfinite(m), m, jnp.zeros((), m.dtype))
    s = jnp.log(jnp.sum(jnp.exp(input - m), axis=axes, keepdims=True)) + m
    return s if keepdim else jnp.reshape(s, _shape_after(input.shape, _all_axes(axes, input.ndim),
                                                         False))


# ----- order statistics ------------------------------------------------------------------------
def _distinct(*shape):
    """Random int64 samples without ties along the last dim (torch's tie indices are unspecified)."""
    return np.argsort(A(*shape), axis=-1).astype("int64") - 2


def _sorted_index(x, d, k):
    """Index (kept dim) of the ``k``-th smallest along ``d``, NaN last, ties by position.

    ``k`` is an int or an int array broadcastable to the kept-dim shape."""
    order = jnp.argsort(x, axis=d, stable=True)
    if isinstance(k, int):
        return jax.lax.slice_in_dim(order, k, k + 1, axis=d)
    return jnp.take_along_axis(order, k, axis=d)


def _order_dim(op, x, dim):
    if x.dtype == jnp.bool_ and op != "mode":
        raise DTypeError(f'"{op}_cpu" not implemented for \'Bool\'')
    d = norm_dim(dim, x.ndim, op)
    if x.ndim:
        _need_nonempty(x, (d,), op)
    return d


def _median_all(op, x, ignore_nan):
    if x.dtype == jnp.bool_:
        raise DTypeError(f'"{op}_cpu" not implemented for \'Bool\'')
    flat = x.reshape(-1)
    if flat.size == 0:
        return jnp.asarray(_NAN, x.dtype) if _dtype.is_inexact(x.dtype) else \
            jnp.asarray(jnp.iinfo(x.dtype).min, x.dtype)
    s = jnp.sort(flat)
    if ignore_nan and _dtype.is_inexact(x.dtype):
        cnt = jnp.sum(~jnp.isnan(flat))
        v = s[jnp.maximum((cnt - 1) // 2, 0)]
    else:
        v = s[(flat.size - 1) // 2]
        if _dtype.is_inexact(x.dtype):
            v = jnp.where(jnp.any(jnp.isnan(flat)), jnp.asarray(_NAN, x.dtype), v)
    return _even_all(x, v) if _dtype.is_inexact(x.dtype) else v


def _median_dim(op, x, dim, keepdim, ignore_nan):
    d = _order_dim(op, x, dim)
    if x.ndim == 0:
        return x, jnp.zeros((), _LONG)
    n = x.shape[d]
    if not _dtype.is_inexact(x.dtype):
        return _gather(x, _sorted_index(x, d, (n - 1) // 2), d, keepdim)
    nan = jnp.isnan(x)
    if ignore_nan:
        cnt = jnp.sum(~nan, axis=d, keepdims=True)
        k = jnp.where(cnt > 0, (cnt - 1) // 2, (n - 1) // 2)
        return _gather(x, _sorted_index(x, d, k), d, keepdim)
    idx = _sorted_index(x, d, (n - 1) // 2)
    first_nan = jnp.argmax(nan, axis=d, keepdims=True)
    idx = jnp.where(jnp.any(nan, axis=d, keepdims=True), first_nan, idx)
    return _gather(x, idx, d, keepdim)


def _median_samples():
    t = I(3, 6, low=0, high=3).astype("float32")
    n = A(3, 4)
    n[0, 1] = n[1, 1] = n[1, 3] = _NAN
    return [Sample(A(3, 4)), Sample(A(3, 5), 1), Sample(A(2, 3, 4), 0, True), Sample(A()),
            Sample(A(), 0), Sample(t), Sample(n), Sample(n, 1), Sample(I(3, 4)),
            Sample(_distinct(3, 5), 1), Sample(A(0, 3)), Sample(A(0, 3), 0), Sample(A(0, 3), 1),
            Sample(B(3, 4)), Sample(A(6, dtype="float64"), 0)]


@register("median", samples=_median_samples, out_wrap=lambda outs: return_types.median(*outs))
def median(input, dim=None, keepdim=False):
    """The lower median: of all elements (0-d), or ``return_types.median(values, indices)`` along
    ``dim``. NaN propagates. Without ``dim`` the gradient is shared evenly among the elements
    equal to the result; with ``dim`` it goes to the returned index."""
    if dim is None:
        return _median_all("median", input, False)
    return _median_dim("median", input, dim, keepdim, False)


@register("nanmedian", samples=_median_samples,
          out_wrap=lambda outs: return_types.nanmedian(*outs))
def nanmedian(input, dim=None, keepdim=False):
    """:func:`median` ignoring NaNs (NaN only where every element is NaN)."""
    if dim is None:
        return _median_all("nanmedian", input, True)
    return _median_dim("nanmedian", input, dim, keepdim, True)


@register("kthvalue", samples=lambda: [
    Sample(A(3, 4), 2), Sample(A(3, 4), 1, 0), Sample(A(2, 3, 4), 3, 1, True), Sample(A(), 1),
    Sample(A(3, 4), 5), Sample(A(3, 4), 0), Sample(_distinct(3, 4), 4, 1), Sample(A(0, 3), 1, 0),
    Sample(A(4, dtype="float64"), 3)], out_wrap=lambda outs: return_types.kthvalue(*outs))
def kthvalue(input, k, dim=-1, keepdim=False):
    """``return_types.kthvalue(values, indices)``: the ``k``-th smallest element along ``dim``
    (``k`` counts from 1; NaN sorts last). With ties the index may differ from torch's."""
    d = _order_dim("kthvalue", input, dim)
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise ShapeError(f"kthvalue(): selected number k out of range for dimension {d} "
                         f"(k={k}, size {n})")
    if input.ndim == 0:
        return input, jnp.zeros((), _LONG)
    return _gather(input, _sorted_index(input, d, k - 1), d, keepdim)


@register("mode", samples=lambda: [
    Sample(A(3, 4)), Sample(A(2, 3, 4), 1, True), Sample(_distinct(3, 5)), Sample(A()),
    Sample(A(0, 3), 0), Sample(A(2, 0), 0)], out_wrap=lambda outs: return_types.mode(*outs))
def mode(input, dim=-1, keepdim=False):
    """``return_types.mode(values, indices)``: the most frequent value along ``dim`` (the smallest
    among equally frequent ones) and the index of its last occurrence."""
    d = _order_dim("mode", input, dim)
    if input.ndim == 0:
        return input, jnp.zeros((), _LONG)
    x = jnp.moveaxis(input, d, -1)
    counts = jnp.sum(x[..., :, None] == x[..., None, :], axis=-1)
    best = counts == jnp.max(counts, axis=-1, keepdims=True)
    if x.dtype == jnp.bool_:
        value = jnp.all(jnp.where(best, x, True), axis=-1, keepdims=True)
    else:
        top = jnp.asarray(_INF if _dtype.is_inexact(x.dtype) else jnp.iinfo(x.dtype).max, x.dtype)
        value = jnp.min(jnp.where(best, x, top), axis=-1, keepdims=True)
    n = x.shape[-1]
    idx = n - 1 - jnp.argmax(jnp.flip(x == value, -1), axis=-1, keepdims=True)
    return _gather(input, jnp.moveaxis(idx, -1, d), d, keepdim)


# ----- scans -----------------------------------------------------------------------------------
def _scan_samples(ints=True):
    def samples():
        z = A(3, 4)
        z[1, 1] = z[2, 0] = z[2, 2] = 0.0
        out = [Sample(A(3, 4), 1), Sample(A(3, 4), 0), Sample(A(2, 3, 4), -1), Sample(A(), 0),
               Sample(A(0, 3), 0), Sample(z, 1), Sample(A(5, dtype="float64"), 0)]
        if ints:
            out += [Sample(I(3, 4), 1), Sample(I(3, 4, dtype="int32"), 0), Sample(B(3, 4), 1)]
        return out
    return samples


def _scan(op, x, dim, dtype, fn):
    d = norm_dim(dim, x.ndim, op)
    x = x.astype(_acc_dtype(x, dtype))
    return x if x.ndim == 0 else fn(x, axis=d)


@register("cumsum", inplace=True, samples=_scan_samples())
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; integer inputs accumulate in int64 (or ``dtype``)."""
    return _scan("cumsum", input, dim, dtype, jnp.cumsum)


@register("cumprod", inplace=True, samples=_scan_samples())
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``; integers in int64; the gradient is right with zeros."""
    return _scan("cumprod", input, dim, dtype, jnp.cumprod)


@register("logcumsumexp", samples=_scan_samples(ints=False))
def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably; floating inputs only."""
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(f'"logcumsumexp_out_cpu" not implemented for \'{_tname(input.dtype)}\'')
    d = norm_dim(dim, input.ndim, "logcumsumexp")
    if input.ndim == 0 or input.size == 0:
        return input
    return jax.lax.cumlogsumexp(input, axis=d)


def _cum_extreme(op, x, dim, is_max):
    d = norm_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return x, jnp.zeros((), _LONG)
    if x.size == 0:
        return x, jnp.zeros(x.shape, _LONG)
    pos = jax.lax.broadcasted_iota(_LONG, x.shape, d)
    inexact = _dtype.is_inexact(x.dtype)

    def pick(a, b):  # b is later along d: it wins ties, and a NaN wins over numbers
        (va, ia), (vb, ib) = a, b
        better = (vb >= va) if is_max else (vb <= va)
        if inexact:
            better = jnp.isnan(vb) | (~jnp.isnan(va) & better)
        return jnp.where(better, vb, va), jnp.where(better, ib, ia)

    _, idx = jax.lax.associative_scan(pick, (x, pos), axis=d)
    return jnp.take_along_axis(x, idx, axis=d), idx


def _cum_extreme_samples():
    t = I(3, 6, low=0, high=3)
    n = A(3, 5)
    n[0, 1] = n[0, 3] = n[2, 4] = _NAN
    return [Sample(A(3, 4), 1), Sample(A(2, 3, 4), 0), Sample(A(), 0), Sample(A(0, 3), 0),
            Sample(t, 1), Sample(t.astype("float32"), 1), Sample(n, 1), Sample(B(3, 4), 1),
            Sample(A(5, dtype="float64"), -1), Sample(A(3, 4), 2)]


@register("cummax", samples=_cum_extreme_samples, out_wrap=lambda outs: return_types.cummax(*outs))
def cummax(input, dim):
    """``return_types.cummax(values, indices)``: running maximum along ``dim`` and where it was
    (the latest position among ties; NaN propagates). The gradient goes to those positions."""
    return _cum_extreme("cummax", input, dim, True)


@register("cummin", samples=_cum_extreme_samples, out_wrap=lambda outs: return_types.cummin(*outs))
def cummin(input, dim):
    """``return_types.cummin(values, indices)``: running minimum along ``dim`` (see cummax)."""
    return _cum_extreme("cummin", input, dim, False)


# ----- logical and counting --------------------------------------------------------------------
def _logic_samples():
    x = I(3, 4, low=0, high=3)
    return [Sample(B(3, 4)), Sample(B(3, 4), 1), Sample(B(2, 3, 4), (0, 2), True), Sample(x),
            Sample(x, 0), Sample(x.astype("uint8")), Sample(x.astype("uint8"), 1, True),
            Sample(A(3, 4), 1), Sample(A(0, 3)), Sample(A(0, 3), 1), Sample(B()), Sample(B(3, 4), ()),
            Sample(x.astype("int8"), 0)]


def _logic(op, x, dim, keepdim, fn):
    axes = norm_dims(dim, x.ndim, op)
    out = fn(x != 0, axis=axes, keepdims=keepdim)
    return out.astype(jnp.uint8) if x.dtype == jnp.uint8 else out


@register("all", differentiable=False, samples=_logic_samples)
def all(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """Whether all elements over ``dim`` are nonzero; bool (uint8 for uint8 inputs)."""
    return _logic("all", input, dim, keepdim, jnp.all)


@register("any", differentiable=False, samples=_logic_samples)
def any(input, dim=None, keepdim=False):  # noqa: A001 - torch's name
    """Whether any element over ``dim`` is nonzero; bool (uint8 for uint8 inputs)."""
    return _logic("any", input, dim, keepdim, jnp.any)


@register("count_nonzero", differentiable=False, samples=lambda: [
    Sample(A(3, 4)), Sample(I(3, 4, low=0, high=2)), Sample(I(3, 4, low=0, high=2), 1),
    Sample(I(2, 3, 4, low=0, high=2), (0, 2)), Sample(B(3, 4), -1), Sample(A()), Sample(A(0, 3), 0),
    Sample(A(3, 4), ())])
def count_nonzero(input, dim=None):
    """The number of nonzero elements over ``dim`` (an int or tuple; all if None), as int64."""
    axes = _axes(dim, input.ndim, "count_nonzero")
    return jnp.sum(input != 0, axis=axes, dtype=_LONG)


# ----- softmax ---------------------------------------------------------------------------------
def _softmax_dim(op, x, dim, dtype):
    if dtype is not None:
        x = x.astype(_dtype.to_np(dtype))
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to "
                      f"include dim=X as an argument.", UserWarning, stacklevel=2)
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f'"{op}_kernel_impl" not implemented for \'{_tname(x.dtype)}\'')
    return x, norm_dim(dim, x.ndim, op)


def _softmax_samples():
    x = A(3, 4)
    x[0, :2] = -_INF
    return [Sample(A(3, 4), 1), Sample(A(3, 4), 0), Sample(A(2, 3, 4), -1), Sample(A(), 0),
            Sample(A(0, 3), 1), Sample(x, 1), Sample(A(3, 4, low=50, high=90), 1),
            Sample(A(3, 4, dtype="float64"), 1), Sample(A(3, 4), 1, _dtype.float64),
            Sample(I(3, 4), 1), Sample(I(3, 4), 1, dtype=_dtype.float32)]


@register("softmax", functional=True, samples=_softmax_samples)
def softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """``exp(x) / sum(exp(x))`` along ``dim`` (cast to ``dtype`` first when given).

    ``dim=None`` (only meant for ``nn.functional``) picks torch's legacy implicit dim with a
    deprecation warning.
    """
    x, d = _softmax_dim("softmax", input, dim, dtype)
    return jnp.exp(x - x) if x.ndim == 0 else jax.nn.softmax(x, axis=d)


@register("log_softmax", functional=True, samples=_softmax_samples)
def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """``log(softmax(x))`` along ``dim``, computed stably (cast to ``dtype`` first when given)."""
    x, d = _softmax_dim("log_softmax", input, dim, dtype)
    return x - x if x.ndim == 0 else jax.nn.log_softmax(x, axis=d)
