"""nn.functional kernels: pooling (max/avg/lp/adaptive, 1d-3d) and ``max_unpool``.

Windows are planned in numpy at trace time (output sizes, padding, divisors, index tables), so a
call is one jitted kernel. Max pooling without indices is ``lax.reduce_window``; with indices (and
adaptive max pooling) the windows are gathered through an index table and reduced with argmax,
which also sends the gradient to the first maximum, as torch does.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import DTypeError, ShapeError
from ._helpers import A, I, Sample
from ._registry import register
from .nn_conv import ntuple

__all__ = ["pool_out_size", "apply_taps", "adaptive_taps"]


def pool_out_size(n, k, s, p, d, ceil_mode):
    """torch's pooling output length along one dim."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _is_float(x):
    return jnp.issubdtype(x.dtype, jnp.floating)


def _lowest(dt):
    return -jnp.inf if jnp.issubdtype(dt, jnp.floating) else jnp.iinfo(dt).min


def _check_rank(op, x, nd, batch_msg=True):
    if x.ndim not in (nd + 1, nd + 2) or any(n == 0 for n in x.shape[x.ndim - nd - 1:]):
        raise ShapeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim "
                         f"batch size for input, but got: {list(x.shape)}")


def _plan(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode, kind="max"):
    """Checked window parameters and output sizes of a pooling op."""
    _check_rank(op, x, nd)
    k = ntuple(kernel_size, nd, op, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else \
        ntuple(stride, nd, op, "stride")
    p = ntuple(padding, nd, op, "padding")
    d = ntuple(dilation, nd, op, "dilation")
    if any(e <= 0 for e in k):
        raise ShapeError(f"{op}(): kernel size should be greater than zero, but got kernel_size={list(k)}")
    if any(e <= 0 for e in s):
        raise ShapeError(f"{op}(): stride should be greater than zero, but got stride={list(s)}")
    if any(e <= 0 for e in d):
        raise ShapeError(f"{op}(): dilation should be greater than zero, but got dilation={list(d)}")
    if any(e < 0 for e in p):
        raise ShapeError(f"{op}(): pad must be non-negative, but got pad={list(p)}")
    for pp, kk, dd in zip(p, k, d):
        if pp > kk // 2:
            what = "effective kernel size" if kind == "max" else "kernel size"
            raise ShapeError(f"{op}(): pad should be at most half of {what}, but got pad={pp}, "
                             f"kernel_size={kk} and dilation={dd}")
    ins = x.shape[-nd:]
    outs = tuple(pool_out_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in zip(ins, k, s, p, d))
    if any(o < 1 for o in outs):
        c = x.shape[-nd - 1]
        raise ShapeError(f"{op}(): Given input size: ({'x'.join(map(str, (c,) + ins))}). Calculated output "
                         f"size: ({'x'.join(map(str, (c,) + outs))}). Output size is too small")
    return k, s, p, d, outs


def _reduce(x, nd, k, s, p, d, outs, init, comp):
    """``lax.reduce_window`` over the last ``nd`` dims, padded as torch (ceil_mode included)."""
    lead = x.ndim - nd
    pads = []
    for n, kk, ss, pp, dd, o in zip(x.shape[-nd:], k, s, p, d, outs):
        need = (o - 1) * ss + dd * (kk - 1) + 1
        pads.append((pp, max(need - n - pp, 0)))
    y = lax.reduce_window(x, np.asarray(init, x.dtype), comp, (1,) * lead + k, (1,) * lead + s,
                          ((0, 0),) * lead + tuple(pads), window_dilation=(1,) * lead + d)
    return y[(Ellipsis,) + tuple(slice(0, o) for o in outs)]


def _table(ins, dims):
    """Flat-index table over an input plane of shape ``ins``: ``dims`` holds per dim ``pos[o, j]`` and
    ``valid[o, j]``. Returns ``idx, valid`` of shape ``(prod(out), prod(window))``."""
    nd = len(ins)
    strides = [int(np.prod(ins[i + 1:], dtype=np.int64)) for i in range(nd)]
    flat = np.zeros([1] * (2 * nd), np.int64)
    ok = np.ones([1] * (2 * nd), bool)
    for i, (pos, val) in enumerate(dims):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = pos.shape
        flat = flat + pos.reshape(shape) * strides[i]
        ok = ok & val.reshape(shape)
    o = int(np.prod(flat.shape[:nd], dtype=np.int64))
    return np.where(ok, flat, 0).reshape(o, -1), ok.reshape(o, -1)


def _gather_max(x, nd, idx, valid, outs):
    """Max and its flat input index over the windows of an index table."""
    lead = x.shape[:-nd]
    xf = x.reshape(lead + (-1,))
    g = xf[..., idx]
    if not valid.all():
        g = jnp.where(valid, g, jnp.asarray(_lowest(x.dtype), x.dtype))
    am = jnp.argmax(g, axis=-1)[..., None]
    val = jnp.take_along_axis(g, am, axis=-1)[..., 0]
    ind = jnp.take_along_axis(jnp.broadcast_to(jnp.asarray(idx), g.shape), am, axis=-1)[..., 0]
    return val.reshape(lead + outs), ind.reshape(lead + outs)


def _max_pool(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    k, s, p, d, outs = _plan(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices and all(e == 1 for e in d):  # (jax has no VJP for dilated max windows)
        return _reduce(x, nd, k, s, p, d, outs, _lowest(x.dtype), lax.max)
    dims = []
    for n, kk, ss, pp, dd, o in zip(x.shape[-nd:], k, s, p, d, outs):
        pos = np.arange(o)[:, None] * ss - pp + np.arange(kk)[None, :] * dd
        dims.append((pos, (pos >= 0) & (pos < n)))
    idx, valid = _table(x.shape[-nd:], dims)
    val, ind = _gather_max(x, nd, idx, valid, outs)
    return (val, ind) if return_indices else val


def _divisor(ins, k, s, p, outs, count_include_pad):
    div = np.ones((), np.int64)
    for n, kk, ss, pp, o in zip(ins, k, s, p, outs):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, n + pp)
        size = end - start
        real = np.minimum(end, n) - np.maximum(start, 0)
        div = np.multiply.outer(div, size if count_include_pad else real)
    return div


def _avg_pool(op, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k, s, p, d, outs = _plan(op, x, nd, kernel_size, stride, padding, 1, ceil_mode, kind="avg")
    if divisor_override is not None and divisor_override == 0:
        raise ShapeError(f"{op}(): divisor must be not zero")
    total = _reduce(x, nd, k, s, p, d, outs, 0, lax.add)
    if divisor_override is not None:
        div = np.asarray(divisor_override)
    else:
        div = _divisor(x.shape[-nd:], k, s, p, outs, count_include_pad)
    if _is_float(x):
        return total / jnp.asarray(div, x.dtype)
    return lax.div(total, jnp.broadcast_to(jnp.asarray(div, x.dtype), total.shape))


def adaptive_taps(n, o):
    """Adaptive pooling windows along one dim: ``idx[o, j]`` (padded by repeating the last index) and
    the window lengths, with torch's ``start = floor(i*n/o)``, ``end = ceil((i+1)*n/o)``."""
    i = np.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    length = end - start
    kmax = int(length.max()) if o else 1
    j = np.arange(kmax)[None, :]
    idx = start[:, None] + np.minimum(j, length[:, None] - 1)
    return idx, length, j < length[:, None]


def apply_taps(x, axis, idx, w):
    """``y[..., o, ...] = sum_j w[o, j] * x[..., idx[o, j], ...]`` along ``axis`` (numpy ``idx``, ``w``)."""
    y = jnp.take(x, jnp.asarray(idx), axis=axis)  # axis -> (out, taps)
    shape = [1] * y.ndim
    shape[axis], shape[axis + 1] = w.shape
    return jnp.sum(y * jnp.asarray(w, x.dtype).reshape(shape), axis=axis + 1)


def _adaptive_sizes(op, x, nd, output_size):
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    for i in range(x.ndim - nd if x.ndim == nd + 2 else 0, x.ndim):
        if x.shape[i] == 0 and not (x.ndim == nd + 2 and i == 0):
            raise ShapeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, "
                             f"but input has sizes {list(x.shape)} with dimension {i} being empty")
    if not isinstance(output_size, (list, tuple)):
        output_size = (output_size,) * nd
    if len(output_size) != nd:
        raise ShapeError(f"{op}(): output_size must be {nd}, got {list(output_size)}")
    outs = tuple(n if o is None else int(o) for n, o in zip(x.shape[-nd:], output_size))
    if any(o < 0 for o in outs):
        raise ShapeError(f"{op}(): elements of output_size must be greater than or equal to 0 but received "
                         f"{list(outs)}")
    return outs


def _adaptive_avg(op, nd, x, output_size):
    outs = _adaptive_sizes(op, x, nd, output_size)
    if not _is_float(x):
        raise DTypeError(f"{op}(): \"{op}\" not implemented for '{x.dtype}'")
    for a, (n, o) in enumerate(zip(x.shape[-nd:], outs)):
        idx, length, mask = adaptive_taps(n, o)
        w = np.where(mask, 1.0 / np.maximum(length, 1)[:, None], 0.0)
        x = apply_taps(x, x.ndim - nd + a, idx, w)
    return x


def _adaptive_max(op, nd, x, output_size, return_indices):
    outs = _adaptive_sizes(op, x, nd, output_size)
    dims = []
    for n, o in zip(x.shape[-nd:], outs):
        idx, _, mask = adaptive_taps(n, o)
        dims.append((idx, np.ones_like(mask)))
    idx, valid = _table(x.shape[-nd:], dims)
    val, ind = _gather_max(x, nd, idx, valid, outs)
    return (val, ind) if return_indices else val


def _lp_pool(op, nd, x, norm_type, kernel_size, stride, ceil_mode):
    k, s, p, d, outs = _plan(op, x, nd, kernel_size, stride, 0, 1, ceil_mode, kind="avg")
    total = _reduce(x ** norm_type, nd, k, s, p, d, outs, 0, lax.add)
    if ceil_mode:  # torch: avg_pool (partial windows averaged over their size) times the kernel size
        div = _divisor(x.shape[-nd:], k, s, p, outs, True)
        total = total * jnp.asarray(np.prod(k) / div, x.dtype)
    return (jnp.sign(total) * jnp.maximum(jnp.abs(total), 0)) ** (1.0 / norm_type)


def _max_unpool(op, nd, x, indices, kernel_size, stride, padding, output_size):
    if x.shape != indices.shape:
        raise ShapeError(f"{op}(): Expected shape of indices to be same as that of the input tensor "
                         f"({list(x.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    k = ntuple(kernel_size, nd, op, "kernel_size")
    s = k if stride is None else ntuple(stride, nd, op, "stride")
    p = ntuple(padding, nd, op, "padding")
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(x.shape[-nd:], s, p, k))
    if output_size is None:
        outs = default
    else:
        outs = tuple(output_size)[-nd:]
        if len(outs) != nd:
            raise ShapeError(f"{op}(): output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for o, dflt, ss in zip(outs, default, s):
            if not dflt - ss < o < dflt + ss:
                raise ShapeError(f"{op}(): invalid output_size {list(output_size)} (dim size must be "
                                 f"between {dflt - ss} and {dflt + ss}, exclusive)")
    lead = x.shape[:-nd]
    xf = x.reshape((-1, int(np.prod(x.shape[-nd:], dtype=np.int64))))
    ix = indices.reshape(xf.shape)
    rows = jnp.arange(xf.shape[0])[:, None]
    plane = int(np.prod(outs, dtype=np.int64))
    out = jnp.zeros((xf.shape[0], plane), x.dtype).at[rows, ix].set(xf, mode="drop")
    return out.reshape(lead + outs)


# ----- registration ------------------------------------------------------------------------------
def _fn(name, body, doc):
    body.__name__ = name
    body.__doc__ = doc
    return body


def _with_indices(outs):
    return tuple(outs)


_DOCS = {
    "max": """Applies {nd}D max pooling over an input of several planes.

    Args:
        input: ``(N, C, *spatial)`` or ``(C, *spatial)``.
        kernel_size, stride (default: kernel_size), padding (at most half the kernel; pads with -inf),
            dilation: an int or a tuple of {nd} ints.
        ceil_mode: use ceil instead of floor for the output size (windows starting in the
            padding are dropped).
        return_indices: also return the flat index of each maximum within its input plane.
    """,
    "avg": """Applies {nd}D average pooling.

    Args:
        input: ``(N, C, *spatial)`` or ``(C, *spatial)``.
        kernel_size, stride (default: kernel_size), padding: an int or a tuple of {nd} ints.
        ceil_mode: ceil instead of floor for the output size.
        count_include_pad: count the zero padding in the divisor.
        divisor_override: (2d/3d) divide by this instead of the window size.
    """,
    "aavg": """Applies {nd}D adaptive average pooling to the given ``output_size`` (an int or a tuple of
    {nd} ints or None = keep that input size). Window i spans ``[floor(i*n/o), ceil((i+1)*n/o))``.""",
    "amax": """Applies {nd}D adaptive max pooling to ``output_size`` (ints or None); with
    ``return_indices=True`` also returns the flat index of each maximum within its plane.""",
    "lp": """Applies {nd}D power-average pooling: ``(sum over window of x**p) ** (1/p)``.

    Args: norm_type (p), kernel_size, stride (default kernel_size), ceil_mode.""",
    "unpool": """Partial inverse of max_pool{nd}d: scatters ``input`` into zeros at ``indices`` (flat
    indices within each output plane, as returned by ``max_pool{nd}d(..., return_indices=True)``).

    Args: kernel_size, stride (default kernel_size), padding, output_size (default
    ``(n-1)*stride - 2*padding + kernel_size`` per dim).""",
}


def _tol(**kw):
    return dict(rtol=1e-5, atol=1e-5, **kw)


def _maxpool_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}[nd]
        out = [Sample(A(2, 3, *sp), 2), Sample(A(3, *sp), 3, 2, 1),
               Sample(A(2, 2, *sp), 3, 2, 1, 2, True), Sample(A(2, 2, *sp), 2, 1, 0, 1, False, True),
               Sample(A(1, 2, *sp, dtype="float64"), 3, 2, 1, ceil_mode=True, return_indices=True),
               Sample(A(2, 2, *sp), 3, stride=2, dilation=2, return_indices=True),
               Sample(A(2, 2, *sp), 2, ceil_mode=True), Sample(A(2, 2, *sp), 3, padding=2),
               Sample(A(2, 2, *sp), 10), Sample(A(*sp), 2)]
        if nd == 2:
            out += [Sample(A(2, 2, 7, 8), (3, 2), (2, 1), (1, 0), return_indices=True),
                    Sample(A(1, 3, 5, 5), (2, 3), ceil_mode=True, return_indices=True)]
        return out
    return samples


def _avgpool_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}[nd]
        out = [Sample(A(2, 3, *sp), 2, **_tol()), Sample(A(3, *sp), 3, 2, 1, **_tol()),
               Sample(A(2, 2, *sp), 3, 2, 1, True, False, **_tol()),
               Sample(A(2, 2, *sp), 3, 2, 1, True, True, **_tol()),
               Sample(A(1, 2, *sp, dtype="float64"), 2, 3, 1, ceil_mode=True, count_include_pad=False),
               Sample(I(2, 2, *sp), 2), Sample(A(2, 2, *sp), 3, padding=2), Sample(A(2, 2, *sp), 10)]
        if nd > 1:
            out += [Sample(A(2, 2, *sp), 3, 2, 1, divisor_override=5, **_tol())]
        if nd == 2:
            out += [Sample(A(2, 2, 7, 8), (3, 2), (2, 1), (1, 0), True, False, **_tol())]
        return out
    return samples


def _aavg_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}[nd]
        out = [Sample(A(2, 3, *sp), 4, **_tol()), Sample(A(3, *sp), 1, **_tol()),
               Sample(A(2, 2, *sp), 3, **_tol()), Sample(A(2, 2, *sp), 11, **_tol()),
               Sample(A(2, 2, *sp, dtype="float64"), 5), Sample(A(*sp), 2)]
        if nd >= 2:
            out += [Sample(A(2, 3, *sp), (None,) + (3,) * (nd - 1), **_tol())]
        return out
    return samples


