"""nn.functional losses: one fused kernel (one table entry, one dispatch) per loss.

Each public callable (``impl``) takes torch's signature - legacy ``size_average``/``reduce``
included - and calls its kernel with the tensors and static options; the kernel checks shapes,
dtypes and the reduction string while JAX traces it (free per call) and computes the loss
and its reduction in one XLA program.

Data-dependent checks torch makes (class index out of range, BCE input outside [0, 1],
negative ``var`` in ``gaussian_nll_loss``) run for tensors on the CPU, after the kernel
(``_value_checks``). On an accelerator and under ``mt.jit`` they would need a device sync or have no
values: there an out-of-range class index gives a NaN loss, and BCE/GaussianNLL compute with the
clamped values.

``reduction`` may also be torch's enum int (0 none, 1 mean, 2 sum), as the ``torch.<name>``
forms of the losses take it.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpValueError, ShapeError
from .._grad_mode import STATE
from .._tensor import Tensor
from ._helpers import A, I, P, Sample, broadcast_shape
from ._registry import REGISTRY, register
from ._value_checks import check_class_indices, check_nonnegative, check_probabilities

_ENUM = {0: "none", 1: "mean", 2: "sum"}
_TNAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half",
           "bfloat16": "BFloat16"}


def _tn(dt) -> str:
    return _TNAMES.get(str(dt), str(dt))


# ----- shared argument handling ------------------------------------------------------------------
def _reduction(size_average, reduce, reduction, valid=("none", "mean", "sum"),
               msg="{} is not a valid value for reduction"):
    """torch's reduction: legacy ``size_average``/``reduce`` win when given; checks the string."""
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else bool(size_average)
        rd = True if reduce is None else bool(reduce)
        warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                      f"{('mean' if sa else 'sum') if rd else 'none'}' instead.", UserWarning, stacklevel=3)
        return ("mean" if sa else "sum") if rd else "none"
    if isinstance(reduction, int) and not isinstance(reduction, bool):
        reduction = _ENUM.get(reduction, reduction)
    if reduction not in valid:
        raise OpValueError(msg.format(reduction))
    return reduction


def _no_grad_weight(op: str, **tensors):
    """torch refuses to differentiate these losses with respect to their class weights."""
    if STATE.grad:
        for name, t in tensors.items():
            if isinstance(t, Tensor) and t.requires_grad:
                raise RuntimeError(f"The function '{op}' is not differentiable with respect to argument "
                                   f"'{name}'. This input cannot have requires_grad True.")


def _reduce(loss, reduction):
    if reduction == "mean":
        return jnp.mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


def _float_in(op, x, kernel):
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f'{op}: "{kernel}" not implemented for \'{_tn(x.dtype)}\'')


