"""Statistics and combinatorics over tensors: diff, histc, bincount, cov, corrcoef, meshgrid, cdist ...

Also the top-level linear-algebra aliases torch keeps beside ``torch.linalg`` (``det``,
``inverse``, ``logdet``, ``chain_matmul``) and ``Tensor.unfold`` (sliding windows).
Documented differences: checks that need the data (``cov`` with negative ``fweights``) are not
made; ``bincount`` runs eagerly (its length depends on the data), so it cannot run under ``mt.jit``.
"""

from __future__ import annotations

import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpIndexError, OpTypeError, ShapeError
from ._helpers import A, I, Sample, broadcast_check, norm_dim
from ._registry import REGISTRY, register
from .linalg import tname
from .linalg_decomp import _float_input, _matrix_input, linalg_det, linalg_inv, linalg_multi_dot

_INF = float("inf")
_HI = jax.lax.Precision.HIGHEST


class _KernelDTypeError(DTypeError, NotImplementedError):
    """A kernel with no implementation for the input's dtype (torch raises NotImplementedError)."""


def _default_float():
    return _dtype.get_default_dtype().np


def _slice(x, d, start, stop):
    idx = [slice(None)] * x.ndim
    idx[d] = slice(start, stop)
    return x[tuple(idx)]


def _safe_pow(s, e):
    """``s ** e`` with a zero gradient where ``s == 0`` (torch's norm convention)."""
    pos = s > 0
    return jnp.where(pos, jnp.where(pos, s, 1) ** e, jnp.zeros((), s.dtype))


# ----- diff -----------------------------------------------------------------------------------
@register("diff", nin=3, promote="common",
          samples=lambda: [Sample(A(5)), Sample(A(3, 4), 2, 0), Sample(I(6), 1, -1, I(2)),
                           Sample(A(3, 4), 1, 1, A(3, 1), A(3, 2, dtype="float64")),
                           Sample(np.array([True, False, False])), Sample(A(4), 7),
                           Sample(A(4), -1), Sample(A()), Sample(A(3, 1), 1, -1, A(2)),
                           Sample(A(3), 1, 2), Sample(A(0, 3), 1, 0)])
