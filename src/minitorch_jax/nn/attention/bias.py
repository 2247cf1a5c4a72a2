"""``mt.nn.attention.bias``: causal attention biases for ``F.scaled_dot_product_attention(attn_mask=...)``.

torch's ``CausalBias`` is a tensor subclass that routes SDPA to its causal kernels without building
the mask. Here it is a boolean Tensor holding the materialised ``(seq_len_q, seq_len_kv)`` mask
(True = attend), so it works as ``attn_mask`` anywhere a bool mask does; XLA fuses the mask either way.
Rows with nothing to attend (lower-right alignment with ``seq_len_q > seq_len_kv``) give zeros, as
torch's SDPA does.
"""

from __future__ import annotations

from enum import IntEnum

import jax.numpy as jnp
import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """Alignment of a causal mask when query and key lengths differ.

    ``UPPER_LEFT``: query ``i`` attends keys ``j <= i`` (``torch.tril`` of the rectangle).
    ``LOWER_RIGHT``: the diagonal ends in the bottom-right corner (``j <= i + S - L``).
    """

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


def _mask(variant: CausalVariant, L: int, S: int) -> np.ndarray:
    diag = 0 if variant == CausalVariant.UPPER_LEFT else S - L
    return np.tril(np.ones((L, S), dtype=bool), k=diag)


class CausalBias(Tensor):
    """A causal attention mask of shape ``(seq_len_q, seq_len_kv)`` (bool, True = attend).

    Args:
        variant: :class:`CausalVariant`.
        seq_len_q: query length ``L``.
        seq_len_kv: key/value length ``S``.
    """

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise TypeError(f"CausalBias(): variant must be a CausalVariant, got {variant!r}")
        L, S = int(seq_len_q), int(seq_len_kv)
        ref = _wrap(jnp.asarray(_mask(variant, L, S)))
        for slot in ("_data", "requires_grad", "grad_fn", "_grad", "_version", "_output_nr",
                     "_retains_grad", "_hooks", "_acc"):
            object.__setattr__(self, slot, getattr(ref, slot))
        self.variant, self.seq_len_q, self.seq_len_kv = variant, L, S

    def _upper_left(self, device=None) -> Tensor:
        """The upper-left aligned mask as a plain bool Tensor."""
        return _wrap(jnp.asarray(_mask(CausalVariant.UPPER_LEFT, self.seq_len_q, self.seq_len_kv)))

    def _lower_right(self, device=None) -> Tensor:
        """The lower-right aligned mask as a plain bool Tensor."""
        return _wrap(jnp.asarray(_mask(CausalVariant.LOWER_RIGHT, self.seq_len_q, self.seq_len_kv)))

    def _materialize(self, device=None) -> Tensor:
        """This bias as a plain bool Tensor ``(seq_len_q, seq_len_kv)``."""
        return _wrap(self._data)

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size) -> CausalBias:
    """Upper-left causal bias for a ``(seq_len_q, seq_len_kv)`` attention (query ``i`` sees keys ``<= i``)."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, size[0], size[1])


def causal_lower_right(*size) -> CausalBias:
    """Lower-right causal bias for a ``(seq_len_q, seq_len_kv)`` attention (diagonal ends bottom-right)."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, size[0], size[1])
