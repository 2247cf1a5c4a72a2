"""nn.functional kernels: the ``*_with_indices`` pooling aliases, torch's top-level
``adaptive_max_pool1d`` (always ``(output, indices)``), fractional max pooling and the legacy
cross-channel LRN of ``nn.CrossMapLRN2d``.

Fractional max pooling (Graham, 2014): along each spatial dim of length ``n``, output ``o`` of ``o_n``
windows of length ``k`` starts at ``floor((o + u) * a) - floor(u * a)`` with ``a = (n - k) / (o_n - 1)``
(the last window at ``n - k``), ``u`` one sample in [0, 1) per (batch, channel, dim). The start is
computed in the input's dtype and truncated as torch does, so given the same samples the windows are
torch's to the bit. Since the samples are data, the windows are gathered through a traced index
table (the output shape stays static): one jitted kernel; the gradient goes to each window's
maximum (the first one, or the last NaN, as torch).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._helpers import A, Sample
from ._registry import register
from .nn_pool import _adaptive_max, _max_pool

__all__ = ["fractional_windows", "lrn_windows"]


def _fn(name, body, doc):
    body.__name__ = name
    body.__doc__ = doc
    return body


# ----- max_pool{n}d_with_indices, adaptive_max_pool{n}d_with_indices ----------------------------
_MAX_DOC = """Applies {nd}D max pooling and returns ``(output, indices)`` (``max_pool{nd}d`` with
    ``return_indices=True``; the ``return_indices`` argument is accepted and ignored, as in torch).

    Args:
        input: ``(N, C, *spatial)`` or ``(C, *spatial)``.
        kernel_size, stride (default: kernel_size), padding, dilation: an int or {nd} ints.
        ceil_mode: ceil instead of floor for the output size.

    Returns:
        the pooled values and the int64 flat index of each maximum within its input plane.
    """

_AMAX_DOC = """Applies {nd}D adaptive max pooling to ``output_size`` and returns ``(output, indices)``
    (``adaptive_max_pool{nd}d`` with ``return_indices=True``; ``return_indices`` is ignored)."""


def _max_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}[nd]
        return [Sample(A(2, 3, *sp), 2), Sample(A(3, *sp, dtype="float64"), 3, 2, 1, ceil_mode=True),
                Sample(A(2, 2, *sp), 3, 2, 0, 2)]
    return samples


def _amax_samples(nd):
    def samples():
        sp = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}[nd]
        return [Sample(A(2, 3, *sp), 4), Sample(A(3, *sp, dtype="float64"), 3, True)]
    return samples


def _register_nd(nd):
    def max_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                         return_indices=False):
        return _max_pool(f"max_pool{nd}d", nd, input, kernel_size, stride, padding, dilation, ceil_mode,
                         True)

    # torch has max_pool1d_with_indices at the top level too (without return_indices)
    name = f"max_pool{nd}d_with_indices"
    register(name, method=False, function=nd == 1, functional=True,
             torch_name=name if nd == 1 else f"nn.functional.{name}",
             grad_name=f"MaxPool{nd}DWithIndicesBackward0", samples=_max_samples(nd))(
        _fn(f"max_pool{nd}d_with_indices", max_with_indices, _MAX_DOC.format(nd=nd)))

    def amax_with_indices(input, output_size, return_indices=False):
        return _adaptive_max(f"adaptive_max_pool{nd}d", nd, input, output_size, True)

    register(f"adaptive_max_pool{nd}d_with_indices", method=False, function=False, functional=True,
             torch_name=f"nn.functional.adaptive_max_pool{nd}d_with_indices",
             grad_name=f"AdaptiveMaxPool{nd}DBackward0", samples=_amax_samples(nd))(
        _fn(f"adaptive_max_pool{nd}d_with_indices", amax_with_indices, _AMAX_DOC.format(nd=nd)))


for _nd in (1, 2, 3):
    _register_nd(_nd)


def _adaptive_max_pool1d_aten(input, output_size):
    """``torch.adaptive_max_pool1d(input, output_size) -> (output, indices)``: 1D adaptive max pooling
    that always returns the indices too (``nn.functional.adaptive_max_pool1d`` returns them only with
    ``return_indices=True``).

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        output_size: an int (or a 1-tuple).
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


# the primary name is private so that nn.functional.adaptive_max_pool1d keeps its own signature
register("_adaptive_max_pool1d_aten", method=False, aliases=("adaptive_max_pool1d",),
         grad_name="AdaptiveMaxPool2DBackward0")(_adaptive_max_pool1d_aten)


# ----- fractional max pooling --------------------------------------------------------------------
def fractional_windows(u, n, o, k):
    """Window starts of fractional max pooling along one dim: ``u`` (any shape, the input's float
    dtype) -> int32 ``u.shape + (o,)``; computed in ``u``'s dtype and truncated, as torch does."""
    if o == 0:
        return jnp.zeros(u.shape + (0,), jnp.int32)
    last = jnp.full(u.shape + (1,), n - k, jnp.int32)
    if o == 1:
        return last
    dt = np.dtype(u.dtype)
    alpha = jnp.asarray(dt.type(n - k) / dt.type(o - 1), dt)
    i = jnp.arange(o - 1, dtype=dt)
    seq = ((i + u[..., None]) * alpha).astype(jnp.int32) - (u * alpha).astype(jnp.int32)[..., None]
    return jnp.concatenate([seq, last], axis=-1)


