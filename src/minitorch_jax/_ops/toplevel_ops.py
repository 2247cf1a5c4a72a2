"""torch's top-level (ATen-named) functions beside the nn.functional ones: ``constant_pad_nd``,
``convolution``, ``native_layer_norm``/``native_group_norm``/``native_batch_norm`` (the results
with the saved statistics), ``native_dropout`` (result and mask), the in-place top-level
``dropout_``/``alpha_dropout_``/``feature_dropout_``/``feature_alpha_dropout_``, the factories
``empty_strided``/``empty_permuted``/``frombuffer``, ``histogramdd`` and the randomized
``svd_lowrank``/``pca_lowrank``.

Each reuses the kernels of its family (``nn_conv``, ``nn_norm``, ``nn_misc``, ``nn_sampling``,
``math_extra``). Differences from torch:

- ``empty_strided``/``empty_permuted`` give zero-filled, contiguous tensors: JAX arrays have no
  strides nor uninitialised memory, so ``stride`` and ``physical_layout`` are checked (as torch
  does) and otherwise ignored;
- ``frombuffer`` copies the buffer (torch shares its memory: writes to the tensor do not reach the
  buffer here, nor the other way round);
- ``svd_lowrank``/``pca_lowrank`` draw their random projection from mt's default generator, so
  results match torch's only up to that randomness (and the signs of singular vectors);
- random ops (``native_dropout``, ``dropout_`` ...) draw from mt's generator, not torch's.
"""

from __future__ import annotations

import builtins
import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _dtype
from .. import _random as R
from .._errors import OpTypeError, OpValueError, ShapeError
from .._meta import needs_values
from .._random import bernoulli_mask
from .._tensor import Tensor, _wrap
from ._helpers import A, P, Sample
from ._registry import REGISTRY, register
from .math_extra import _torch_linspace
from .nn_conv import _conv, _conv_transpose
from .nn_misc import alpha_dropout, dropout, feature_alpha_dropout, feature_dropout
from .nn_norm import (
    _acc,
    _bn_kernel,
    _ln_kernel,
    _no_grad_stats,
    _shape_check,
    _stat,
    _store,
    group_norm_stats,
)
from .nn_sampling import _pad_kernel

__all__: list[str] = []

_TOL = {"rtol": 1e-4, "atol": 1e-4}


def _ints(v, op: str, what: str, pos: int) -> tuple:
    """``v`` as a tuple of ints; torch's TypeError for a bare int or other types."""
    if not isinstance(v, (list, tuple)) or any(isinstance(e, bool) or not isinstance(e, (int, np.integer))
                                               for e in v):
        raise OpTypeError(f"{op}(): argument '{what}' (position {pos}) must be tuple of ints, not "
                          f"{type(v).__name__}")
    return tuple(int(e) for e in v)


# ----- constant_pad_nd ---------------------------------------------------------------------------
def _constant_pad_kernel(input, pad, value=0):
    """``input`` padded with the constant ``value`` (torch.constant_pad_nd).

    Args:
        input: any shape.
        pad: ``(left_last, right_last, left_2nd_last, right_2nd_last, ...)``: an even number of ints,
            at most twice ``input.dim()``; negative values crop.
        value: the fill value (default 0).
    """
    pad = _ints(pad, "constant_pad_nd", "pad", 2)
    if len(pad) % 2:
        raise ShapeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise ShapeError(f"Length of pad should be no more than twice the number of dimensions of the input. "
                         f"Pad length is {len(pad)} while the input has {input.ndim} dimensions.")
    return _pad_kernel(input, pad, "constant", value)


register("constant_pad_nd", nin=1, method=False, grad_name="ConstantPadNdBackward0", samples=lambda: [
    Sample(A(2, 3, 4), (1, 2)), Sample(A(2, 3, 4), [1, 0, -1, 2], 1.5),
    Sample(A(3, 4), (1, 1, 1, 1), value=-2.0), Sample(A(2, 3), (1, 2, 3)),
    Sample(A(2), (1, 1, 1, 1))])(_constant_pad_kernel)


