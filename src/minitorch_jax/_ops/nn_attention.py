"""nn.functional kernels: attention.

``scaled_dot_product_attention`` is one table op (masks, causal masking, scaling, grouped-query
attention and dropout in one jitted kernel). ``_mha`` is the whole ``multi_head_attention_forward``
(in-projection, optional ``bias_k``/``bias_v`` and zero attention, masks, attention, head
averaging and out-projection) as ONE table op, used by ``nn.MultiheadAttention`` and
``F.multi_head_attention_forward`` (in ``nn/_functional_attention.py``).

Dropout inside attention draws from the global generator: its raw key goes into the op as an
input and the advanced key comes out as an extra integer output, which the Python wrapper stores
back (so a call stays one dispatch and works under ``jax.jit``; the backward re-runs the forward
with the same key, hence the same mask).

Rows whose every score is masked (``-inf``) give zeros in ``scaled_dot_product_attention`` and in
``MultiheadAttention(need_weights=False)`` as torch 2.13 does (its "safe softmax"), and NaN with
``need_weights=True`` (a plain softmax, as torch).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _random
from .._errors import DTypeError, ShapeError
from ._helpers import A, B, Sample
from ._registry import REGISTRY, register

__all__ = ["scaled_dot_product_attention"]

# torch's C++ names of scalar types, as its attention error messages print them
_CNAME = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
          "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
          "uint8": "unsigned char", "bool": "bool"}


def _cname(dt) -> str:
    return _CNAME.get(jnp.dtype(dt).name, jnp.dtype(dt).name)


# ----- shared pieces (run at trace time inside the kernels) -----------------------------------
def _softmax(s, safe: bool):
    """Softmax over the last axis; ``safe`` makes rows that are entirely ``-inf`` zeros (torch's
    ``_safe_softmax``) instead of NaN."""
    m = lax.stop_gradient(jnp.max(s, axis=-1, keepdims=True))
    m = jnp.where(jnp.isfinite(m), m, jnp.zeros((), s.dtype))
    e = jnp.exp(s - m)
    z = jnp.sum(e, axis=-1, keepdims=True)
    if not safe:
        return e / z
    dead = z == 0
    return jnp.where(dead, jnp.zeros((), s.dtype), e / jnp.where(dead, jnp.ones((), s.dtype), z))


def _dropout(w, rng, p: float):
    """Zero entries of ``w`` with probability ``p`` and scale the rest by ``1/(1-p)``; returns
    ``(w, new_raw_key)``."""
    key, sub = jax.random.split(jax.random.wrap_key_data(rng, impl="threefry2x32"))
    keep = jax.random.bernoulli(sub, 1.0 - p, w.shape)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    w = w * jnp.where(keep, jnp.asarray(scale, w.dtype), jnp.zeros((), w.dtype))
    return w, jax.random.key_data(key)


def _additive(mask, dt):
    """A boolean mask (True = attend) as an additive float mask (0 / -inf) of dtype ``dt``."""
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, jnp.zeros((), dt), jnp.full((), -jnp.inf, dt))
    return mask


def _causal(L: int, S: int, dt):
    """torch's causal mask: top-left aligned lower triangle of an ``(L, S)`` matrix, additive."""
    ok = np.tril(np.ones((L, S), dtype=bool))
    return jnp.where(jnp.asarray(ok), jnp.zeros((), dt), jnp.full((), -jnp.inf, dt))


# ----- scaled_dot_product_attention ----------------------------------------------------------
def _sdpa_checks(q, k, v, mask, enable_gqa):
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(
            f"scaled_dot_product_attention(): Expected query, key, and value to all be at least 2 "
            f"dimensional, but got query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.")
    if not (q.dtype == k.dtype == v.dtype):
        raise DTypeError(
            f"scaled_dot_product_attention(): Expected query, key, and value to have the same dtype, "
            f"but got query.dtype: {_cname(q.dtype)} key.dtype: {_cname(k.dtype)} and value.dtype: "
            f"{_cname(v.dtype)} instead.")
    if not jnp.issubdtype(q.dtype, jnp.floating):
        raise DTypeError(f"scaled_dot_product_attention(): expected floating point query, key and "
                         f"value, got {_cname(q.dtype)}")
    if mask is not None and mask.dtype != jnp.bool_ and mask.dtype != q.dtype:
        raise DTypeError(
            f"scaled_dot_product_attention(): Expected attn_mask dtype to be bool or float or to match "
            f"query dtype, but got attn_mask.dtype: {_cname(mask.dtype)} and  query.dtype: "
            f"{_cname(q.dtype)} instead.")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"scaled_dot_product_attention(): query and key must have the same embedding "
                         f"size (last dim), got query {list(q.shape)} and key {list(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention(): key and value must have the same sequence "
                         f"length (dim -2), got key {list(k.shape)} and value {list(v.shape)}")
    if enable_gqa:
        if min(q.ndim, k.ndim, v.ndim) < 3:
            raise ShapeError(f"scaled_dot_product_attention(): enable_gqa needs a head dimension (-3) "
                             f"in query, key and value, got shapes {list(q.shape)}, {list(k.shape)}, "
                             f"{list(v.shape)}")
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            raise ShapeError(
                f"scaled_dot_product_attention(): Number of heads in key and value must divide the "
                f"number of heads in query (enable_gqa), got query heads {hq}, key heads {hk}, value "
                f"heads {hv}")


def _broadcast(shape_a, shape_b, what):
    try:
        return jnp.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ShapeError(f"scaled_dot_product_attention(): {what} shapes {list(shape_a)} and "
                         f"{list(shape_b)} do not broadcast") from None


