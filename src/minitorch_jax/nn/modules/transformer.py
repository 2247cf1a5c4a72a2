"""nn layers: ``Transformer``, ``TransformerEncoder``/``Decoder`` and their layers (torch's structure,
submodule names and state_dict keys).

Differences from torch: there is no nested-tensor / fused "fast path" (results are the same up to
rounding); ``is_causal=None`` is not detected from the mask's values (torch compares the mask with
the causal mask to use a faster kernel; here the mask itself is applied, which gives the same result
without a device synchronisation).
"""

from __future__ import annotations

import copy

from ... import _creation, _random
from ..._ops import REGISTRY
from .. import functional as F
from .. import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = [
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    return _creation.full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(diagonal=1)


def _get_activation_fn(activation: str):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _is_module_named(obj, name: str) -> bool:
    return isinstance(obj, Module) and type(obj).__name__ == name


def _hooked(m) -> bool:
    return bool(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks)


def _act_code(a) -> int:
    """1 for relu, 2 for (exact) gelu, 0 for anything else (which disables the fused kernel)."""
    if a is F.relu:
        return 1
    if a is F.gelu:
        return 2
    if isinstance(a, Module) and not _hooked(a):
        name = type(a).__name__
        if name == "ReLU":
            return 1
        if name == "GELU" and getattr(a, "approximate", "none") == "none":
            return 2
    return 0


_LAYER = REGISTRY["_transformer_layer"]


def _fused(layer, x, mem, masks, causal, decoder):
    """Run a standard encoder/decoder layer as ONE fused op (``_transformer_layer``); returns None when
    the layer was customised (other activation or submodule classes, hooks, bias_k, add_zero_attn ...),
    and the submodules then run one by one."""
    act = _act_code(layer.activation)
    if not act:
        return None
    m = layer._modules
    attns = (m["self_attn"], m["multihead_attn"]) if decoder else (m["self_attn"],)
    a0 = attns[0]
    for a in attns:
        if (
            type(a) is not MultiheadAttention
            or _hooked(a)
            or not a._qkv_same_embed_dim
            or a.bias_k is not None
            or a.add_zero_attn
            or a.batch_first != a0.batch_first
            or a.num_heads != a0.num_heads
            or a.embed_dim != a0.embed_dim
        ):
            return None
    norms = (m["norm1"], m["norm2"], m["norm3"]) if decoder else (m["norm1"], m["norm2"])
    for n in norms:
        if type(n) is not LayerNorm or _hooked(n) or n.normalized_shape != (a0.embed_dim,):
            return None
    l1, l2 = m["linear1"], m["linear2"]
    if type(l1) is not Linear or type(l2) is not Linear or _hooked(l1) or _hooked(l2):
        return None
    drops = (m["dropout1"], m["dropout2"], m["dropout3"]) if decoder else (m["dropout1"], m["dropout2"])
    for d in (m["dropout"], *drops):
        if type(d) is not Dropout or _hooked(d):
            return None
    pa = tuple(float(a.dropout) if a.training else 0.0 for a in attns)
    p = (
        pa[0],
        pa[1] if decoder else 0.0,
        *(float(d.p) if d.training else 0.0 for d in (m["dropout"], *drops)),
    )
    gen = _random.default_generator if max(p) > 0.0 else None
    ca = attns[-1] if decoder else None
    n3 = norms[2] if decoder else None
    out = _LAYER.call(
        x,
        mem,
        a0.in_proj_weight,
        a0.in_proj_bias,
        a0.out_proj.weight,
        a0.out_proj.bias,
        None if ca is None else ca.in_proj_weight,
        None if ca is None else ca.in_proj_bias,
        None if ca is None else ca.out_proj.weight,
        None if ca is None else ca.out_proj.bias,
        l1.weight,
        l1.bias,
        l2.weight,
        l2.bias,
        norms[0].weight,
        norms[0].bias,
        norms[1].weight,
        norms[1].bias,
        None if n3 is None else n3.weight,
        None if n3 is None else n3.bias,
        *masks,
        None if gen is None else gen._key,
        a0.num_heads,
        act,
        bool(layer.norm_first),
        tuple(float(n.eps) for n in norms),
        p,
        bool(a0.batch_first),
        causal,
    )
    if gen is None:
        return out
    gen._key = out[1]._data
    return out[0]


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (``nn.TransformerEncoderLayer``).

    Args:
        d_model: features of the input. nhead: attention heads. dim_feedforward: hidden size of the
            feed-forward block (default 2048). dropout: dropout rate (default 0.1).
        activation: "relu", "gelu" or a callable (default relu). layer_norm_eps: LayerNorm eps.
        batch_first: inputs are ``(N, S, E)`` instead of ``(S, N, E)``.
        norm_first: LayerNorm before each block (pre-norm) instead of after.
        bias: biases in the Linear and LayerNorm layers.

    Shape: src ``(S, N, E)`` (batch_first: ``(N, S, E)``; unbatched ``(S, E)``), output the same.
    """

    __constants__ = ["norm_first"]

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation=F.relu,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **fk
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or _is_module_named(activation, "ReLU"):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or _is_module_named(activation, "GELU"):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Args: src; src_mask ``(S, S)`` or ``(N*nhead, S, S)``; src_key_padding_mask ``(N, S)``
        (bool True = ignore, or float additive); is_causal: hint that src_mask is causal."""
        y = _fused(
            self, src, None, (src_mask, src_key_padding_mask, None, None), (bool(is_causal), False), False
        )
        if y is not None:
            return y
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (memory) and a feed-forward block, each
    with a residual connection and LayerNorm (``nn.TransformerDecoderLayer``).

    Args: as :class:`TransformerEncoderLayer`.

    Shape: tgt ``(T, N, E)``, memory ``(S, N, E)`` (batch_first: N first); output like tgt.
    """

    __constants__ = ["norm_first"]

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation=F.relu,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **fk
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **fk
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation) if isinstance(activation, str) else activation

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        """Args: tgt, memory; tgt_mask ``(T, T)``; memory_mask ``(T, S)``; key padding masks
        ``(N, T)`` / ``(N, S)``; ``*_is_causal``: hints that the masks are causal."""
        y = _fused(
            self,
            tgt,
            memory,
            (tgt_mask, tgt_key_padding_mask, memory_mask, memory_key_padding_mask),
            (bool(tgt_is_causal), bool(memory_is_causal)),
            True,
        )
        if y is not None:
            return y
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (``layers.0`` ...), then ``norm``.

    Args:
        encoder_layer: the layer to clone. num_layers: how many. norm: optional final norm module.
        enable_nested_tensor, mask_check: accepted for compatibility (no nested tensors here).
    """

    __constants__ = ["norm"]

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Args: src; mask ``(S, S)``; src_key_padding_mask ``(N, S)``; is_causal: hint that mask is
        causal (None: treated as False; the mask is applied as given)."""
        output = src
        is_causal = is_causal is True
        for mod in self.layers:
            output = mod(
                output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then the optional ``norm``."""

    __constants__ = ["norm"]

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        """Args as :meth:`TransformerDecoderLayer.forward` (``tgt_is_causal=None`` is taken as False)."""
        output = tgt
        tgt_is_causal = tgt_is_causal is True
        for mod in self.layers:
            output = mod(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (``nn.Transformer``).

    Args:
        d_model (512), nhead (8), num_encoder_layers (6), num_decoder_layers (6), dim_feedforward (2048),
        dropout (0.1), activation, layer_norm_eps, batch_first, norm_first, bias: as the layers.
        custom_encoder, custom_decoder: modules used instead of the default stacks.

    Shape: src ``(S, N, E)``, tgt ``(T, N, E)`` (batch_first: N first); output ``(T, N, E)``.
    All parameters with more than one dim are re-initialised with xavier_uniform_, as torch.
    """

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation=F.relu,
        custom_encoder=None,
        custom_decoder=None,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        fk = {"device": device, "dtype": dtype}
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **fk,
            )
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(
                d_model,
                nhead,
                dim_feedforward,
                dropout,
                activation,
                layer_norm_eps,
                batch_first,
                norm_first,
                bias,
                **fk,
            )
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        """Encode ``src`` and decode ``tgt`` against it; masks as the encoder/decoder layers."""
        is_batched = src.dim() == 3
        if is_batched and src.size(0 if self.batch_first else 1) != tgt.size(0 if self.batch_first else 1):
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """An ``(sz, sz)`` float mask: ``-inf`` above the diagonal, 0 elsewhere (a causal mask)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