# ----- convolution -------------------------------------------------------------------------------
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, *,
                precision="highest"):
    """The general convolution (torch.convolution): ``conv{1,2,3}d`` or, with ``transposed``,
    ``conv_transpose{1,2,3}d``, picked by ``weight.dim() - 2``.

    Args:
        input: ``(N, C_in, *spatial)``.
        weight: ``(C_out, C_in / groups, *k)``; transposed: ``(C_in, C_out / groups, *k)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation, output_padding: sequences of ints (one per spatial dim, or one).
        transposed: a transposed convolution.
        groups: number of channel groups.
    """
    stride = _ints(stride, "convolution", "stride", 4)
    padding = _ints(padding, "convolution", "padding", 5)
    dilation = _ints(dilation, "convolution", "dilation", 6)
    output_padding = _ints(output_padding, "convolution", "output_padding", 8)
    nd = weight.ndim - 2
    if nd not in (1, 2, 3):
        raise ShapeError(f"convolution(): expected a weight of 3, 4 or 5 dims, got weight of size "
                         f"{list(weight.shape)}")
    if input.ndim != nd + 2:
        raise ShapeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to convolution, but "
                         f"got input of size: {list(input.shape)}")
    if transposed:
        return _conv_transpose("convolution", nd, input, weight, bias, stride, padding, output_padding,
                               groups, dilation, precision)
    return _conv("convolution", nd, input, weight, bias, stride, padding, dilation, groups, precision)


register("convolution", nin=3, precision=True, method=False, saves=(0, 1), grad_name="ConvolutionBackward0",
         samples=lambda: [
             Sample(A(2, 3, 7), A(4, 3, 3), A(4), [1], [1], [1], False, [0], 1, **_TOL),
             Sample(A(2, 4, 6, 5), A(6, 2, 3, 2), None, [2, 1], [1, 0], [1, 2], False, [0, 0], 2, **_TOL),
             Sample(A(2, 3, 4, 5), A(3, 2, 3, 3), A(2), [2, 2], [1, 1], [1, 1], True, [1, 0], 1, **_TOL),
             Sample(A(2, 3, 7), A(4, 3, 3), None, 1, [0], [1], False, [0], 1),
             Sample(A(3, 7), A(4, 3, 3), None, [1], [0], [1], False, [0], 1)])(convolution)


# ----- native norms ------------------------------------------------------------------------------
def _native_ln_kernel(input, weight, bias, normalized_shape, eps):
    axes = _shape_check("native_layer_norm", input, normalized_shape, weight, bias)
    dt = _acc(input.dtype)
    mean, var = _stat(input, axes, dt)
    out = _ln_kernel(input, weight, bias, normalized_shape, eps)
    rstd = lax.rsqrt(var + jnp.asarray(eps, dt))
    return out, lax.stop_gradient(mean), lax.stop_gradient(rstd)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """Layer norm that also returns the statistics: ``(out, mean, rstd)``.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: the trailing dims' sizes (a sequence of ints).
        weight, bias: ``normalized_shape``-shaped tensors or None.
        eps: added to the biased variance.

    Returns: ``out`` like ``input``; ``mean`` and ``rstd = 1 / sqrt(var + eps)`` of shape
    ``input.shape[:-k] + (1,) * k`` (no gradient flows through them, as in torch).
    """
    ns = _ints(list(normalized_shape) if isinstance(normalized_shape, tuple) else normalized_shape,
               "native_layer_norm", "normalized_shape", 2)
    out, mean, rstd = _NLN.call(input, weight, bias, ns, float(eps))
    return out, mean.detach(), rstd.detach()


register("native_layer_norm", nin=3, method=False, grad_name="NativeLayerNormBackward0",
         impl=native_layer_norm, samples=lambda: [
             Sample(A(3, 4, dtype="float64"), [4], A(4, dtype="float64"), A(4, dtype="float64"), 1e-5),
             Sample(A(2, 3, 4), (3, 4), None, A(3, 4), 1e-3, **_TOL),
             Sample(A(2, 3), [4], None, None, 1e-5)])(_native_ln_kernel)
_NLN = REGISTRY["native_layer_norm"]


