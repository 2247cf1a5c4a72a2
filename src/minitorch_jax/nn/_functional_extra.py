"""nn.functional functions that are not single ops: fractional max pooling (argument checks and the
random samples, drawn from mt's generator, around the ``_fractional_max_pool{2,3}d`` kernels).

The ``max_pool{n}d_with_indices`` / ``adaptive_max_pool{n}d_with_indices`` aliases are op-table
entries (``_ops/nn_pool_extra.py``) and reach ``nn.functional`` from there.
"""

from __future__ import annotations

from .. import _random as R
from .._errors import DTypeError, OpTypeError, OpValueError, ShapeError
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


# ===== linear_cross_entropy, conv_tbc, native_channel_shuffle ==========================================
# ``linear_cross_entropy(input, W, target)`` is ``cross_entropy(linear(input, W), target)``. Its chunked
# form (``options`` given) is one kernel that walks the batch in chunks under ``jax.lax.map`` with each
# chunk's logits rematerialised in the backward (``jax.checkpoint``): only one ``(chunk, C)`` block of
# logits is live at a time, forward and backward, instead of the whole ``(N, C)``.
import dataclasses as _dc  # noqa: E402
import warnings as _warnings  # noqa: E402

import jax as _jax  # noqa: E402
import jax.numpy as _jnp  # noqa: E402

from .. import _dtype as _D  # noqa: E402
from .._ops._registry import OpDef as _OpDef  # noqa: E402
from .._ops._registry import dispatch as _dispatch  # noqa: E402
from .._ops.linalg import prec as _prec  # noqa: E402
from .._ops.linalg import same_dtype as _same_dtype  # noqa: E402
from .._ops.nn_loss import _no_grad_weight, _safe_mean  # noqa: E402
from .._ops.nn_loss_extra import native_channel_shuffle  # noqa: E402
from .._tensor import Tensor as _Tensor  # noqa: E402

__all__ += ["linear_cross_entropy", "conv_tbc", "native_channel_shuffle"]

_ACC_DTYPES = (None, _D.float16, _D.bfloat16, _D.float32, _D.float64)
_ACC_POLICIES = ("accurate", "balanced", "compact", "auto")


def _valid_chunking_method(m) -> bool:
    if m is None or m in ("auto", "aspect_ratio"):
        return True
    head, sep, num = m.partition(":")
    return head == "aspect_ratio" and sep == ":" and num.isdigit() and int(num) > 0