def _fractional_kernel(input, samples, kernel_size, output_size):
    nd = len(kernel_size)
    x = input if input.ndim == nd + 2 else input[None]
    nb, c = x.shape[:2]
    sp = x.shape[2:]
    u = lax.stop_gradient(samples[:nb]).astype(x.dtype)  # (N, C, nd)
    strides = [int(np.prod(sp[a + 1:], dtype=np.int64)) for a in range(nd)]
    flat = jnp.zeros((nb, c) + (1,) * (2 * nd), jnp.int32)
    for a in range(nd):
        # torch's sample order: 2d (W, H), 3d (T, H, W)
        s = (1 - a) if nd == 2 else a
        start = fractional_windows(u[..., s], sp[a], output_size[a], kernel_size[a])  # (N, C, o)
        pos = start[..., :, None] + jnp.arange(kernel_size[a], dtype=jnp.int32)  # (N, C, o, k)
        shape = [nb, c] + [1] * (2 * nd)
        shape[2 + a], shape[2 + nd + a] = output_size[a], kernel_size[a]
        flat = flat + pos.reshape(shape) * strides[a]
    n_out = int(np.prod(output_size, dtype=np.int64))
    n_win = int(np.prod(kernel_size, dtype=np.int64))
    flat = flat.reshape(nb, c, n_out * n_win)
    g = jnp.take_along_axis(x.reshape(nb, c, -1), flat, axis=-1).reshape(nb, c, n_out, n_win)
    flat = flat.reshape(nb, c, n_out, n_win)
    am = jnp.argmax(g, axis=-1)
    nan = jnp.isnan(g)
    last_nan = (n_win - 1) - jnp.argmax(nan[..., ::-1], axis=-1)  # torch keeps the last NaN
    am = jnp.where(jnp.any(nan, axis=-1), last_nan, am)[..., None]
    val = jnp.take_along_axis(g, am, axis=-1)[..., 0].reshape((nb, c) + tuple(output_size))
    ind = jnp.take_along_axis(flat, am, axis=-1)[..., 0].reshape((nb, c) + tuple(output_size))
    ind = ind.astype(jnp.int64)
    if input.ndim == nd + 1:
        val, ind = val[0], ind[0]
    return val, ind


def _register_fractional(nd):
    def kernel(input, random_samples, kernel_size, output_size):
        return _fractional_kernel(input, random_samples, kernel_size, output_size)

    doc = f"""Fractional {nd}D max pooling with given samples: ``(input, random_samples, kernel_size,
    output_size) -> (output, indices)``; see ``nn.functional.fractional_max_pool{nd}d`` (which checks
    the arguments and draws the samples)."""
    register(f"_fractional_max_pool{nd}d", nin=2, method=False, function=False,
             grad_name=f"FractionalMaxPool{nd}DBackward0")(_fn(f"_fractional_max_pool{nd}d", kernel, doc))


for _nd in (2, 3):
    _register_fractional(_nd)


# ----- CrossMapLRN2d ----------------------------------------------------------------------------
def lrn_windows(channels, size):
    """The 0/1 channel-mixing matrices ``(fwd, bwd)`` of torch's legacy ``CrossMapLRN2d``.

    ``fwd[c, j]`` says whether ``x[j]**2`` enters the scale of channel ``c``: torch's running sum
    (window ``[c - p + 1, c + p - 1]`` with ``p = int((size - 1) / 2 + 1)``, and, as torch never
    subtracts it, channel 0 once ``c >= p``). ``bwd[c, j]`` is the window its hand-written backward
    sums over (``[c - q, c + size - 1 - q]`` with ``q = int(size - (size - 1) / 2)``), which is not
    the transpose of ``fwd``: torch's gradient is not the exact derivative of its forward, and this
    reproduces it. For ``size=1`` (where torch's backward fails) ``bwd`` is ``fwd.T``: the exact
    derivative.
    """
    pre_pad = int((size - 1) / 2 + 1)
    fwd = np.zeros((channels, channels), np.int64)
    fwd[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        fwd[c] = fwd[c - 1]
        if c < channels - pre_pad + 1:
            fwd[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            fwd[c, c - pre_pad] -= 1
    if size == 1:
        return fwd, fwd.T.copy()
    q = int(size - (size - 1) / 2)
    d = np.arange(channels)[None, :] - np.arange(channels)[:, None]  # j - c
    bwd = ((d >= -q) & (d <= size - 1 - q)).astype(np.int64)
    return fwd, bwd


def _mix(m, t):
    """``y[:, c] = sum_j m[c, j] * t[:, j]`` over the channel dim of a 4-D array."""
    return jnp.einsum("cj,njhw->nchw", jnp.asarray(m, t.dtype), t, precision=lax.Precision.HIGHEST)


def _cross_map_lrn2d(input, size, alpha, beta, k):
    """torch's legacy cross-channel LRN (``nn.CrossMapLRN2d``) of a 4-D input, with torch's backward:
    ``y = x * (k + alpha / size * sum_window x**2) ** -beta``; see :func:`lrn_windows`."""
    fwd_m, bwd_m = lrn_windows(input.shape[1], size)
    coef = 2.0 * alpha * beta / size

    def scale_of(x):
        return _mix(fwd_m, x * x) * (alpha / size) + k

    @jax.custom_vjp
    def lrn(x):
        return x * scale_of(x) ** -beta

    def lrn_fwd(x):
        scale = scale_of(x)
        out = x * scale ** -beta
        return out, (x, out, scale)

    def lrn_bwd(res, g):
        x, out, scale = res
        ratio = g * out / scale
        return (scale ** -beta * g - coef * x * _mix(bwd_m, ratio),)

    lrn.defvjp(lrn_fwd, lrn_bwd)
    return lrn(input)


register("_cross_map_lrn2d", method=False, function=False, grad_name="CrossMapLRN2dBackward")(
    _cross_map_lrn2d)