def _sdpa_kernel(q, k, v, mask, rng, dropout_p, is_causal, scale, enable_gqa, *, precision):
    """The fused kernel of :func:`scaled_dot_product_attention` (see there)."""
    _sdpa_checks(q, k, v, mask, enable_gqa)
    L, E = q.shape[-2:]
    S = k.shape[-2]
    dt = q.dtype
    sc = 1.0 / math.sqrt(E) if scale is None else float(scale)
    gqa = enable_gqa and q.shape[-3] != k.shape[-3]
    if gqa:  # query head h reads key/value head h // G (torch's repeat_interleave on dim -3)
        g = q.shape[-3] // k.shape[-3]
        q = q.reshape(*q.shape[:-3], k.shape[-3], g, L, E)
        k, v = k[..., None, :, :], v[..., None, :, :]
    s = jnp.matmul(q * jnp.asarray(sc, dt), jnp.swapaxes(k, -1, -2), precision=precision)
    if gqa:
        s_shape = (*s.shape[:-4], s.shape[-4] * s.shape[-3], L, S)
    else:
        s_shape = s.shape
    if mask is not None:
        if _broadcast(s_shape, mask.shape, "attn_mask and attention score") != tuple(s_shape):
            raise ShapeError(
                f"scaled_dot_product_attention(): attn_mask of shape {list(mask.shape)} doesn't "
                f"match the broadcast shape of the attention scores {list(s_shape)} (expected a shape "
                f"broadcastable to (..., L={L}, S={S}))")
        add = _additive(mask, dt)
        if gqa:
            add = jnp.broadcast_to(add, s_shape).reshape(s.shape)
        s = s + add
    if is_causal:
        s = s + _causal(L, S, dt)
    w = _softmax(s, safe=True)
    new_key = None
    if dropout_p > 0.0:
        w, new_key = _dropout(w, rng, dropout_p)
    out = jnp.matmul(w, v, precision=precision)
    if gqa:
        out = out.reshape(*out.shape[:-4], out.shape[-4] * out.shape[-3], L, out.shape[-1])
    return out if new_key is None else (out, new_key)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """Attention ``softmax(query @ key^T * scale + mask) @ value`` (``F.scaled_dot_product_attention``).

    Args:
        query: ``(..., L, E)``. key: ``(..., S, E)``. value: ``(..., S, Ev)``; leading (batch, head)
            dims broadcast.
        attn_mask: bool (True = take part in attention) or float (added to the scores), broadcastable
            to ``(..., L, S)``.
        dropout_p: dropout probability on the attention weights (draws from the default generator;
            applied whenever > 0, as in torch).
        is_causal: mask with a top-left aligned lower triangle; an error together with attn_mask.
        scale: scale of the scores (default ``1/sqrt(E)``).
        enable_gqa: grouped-query attention: key/value have ``Hk`` heads (dim -3) and query
            ``Hq = G * Hk``; query head ``h`` uses key/value head ``h // G``.

    Returns:
        ``(..., L, Ev)``. Rows with every score masked are zeros (torch 2.13's CPU behaviour).
    """
    call = REGISTRY["scaled_dot_product_attention"].call
    if is_causal and attn_mask is not None:
        raise ShapeError("scaled_dot_product_attention(): Explicit attn_mask should not be set when "
                         "is_causal=True")
    p = float(dropout_p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention(): dropout probability has to be between 0 and 1, "
                         f"but got {p}")
    if scale is not None:
        scale = float(scale)
    if p > 0.0:
        gen = _random.default_generator
        out, new_key = call(query, key, value, attn_mask, gen._key, p, bool(is_causal), scale,
                            bool(enable_gqa))
        gen._key = new_key._data
        return out
    return call(query, key, value, attn_mask, None, 0.0, bool(is_causal), scale, bool(enable_gqa))


def _sdpa_samples():
    f64 = "float64"
    return [
        Sample(A(3, 4), A(5, 4), A(5, 6)),
        Sample(A(2, 2, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 4)),
        Sample(A(1, 3, 4), A(2, 1, 5, 4), A(1, 5, 6)),  # broadcast batch dims
        Sample(A(2, 3, 4), A(2, 5, 4), A(2, 5, 3), attn_mask=B(3, 5)),
        Sample(A(2, 2, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 4), attn_mask=A(2, 1, 3, 5)),
        Sample(A(2, 4, 4, dtype=f64), A(2, 4, 4, dtype=f64), A(2, 4, 3, dtype=f64), is_causal=True),
        Sample(A(2, 3, 4), A(2, 5, 4), A(2, 5, 3), is_causal=True),  # L != S
        Sample(A(2, 3, 4, dtype=f64), A(2, 5, 4, dtype=f64), A(2, 5, 2, dtype=f64), scale=0.3,
               attn_mask=A(3, 5, dtype=f64)),
        Sample(A(2, 4, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 6), enable_gqa=True),
        Sample(A(3, 4), A(5, 4), A(5, 4), attn_mask=np.array([[True] * 5, [False] * 5, [True] * 5])),
        # errors: bad mask dtype, mismatched dtypes, bad mask shape, bad GQA head counts
        Sample(A(3, 4), A(5, 4), A(5, 4), attn_mask=A(3, 5, dtype=f64)),
        Sample(A(3, 4), A(5, 4), A(5, 4, dtype=f64)),
        Sample(A(2, 3, 4), A(2, 5, 4), A(2, 5, 4), attn_mask=A(3, 2, 3, 5)),
        Sample(A(2, 3, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 4), enable_gqa=True),
    ]


register("scaled_dot_product_attention", nin=5, function=False, method=False, functional=True,
         precision=True, torch_name="nn.functional.scaled_dot_product_attention",
         impl=scaled_dot_product_attention, samples=_sdpa_samples)(_sdpa_kernel)