def _native_gn_kernel(input, weight, bias, N, C, HxW, group, eps):  # noqa: N803 - torch's names
    """Group norm that also returns the statistics: ``(out, mean, rstd)``.

    Args:
        input: ``N * C * HxW`` elements laid out as ``(N, C, *)``.
        weight, bias: ``(C,)`` or None.
        N, C, HxW: batch size, channels and the product of the spatial sizes.
        group: the number of groups (divides ``C``).
        eps: added to the biased variance.

    Returns: ``out`` like ``input``; ``mean`` and ``rstd = 1 / sqrt(var + eps)`` of shape ``(N, group)``
    (differentiable, as in torch).
    """
    if input.size != N * C * HxW:
        raise ShapeError(f"Expected input to have {N * C * HxW} elements (N * C * HxW = {N} * {C} * {HxW}), "
                         f"but got input of size {list(input.shape)}")
    if group <= 0 or C % group:
        raise ShapeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                         f"input of shape {list(input.shape)} and num_groups={group}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and (v.ndim != 1 or v.shape[0] != C):
            raise ShapeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                             f"input, but got {name} of shape {list(v.shape)} and input of shape "
                             f"{list(input.shape)}")
    y, mean, rstd = group_norm_stats(input.reshape(N, C, HxW), weight, bias, group, eps)
    rd = input.dtype
    return y.reshape(input.shape), mean.reshape(N, group).astype(rd), rstd.reshape(N, group).astype(rd)


register("native_group_norm", nin=3, method=False, grad_name="NativeGroupNormBackward0", samples=lambda: [
    Sample(A(2, 4, 3, dtype="float64"), A(4, dtype="float64"), A(4, dtype="float64"), 2, 4, 3, 2, 1e-5),
    Sample(A(2, 6, 2, 2), A(6), None, 2, 6, 4, 3, 1e-3, **_TOL),
    Sample(A(2, 6), None, None, 2, 6, 1, 4, 1e-5)])(_native_gn_kernel)


def _native_bn_kernel(input, weight, bias, running_mean, running_var, momentum, training, eps):
    res = _bn_kernel(input, running_mean, running_var, weight, bias, None, momentum, training, eps)
    if not training:
        empty = jnp.zeros((0,), input.dtype)
        return res, empty, empty
    y, rest = (res[0], res[1:]) if isinstance(res, tuple) else (res, ())
    dt = _acc(input.dtype)
    axes = (0,) + tuple(range(2, input.ndim))
    mean, var = _stat(input, axes, dt)
    c = input.shape[1]
    invstd = lax.rsqrt(var + jnp.asarray(eps, dt))
    return (y, lax.stop_gradient(mean.reshape(c)).astype(input.dtype),
            lax.stop_gradient(invstd.reshape(c)).astype(input.dtype), *rest)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """Batch norm that also returns the saved statistics: ``(out, save_mean, save_invstd)``.

    In training ``save_mean``/``save_invstd`` are the batch's per-channel mean and
    ``1 / sqrt(var + eps)`` (biased variance) and the given running stats are updated in place;
    in evaluation they are empty ``(0,)`` tensors, as torch's CPU kernel gives.

    Args:
        input: ``(N, C, *)``.
        weight, bias: ``(C,)`` or None.
        running_mean, running_var: ``(C,)`` or None (required when not training).
        training: use (and return) batch statistics.
        momentum: factor of the running update.
        eps: added to the variance.
    """
    _no_grad_stats("native_batch_norm", running_mean, running_var)
    res = _NBN.call(input, weight, bias, running_mean, running_var, float(momentum), bool(training),
                    float(eps))
    if training and running_mean is not None:
        _store(running_mean, res[3])
        _store(running_var, res[4])
    return res[0], res[1].detach(), res[2].detach()


def _nbn_samples():
    d = "float64"
    return [Sample(A(4, 3, dtype=d), A(3, dtype=d), A(3, dtype=d), None, None, True, 0.1, 1e-5),
            Sample(A(2, 3, 4, dtype=d), None, A(3, dtype=d), A(3, dtype=d), P(3, dtype=d), True, 0.2, 1e-5,
                   grad=False),
            Sample(A(2, 3, 4), A(3), None, A(3), P(3), False, 0.1, 1e-3, grad=False, **_TOL)]
    # (torch 2.13 segfaults on eval mode without running stats: no sample for that error)


