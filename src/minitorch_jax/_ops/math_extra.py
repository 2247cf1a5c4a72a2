"""Math and statistics ops torch has beside the main families: quantile, nanquantile, histogram,
renorm, gradient, isreal, nuclear_norm, frobenius_norm, igamma/igammac, mvlgamma, binomial and the
bitwise shifts (``<<``, ``>>``).

Documented differences from torch:

- data-dependent checks (``quantile``'s q-tensor range, ``histogram``'s finite range) are made
  eagerly and skipped inside ``mt.jit`` (no value to look at while tracing);
- ``igamma``/``igammac`` are also differentiable in ``input`` (JAX has that derivative; torch raises
  "not implemented" in backward);
- ``binomial`` is not recorded by autograd (torch records a node whose backward raises);
- ``gradient`` also takes numpy arrays as coordinates, and checks that each coordinate tensor has
  one entry per sample (torch broadcasts a mismatch into a meaningless result).
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .. import _dtype
from .. import _random as R
from .._errors import DTypeError, OpTypeError, OpValueError, ShapeError
from .._meta import is_meta_array, meta_array, needs_values
from .._tensor import Tensor, _wrap
from ..return_types import histogram as histogram_result
from ._helpers import A, I, P, Sample, broadcast_check, norm_dim, norm_dims
from ._registry import REGISTRY, register
from .linalg import tname
from .linalg_decomp import _float_input, matrix_norm_kernel, vector_norm_kernel

__all__: list[str] = []

_INF = float("inf")
_LOW = (np.dtype(jnp.float16), np.dtype(jnp.bfloat16))
_F32_64 = (np.dtype(np.float32), np.dtype(np.float64))

# torch.return_types.histogram (to move to return_types.py; see the module docstring there)


def _default_float():
    return _dtype.get_default_dtype().np


def _data_check(flag) -> bool:
    """The value of a data-dependent check, or False while JAX traces (no value yet)."""
    try:
        return bool(flag)
    except jax.errors.ConcretizationTypeError:
        return False


def _num(v) -> str:
    """A number as torch's C++ messages print it (``1``, ``0.5``, ``inf``)."""
    return f"{float(v):g}"


# ----- quantile, nanquantile ---------------------------------------------------------------------
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_kernel(input, q, dim, keepdim, interpolation, ignore_nan):
    """Sort along the reduced dim, turn ``q`` into fractional ranks and interpolate (as torch)."""
    op = "quantile"
    if dim is None:
        s = input.reshape(-1)
        d = None
    else:
        d = norm_dim(dim, input.ndim, op)
        s = jnp.moveaxis(input, d, -1) if input.ndim else input.reshape(1)
    s = jnp.sort(s, axis=-1)
    n = s.shape[-1]
    qv = q.reshape(-1)
    if ignore_nan:  # ranks among the non-NaN values; all NaN gives rank 0 (a NaN result)
        cnt = jnp.sum(~jnp.isnan(s), -1, keepdims=True)
        ranks = qv * (cnt - 1).astype(s.dtype)
        ranks = jnp.where(ranks < 0, 0, ranks)
    else:  # a NaN anywhere: the last rank, where sort put the NaN
        ranks = jnp.broadcast_to(qv * (n - 1), s.shape[:-1] + qv.shape)
        ranks = jnp.where(jnp.any(jnp.isnan(s), -1, keepdims=True), jnp.asarray(n - 1, s.dtype), ranks)
    if interpolation == "lower":
        ranks = jnp.floor(ranks)
    elif interpolation == "higher":
        ranks = jnp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = jnp.round(ranks)  # half to even, as torch's round
    below = ranks.astype(jnp.int32)
    out = jnp.take_along_axis(s, below, -1)
    if interpolation in ("linear", "midpoint"):
        w = jnp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        above = jnp.take_along_axis(s, jnp.ceil(ranks).astype(jnp.int32), -1)
        # torch's lerp: exact at both ends
        out = jnp.where(jnp.abs(w) < 0.5, out + w * (above - out), above - (above - out) * (1 - w))
    out = jnp.moveaxis(out, -1, 0)  # quantiles first
    if q.ndim == 0:
        out = out[0]
    if keepdim:
        lead = out.shape[:1] if q.ndim else ()
        if d is None:
            out = out.reshape(lead + (1,) * input.ndim)
        elif input.ndim:
            out = jnp.expand_dims(out, d + len(lead))
    return out


