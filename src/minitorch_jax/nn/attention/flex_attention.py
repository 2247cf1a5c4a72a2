"""``mt.nn.attention.flex_attention``: attention with user score and mask functions (torch 2.13 API).

``flex_attention(q, k, v, score_mod, block_mask)`` computes
``softmax(score_mod(q @ k^T * scale, b, h, q_idx, kv_idx) masked by block_mask) @ v``.

How it runs here: the score matrix ``(B, H, Q_LEN, KV_LEN)`` is built densely with mt ops, the
``score_mod`` is called ONCE on it with broadcasting index Tensors (``b (B,1,1,1)``, ``h (1,H,1,1)``,
``q_idx (1,1,Q,1)``, ``kv_idx (1,1,1,KV)``), the mask is applied, and a single fused JAX kernel does the
masked softmax, the product with ``v`` and the log-sum-exp. Because the score_mod runs on mt Tensors,
tensors it closes over (an ALiBi slope table, a learned relative-position bias) get gradients
through ordinary autograd, and the whole call traces under ``mt.jit``. Differences from torch:

* memory and time are those of dense attention: the block sparsity of a ``BlockMask`` decides which
  entries take part but is not used to skip blocks (XLA has no block-sparse attention kernel here);
* score_mods / mask_mods must be written with tensor ops (as torch's docs write them); they see
  broadcasting index tensors, not the 0-d tensors of torch's vmap;
* gradients work on every device (torch 2.13 refuses backward on CPU); ``AuxRequest(max_scores=True)``
  also works on CPU;
* ``kernel_options`` are accepted and ignored (XLA chooses its own kernel).

Scores are computed in float32 for float16/bfloat16 inputs (as torch's kernels do); the output has
the query's dtype and the log-sum-exp (natural log, of the scaled and modified scores) is float32.
Queries whose every key is masked give an output of 0 and a log-sum-exp of ``-inf``, as torch.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple, TypedDict

import jax
import jax.numpy as jnp
from jax import lax

from ... import _precision
from ..._jax_op import apply_jax
from ..._tensor import Tensor
from ._block_mask import (
    BlockMask,
    _index_grids,
    _num_positional,
    and_masks,
    create_block_mask,
    create_mask,
    noop_mask,
    or_masks,
)

__all__ = [
    "BlockMask",
    "flex_attention",
    "AuxOutput",
    "AuxRequest",
    "FlexKernelOptions",
    "create_block_mask",
    "create_mask",
    "or_masks",
    "and_masks",
    "noop_mask",
]


class AuxRequest(NamedTuple):
    """Which auxiliary outputs :func:`flex_attention` should return (each a bool)."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """Auxiliary outputs of :func:`flex_attention`: None where not requested.

    ``lse``: ``(B, H, Q_LEN)`` log-sum-exp of each query's scores; ``max_scores``: ``(B, H, Q_LEN)``
    the largest score of each query (``-inf`` for a fully masked query).
    """

    lse: Tensor | None = None
    max_scores: Tensor | None = None


class FlexKernelOptions(TypedDict, total=False):
    """Kernel tuning options of torch's Triton/CPU kernels (accepted and ignored here)."""

    num_warps: int
    num_stages: int
    BLOCK_M: int
    BLOCK_N: int
    BLOCK_M1: int
    BLOCK_N1: int
    BLOCK_M2: int
    BLOCK_N2: int
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool
    USE_TMA: bool
    kpack: int
    matrix_instr_nonkdim: int
    waves_per_eu: int
    BACKEND: str