register("native_batch_norm", nin=5, method=False, grad_name="NativeBatchNormBackward0",
         impl=native_batch_norm, samples=_nbn_samples)(_native_bn_kernel)
_NBN = REGISTRY["native_batch_norm"]


# ----- dropout -----------------------------------------------------------------------------------
def _native_dropout_kernel(input, key, p, train):
    import jax
    k = jax.random.wrap_key_data(key, impl="threefry2x32")
    k, sub = jax.random.split(k)
    new_key = jax.random.key_data(k)
    if not train:
        return input, jnp.ones(input.shape, bool), key
    if p == 1.0:
        return input * jnp.zeros((), input.dtype), jnp.zeros(input.shape, bool), new_key
    keep = bernoulli_mask(sub, 1.0 - p, input.shape)
    scale = jnp.asarray(1.0 / (1.0 - p), _acc(input.dtype))
    out = (input.astype(scale.dtype) * (keep.astype(scale.dtype) * scale)).astype(input.dtype)
    return out, keep, new_key


def native_dropout(input, p, train):
    """Dropout returning ``(output, mask)``: each element is kept (``mask`` True) with probability
    ``1 - p`` and scaled by ``1 / (1 - p)``, from mt's default generator.

    Args:
        input: a float tensor.
        p: drop probability in [0, 1].
        train: apply dropout (None counts as True); False gives ``(input, all-True mask)``.
    """
    if not isinstance(input, Tensor):
        raise OpTypeError(f"native_dropout(): argument 'input' (position 1) must be Tensor, not "
                          f"{type(input).__name__}")
    train = True if train is None else bool(train)
    if train and not 0.0 <= p <= 1.0:
        raise ShapeError(f"bernoulli_ expects p to be in [0, 1], but got p={1 - p}")
    gen = R.default_generator
    out, mask, key = _NDROP.call(input, gen._key, float(p), train)
    gen._key = key._data
    return out, mask


register("native_dropout", nin=2, method=False, grad_name="NativeDropoutBackward0", impl=native_dropout,
         samples=lambda: [Sample(A(3, 4, dtype="float64"), 0.0, True), Sample(A(2, 3), 0.5, False),
                          Sample(A(4), 1.0, True)])(_native_dropout_kernel)
_NDROP = REGISTRY["native_dropout"]


def _check_p_aten(p):
    # the ATen functions raise RuntimeError here (nn.functional's forms: ValueError)
    if not 0.0 <= p <= 1.0:
        raise ShapeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _inplace_dropout(name, fn, doc):
    def f(input, p, train):
        _check_p_aten(p)
        return fn(input, p, train, inplace=True)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    register(name, nin=1, method=False, differentiable=False, impl=f, samples=lambda: [
        Sample(A(2, 3, 4), 0.0, True, grad=False), Sample(A(2, 3, 4), 0.5, False, grad=False),
        Sample(A(2, 3, 4), 1.5, True, grad=False)])(lambda input, p, train: input)


_inplace_dropout("dropout_", dropout, """In-place :func:`dropout` (torch.dropout_): zero each
    element of ``input`` with probability ``p`` and scale the rest by ``1 / (1 - p)`` when ``train``.
    Returns ``input``.""")
_inplace_dropout("alpha_dropout_", alpha_dropout, """In-place alpha dropout (torch.alpha_dropout_) of
    ``input`` with probability ``p`` when ``train``; returns ``input``.""")
_inplace_dropout("feature_dropout_", feature_dropout, """In-place channel dropout
    (torch.feature_dropout_): zero whole channels (dim 1 of ``(N, C, *)``) with probability ``p``
    when ``train``; returns ``input``.""")
_inplace_dropout("feature_alpha_dropout_", feature_alpha_dropout, """In-place channel alpha dropout
    (torch.feature_alpha_dropout_) of ``input`` when ``train``; returns ``input``.""")


