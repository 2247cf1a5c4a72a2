"""nn.functional functions that are not single ops: fractional max pooling (argument checks and the
random samples, drawn from mt's generator, around the ``_fractional_max_pool{2,3}d`` kernels).

The ``max_pool{n}d_with_indices`` / ``adaptive_max_pool{n}d_with_indices`` aliases are op-table
entries (``_ops/nn_pool_extra.py``) and reach ``nn.functional`` from there.
"""

from __future__ import annotations

from .. import _random as R
from .._errors import DTypeError, OpValueError, ShapeError
from .._ops._registry import REGISTRY

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
           "fractional_max_pool3d_with_indices"]


class _NotImplementedDType(DTypeError, NotImplementedError):
    """torch raises NotImplementedError for a dtype a kernel has no implementation for."""


_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _ints(v, nd, op, what):
    """``v`` (an int or ``nd`` ints) as a tuple, with torch's message for a wrong length."""
    seq = tuple(v) if isinstance(v, (list, tuple)) else (v,) * nd
    if len(seq) == 1:
        seq = seq * nd
    if len(seq) != nd:
        n = "Ints" if nd == 2 else "three Ints"
        raise ShapeError(f"{op}: {what} must either be a single Int or tuple of {n}, but got {v!r}")
    return tuple(int(e) for e in seq)


def _fractional(op, nd, input, kernel_size, output_size, output_ratio, samples):
    if output_size is None and output_ratio is None:
        raise OpValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.dim() not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    shape = tuple(input.shape)
    for i in range(1 if input.dim() == nd + 2 else 0, input.dim()):
        if shape[i] == 0:
            raise ShapeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, "
                             f"but got {list(shape)} with dimension {i} being empty.")
    k = _ints(kernel_size, nd, op, "kernel_size")
    if any(e <= 0 for e in k):
        raise ShapeError(f"{op}(): kernel_size must be greater than zero, but got kernel_size={list(k)}")
    sp = shape[-nd:]
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        if len(ratio) == 1:
            ratio = ratio * nd
        if len(ratio) != nd:
            raise OpValueError(f"{op} requires output_ratio to either be a single number or a tuple of "
                               f"{nd} numbers, but got {output_ratio!r}")
        output_size = [int(n * r) for n, r in zip(sp, ratio)]
    o = _ints(output_size, nd, op, "output_size")
    if any(e < 0 for e in o):
        raise ShapeError(f"{op}(): output_size must be non-negative, but got output_size={list(o)}")
    for name, n, kk, oo in zip(_DIM_NAMES[nd], sp, k, o):
        if oo + kk - 1 > n:
            raise ShapeError(f"{op}(): pool {name} {kk} too large relative to input {name} {n}")
    if not input.dtype.is_floating_point:
        raise _NotImplementedDType(f"\"{op}\" not implemented for '{R._tname(input._data.dtype)}'")
    batch = input.size(0) if input.dim() == nd + 2 else 1
    channels = shape[-nd - 1]
    if samples is None:
        samples = R.rand(batch, channels, nd, dtype=input.dtype, device=input.device)
    else:
        if samples.dtype != input.dtype:
            raise DTypeError(f"{op}(): Expect _random_samples to have the same dtype as input "
                             f"({input.dtype}), got {samples.dtype}")
        if samples.dim() != 3:
            raise ShapeError(f"{op}(): Expect _random_samples to have 3 dimensions, got {samples.dim()}")
        if samples.size(0) < batch:
            raise ShapeError(f"{op}(): Expect _random_samples.size(0) no less then input batch size "
                             f"({samples.size(0)} < {batch}).")
        if samples.size(1) != channels:
            raise ShapeError(f"{op}(): Expect _random_samples.size(1) equals to input channel size "
                             f"({samples.size(1)} != {channels}).")
        if samples.size(2) != nd:
            raise ShapeError(f"{op}(): Expect _random_samples.size(2) equals to {nd}; got {samples.size(2)}.")
    return REGISTRY[f"_fractional_max_pool{nd}d"].call(input, samples, k, o)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """2D fractional max pooling (Graham, 2014) returning ``(output, indices)``.

    ``kH x kW`` windows are placed with pseudo-random steps so that the output has the target size;
    along each dim of length ``n`` window ``i`` of ``o`` starts at
    ``floor((i + u) * (n - k) / (o - 1)) - floor(u * (n - k) / (o - 1))`` (the last at ``n - k``), with
    one sample ``u`` per (batch, channel, dim).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating.
        kernel_size: ``k`` or ``(kH, kW)``.
        output_size: ``oH`` (square) or ``(oH, oW)``; needs ``o + k - 1 <= n``.
        output_ratio: instead of ``output_size``: a number or pair in (0, 1); ``o = int(n * ratio)``.
        return_indices: ignored (the indices are always returned).
        _random_samples: ``(N, C, 2)`` samples in [0, 1) of the input's dtype (``[..., 0]`` for W,
            ``[..., 1]`` for H); drawn from mt's default generator when None. Given samples make the
            result deterministic (and equal to torch's for the same samples).

    Returns:
        the pooled values ``(N, C, oH, oW)`` and the int64 flat index of each maximum in its plane.
    """
    return _fractional("fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio,
                       _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2D fractional max pooling; see :func:`fractional_max_pool2d_with_indices` for the arguments.
    Returns the output, or ``(output, indices)`` with ``return_indices=True``."""
    out, ind = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  return_indices, _random_samples)
    return (out, ind) if return_indices else out


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """3D fractional max pooling (Graham, 2014) returning ``(output, indices)``.

    As :func:`fractional_max_pool2d_with_indices` over ``(T, H, W)``.

    Args:
        input: ``(N, C, T, H, W)`` or ``(C, T, H, W)``, floating.
        kernel_size: ``k`` or ``(kT, kH, kW)``.
        output_size: ``o`` (cube) or ``(oT, oH, oW)``; needs ``o + k - 1 <= n`` per dim.
        output_ratio: instead of ``output_size``: a number or triple in (0, 1).
        return_indices: ignored (the indices are always returned).
        _random_samples: ``(N, C, 3)`` samples in [0, 1) (``[..., 0]`` for T, ``1`` for H, ``2`` for W);
            drawn from mt's default generator when None.

    Returns:
        the pooled values ``(N, C, oT, oH, oW)`` and the int64 flat index of each maximum.
    """
    return _fractional("fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio,
                       _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3D fractional max pooling; see :func:`fractional_max_pool3d_with_indices` for the arguments.
    Returns the output, or ``(output, indices)`` with ``return_indices=True``."""
    out, ind = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  return_indices, _random_samples)
    return (out, ind) if return_indices else out