def _check_inputs(query, key, value, block_mask, enable_gqa):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"flex_attention(): {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    if not query.dtype.is_floating_point:
        raise ValueError(f"flex_attention(): expected floating point query, key and value, got {query.dtype}")
    Bq, Hq, L, E = query.shape
    Bkv, Hkv, S, Ek = key.shape
    if Ek != E:
        raise ValueError(
            f"Expect query and key/value to have the same embedding dimension but got E={E} and E={Ek}."
        )
    if value.shape[0] != Bkv or value.shape[1] != Hkv or value.shape[2] != S:
        raise ValueError(
            f"Expect key and value to have the same batch size, number of heads and sequence length "
            f"but got key shape {tuple(key.shape)} and value shape {tuple(value.shape)}."
        )
    if Bq != Bkv and (block_mask is None or Bkv != 1):
        raise ValueError(
            f"Expect query and key/value to have the same batch size, or non-none block_mask, but got "
            f"block_mask={'None' if block_mask is None else 'BlockMask'}, Bq={Bq}, and Bkv={Bkv}."
        )
    if Bkv != Bq and Bkv != 1:
        raise ValueError(f"Expect key/value batch size {Bkv} to be 1 or equal to the query batch size {Bq}.")
    if enable_gqa:
        if Hq % Hkv:
            raise ValueError(
                f"Expect number of query heads to be a multiple of kv heads for GQA but got Hq={Hq} "
                f"and Hkv={Hkv}."
            )
    elif Hq != Hkv:
        raise ValueError(
            f"Expect query and key/value to have the same number of heads but got Hq={Hq} and "
            f"Hkv={Hkv}. Try setting enable_gqa=True for GQA."
        )
    if block_mask is not None:
        if not isinstance(block_mask, BlockMask):
            raise TypeError(
                f"flex_attention(): block_mask must be a BlockMask (from create_block_mask), got "
                f"{type(block_mask).__name__}"
            )
        bm_q, bm_kv = block_mask.seq_lengths
        if (bm_q, bm_kv) != (L, S):
            msg = (f"block_mask was created for block_mask.shape={block_mask.shape} but got q_len={L} "
                   f"and kv_len={S}.")
            if bm_q >= L and bm_kv >= S:
                msg += (" As the block mask was created for a larger length than you're using it for, you "
                        "can either 1. create a new block mask with the correct length, or 2. 'adjust' the "
                        "existing block mask to the correct length by calling block_mask._adjust(q_len, "
                        "kv_len). This essentially 'crops' the block mask to the upper left corner, which "
                        "does not work for all mask_mods!")
            else:
                msg += " Create a new block mask for these lengths."
            raise ValueError(msg)
        bB, bH = block_mask.shape[:2]
        if bB not in (1, Bq) or bH not in (1, Hq):
            raise ValueError(
                f"flex_attention(): block_mask of shape {block_mask.shape} does not broadcast to the "
                f"query's batch size {Bq} and number of heads {Hq} (its B and H must be 1 or equal)."
            )


def _core(s, v, mask, out_dtype, precision="highest"):
    """Masked, fully-masked-safe softmax of ``s`` times ``v``; returns ``(out, lse, max)``."""
    if mask is not None:
        s = jnp.where(mask, s, jnp.full((), -jnp.inf, s.dtype))
    mx = jnp.max(s, axis=-1)
    m = lax.stop_gradient(jnp.where(jnp.isfinite(mx), mx, jnp.zeros((), s.dtype)))
    e = jnp.exp(s - m[..., None])
    z = jnp.sum(e, axis=-1)
    dead = z == 0
    zs = jnp.where(dead, jnp.ones((), z.dtype), z)
    out = jnp.matmul(e, v.astype(e.dtype), precision=precision) / zs[..., None]
    out = jnp.where(dead[..., None], jnp.zeros((), out.dtype), out).astype(out_dtype)
    lse = jnp.where(dead, jnp.full((), -jnp.inf, z.dtype), jnp.log(zs) + m)
    return out, lse, lax.stop_gradient(mx)


_core_jit = jax.jit(_core, static_argnums=(3, 4))


def _expand_kv(x, g: int):
    """Key/value heads repeated for grouped-query attention (head ``h`` of the query reads ``h // g``)."""
    return x if g == 1 else jnp.repeat(x, g, axis=1)


def _scores(q, k, sc: float, g: int, precision="highest"):
    """``q @ k^T * scale`` in float32 for half-precision inputs, key heads expanded for GQA."""
    if jnp.dtype(q.dtype).itemsize < 4:
        q, k = q.astype(jnp.float32), k.astype(jnp.float32)
    s = jnp.matmul(q * jnp.asarray(sc, q.dtype), jnp.swapaxes(_expand_kv(k, g), -1, -2),
                   precision=precision)
    return s


_scores_jit = jax.jit(_scores, static_argnums=(2, 3, 4))


def _attend(q, k, v, mask, sc, g, dt, precision):
    return _core(_scores(q, k, sc, g, precision), _expand_kv(v, g), mask, dt, precision)


_attend_jit = jax.jit(_attend, static_argnums=(4, 5, 6, 7))