def _quantile_op(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """Kernel of :func:`quantile`."""
    return _quantile_kernel(input, q, dim, keepdim, interpolation, False)


def _nanquantile_op(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """Kernel of :func:`nanquantile`."""
    return _quantile_kernel(input, q, dim, keepdim, interpolation, True)


def _quantile_call(name, input, q, dim, keepdim, interpolation, out):
    if not isinstance(input, Tensor):
        raise OpTypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                          f"{type(input).__name__}")
    if isinstance(q, Tensor):
        q_is_tensor = True
    elif isinstance(q, (int, float)):
        q_is_tensor = False
        if not 0 <= q <= 1:
            raise ShapeError(f"quantile() q must be in the range [0, 1] but got {q}")
        q = float(q)
    else:
        raise OpTypeError(f"{name}(): argument 'q' (position 2) must be float or Tensor, not "
                          f"{type(q).__name__}")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))):
        raise OpTypeError(f"{name}(): argument 'dim' must be int or None, not {type(dim).__name__}")
    if input.numel() == 0:
        raise ShapeError("quantile() input tensor must be non-empty")
    if q_is_tensor and q.ndim > 1:
        raise ShapeError("quantile() q must be a scalar or 1D tensor")
    if input._data.dtype not in _F32_64:
        raise DTypeError("quantile() input tensor must be either float or double dtype")
    if q_is_tensor and q._data.dtype != input._data.dtype:
        raise DTypeError("quantile() q tensor must be same dtype as the input tensor")
    if interpolation not in _INTERP:
        raise ShapeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or "
                         f"nearest, but got {interpolation}")
    n = input.numel() if dim is None else (input.shape[norm_dim(dim, input.ndim, name)] if input.ndim else 1)
    if n > 2 ** 24:
        raise ShapeError("quantile() input tensor is too large")
    if q_is_tensor and q.numel() and not is_meta_array(q._data) \
            and _data_check(~jnp.all((q._data >= 0) & (q._data <= 1))):
        raise ShapeError("quantile() q values must be in the range [0, 1]")
    kw = {"interpolation": interpolation}
    if out is not None:
        kw["out"] = out
    return REGISTRY[name].call(input, q, dim, keepdim, **kw)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input``, over all elements or along ``dim``.

    Args:
        input: a float32/float64 tensor (non-empty).
        q: a number in ``[0, 1]``, or a 0-D/1-D tensor of them with ``input``'s dtype.
        dim: the dim to reduce; None flattens ``input`` first.
        keepdim: keep the reduced dim(s) with size 1.
        interpolation: when the quantile falls between two sorted values ``a <= b``:
            ``'linear'`` (``a + (b - a) * frac``), ``'lower'`` (a), ``'higher'`` (b),
            ``'midpoint'`` ((a + b) / 2) or ``'nearest'`` (the closer; ties to the even rank).

    A 1-D ``q`` of length Q puts a leading dim of size Q on the result. Any NaN in a reduced
    slice makes its quantiles NaN (see :func:`nanquantile`). Differentiable in ``input`` and ``q``.
    """
    return _quantile_call("quantile", input, q, dim, keepdim, interpolation, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """:func:`quantile` ignoring NaN values, as if they were absent (all-NaN slices give NaN).

    Arguments as :func:`quantile`.
    """
    return _quantile_call("nanquantile", input, q, dim, keepdim, interpolation, out)


def _quantile_samples():
    x = A(3, 5)
    x[1, 2] = np.nan
    return [Sample(A(3, 5), np.array([0.0, 0.3, 1.0], "float32"), 1, True),
            Sample(A(4, 3, dtype="float64"), 0.4, 0, interpolation="midpoint"),
            Sample(x, np.array(0.65, "float32"), -1, interpolation="nearest"),
            Sample(A(2, 3, 4), np.array([0.2, 0.7], "float32"), interpolation="lower", keepdim=True)]


register("quantile", nin=2, promote="common", impl=quantile, samples=_quantile_samples)(_quantile_op)
register("nanquantile", nin=2, promote="common", impl=nanquantile, samples=_quantile_samples)(_nanquantile_op)


# ----- histogram -------------------------------------------------------------------------------
_HIST_NAMES = {"float32": "float", "float64": "double"}


def _torch_linspace(lo, hi, steps):
    """torch's CPU linspace of ``steps`` points (from both ends toward the middle)."""
    dt = lo.dtype
    step = (hi - lo) / jnp.asarray(steps - 1, dt)
    idx = np.arange(steps)
    fwd = lo + step * jnp.asarray(idx, dt)
    bwd = hi - step * jnp.asarray(steps - 1 - idx, dt)
    return jnp.where(idx < steps // 2, fwd, bwd)


def _histogram_kernel(input, bins=None, weight=None, nbins=None, range=None, density=False):  # noqa: A002
    """Kernel of :func:`histogram`: ``(hist, bin_edges, [min, max] of the data)``."""
    dt = input.dtype
    if dt not in _F32_64:
        raise DTypeError(f"histogram(): \"histogramdd\" not implemented for '{tname(dt)}'")
    if bins is not None:
        if bins.dtype != dt:
            raise DTypeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                             f"but got input with dtype {_HIST_NAMES[dt.name]} and bins for dimension 0 "
                             f"with dtype {_HIST_NAMES.get(bins.dtype.name, tname(bins.dtype))}")
        if bins.ndim != 1:
            raise ShapeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                             f"{bins.ndim} dimensions in the bins tensor for dimension 0")
        if bins.shape[0] < 2:
            raise ShapeError(f"torch.histogram(): bins must be > 0, but got {bins.shape[0] - 1} for "
                             f"dimension 0")
    if weight is not None:
        if weight.dtype != dt:
            raise DTypeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight "
                             f"tensor should have the same dtype, but got input({_HIST_NAMES[dt.name]}), "
                             f"and weight({_HIST_NAMES.get(weight.dtype.name, tname(weight.dtype))})")
        if weight.shape != input.shape:
            raise ShapeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape "
                             f"as the input tensor excluding its innermost dimension, but got input with "
                             f"shape {list(input.shape)} and weight with shape {list(weight.shape)}")
    x = input.reshape(-1)
    if bins is not None:
        edges = bins
        data_range = jnp.stack([edges[0], edges[-1]])
    else:
        if range is not None:
            lo, hi = jnp.asarray(range[0], dt), jnp.asarray(range[1], dt)
        elif x.size:
            lo, hi = jnp.min(x), jnp.max(x)
        else:
            lo, hi = jnp.asarray(0, dt), jnp.asarray(1, dt)
        data_range = jnp.stack([lo, hi])
        same = lo == hi
        lo, hi = jnp.where(same, lo - 0.5, lo), jnp.where(same, hi + 0.5, hi)
        edges = _torch_linspace(lo, hi, nbins + 1)
    nb = edges.shape[0] - 1
    pos = jnp.searchsorted(edges, x, side="right") - 1
    pos = jnp.clip(pos, 0, nb - 1)  # the last edge belongs to the last bin
    inside = (x >= edges[0]) & (x <= edges[-1])
    w = jnp.ones_like(x) if weight is None else weight.reshape(-1)
    hist = jnp.zeros(nb, dt).at[pos].add(jnp.where(inside, w, 0))
    if density:
        hist = hist / jnp.sum(hist)
        hist = hist / jnp.diff(edges)
    return hist, edges, data_range


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):  # noqa: A002
    """Histogram of the values of ``input``: a named tuple ``(hist, bin_edges)``.

    Args:
        input: a float32/float64 tensor (flattened).
        bins: an int (that many equal-width bins over ``range``) or a 1-D tensor of increasing bin
            edges (``input``'s dtype; then ``range`` must not be given).
        range: ``(min, max)`` of the equal-width bins; default the data's min and max (expanded by
            0.5 each way when they are equal; ``[0, 1]`` for an empty input).
        weight: a tensor of ``input``'s shape and dtype: each element counts with its weight.
        density: normalise so that the histogram integrates to 1 over the bins.

    Each bin is ``[left, right)``, the last one ``[left, right]``; values outside are not counted.
    Not differentiable.
    """
    needs_values("histogram", input)  # the bins come from the values (torch: no meta kernel either)
    if not isinstance(input, Tensor):
        raise OpTypeError(f"histogram(): argument 'input' (position 1) must be Tensor, not "
                          f"{type(input).__name__}")
    op = REGISTRY["histogram"]
    if isinstance(bins, Tensor):
        if range is not None:
            raise OpTypeError("histogram() received an invalid combination of arguments: range= is only "
                              "accepted with an int bins, not with a bins tensor")
        hist, edges, _ = op.call(input, bins, weight, None, None, bool(density))
    elif isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins <= 0:
            raise ShapeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            if not isinstance(range, (tuple, list)) or len(range) != 2:
                raise OpTypeError(f"histogram(): argument 'range' must be a tuple of two floats, got "
                                  f"{range!r}")
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise ShapeError(f"torch.histogramdd: min should not exceed max, but got min {_num(lo)} max "
                                 f"{_num(hi)} for dimension 0")
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ShapeError(f"torch.histogramdd: dimension 0's range [{_num(lo)}, {_num(hi)}] is not "
                                 f"finite")
            range = (lo, hi)  # noqa: A001
        hist, edges, lohi = op.call(input, None, weight, int(bins), range, bool(density))
        if range is None and _data_check(~jnp.all(jnp.isfinite(lohi._data))):
            lo, hi = np.asarray(lohi._data).tolist()
            raise ShapeError(f"torch.histogramdd: dimension 0's range [{_num(lo)}, {_num(hi)}] is not finite")
    else:
        raise OpTypeError(f"histogram(): argument 'bins' must be int or Tensor, not {type(bins).__name__}")
    res = histogram_result(hist, edges)
    if out is not None:
        for o, r in zip(out, res):
            o._data = r._data.astype(o._data.dtype)
            o._version += 1
        return histogram_result(*out)
    return res


