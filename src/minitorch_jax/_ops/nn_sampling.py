"""nn.functional kernels: padding, resampling and patch ops.

``pad``, ``interpolate`` (and the legacy ``upsample*``), ``pixel_shuffle``/``pixel_unshuffle``,
``unfold`` (im2col) and ``fold`` (col2im). Resampling follows torch's own source-index formulas
(computed in numpy at trace time, in the input's float precision), not ``jax.image.resize``: each
output element is a fixed small set of taps (1 nearest, 2 linear, 4 cubic) gathered per dim.
"""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import OpIndexError, OpValueError, ShapeError
from ._helpers import A, Sample
from ._registry import REGISTRY, register
from .nn_conv import ntuple
from .nn_pool import adaptive_taps, apply_taps

__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]


# ----- pad ---------------------------------------------------------------------------------------
def _pad_index(mode, n, lo, hi):
    """torch's source index of each output position along one padded dim."""
    out = n + lo + hi
    j = np.arange(out)
    if mode == "circular":
        m = n - max(-lo, 0) - max(-hi, 0)
        return max(-lo, 0) + (j - max(lo, 0)) % m
    i_start, o_start = max(0, -lo), max(0, lo)
    if mode == "reflect":
        ip = np.where(j < lo, 2 * lo - j, np.where(j < n + lo, j, (n + lo - 1) * 2 - j))
    else:  # replicate
        ip = np.where(j < lo, lo, np.where(j < n + lo, j, n + lo - 1))
    return ip - o_start + i_start


def _pad_kernel(input, pad, mode="constant", value=None):
    """Pads ``input``: ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)``.

    Args:
        input: any shape (non-constant modes: the last 1/2/3 dims of a 2-3/3-4/4-5-D tensor).
        pad: an even-length sequence of ints (negative values crop).
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        value: the fill value of ``'constant'`` mode (default 0).
    """
    x = input
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ShapeError("pad(): Padding length must be divisible by 2")
    npd = len(pad) // 2
    if npd > x.ndim:
        raise ShapeError(f"pad(): Padding length should be less than or equal to two times the input "
                         f"dimension but got padding length {len(pad)} and input of dimension {x.ndim}")
    pairs = [(0, 0)] * (x.ndim - npd) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(npd))]
    if mode == "constant":
        for d, (n, (lo, hi)) in enumerate(zip(x.shape, pairs)):
            if n + lo + hi < 0:
                raise ShapeError(f"pad(): The input size {n}, plus negative padding {lo} and {hi} resulted "
                                 f"in a negative output size, which is invalid. Check dimension {d} of "
                                 f"your input.")
        fill = np.asarray(0 if value is None else value).astype(x.dtype)
        return lax.pad(x, fill, [(lo, hi, 0) for lo, hi in pairs])
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad(): Unrecognised padding mode {mode}")
    if value is not None:
        raise ShapeError(f'pad(): Padding mode "{mode}" doesn\'t take in value argument')
    if npd not in (1, 2, 3) or x.ndim not in (npd + 1, npd + 2):
        raise NotImplementedError(
            f"pad(): Padding size {len(pad)} is not supported for {x.ndim}D input tensor. Supported "
            f"combinations for non-constant padding: 2D or 3D input: padding size = 2; 3D or 4D input: "
            f"padding size = 4; 4D or 5D input: padding size = 6")
    for d in range(x.ndim - npd, x.ndim):
        n, (lo, hi) = x.shape[d], pairs[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(f"pad(): Argument #4: Padding size should be less than the corresponding input "
                             f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                             f"{list(x.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise ShapeError(f"pad(): Padding value causes wrapping around more than once (padding "
                             f"({lo}, {hi}) at dimension {d} of input {list(x.shape)})")
        if n == 0 or n + lo + hi < 0:
            raise ShapeError(f"pad(): invalid padding ({lo}, {hi}) for dimension {d} of input "
                             f"{list(x.shape)}")
    for d in range(x.ndim - npd, x.ndim):
        lo, hi = pairs[d]
        if lo or hi:
            x = jnp.take(x, jnp.asarray(_pad_index(mode, x.shape[d], lo, hi)), axis=d)
    return x


def _pad_samples():
    return [Sample(A(2, 3, 4), (1, 2)), Sample(A(2, 3, 4), (1, 0, 2, 1), value=1.5),
            Sample(A(2, 3, 4), (-1, 2, 0, -1)), Sample(A(2, 3, 4), (1, 1, 1, 1, 1, 1), "constant", -2.0),
            Sample(A(2, 3, 5), (2, 3), "reflect"), Sample(A(2, 3, 4, 5), (1, 2, 3, 0), "reflect"),
            Sample(A(1, 2, 3, 4, 5, dtype="float64"), (1, 2, 2, 1, 1, 1), "reflect"),
            Sample(A(2, 3, 4), (3, 4), "replicate"), Sample(A(3, 4, 5), (0, 2, 5, 1), "replicate"),
            Sample(A(2, 3, 4), (2, 3), "circular"), Sample(A(2, 2, 3, 4), (1, 2, 3, 0), "circular"),
            Sample(A(2, 3, 4), (-1, 2), "reflect"), Sample(A(2, 3, 4), (-1, 2), "replicate"),
            Sample(A(2, 3, 4), (-1, 2), "circular"), Sample(A(2, 3, 3), (3, 3), "reflect"),
            Sample(A(2, 3, 4), (1,)), Sample(A(3), (1, 1), "reflect"), Sample(A(3, 2), (-2, -1)),
            Sample(A(2, 3, 4), (5, 1), "circular"), Sample(A(2, 3, 4), (1, 1), "foo")]


register("pad", function=False, method=False, functional=True, torch_name="nn.functional.pad",
         grad_name="ConstantPadNdBackward0", samples=_pad_samples)(_pad_kernel)


# ----- interpolate ---------------------------------------------------------------------------------
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
_LINEAR = ("linear", "bilinear", "trilinear")


def _cubic_weights(t, a=-0.75):
    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.stack([c2(t + 1), c1(t), c1(1 - t), c2(2 - t)], axis=-1)


def _interp_taps(mode, n, o, scale, align_corners, ft):
    """Index and weight tables ``(o, taps)`` of one dim, with torch's coordinate mapping in dtype ``ft``."""
    j = np.arange(o, dtype=ft)
    if mode in ("nearest", "nearest-exact"):
        s = ft(1.0 / scale) if scale else ft(n) / ft(o)
        src = np.floor((j + ft(0.5)) * s) if mode == "nearest-exact" else np.floor(j * s)
        idx = np.minimum(src.astype(np.int64), n - 1)
        return idx[:, None], np.ones((o, 1), ft)
    if align_corners:
        s = ft(n - 1) / ft(o - 1) if o > 1 else ft(0)
        src = s * j
    else:
        s = ft(1.0 / scale) if scale else ft(n) / ft(o)
        src = s * (j + ft(0.5)) - ft(0.5)
        if mode != "bicubic":
            src = np.maximum(src, ft(0))
    if mode == "bicubic":
        base = np.floor(src)
        t = (src - base).astype(ft)
        idx = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], 0, n - 1)
        return idx, _cubic_weights(t).astype(ft)
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < n - 1)
    lam = (src - i0).astype(ft)
    return np.stack([i0, i1], 1), np.stack([ft(1) - lam, lam], 1).astype(ft)


