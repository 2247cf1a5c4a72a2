"""nn layers: ``MultiheadAttention``."""

from __future__ import annotations

from ... import _creation
from .. import init
from .._functional_attention import mha_call
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under torch's name for ``MultiheadAttention.out_proj`` (same repr and keys)."""


class MultiheadAttention(Module):
    """Multi-head attention (``nn.MultiheadAttention``):
    ``MultiHead(Q, K, V) = Concat(head_1..head_h) W_O`` with
    ``head_i = Attention(Q W_Q^i, K W_K^i, V W_V^i)``.

    Args:
        embed_dim: model dimension ``E`` (split across heads). num_heads: number of heads (must divide E).
        dropout: dropout on the attention weights (training only). bias: in/out projection biases.
        add_bias_kv: learn ``bias_k``/``bias_v`` ``(1, 1, E)`` appended to key/value.
        add_zero_attn: append a zero key/value position.
        kdim, vdim: key/value feature sizes (default E); when they differ from E the projections are
            ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` instead of ``in_proj_weight``.
        batch_first: inputs/outputs are ``(N, L, E)`` instead of ``(L, N, E)``.

    Shapes: query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (batch_first: N first;
    unbatched: no N). Output ``(L, N, E)`` and weights ``(N, L, S)`` (averaged) or ``(N, H, L, S)``.
    The whole forward is one fused dispatch (q/k/v projection as one matmul for self-attention).
    """

    __constants__ = ["batch_first"]

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(_creation.empty((embed_dim, embed_dim), **fk))
            self.k_proj_weight = Parameter(_creation.empty((embed_dim, self.kdim), **fk))
            self.v_proj_weight = Parameter(_creation.empty((embed_dim, self.vdim), **fk))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(_creation.empty((3 * embed_dim, embed_dim), **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_creation.empty(3 * embed_dim, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(_creation.empty((1, 1, embed_dim), **fk))
            self.bias_v = Parameter(_creation.empty((1, 1, embed_dim), **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's init: xavier_uniform_ on the projections, zero biases, xavier_normal_ bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            key_padding_mask: ``(N, S)`` (``(S,)`` unbatched); bool True = ignore that key, or float
                additive. attn_mask: ``(L, S)`` or ``(N*num_heads, L, S)``; bool True = not allowed, or
                float additive. need_weights: also return attention weights (averaged over heads when
                ``average_attn_weights``). is_causal: hint that attn_mask is causal.

        Returns:
            ``(attn_output, attn_weights or None)``.
        """
        sep = not self._qkv_same_embed_dim
        return mha_call(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            self.training,
            key_padding_mask,
            need_weights,
            attn_mask,
            sep,
            self.q_proj_weight,
            self.k_proj_weight,
            self.v_proj_weight,
            None,
            None,
            average_attn_weights,
            is_causal,
            self.batch_first,
        )
