"""More nn.functional pieces: multi_margin_loss, multilabel_margin_loss,
triplet_margin_with_distance_loss, channel_shuffle (+ native_channel_shuffle), gumbel_softmax.

Each loss is one fused kernel (one table entry, one dispatch); the kernels check shapes and dtypes
while JAX traces them, in torch's words. As in :mod:`.nn_loss`, data-dependent checks torch makes
(class index out of range) are not made: they would need the values on the host each call.

``gumbel_softmax`` draws from the global generator inside its kernel (the key is an input, the
advanced key an extra integer output, as dropout does), so a call is one dispatch and works under
``jax.jit``; the backward re-runs the forward with the same key, so it sees the same noise.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from .. import _random as R
from .._errors import DTypeError, OpTypeError, OpValueError, ShapeError
from .._tensor import Tensor
from ._helpers import A, I, Sample, broadcast_shape, norm_dim
from ._registry import REGISTRY, register
from ._value_checks import check_class_indices
from .nn_loss import _float_in, _nn, _no_grad_weight, _reduce, _reduction, _tn

__all__: list[str] = []


def _f(name):
    return REGISTRY[name].call


def _vector_or_matrix(input):
    """torch's check: a non-empty vector or matrix (0-dim batch allowed), or a scalar."""
    nd = input.ndim
    if not (nd == 0 or (nd == 1 and input.shape[0] != 0) or (nd == 2 and input.shape[1] != 0)):
        raise ShapeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                         f"{list(input.shape)}")


def _long_target(target):
    if target.dtype != jnp.int64:
        raise DTypeError(f"expected scalar type Long but found {_tn(target.dtype)}")


# ----- multi_margin_loss -------------------------------------------------------------------------
def _multi_margin_k(input, target, weight, p, margin, reduction):
    """Multi-class hinge kernel: ``sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C``."""
    _float_in("multi_margin_loss", input, "multi_margin_loss_cpu_kernel")
    _vector_or_matrix(input)
    nframe = input.shape[0] if input.ndim == 2 else 1
    c = input.shape[-1] if input.ndim else 1
    if not (target.ndim <= 1 and target.size == nframe):
        raise ShapeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of "
                         f"input samples (batch size). Expected target size [{nframe}], but got "
                         f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    _long_target(target)
    if weight is not None and weight.size != c:
        raise ShapeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    x = input.reshape(nframe, c)
    t = target.reshape(nframe)
    tc = jnp.clip(t, 0, c - 1)
    xy = jnp.take_along_axis(x, tc[:, None], axis=1)
    z = margin - xy + x
    h = jnp.where(z > 0, z, jnp.zeros((), x.dtype))
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * weight.astype(x.dtype)[tc][:, None]
    not_y = jnp.arange(c)[None, :] != t[:, None]
    loss = jnp.sum(jnp.where(not_y, h, jnp.zeros((), x.dtype)), axis=1) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss (F.multi_margin_loss).

    For each sample with class ``y``: ``sum_{i != y} weight[y] * max(0, margin - x[y] + x[i])**p / C``.

    Args:
        input: (N, C) or (C) float scores (a 0-d input is one sample with one class).
        target: (N) or () int64 class indices.
        p: 1 or 2. margin: default 1.
        weight: optional 1-D (C) per-class weights (not differentiable, as torch).
        reduction: 'none' (shape (N)) | 'mean' | 'sum'.
    """
    red = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise OpValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise OpValueError("weight must be one-dimensional")
    _no_grad_weight("multi_margin_loss", weight=weight)
    out = _f("multi_margin_loss")(input, target, weight, int(p), margin, red)
    check_class_indices("multi_margin_loss", target, input.shape[-1] if input.ndim else 1,
                        exc=ShapeError, message="target out of range.")
    return out


def _mm_samples():
    return [Sample(A(3, 4), I(3, low=0, high=4)),
            Sample(A(3, 4), I(3, low=0, high=4), p=2, margin=0.5, reduction="none"),
            Sample(A(5, 3), I(5, low=0, high=3), reduction="sum", margin=2.0),
            Sample(A(4), I(low=0, high=4)), Sample(A(4), I(1, low=0, high=4), p=2),
            Sample(A(4), I(low=0, high=4), reduction="none"), Sample(A(), I(low=0, high=1)),
            Sample(A(3, 4, dtype="float64"), I(3, low=0, high=4), p=2),
            Sample(A(3, 4), I(3, low=0, high=4), 1, 1.0, A(4, low=0.5, high=2.0), grad=False),
            Sample(A(3, 4), I(3, low=0, high=4), 2, 0.7, A(4, low=0.5, high=2.0), reduction="none",
                   grad=False),
            Sample(A(3, 4), I(2, low=0, high=4)), Sample(A(3, 4), I(1, 3, low=0, high=4)),
            Sample(A(2, 3, 4), I(2, low=0, high=4)), Sample(A(3, 0), I(3, low=0, high=1)),
            Sample(A(3, 4), I(3, low=0, high=4, dtype="int32")), Sample(A(3, 4), A(3)),
            Sample(I(3, 4), I(3, low=0, high=4)), Sample(A(3, 4), I(3, low=0, high=4), p=3),
            Sample(A(3, 4), I(3, low=0, high=4), 1, 1.0, A(2, 2), grad=False),
            Sample(A(3, 4), I(3, low=0, high=4), 1, 1.0, A(3), grad=False),
            Sample(A(3, 4), I(3, low=0, high=4), reduction="foo")]


_nn("multi_margin_loss", nin=3, impl=multi_margin_loss, samples=_mm_samples)(_multi_margin_k)


# ----- multilabel_margin_loss --------------------------------------------------------------------
def _multilabel_margin_k(input, target, reduction):
    """Multi-label hinge kernel: targets are the class indices of each row up to the first -1."""
    _float_in("multilabel_margin_loss", input, "multilabel_margin_loss_forward_out_frame")
    _vector_or_matrix(input)
    if target.shape != input.shape:
        raise ShapeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                         f"{list(input.shape)}")
    _long_target(target)
    nframe = input.shape[0] if input.ndim == 2 else 1
    c = input.shape[-1] if input.ndim else 1
    x = input.reshape(nframe, c)
    t = target.reshape(nframe, c)
    valid = jnp.cumprod(t != -1, axis=1).astype(bool)  # labels before the first -1
    tc = jnp.clip(t, 0, c - 1)
    is_target = jnp.any(valid[:, :, None] & (tc[:, :, None] == jnp.arange(c)[None, None, :]), axis=1)
    xt = jnp.take_along_axis(x, tc, axis=1)
    z = 1 - xt[:, :, None] + x[:, None, :]
    keep = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
    loss = jnp.sum(jnp.where(keep, z, jnp.zeros((), x.dtype)), axis=(1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-class multi-label hinge loss (F.multilabel_margin_loss).

    For each sample: ``sum_{j, i} max(0, 1 - (x[y_j] - x[i])) / C`` over the target classes ``y_j``
    (the entries of ``target`` before the first -1) and the non-target classes ``i``.

    Args:
        input: (N, C) or (C) float scores.
        target: int64 of ``input``'s shape, padded with -1.
        reduction: 'none' (shape (N)) | 'mean' | 'sum'.
    """
    out = _f("multilabel_margin_loss")(input, target, _reduction(size_average, reduce, reduction))
    check_class_indices("multilabel_margin_loss", target, input.shape[-1] if input.ndim else 1,
                        exc=ShapeError, low=-1, message="argument #2 'target' is out of range.")
    return out