def _amax_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}[nd]
        out = [Sample(A(2, 3, *sp), 4), Sample(A(3, *sp), 1, True), Sample(A(2, 2, *sp), 3, True),
               Sample(A(2, 2, *sp), 11, return_indices=True),
               Sample(A(2, 2, *sp, dtype="float64"), 5, return_indices=True), Sample(A(*sp), 2)]
        if nd >= 2:
            out += [Sample(A(2, 3, *sp), (None,) + (3,) * (nd - 1), True)]
        return out
    return samples


def _lp_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 8), 3: (5, 6, 5)}[nd]
        return [Sample(A(2, 3, *sp, low=0.5), 2.0, 2, **_tol()),
                Sample(A(3, *sp, low=0.5), 3, 3, 2, **_tol()),
                Sample(A(2, 2, *sp, low=0.5, dtype="float64"), 1.5, 2, ceil_mode=True)]
    return samples


def _unpool_samples(nd):
    def samples():
        sp = {1: (8,), 2: (4, 6), 3: (4, 4, 2)}[nd]
        half = tuple(e // 2 for e in sp)
        ind = np.stack([np.random.default_rng(i).permutation(2 ** nd * int(np.prod(half)))
                        [:int(np.prod(half))] for i in range(4)]).reshape(2, 2, *half)
        return [Sample(A(2, 2, *half), ind, 2), Sample(A(2, 2, *half, dtype="float64"), ind, 2, 2),
                Sample(A(2, 2, *half), ind, 2, output_size=tuple(e + 1 for e in sp)),
                Sample(A(2, 2, *half), ind[:1], 2)]
    return samples


def _register_nd(nd):
    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 return_indices=False):
        return _max_pool(f"max_pool{nd}d", nd, input, kernel_size, stride, padding, dilation,
                         ceil_mode, return_indices)

    register(f"max_pool{nd}d", function=True, method=False, functional=True,
             torch_name=f"nn.functional.max_pool{nd}d", grad_name=f"MaxPool{nd}DWithIndicesBackward0",
             samples=_maxpool_samples(nd))(_fn(f"max_pool{nd}d", max_pool, _DOCS["max"].format(nd=nd)))

    if nd == 1:
        def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
            return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, None)
    else:
        def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
            return _avg_pool(f"avg_pool{nd}d", nd, input, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)

    register(f"avg_pool{nd}d", function=nd == 1, method=False, functional=True,
             torch_name=f"nn.functional.avg_pool{nd}d", grad_name=f"AvgPool{nd}DBackward0",
             samples=_avgpool_samples(nd))(_fn(f"avg_pool{nd}d", avg_pool, _DOCS["avg"].format(nd=nd)))

    def aavg(input, output_size):
        return _adaptive_avg(f"adaptive_avg_pool{nd}d", nd, input, output_size)

    register(f"adaptive_avg_pool{nd}d", function=nd == 1, method=False, functional=True,
             torch_name=f"nn.functional.adaptive_avg_pool{nd}d", samples=_aavg_samples(nd))(
        _fn(f"adaptive_avg_pool{nd}d", aavg, _DOCS["aavg"].format(nd=nd)))

    def amax(input, output_size, return_indices=False):
        return _adaptive_max(f"adaptive_max_pool{nd}d", nd, input, output_size, return_indices)

    register(f"adaptive_max_pool{nd}d", function=False, method=False, functional=True,
             torch_name=f"nn.functional.adaptive_max_pool{nd}d", samples=_amax_samples(nd))(
        _fn(f"adaptive_max_pool{nd}d", amax, _DOCS["amax"].format(nd=nd)))

    def lp(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        return _lp_pool(f"lp_pool{nd}d", nd, input, norm_type, kernel_size, stride, ceil_mode)

    register(f"lp_pool{nd}d", function=False, method=False, functional=True,
             torch_name=f"nn.functional.lp_pool{nd}d", samples=_lp_samples(nd))(
        _fn(f"lp_pool{nd}d", lp, _DOCS["lp"].format(nd=nd)))

    def unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        return _max_unpool(f"max_unpool{nd}d", nd, input, indices, kernel_size, stride, padding,
                           output_size)

    register(f"max_unpool{nd}d", nin=2, function=False, method=False, functional=True,
             torch_name=f"nn.functional.max_unpool{nd}d", samples=_unpool_samples(nd))(
        _fn(f"max_unpool{nd}d", unpool, _DOCS["unpool"].format(nd=nd)))


for _nd in (1, 2, 3):
    _register_nd(_nd)
