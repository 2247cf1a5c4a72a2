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
from .._random import bernoulli_mask
from ._helpers import A, B, Sample
from ._registry import REGISTRY, register
from .linalg import prec

__all__ = ["scaled_dot_product_attention"]

# torch's C++ names of scalar types, as its attention error messages print them
_CNAME = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}


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
    keep = bernoulli_mask(sub, 1.0 - p, w.shape)
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
            f"dimensional, but got query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead."
        )
    if not (q.dtype == k.dtype == v.dtype):
        raise DTypeError(
            f"scaled_dot_product_attention(): Expected query, key, and value to have the same dtype, "
            f"but got query.dtype: {_cname(q.dtype)} key.dtype: {_cname(k.dtype)} and value.dtype: "
            f"{_cname(v.dtype)} instead."
        )
    if not jnp.issubdtype(q.dtype, jnp.floating):
        raise DTypeError(
            f"scaled_dot_product_attention(): expected floating point query, key and "
            f"value, got {_cname(q.dtype)}"
        )
    if mask is not None and mask.dtype != jnp.bool_ and mask.dtype != q.dtype:
        raise DTypeError(
            f"scaled_dot_product_attention(): Expected attn_mask dtype to be bool or float or to match "
            f"query dtype, but got attn_mask.dtype: {_cname(mask.dtype)} and  query.dtype: "
            f"{_cname(q.dtype)} instead."
        )
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(
            f"scaled_dot_product_attention(): query and key must have the same embedding "
            f"size (last dim), got query {list(q.shape)} and key {list(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention(): key and value must have the same sequence "
            f"length (dim -2), got key {list(k.shape)} and value {list(v.shape)}"
        )
    if enable_gqa:
        if min(q.ndim, k.ndim, v.ndim) < 3:
            raise ShapeError(
                f"scaled_dot_product_attention(): enable_gqa needs a head dimension (-3) "
                f"in query, key and value, got shapes {list(q.shape)}, {list(k.shape)}, "
                f"{list(v.shape)}"
            )
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            raise ShapeError(
                f"scaled_dot_product_attention(): Number of heads in key and value must divide the "
                f"number of heads in query (enable_gqa), got query heads {hq}, key heads {hk}, value "
                f"heads {hv}"
            )


def _sdpa_kernel(q, k, v, mask, rng, dropout_p, is_causal, scale, enable_gqa, *, precision):
    """The fused kernel of :func:`scaled_dot_product_attention` (see there)."""
    _sdpa_checks(q, k, v, mask, enable_gqa)
    precision = prec(q, precision)
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
        try:
            fits = jnp.broadcast_shapes(tuple(s_shape), mask.shape) == tuple(s_shape)
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(
                f"scaled_dot_product_attention(): attn_mask of shape {list(mask.shape)} doesn't "
                f"match the broadcast shape of the attention scores {list(s_shape)} (expected a shape "
                f"broadcastable to (..., L={L}, S={S}))"
            )
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


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
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
        raise ShapeError(
            "scaled_dot_product_attention(): Explicit attn_mask should not be set when is_causal=True"
        )
    p = float(dropout_p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(
            f"scaled_dot_product_attention(): dropout probability has to be between 0 and 1, but got {p}"
        )
    if scale is not None:
        scale = float(scale)
    if p > 0.0:
        gen = _random.default_generator
        out, new_key = call(
            query, key, value, attn_mask, gen._key, p, bool(is_causal), scale, bool(enable_gqa)
        )
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
        Sample(
            A(2, 3, 4, dtype=f64),
            A(2, 5, 4, dtype=f64),
            A(2, 5, 2, dtype=f64),
            scale=0.3,
            attn_mask=A(3, 5, dtype=f64),
        ),
        Sample(A(2, 4, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 6), enable_gqa=True),
        Sample(A(3, 4), A(5, 4), A(5, 4), attn_mask=np.array([[True] * 5, [False] * 5, [True] * 5])),
        # errors: bad mask dtype, mismatched dtypes, bad mask shape, bad GQA head counts
        Sample(A(3, 4), A(5, 4), A(5, 4), attn_mask=A(3, 5, dtype=f64)),
        Sample(A(3, 4), A(5, 4), A(5, 4, dtype=f64)),
        Sample(A(2, 3, 4), A(2, 5, 4), A(2, 5, 4), attn_mask=A(3, 2, 3, 5)),
        Sample(A(2, 3, 3, 4), A(2, 2, 5, 4), A(2, 2, 5, 4), enable_gqa=True),
    ]


register(
    "scaled_dot_product_attention",
    nin=5,
    function=False,
    method=False,
    functional=True,
    precision=True,
    torch_name="nn.functional.scaled_dot_product_attention",
    impl=scaled_dot_product_attention,
    samples=_sdpa_samples,
)(_sdpa_kernel)


