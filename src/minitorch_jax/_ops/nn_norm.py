"""nn.functional normalization kernels: batch_norm, instance_norm, layer_norm, group_norm, rms_norm,
local_response_norm.

Each is ONE table op. Statistics are computed in float32 for half inputs (in the input's dtype
otherwise; float32 programs never see a float64 intermediate). ``batch_norm``/``instance_norm`` in
training also return the updated running statistics (and ``num_batches_tracked`` for the layer
classes); the public callables store them back into the running-stat tensors (no grad, version
bumped), so one call is one dispatch and works under an outer ``jax.jit`` (the stats then are
tracers that the jit capture writes back).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import OpValueError, ShapeError
from .._grad_mode import STATE
from .._tensor import Tensor
from ._helpers import A, P, Sample
from ._registry import REGISTRY, register

__all__: list[str] = []


def _acc(dt):
    """Accumulation dtype: float32 for half types, else the dtype itself."""
    return jnp.float32 if dt in (jnp.float16, jnp.bfloat16) else dt


def _stat(x, axes, dt):
    """Mean and biased variance of ``x`` over ``axes`` in dtype ``dt`` (two-pass, keepdims)."""
    x = x.astype(dt)
    m = jnp.mean(x, axis=axes, keepdims=True)
    v = jnp.mean(jnp.square(x - m), axis=axes, keepdims=True)
    return m, v


def _chan(shape, ndim):
    """Shape that broadcasts a per-channel vector against an ``(N, C, *)`` input."""
    return (1, shape[0]) + (1,) * (ndim - 2)


def _check_vec(op, name, v, c, input_shape):
    if v is not None and (v.ndim != 1 or v.shape[0] != c):
        n = int(np.prod(v.shape)) if v.ndim else 1
        if name in ("weight", "bias") or n != c:
            raise ShapeError(f"{op}(): {name} should contain {c} elements not {n} (input shape "
                             f"{list(input_shape)})")


def _no_grad_stats(op, *stats):
    for s in stats:
        if isinstance(s, Tensor) and s.requires_grad and STATE.grad:
            raise ShapeError(f"The function '{op}' is not differentiable with respect to argument "
                             "'running_mean'. This input cannot have requires_grad True.")


def _store(t, new):
    """Rebind a running-stat tensor to its updated value (no autograd, version bumped)."""
    t._data = new._data
    t._version += 1


# ----- batch_norm -----------------------------------------------------------------------------
def _bn_kernel(input, running_mean, running_var, weight, bias, num_batches_tracked, momentum,
               training, eps):
    """Batch norm over all dims but 1; in training also the updated running stats (and count)."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm(): expected an input of at least 2 dims (N, C, *), got shape "
                         f"{list(input.shape)}")
    c = input.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vec("batch_norm", name, v, c, input.shape)
    if (running_mean is None) != (running_var is None):
        raise ShapeError("batch_norm(): running_mean and running_var must both be given or both be None")
    if not training and running_mean is None:
        raise ShapeError("running_mean must be defined in evaluation mode")
    dt = _acc(input.dtype)
    axes = (0,) + tuple(range(2, input.ndim))
    bshape = _chan((c,), input.ndim)
    x = input.astype(dt)
    outs = ()
    if training:
        n = input.size // c if c else 0
        if n <= 1:
            raise OpValueError(f"Expected more than 1 value per channel when training, got input size "
                               f"torch.Size({list(input.shape)})")
        mean, var = _stat(x, axes, dt)
        if running_mean is not None:
            if num_batches_tracked is not None:
                nbt = num_batches_tracked + 1
                if momentum is None:
                    momentum = 1.0 / nbt.astype(dt)
            m = momentum  # static float, or 1 / count (an array) for the cumulative average
            bm = lax.stop_gradient(mean.reshape(c))
            bv = lax.stop_gradient(var.reshape(c)) * (n / (n - 1))
            rd = running_mean.dtype
            new_m = ((1 - m) * running_mean.astype(dt) + m * bm).astype(rd)
            new_v = ((1 - m) * running_var.astype(dt) + m * bv).astype(running_var.dtype)
            outs = (new_m, new_v)
            if num_batches_tracked is not None:
                outs += (nbt.astype(num_batches_tracked.dtype),)
    else:
        mean = lax.stop_gradient(running_mean).astype(dt).reshape(bshape)
        var = lax.stop_gradient(running_var).astype(dt).reshape(bshape)
    y = (x - mean) * lax.rsqrt(var + jnp.asarray(eps, dt))
    if weight is not None:
        y = y * weight.astype(dt).reshape(bshape)
    if bias is not None:
        y = y + bias.astype(dt).reshape(bshape)
    y = y.astype(input.dtype)
    return (y, *outs) if outs else y


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Batch normalization over the channel dim 1 of an ``(N, C, *)`` input.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the batch's mean and biased variance
    per channel in training, the running estimates otherwise. In training, given running stats are
    updated in place: ``running = (1 - momentum) * running + momentum * batch_stat`` (the unbiased
    variance for ``running_var``), as torch.

    Args:
        input: ``(N, C)`` or ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` tensors or None (required in eval mode).
        weight, bias: optional ``(C,)`` affine parameters.
        training: use batch statistics (and update the running ones).
        momentum: factor of the running update.
        eps: added to the variance.
    """
    _no_grad_stats("native_batch_norm", running_mean, running_var)
    res = _BN.call(input, running_mean, running_var, weight, bias, None, float(momentum),
                   bool(training), float(eps))
    if training and running_mean is not None:
        _store(running_mean, res[1])
        _store(running_var, res[2])
        return res[0]
    return res


def batch_norm_module(input, running_mean, running_var, weight, bias, num_batches_tracked, momentum,
                      training, eps):
    """The BatchNorm layers' call: like :func:`batch_norm`, and also advances ``num_batches_tracked``
    (``momentum=None``: cumulative average ``1 / num_batches_tracked``) in the same dispatch."""
    update = training and running_mean is not None
    res = _BN.call(input, running_mean, running_var, weight, bias,
                   num_batches_tracked if update else None,
                   (None if momentum is None else float(momentum)) if update else 0.0,
                   bool(training), float(eps))
    if update:
        _store(running_mean, res[1])
        _store(running_var, res[2])
        if num_batches_tracked is not None:
            _store(num_batches_tracked, res[3])
        return res[0]
    return res


def _bn_samples():
    out = []
    for shape in [(4, 3), (2, 3, 5), (2, 2, 3, 3), (3, 2, 2, 2, 2)]:
        c = shape[1]
        x = A(*shape, dtype="float64")
        out.append(Sample(x, None, None, A(c, dtype="float64"), A(c, dtype="float64"), True))
        out.append(Sample(x, A(c, dtype="float64"), P(c, dtype="float64"), A(c, dtype="float64"),
                          A(c, dtype="float64"), False, grad=False))
        out.append(Sample(A(*shape), A(c), P(c), None, None, True, 0.3, 1e-3, grad=False))
    out.append(Sample(A(2, 3, 4), None, None, training=True, eps=1e-3))
    out.append(Sample(A(1, 3), None, None, training=True))  # ValueError: 1 value per channel
    out.append(Sample(A(4, 3), A(4), P(4), training=False))  # wrong running-stat size
    out.append(Sample(A(4, 3), None, None, training=False))  # eval without running stats
    return out


register("batch_norm", nin=6, function=False, method=False, functional=True,
         torch_name="nn.functional.batch_norm", impl=batch_norm, samples=_bn_samples,
         grad_name="NativeBatchNormBackward0")(_bn_kernel)
_BN = REGISTRY["batch_norm"]


def _batch_norm_aten(input, weight, bias, running_mean, running_var, training, momentum, eps,
                     cudnn_enabled=True):
    """``torch.batch_norm``: the ATen argument order ``(input, weight, bias, running_mean,
    running_var, training, momentum, eps, cudnn_enabled)``; see ``nn.functional.batch_norm``."""
    return batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


# a private entry whose alias installs mt.batch_norm with torch's ATen signature
register("_batch_norm_aten", nin=6, method=False, aliases=("batch_norm",),
         impl=_batch_norm_aten)(_bn_kernel)


# ----- instance_norm --------------------------------------------------------------------------
def _in_kernel(input, running_mean, running_var, weight, bias, momentum, use_input_stats, eps):
    # momentum is static (a float): a Python scalar input would arrive as a float32 array
    """Instance norm: per sample and channel over the spatial dims; running stats averaged over N."""
    if input.ndim < 3:
        raise ShapeError(f"instance_norm(): expected an input of at least 3 dims (N, C, *), got shape "
                         f"{list(input.shape)}")
    c = input.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vec("instance_norm", name, v, c, input.shape)
    if not use_input_stats and running_mean is None:
        raise ShapeError("Expected running_mean and running_var to be defined when use_input_stats is "
                         "false")
    dt = _acc(input.dtype)
    x = input.astype(dt)
    bshape = _chan((c,), input.ndim)
    outs = ()
    if use_input_stats:
        axes = tuple(range(2, input.ndim))
        n = int(np.prod(input.shape[2:]))
        mean, var = _stat(x, axes, dt)
        if running_mean is not None:
            m = momentum
            bm = lax.stop_gradient(jnp.mean(mean, axis=0).reshape(c))
            bv = lax.stop_gradient(jnp.mean(var, axis=0).reshape(c)) * (n / max(n - 1, 1))
            outs = (((1 - m) * running_mean.astype(dt) + m * bm).astype(running_mean.dtype),
                    ((1 - m) * running_var.astype(dt) + m * bv).astype(running_var.dtype))
    else:
        mean = lax.stop_gradient(running_mean).astype(dt).reshape(bshape)
        var = lax.stop_gradient(running_var).astype(dt).reshape(bshape)
    y = (x - mean) * lax.rsqrt(var + jnp.asarray(eps, dt))
    if weight is not None:
        y = y * weight.astype(dt).reshape(bshape)
    if bias is not None:
        y = y + bias.astype(dt).reshape(bshape)
    y = y.astype(input.dtype)
    return (y, *outs) if outs else y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization: each sample's channel normalized over its spatial dims.

    Args:
        input: ``(N, C, *)`` with at least one spatial dim.
        running_mean, running_var: optional ``(C,)`` running estimates, updated in place when
            ``use_input_stats`` (with the batch average of the per-instance statistics).
        weight, bias: optional ``(C,)`` affine parameters.
        use_input_stats: normalize with the instance statistics (else with the running ones).
        momentum, eps: as in :func:`batch_norm`.
    """
    _no_grad_stats("native_batch_norm", running_mean, running_var)
    if use_input_stats and input.dim() >= 2 and int(np.prod(input.shape[2:])) <= 1:
        raise OpValueError(f"Expected more than 1 spatial element when training, got input size "
                           f"torch.Size({list(input.shape)})")
    res = _IN.call(input, running_mean, running_var, weight, bias, float(momentum), bool(use_input_stats),
                   float(eps))
    if use_input_stats and running_mean is not None:
        _store(running_mean, res[1])
        _store(running_var, res[2])
        return res[0]
    return res


def _in_samples():
    out = []
    for shape in [(2, 3, 5), (2, 2, 3, 3), (1, 2, 2, 2, 3)]:
        c = shape[1]
        x = A(*shape, dtype="float64")
        out.append(Sample(x))
        out.append(Sample(x, weight=A(c, dtype="float64"), bias=A(c, dtype="float64"), eps=1e-3))
        out.append(Sample(A(*shape), A(c), P(c), use_input_stats=True, grad=False))
        out.append(Sample(A(*shape), A(c), P(c), A(c), A(c), use_input_stats=False, grad=False))
    out.append(Sample(A(1, 3, 1)))  # ValueError: one spatial element
    return out


register("instance_norm", nin=5, method=False, functional=True, torch_name="nn.functional.instance_norm",
         function=False, impl=instance_norm, samples=_in_samples)(_in_kernel)
_IN = REGISTRY["instance_norm"]


def _instance_norm_aten(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                        cudnn_enabled=True):
    """``torch.instance_norm`` (ATen argument order); see ``nn.functional.instance_norm``."""
    return instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


register("_instance_norm_aten", nin=5, method=False, aliases=("instance_norm",),
         impl=_instance_norm_aten)(_in_kernel)


# ----- layer_norm, rms_norm -------------------------------------------------------------------
def _shape_check(op, input, normalized_shape, weight, bias):
    ns = tuple(normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        star = "*, " if op == "layer_norm" else "*"
        raise ShapeError(f"{op}(): Given normalized_shape={list(ns)}, expected input with shape "
                         f"[{star}{', '.join(map(str, ns))}], but got input of size{list(input.shape)}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and tuple(v.shape) != ns:
            raise ShapeError(f"{op}(): Expected {name} to be of same shape as normalized_shape, but got "
                             f"{name} of shape {list(v.shape)} and normalized_shape = {list(ns)}")
    return tuple(range(input.ndim - k, input.ndim))


def _ns(normalized_shape):
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Layer normalization over the trailing ``normalized_shape`` dims.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: an int or a sequence of the trailing dims' sizes.
        weight, bias: optional elementwise affine parameters of shape ``normalized_shape``.
        eps: added to the (biased) variance.
    """
    return _LN.call(input, weight, bias, _ns(normalized_shape), float(eps))


def _ln_kernel(input, weight, bias, normalized_shape, eps):
    axes = _shape_check("layer_norm", input, normalized_shape, weight, bias)
    dt = _acc(input.dtype)
    mean, var = _stat(input, axes, dt)
    y = (input.astype(dt) - mean) * lax.rsqrt(var + jnp.asarray(eps, dt))
    if weight is not None:
        y = y * weight.astype(dt)
    if bias is not None:
        y = y + bias.astype(dt)
    return y.astype(input.dtype)


register("layer_norm", nin=3, method=False, functional=True, grad_name="NativeLayerNormBackward0",
         impl=layer_norm, samples=lambda: _ln_samples())(_ln_kernel)
_LN = REGISTRY["layer_norm"]


def _ln_samples():
    d = "float64"
    return [Sample(A(3, 4, dtype=d), (4,), A(4, dtype=d), A(4, dtype=d)),
            Sample(A(2, 3, 4, dtype=d), [3, 4], A(3, 4, dtype=d), A(3, 4, dtype=d), 1e-3),
            Sample(A(2, 5, dtype=d), (5,)),
            Sample(A(2, 3, 4), (3, 4), None, A(3, 4)),
            Sample(A(4, 6), (5,)),  # bad normalized_shape
            Sample(A(4, 6), (6,), A(5))]  # bad weight


def _rms_kernel(input, weight, normalized_shape, eps):
    axes = _shape_check("rms_norm", input, normalized_shape, weight, None)
    dt = _acc(input.dtype)
    if eps is None:
        eps = float(jnp.finfo(input.dtype).eps)
    x = input.astype(dt)
    y = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + jnp.asarray(eps, dt))
    if weight is not None:
        y = y * weight.astype(dt)
    return y.astype(input.dtype)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims:
    ``y = x / sqrt(mean(x**2) + eps) * weight``.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: an int or a sequence of the trailing dims' sizes.
        weight: optional elementwise scale of shape ``normalized_shape``.
        eps: added to the mean square (default: ``finfo(input.dtype).eps``, as torch).
    """
    return _RMS.call(input, weight, _ns(normalized_shape), None if eps is None else float(eps))


register("rms_norm", nin=2, method=False, functional=True, impl=rms_norm,
         samples=lambda: _rms_samples())(_rms_kernel)
_RMS = REGISTRY["rms_norm"]


def _rms_samples():
    d = "float64"
    return [Sample(A(3, 4, dtype=d), (4,), A(4, dtype=d)),
            Sample(A(2, 3, 4, dtype=d), [3, 4], A(3, 4, dtype=d), 1e-3),
            Sample(A(2, 5, dtype=d), (5,)),
            Sample(A(2, 3, 4), (4,), A(4)),
            Sample(A(4, 6), (5,))]


# ----- group_norm -----------------------------------------------------------------------------
def _gn_kernel(input, weight, bias, num_groups, eps):
    if input.ndim < 2:
        raise ShapeError(f"group_norm(): expected an input of at least 2 dims (N, C, *), got shape "
                         f"{list(input.shape)}")
    n, c = input.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ShapeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                         f"input of shape {list(input.shape)} and num_groups={num_groups}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and (v.ndim != 1 or v.shape[0] != c):
            raise ShapeError(f"group_norm(): Expected {name} to be a vector of size equal to the number "
                             f"of channels in input, but got {name} of shape {list(v.shape)} and input "
                             f"of shape {list(input.shape)}")
    return group_norm_stats(input, weight, bias, num_groups, eps)[0]


def group_norm_stats(input, weight, bias, num_groups, eps):
    """Group norm of an already checked ``(N, C, *)`` array: ``(y, mean, rstd)``, with ``mean`` and
    ``rstd = 1 / sqrt(var + eps)`` of shape ``(N, num_groups, 1)`` in the accumulation dtype."""
    n, c = input.shape[:2]
    dt = _acc(input.dtype)
    xg = input.astype(dt).reshape(n, num_groups, -1)
    mean, var = _stat(xg, (2,), dt)
    rstd = lax.rsqrt(var + jnp.asarray(eps, dt))
    y = ((xg - mean) * rstd).reshape(input.shape)
    bshape = _chan((c,), input.ndim)
    if weight is not None:
        y = y * weight.astype(dt).reshape(bshape)
    if bias is not None:
        y = y + bias.astype(dt).reshape(bshape)
    return y.astype(input.dtype), mean, rstd


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Group normalization: channels split into ``num_groups`` groups, each normalized over its
    channels and the spatial dims, per sample.

    Args:
        input: ``(N, C, *)``; ``C`` divisible by ``num_groups``.
        num_groups: number of groups.
        weight, bias: optional per-channel ``(C,)`` affine parameters.
        eps: added to the variance.
    """
    return _GN.call(input, weight, bias, int(num_groups), float(eps))


register("group_norm", nin=3, method=False, functional=True, grad_name="NativeGroupNormBackward0",
         impl=group_norm, samples=lambda: _gn_samples())(_gn_kernel)
_GN = REGISTRY["group_norm"]


def _gn_samples():
    d = "float64"
    return [Sample(A(2, 4, dtype=d), 2, A(4, dtype=d), A(4, dtype=d)),
            Sample(A(2, 6, 5, dtype=d), 3, A(6, dtype=d), A(6, dtype=d), 1e-3),
            Sample(A(2, 4, 3, 3, dtype=d), 4),
            Sample(A(1, 4, 3, 2), 1, A(4), None),
            Sample(A(4, 6), 4)]  # groups do not divide channels


# ----- local_response_norm --------------------------------------------------------------------
def _lrn_kernel(input, size, alpha, beta, k):
    if input.ndim < 3:
        raise OpValueError(f"local_response_norm(): Expected 3D or higher dimensionality input (got "
                         f"{input.ndim} dimensions)")
    if input.shape[0] == 0 or input.size == 0:
        return input
    dt = _acc(input.dtype)
    x = input.astype(dt)
    sq = jnp.square(x)
    c = input.shape[1]
    pad = [(0, 0)] * input.ndim
    pad[1] = (size // 2, (size - 1) // 2)
    sp = jnp.pad(sq, pad)
    acc = sum(lax.slice_in_dim(sp, i, i + c, axis=1) for i in range(size))
    div = jnp.power(acc / size * jnp.asarray(alpha, dt) + jnp.asarray(k, dt), jnp.asarray(beta, dt))
    return (x / div).astype(input.dtype)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels:
    ``y = x / (k + alpha / size * sum_{window} x**2) ** beta`` with a window of ``size`` channels.

    Args:
        input: ``(N, C, *)`` with at least one spatial dim.
        size: number of neighbouring channels in the window.
        alpha, beta, k: the formula's constants.
    """
    return _LRN.call(input, int(size), float(alpha), float(beta), float(k))


register("local_response_norm", nin=1, method=False, function=False, functional=True,
         torch_name="nn.functional.local_response_norm", impl=local_response_norm,
         samples=lambda: _lrn_samples())(_lrn_kernel)
_LRN = REGISTRY["local_response_norm"]


def _lrn_samples():
    d = "float64"
    return [Sample(A(2, 5, 4, dtype=d), 3, 0.1, 0.75, 1.0),
            Sample(A(2, 4, 3, 3, dtype=d), 2, 0.5),
            Sample(A(1, 3, 2, 2, 2), 4),
            Sample(A(2, 3), 2)]


__all__ += ["batch_norm_module"]