def _size_warning(op, input, target):
    """torch's broadcasting warning; called by the public wrappers on EVERY call (not from a kernel, which
    is traced once per shape and cached), so warning filters see it as often as torch's."""
    if getattr(input, "shape", None) != getattr(target, "shape", None):
        warnings.warn(
            f"{op}: Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _pair(op, input, target, kernel):
    """Promote ``input``/``target`` to their common float type and broadcast them (the public wrapper
    gives torch's size warning)."""
    shape = broadcast_shape(op, input.shape, target.shape)
    dt = jnp.result_type(input, target)
    _float_in(op, jnp.zeros((), dt), kernel)
    return jnp.broadcast_to(input.astype(dt), shape), jnp.broadcast_to(target.astype(dt), shape)


def _weighted(op, loss, weight, input, reduction, mean_by_weight=True):
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise OpValueError(f"{op}: Weights and input must have the same size (weight {list(weight.shape)}, "
                           f"input {list(input.shape)}).")
    loss = loss * weight.astype(loss.dtype)
    if reduction == "mean" and mean_by_weight:
        return jnp.sum(loss) / jnp.sum(weight.astype(loss.dtype))
    return _reduce(loss, reduction)


def _f(name):
    return REGISTRY[name].call


def _nn(name, **opts):
    opts.setdefault("function", False)
    opts.setdefault("method", False)
    opts.setdefault("torch_name", "nn.functional." + name)
    return register(name, functional=True, **opts)


# ----- regression losses -------------------------------------------------------------------------
def _mse_k(input, target, weight, reduction):
    """Mean squared error kernel."""
    x, t = _pair("mse_loss", input, target, "mse_cpu")
    return _weighted("mse_loss", (x - t) ** 2, weight, input, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error ``(input - target)**2``, reduced (F.mse_loss).

    Args:
        input, target: broadcastable tensors (a warning when their sizes differ).
        reduction: 'none' | 'mean' | 'sum'.
        weight: optional per-element weights of ``input``'s size; 'mean' then divides by their sum.
    """
    _size_warning("mse_loss", input, target)
    return _f("mse_loss")(input, target, weight, _reduction(size_average, reduce, reduction))


def _reg_samples(**kw):
    def samples():
        return [Sample(A(3, 4), A(3, 4), **kw), Sample(A(3, 4), A(3, 4), reduction="sum", **kw),
                Sample(A(2, 3, 4), A(2, 3, 4), reduction="none", **kw), Sample(A(3, 4), A(4), **kw),
                Sample(A(5, dtype="float64"), A(5, dtype="float64"), **kw), Sample(A(), A(), **kw),
                Sample(A(0, 3), A(0, 3), **kw), Sample(A(3, 4), A(3, 4), reduction="foo", **kw),
                Sample(A(3), A(4), **kw), Sample(A(3, 4), I(3, 4), **kw),
                Sample(A(3, 4), A(3, 4), weight=P(3, 4), grad=False, **kw),
                Sample(A(3, 4), A(3, 4), weight=P(3, 4), reduction="sum", grad=False, **kw)]
    return samples


_nn("mse_loss", nin=3, impl=mse_loss, samples=_reg_samples())(_mse_k)


def _l1_k(input, target, weight, reduction):
    """L1 loss kernel."""
    x, t = _pair("l1_loss", input, target, "abs_cpu")
    return _weighted("l1_loss", jnp.abs(x - t), weight, input, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Absolute error ``|input - target|``, reduced (F.l1_loss); ``weight`` as in :func:`mse_loss`."""
    _size_warning("l1_loss", input, target)
    return _f("l1_loss")(input, target, weight, _reduction(size_average, reduce, reduction))


_nn("l1_loss", nin=3, impl=l1_loss, samples=_reg_samples())(_l1_k)


def _smooth_l1_k(input, target, reduction, beta):
    """Smooth L1 kernel."""
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got {beta}).")
    x, t = _pair("smooth_l1_loss", input, target, "smooth_l1_cpu")
    d = jnp.abs(x - t)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(jnp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: ``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2`` (F.smooth_l1_loss)."""
    _size_warning("smooth_l1_loss", input, target)
    return _f("smooth_l1_loss")(input, target, _reduction(size_average, reduce, reduction), beta)


_nn("smooth_l1_loss", nin=2, impl=smooth_l1_loss, samples=lambda: [
    s for s in _reg_samples()() if "weight" not in s.kwargs] + [
    Sample(A(3, 4), A(3, 4), beta=0.5), Sample(A(3, 4), A(3, 4), beta=0.0),
    Sample(A(3, 4), A(3, 4), beta=-1.0)])(_smooth_l1_k)


def _huber_k(input, target, weight, reduction, delta):
    """Huber kernel."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got {delta}).")
    x, t = _pair("huber_loss", input, target, "huber_cpu")
    d = jnp.abs(x - t)
    loss = jnp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    # torch writes huber_loss into a tensor of the INPUT's dtype (float32 input, float64 target -> float32)
    return _weighted("huber_loss", loss, weight, input, reduction, mean_by_weight=False).astype(input.dtype)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber: ``0.5 d**2`` where ``|d| < delta``, else ``delta * (|d| - delta / 2)`` (F.huber_loss)."""
    _size_warning("huber_loss", input, target)
    return _f("huber_loss")(input, target, weight, _reduction(None, None, reduction), delta)


_nn("huber_loss", nin=3, impl=huber_loss, samples=lambda: [  # torch's backward fails for int targets
    s for s in _reg_samples()() if not (len(s.args) > 1 and s.args[1].dtype.kind == "i")] + [
    Sample(A(3, 4), I(3, 4), grad=False),
    Sample(A(3, 4), A(3, 4), delta=0.5), Sample(A(3, 4), A(3, 4), delta=0.0)])(_huber_k)


# ----- classification: nll / cross_entropy -------------------------------------------------------
def _class_weight(op, weight, c, dt):
    if weight is None:
        return None
    if weight.ndim != 1 or weight.shape[0] != c:
        raise ShapeError(f"{op}: weight tensor should be defined either for all {c} classes or no classes "
                         f"but got weight tensor of shape: {list(weight.shape)}")
    return weight.astype(dt)


def _check_targets(op, input, target):
    if target.dtype not in (jnp.int64, jnp.uint8):
        raise DTypeError(f"{op}: expected target dtype to be Long or Byte, but got {_tn(target.dtype)}")
    if input.ndim == 0:
        raise OpValueError(f"{op}: Expected 1 or more dimensions (got 0)")
    if input.ndim == 1:
        if target.ndim > 1 or target.size != 1:
            raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported "
                             f"(input {list(input.shape)}, target {list(target.shape)})")
        return target.reshape(())
    if target.ndim >= 1 and target.shape[0] != input.shape[0]:
        raise OpValueError(f"{op}: Expected input batch_size ({input.shape[0]}) to match target "
                           f"batch_size ({target.shape[0]}).")
    if input.ndim == 2 and target.ndim != 1:
        raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported "
                         f"(input {list(input.shape)}, target {list(target.shape)})")
    want = (input.shape[0],) + input.shape[2:]
    if target.shape != want:
        raise ShapeError(f"{op}: Expected target size {list(want)}, got {list(target.shape)}")
    return target


def _nll_core(op, logp, target, weight, ignore_index, reduction):
    """Weighted negative log-likelihood of ``logp`` (class dim 1, or 0 for 1-D) at ``target``.

    Returns ``(reduced loss, per-element weights of the targets)``.
    """
    target = _check_targets(op, logp, target)
    cd = 0 if logp.ndim == 1 else 1
    c = logp.shape[cd]
    w = _class_weight(op, weight, c, logp.dtype)
    t = target.astype(jnp.int64) if target.dtype == jnp.uint8 else target
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    tc = jnp.clip(t, 0, max(c - 1, 0))
    picked = jnp.squeeze(jnp.take_along_axis(logp, jnp.expand_dims(tc, cd), axis=cd), cd)
    wt = (w[tc] if w is not None else jnp.ones(tc.shape, logp.dtype))
    wt = jnp.where(valid, wt, jnp.zeros((), logp.dtype))
    loss = jnp.where(bad, jnp.asarray(jnp.nan, logp.dtype), -picked * wt)
    if reduction == "none":
        return loss, wt, valid
    if reduction == "sum":
        return jnp.sum(loss), wt, valid
    return _safe_mean(jnp.sum(loss), jnp.sum(wt)), wt, valid


def _safe_mean(total, denom):
    """``total / denom``; NaN when ``denom == 0`` (all targets ignored) with a zero gradient, as torch."""
    empty = denom == 0
    return jnp.where(empty, jnp.asarray(jnp.nan, total.dtype), total / jnp.where(empty, 1, denom))


def _nll_k(input, target, weight, ignore_index, reduction):
    """NLL loss kernel."""
    _float_in("nll_loss", input, "nll_loss_forward")
    return _nll_core("nll_loss", input, target, weight, ignore_index, reduction)[0]


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target`` (F.nll_loss).

    Shapes: ``input`` (C), (N, C) or (N, C, d1, ...); ``target`` (), (N) or (N, d1, ...) int64.
    ``weight`` (C) rescales each class; 'mean' divides by the summed weights of the non-ignored
    targets (NaN when every target is ``ignore_index``). An out-of-range class index raises
    IndexError on the CPU, as torch; on an accelerator or under ``mt.jit`` it gives NaN.
    """
    _no_grad_weight("nll_loss_forward", weight=weight)
    out = _f("nll_loss")(input, target, weight, ignore_index, _reduction(size_average, reduce, reduction))
    check_class_indices("nll_loss", target, input.shape[0 if input.ndim == 1 else 1], ignore_index)
    return out


def _logp(n, c, *rest, dtype="float32"):
    x = A(n, c, *rest, dtype=dtype)
    return (x - np.log(np.exp(x).sum(1, keepdims=True))).astype(dtype)


def _tgt(*shape, c=4, ignore=None):
    t = I(*shape, low=0, high=c)
    if ignore is not None and t.size:
        t.reshape(-1)[0] = ignore
    return t


def _nll_samples():
    return [Sample(_logp(3, 4), _tgt(3)), Sample(_logp(5, 4), _tgt(5), reduction="sum"),
            Sample(_logp(5, 4), _tgt(5), reduction="none"), Sample(_logp(2, 4, 3, 2), _tgt(2, 3, 2)),
            Sample(_logp(2, 4, 5), _tgt(2, 5), reduction="none"),
            Sample(_logp(3, 4), _tgt(3, ignore=-100)), Sample(_logp(3, 4), _tgt(3, ignore=1), ignore_index=1),
            Sample(_logp(3, 4), _tgt(3), weight=P(4), grad=False),
            Sample(_logp(3, 4), _tgt(3, ignore=2), weight=P(4), ignore_index=2, grad=False),
            Sample(_logp(3, 4), _tgt(3), weight=P(4)),
            Sample(_logp(3, 4, dtype="float64"), _tgt(3)), Sample(A(4), _tgt(c=4)),
            Sample(_logp(3, 4), _tgt(3).astype("uint8")),
            Sample(_logp(3, 4), _tgt(2)), Sample(_logp(3, 4), A(3)), Sample(_logp(3, 4), _tgt(3, 2)),
            Sample(_logp(3, 4, 5), _tgt(3, 4)), Sample(A(), _tgt()), Sample(_logp(3, 4), _tgt(3),
                                                                            weight=P(3)),
            Sample(_logp(3, 4), _tgt(3), reduction="foo"),
            Sample(_logp(3, 4), I(3, low=-100, high=-99)),
            Sample(_logp(0, 4), _tgt(0)), Sample(_logp(3, 4), _tgt(3).astype("int32"))]


_nn("nll_loss", nin=3, impl=nll_loss, samples=_nll_samples)(_nll_k)


def _ce_k(input, target, weight, ignore_index, reduction, label_smoothing):
    """Cross-entropy kernel: log_softmax over the class dim, then NLL (or the soft-target sum)."""
    _float_in("cross_entropy", input, "log_softmax_lastdim_kernel_impl")
    if target.shape == input.shape:  # class probabilities
        if not _dtype.is_inexact(target.dtype):
            raise RuntimeError(f"cross_entropy: Expected floating point type for target with class "
                               f"probabilities, got {_tn(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("cross_entropy: ignore_index is not supported for floating point target")
        if input.ndim == 0:
            raise ShapeError("cross_entropy: Expected 1 or more dimensions (got 0)")
    elif input.ndim == 0:
        raise OpValueError("cross_entropy: Expected 1 or more dimensions (got 0)")
    cd = 0 if input.ndim == 1 else 1
    c = input.shape[cd]
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if target.shape == input.shape:
        dt = jnp.result_type(input, target)
        logp = jax.nn.log_softmax(input.astype(dt), axis=cd)
        t = target.astype(dt)
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / c
        w = _class_weight("cross_entropy", weight, c, dt)
        prod = logp * t
        if w is not None:
            prod = prod * w.reshape((c,) + (1,) * (input.ndim - cd - 1))
        if reduction == "none":
            return -jnp.sum(prod, axis=cd)
        if reduction == "sum":
            return -jnp.sum(prod)
        n = input.size // c if c else 0
        return -jnp.sum(prod) / n if n else jnp.full((), jnp.nan, dt)
    if _dtype.is_inexact(target.dtype):
        raise DTypeError(f"cross_entropy: expected target dtype to be Long or Byte, but got "
                         f"{_tn(target.dtype)} (a float target needs input's shape {list(input.shape)}, "
                         f"got {list(target.shape)})")
    logp = jax.nn.log_softmax(input, axis=cd)
    nll, wt, valid = _nll_core("cross_entropy", logp, target, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return nll
    w = _class_weight("cross_entropy", weight, c, logp.dtype)
    lw = logp if w is None else logp * w.reshape((c,) + (1,) * (input.ndim - cd - 1))
    smooth = jnp.where(valid, -jnp.sum(lw, axis=cd), jnp.zeros((), logp.dtype))
    if reduction == "mean":
        smooth = _safe_mean(jnp.sum(smooth), jnp.sum(wt))
    elif reduction == "sum":
        smooth = jnp.sum(smooth)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` and ``target`` (F.cross_entropy), one fused kernel.

    Shapes: ``input`` (C), (N, C) or (N, C, d1, ...). ``target`` is either class indices (int64,
    shape (), (N) or (N, d1, ...)) or class probabilities (float, ``input``'s shape).
    Args:
        weight: (C) per-class rescaling; with class indices 'mean' divides by the summed weights
            of the non-ignored targets (NaN when all are ignored).
        ignore_index: a class index that contributes nothing (indices targets only).
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.
    An out-of-range class index raises IndexError on the CPU, as torch; on an accelerator or under
    ``mt.jit`` it gives NaN.
    """
    _no_grad_weight("nll_loss_forward", weight=weight)
    out = _f("cross_entropy")(input, target, weight, ignore_index,
                              _reduction(size_average, reduce, reduction), label_smoothing)
    if target.shape != input.shape:  # class indices, not probabilities
        check_class_indices("cross_entropy", target, input.shape[0 if input.ndim == 1 else 1],
                            ignore_index)
    return out


def _ce_samples():
    return [Sample(A(3, 4), _tgt(3)), Sample(A(5, 4), _tgt(5), reduction="sum"),
            Sample(A(5, 4), _tgt(5), reduction="none"), Sample(A(2, 4, 3, 2), _tgt(2, 3, 2)),
            Sample(A(2, 4, 5), _tgt(2, 5), reduction="none"), Sample(A(4), _tgt(c=4)),
            Sample(A(3, 4), _tgt(3, ignore=-100)), Sample(A(3, 4), _tgt(3, ignore=1), ignore_index=1),
            Sample(A(3, 4), I(3, low=-100, high=-99)),
            Sample(A(3, 4), _tgt(3), label_smoothing=0.1),
            Sample(A(3, 4), _tgt(3, ignore=-100), label_smoothing=0.2, reduction="none"),
            Sample(A(2, 4, 3), _tgt(2, 3, ignore=-100), label_smoothing=0.3, reduction="sum"),
            Sample(A(3, 4), _tgt(3), weight=P(4), grad=False),
            Sample(A(3, 4), _tgt(3, ignore=-100), weight=P(4), label_smoothing=0.2, grad=False),
            Sample(A(2, 4, 3), _tgt(2, 3, ignore=-100), weight=P(4), label_smoothing=0.2, reduction="none",
                   grad=False),
            Sample(A(3, 4), P(3, 4) / 4), Sample(A(3, 4), P(3, 4) / 4, reduction="none"),
            Sample(A(2, 4, 3), P(2, 4, 3) / 4, label_smoothing=0.1),
            Sample(A(3, 4), P(3, 4) / 4, weight=P(4), grad=False),
            Sample(A(3, 4), P(3, 4) / 4, weight=P(4), reduction="sum", label_smoothing=0.3, grad=False),
            Sample(A(3, 4, dtype="float64"), _tgt(3)), Sample(A(3, 4, dtype="float64"), P(3, 4,
                                                                                          dtype="float64")),
            Sample(A(3, 4), P(3, 4, dtype="float64")), Sample(A(3, 4), _tgt(3).astype("uint8")),
            Sample(A(0, 4), _tgt(0)), Sample(A(0, 4), P(0, 4)),
            # errors
            Sample(A(3, 4), _tgt(2)), Sample(A(3, 4), A(3)), Sample(A(3, 4), _tgt(3, 4)),
            Sample(A(3, 4), P(3, 4), ignore_index=1), Sample(A(3, 4), _tgt(3), label_smoothing=1.5),
            Sample(A(3, 4), _tgt(3), weight=P(3)), Sample(A(3, 4), _tgt(3), reduction="foo"),
            Sample(A(3, 4, 5), _tgt(3, 4)), Sample(A(), _tgt())]


_nn("cross_entropy", nin=3, impl=cross_entropy, samples=_ce_samples)(_ce_k)


# ----- binary losses -----------------------------------------------------------------------------
def _bce_logs(x):
    return jnp.maximum(jnp.log(x), -100.0), jnp.maximum(jnp.log1p(-x), -100.0)


@jax.custom_jvp
def _bce_elem(x, t):
    lx, l1x = _bce_logs(x)
    return -(t * lx + (1 - t) * l1x)


@_bce_elem.defjvp
def _bce_elem_jvp(primals, tangents):
    """torch's gradient: finite at x = 0 or 1 (denominator clamped to 1e-12)."""
    x, t = primals
    dx, dt = tangents
    lx, l1x = _bce_logs(x)
    out = -(t * lx + (1 - t) * l1x)
    gx = (x - t) / jnp.maximum((1 - x) * x, 1e-12)
    return out, gx * dx + (jnp.log1p(-x) - jnp.log(x)) * dt


def _bce_k(input, target, weight, reduction):
    """Binary cross-entropy kernel (logs clamped to >= -100 as torch)."""
    if target.shape != input.shape:
        raise OpValueError(
            f"binary_cross_entropy: Using a target size ({list(target.shape)}) that is different to the "
            f"input size ({list(input.shape)}) is deprecated. Please ensure they have the same size.")
    if target.dtype != input.dtype:
        raise DTypeError(f"binary_cross_entropy: Found dtype {_tn(target.dtype)} but expected "
                         f"{_tn(input.dtype)}")
    _float_in("binary_cross_entropy", input, "binary_cross_entropy")
    loss = _bce_elem(input, target)
    if weight is not None:
        broadcast_shape("binary_cross_entropy", weight.shape, input.shape)
        loss = jnp.broadcast_to(loss * weight.astype(loss.dtype), loss.shape)
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target`` (same shape and dtype).

    ``-w * (t * log(x) + (1 - t) * log(1 - x))`` with each log clamped to >= -100 (F.binary_cross_entropy).
    ``input`` outside [0, 1] (or NaN) raises on the CPU, as torch; on an accelerator or under ``mt.jit``
    it is not checked.
    """
    _no_grad_weight("binary_cross_entropy", weight=weight)
    out = _f("binary_cross_entropy")(input, target, weight, _reduction(size_average, reduce, reduction))
    check_probabilities("binary_cross_entropy", input, ShapeError,
                        "all elements of input should be between 0 and 1")
    return out


def _prob(*shape, dtype="float32"):
    return A(*shape, low=0.02, high=0.98, dtype=dtype)


_nn("binary_cross_entropy", nin=3, impl=binary_cross_entropy, samples=lambda: [
    Sample(_prob(3, 4), _prob(3, 4)), Sample(_prob(3, 4), _prob(3, 4), reduction="none"),
    Sample(_prob(5), _prob(5), reduction="sum"), Sample(_prob(2, 3, dtype="float64"), _prob(2, 3,
                                                                                            dtype="float64")),
    Sample(_prob(3, 4), _prob(3, 4), weight=P(4), grad=False),
    Sample(_prob(3, 4), _prob(3, 4), weight=P(3, 4), reduction="none", grad=False),
    Sample(_prob(3, 4), (_prob(3, 4) > 0.5).astype("float32")), Sample(_prob(), _prob()),
    Sample(np.array([0.0, 1.0, 0.3, 1.0, 0.0], "float32"), np.array([0.0, 1.0, 0.5, 0.0, 1.0], "float32")),
    Sample(_prob(3), _prob(3, 1)), Sample(_prob(3), I(3, low=0, high=2)),
    Sample(_prob(3), _prob(3, dtype="float64")), Sample(_prob(3), _prob(3), reduction="foo")])(_bce_k)


def _bcel_k(input, target, weight, pos_weight, reduction):
    """Binary cross-entropy with logits kernel (log-sigmoid form, stable)."""
    if target.shape != input.shape:
        raise OpValueError(f"binary_cross_entropy_with_logits: Target size (torch.Size("
                           f"{list(target.shape)})) must be the same as input size (torch.Size("
                           f"{list(input.shape)}))")
    if not _dtype.is_inexact(target.dtype):
        raise DTypeError(f"binary_cross_entropy_with_logits: result type Float can't be cast to the desired "
                         f"output type {_tn(target.dtype)} (target must be floating point)")
    dt = jnp.result_type(input, target)
    _float_in("binary_cross_entropy_with_logits", jnp.zeros((), dt), "binary_cross_entropy_with_logits")
    x, t = input.astype(dt), target.astype(dt)
    shapes = [x.shape] + [w.shape for w in (weight, pos_weight) if w is not None]
    out_shape = broadcast_shape("binary_cross_entropy_with_logits", *shapes)
    if pos_weight is not None:
        lw = (pos_weight.astype(dt) - 1) * t + 1
        loss = (1 - t) * x - lw * jax.nn.log_sigmoid(x)
    else:
        loss = (1 - t) * x - jax.nn.log_sigmoid(x)
    if weight is not None:
        loss = loss * weight.astype(dt)
    return _reduce(jnp.broadcast_to(loss, out_shape), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits ``input``, sigmoid folded in (F.binary_cross_entropy_with_logits).

    Args:
        target: same shape as ``input``, values in [0, 1].
        weight: broadcastable per-element rescaling.
        pos_weight: weight of positive examples, broadcast along the last (class) dim.
    """
    _no_grad_weight("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    return _f("binary_cross_entropy_with_logits")(input, target, weight, pos_weight,
                                                  _reduction(size_average, reduce, reduction))


_nn("binary_cross_entropy_with_logits", nin=4, function=True, impl=binary_cross_entropy_with_logits,
    samples=lambda: [
        Sample(A(3, 4), _prob(3, 4)), Sample(A(3, 4, low=-30, high=30), _prob(3, 4), reduction="none"),
        Sample(A(5), _prob(5), reduction="sum"), Sample(A(3, 4), _prob(3, 4), pos_weight=P(4)),
        Sample(A(2, 3, dtype="float64"), _prob(2, 3, dtype="float64"), pos_weight=P(3, dtype="float64"),
               reduction="none"),
        Sample(A(3, 4), _prob(3, 4), weight=P(4), pos_weight=P(4), grad=False),
        Sample(A(3, 4), _prob(3, 4), weight=P(3, 1), grad=False, reduction="none"),
        Sample(A(3, 4), I(3, 4, low=0, high=2)), Sample(A(), _prob()),
        Sample(A(3), _prob(3, 1)), Sample(A(3), _prob(3), reduction="foo")])(_bcel_k)


# ----- divergence / ranking / embedding losses -----------------------------------------------------
def _kl_k(input, target, reduction, log_target):
    """KL divergence kernel (``input`` is log-probabilities)."""
    shape = broadcast_shape("kl_div", input.shape, target.shape)
    dt = jnp.result_type(input, target)
    _float_in("kl_div", jnp.zeros((), dt), "kl_div")
    x, t = input.astype(dt), target.astype(dt)
    loss = jnp.exp(t) * (t - x) if log_target else jsp.xlogy(t, t) - t * x
    loss = jnp.broadcast_to(loss, shape)
    if reduction == "batchmean":
        s = jnp.sum(loss)
        return s / input.shape[0] if input.ndim else s
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of ``target`` from log-probabilities ``input`` (F.kl_div).

    Pointwise ``target * (log(target) - input)`` (``exp(t) * (t - input)`` with ``log_target``).
    ``reduction='batchmean'`` divides the sum by the batch size (the math definition of KL);
    'mean' averages over all elements, with torch's warning.
    """
    red = _reduction(size_average, reduce, reduction, ("none", "mean", "sum", "batchmean"))
    if red == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    return _f("kl_div")(input, target, red, bool(log_target))


_nn("kl_div", nin=2, function=True, impl=kl_div, samples=lambda: [
    Sample(_logp(3, 4), _prob(3, 4), reduction="batchmean"), Sample(_logp(3, 4), _prob(3, 4),
                                                                    reduction="sum"),
    Sample(_logp(3, 4), _prob(3, 4), reduction="none"), Sample(_logp(3, 4), _prob(3, 4)),
    Sample(_logp(3, 4), _logp(3, 4), reduction="batchmean", log_target=True),
    Sample(_logp(3, 4), _prob(4), reduction="sum"), Sample(A(), _prob(), reduction="batchmean"),
    Sample(_logp(2, 3, dtype="float64"), _prob(2, 3, dtype="float64"), reduction="batchmean"),
    Sample(_logp(3, 4), _prob(3, 4) * (A(3, 4) > 0), reduction="sum"),
    Sample(_logp(3, 4), _prob(3, 4), reduction="foo")])(_kl_k)


def _cos_emb_k(input1, input2, target, margin, reduction):
    """Cosine embedding kernel."""
    td = target.ndim
    if td > 1:
        raise ShapeError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise ShapeError(f"cosine_embedding_loss: 1D target tensor expects 2D input tensors, but found "
                         f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    if td == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise ShapeError(f"cosine_embedding_loss: 0D target tensor expects 1D input tensors, but found "
                         f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    broadcast_shape("cosine_embedding_loss", input1.shape, input2.shape)
    eps = 1e-12
    prod = jnp.sum(input1 * input2, axis=-1)
    m1 = jnp.sum(input1 * input1, axis=-1) + eps
    m2 = jnp.sum(input2 * input2, axis=-1) + eps
    cos = prod / jnp.sqrt(m1 * m2)
    broadcast_shape("cosine_embedding_loss", target.shape, cos.shape)  # torch names the target first
    zero = jnp.zeros((), cos.dtype)
    loss = jnp.where(target == 1, 1 - cos, zero) + jnp.where(target == -1, jnp.maximum(cos - margin, 0), zero)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos - margin)`` where ``target == -1``.

    Shapes: inputs (N, D) with target (N), or inputs (D) with a 0-d target (F.cosine_embedding_loss).
    """
    if isinstance(target, Tensor):  # torch compares the labels only: no gradient edge to them
        target = target.detach()
    return _f("cosine_embedding_loss")(input1, input2, target, margin, _reduction(size_average, reduce,
                                                                                  reduction))


def _pm1(*shape, dtype="float32"):
    return (I(*shape, low=0, high=2) * 2 - 1).astype(dtype)


_nn("cosine_embedding_loss", nin=3, function=True, impl=cosine_embedding_loss, samples=lambda: [
    Sample(A(4, 5), A(4, 5), _pm1(4)), Sample(A(4, 5), A(4, 5), _pm1(4), margin=0.2, reduction="none"),
    Sample(A(4, 5), A(4, 5), _pm1(4, dtype="int64"), -0.5, reduction="sum"), Sample(A(5), A(5), _pm1()),
    Sample(A(3, 2, dtype="float64"), A(3, 2, dtype="float64"), _pm1(3, dtype="float64")),
    Sample(A(3, 2), A(3, 2), A(3, 1)), Sample(A(3, 2), A(3, 3), _pm1(3)), Sample(A(3), A(3), _pm1(3)),
    Sample(A(3, 2), A(3, 2), _pm1(3), reduction="foo")])(_cos_emb_k)


def _margin_rank_k(input1, input2, target, margin, reduction):
    """Margin ranking kernel."""
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                         f"input1: {list(input1.shape)}, input2: {list(input2.shape)}, target: "
                         f"{list(target.shape)} ")
    broadcast_shape("margin_ranking_loss", input1.shape, input2.shape, target.shape)
    return _reduce(jnp.maximum(-target * (input1 - input2) + margin, 0), reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``, reduced (F.margin_ranking_loss).

    All three tensors must have the same number of dims (then broadcast).
    """
    return _f("margin_ranking_loss")(input1, input2, target, margin, _reduction(size_average, reduce,
                                                                                reduction))


_nn("margin_ranking_loss", nin=3, function=True, promote="common", impl=margin_ranking_loss, samples=lambda: [
    Sample(A(5), A(5), _pm1(5)), Sample(A(5), A(5), _pm1(5), margin=0.5, reduction="none"),
    Sample(A(2, 3), A(2, 3), _pm1(2, 3), 0.1, reduction="sum"), Sample(A(5), A(1), _pm1(5)),
    Sample(A(4, dtype="float64"), A(4, dtype="float64"), _pm1(4, dtype="float64")),
    Sample(A(3), A(3), A(3, 1)), Sample(A(3), A(3), _pm1(3), reduction="foo")])(_margin_rank_k)


def _pdist(a, b, p, eps):
    d = jnp.abs(a - b + eps)
    if p == 2:
        return jnp.sqrt(jnp.sum(d * d, axis=-1))
    if p == 1:
        return jnp.sum(d, axis=-1)
    if p == math.inf:
        return jnp.max(d, axis=-1)
    if p == 0:
        return jnp.sum((d != 0).astype(d.dtype), axis=-1)
    return jnp.sum(d ** p, axis=-1) ** (1.0 / p)


def _triplet_k(anchor, positive, negative, margin, p, eps, swap, reduction):
    """Triplet margin kernel."""
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"triplet_margin_loss: The anchor, positive, and negative tensors are expected "
                         f"to have "
                         f"the same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                         f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    broadcast_shape("triplet_margin_loss", anchor.shape, positive.shape, negative.shape)
    d_pos = _pdist(anchor, positive, p, eps)
    d_neg = _pdist(anchor, negative, p, eps)
    if swap:
        d_neg = jnp.minimum(d_neg, _pdist(positive, negative, p, eps))
    return _reduce(jnp.maximum(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the p-norm pairwise distance (F.triplet_margin_loss).

    Shapes: (N, D) or (D) for all three. ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance.
    """
    if margin <= 0:
        raise OpValueError(f"margin must be greater than 0, got {margin}")
    return _f("triplet_margin_loss")(anchor, positive, negative, margin, p, eps, bool(swap),
                                     _reduction(size_average, reduce, reduction))


_nn("triplet_margin_loss", nin=3, function=True, promote="common", impl=triplet_margin_loss, samples=lambda: [
    Sample(A(4, 5), A(4, 5), A(4, 5)), Sample(A(4, 5), A(4, 5), A(4, 5), margin=0.5, reduction="none"),
    Sample(A(4, 5), A(4, 5), A(4, 5), p=1, swap=True, reduction="sum"), Sample(A(5), A(5), A(5)),
    Sample(A(4, 5), A(4, 5), A(4, 5), p=3.0, eps=1e-3), Sample(A(4, 5), A(4, 5), A(4, 5), swap=True),
    Sample(A(3, 2, dtype="float64"), A(3, 2, dtype="float64"), A(3, 2, dtype="float64")),
    Sample(A(3, 2), A(3, 2), A(2)), Sample(A(3, 2), A(3, 2), A(3, 2), margin=-1.0),
    Sample(A(3, 2), A(3, 2), A(3, 2), reduction="foo")])(_triplet_k)


def _hinge_emb_k(input, target, margin, reduction):
    """Hinge embedding kernel."""
    broadcast_shape("hinge_embedding_loss", input.shape, target.shape)
    zero = jnp.zeros((), input.dtype)
    loss = jnp.where(target != 1, jnp.maximum(margin - input, 0), zero) + jnp.where(target != -1, input, zero)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1`` (F.hinge_embedding_loss)."""
    if isinstance(target, Tensor):  # torch compares the labels only: no gradient edge to them
        target = target.detach()
    return _f("hinge_embedding_loss")(input, target, margin, _reduction(size_average, reduce, reduction))


_nn("hinge_embedding_loss", nin=2, function=True, impl=hinge_embedding_loss, samples=lambda: [
    Sample(A(3, 4), _pm1(3, 4)), Sample(A(3, 4), _pm1(3, 4), margin=0.5, reduction="none"),
    Sample(A(5), _pm1(5, dtype="int64"), 2.0, reduction="sum"), Sample(A(2, 3), _pm1(3)),
    Sample(A(4, dtype="float64"), _pm1(4, dtype="float64")), Sample(A(3), _pm1(2, 3)),
    Sample(A(3), _pm1(3), reduction="foo")])(_hinge_emb_k)


def _soft_margin_k(input, target, reduction):
    """Soft margin kernel."""
    shape = broadcast_shape("soft_margin_loss", input.shape, target.shape)
    if shape != input.shape:
        raise ShapeError(f"soft_margin_loss: output with shape {list(input.shape)} doesn't match the "
                         f"broadcast shape {list(shape)}")
    dt = jnp.result_type(input, target)
    _float_in("soft_margin_loss", jnp.zeros((), dt), "soft_margin_loss")
    loss = jax.nn.softplus(-target.astype(dt) * input.astype(dt))
    return _reduce(jnp.broadcast_to(loss, shape), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` (F.soft_margin_loss)."""
    red = _reduction(size_average, reduce, reduction)
    _no_grad_weight("soft_margin_loss", target=target)
    return _f("soft_margin_loss")(input, target, red)


_nn("soft_margin_loss", nin=2, impl=soft_margin_loss, samples=lambda: [
    Sample(A(3, 4), _pm1(3, 4)), Sample(A(3, 4), _pm1(3, 4), reduction="none"),
    Sample(A(5), _pm1(5), reduction="sum"), Sample(A(4, dtype="float64"), _pm1(4, dtype="float64")),
    Sample(A(3), _pm1(2, 3)), Sample(A(3), _pm1(3), reduction="foo"), Sample(A(3, 4), _pm1(3, 4), grad=False),
    Sample(A(3, 4), _pm1(3, 4), reduction="none", grad=False), Sample(A(3), _pm1(2, 3), grad=False),
    Sample(A(4, dtype="float64"), _pm1(4, dtype="float64"), grad=False)])(_soft_margin_k)


def _mlsm_k(input, target, weight, reduction):
    """Multi-label soft margin kernel."""
    if target.dtype == jnp.bool_:
        raise RuntimeError("multilabel_soft_margin_loss: Subtraction, the `-` operator, with a bool tensor "
                           "is "
                           "not supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` "
                           "operator instead.")
    dt = jnp.result_type(input, target)
    x, t = input.astype(dt), target.astype(dt)
    loss = -(t * jax.nn.log_sigmoid(x) + (1 - t) * jax.nn.log_sigmoid(-x))
    if weight is not None:
        loss = loss * weight.astype(dt)
    cd = input.ndim - 1
    loss = jnp.sum(loss, axis=cd) / input.shape[cd]
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-vs-all logistic loss, averaged over the C classes (F.multilabel_soft_margin_loss).

    Shapes: ``input`` and ``target`` (N, C) (target in {0, 1}); ``weight`` (C) optional.
    """
    red = _reduction(size_average, reduce, reduction, msg="{} is not valid")
    return _f("multilabel_soft_margin_loss")(input, target, weight, red)


_nn("multilabel_soft_margin_loss", nin=3, impl=multilabel_soft_margin_loss, samples=lambda: [
    Sample(A(3, 4), _prob(3, 4) > 0.5), Sample(A(3, 4), (_prob(3, 4) > 0.5).astype("float32"),
                                               reduction="none"),
    Sample(A(3, 4), _prob(3, 4), weight=P(4)), Sample(A(5, 2), _prob(5, 2), reduction="sum"),
    Sample(A(3, 2, dtype="float64"), _prob(3, 2, dtype="float64")),
    Sample(A(3, 4), _prob(3, 4), reduction="foo")])(_mlsm_k)


def _poisson_k(input, target, log_input, full, eps, reduction):
    """Poisson NLL kernel."""
    shape = broadcast_shape("poisson_nll_loss", input.shape, target.shape)
    dt = jnp.result_type(input, target)
    x, t = input.astype(dt), target.astype(dt)
    loss = jnp.exp(x) - t * x if log_input else x - t * jnp.log(x + eps)
    if full:
        safe = jnp.where(t > 1, t, jnp.ones((), dt))
        stirling = safe * jnp.log(safe) - safe + 0.5 * jnp.log(2 * math.pi * safe)
        loss = loss + jnp.where(t > 1, stirling, jnp.zeros((), dt))
    return _reduce(jnp.broadcast_to(loss, shape), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood of ``target`` given rate ``input`` (F.poisson_nll_loss).

    ``exp(input) - target * input`` with ``log_input``, else ``input - target * log(input + eps)``;
    ``full`` adds Stirling's approximation of ``log(target!)`` where ``target > 1``.
    """
    return _f("poisson_nll_loss")(input, target, bool(log_input), bool(full), eps,
                                  _reduction(size_average, reduce, reduction))


_nn("poisson_nll_loss", nin=2, function=True, impl=poisson_nll_loss, samples=lambda: [
    Sample(A(3, 4), P(3, 4) * 3), Sample(A(3, 4), P(3, 4) * 3, reduction="none", full=True),
    Sample(P(3, 4), P(3, 4) * 3, log_input=False, reduction="sum"),
    Sample(P(3, 4), P(3, 4) * 3, False, True, eps=1e-3), Sample(A(3, 2), P(2)),
    Sample(A(4, dtype="float64"), P(4, dtype="float64"), full=True),
    Sample(A(3, 4), P(3, 4), reduction="foo")])(_poisson_k)


def _gauss_k(input, target, var, full, eps, reduction):
    """Gaussian NLL kernel (``var`` clamped to ``eps`` without changing its gradient, as torch)."""
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = jnp.expand_dims(var, -1)
        elif not (input.ndim == var.ndim and sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise OpValueError(f"gaussian_nll_loss: var is of incorrect size (input {list(input.shape)}, var "
                               f"{list(var.shape)})")
    dt = jnp.result_type(input, target, var)
    x, t, v = input.astype(dt), target.astype(dt), var.astype(dt)
    v = v + jax.lax.stop_gradient(jnp.maximum(v, eps) - v)
    loss = 0.5 * (jnp.log(v) + (x - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)**2 / var)``
    (F.gaussian_nll_loss).

    ``var``: input's shape, one dim short, or with one dim of size 1 (homoscedastic), or a float.
    Entries below ``eps`` are clamped (gradient unchanged, as torch). Negative entries raise
    ValueError on the CPU, as torch; on an accelerator or under ``mt.jit`` they are clamped too.
    """
    if isinstance(var, float):
        if var < 0:
            raise OpValueError("var has negative entry/entries")
        var = jnp.full(tuple(input.shape), var, input._data.dtype)
    red = _reduction(None, None, reduction, msg="{} is not valid")
    out = _f("gaussian_nll_loss")(input, target, var, bool(full), eps, red)
    if isinstance(var, Tensor):
        check_nonnegative("gaussian_nll_loss", var, OpValueError, "var has negative entry/entries")
    return out


_nn("gaussian_nll_loss", nin=3, impl=gaussian_nll_loss, samples=lambda: [
    Sample(A(3, 4), A(3, 4), P(3, 4)), Sample(A(3, 4), A(3, 4), P(3), reduction="none"),
    Sample(A(3, 4), A(3, 4), P(3, 1), full=True, reduction="sum"),
    Sample(A(3, 4), A(3, 4), A(3, 4, low=0.0, high=1e-7), eps=1e-6),
    Sample(A(3, 4), A(3, 4), 0.5), Sample(A(4, dtype="float64"), A(4, dtype="float64"), P(4,
                                                                                          dtype="float64")),
    Sample(A(3, 4), A(3, 4), P(2)), Sample(A(3, 4), A(3, 4), P(3, 4), reduction="foo")])(_gauss_k)