def _ml_target(n, c, dtype="int64"):
    rows = []
    for _ in range(n):
        k = int(I(low=0, high=c + 1))
        labels = list(I(c, low=0, high=c)[:k])
        rows.append(labels + [-1] * (c - k))
    import numpy as np
    return np.asarray(rows, dtype=dtype)


def _mlm_samples():
    import numpy as np
    return [Sample(A(3, 4), _ml_target(3, 4)), Sample(A(4, 5), _ml_target(4, 5), reduction="none"),
            Sample(A(4, 5), _ml_target(4, 5), reduction="sum"),
            Sample(A(4), _ml_target(1, 4)[0]), Sample(A(4), np.array([1, -1, 0, 0])),
            Sample(A(4), np.array([3, 3, 1, -1]), reduction="none"),
            Sample(A(3, 4), np.full((3, 4), -1)), Sample(A(2, 3), np.array([[0, 1, 2], [2, 1, 0]])),
            Sample(A(), np.array(0)), Sample(A(3, 4, dtype="float64"), _ml_target(3, 4)),
            Sample(A(3, 4), I(3, low=0, high=4)), Sample(A(3, 4), A(3, 4)),
            Sample(A(3, 4), _ml_target(3, 4, dtype="int32")), Sample(A(2, 3, 4), I(2, 3, 4, low=0, high=4)),
            Sample(I(3, 4), _ml_target(3, 4)), Sample(A(3, 4), _ml_target(3, 4), reduction="foo")]


_nn("multilabel_margin_loss", nin=2, impl=multilabel_margin_loss, samples=_mlm_samples)(_multilabel_margin_k)