def _interp_kernel(input, sizes, scales, mode, align_corners):
    x = input
    if mode != "area" and any(o <= 0 for o in sizes):  # area = adaptive_avg_pool: 0 allowed
        raise ShapeError(f"interpolate(): Input and output sizes should be greater than 0, but got input "
                         f"{list(x.shape[2:])} and output {list(sizes)}")
    if mode == "area":
        for a, (n, o) in enumerate(zip(x.shape[2:], sizes)):
            idx, length, mask = adaptive_taps(n, o)
            x = apply_taps(x, 2 + a, idx, np.where(mask, 1.0 / length[:, None], 0.0))
        return x
    ft = np.float64 if x.dtype == jnp.float64 else np.float32
    for a, (n, o) in enumerate(zip(x.shape[2:], sizes)):
        sc = scales[a] if scales is not None else None
        # torch's CPU kernels copy a dim of unchanged size whatever the scale (linear modes, 2-D
        # nearest) and shift for an exact 2x (2-D nearest); 1-D/3-D nearest use the formula
        if n == o and (mode in _LINEAR or (mode == "nearest" and len(sizes) == 2)):
            continue
        if mode == "nearest" and o == 2 * n and len(sizes) == 2:
            x = jnp.take(x, jnp.asarray(np.arange(o) >> 1), axis=2 + a)
            continue
        idx, w = _interp_taps(mode, n, o, sc, align_corners, ft)
        if mode in ("nearest", "nearest-exact"):
            x = jnp.take(x, jnp.asarray(idx[:, 0]), axis=2 + a)
        else:
            x = apply_taps(x, 2 + a, idx, w)
    return x


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Down/up-samples ``input`` to ``size`` or by ``scale_factor``, as ``torch.nn.functional.interpolate``.

    Args:
        input: ``(N, C, *spatial)`` with 1-3 spatial dims.
        size: output spatial size (an int or a tuple).
        scale_factor: multiplier for the spatial size (a float or a tuple); output ``floor(n * s)``.
        mode: ``'nearest'`` (torch's legacy floor mapping), ``'nearest-exact'``, ``'linear'``,
            ``'bilinear'``, ``'bicubic'`` (A = -0.75), ``'trilinear'`` or ``'area'``.
        align_corners: for the linear/cubic modes: map corner pixel centres onto each other.
        recompute_scale_factor: compute the kernel's scale from the output size instead of using
            ``scale_factor`` directly.
        antialias: not supported (raises for True).
    """
    dim = input.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise OpValueError("interpolate(): align_corners option can only be set with the interpolating "
                               "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise OpValueError("interpolate(): only one of size or scale_factor should be defined")
    scales = None
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * max(dim, 0)
        if len(sizes) != dim:
            raise OpValueError(f"interpolate(): Input and output must have the same number of spatial "
                               f"dimensions, but got input with spatial dimensions of "
                               f"{list(input.shape[2:])} and output size of {size}.")
        if recompute_scale_factor:
            raise OpValueError("interpolate(): recompute_scale_factor is not meaningful with an explicit "
                               "size.")
    elif scale_factor is not None:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * dim
        if len(scales) != dim:
            raise OpValueError(f"interpolate(): Input and scale_factor must have the same number of spatial "
                               f"dimensions, but got input with spatial dimensions of "
                               f"{list(input.shape[2:])} and scale_factor of shape {scale_factor}.")
        sizes = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(input.shape[2:], scales))
        if mode == "area" or recompute_scale_factor:
            scales = None
        else:
            scales = tuple(float(s) for s in scales)
    else:
        raise OpValueError("interpolate(): either size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    if mode in _INTERP_DIMS and dim != _INTERP_DIMS[mode]:
        raise NotImplementedError(f"interpolate(): Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_INTERP_DIMS[mode] + 2}D input")
    if mode not in ("nearest", "nearest-exact", "area") and mode not in _INTERP_DIMS:
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not supported (nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact)")
    if dim not in (1, 2, 3):
        raise NotImplementedError(f"interpolate(): Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    return REGISTRY["interpolate"].call(input, tuple(int(s) for s in sizes), scales, mode,
                                        bool(align_corners))


def _interp_samples():
    t = {"rtol": 1e-5, "atol": 1e-5}
    return [Sample(A(2, 3, 5), 8), Sample(A(2, 3, 5), scale_factor=2), Sample(A(2, 3, 7), 3),
            Sample(A(2, 3, 5), 7, mode="nearest-exact"), Sample(A(1, 2, 4, 6), (7, 3)),
            Sample(A(1, 2, 5, 4), scale_factor=(1.7, 0.6), mode="nearest"),
            Sample(A(2, 3, 5), 9, mode="linear", **t),
            Sample(A(2, 3, 5), 3, mode="linear", align_corners=True),
            Sample(A(1, 2, 4, 5), (7, 3), mode="bilinear", **t),
            Sample(A(1, 2, 4, 5), scale_factor=1.5, mode="bilinear", align_corners=True, **t),
            Sample(A(1, 2, 4, 5), scale_factor=(2.5, 0.7), mode="bilinear", **t),
            Sample(A(1, 2, 4, 5), scale_factor=2.5, mode="bilinear", recompute_scale_factor=True, **t),
            Sample(A(1, 2, 4, 5, dtype="float64"), (6, 9), mode="bicubic"),
            Sample(A(1, 2, 4, 5), (3, 8), mode="bicubic", align_corners=True, **t),
            Sample(A(1, 2, 3, 4, 3), (5, 2, 4), mode="trilinear", **t),
            Sample(A(1, 2, 3, 4, 3), scale_factor=2, mode="nearest"),
            Sample(A(2, 3, 7, 9), (3, 4), mode="area", **t),
            Sample(A(2, 3, 8), scale_factor=0.5, mode="area"),
            Sample(A(2, 3, 5, dtype="float64"), 9, mode="linear"),
            Sample(A(2, 3, 5), 8, scale_factor=2), Sample(A(2, 3, 5)), Sample(A(2, 3, 5), 4, mode="bilinear"),
            Sample(A(2, 3, 5), 4, align_corners=True), Sample(A(2, 3, 5), 0)]


register("interpolate", function=False, method=False, functional=True, impl=interpolate,
         torch_name="nn.functional.interpolate", samples=_interp_samples)(_interp_kernel)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (warns, as torch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


for _name, _impl, _samples in (
        ("upsample", upsample, lambda: [Sample(A(1, 2, 4, 5), (7, 3), mode="bilinear", rtol=1e-5, atol=1e-5),
                                        Sample(A(2, 3, 5), scale_factor=2)]),
        ("upsample_nearest", upsample_nearest, lambda: [Sample(A(1, 2, 4, 5), (7, 3)),
                                                        Sample(A(2, 3, 5), scale_factor=3)]),
        ("upsample_bilinear", upsample_bilinear, lambda: [Sample(A(1, 2, 4, 5), (7, 3), rtol=1e-5, atol=1e-5),
                                                          Sample(A(1, 2, 3, 3), scale_factor=2)])):
    register(_name, function=False, method=False, functional=True, impl=_impl,
             torch_name=f"nn.functional.{_name}", samples=_samples)(_interp_kernel)


# ----- pixel shuffle ---------------------------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """Rearranges ``(*, C*r*r, H, W)`` into ``(*, C, H*r, W*r)`` (``r = upscale_factor``)."""
    x, r = input, int(upscale_factor)
    if x.ndim < 3:
        raise ShapeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                         f"{x.ndim} dimension(s)")
    if r <= 0:
        raise ShapeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                         f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nl = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.transpose(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """Rearranges ``(*, C, H*r, W*r)`` into ``(*, C*r*r, H, W)`` (``r = downscale_factor``)."""
    x, r = input, int(downscale_factor)
    if x.ndim < 3:
        raise ShapeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                         f"{x.ndim} dimension(s)")
    if r <= 0:
        raise ShapeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = x.shape
    if h % r:
        raise ShapeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                         f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise ShapeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                         f"input.size(-1)={w} is not divisible by {r}")
    nl = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = y.transpose(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


register("pixel_shuffle", method=False, functional=True, samples=lambda: [
    Sample(A(2, 8, 3, 2), 2), Sample(A(9, 2, 2), 3), Sample(A(2, 2, 4, 3, 2, dtype="float64"), 2),
    Sample(A(2, 3, 2, 2), 1), Sample(A(5, 3, 3), 2), Sample(A(4, 3), 2)])(pixel_shuffle)
register("pixel_unshuffle", method=False, functional=True, samples=lambda: [
    Sample(A(2, 2, 4, 6), 2), Sample(A(1, 6, 3), 3), Sample(A(2, 2, 1, 4, 2, dtype="float64"), 2),
    Sample(A(4, 5, 4), 2), Sample(A(4, 4, 5), 2)])(pixel_unshuffle)


# ----- unfold / fold -----------------------------------------------------------------------------------
def _blocks(op, spatial, kernel_size, dilation, padding, stride):
    k = ntuple(kernel_size, 2, op, "kernel_size")
    d = ntuple(dilation, 2, op, "dilation")
    p = ntuple(padding, 2, op, "padding")
    s = ntuple(stride, 2, op, "stride")
    if any(e <= 0 for e in k + d + s) or any(e < 0 for e in p):
        raise ShapeError(f"{op}(): expected kernel_size, dilation and stride greater than zero and "
                         f"non-negative padding, got kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    padded = [n + 2 * pp for n, pp in zip(spatial, p)]
    nb = [(pn - dd * (kk - 1) - 1) // ss + 1 for pn, kk, dd, ss in zip(padded, k, d, s)]
    # table (K, L) of flat indices into the padded plane
    ki = np.arange(k[0])[:, None] * d[0]
    kj = np.arange(k[1])[None, :] * d[1]
    oi = np.arange(max(nb[0], 0))[:, None] * s[0]
    oj = np.arange(max(nb[1], 0))[None, :] * s[1]
    rows = (ki.reshape(-1, 1, 1, 1) + oi.reshape(1, 1, -1, 1))
    cols = (kj.reshape(1, -1, 1, 1) + oj.reshape(1, 1, 1, -1))
    table = (rows * padded[1] + cols).reshape(k[0] * k[1], -1)
    return k, d, p, s, padded, nb, table


def _unfold_kernel(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding local blocks (im2col): ``(N, C, H, W)`` -> ``(N, C*kh*kw, L)``.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, dilation, padding, stride: an int or a pair.

    The block dim is channel-major (``c*kh*kw + i*kw + j``); ``L`` counts the block positions.
    """
    x = input
    if x.ndim < 3:  # torch indexes dim -3 first and fails with an IndexError
        raise OpIndexError(f"unfold(): Dimension out of range (expected a 3D or 4D input, got shape "
                           f"{list(x.shape)})")
    if x.ndim not in (3, 4) or any(n == 0 for n in x.shape[-3:]):
        raise ShapeError(f"unfold(): Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                         f"other non-zero dimensions for input, but got: {list(x.shape)}")
    batched = x.ndim == 4
    if not batched:
        x = x[None]
    k, d, p, s, padded, nb, table = _blocks("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    if any(b < 1 for b in nb):
        raise ShapeError(f"unfold(): Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
                         f"kernel_size={k}, dilation={d}, padding={p}, calculated shape of the array of "
                         f"sliding blocks as ({nb[0]}, {nb[1]}), but its components must be at least one.")
    n, c = x.shape[:2]
    xp = jnp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))).reshape(n, c, -1)
    out = xp[:, :, table].reshape(n, c * table.shape[0], table.shape[1])
    return out if batched else out[0]