# ----- multi-head attention: the whole of F.multi_head_attention_forward as one op -------------
def _shape(s) -> str:
    return f"torch.Size({list(s)})"


def _mha_shape_check(q, k, v, kpm, mask, num_heads):
    """torch's ``_mha_shape_check``: returns whether the input is batched (AssertionErrors)."""
    if q.ndim == 3:
        if k.ndim != 3 or v.ndim != 3:
            raise AssertionError(
                f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{k.ndim}-D and {v.ndim}-D tensors respectively"
            )
        if kpm is not None and kpm.ndim != 2:
            raise AssertionError(
                f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {kpm.ndim}-D tensor instead"
            )
        if mask is not None and mask.ndim not in (2, 3):
            raise AssertionError(
                f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                f"but found {mask.ndim}-D tensor instead"
            )
        return True
    if q.ndim == 2:
        if k.ndim != 2 or v.ndim != 2:
            raise AssertionError(
                f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{k.ndim}-D and {v.ndim}-D tensors respectively"
            )
        if kpm is not None and kpm.ndim != 1:
            raise AssertionError(
                f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or "
                f"1-D but found {kpm.ndim}-D tensor instead"
            )
        if mask is not None:
            if mask.ndim not in (2, 3):
                raise AssertionError(
                    f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {mask.ndim}-D tensor instead"
                )
            want = (num_heads, q.shape[0], k.shape[0])
            if mask.ndim == 3 and mask.shape != want:
                raise AssertionError(
                    f"Expected `attn_mask` shape to be {want} but got {_shape(mask.shape)}"
                )
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {q.ndim}-D query tensor"
    )


def _canonical(mask, name, dt):
    """torch's ``_canonical_mask``: bool (True = masked out) -> additive float; other dtypes refused."""
    if mask is None:
        return None
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, jnp.full((), -jnp.inf, dt), jnp.zeros((), dt))
    if not jnp.issubdtype(mask.dtype, jnp.floating):
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if mask.dtype != dt:
        raise DTypeError(
            f"multi_head_attention_forward(): {name} of dtype {_cname(mask.dtype)} does not "
            f"match the query dtype {_cname(dt)}"
        )
    return mask


def _proj(x, w, b, precision):
    y = jnp.matmul(x, w.T, precision=precision)
    return y if b is None else y + b