@_dc.dataclass(frozen=True, slots=True)
class LinearCrossEntropyOptions:
    """Options of the chunked :func:`linear_cross_entropy` (torch.nn.LinearCrossEntropyOptions).

    The chunked path walks the batch in chunks so that the whole ``(N, C)`` logits never exist at once
    (here: ``jax.lax.map`` over chunks, each chunk's logits recomputed in the backward). Pass
    ``options=None`` to :func:`linear_cross_entropy` for the plain path.

    Args:
        allow_retain_graph: accepted for compatibility (the backward here can always run again).
        batch_chunk_size: rows of the batch per chunk (a positive int), or None to derive it from
            ``chunking_method``.
        chunking_method: ``'auto'`` (= ``'aspect_ratio:2'``), ``'aspect_ratio'`` (= ``'aspect_ratio:1'``),
            ``'aspect_ratio:<k>'`` (chunks of ``k * in_features`` rows) or None (one chunk).
        acc_policy: ``'accurate'`` | ``'balanced'`` | ``'compact'`` | ``'auto'``; accepted (the values
            are accumulated in ``acc_dtype``: float32 for float16/bfloat16 inputs, else the input's).
        acc_dtype: None, or the dtype to accumulate in: the input's dtype, or float32 for
            float16/bfloat16 inputs.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        b = self.batch_chunk_size
        if b is not None and (not isinstance(b, int) or b <= 0):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {b}")
        if not _valid_chunking_method(self.chunking_method):
            raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if not any(self.acc_dtype is d for d in _ACC_DTYPES):
            names = ", ".join(repr(d) for d in _ACC_DTYPES)
            raise ValueError(f"acc_dtype must be one of {{{names}}}, got {self.acc_dtype!r}. Pass "
                             "acc_dtype=None to let the op pick automatically.")


def _chunk_rows(options, n: int, in_features: int) -> int:
    if options.batch_chunk_size is not None:
        return options.batch_chunk_size
    m = options.chunking_method
    if m is None:
        return max(n, 1)
    k = 2 if m == "auto" else int(m.partition(":")[2] or 1)
    return max(1, k * in_features)


def _lce_chunked_k(x, w, t, b, cw, ignore_index, reduction, chunk, acc, *, precision=None):
    """Chunked linear + cross entropy over class indices (see :func:`linear_cross_entropy`)."""
    out_dt, acc_dt = x.dtype, _jnp.dtype(acc)
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], t.reshape(1)
    n, c = x.shape[0], w.shape[0]
    chunk = max(1, min(chunk, n))
    nchunks = -(-n // chunk)
    pad = nchunks * chunk - n
    xs = _jnp.pad(x, ((0, pad), (0, 0))).reshape(nchunks, chunk, x.shape[1])
    ts = _jnp.pad(t, (0, pad), constant_values=ignore_index).reshape(nchunks, chunk)  # padding: ignored
    p = _prec(x, precision)

    @_jax.checkpoint
    def one(w, b, cw, xc, tc):  # the (chunk, C) logits live only inside
        logits = _jnp.matmul(xc, w.T, precision=p, preferred_element_type=acc_dt)
        if b is not None:
            logits = logits + b.astype(acc_dt)
        valid = tc != ignore_index
        bad = valid & ((tc < 0) | (tc >= c))
        ti = _jnp.clip(tc, 0, max(c - 1, 0))
        picked = _jnp.take_along_axis(logits, ti[:, None], axis=1)[:, 0]
        wt = _jnp.ones(ti.shape, acc_dt) if cw is None else cw.astype(acc_dt)[ti]
        wt = _jnp.where(valid, wt, _jnp.zeros((), acc_dt))
        loss = (_jax.nn.logsumexp(logits, axis=1) - picked) * wt
        return _jnp.where(bad, _jnp.asarray(_jnp.nan, acc_dt), loss), wt

    cw = None if cw is None else _jax.lax.stop_gradient(cw)
    losses, wts = _jax.lax.map(lambda a: one(w, b, cw, *a), (xs, ts))
    if reduction == "none":
        out = losses.reshape(-1)[:n]
        out = out.reshape(()) if unbatched else out
    elif reduction == "sum":
        out = _jnp.sum(losses)
    else:
        out = _safe_mean(_jnp.sum(losses), _jnp.sum(wts))
    return out.astype(out_dt)


_LCE_CHUNKED = _OpDef("linear_cross_entropy", _lce_chunked_k, nin=5, method=False, function=False,
                      precision=True, grad_name="LinearCrossEntropyBackward0")


def _lce_err(msg):
    return ShapeError(msg)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """Cross entropy of the logits ``input @ linear_weight.T (+ linear_bias)`` against ``target``
    (torch.nn.functional.linear_cross_entropy): ``cross_entropy(linear(input, W), target, ...)``.

    Args:
        input: ``(in_features)`` or ``(N, in_features)``.
        linear_weight: ``(C, in_features)``, or ``(C, d_1, ..., d_K, in_features)`` for a K-dimensional
            loss (batched input only): the logits are then ``(N, C, d_1, ..., d_K)``.
        target: class indices (int64: ``()``, ``(N)`` or ``(N, d_1, ..., d_K)``) or class probabilities
            (float: ``(C)``, ``(N, C)`` or ``(N, C, d_1, ..., d_K)``).
        linear_bias: optional ``(C, d_1, ..., d_K)`` bias of the logits.
        weight: optional ``(C)`` per-class rescaling.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        ignore_index: a class index that contributes nothing; None means -100 for index targets (and
            must be None for probability targets).
        label_smoothing: in [0, 1], as in :func:`cross_entropy`.
        options: None (the plain path) or a :class:`LinearCrossEntropyOptions`: the chunked path,
            which never holds the whole ``(N, C)`` logits (forward or backward). It covers index
            targets, ``label_smoothing == 0`` and ``K == 0``; other calls warn and take the plain path.

    Returns:
        the loss: a scalar, or with ``reduction='none'`` one value per target.
    """
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"linear_cross_entropy(): options must be a LinearCrossEntropyOptions or None, "
                        f"got {type(options).__name__}")
    if input.dim() not in (1, 2):
        raise _lce_err(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise _lce_err(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    wshape = tuple(linear_weight.shape)
    in_features, num_classes, out_features = wshape[-1], wshape[0], wshape[1:-1]
    if input.shape[-1] != in_features:
        raise _lce_err(f"expected equal input and linear_weight last dimensions (in_features), got "
                       f"{input.shape[-1]} and {in_features}, respectively")
    if out_features and input.dim() == 1:
        raise _lce_err(f"K-dimensional loss defined by linear_weight shape {wshape} requires batched input, "
                       f"(N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    if linear_bias is not None and tuple(linear_bias.shape) != wshape[:-1]:
        raise _lce_err(f"expected linear_bias shape {wshape[:-1]}, got {tuple(linear_bias.shape)}")
    probabilities = isinstance(target, _Tensor) and target.dtype.is_floating_point
    if probabilities and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ii = -100 if ignore_index is None else ignore_index
    if options is not None:
        tdt = getattr(target, "dtype", None)
        if (reduction in ("mean", "sum", "none") and label_smoothing == 0 and tdt is _D.int64
                and not out_features):
            return _chunked(input, linear_weight, target, linear_bias, weight, ii, reduction, options)
        bshape = None if linear_bias is None else tuple(linear_bias.shape)
        _warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
            "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
            f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={tdt}, "
            f"out_features={out_features}, tracing=False, linear_bias.shape={bshape}.",
            UserWarning, stacklevel=2)
    w2 = linear_weight.reshape(-1, in_features)
    b2 = None if linear_bias is None else linear_bias.reshape(-1)
    logits = REGISTRY["linear"].call(input, w2, b2)
    if out_features:
        logits = logits.reshape((input.shape[0], num_classes) + out_features)
    return REGISTRY["cross_entropy"].impl(logits, target, weight=weight, ignore_index=ii, reduction=reduction,
                                          label_smoothing=label_smoothing)


def _chunked(input, linear_weight, target, bias, weight, ignore_index, reduction, options):
    dt = input.dtype
    _same_dtype("linear_cross_entropy", *(a._data for a in (input, linear_weight, bias) if a is not None))
    half = dt in (_D.float16, _D.bfloat16)
    acc = options.acc_dtype
    if acc is not None and acc is not dt and not (half and acc is _D.float32):
        raise RuntimeError(f"linear_cross_entropy supports float32 acc_dtype with float16/bfloat16 inputs, "
                           f"but got {acc} acc_dtype and {dt} inputs.")
    acc = acc or (_D.float32 if half else dt)
    if not dt.is_floating_point:
        raise _lce_err(f"linear_cross_entropy: expected a floating point input, got {dt}")
    n = input.shape[0] if input.dim() == 2 else 1
    if input.dim() == 2 and (target.dim() != 1 or target.shape[0] != n):
        if target.dim() >= 1 and target.shape[0] != n:
            raise OpValueError(f"Expected input batch_size ({n}) to match target batch_size "
                               f"({target.shape[0]}).")
        raise _lce_err(f"linear_cross_entropy: 0D or 1D target tensor expected, multi-target not supported "
                       f"(input {list(input.shape)}, target {list(target.shape)})")
    if input.dim() == 1 and target.numel() != 1:
        raise _lce_err(f"linear_cross_entropy: 0D target tensor expected for an unbatched input, got "
                       f"{list(target.shape)}")
    c = linear_weight.shape[0]
    if weight is not None and tuple(weight.shape) != (c,):
        raise _lce_err(f"linear_cross_entropy: weight tensor should be defined either for all {c} classes or "
                       f"no classes but got weight tensor of shape: {list(weight.shape)}")
    _no_grad_weight("nll_loss_forward", weight=weight)
    rows = _chunk_rows(options, n, linear_weight.shape[-1])
    return _dispatch(_LCE_CHUNKED, [input, linear_weight, target, bias, weight],
                     (int(ignore_index), reduction, int(rows), _jnp.dtype(acc.np).name), {})


# ----- conv_tbc ------------------------------------------------------------------------------------------
def _conv_tbc_k(input, weight, bias, pad, *, precision=None):
    """1-d convolution of a ``(time, batch, channel)`` input (see :func:`conv_tbc`)."""
    if input.ndim != 3:
        raise ShapeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise ShapeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.ndim != 1:
        raise ShapeError("Bias must be 1-D")
    if bias.shape[0] != weight.shape[2]:
        raise ShapeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if input.shape[2] != weight.shape[1]:
        raise ShapeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    _same_dtype("conv_tbc", input, weight, bias)
    t, n = input.shape[:2]
    length = t + 2 * pad - weight.shape[0] + 1
    if length < 0:
        raise ShapeError(f"Trying to create tensor with negative dimension {length}: "
                         f"[{length}, {n}, {weight.shape[2]}]")
    # negative padding crops, as torch's
    x = _jax.lax.pad(input, _jnp.zeros((), input.dtype), [(pad, pad, 0), (0, 0, 0), (0, 0, 0)])
    y = _jax.lax.conv_general_dilated(x, weight, (1,), "VALID", dimension_numbers=("WNC", "WIO", "WNC"),
                                      precision=_prec(input, precision))
    return y + bias


_CONV_TBC = _OpDef("conv_tbc", _conv_tbc_k, nin=3, method=False, function=False, precision=True)


def conv_tbc(input, weight, bias, pad=0):
    """1-d convolution over a sequence laid out as ``(time, batch, channels)`` (F.conv_tbc).

    ``out[t, b, o] = bias[o] + sum_{k, c} x[t + k, b, c] * weight[k, c, o]`` with ``x`` the input padded
    by ``pad`` zero time steps on both sides (a negative ``pad`` crops).

    Args:
        input: ``(T, B, C_in)``.
        weight: ``(K, C_in, C_out)`` (kernel width first).
        bias: ``(C_out,)`` (required).
        pad: number of time steps to pad on each side (an int, default 0).

    Returns:
        ``(T + 2 * pad - K + 1, B, C_out)``.
    """
    if not isinstance(bias, _Tensor):
        raise OpTypeError("conv_tbc(): argument 'bias' (position 3) must be Tensor, not "
                          f"{type(bias).__name__}")
    if isinstance(pad, bool) or not isinstance(pad, int):
        raise OpTypeError(f"conv_tbc(): argument 'pad' (position 4) must be int, not {type(pad).__name__}")
    return _dispatch(_CONV_TBC, [input, weight, bias], (pad,), {})
