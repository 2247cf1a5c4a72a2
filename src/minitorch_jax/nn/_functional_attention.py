"""Attention compositions exposed in ``nn.functional``: ``multi_head_attention_forward``.

The whole computation is the single table op ``_mha`` (``_ops/nn_attention.py``); this module only
does torch's Python-level argument handling (which weights to use, training/dropout, the RNG key).
"""

from __future__ import annotations

from .. import _random
from .._ops import REGISTRY

__all__ = ["multi_head_attention_forward"]

_MHA = REGISTRY["_mha"]


def mha_call(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training,
    key_padding_mask,
    need_weights,
    attn_mask,
    use_separate_proj_weight,
    q_proj_weight,
    k_proj_weight,
    v_proj_weight,
    static_k,
    static_v,
    average_attn_weights,
    is_causal,
    batch_first,
):
    """:func:`multi_head_attention_forward` with a ``batch_first`` flag (used by the module): one
    dispatch of the fused ``_mha`` op. Returns ``(attn_output, attn_weights or None)``."""
    if use_separate_proj_weight:
        if q_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight is None")
        if k_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but k_proj_weight is None")
        if v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but v_proj_weight is None")
        in_proj_weight = None
    else:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q_proj_weight = k_proj_weight = v_proj_weight = None
    if key is value:
        same = 2 if query is key else 1
        value = None
        if same == 2:
            key = None
    else:
        same = 0
    p = float(dropout_p) if training else 0.0
    gen = _random.default_generator if p > 0.0 else None
    outs = _MHA.call(
        query,
        key,
        value,
        in_proj_weight,
        in_proj_bias,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
        bias_k,
        bias_v,
        out_proj_weight,
        out_proj_bias,
        key_padding_mask,
        attn_mask,
        None if gen is None else gen._key,
        static_k,
        static_v,
        embed_dim_to_check,
        num_heads,
        same,
        bool(add_zero_attn),
        p,
        bool(need_weights),
        bool(average_attn_weights),
        bool(is_causal),
        bool(batch_first),
    )
    if gen is not None:
        gen._key = outs[-1]._data
    return outs[0], (outs[1] if need_weights else None)


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention as ``nn.MultiheadAttention`` computes it (``F.multi_head_attention_forward``).

    Args:
        query: ``(L, N, E)`` or unbatched ``(L, E)``. key: ``(S, N, Ek)``. value: ``(S, N, Ev)``.
        embed_dim_to_check: expected ``E``. num_heads: number of heads (must divide ``E``).
        in_proj_weight: ``(3E, E)`` packed q/k/v projection (unless ``use_separate_proj_weight``, which
            uses ``q_proj_weight (E, E)``, ``k_proj_weight (E, Ek)``, ``v_proj_weight (E, Ev)``).
        in_proj_bias: ``(3E,)`` or None. bias_k, bias_v: ``(1, 1, E)`` appended to key/value, or None.
        add_zero_attn: append a zero key/value position. dropout_p: dropout on the attention weights
            (only when ``training``). out_proj_weight/out_proj_bias: the output projection.
        key_padding_mask: ``(N, S)`` (``(S,)`` unbatched); bool True = ignore, or float additive.
        need_weights: also return the attention weights. attn_mask: ``(L, S)`` or ``(N*num_heads, L, S)``;
            bool True = not allowed, or float additive. static_k/static_v: ``(N*num_heads, S, E/num_heads)``
            used instead of the projected key/value. average_attn_weights: average the weights over heads.
        is_causal: hint that attn_mask is the causal mask (needs attn_mask).

    Returns:
        ``(attn_output (L, N, E), attn_weights (N, L, S) or (N, num_heads, L, S), or None)``.
    """
    return mha_call(
        query,
        key,
        value,
        embed_dim_to_check,
        num_heads,
        in_proj_weight,
        in_proj_bias,
        bias_k,
        bias_v,
        add_zero_attn,
        dropout_p,
        out_proj_weight,
        out_proj_bias,
        training,
        key_padding_mask,
        need_weights,
        attn_mask,
        use_separate_proj_weight,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
        static_k,
        static_v,
        average_attn_weights,
        is_causal,
        False,
    )