def flex_attention(query, key, value, score_mod=None, block_mask=None, scale=None, enable_gqa=False,
                   return_lse=False, kernel_options=None, *, return_aux=None):
    """Attention with a user score modification and block mask.

    Args:
        query: ``(B, Hq, L, E)``. key: ``(B, Hkv, S, E)``. value: ``(B, Hkv, S, Ev)`` (key/value batch
            may be 1 with a block_mask).
        score_mod: ``score_mod(score, b, h, q_idx, kv_idx) -> score``, applied to the scaled scores;
            may close over Tensors (they receive gradients).
        block_mask: a :class:`BlockMask` from :func:`create_block_mask` for ``(L, S)`` (its B/H may be 1).
        scale: score scale (default ``1/sqrt(E)``).
        enable_gqa: grouped-query attention (``Hq`` a multiple of ``Hkv``; query head ``h`` reads
            key/value head ``h // (Hq // Hkv)``).
        return_lse: also return the log-sum-exp ``(B, Hq, L)`` (deprecated in torch for return_aux).
        kernel_options: accepted and ignored.
        return_aux: an :class:`AuxRequest`; then returns ``(out, AuxOutput)``.

    Returns:
        ``out (B, Hq, L, Ev)``; ``(out, lse)`` with return_lse; ``(out, AuxOutput)`` with return_aux.
    """
    if return_lse and return_aux is not None:
        raise ValueError(
            "Cannot specify both return_lse and return_aux. return_lse is deprecated, please use "
            "return_aux=AuxRequest(lse=True) instead."
        )
    if return_lse:
        warnings.warn(
            "return_lse is deprecated and will be removed in v2.10. Please use "
            "return_aux=AuxRequest(lse=True) instead.",
            FutureWarning,
            stacklevel=2,
        )
    if return_aux is not None and not isinstance(return_aux, AuxRequest):
        raise TypeError(
            f"flex_attention(): return_aux must be an AuxRequest, got {type(return_aux).__name__}"
        )
    if score_mod is not None:
        n = _num_positional(score_mod)
        if n is not None and n != 5:
            raise TypeError(
                f"flex_attention(): score_mod must take 5 positional arguments (score, batch, head, "
                f"q_idx, kv_idx), but {getattr(score_mod, '__name__', score_mod)!r} takes {n}"
            )
    _check_inputs(query, key, value, block_mask, enable_gqa)
    B, H, L, E = query.shape
    S = key.shape[2]
    sc = 1.0 / math.sqrt(E) if scale is None else float(scale)
    g = H // key.shape[1]
    dt = query._data.dtype
    pr = _precision.KEY[0][0][1]  # mt.set_float32_matmul_precision's level
    mask = None if block_mask is None else block_mask._element_mask(B, H)
    if score_mod is None:  # the whole attention is one differentiable kernel
        out, lse, mx = apply_jax(lambda q_, k_, v_: _attend_jit(q_, k_, v_, mask, sc, g, dt, pr),
                                 [query, key, value], "flex_attention")
    else:
        (s,) = apply_jax(lambda q_, k_: (_scores_jit(q_, k_, sc, g, pr),), [query, key],
                         "flex_attention_scores")
        b_i, h_i, q_i, kv_i = _index_grids(B, H, L, S)
        s = score_mod(s, b_i, h_i, q_i, kv_i)
        if not isinstance(s, Tensor):
            raise TypeError(f"flex_attention(): score_mod must return a Tensor, got {type(s).__name__}")
        if not s.dtype.is_floating_point:
            raise ValueError(f"flex_attention(): score_mod must return floating point scores, got {s.dtype}")
        if tuple(s.shape) != (B, H, L, S):
            try:
                s = s.expand(B, H, L, S)
            except Exception:
                raise ValueError(
                    f"flex_attention(): score_mod returned a result of shape {list(s.shape)}, which does "
                    f"not broadcast to the scores' shape {[B, H, L, S]}"
                ) from None
        out, lse, mx = apply_jax(lambda s_, v_: _core_jit(s_, _expand_kv(v_, g), mask, dt, pr), [s, value],
                                 "flex_attention")
    if return_lse:
        return out, lse
    if return_aux is not None:
        return out, AuxOutput(lse if return_aux.lse else None, mx if return_aux.max_scores else None)
    return out