def _mha_kernel(
    query,
    key,
    value,
    in_w,
    in_b,
    q_w,
    k_w,
    v_w,
    bias_k,
    bias_v,
    out_w,
    out_b,
    kpm,
    mask,
    rng,
    static_k,
    static_v,
    embed_dim_to_check,
    num_heads,
    same,
    add_zero_attn,
    dropout_p,
    need_weights,
    average_attn_weights,
    is_causal,
    batch_first,
    *,
    precision,
):
    """The fused kernel behind ``F.multi_head_attention_forward`` and ``nn.MultiheadAttention``.

    ``same``: 2 when query, key and value are one tensor (key/value are then None and the
    in-projection is one matmul), 1 when key is value (value None), else 0. ``batch_first``
    applies to batched inputs (as the module's transposes). Returns ``out``, then the attention
    weights when ``need_weights``, then the advanced RNG key when ``dropout_p > 0``.
    """
    if same == 2:
        key = value = query
    elif same == 1:
        value = key
    batched = _mha_shape_check(query, key, value, kpm, mask, num_heads)
    dt = query.dtype
    for name, t in (
        ("key", key),
        ("value", value),
        ("in_proj_weight", in_w),
        ("in_proj_bias", in_b),
        ("q_proj_weight", q_w),
        ("k_proj_weight", k_w),
        ("v_proj_weight", v_w),
        ("bias_k", bias_k),
        ("bias_v", bias_v),
        ("out_proj_weight", out_w),
        ("out_proj_bias", out_b),
        ("static_k", static_k),
        ("static_v", static_v),
    ):
        if t is not None and t.dtype != dt:
            raise DTypeError(
                f"multi_head_attention_forward(): expected {name} to have the query's dtype "
                f"{_cname(dt)}, got {_cname(t.dtype)}"
            )
    precision = prec(query, precision)
    kpm = _canonical(kpm, "key_padding_mask", dt)
    if is_causal and mask is None:
        raise ShapeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    use_causal = is_causal and kpm is None and not need_weights
    mask = None if use_causal else _canonical(mask, "attn_mask", dt)
    # to batch-first layout (B, L, E)
    if not batched:
        query, key, value = query[None], key[None], value[None]
        kpm = None if kpm is None else kpm[None]
    elif not batch_first:
        query, key, value = (jnp.swapaxes(t, 0, 1) for t in (query, key, value))
    bsz, L, E = query.shape
    S0 = key.shape[1]
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    H = num_heads
    d = E // H
    if d * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    if in_w is None:  # separate projection weights
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {_shape(key.shape[:2])} do not match value's "
                f"{_shape(value.shape[:2])}"
            )
        for name, w, want in (
            ("query", q_w, (E, E)),
            ("key", k_w, (E, key.shape[-1])),
            ("value", v_w, (E, value.shape[-1])),
        ):
            if w.shape != want:
                raise AssertionError(f"expecting {name} weights shape of {want}, but got {_shape(w.shape)}")
        bq = bk = bv = None
        if in_b is not None:
            if in_b.shape != (3 * E,):
                raise AssertionError(
                    f"expecting in_proj_bias shape of {(3 * E,)}, but got {_shape(in_b.shape)}"
                )
            bq, bk, bv = in_b[:E], in_b[E : 2 * E], in_b[2 * E :]
        q = _proj(query, q_w, bq, precision)
        k = _proj(key, k_w, bk, precision)
        v = _proj(value, v_w, bv, precision)
    else:
        if key.shape != value.shape:
            raise AssertionError(
                f"key shape {_shape(key.shape)} does not match value shape {_shape(value.shape)}"
            )
        if in_w.shape != (3 * E, E) or (in_b is not None and in_b.shape != (3 * E,)):
            raise ShapeError(
                f"multi_head_attention_forward(): expected in_proj_weight of shape [{3 * E}, {E}] "
                f"and in_proj_bias of shape [{3 * E}], got {list(in_w.shape)} and "
                f"{None if in_b is None else list(in_b.shape)}"
            )
        if same == 2:  # self-attention: one matmul for q, k and v
            qkv = _proj(query, in_w, in_b, precision)
            q, k, v = qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
        elif same == 1:
            q = _proj(query, in_w[:E], None if in_b is None else in_b[:E], precision)
            kv = _proj(key, in_w[E:], None if in_b is None else in_b[E:], precision)
            k, v = kv[..., :E], kv[..., E:]
        else:
            bq = bk = bv = None
            if in_b is not None:
                bq, bk, bv = in_b[:E], in_b[E : 2 * E], in_b[2 * E :]
            q = _proj(query, in_w[:E], bq, precision)
            k = _proj(key, in_w[E : 2 * E], bk, precision)
            v = _proj(value, in_w[2 * E :], bv, precision)
    # attention mask -> (1 | B, 1 | H, L, S0)
    if mask is not None:
        if mask.ndim == 2:
            if mask.shape != (L, S0):
                raise ShapeError(
                    f"The shape of the 2D attn_mask is {_shape(mask.shape)}, but should be {(L, S0)}."
                )
            mask = mask[None, None]
        else:
            if mask.shape != (bsz * H, L, S0):
                raise ShapeError(
                    f"The shape of the 3D attn_mask is {_shape(mask.shape)}, but should be "
                    f"{(bsz * H, L, S0)}."
                )
            mask = mask.reshape(bsz, H, L, S0)
    npad = 0
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = jnp.concatenate([k, jnp.broadcast_to(bias_k.reshape(1, 1, E), (bsz, 1, E))], axis=1)
        v = jnp.concatenate([v, jnp.broadcast_to(bias_v.reshape(1, 1, E), (bsz, 1, E))], axis=1)
        npad += 1
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(bsz, L, H, d).transpose(0, 2, 1, 3)
    k = k.reshape(bsz, k.shape[1], H, d).transpose(0, 2, 1, 3)
    v = v.reshape(bsz, v.shape[1], H, d).transpose(0, 2, 1, 3)
    for name, st in (("static_k", static_k), ("static_v", static_v)):
        if st is None:
            continue
        if st.ndim != 3 or st.shape[0] != bsz * H:
            raise AssertionError(
                f"expecting {name}.size(0) of {bsz * H}, but got {st.shape[0] if st.ndim else st.shape}"
            )
        if st.shape[2] != d:
            raise AssertionError(f"expecting {name}.size(2) of {d}, but got {st.shape[2]}")
        if name == "static_k":
            k = st.reshape(bsz, H, st.shape[1], d)
        else:
            v = st.reshape(bsz, H, st.shape[1], d)
    if add_zero_attn:
        z = jnp.zeros((bsz, H, 1, d), dt)
        k = jnp.concatenate([k, z], axis=2)
        v = jnp.concatenate([v, z], axis=2)
        npad += 1
    S = k.shape[2]
    pad = ((0, 0),) * 3 + ((0, npad),)
    if mask is not None and npad:
        mask = jnp.pad(mask, pad)
    if kpm is not None:
        if kpm.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {kpm.shape[0]}")
        if kpm.shape[1] + npad != S:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {S}, but got {kpm.shape[1] + npad}"
            )
        kpm = kpm[:, None, None, :]
        if npad:
            kpm = jnp.pad(kpm, pad)
        mask = kpm if mask is None else mask + kpm
    s = jnp.einsum("bhld,bhsd->bhls", q * jnp.asarray(math.sqrt(1.0 / d), dt), k, precision=precision)
    if mask is not None:
        s = s + mask
    if use_causal:
        s = s + _causal(L, S, dt)
    w = _softmax(s, safe=not need_weights)
    new_key = None
    if dropout_p > 0.0:
        w, new_key = _dropout(w, rng, dropout_p)
    o = jnp.einsum("bhls,bhsd->blhd", w, v, precision=precision).reshape(bsz, L, E)
    out = _proj(o, out_w, out_b, precision)
    if not batched:
        out = out[0]
    elif not batch_first:
        out = jnp.swapaxes(out, 0, 1)
    res = [out]
    if need_weights:
        if average_attn_weights:
            w = jnp.mean(w, axis=1)
        res.append(w[0] if not batched else w)
    if new_key is not None:
        res.append(new_key)
    return tuple(res)