# ----- factories ---------------------------------------------------------------------------------
def _factory(shape, dtype, device, requires_grad, name):
    from .._creation import _finish
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    return _finish(_wrap(jnp.zeros(shape, dt)), device, requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An 'uninitialised' tensor of ``size`` with the given strides (torch.empty_strided).

    mt tensors are always contiguous and JAX has no uninitialised memory: the result is a
    zero-filled contiguous tensor; ``stride`` is checked as torch checks it (one non-negative int
    per dim) and otherwise ignored.

    Args:
        size, stride: sequences of ints of the same length.
        dtype, device, requires_grad: as in :func:`mt.empty`.
    """
    size = _ints(size, "empty_strided", "size", 1)
    stride = _ints(stride, "empty_strided", "stride", 2)
    if len(size) != len(stride):
        raise ShapeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
                         f"({len(stride)})")
    if any(s < 0 for s in size):
        bad = next(s for s in size if s < 0)
        raise ShapeError(f"Trying to create tensor with negative dimension {bad}: {list(size)}")
    if any(s < 0 for s in stride):
        raise ShapeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                         f"strides={list(stride)}")
    return _factory(size, dtype, device, requires_grad, "empty_strided")


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An 'uninitialised' tensor of logical shape ``size`` whose memory would be laid out in the
    order ``physical_layout`` (torch.empty_permuted).

    Here the result is zero-filled and contiguous (mt tensors have no strides); ``physical_layout``
    is checked to be a permutation of ``range(len(size))``, as torch does.

    Args:
        size: the logical shape.
        physical_layout: a permutation of the dims, outermost first.
        dtype, device, requires_grad: as in :func:`mt.empty`.
    """
    size = _ints(size, "empty_permuted", "size", 1)
    perm = _ints(physical_layout, "empty_permuted", "physical_layout", 2)
    if len(size) != len(perm):
        raise ShapeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                         f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(perm)}")
    seen = set()
    for i, d in enumerate(perm):
        if not 0 <= d < len(size):
            raise ShapeError(f"Dimension out of range (expected to be between 0 and {len(size) - 1}, but got "
                             f"{d} at index {i}).  NB: negative dims not currently supported; file an issue "
                             f"if you want it.")
        if d in seen:
            raise ShapeError("Duplicate dim not allowed")
        seen.add(d)
    if any(s < 0 for s in size):
        bad = next(s for s in size if s < 0)
        raise ShapeError(f"Trying to create tensor with negative dimension {bad}: {list(size)}")
    return _factory(size, dtype, device, requires_grad, "empty_permuted")


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor of ``count`` elements of ``dtype`` read from an object with the buffer protocol
    (``bytes``, ``bytearray``, ``array.array``, ``memoryview`` ...), starting ``offset`` bytes in.

    Unlike torch, the data are copied: the tensor and the buffer do not share memory.

    Args:
        buffer: the source of the bytes.
        dtype: element type (keyword, required).
        count: number of elements (-1: all the bytes after ``offset``).
        offset: bytes to skip at the start.
        requires_grad: as in :func:`mt.tensor`.
    """
    try:
        mv = memoryview(buffer)
    except TypeError:
        raise OpValueError("object does not implement Python buffer protocol.") from None
    nbytes = mv.nbytes
    np_dt = np.dtype(_dtype.to_np(dtype))
    el = np_dt.itemsize
    count, offset = int(count), int(offset)
    if nbytes == 0 or count == 0:
        raise OpValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if offset < 0 or offset >= nbytes:
        raise OpValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                           f"({nbytes} bytes) minus 1")
    if count < 0:
        if (nbytes - offset) % el:
            raise OpValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) must "
                               f"be a multiple of element size ({el})")
        count = (nbytes - offset) // el
    elif offset + count * el > nbytes:
        raise OpValueError(f"requested buffer length ({count} * {el} bytes) after offset ({offset} bytes) "
                           f"must not be greater than actual buffer length ({nbytes} bytes)")
    raw = np.frombuffer(mv.cast("B") if mv.ndim != 1 or mv.format != "B" else mv, dtype=np.uint8,
                        count=count * el, offset=offset)
    arr = raw.copy().view(np_dt)
    from .._creation import _finish
    return _finish(_wrap(jnp.asarray(arr)), None, requires_grad)


def _no_kernel(*args, **kwargs):  # the factories are impl-only entries: nothing is dispatched
    raise NotImplementedError


def _buf():
    return bytearray(np.arange(6, dtype="float32").tobytes() + b"abc")


register("empty_strided", nin=0, method=False, differentiable=False, impl=empty_strided, samples=lambda: [
    Sample((0, 3), (3, 1)), Sample((2, 3), (1,)), Sample((2, 3), (-1, 1)), Sample((2, -3), (1, 1)),
    Sample((2, 3), (1, 1), dtype=_dtype.int64, requires_grad=True)])(_no_kernel)
register("empty_permuted", nin=0, method=False, differentiable=False, impl=empty_permuted, samples=lambda: [
    Sample((2, 0, 4), (0, 2, 1)), Sample((2, 3, 4), (0, 2)), Sample((2, 3, 4), (0, 2, 2)),
    Sample((2, 3, 4), (0, 2, 5))])(_no_kernel)
register("frombuffer", nin=0, method=False, differentiable=False, impl=frombuffer, samples=lambda: [
    Sample(_buf(), dtype=_dtype.float32, count=6), Sample(_buf(), dtype=_dtype.int16, count=3, offset=2),
    Sample(_buf()[:24], dtype=_dtype.float64), Sample(_buf(), dtype=_dtype.float32),
    Sample(_buf(), dtype=_dtype.float32, count=7), Sample(_buf(), dtype=_dtype.float32, offset=40),
    Sample(bytearray(), dtype=_dtype.float32), Sample([1, 2], dtype=_dtype.float32),
    Sample(_buf()[:8], dtype=_dtype.int32, requires_grad=True)])(_no_kernel)


# ----- histogramdd -------------------------------------------------------------------------------
_F32_64 = (np.dtype("float32"), np.dtype("float64"))


def _histogramdd_kernel(input, weight, edges, sizes, range, density):  # noqa: A002
    """``(hist, *bin_edges)``: ``edges`` is None (equal-width bins, ``sizes`` per dim, over ``range``
    or the data's extent) or the given edges of all dims, concatenated."""
    if input.dtype not in _F32_64:
        raise ShapeError(f"torch.histogramdd: \"histogramdd\" not implemented for '{input.dtype}'")
    if input.ndim < 2:
        raise ShapeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    nd = input.shape[-1]
    if len(sizes) != nd:
        raise ShapeError("histogramdd: The size of bins must be equal to the innermost dimension of the "
                         "input.")
    x = input.reshape(-1, nd)
    dt = input.dtype
    if weight is not None:
        if weight.shape != input.shape[:-1]:
            raise ShapeError(f"torch.histogramdd: if weight tensor is provided it should have the same shape "
                             f"as the input tensor excluding its innermost dimension, but got input with "
                             f"shape {list(input.shape)} and weight with shape {list(weight.shape)}")
        if weight.dtype != dt:
            raise ShapeError(f"torch.histogramdd: if weight tensor is provided, input tensor and weight "
                             f"tensor should have the same dtype, but got input({dt}), and "
                             f"weight({weight.dtype})")
    all_edges = []
    start = 0
    inside = jnp.ones(x.shape[0], bool)
    flat = jnp.zeros(x.shape[0], jnp.int32)
    for d, n in enumerate(sizes):
        col = x[:, d]
        if edges is not None:
            e = edges[start:start + n + 1]
            start += n + 1
        else:
            if range is not None:
                lo, hi = jnp.asarray(range[2 * d], dt), jnp.asarray(range[2 * d + 1], dt)
            elif x.shape[0]:
                lo, hi = jnp.min(col), jnp.max(col)
            else:
                lo, hi = jnp.asarray(0, dt), jnp.asarray(1, dt)
            same = lo == hi
            lo, hi = jnp.where(same, lo - 0.5, lo), jnp.where(same, hi + 0.5, hi)
            e = _torch_linspace(lo, hi, n + 1)
        all_edges.append(e)
        pos = jnp.clip(jnp.searchsorted(e, col, side="right") - 1, 0, n - 1)
        inside = inside & (col >= e[0]) & (col <= e[-1])
        flat = flat * n + pos.astype(jnp.int32)
    w = jnp.ones(x.shape[0], dt) if weight is None else weight.reshape(-1)
    hist = jnp.zeros(math.prod(sizes), dt).at[flat].add(jnp.where(inside, w, 0)).reshape(sizes)
    if density:
        hist = hist / jnp.sum(hist)
        for d, e in enumerate(all_edges):
            hist = hist / jnp.diff(e).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
    return (hist, *all_edges)


def histogramdd(input, bins, range=None, weight=None, density=False):  # noqa: A002
    """Multi-dimensional histogram of the points in the last dim of ``input``:
    ``(hist, bin_edges)`` with one tensor of edges per dim (torch.return_types.histogramdd).

    Args:
        input: ``(..., D)`` float32/float64: ``prod(...)`` points in ``D`` dims.
        bins: an int (that many equal-width bins in every dim), ``D`` ints, or ``D`` 1-D tensors of
            increasing edges (then ``range`` must not be given).
        range: ``2 * D`` floats ``(min_0, max_0, min_1, ...)`` for the equal-width bins (default each
            dim's data extent, widened by 0.5 each way when it is a single value).
        weight: ``input.shape[:-1]`` weights, one per point.
        density: normalise so that the histogram integrates to 1.

    Each bin is ``[left, right)``, the last in a dim ``[left, right]``; points outside are not
    counted. Not differentiable.
    """
    needs_values("histogramdd", input)
    from ..return_types import histogramdd as result
    from .math_extra import _num
    if not isinstance(input, Tensor):
        raise OpTypeError(f"histogramdd(): argument 'input' (position 1) must be Tensor, not "
                          f"{type(input).__name__}")
    nd = input.shape[-1] if input.dim() else 0
    edges = None
    if isinstance(bins, (list, tuple)) and bins and all(isinstance(b, Tensor) for b in bins):
        if range is not None:
            raise OpTypeError("histogramdd() received an invalid combination of arguments: range= is only "
                              "accepted with int bins, not with bins tensors")
        for d, b in enumerate(bins):
            if b.dim() != 1:
                raise ShapeError(f"torch.histogramdd: bins tensor should have one dimension, but got "
                                 f"{b.dim()} dimensions in the bins tensor for dimension {d}")
            if b.dtype != input.dtype:
                raise ShapeError(f"torch.histogramdd: input tensor and bins tensors should have the same "
                                 f"dtype, but got input with dtype {input.dtype} and bins for dimension {d} "
                                 f"with dtype {b.dtype}")
        sizes = tuple(b.shape[0] - 1 for b in bins)
        edges = _wrap(jnp.concatenate([b._data for b in bins]))
    elif isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        sizes = (int(bins),) * max(nd, 1)
    elif isinstance(bins, (list, tuple)):
        sizes = _ints(bins, "histogramdd", "bins", 2)
    else:
        raise OpTypeError(f"histogramdd(): argument 'bins' must be int, tuple of ints or tuple of Tensors, "
                          f"not {type(bins).__name__}")
    for d, n in enumerate(sizes):
        if n <= 0:
            raise ShapeError(f"torch.histogram(): bins must be > 0, but got {n} for dimension {d}")
    if range is not None:
        range = tuple(float(r) for r in range)  # noqa: A001
        if len(range) != 2 * nd:
            raise ShapeError(f"torch.histogramdd: for a {nd}-dimensional histogram range should have "
                             f"{2 * nd} elements, but got {len(range)}")
        for d in builtins.range(nd):
            lo, hi = range[2 * d], range[2 * d + 1]
            if lo > hi:
                raise ShapeError(f"torch.histogramdd: min should not exceed max, but got min {_num(lo)} max "
                                 f"{_num(hi)} for dimension {d}")
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ShapeError(f"torch.histogramdd: dimension {d}'s range [{_num(lo)}, {_num(hi)}] is not "
                                 f"finite")
    hist, *bin_edges = _HISTDD.call(input, weight, edges, sizes, range, bool(density))
    return result(hist, tuple(bin_edges))


register("histogramdd", nin=3, method=False, differentiable=False, impl=histogramdd, samples=lambda: [
    Sample(np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 2.0], [2.0, 0.5]], "float32"), 2),
    Sample(A(10, 2, dtype="float64"), [2, 3], range=[-1.0, 1.0, -2.0, 2.0], density=True),
    Sample(A(3, 4, 3), 3, weight=P(3, 4)),
    Sample(A(6, 2), [np.array([-2.0, 0.0, 2.0], "float32"), np.array([-1.0, 0.0, 1.0, 3.0], "float32")]),
    Sample(A(4, 2), [2, 3, 4]), Sample(A(4, 2), 3, range=[0.0, 1.0]), Sample(A(4, 2), 0),
    Sample(A(3), 2)])(_histogramdd_kernel)