def _histogram_samples():
    x = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 0.25], "float32")
    return [Sample(A(3, 4), 4),
            Sample(A(10, dtype="float64"), 3, range=(-1.0, 1.0), weight=P(10, dtype="float64")),
            Sample(x, np.array([0.0, 0.5, 1.0, 2.5], "float32"), density=True),
            Sample(np.ones(4, "float32"), 3, weight=P(4), density=True)]


register("histogram", nin=3, differentiable=False, impl=histogram,
         samples=_histogram_samples)(_histogram_kernel)


# ----- renorm ----------------------------------------------------------------------------------
def _renorm_samples():
    return [Sample(A(3, 4), 2, 0, 1.0), Sample(A(2, 3, 4), 1, 1, 2.5),
            Sample(A(3, 4, dtype="float64"), _INF, -1, 0.8), Sample(A(4, 3), 1.5, 1, 1.2)]


def _renorm_kernel(input, p, dim, maxnorm):
    """Kernel of :func:`renorm`."""
    if isinstance(p, complex) or isinstance(maxnorm, complex):
        raise ShapeError("renorm: p must be real-valued")
    if not p > 0:
        raise ShapeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise ShapeError(f"renorm: expected maxnorm to be >= 0 but got {_num(maxnorm)}")
    if input.ndim < 2:
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    d = norm_dim(dim, input.ndim, "renorm")
    _float_input("linalg.vector_norm", input)
    axes = tuple(i for i in range(input.ndim) if i != d)
    x = input.astype(jnp.float32) if input.dtype in _LOW else input
    norm = vector_norm_kernel("linalg.vector_norm", x, float(p), axes, True)
    factor = jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), jnp.ones((), norm.dtype))
    return input * factor.astype(input.dtype)