def _diff_kernel(input, prepend=None, append=None, n=1, dim=-1):
    """Kernel of :func:`diff` (tensor arguments first)."""
    if n < 0:
        raise ShapeError(f"diff(): order must be non-negative but got {n}")
    if input.ndim == 0:
        raise ShapeError("diff(): diff expects input to be at least one-dimensional")
    d = norm_dim(dim, input.ndim, "diff")
    parts = []
    for p in (prepend, append):
        if p is not None and p.ndim != input.ndim:
            raise ShapeError(f"diff(): diff expects prepend or append to be the same dimension as "
                             f"input (got {p.ndim}-D and {input.ndim}-D)")
    x = jnp.concatenate([p for p in (prepend, input, append) if p is not None] + parts, axis=d) \
        if prepend is not None or append is not None else input
    for _ in range(n):
        a, b = _slice(x, d, 1, None), _slice(x, d, None, -1)
        x = (a != b) if x.dtype == np.bool_ else a - b
    return x


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``: ``out[i] = input[i + 1] - input[i]``.

    Args:
        input: a tensor with at least one dim (bool tensors give ``!=`` of neighbours).
        n: how many times to difference (>= 0); the result is ``n`` shorter along ``dim``.
        dim: the dim to difference along (default last).
        prepend, append: tensors (same number of dims) joined before/after ``input`` first.
    """
    return REGISTRY["diff"].call(input, prepend, append, n, dim)


REGISTRY["diff"].impl = diff
REGISTRY["diff"].doc = diff.__doc__


# ----- histc, bincount, isin ------------------------------------------------------------------
@register("histc", differentiable=False,
          samples=lambda: [Sample(A(20)), Sample(A(4, 5), 4, -1.0, 1.0), Sample(A(7, dtype="float64"), 3),
                           Sample(np.ones(3, "float32"), 4), Sample(A(0), 3), Sample(I(5)),
                           Sample(A(5), 4, 2, 1), Sample(A(5), 0),
                           Sample(np.array([0.0, 0.5, 1.0, 2.0, -1.0], "float32"), 2, 0, 1)])
def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of ``input`` in ``bins`` equal bins over ``[min, max]`` (values outside ignored).

    With ``min == max`` the data's minimum and maximum are used. Float input only; the result
    has ``bins`` elements of ``input``'s dtype. Not differentiable.
    """
    dt = input.dtype
    if not _dtype.is_floating(dt):
        raise DTypeError(f"histc(): \"histogram_cpu\" not implemented for '{tname(dt)}'")
    if bins <= 0:
        raise ShapeError(f"histc(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise ShapeError(f"torch.histc: max must be larger than min (got min={min}, max={max})")
    lo, hi = jnp.asarray(min, dt), jnp.asarray(max, dt)
    x = input.reshape(-1)
    if min == max and x.size:
        lo, hi = jnp.min(x), jnp.max(x)
    same = lo == hi
    lo, hi = jnp.where(same, lo - 1, lo), jnp.where(same, hi + 1, hi)
    inside = (x >= lo) & (x <= hi)
    pos = jnp.where(inside, (x - lo) * bins / (hi - lo), 0).astype(np.int64)
    pos = jnp.clip(pos, 0, bins - 1)
    return jnp.zeros(bins, dt).at[pos].add(inside.astype(dt))


def _bincount_samples():
    return [Sample(I(8, low=0, high=5)), Sample(I(6, low=0, high=4), A(6), grad=False),
            Sample(I(5, low=0, high=3), I(5), 7), Sample(I(0), None, 3),
            Sample(I(4, low=0, high=3, dtype="int32"), A(4, dtype="float64"), grad=False),
            Sample(I(4)), Sample(A(4)), Sample(I(2, 2, low=0)), Sample(I(3, low=0), None, -1),
            Sample(I(3, low=0), A(2))]


@register("bincount", nin=2, jit=False, samples=_bincount_samples)
def bincount(input, weights=None, minlength=0):
    """Count occurrences of each value in a 1-D non-negative integer tensor.

    Args:
        input: 1-D integer tensor of non-negative values.
        weights: optional 1-D tensor of ``input``'s length; sums the weights instead of counting.
        minlength: the least length of the result.

    Returns ``(max(max(input) + 1, minlength),)``: int64 counts, or sums of ``weights`` (their
    float dtype; float64 for integer weights). The length depends on the data: runs eagerly.
    """
    if not jnp.issubdtype(input.dtype, jnp.integer):
        raise _KernelDTypeError(f"bincount(): \"bincount_cpu\" not implemented for '{tname(input.dtype)}'")
    if minlength < 0:
        raise ShapeError(f"bincount(): minlength should be >= 0 (got {minlength})")
    if input.ndim != 1 or (input.size and int(jnp.min(input)) < 0):
        raise ShapeError("bincount(): bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise ShapeError(f"bincount(): weights should be 1-d and have the same length as input "
                         f"(got {list(weights.shape)} and {list(input.shape)})")
    length = builtins_max(int(jnp.max(input)) + 1 if input.size else 0, minlength)
    if weights is None:
        return jnp.zeros(length, np.int64).at[input].add(1)
    wdt = weights.dtype if _dtype.is_floating(weights.dtype) else np.dtype(np.float64)
    return jnp.zeros(length, wdt).at[input].add(weights.astype(wdt))


builtins_max = max


@register("isin", nin=2, promote="common", method=False,
          samples=lambda: [Sample(I(6), I(3)), Sample(A(2, 3), A(4), invert=True), Sample(I(5), 3),
                           Sample(2, I(4)), Sample(I(4), A(3)), Sample(I(3), I(0)),
                           Sample(I(2, 3), I(2, 2, dtype="int32"), assume_unique=True)])
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` occurs in ``test_elements`` (bool, ``elements``' shape).

    Either argument may be a scalar. ``invert=True`` gives the opposite; ``assume_unique`` is
    accepted for compatibility (it only speeds torch up).
    """
    return jnp.isin(elements, test_elements, invert=invert)


# ----- cov, corrcoef --------------------------------------------------------------------------
def _cov_samples():
    return [Sample(A(3, 5)), Sample(A(6)), Sample(I(2, 4)), Sample(A(2, 4), correction=0),
            Sample(A(2, 4), fweights=I(4, low=0, high=4)),
            Sample(A(3, 4, dtype="float64"), aweights=A(4, dtype="float64", low=0.5, high=2)),
            Sample(A(2, 5), fweights=I(5, low=1, high=3), aweights=A(5, low=0.5, high=2), correction=2),
            Sample(A(2, 1)), Sample(A(2, 3, 4)), Sample(A(2, 3), fweights=A(3)),
            Sample(A(2, 3), aweights=I(3)), Sample(A(2, 3), aweights=A(2))]


def _cov(op, input, fweights, aweights, correction):
    if input.ndim > 2:
        raise ShapeError(f"{op}(): expected input to have two or fewer dimensions but got an input with "
                         f"{input.ndim} dimensions")
    dt = _dtype.result_type_of([v for v in (input, aweights) if v is not None])
    if not _dtype.is_inexact(dt):
        dt = _default_float()
    x = (input if input.ndim == 2 else input.reshape(1, -1)).astype(dt)
    n_obs = x.shape[1]
    w = None
    for name, v, ok, kind in (("fweights", fweights, lambda t: jnp.issubdtype(t, jnp.integer), "integral"),
                              ("aweights", aweights, _dtype.is_floating, "floating point")):
        if v is None:
            continue
        if v.ndim > 1:
            raise ShapeError(f"{op}(): expected {name} to have one or fewer dimensions but got {name} "
                             f"with {v.ndim} dimensions")
        if not ok(v.dtype):
            raise ShapeError(f"{op}(): expected {name} to have {kind} dtype but got {name} with "
                             f"{tname(v.dtype)} dtype")
        if v.size != n_obs:
            raise ShapeError(f"{op}(): expected {name} to have the same numel as there are observations "
                             f"in the input but got {v.size} != {n_obs}")
        v = v.reshape(-1).astype(dt)
        w = v if w is None else w * v
    if w is None:
        avg = jnp.mean(x, 1)
        norm = n_obs - correction
    else:
        w_sum = jnp.sum(w)
        avg = jnp.sum(x * w, 1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * jnp.sum(w * aweights.reshape(-1).astype(dt)) / w_sum
    norm = jnp.where(norm <= 0, 0, jnp.asarray(norm, dt).real).astype(dt)
    xc = x - avg[:, None]
    xw = xc if w is None else xc * w
    c = jnp.matmul(xc, jnp.conj(xw).T, precision=_HI) / norm
    return jnp.squeeze(c)


@register("cov", nin=3, samples=_cov_samples)
def cov(input, fweights=None, aweights=None, *, correction=1):
    """Covariance matrix of the variables in the rows of ``input`` (observations in columns).

    Args:
        input: ``(V, N)`` or ``(N,)`` (one variable) tensor; integers give the default float dtype.
        correction: subtracted from the number of observations (1: Bessel's correction).
        fweights: optional ``(N,)`` integer frequency weights.
        aweights: optional ``(N,)`` float observation weights.

    Returns ``(V, V)``, squeezed (a 0-d tensor for one variable).
    """
    return _cov("cov", input, fweights, aweights, correction)


@register("corrcoef", samples=lambda: [Sample(A(3, 5)), Sample(I(6)), Sample(A(2, 4, dtype="float64")),
                                       Sample(A(2, 3, 4)), Sample(A()), Sample(A(1, 4))])
def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input`` (see :func:`cov`), clipped to [-1, 1]."""
    c = _cov("corrcoef", input, None, None, 1)
    if c.ndim == 0:
        return c / c
    d = jnp.diagonal(c)
    sd = jnp.sqrt(d.real if jnp.iscomplexobj(d) else d)
    c = c / sd[:, None]
    c = c / sd[None, :]
    if jnp.iscomplexobj(c):
        return jax.lax.complex(jnp.clip(c.real, -1, 1), jnp.clip(c.imag, -1, 1))
    return jnp.clip(c, -1, 1)


# ----- meshgrid, cartesian_prod, combinations, block_diag ---------------------------------------
def _meshgrid_kernel(op, tensors, indexing):
    if not tensors:
        raise ShapeError(f"{op}(): meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.dtype != tensors[0].dtype:
            raise ShapeError(f"{op}(): meshgrid expects all tensors to have the same dtype (tensor 0 is "
                             f"{tname(tensors[0].dtype)}, tensor {i} is {tname(t.dtype)})")
        if t.ndim > 1:
            raise ShapeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                             f"tensor of shape {list(t.shape)} at position {i}")
    if indexing not in ("ij", "xy"):
        raise ShapeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    return tuple(jnp.meshgrid(*[t.reshape(-1) for t in tensors], indexing=indexing))


@register("meshgrid", nin=-1, method=False,
          samples=lambda: [Sample(A(3), A(4), indexing="ij"), Sample(A(3), A(2), A(4), indexing="xy"),
                           Sample([A(2), A()], indexing="xy"), Sample(A(3), indexing="ij"),
                           Sample(I(2), I(3), indexing="xy"), Sample(A(3), I(2), indexing="ij"),
                           Sample(A(2, 2), indexing="ij"), Sample(A(2), indexing="yx"),
                           Sample(A(0), A(2), indexing="ij")])
def _meshgrid(*tensors, indexing="ij"):
    """Kernel of :func:`meshgrid`."""
    return _meshgrid_kernel("meshgrid", tensors, indexing)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 0-D/1-D tensors of one dtype: a tuple of ``len(tensors)`` tensors.

    Args:
        tensors: the tensors, as separate arguments or one list/tuple.
        indexing: ``'ij'`` (matrix, shape ``(N1, N2, ...)``) or ``'xy'`` (Cartesian: the first two
            dims swapped). Omitted, it is ``'ij'`` with torch's warning.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    return REGISTRY["meshgrid"].call(*tensors, indexing=indexing)


REGISTRY["meshgrid"].impl = meshgrid
REGISTRY["meshgrid"].doc = meshgrid.__doc__


def _need_1d(x, op):
    if x.ndim != 1:
        raise ShapeError(f"{op}(): Expect a 1D vector, but got shape {list(x.shape)}")


@register("cartesian_prod", nin=-1, method=False,
          samples=lambda: [Sample(A(3), A(2)), Sample(I(2), I(3), I(2)), Sample(A(4)), Sample(A(3), I(2)),
                           Sample(A(3), A(2, 1)), Sample(A(0), A(2))])
def cartesian_prod(*tensors):
    """Cartesian product of 1-D tensors: ``(N1 * N2 * ..., len(tensors))`` (one tensor: itself)."""
    for t in tensors:
        _need_1d(t, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0] + jnp.zeros((), tensors[0].dtype)
    grids = _meshgrid_kernel("cartesian_prod", tensors, "ij")
    return jnp.stack([g.reshape(-1) for g in grids], 1)


@register("combinations", method=False,
          samples=lambda: [Sample(A(4)), Sample(A(4), 3), Sample(I(3), 2, True), Sample(A(2), 3, True),
                           Sample(A(5), 0), Sample(A(3), 4), Sample(A(0), 2), Sample(A(3), -1),
                           Sample(A(2, 2))])
def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the elements of a 1-D tensor (as Python's itertools).

    Returns ``(C, r)`` (``(0,)`` for ``r == 0``); ``with_replacement=True`` allows repeats.
    """
    _need_1d(input, "combinations")
    if r < 0:
        raise ShapeError(f"combinations(): Expect a non-negative number, but got {r}")
    if r == 0:
        return jnp.zeros((0,), input.dtype)
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return input[idx]


def _combinations(input, r=2, with_replacement=False):
    # torch builds the r == 0 result from scratch: it is not part of the graph
    x = input.detach() if r == 0 and hasattr(input, "detach") else input
    return REGISTRY["combinations"].call(x, r, with_replacement)


_combinations.__doc__ = combinations.__doc__
REGISTRY["combinations"].impl = _combinations


@register("block_diag", nin=-1, method=False, promote="common",
          samples=lambda: [Sample(A(2, 3), A(1, 2)), Sample(A(3), I(2, 2), A()), Sample(A(2, 2)),
                           Sample(I(), A(0, 3)), Sample(A(2, 2, 2)), Sample(A(1, 2, dtype="float64"), A(2))])
def block_diag(*tensors):
    """Block-diagonal matrix from 0-, 1- or 2-D tensors (0-D: 1x1, 1-D: a row); dtypes promoted."""
    if not tensors:
        return jnp.zeros((1, 0), _default_float())
    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                             f"has {t.ndim} dimensions")
        mats.append(t.reshape((1,) * (2 - t.ndim) + t.shape))
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    out = jnp.zeros((rows, cols), mats[0].dtype)
    r = c = 0
    for m in mats:
        out = out.at[r:r + m.shape[0], c:c + m.shape[1]].set(m)
        r, c = r + m.shape[0], c + m.shape[1]
    return out


# ----- distances ------------------------------------------------------------------------------
def _pnorm(d, p, axis):
    """``||d||_p`` over ``axis`` (non-negative ``p``, inf, -inf), zero gradient at zero."""
    a = jnp.abs(d)
    if p == 0:
        return jnp.sum(a != 0, axis).astype(a.dtype)
    if p == _INF:
        return jnp.max(a, axis, initial=0)
    if p == -_INF:
        return jnp.min(a, axis)
    if p == 1:
        return jnp.sum(a, axis)
    if p == 2:
        return _safe_pow(jnp.sum((d * jnp.conj(d)).real if jnp.iscomplexobj(d) else d * d, axis), 0.5)
    safe = jnp.where(a > 0, a, 1)
    return _safe_pow(jnp.sum(jnp.where(a > 0, safe ** p, 0), axis), 1.0 / p)


class _Shape:
    """A shape alone, for :func:`broadcast_check` of batch dims."""

    def __init__(self, shape):
        self.shape = shape


def _cdist_samples():
    x = A(4, 3)
    return [Sample(A(4, 3), A(5, 3)), Sample(x, x.copy()), Sample(A(2, 3, 2), A(4, 2), 1.0),
            Sample(A(2, 1, 3, 2), A(3, 4, 2), 3.0), Sample(A(3, 2, dtype="float64"), A(2, 2), _INF),
            Sample(A(3, 2), A(2, 2), 0.0, grad=False), Sample(A(3, 2), A(2, 2), 0.5),
            Sample(A(0, 2), A(3, 2)), Sample(I(3, 2), I(2, 2)), Sample(A(3), A(3)),
            Sample(A(3, 2), A(3, 4)), Sample(A(3, 2), A(3, 2), -1.0),
            Sample(A(3, 2), A(3, 2, dtype="float64"))]


@register("cdist", nin=2, method=False, saves=(0, 1), samples=_cdist_samples)
def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of ``x1`` ``(*, P, M)`` and ``x2`` ``(*, R, M)``.

    Returns ``(*, P, R)`` (batch dims broadcast). ``p >= 0`` (``inf`` too). ``compute_mode`` is
    accepted and ignored: distances always come from the differences (the accurate way).
    """
    for name, x in (("X1", x1), ("X2", x2)):
        if not _dtype.is_floating(x.dtype):
            raise ShapeError(f"cdist(): cdist only supports floating-point dtypes, {name} got: "
                             f"{tname(x.dtype)}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist(): cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist(): X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                         f"X2: {x2.shape[-1]}")
    if p < 0:
        raise ShapeError(f"cdist(): cdist only supports non-negative p values (got {p})")
    if x1.dtype != x2.dtype:
        raise ShapeError(f"cdist(): expected scalar type {tname(x1.dtype)} but found {tname(x2.dtype)}")
    batch = broadcast_check("cdist", _Shape(x1.shape[:-2]), _Shape(x2.shape[:-2]))
    x1 = jnp.broadcast_to(x1, batch + x1.shape[-2:])
    x2 = jnp.broadcast_to(x2, batch + x2.shape[-2:])
    d = x1[..., :, None, :] - x2[..., None, :, :]
    return _pnorm(d, float(p), -1)


@register("dist", nin=2, promote="common", saves=(0, 1),
          samples=lambda: [Sample(A(3, 4), A(4)), Sample(A(5), A(5), 1), Sample(A(2, 3), A(2, 3), 3.0),
                           Sample(A(4, dtype="float64"), A(4), _INF), Sample(A(4), I(4), 0, grad=False),
                           Sample(A(3), A(3), -_INF), Sample(I(3), I(3)), Sample(A(3), A(2)),
                           Sample(A(), A(3))])
def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast), a 0-d tensor (``p`` may be 0, inf, -inf)."""
    broadcast_check("dist", input, other)
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(f"dist(): norm(): input dtype should be either floating point or complex. Got "
                         f"{tname(input.dtype)} instead.")
    d = (input - other).reshape(-1)
    out = _pnorm(d, float(p), 0)
    return out.astype(jnp.finfo(input.dtype).dtype)


# ----- trapezoid ------------------------------------------------------------------------------
def _trap_setup(op, y, x, dx, dim):
    if y.ndim == 0:
        raise OpIndexError(f"{op}(): Dimension specified as {dim} but tensor has no dimensions")
    d = norm_dim(dim, y.ndim, op)
    if x is not None and dx is not None:
        raise OpTypeError(f"{op}() received an invalid combination of arguments: give x or dx, not both")
    if x is None:
        return d, None
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise ShapeError(f"{op}(): There must be one `x` value for each sample point "
                             f"(x has {x.shape[0]}, y has {y.shape[d]} along dim {d})")
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        xv = x.reshape(shape)
    elif x.ndim < y.ndim:
        xv = x.reshape((1,) * (y.ndim - x.ndim) + x.shape)
    else:
        xv = x
    dxv = _slice(xv, d, 1, None) - _slice(xv, d, None, -1)
    broadcast_check(op, dxv, _slice(y, d, 1, None))
    return d, dxv


def _trap_samples():
    return [Sample(A(5)), Sample(A(3, 4), A(4)), Sample(A(3, 4), dx=0.5), Sample(I(5)),
            Sample(A(3, 4), A(3, 4), dim=0), Sample(A(2, 3), I(2, 3)), Sample(A(4), A(3)),
            Sample(A()), Sample(A(3, 0)), Sample(A(3, 4), A(2, 3, 4)), Sample(I(4), dx=2)]


@register("trapezoid", nin=2, promote="float", method=False, aliases=("trapz",), samples=_trap_samples)
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (alias ``trapz``).

    Args:
        y: the sampled values.
        x: sample positions: 1-D (one per sample along ``dim``) or broadcastable to ``y``.
        dx: constant spacing when ``x`` is not given (default 1).
        dim: the dim to integrate along.
    """
    d, dxv = _trap_setup("trapezoid", y, x, dx, dim)
    if dxv is not None:
        return jnp.sum(dxv * (_slice(y, d, 1, None) + _slice(y, d, None, -1)) / 2, d)
    if y.shape[d] == 0:
        return jnp.sum(y, d)
    first, last = jnp.take(y, 0, d), jnp.take(y, -1, d)
    return (jnp.sum(y, d) - (first + last) * 0.5) * (1 if dx is None else dx)


def _trapezoid(y, x=None, *, dx=None, dim=-1):
    # torch returns fresh zeros (outside the graph) when y is empty along dim
    shape = getattr(y, "shape", ())
    if len(shape) and -len(shape) <= dim < len(shape) and shape[dim] == 0:
        y = y.detach()
        x = x.detach() if hasattr(x, "detach") else x
    return REGISTRY["trapezoid"].call(y, x, dx=dx, dim=dim)


_trapezoid.__doc__ = trapezoid.__doc__
REGISTRY["trapezoid"].impl = _trapezoid


@register("cumulative_trapezoid", nin=2, promote="float", method=False, samples=_trap_samples)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoidal integral of ``y`` along ``dim`` (one element shorter there).

    Arguments as :func:`trapezoid`.
    """
    d, dxv = _trap_setup("cumulative_trapezoid", y, x, dx, dim)
    s = _slice(y, d, 1, None) + _slice(y, d, None, -1)
    if dxv is not None:
        return jnp.cumsum(dxv * s / 2, axis=d)
    return jnp.cumsum((1 if dx is None else dx) / 2 * s, axis=d)


# ----- Tensor.unfold --------------------------------------------------------------------------
@register("unfold", function=False,
          samples=lambda: [Sample(A(7), 0, 2, 1), Sample(A(3, 8), 1, 3, 2), Sample(A(4, 5, 2), -3, 2, 3),
                           Sample(A(), 0, 1, 1), Sample(A(5), 0, 0, 1), Sample(I(6), 0, 6, 1),
                           Sample(A(5), 0, 6, 1), Sample(A(5), 0, 2, 0), Sample(A(5), 0, -1, 1),
                           Sample(A(5), 1, 2, 1), Sample(A(), 0, 2, 1)])
def unfold(input, dimension, size, step):
    """All slices of length ``size`` along ``dimension``, ``step`` apart, as a new last dim.

    The result has ``(input.size(dimension) - size) // step + 1`` in place of ``dimension`` and a
    last dim of ``size``.
    """
    d = norm_dim(dimension, input.ndim, "unfold")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x.shape[d]
    if size < 0:
        raise ShapeError(f"unfold(): size is {size} but must be >= 0")
    if size > n:
        raise ShapeError(f"unfold(): maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise ShapeError(f"unfold(): step is {step} but must be > 0")
    if input.ndim == 0:
        return x[:size]
    count = (n - size) // step + 1
    idx = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    return jnp.moveaxis(x[(slice(None),) * d + (idx,)], d + 1, -1)


# ----- top-level linear-algebra names -----------------------------------------------------------
def _sq_samples():
    m = A(3, 3) + 3 * np.eye(3, dtype="float32")
    return [Sample(m), Sample(A(2, 3, 3) + 3 * np.eye(3, dtype="float32")),
            Sample(A(2, 2, dtype="float64") + 2 * np.eye(2)), Sample(A(0, 0)), Sample(A(2, 3)),
            Sample(I(2, 2)), Sample(A(3))]


@register("det", saves=(0,), samples=_sq_samples)
def det(input):
    """Determinant of square matrices ``(*, n, n)`` (same as ``mt.linalg.det``)."""
    return linalg_det(input)


@register("inverse", saves="output", samples=_sq_samples)
def inverse(input):
    """Inverse of square invertible matrices ``(*, n, n)`` (same as ``mt.linalg.inv``)."""
    return linalg_inv(input)


@register("logdet", saves=(0,),
          samples=lambda: [*_sq_samples(), Sample(-np.eye(3, dtype="float32"), grad=False),
                           Sample(np.zeros((2, 2), "float32"), grad=False)])
def logdet(input):
    """``log(det(input))`` of square matrices: NaN for a negative determinant, -inf for zero."""
    _float_input("logdet", input)
    _matrix_input("logdet", input)
    if input.shape[-1] == 0:
        return jnp.zeros(input.shape[:-2], input.dtype)
    sign, logabs = jnp.linalg.slogdet(input)
    if jnp.iscomplexobj(input):
        return jnp.log(sign) + logabs
    return jnp.where(sign < 0, jnp.asarray(math.nan, logabs.dtype), logabs)


@register("chain_matmul", nin=-1, method=False, precision=True,
          samples=lambda: [Sample(A(2, 3), A(3, 4), A(4, 2)), Sample(A(3, 2)), Sample(A(2, 2), A(2, 3)),
                           Sample(A(3), A(3)), Sample(A(2, 2), A(2, 2, dtype="float64")),
                           Sample(A(2, 3), A(2, 3))])
def chain_matmul(*matrices, precision=None):
    """Product of 2-D matrices ``m1 @ m2 @ ...`` in the cheapest order (deprecated in torch for
    ``mt.linalg.multi_dot``)."""
    if not matrices:
        raise ShapeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise ShapeError(f"chain_matmul(): Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0] + jnp.zeros((), matrices[0].dtype)
    return linalg_multi_dot(*matrices, precision=precision)
