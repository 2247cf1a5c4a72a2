"""nn.functional kernels: the dropout family, embedding, one_hot, normalize, cosine_similarity,
pairwise_distance, pdist.

Dropout draws from the global generator without a separate dispatch: the generator's key array is
an input of the table op and the advanced key an extra (integer, non-differentiable) output that
the public callable stores back, so a call is ONE dispatch and runs under an outer ``jax.jit``
(where the key is a tracer threaded by the jit capture). The backward re-runs the forward with
the same key, so it sees the same mask: ``grad = mask / (1 - p)``.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _random as R
from .._errors import DTypeError, OpIndexError, OpValueError, ShapeError
from .._meta import needs_values
from .._random import bernoulli_mask
from .._tensor import Tensor
from ._helpers import A, I, Sample, broadcast_check, norm_dim
from ._registry import REGISTRY, check_inplace, commit_inplace, register
from .linalg_decomp import vector_norm_kernel

__all__: list[str] = []

_ALPHA = 1.7580993408473766  # SELU's alpha * lambda: the negative saturation value of alpha dropout


# ----- dropout family -------------------------------------------------------------------------
def _dropout_kernel(input, key, p, feature, alpha, batched):
    """``(dropped input, new key)``. ``feature``: one Bernoulli draw per channel (dims after the
    channel dim share it); ``alpha``: alpha dropout (keeps mean and variance of SELU outputs)."""
    k = jax.random.wrap_key_data(key, impl="threefry2x32")
    k, sub = jax.random.split(k)
    new_key = jax.random.key_data(k)
    dt = input.dtype
    if p == 1.0:
        return input * jnp.zeros((), dt), new_key
    if feature:
        if input.ndim < 2:
            raise ShapeError(f"Feature dropout requires at least 2 dimensions in the input, got shape "
                             f"{list(input.shape)}")
        lead = 2 if batched else 1
        shape = input.shape[:lead] + (1,) * (input.ndim - lead)
    else:
        shape = input.shape
    acc = jnp.float32 if dt in (jnp.float16, jnp.bfloat16) else dt
    keep = bernoulli_mask(sub, 1.0 - p, shape)
    if alpha:
        a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        noise = keep.astype(acc) * jnp.asarray(a, acc)
        b = (keep.astype(acc) - 1) * jnp.asarray(_ALPHA * a, acc) + jnp.asarray(_ALPHA * a * p, acc)
        return (input.astype(acc) * noise + b).astype(dt), new_key
    scale = jnp.asarray(1.0 / (1.0 - p), acc)
    return (input.astype(acc) * (keep.astype(acc) * scale)).astype(dt), new_key


register("_dropout", nin=2, method=False, function=False, grad_name="NativeDropoutBackward0")(_dropout_kernel)
_DROP = REGISTRY["_dropout"]


def _check_p(p, name="dropout"):
    if not 0.0 <= p <= 1.0:
        raise OpValueError(f"{name} probability has to be between 0 and 1, but got {p}")


def _run_dropout(input, p, training, inplace, feature=False, alpha=False, batched=True):
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not training or p == 0 or input._data.size == 0:
        return input
    if inplace:
        check_inplace(input, "dropout_")
    gen = R.default_generator
    out, key = _DROP.call(input, gen._key, float(p), bool(feature), bool(alpha), bool(batched))
    gen._key = key._data
    if inplace:
        return commit_inplace(input, out, "dropout_")
    return out


def dropout(input, p=0.5, training=True, inplace=False, *, train=None):
    """Zero each element with probability ``p`` (from the default generator) and scale the rest by
    ``1 / (1 - p)``; the identity when ``training`` is False or ``p == 0``.

    Args:
        input: any shape.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout (``torch.dropout`` calls it ``train``).
        inplace: write the result into ``input``.
    """
    if train is not None:
        training = train
    _check_p(p)
    return _run_dropout(input, p, training, inplace)


def _dropout_samples():
    return [Sample(A(3, 4, dtype="float64"), 0.0, True), Sample(A(2, 3, 4), 0.5, False),
            Sample(A(5, dtype="float64"), 1.0, True), Sample(A(0, 3), 0.5, True)]


register("dropout", nin=1, method=False, functional=True, impl=dropout,
         samples=_dropout_samples)(_dropout_kernel)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, train=None):
    """Alpha dropout (for SELU networks): dropped elements become the negative saturation value
    ``-alpha * scale``, and an affine correction keeps the mean and variance.

    Args:
        input: any shape.
        p: drop probability in [0, 1].
        training: apply it (default False, as torch's functional form).
        inplace: write the result into ``input``.
    """
    if train is not None:
        training = train
    _check_p(p)
    return _run_dropout(input, p, training, inplace, alpha=True)


register("alpha_dropout", nin=1, method=False, functional=True, impl=alpha_dropout,
         samples=lambda: _dropout_samples())(_dropout_kernel)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, train=None):
    """Alpha dropout of whole channels (dim 1 of an ``(N, C, *)`` input)."""
    if train is not None:
        training = train
    _check_p(p)
    return _run_dropout(input, p, training, inplace, feature=True, alpha=True)


register("feature_alpha_dropout", nin=1, method=False, functional=True, impl=feature_alpha_dropout,
         samples=lambda: _feature_samples())(_dropout_kernel)


def feature_dropout(input, p=0.5, training=True, inplace=False, *, train=None):
    """``torch.feature_dropout``: zero whole channels (dim 1 of ``(N, C, *)``) with probability ``p``."""
    if train is not None:
        training = train
    _check_p(p)
    return _run_dropout(input, p, training, inplace, feature=True)


def _feature_samples():
    return [Sample(A(2, 3, 4, dtype="float64"), 0.0, True), Sample(A(2, 3, 4, 4), 0.5, False),
            Sample(A(2, 3, dtype="float64"), 1.0, True)]


register("feature_dropout", nin=1, method=False, impl=feature_dropout,
         samples=_feature_samples)(_dropout_kernel)


def _channel_dropout(name, dims, input, p, training, inplace):
    _check_p(p)
    nd = input.dim()
    if name == "dropout2d":
        if nd not in (3, 4):
            warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
                          "result in an error in a future release. To retain the behavior and silence "
                          "this warning, please use dropout instead. Note that dropout2d exists to provide "
                          "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
                          "and an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=3)
        if nd == 3:
            warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                          "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
                          "is the channel dim. This behavior will change in a future release to interpret "
                          "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
                          "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
                          stacklevel=3)
        return _run_dropout(input, p, training, inplace, feature=True)
    lo = dims + 1
    if name == "dropout1d" and nd not in (lo, lo + 1):
        raise ShapeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
                         "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                         "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                         "inputs).")
    if name == "dropout3d" and nd not in (lo, lo + 1):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout3d exists to provide "
                      "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
                      "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=3)
    return _run_dropout(input, p, training, inplace, feature=True, batched=nd != lo)


def _make_channel(name, dims):
    def fn(input, p=0.5, training=True, inplace=False):
        return _channel_dropout(name, dims, input, p, training, inplace)

    fn.__name__ = fn.__qualname__ = name
    shape = ", ".join(["N", "C"] + ["L"] if dims == 1 else ["N", "C"] + ["D", "H", "W"][3 - dims:])
    fn.__doc__ = (f"Channel-wise dropout: zero whole channels of a ``({shape})`` input (batch dim "
                  f"optional) with probability ``p``, scaling the rest by ``1 / (1 - p)``.\n\n"
                  "    Args:\n        p: drop probability. training: apply it. inplace: write into "
                  "``input``.\n")
    return fn


def _channel_samples(dims):
    def samples():
        shape = (2, 3) + (4,) * dims
        return [Sample(A(*shape, dtype="float64"), 0.0), Sample(A(*shape), 0.5, False),
                Sample(A(*shape, dtype="float64"), 1.0), Sample(A(*shape[1:], dtype="float64"), 1.0)]
    return samples


for _n, _d in (("dropout1d", 1), ("dropout2d", 2), ("dropout3d", 3)):
    register(_n, nin=1, method=False, function=False, functional=True,
             torch_name=f"nn.functional.{_n}", impl=_make_channel(_n, _d),
             samples=_channel_samples(_d))(_dropout_kernel)


# ----- embedding ------------------------------------------------------------------------------
def _emb_kernel(weight, input, padding_idx, max_norm, norm_type, scale_grad_by_freq):
    """``weight[input]``; padding row and frequency scaling act on the gradient only; with
    ``max_norm`` also the renormalised weight (rows looked up whose norm exceeds it)."""
    if input.dtype not in (jnp.int64, jnp.int32):
        tn = {"float32": "Float", "float64": "Double", "bool": "Bool", "int16": "Short",
              "int8": "Char", "uint8": "Byte", "float16": "Half"}.get(str(input.dtype), str(input.dtype))
        raise DTypeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                         f"types: Long, Int; but got torch.{tn}Tensor instead (while checking arguments "
                         f"for embedding)")
    if weight.ndim != 2:
        raise ShapeError(f"embedding(): 'weight' must be 2-D, got shape {list(weight.shape)}")
    num = weight.shape[0]
    idx = input.astype(jnp.int64)
    bad = jnp.any((idx < 0) | (idx >= num)) if idx.size else jnp.asarray(False)
    safe = jnp.clip(idx, 0, max(num - 1, 0))
    new_w = None
    if max_norm is not None:
        w0 = lax.stop_gradient(weight)
        used = jnp.zeros((num,), bool).at[safe.reshape(-1)].set(True)
        norms = vector_norm_kernel("embedding_renorm_", w0, float(norm_type), (1,), False)
        big = used & (norms > max_norm)
        scale = jnp.where(big, max_norm / (norms + 1e-7), 1).astype(weight.dtype)
        new_w = w0 * scale[:, None]
        rows = jnp.take(new_w, safe, axis=0)
        g = jnp.take(weight, safe, axis=0)
        out = rows + (g - lax.stop_gradient(g))  # values of the renormed rows, gradient to weight
    else:
        out = jnp.take(weight, safe, axis=0)
    if scale_grad_by_freq or (padding_idx is not None and padding_idx >= 0):
        gscale = jnp.ones((num,), weight.dtype)
        if scale_grad_by_freq:
            counts = jnp.zeros((num,), weight.dtype).at[safe.reshape(-1)].add(1)
            gscale = 1 / jnp.maximum(counts, 1)
        if padding_idx is not None and padding_idx >= 0:
            gscale = gscale.at[padding_idx].set(0)
        s = jnp.take(gscale, safe)[..., None]
        out = lax.stop_gradient(out) + (out - lax.stop_gradient(out)) * s
    if new_w is not None:
        return out, bad, new_w
    return out, bad


register("_embedding", nin=2, method=False, function=False, grad_name="EmbeddingBackward0")(_emb_kernel)
_EMB = REGISTRY["_embedding"]


def _padding(padding_idx, num):
    if padding_idx is None:
        return None
    if padding_idx > 0 and padding_idx >= num:
        raise ShapeError(f"embedding(): Padding_idx must be within num_embeddings (got padding_idx="
                         f"{padding_idx}, num_embeddings={num})")
    if padding_idx < 0:
        if padding_idx < -num:
            raise ShapeError(f"embedding(): Padding_idx must be within num_embeddings (got padding_idx="
                             f"{padding_idx}, num_embeddings={num})")
        padding_idx += num
    return int(padding_idx)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of ``weight`` by the integer indices ``input``.

    Args:
        input: an int64/int32 tensor of indices, any shape ``(*)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: this row receives no gradient.
        max_norm: rows looked up whose ``norm_type``-norm exceeds it are rescaled to it, in place in
            ``weight`` (without autograd), as torch.
        norm_type: the p of that norm.
        scale_grad_by_freq: scale each row's gradient by 1 / (its count in ``input``).
        sparse: accepted for compatibility; gradients are dense.

    Returns:
        ``(*, embedding_dim)``. Out-of-range indices raise IndexError (checked in eager mode).
    """
    num = weight.shape[0]
    pad = _padding(padding_idx, num)
    res = _EMB.call(weight, input, pad, None if max_norm is None else float(max_norm), float(norm_type),
                    bool(scale_grad_by_freq))
    R.check_flag(res[1]._data, OpIndexError(
        f"embedding(): index out of range in self (indices must lie in [0, {num}) for a weight of shape "
        f"{list(weight.shape)})"))
    if max_norm is not None:
        weight._data = res[2]._data
        weight._version += 1
    return res[0]


def _emb_samples():
    d = "float64"
    return [Sample(I(3, 4, low=0, high=5), A(5, 3, dtype=d)),
            Sample(I(6, low=0, high=4), A(4, 2, dtype=d), padding_idx=1),
            Sample(I(2, 3, low=0, high=4), A(4, 3, dtype=d), padding_idx=-1, scale_grad_by_freq=True),
            Sample(I(5, low=0, high=4), A(4, 3, dtype=d), scale_grad_by_freq=True),
            Sample(I(2, 2, low=0, high=6), A(6, 3), max_norm=1.0, grad=False),
            Sample(I(2, 2, low=0, high=6), A(6, 3), max_norm=0.5, norm_type=1.0, grad=False),
            Sample(np.array([5]), A(4, 2)),  # index out of range
            Sample(np.array([1.0]), A(4, 2))]  # float indices


register("embedding", nin=2, method=False, function=False, functional=True,
         torch_name="nn.functional.embedding", impl=embedding, samples=_emb_samples)(_emb_kernel)


def _embedding_aten(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices, padding_idx=-1, ...)``: the ATen argument order (a negative
    ``padding_idx`` means none); see ``nn.functional.embedding``."""
    return embedding(indices, weight, None if padding_idx < 0 else padding_idx, None, 2.0,
                     scale_grad_by_freq, sparse)


register("_embedding_aten", nin=2, method=False, aliases=("embedding",),
         impl=_embedding_aten)(_emb_kernel)


# ----- one_hot --------------------------------------------------------------------------------
def _one_hot_kernel(tensor, num_classes):
    if tensor.dtype != jnp.int64:
        raise DTypeError("one_hot is only applicable to index tensor of type LongTensor.")
    out = (tensor[..., None] == jnp.arange(num_classes, dtype=jnp.int64)).astype(jnp.int64)
    if tensor.size == 0:
        return out, jnp.asarray(0)
    code = jnp.where(jnp.min(tensor) < 0, 1, jnp.where(jnp.max(tensor) >= num_classes, 2, 0))
    return out, code


register("_one_hot", nin=1, method=False, function=False, differentiable=False)(_one_hot_kernel)


def one_hot(tensor, num_classes=-1):
    """One-hot encoding of int64 class indices: ``out[..., i] = (tensor[...] == i)``.

    Args:
        tensor: int64 indices of any shape ``(*)``.
        num_classes: the number of classes; -1 takes ``max(tensor) + 1`` (reads the data, so this
            form cannot run under ``jax.jit``).

    Returns:
        int64 ``(*, num_classes)``.
    """
    if num_classes == -1:
        if tensor.dtype.name != "int64":
            raise DTypeError("one_hot is only applicable to index tensor of type LongTensor.")
        if tensor.numel() == 0:
            raise ShapeError("Can not infer total number of classes from empty tensor.")
        needs_values("one_hot", tensor)
        num_classes = int(tensor._data.max()) + 1
    out, code = REGISTRY["_one_hot"].call(tensor, int(num_classes))
    R.check_flag(code._data == 1, ShapeError("Class values must be non-negative."))
    R.check_flag(code._data == 2, ShapeError("Class values must be smaller than num_classes."))
    return out


register("one_hot", nin=1, method=False, function=False, functional=True, differentiable=False,
         torch_name="nn.functional.one_hot", impl=one_hot,
         samples=lambda: [Sample(I(5, low=0, high=4)), Sample(I(2, 3, low=0, high=3), 5),
                          Sample(I(0, low=0, high=3), 3), Sample(np.array([0, 5]), 3),
                          Sample(np.array([-1, 2]), 3), Sample(A(3))])(_one_hot_kernel)


# ----- normalize, cosine_similarity, pairwise_distance, pdist ----------------------------------
def _float(x, *more):
    dt = jnp.result_type(x, *more)
    if not jnp.issubdtype(dt, jnp.inexact):
        dt = jnp.float32
    return dt


@register("normalize", nin=1, method=False, function=False, functional=True,
          torch_name="nn.functional.normalize",
          samples=lambda: [Sample(A(3, 4, dtype="float64")), Sample(A(2, 3, 4, dtype="float64"), 1.0, -1),
                           Sample(A(2, 3, dtype="float64"), float("inf"), 0),
                           Sample(np.zeros((2, 3)), 2.0, 1), Sample(A(4), dim=0, eps=0.5)])
def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(||input||_p, eps)`` along ``dim``.

    Args:
        input: a floating tensor of any shape.
        p: the exponent of the norm.
        dim: the dim to normalize over.
        eps: lower bound of the divisor.
    """
    d = norm_dim(dim, input.ndim, "normalize")
    n = vector_norm_kernel("normalize", input, p, (d,), True)
    return input / jnp.maximum(n, jnp.asarray(eps, n.dtype))


def _clamp_value(n, eps):
    """``max(n, eps)`` in value with the gradient of ``n`` (torch clamps the norm under no_grad)."""
    return jnp.where(n >= eps, n, n - lax.stop_gradient(n) + jnp.asarray(eps, n.dtype))


@register("cosine_similarity", nin=2, method=False, functional=True,
          samples=lambda: [Sample(A(3, 4, dtype="float64"), A(3, 4, dtype="float64")),
                           Sample(A(2, 3, 4, dtype="float64"), A(3, 4, dtype="float64"), -1),
                           Sample(A(5, 3), A(1, 3), 1, 1e-4), Sample(A(4), A(4), 0),
                           Sample(np.zeros((2, 3)), A(2, 3, dtype="float64")),
                           Sample(A(3, 4), A(2, 4))])
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine similarity of ``x1`` and ``x2`` (broadcast together) along ``dim``:
    ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))``.

    Args:
        x1, x2: tensors broadcastable to a common shape.
        dim: the dim of the vectors (the result drops it).
        eps: lower bound of each norm.
    """
    shape = broadcast_check("cosine_similarity", x1, x2)
    dt = _float(x1, x2)
    a = jnp.broadcast_to(x1.astype(dt), shape)
    b = jnp.broadcast_to(x2.astype(dt), shape)
    d = norm_dim(dim, len(shape), "cosine_similarity")
    na = _clamp_value(vector_norm_kernel("cosine_similarity", a, 2, (d,), True), eps)
    nb = _clamp_value(vector_norm_kernel("cosine_similarity", b, 2, (d,), True), eps)
    return jnp.sum((a / na) * (b / nb), axis=d)


@register("pairwise_distance", nin=2, method=False, functional=True,
          samples=lambda: [Sample(A(3, 4, dtype="float64"), A(3, 4, dtype="float64")),
                           Sample(A(3, 4, dtype="float64"), A(4, dtype="float64"), 1.0),
                           Sample(A(2, 5), A(2, 5), 3.0, 1e-3, True),
                           Sample(A(4, dtype="float64"), A(4, dtype="float64"), float("inf")),
                           Sample(A(3, 4), A(2, 4))])
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim (inputs broadcast together).

    Args:
        x1, x2: ``(N, D)`` or ``(D,)`` (any broadcastable shapes).
        p: the norm degree.
        eps: added to the difference (avoids a zero norm).
        keepdim: keep the reduced dim.
    """
    shape = broadcast_check("pairwise_distance", x1, x2)
    dt = _float(x1, x2)
    diff = x1.astype(dt) - x2.astype(dt) + jnp.asarray(eps, dt)
    diff = jnp.broadcast_to(diff, shape)
    axis = max(len(shape) - 1, 0)
    if not shape:
        diff = diff.reshape(1)
        return vector_norm_kernel("pairwise_distance", diff, p, (0,), keepdim).reshape(
            (1,) if keepdim else ())
    return vector_norm_kernel("pairwise_distance", diff, p, (axis,), keepdim)


@register("pdist", nin=1, method=False, functional=True,
          samples=lambda: [Sample(A(4, 3, dtype="float64")), Sample(A(5, 2, dtype="float64"), 1.0),
                           Sample(A(3, 4), 3.0), Sample(A(1, 3)), Sample(A(3))])
def pdist(input, p=2.0):
    """Distances ``||x_i - x_j||_p`` between the rows of ``input`` ``(N, M)`` for ``i < j``, in row
    order: a vector of ``N * (N - 1) / 2``."""
    if input.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise ShapeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    x = input.astype(_float(input))
    diff = jnp.take(x, i, axis=0) - jnp.take(x, j, axis=0)
    return vector_norm_kernel("pdist", diff, p, (1,), False)