_HISTDD = REGISTRY["histogramdd"]


# ----- svd_lowrank / pca_lowrank -----------------------------------------------------------------
def _check_matrix(A, op):
    if not isinstance(A, Tensor):
        raise OpTypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise OpValueError(f"{op}(): expected a matrix or a batch of matrices, got A of size {list(A.shape)} "
                           f"(not enough values to unpack (expected 2, got {A.dim()}))")
    if not _dtype.is_inexact(A._data.dtype):
        raise ShapeError(f"{op}(): expected a floating point or complex A, got {A.dtype}")


def _basis(A, q, niter, M):
    """An orthonormal ``(..., m, q)`` basis approximating the range of ``A - M`` (randomized, with
    ``niter`` subspace iterations)."""
    import minitorch_jax as mt
    R = mt.randn(A.shape[-1], q, dtype=A.dtype)

    def mul(X):
        return A @ X if M is None else A @ X - M @ X

    def mul_h(X):
        return A.mH @ X if M is None else A.mH @ X - M.mH @ X

    Q = mt.linalg.qr(mul(R)).Q
    for _ in builtins.range(niter):
        Q = mt.linalg.qr(mul_h(Q)).Q
        Q = mt.linalg.qr(mul(Q)).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """An approximate rank-``q`` SVD ``(U, S, V)`` of ``A - M`` by randomized subspace iteration
    (Halko et al., 2009), with ``A - M ~ U diag(S) V^H``.

    Args:
        A: ``(*, m, n)`` float or complex.
        q: the rank of the approximation (default 6; slightly more than the wanted rank helps).
        niter: subspace iterations (more: more accurate).
        M: optional ``(*, m, n)`` (broadcast) subtracted from ``A``.

    Returns: ``U (*, m, k)``, ``S (*, k)``, ``V (*, n, k)`` with ``k = min(q, m, n)``-ish (the number
    of columns the basis has). The random projection comes from mt's default generator.
    """
    import minitorch_jax as mt
    _check_matrix(A, "svd_lowrank")
    q = 6 if q is None else q
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 0:
        raise OpValueError(f"svd_lowrank(): q(={q}) must be a non-negative integer")
    if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 0:
        raise OpValueError(f"svd_lowrank(): niter(={niter}) must be a non-negative integer")
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    flip = m < n
    if flip:
        A = A.mH
        M = None if M is None else M.mH
    Q = _basis(A, int(q), int(niter), M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = mt.linalg.svd(B, full_matrices=False)
    U = Q @ U
    V = Vh.mH
    return (V, S, U) if flip else (U, S, V)


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal component analysis of the rows of ``A`` by :func:`svd_lowrank`: ``(U, S, V)`` of
    ``A - mean`` (``center``), ``V``'s columns being the principal directions.

    Args:
        A: ``(*, m, n)``: ``m`` samples of ``n`` features.
        q: number of components (default ``min(6, m, n)``; at most ``min(m, n)``).
        center: subtract the column means first.
        niter: subspace iterations.
    """
    _check_matrix(A, "pca_lowrank")
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 0 <= q <= min(m, n):
        raise OpValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 0:
        raise OpValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(dim=-2, keepdim=True)
    return svd_lowrank(A, q, niter)


# random results: the parity samples are the inputs torch rejects (values are tested in
# tests/test_toplevel_ops.py by reconstruction error)
register("svd_lowrank", nin=0, method=False, impl=svd_lowrank, samples=lambda: [
    Sample(A(5))])(_no_kernel)
register("pca_lowrank", nin=0, method=False, impl=pca_lowrank, samples=lambda: [
    Sample(A(5, 4), q=6), Sample(A(5, 4), q=-1), Sample(A(5))])(_no_kernel)