# ----- triplet_margin_with_distance_loss ---------------------------------------------------------
def _triplet_dist_k(anchor, positive, negative, margin, swap, reduction):
    """Triplet kernel with the default distance (pairwise_distance: p=2, eps=1e-6)."""
    def d(a, b):
        diff = a - b + 1e-6
        return jnp.sqrt(jnp.sum(diff * diff, axis=-1)) if diff.ndim else jnp.abs(diff)
    broadcast_shape("triplet_margin_with_distance_loss", anchor.shape, positive.shape, negative.shape)
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = jnp.minimum(d_neg, d(positive, negative))
    return _reduce(jnp.maximum(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with a custom distance ``d``
    (F.triplet_margin_with_distance_loss).

    Args:
        anchor, positive, negative: tensors with the same number of dims, e.g. (N, D) or (D).
        distance_function: callable ``(x1, x2) -> distances``; default ``pairwise_distance``.
        margin: > 0 (default 1). swap: use ``min(d(a, n), d(p, n))`` as the negative distance.
        reduction: 'none' | 'mean' | 'sum'.
    """
    if reduction not in ("mean", "sum", "none"):
        raise OpValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise OpValueError(f"margin must be greater than 0, got {margin}")
    dims = [getattr(t, "ndim", None) for t in (anchor, positive, negative)]
    if not dims[0] == dims[1] == dims[2]:
        raise ShapeError(f"triplet_margin_with_distance_loss: The anchor, positive, and negative tensors are "
                         f"expected to have the same number of dimensions, but got: anchor {dims[0]}D, "
                         f"positive {dims[1]}D, and negative {dims[2]}D inputs")
    if distance_function is None:  # the default distance: one fused kernel
        if anchor.ndim >= 1:
            return _f("triplet_margin_with_distance_loss")(anchor, positive, negative, margin, bool(swap),
                                                           reduction)
        pd = REGISTRY["pairwise_distance"]
        distance_function = pd.impl or pd.call
    elif not callable(distance_function):
        raise OpTypeError(f"triplet_margin_with_distance_loss(): distance_function must be callable or None, "
                          f"got {type(distance_function).__name__}")
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = _f("minimum")(dist_neg, distance_function(positive, negative))
    loss = _f("clamp_min")(margin + dist_pos - dist_neg, 0)
    if reduction == "sum":
        return _f("sum")(loss)
    if reduction == "mean":
        return _f("mean")(loss)
    return loss


def _sq_dist(a, b):
    return ((a - b) ** 2).sum(-1)


def _tmwd_samples():
    return [Sample(A(4, 5), A(4, 5), A(4, 5)),
            Sample(A(4, 5), A(4, 5), A(4, 5), margin=0.5, reduction="none"),
            Sample(A(4, 5), A(4, 5), A(4, 5), swap=True, reduction="sum"), Sample(A(5), A(5), A(5)),
            Sample(A(4, 5), A(4, 5), A(4, 5), distance_function=_sq_dist, swap=True),
            Sample(A(4, 5), A(4, 5), A(4, 5), distance_function=_sq_dist, margin=3.0, reduction="none"),
            Sample(A(3, 2, dtype="float64"), A(3, 2, dtype="float64"), A(3, 2, dtype="float64"), swap=True),
            Sample(A(3, 2), A(3, 2), A(1, 2)),
            Sample(A(3, 2), A(3, 2), A(2)), Sample(A(3, 2), A(3, 2), A(3, 2), margin=0.0),
            Sample(A(3, 2), A(3, 2), A(3, 2), reduction="foo")]


_nn("triplet_margin_with_distance_loss", nin=3, promote="common", impl=triplet_margin_with_distance_loss,
    samples=_tmwd_samples)(_triplet_dist_k)


# ----- channel_shuffle ---------------------------------------------------------------------------
def _channel_shuffle_k(input, groups):
    """``(N, g*k, *) -> (N, k*g, *)``: channel ``i*k + j`` moves to ``j*g + i``."""
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.ndim <= 2:
        raise ShapeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                         f"{list(input.shape)}")
    c = input.shape[1]
    if c % groups:
        raise ShapeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} "
                         f"groups.")
    n, rest = input.shape[0], input.shape[2:]
    y = input.reshape((n, groups, c // groups) + rest)
    return jnp.swapaxes(y, 1, 2).reshape(input.shape)


def channel_shuffle(input, groups):
    """Shuffle the channels of an ``(N, C, *)`` tensor in ``groups`` groups (ShuffleNet):
    viewed as ``(N, groups, C // groups, *)``, the two channel dims are transposed.

    Args:
        input: (N, C, *) with at least 3 dims, ``C`` divisible by ``groups``.
        groups: a positive int.
    """
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise OpTypeError(f"channel_shuffle(): argument 'groups' must be int, not {type(groups).__name__}")
    return _f("channel_shuffle")(input, groups)


def native_channel_shuffle(input, groups):
    """Same as :func:`channel_shuffle` (torch's native kernel entry)."""
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise OpTypeError(f"native_channel_shuffle(): argument 'groups' must be int, not "
                          f"{type(groups).__name__}")
    return _f("native_channel_shuffle")(input, groups)


def _cs_samples():
    return [Sample(A(2, 4, 3), 2), Sample(A(1, 6, 2, 3), 3), Sample(A(2, 6, 2, 2, 1), 6),
            Sample(A(2, 4, 3), 1), Sample(A(2, 4, 3, dtype="float64"), 4), Sample(I(2, 4, 3), 2),
            Sample(A(0, 4, 3), 2), Sample(A(2, 4), 2), Sample(A(2, 4, 3), 3), Sample(A(2, 4, 3), 0),
            Sample(A(2, 4, 3), -2)]


register("channel_shuffle", nin=1, method=False, functional=True, impl=channel_shuffle,
         samples=_cs_samples)(_channel_shuffle_k)
register("native_channel_shuffle", nin=1, method=False, impl=native_channel_shuffle,  # torch: no derivative
         samples=lambda: [Sample(*s.args, grad=False) for s in _cs_samples()])(_channel_shuffle_k)


# ----- gumbel_softmax ----------------------------------------------------------------------------
def _gumbel_softmax_k(logits, key, tau, hard, dim):
    """``(softmax((logits + g) / tau), new key)`` with Gumbel(0, 1) noise ``g``; ``hard``: the one-hot
    of the argmax in the forward, the soft sample's gradient in the backward (straight-through)."""
    if not jnp.issubdtype(logits.dtype, jnp.floating):
        raise DTypeError(f'gumbel_softmax: "exponential_cpu" not implemented for \'{_tn(logits.dtype)}\'')
    d = norm_dim(dim, logits.ndim, "gumbel_softmax")
    k = jax.random.wrap_key_data(key, impl="threefry2x32")
    k, sub = jax.random.split(k)
    new_key = jax.random.key_data(k)
    dt = logits.dtype
    acc = jnp.float32 if dt in (jnp.float16, jnp.bfloat16) else dt
    g = jax.random.gumbel(sub, logits.shape, acc)
    y_soft = jax.nn.softmax((logits.astype(acc) + g) / tau, axis=d if logits.ndim else None)
    if logits.ndim == 0:
        y_soft = jnp.ones((), acc) + 0 * y_soft
    if hard:
        idx = jnp.argmax(y_soft, axis=d if logits.ndim else None, keepdims=True)
        pos = (jax.lax.broadcasted_iota(jnp.int32, logits.shape, d) if logits.ndim
               else jnp.zeros((), jnp.int32))
        y_hard = (pos == idx).astype(acc)
        y_soft = y_hard - jax.lax.stop_gradient(y_soft) + y_soft
    return y_soft.astype(dt), new_key


register("_gumbel_softmax", nin=2, method=False, function=False)(_gumbel_softmax_k)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Sample from the Gumbel-softmax (Concrete) distribution (F.gumbel_softmax).

    ``softmax((logits + g) / tau, dim)`` with ``g ~ Gumbel(0, 1)`` drawn from the default generator
    (reproducible from ``mt.manual_seed``; the values differ from torch's RNG stream).

    Args:
        logits: (*, num_features) unnormalized log-probabilities.
        tau: temperature > 0.
        hard: return one-hot vectors (the argmax) whose gradient is the soft sample's
            (straight-through estimator).
        eps: deprecated, no effect (a warning when changed, as torch).
        dim: the dim the softmax runs over.

    Returns: a tensor of ``logits``' shape and dtype, summing to 1 over ``dim``.
    """
    if not isinstance(logits, Tensor):
        raise OpTypeError(f"gumbel_softmax(): argument 'logits' must be Tensor, not {type(logits).__name__}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gen = R.default_generator
    out, key = _f("_gumbel_softmax")(logits, gen._key, float(tau), bool(hard), dim)
    gen._key = key._data
    return out


def _separated(*shape, dim=-1, dtype="float32"):
    """Logits with one entry per slice 1000 above the rest: the sample is one-hot whatever the noise."""
    import numpy as np
    x = A(*shape, dtype=dtype)
    idx = np.expand_dims(np.argmax(A(*shape), axis=dim), dim)
    np.put_along_axis(x, idx, 1000.0, axis=dim)
    return x


register("gumbel_softmax", nin=1, method=False, function=False, functional=True, impl=gumbel_softmax,
         torch_name="nn.functional.gumbel_softmax", samples=lambda: [
             Sample(_separated(3, 4)), Sample(_separated(3, 4), hard=True),
             Sample(_separated(2, 3, 4, dim=1), tau=0.5, dim=1),
             Sample(_separated(2, 5, dim=0), hard=True, dim=0),
             Sample(_separated(4, dtype="float64"), tau=2.0, hard=True),
             Sample(A(3, 4), dim=2), Sample(I(3, 4))])(_gumbel_softmax_k)