def _fold_kernel(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combines sliding local blocks into a tensor (col2im; overlaps are summed): the inverse layout
    of :func:`unfold`.

    Args:
        input: ``(N, C*kh*kw, L)`` or ``(C*kh*kw, L)``.
        output_size: the spatial output size ``(H, W)`` (an int or a pair).
        kernel_size, dilation, padding, stride: an int or a pair.

    Returns: ``(N, C, H, W)`` (or ``(C, H, W)``).
    """
    x = input
    if x.ndim not in (2, 3) or any(n == 0 for n in x.shape[-2:]):
        raise ShapeError(f"fold(): Expected 2D or 3D (batch mode) input tensor with possibly 0 batch size "
                         f"and non-zero dimensions for input, but got: {list(x.shape)}")
    batched = x.ndim == 3
    if not batched:
        x = x[None]
    osz = ntuple(output_size, 2, "fold", "output_size")
    k, d, p, s, padded, nb, table = _blocks("fold", osz, kernel_size, dilation, padding, stride)
    kk = k[0] * k[1]
    if x.shape[1] % kk:
        raise ShapeError(f"fold(): Expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={k}.")
    if nb[0] * nb[1] != x.shape[2] or any(b < 1 for b in nb):
        raise ShapeError(f"fold(): Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, "
                         f"stride={s}, expected size of input's dimension 2 to match the calculated number "
                         f"of sliding blocks {nb[0]} * {nb[1]} = {nb[0] * nb[1]}, but got "
                         f"input.size(2)={x.shape[2]}.")
    n, c = x.shape[0], x.shape[1] // kk
    out = jnp.zeros((n, c, padded[0] * padded[1]), x.dtype)
    out = out.at[:, :, table].add(x.reshape(n, c, kk, -1))
    out = out.reshape(n, c, padded[0], padded[1])[:, :, p[0]:p[0] + osz[0], p[1]:p[1] + osz[1]]
    return out if batched else out[0]


register("im2col", aliases=("unfold",), function=False, method=False, functional=True,
         torch_name="nn.functional.unfold", grad_name="Im2ColBackward0", samples=lambda: [
             Sample(A(2, 3, 4, 5), 2), Sample(A(2, 2, 6, 5), (2, 3), 1, 1, 2),
             Sample(A(3, 4, 4), 3, padding=1),
             Sample(A(1, 2, 7, 6, dtype="float64"), (3, 2), dilation=(2, 1), stride=(2, 3)),
             Sample(A(3, 4), 2), Sample(A(1, 2, 3, 4, 4), 2), Sample(A(1, 2, 2, 2), 3)])(_unfold_kernel)
register("fold", function=False, method=False, functional=True, torch_name="nn.functional.fold",
         grad_name="Col2ImBackward0", samples=lambda: [
             Sample(A(2, 12, 12), (4, 5), 2), Sample(A(2, 12, 6), (5, 5), (2, 3), 1, 1, 2),
             Sample(A(27, 16), 4, 3, padding=1),
             Sample(A(1, 12, 6, dtype="float64"), (7, 6), (3, 2), dilation=(2, 1), stride=(2, 3)),
             Sample(A(2, 5, 9), (4, 4), 2), Sample(A(2, 8, 8), (4, 4), 2)])(_fold_kernel)