def renorm(input, p, dim, maxnorm):
    """Rescale each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` to norm
    ``maxnorm`` (factor ``maxnorm / (norm + 1e-7)``); the others are left as they are.

    Args:
        input: a float/complex tensor with at least 2 dims.
        p: the norm's power (> 0; ``inf`` allowed).
        dim: the dim whose slices are renormalised.
        maxnorm: the largest norm kept (>= 0).
    """
    # checked here: a float dim would share the compiled kernel of the equal int (0.0 == 0)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise OpTypeError(f"renorm(): argument 'dim' (position 3) must be int, not {type(dim).__name__}")
    return REGISTRY["renorm"].call(input, p, int(dim), maxnorm)


register("renorm", inplace=True, saves=(0,), impl=renorm, samples=_renorm_samples)(_renorm_kernel)


# ----- gradient --------------------------------------------------------------------------------
def _cat_edges(prepend, center, append, d, dt):
    return jnp.concatenate([prepend.astype(dt), center.astype(dt), append.astype(dt)], axis=d)


def _take(x, d, start, stop=None):
    idx = [slice(None)] * x.ndim
    idx[d] = slice(start, stop)
    return x[tuple(idx)]


def _gradient_kernel(input, *coords, dims=(), spacing=None, edge_order=1, dtypes=()):
    """Kernel of :func:`gradient`: ``coords`` (one per dim) or ``spacing`` (one number per dim)."""
    out = []
    for i, d in enumerate(dims):
        res_dt, edge_dt, coord_dt = dtypes[i]
        if coords:
            c = coords[i].astype(coord_dt)
            if c.shape[0] != input.shape[d]:
                raise ShapeError(f"gradient(): spacing coordinates for dim {d} have {c.shape[0]} entries, "
                                 f"expected one per sample ({input.shape[d]})")
            ax = c[1:] - c[:-1]
            dx1, dx2 = ax[:-1], ax[1:]
            shape = [1] * input.ndim
            shape[d] = -1
            a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape).astype(res_dt)
            b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape).astype(res_dt)
            cc = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape).astype(res_dt)
            xr = input.astype(res_dt)
            center = a * _take(xr, d, 0, -2) + b * _take(xr, d, 1, -1) + cc * _take(xr, d, 2)
            xe = input.astype(edge_dt)
            if edge_order == 1:
                pre = (_take(xe, d, 1, 2) - _take(xe, d, 0, 1)) / ax[0].astype(edge_dt)
                app = (_take(xe, d, -1) - _take(xe, d, -2, -1)) / ax[-1].astype(edge_dt)
            else:
                a0, a1 = ax[0], ax[1]
                ea = (-(2.0 * a0 + a1) / (a0 * (a0 + a1))).astype(edge_dt)
                eb = ((a0 + a1) / (a0 * a1)).astype(edge_dt)
                ec = (-a0 / (a1 * (a0 + a1))).astype(edge_dt)
                pre = ea * _take(xe, d, 0, 1) + eb * _take(xe, d, 1, 2) + ec * _take(xe, d, 2, 3)
                z1, z2 = ax[-1], ax[-2]
                ea = (z1 / (z2 * (z1 + z2))).astype(edge_dt)
                eb = (-(z1 + z2) / (z1 * z2)).astype(edge_dt)
                ec = ((2 * z1 + z2) / (z1 * (z1 + z2))).astype(edge_dt)
                app = ea * _take(xe, d, -3, -2) + eb * _take(xe, d, -2, -1) + ec * _take(xe, d, -1)
            out.append(_cat_edges(pre, center, app, d, res_dt))
        else:
            xr = input.astype(res_dt)
            h = jnp.asarray(spacing[i], res_dt)
            center = (_take(xr, d, 2) - _take(xr, d, 0, -2)) / h
            if edge_order == 1:
                pre = (_take(xr, d, 1, 2) - _take(xr, d, 0, 1)) / h
                app = (_take(xr, d, -1) - _take(xr, d, -2, -1)) / h
            else:
                pre = (_take(xr, d, 0, 1) * -1.5 + _take(xr, d, 1, 2) * 2 - _take(xr, d, 2, 3) * 0.5) / h
                app = (_take(xr, d, -3, -2) * 0.5 + _take(xr, d, -2, -1) * -2 + _take(xr, d, -1) * 1.5) / h
            out.append(_cat_edges(pre, center / 2, app, d, res_dt))
    return tuple(out)