register(
    "_mha", nin=17, function=False, method=False, precision=True, grad_name="MultiHeadAttentionBackward0"
)(_mha_kernel)


# ----- a whole Transformer encoder/decoder layer as one op --------------------------------------
def _layer_kernel(
    x,
    mem,
    sa_w,
    sa_b,
    sa_ow,
    sa_ob,
    ca_w,
    ca_b,
    ca_ow,
    ca_ob,
    l1_w,
    l1_b,
    l2_w,
    l2_b,
    n1_w,
    n1_b,
    n2_w,
    n2_b,
    n3_w,
    n3_b,
    sa_mask,
    sa_kpm,
    ca_mask,
    ca_kpm,
    rng,
    num_heads,
    act,
    norm_first,
    eps,
    p,
    batch_first,
    causal,
    *,
    precision,
):
    """``TransformerEncoderLayer`` (``mem`` None) or ``TransformerDecoderLayer`` forward in one kernel.

    ``n*_w``/``n*_b``: the LayerNorms' parameters (may be None); masks: attn_mask and key_padding_mask
    of the self- and the cross-attention; ``act``: 1 relu, 2 gelu; ``eps``:
    the LayerNorms' eps; ``p``: dropout rates ``(self_attn, cross_attn, ff, drop1, drop2[, drop3])``
    (0 in eval mode); ``causal``: the is_causal hints of the two attentions. Returns the output, then
    the advanced RNG key when any rate is > 0.
    """
    ln = REGISTRY["layer_norm"].fn
    gelu = REGISTRY["gelu"].fn
    E = x.shape[-1]
    key = [rng]
    norms = (n1_w, n1_b, n2_w, n2_b, n3_w, n3_b)
    masks = (sa_mask, sa_kpm, ca_mask, ca_kpm)

    def drop(t, rate):
        if rate <= 0.0:
            return t
        t, key[0] = _dropout(t, key[0], rate)
        return t

    def attend(q, kv, w, b, ow, ob, mask, kpm, rate, is_causal):
        res = _mha_kernel(
            q,
            None if kv is None else kv,
            None,
            w,
            b,
            None,
            None,
            None,
            None,
            None,
            ow,
            ob,
            kpm,
            mask,
            key[0],
            None,
            None,
            E,
            num_heads,
            2 if kv is None else 1,
            False,
            rate,
            False,
            True,
            is_causal,
            batch_first,
            precision=precision,
        )
        if rate > 0.0:
            key[0] = res[-1]
        return res[0]

    def norm(t, i):
        return ln(t, norms[2 * i], norms[2 * i + 1], (E,), eps[i])

    def ff(t):
        h = _proj(t, l1_w, l1_b, prec(t, precision))
        h = jax.nn.relu(h) if act == 1 else gelu(h)
        return drop(_proj(drop(h, p[2]), l2_w, l2_b, prec(t, precision)), p[-1])

    def sa(t):
        return drop(attend(t, None, sa_w, sa_b, sa_ow, sa_ob, masks[0], masks[1], p[0], causal[0]), p[3])

    def ca(t):
        return drop(attend(t, mem, ca_w, ca_b, ca_ow, ca_ob, masks[2], masks[3], p[1], causal[1]), p[4])

    blocks = [sa] if mem is None else [sa, ca]
    blocks.append(ff)
    for i, block in enumerate(blocks):
        x = x + block(norm(x, i)) if norm_first else norm(x + block(x), i)
    return x if max(p) <= 0.0 else (x, key[0])


register(
    "_transformer_layer",
    nin=25,
    function=False,
    method=False,
    precision=True,
    grad_name="TransformerLayerBackward0",
)(_layer_kernel)