def _as_coord(c):
    if isinstance(c, Tensor):
        return c
    if isinstance(c, np.ndarray):
        return _wrap(jnp.asarray(c))
    return None


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimate the gradient of a function sampled in ``input`` by central differences (second
    order accurate inside, first or second order at the boundaries), one tensor per dim.

    Args:
        input: the samples (integer inputs give the default float dtype).
        spacing: the distance between samples: one number for every dim, a list of numbers
            (one per dim in ``dim``), or a list of 1-D coordinate tensors (the sample positions
            along each dim, possibly uneven).
        dim: an int or a list of ints; default every dim.
        edge_order: 1 or 2, the accuracy order of the one-sided differences at the boundaries.

    Returns a tuple with one tensor (``input``'s shape) per dim. Every dim used needs at least
    ``edge_order + 1`` samples.
    """
    if not isinstance(input, Tensor):
        raise OpTypeError(f"gradient(): argument 'input' (position 1) must be Tensor, not "
                          f"{type(input).__name__}")
    nd = input.ndim
    in_dt = input._data.dtype
    if in_dt == np.uint8:
        raise DTypeError("torch.gradient does not support uint8 input.")
    if in_dt == np.bool_:
        raise DTypeError("gradient(): Subtraction, the `-` operator, with two bool tensors is not supported. "
                         "Use the `^` or `logical_xor()` operator instead.")
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()
    if isinstance(spacing, (int, float)) and not isinstance(spacing, bool):
        spacing_list, size = None, None
    elif isinstance(spacing, (list, tuple)):
        spacing_list, size = list(spacing), len(spacing)
    else:
        raise OpTypeError(f"gradient(): argument 'spacing' must be a number or a list of numbers or Tensors, "
                          f"not {type(spacing).__name__}")
    dims_given = dim is not None
    if dim is None:
        dims = tuple(range(nd))
    elif isinstance(dim, (list, tuple)):
        dims = tuple(dim)
    else:
        dims = (dim,)
    if size is not None and not dims_given and size != nd:
        raise ShapeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                         f"equal to 'self.dim() = {nd}', since dim argument was not given, but got a list of "
                         f"length {size}")
    if size is not None and dims_given and size != len(dims):
        raise ShapeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                         f"dim arguments to have the same length, but got a spacing argument of length "
                         f"{size} and a dim argument of length {len(dims)}.")
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise ShapeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = norm_dims(list(dims), nd, "gradient") if dims else ()
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise ShapeError("torch.gradient expected each dimension size to be at least edge_order+1")
    fdef = _default_float()
    res_scalar = in_dt if _dtype.is_inexact(in_dt) else fdef
    coords = ()
    if spacing_list is None:
        numbers = (float(spacing),) * len(dims)
    elif all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in spacing_list):
        numbers = tuple(float(s) for s in spacing_list)
    else:
        numbers = None
        coords = []
        for i, s in enumerate(spacing_list):
            c = _as_coord(s)
            if c is None:
                raise OpTypeError(f"gradient(): expected Tensor as element {i} in argument 1, but got "
                                  f"{type(s).__name__}")
            if c.ndim != 1:
                raise ShapeError(f"torch.gradient expected each element of spacing to have one dimension, "
                                 f"but got an element with {c.ndim} dimensions!")
            coords.append(c)
    dtypes = []
    for i in range(len(dims)):
        if numbers is not None:
            dtypes.append((res_scalar, res_scalar, res_scalar))
            continue
        raw = coords[i]._data.dtype
        cd = raw if _dtype.is_inexact(raw) else fdef
        res = cd if not _dtype.is_inexact(in_dt) else _dtype.promote_types(cd, in_dt).np
        edge = in_dt if _dtype.is_inexact(in_dt) else cd
        dtypes.append((np.dtype(res), np.dtype(edge), np.dtype(cd)))
    return REGISTRY["gradient"].call(input, *coords, dims=tuple(dims), spacing=numbers,
                                     edge_order=int(edge_order), dtypes=tuple(dtypes))


def _gradient_samples():
    return [Sample(A(4, 5)), Sample(A(3, 4), spacing=[2.0, 0.5], edge_order=2),
            Sample(I(5), spacing=2, dim=0),
            Sample(A(3, 4, dtype="float64"), spacing=[np.array([0.0, 1.0, 1.5, 3.5], "float64")], dim=[1],
                   edge_order=2)]


register("gradient", nin=-1, method=False, impl=gradient, samples=_gradient_samples)(_gradient_kernel)


# ----- isreal ----------------------------------------------------------------------------------
@register("isreal", differentiable=False,
          samples=lambda: [Sample(np.array([1 + 1j, 2 + 0j, 0j, -1j], "complex64")), Sample(A(2, 3)),
                           Sample(I(3)), Sample(np.array([True, False]))])
def isreal(input):
    """Whether each element is real: a bool tensor (complex elements: imaginary part == 0;
    real dtypes: all True)."""
    if jnp.iscomplexobj(input):
        return jnp.imag(input) == 0
    return jnp.ones(input.shape, jnp.bool_)


# ----- nuclear_norm, frobenius_norm -------------------------------------------------------------
def _nuclear_norm_kernel(input, dim=(-2, -1), keepdim=False):
    """Kernel of :func:`nuclear_norm`."""
    _float_input("linalg.matrix_norm", input)
    return matrix_norm_kernel("linalg.matrix_norm", input, "nuc", dim, keepdim)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """The nuclear norm (sum of singular values) of the matrices in ``input``.

    Also ``nuclear_norm(input, keepdim)``. ``dim`` is the pair of matrix dims (default the last
    two). Deprecated in torch in favour of ``mt.linalg.matrix_norm(input, 'nuc', dim, keepdim)``.
    """
    warnings.warn("nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed "
                  "in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` "
                  "instead",
                  UserWarning, stacklevel=2)
    if isinstance(dim, bool):  # the nuclear_norm(input, keepdim) overload
        dim, keepdim = None, dim
    if dim is None:
        dim = (-2, -1)
    elif isinstance(dim, (int, np.integer)):
        dim = (int(dim), int(dim))  # an int fills both entries, as torch's IntArrayRef[2]
    else:
        dim = tuple(dim)
    kw = {} if out is None else {"out": out}
    return REGISTRY["nuclear_norm"].call(input, dim, bool(keepdim), **kw)


register("nuclear_norm", method=False, saves=(0,), impl=nuclear_norm, samples=lambda: [
    Sample(A(3, 4)), Sample(A(2, 3, 4), (0, 2), True), Sample(A(3, 3, dtype="float64"), True),
    Sample(A(4, 2), [1, 0])])(_nuclear_norm_kernel)


def _frobenius_norm_kernel(input, dim, keepdim=False):
    """Kernel of :func:`frobenius_norm`."""
    if len(dim) > 2:
        raise ShapeError(f"frobenius_norm(): Expected at most 2 dimensions, but got {len(dim)} dimensions "
                         f"instead.")
    if not _dtype.is_inexact(input.dtype):
        raise DTypeError(f"norm(): input dtype should be either floating point or complex. Got "
                         f"{tname(input.dtype)} instead.")
    axes = norm_dims(list(dim), input.ndim, "frobenius_norm") if dim else None
    return vector_norm_kernel("frobenius_norm", input, 2, axes, keepdim)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """The Frobenius norm (2-norm of the elements) over ``dim`` (an int or up to two dims; an
    empty tuple reduces every dim). Deprecated in torch in favour of
    ``mt.linalg.vector_norm(input, 2, dim, keepdim)``."""
    warnings.warn("frobenius_norm is deprecated and it is just left for JIT compatibility. It will be "
                  "removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` "
                  "instead",
                  UserWarning, stacklevel=2)
    dim = (int(dim),) if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) else tuple(dim)
    kw = {} if out is None else {"out": out}
    return REGISTRY["frobenius_norm"].call(input, dim, bool(keepdim), **kw)


register("frobenius_norm", method=False, saves=(0,), impl=frobenius_norm, samples=lambda: [
    Sample(A(3, 4), (0, 1)), Sample(A(2, 3, 4), 1, True), Sample(A(2, 3, dtype="complex64"), ()),
    Sample(A(2, 3, 4, dtype="float64"), [2, 0])])(_frobenius_norm_kernel)


# ----- igamma, igammac, mvlgamma ---------------------------------------------------------------
def _igamma(op, a, x, upper):
    broadcast_check(op, a, x)
    dt = a.dtype
    if not _dtype.is_floating(dt):
        raise DTypeError(f"{op}(): \"{op}_cpu\" not implemented for '{tname(dt)}'")
    if dt in _LOW:
        return _igamma(op, a.astype(jnp.float32), x.astype(jnp.float32), upper).astype(dt)
    nan = jnp.asarray(jnp.nan, dt)
    bad = (x < 0) | (a < 0)
    a0 = a == 0
    x0 = x == 0
    ainf, xinf = jnp.isinf(a), jnp.isinf(x)
    edge = bad | a0 | x0 | ainf | xinf
    one, zero = jnp.ones((), dt), jnp.zeros((), dt)
    lo, hi = (one, zero) if upper else (zero, one)  # the values at x = 0 and x = inf
    f = jsp.gammaincc if upper else jsp.gammainc
    r = f(jnp.where(edge, 1, a), jnp.where(edge, 1, x))  # boundaries below, with torch's values
    r = jnp.where(xinf, hi, r)
    r = jnp.where(ainf, jnp.where(xinf, nan, lo), r)
    r = jnp.where(x0, lo, r)
    r = jnp.where(a0, jnp.where(x > 0, hi, nan), r)
    return jnp.where(bad, nan, r)


def _igamma_samples():
    edges = (np.array([0.0, 1.0, 2.0, np.inf, 0.0, 1.0, 3.0, -1.0], "float32"),
             np.array([1.0, 0.0, np.inf, 1.0, 0.0, -1.0, 2.0, 1.0], "float32"))
    return [Sample(I(3, 4, low=1, high=5), P(3, 4, low=0.2, high=4.0)),
            Sample(I(4, low=1, high=4), P(3, 4, dtype="float64", low=0.2, high=4.0)),
            Sample(P(3, low=0.5, high=3.0), P(2, 1, low=0.2, high=3.0), grad=False),
            Sample(*edges, grad=False)]


@register("igamma", nin=2, promote="common", inplace=True, saves=(0, 1), samples=_igamma_samples)
def igamma(input, other):
    """The regularized lower incomplete gamma function ``P(input, other)`` (``special.gammainc``).

    ``input`` (a) and ``other`` (x) broadcast; float inputs (an integer one is promoted with the
    other). NaN outside ``a, x >= 0``, as torch. Differentiable in ``other`` (and, unlike torch,
    in ``input``).
    """
    return _igamma("igamma", input, other, False)


@register("igammac", nin=2, promote="common", inplace=True, saves=(0, 1), samples=_igamma_samples)
def igammac(input, other):
    """The regularized upper incomplete gamma function ``Q(input, other) = 1 - P(input, other)``
    (``special.gammaincc``); arguments as :func:`igamma`."""
    return _igamma("igammac", input, other, True)


def _mvlgamma_kernel(input, p):
    """Kernel of :func:`mvlgamma`."""
    if jnp.iscomplexobj(input):
        raise DTypeError(f"mvlgamma(): \"arange_cpu\" not implemented for '{tname(input.dtype)}'")
    args = jnp.asarray(np.arange(-p * 0.5 + 0.5, 0.5, 0.5), input.dtype)
    terms = jsp.gammaln(input[..., None] + args)
    return jnp.sum(terms, -1) + p * (p - 1) * math.log(math.pi) / 4


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension ``p`` (``special.multigammaln``):
    ``sum_{i<p} lgamma(input - i/2) + p (p - 1) / 4 log(pi)``, elementwise.

    ``p`` is an int >= 1; integer inputs give the default float dtype.
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise OpTypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if p < 1:
        raise ShapeError("mvlgamma(): p has to be greater than or equal to 1")
    if isinstance(input, Tensor) and input._data.dtype == np.bool_:
        raise DTypeError("mvlgamma(): The input tensor may not be a boolean tensor.")
    return REGISTRY["mvlgamma"].call(input, int(p))


register("mvlgamma", promote="float", inplace=True, saves=(0,), impl=mvlgamma, samples=lambda: [
    Sample(P(3, 4, low=1.6, high=4.0), 3), Sample(P(5, dtype="float64", low=0.6, high=3.0), 1),
    Sample(I(2, 3, low=2, high=6), 2), Sample(P(4, low=1.1, high=3.0), 2)])(_mvlgamma_kernel)


# ----- binomial --------------------------------------------------------------------------------
def _s_binomial(key, count, prob):
    """Sampler (for ``_random.draw``): Binomial(count, prob) draws, broadcast, in count's dtype."""
    shape = jnp.broadcast_shapes(count.shape, prob.shape)
    a = jnp.float64 if count.dtype == jnp.float64 else jnp.float32
    n = jnp.broadcast_to(count, shape).astype(a)
    p = jnp.broadcast_to(prob, shape).astype(a)
    out = jax.random.binomial(key, jnp.maximum(n, 0), p, shape, dtype=a)
    return out.astype(count.dtype)


R._SAMPLERS.setdefault("binomial", _s_binomial)  # to move into _random._SAMPLERS


def _binomial_kernel(count, prob, key):
    """Kernel of :func:`binomial` (a draw from a raw threefry key)."""
    return _s_binomial(jax.random.wrap_key_data(key, impl="threefry2x32"), count, prob)


def binomial(count, prob, generator=None):
    """Samples of the binomial distribution: the number of successes in ``count`` trials of
    probability ``prob`` (tensors of one float dtype, broadcast). Not differentiable.

    Args:
        count: the number of trials (float tensor of whole numbers >= 0).
        prob: the success probabilities in ``[0, 1]``.
        generator: the :class:`Generator` to draw from (default: the global one).
    """
    for name, t, pos in (("count", count, 1), ("prob", prob, 2)):
        if not isinstance(t, Tensor):
            raise OpTypeError(f"binomial(): argument '{name}' (position {pos}) must be Tensor, not "
                              f"{type(t).__name__}")
    dt = count._data.dtype
    if not _dtype.is_floating(dt):
        raise OpValueError(f"binomial only supports floating-point dtypes for count, got: {tname(dt)}")
    if prob._data.dtype != dt:
        raise DTypeError(f"binomial(): Found dtype {tname(prob._data.dtype)} but expected {tname(dt)}")
    if dt not in _F32_64:
        raise DTypeError(f"binomial(): \"binomial_cpu\" not implemented for '{tname(dt)}'")
    shape = broadcast_check("binomial", count._data, prob._data)
    if is_meta_array(count._data) or is_meta_array(prob._data):  # no draw: the generator stays
        return _wrap(meta_array(shape, dt))
    gen = R.resolve(generator, "binomial")
    return _wrap(R.draw(gen, "binomial", (), count._data, prob._data))


register("binomial", nin=3, method=False, differentiable=False, impl=binomial, samples=lambda: [
    Sample(np.array([[3.0, 0.0, 5.0], [7.0, 2.0, 9.0]], "float32"), np.array([0.0, 1.0, 1.0], "float32")),
    Sample(I(3), A(3)), Sample(A(3), A(3, dtype="float64"))])(_binomial_kernel)


# ----- bitwise shifts --------------------------------------------------------------------------
_SIGNED = {1: jnp.int8, 2: jnp.int16, 4: jnp.int32, 8: jnp.int64}


def _shift(name, kernel, left):
    def fn(input, other):
        dt = jnp.result_type(input)
        if not jnp.issubdtype(dt, jnp.integer):
            raise DTypeError(f"{name}(): \"{kernel}\" not implemented for '{tname(dt)}'")
        broadcast_check(name, input, other)
        other = jnp.asarray(other, dt)
        bits = dt.itemsize * 8
        signed_b = other.astype(_SIGNED[dt.itemsize])  # torch reads the shift as signed
        if left:
            bad = (signed_b < 0) | (signed_b >= bits)
            return jnp.where(bad, jnp.zeros((), dt), jnp.left_shift(input, jnp.where(bad, 0, other)))
        signed = jnp.issubdtype(dt, jnp.signedinteger)
        top = bits - 1 if signed else bits
        bad = (signed_b < 0) | (signed_b >= top)
        if signed:  # arithmetic shift: out of range gives the sign fill
            return jnp.right_shift(input, jnp.where(bad, jnp.asarray(top, dt), other))
        return jnp.where(bad, jnp.zeros((), dt), jnp.right_shift(input, jnp.where(bad, 0, other)))

    fn.__name__ = name
    fn.__doc__ = (f"Elementwise {'left' if left else 'right'} shift of an integer tensor by ``other`` bits "
                  f"(``input {'<<' if left else '>>'} other``; broadcast, dtypes promoted). Shifts outside "
                  f"``[0, bits)`` give {'0' if left else 'the sign fill (0 or -1)'}, as torch.")
    return fn


def _shift_samples():
    return [Sample(I(3, 4, low=-20, high=20), I(4, low=0, high=8)),
            Sample(np.array([1, -16, 3, 5, -128], "int8"), np.array([7, 2, 9, -1, 8], "int8")),
            Sample(np.array([200, 7, 1], "uint8"), np.array([1, 8, 3], "uint8")),
            Sample(np.array([1, -2, 3, -9], "int64"), np.array([-1, 64, 63, 3], "int64"))]


register("bitwise_left_shift", nin=2, promote="common", differentiable=False, inplace=True, dunder="lshift",
         samples=_shift_samples)(_shift("bitwise_left_shift", "lshift_cpu", True))
register("bitwise_right_shift", nin=2, promote="common", differentiable=False, inplace=True, dunder="rshift",
         samples=_shift_samples)(_shift("bitwise_right_shift", "rshift_cpu", False))
