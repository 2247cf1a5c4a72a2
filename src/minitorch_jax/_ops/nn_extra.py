"""nn.functional kernels: ``embedding_bag``, ``ctc_loss``, ``affine_grid`` and ``grid_sample``.

All four trace under ``jax.jit`` with static shapes:

* ``embedding_bag``: the bag of each index is found with ``searchsorted`` on ``offsets`` and the
  bags are reduced with ``jax.ops.segment_sum``/``segment_max`` over a static number of bags
  (``len(offsets)``, or the rows of a 2-D input). Data-dependent checks (indices in range,
  ``offsets[0] == 0`` ...) are reported by the kernel as a small integer vector and raised in
  eager mode (skipped under ``jax.jit``, where there is no value to read).
* ``ctc_loss``: the CTC forward (alpha) recursion in log space over time with ``lax.scan``; the
  gradient is JAX's autodiff of it, shifted as torch's is: torch's gradient with respect to
  ``log_probs`` is ``exp(log_probs) - posterior`` (the gradient with respect to the logits when
  ``log_probs = log_softmax(logits)``), so the kernel adds a term of value 0 whose gradient is
  ``exp(log_probs)`` on the frames inside each input length.
* ``affine_grid``/``grid_sample``: torch's source-coordinate formulas (unnormalize, border clip,
  reflection) written out, so values and gradients (input and grid) agree with torch, also at the
  boundaries; taps are gathered from the flattened spatial dims.
"""

from __future__ import annotations

import itertools
import operator
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._errors import DTypeError, OpTypeError, OpValueError, ShapeError
from .._meta import needs_values
from .._tensor import Tensor
from ._helpers import A, Sample
from ._registry import REGISTRY, register
from .linalg_decomp import vector_norm_kernel

__all__ = ["embedding_bag", "ctc_loss", "affine_grid", "grid_sample"]

_INT = (jnp.int32, jnp.int64)
_TN = {"float32": "Float", "float64": "Double", "bool": "Bool", "int16": "Short", "int8": "Char",
       "uint8": "Byte", "float16": "Half", "int32": "Int", "int64": "Long", "bfloat16": "BFloat16"}


def _tn(dt) -> str:
    return _TN.get(str(dt), str(dt))


def _concrete(arr):
    """The numpy value of a jax array, or None while jax traces (no value yet)."""
    try:
        return np.asarray(arr)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return None


def _rng():
    from . import _helpers
    return _helpers._rng


# ======================================================================================
# embedding_bag
# ======================================================================================
_MODES = {"sum": 0, "mean": 1, "max": 2}


def _ebag_k(weight, input, offsets, per_sample_weights, mode, padding_idx, max_norm, norm_type,
            scale_grad_by_freq, include_last_offset, aten=False):
    """Bags of rows of ``weight`` reduced by ``mode``; returns ``(out, info[, new_weight])`` or, with
    ``aten``, also torch's ``offset2bag``, ``bag_size`` and ``max_indices``."""
    if input.dtype not in _INT:
        raise DTypeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                         f"types: Long, Int; but got torch.{_tn(input.dtype)}Tensor instead (while checking "
                         f"arguments for embedding_bag)")
    if offsets is not None and offsets.dtype not in _INT:
        raise DTypeError(f"Expected tensor for argument #2 'offsets' to have one of the following scalar "
                         f"types: Long, Int; but got torch.{_tn(offsets.dtype)}Tensor instead (while "
                         f"checking "
                         f"arguments for embedding_bag)")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise DTypeError(f"Expected tensor for argument #1 'weight' to have the same type as tensor for "
                         f"argument #1 'per_sample_weights'; but type torch.{_tn(weight.dtype)}Tensor does "
                         f"not "
                         f"equal torch.{_tn(per_sample_weights.dtype)}Tensor (while checking arguments for "
                         f"embedding_bag)")
    num, dim = weight.shape
    idx = input.reshape(-1).astype(jnp.int64)
    n = idx.shape[0]
    if input.ndim == 2:
        nb, length = input.shape
        seg = jnp.asarray(np.repeat(np.arange(nb), length), jnp.int64)
        off = jnp.asarray(np.arange(nb) * length, jnp.int64)
    else:
        off = offsets.astype(jnp.int64)
        nb = max(off.shape[0] - (1 if include_last_offset else 0), 0)
        # include_last_offset: offsets[-1] ends the last bag (indices after it belong to no bag; torch's
        # CPU kernels disagree there - float32 sum/mean stop at offsets[-1], the others run to the end)
        seg = (jnp.searchsorted(off, jnp.arange(n, dtype=jnp.int64), side="right") - 1).astype(jnp.int64)
    valid = (seg >= 0) & (seg < nb)
    if padding_idx is not None:
        valid = valid & (idx != padding_idx)
    seg_c = jnp.where(valid, seg, nb)  # out-of-range segment ids are dropped by the segment ops
    safe = jnp.clip(idx, 0, max(num - 1, 0))

    # the checks torch makes on the values: reported as [bad position, its value, offsets[0],
    # offsets[-1], offsets decreasing]
    bad = (idx < 0) | (idx >= num)
    pos = jnp.where(jnp.any(bad), jnp.argmax(bad), -1) if n else jnp.asarray(-1)
    info = jnp.stack([pos, idx[jnp.maximum(pos, 0)] if n else jnp.asarray(0, jnp.int64),
                      off[0] if off.shape[0] else jnp.asarray(0, jnp.int64),
                      off[-1] if off.shape[0] else jnp.asarray(0, jnp.int64),
                      jnp.any(off[1:] < off[:-1]) if off.shape[0] > 1 else jnp.asarray(False)]
                     ).astype(jnp.int64)

    new_w = None
    if max_norm is not None:
        w0 = lax.stop_gradient(weight)
        used = jnp.zeros((num,), bool).at[safe].set(True)
        norms = vector_norm_kernel("embedding_renorm_", w0, float(norm_type), (1,), False)
        scale = jnp.where(used & (norms > max_norm), max_norm / (norms + 1e-7), 1).astype(weight.dtype)
        new_w = w0 * scale[:, None]
        g = jnp.take(weight, safe, axis=0)
        rows = jnp.take(new_w, safe, axis=0) + (g - lax.stop_gradient(g))
    else:
        rows = jnp.take(weight, safe, axis=0)
    if scale_grad_by_freq:
        counts = jnp.zeros((num,), weight.dtype).at[safe].add(1)
        s = jnp.take(1 / jnp.maximum(counts, 1), safe)[:, None]
        rows = lax.stop_gradient(rows) + (rows - lax.stop_gradient(rows)) * s
    dt = weight.dtype
    vmask = valid[:, None].astype(dt)
    cnt = jax.ops.segment_sum(valid.astype(jnp.int64), seg_c, num_segments=nb)
    max_idx = None
    if mode == 2:
        if n == 0:
            out = jnp.zeros((nb, dim), dt)
            max_idx = jnp.zeros((nb, dim), jnp.int64)
        else:
            rv = lax.stop_gradient(rows)
            m = jax.ops.segment_max(jnp.where(valid[:, None], rv, -jnp.inf), seg_c, num_segments=nb)
            is_max = valid[:, None] & (rv == jnp.take(m, jnp.clip(seg_c, 0, max(nb - 1, 0)), axis=0))
            p = jnp.where(is_max, jnp.arange(n)[:, None], n)
            first = jax.ops.segment_min(p, seg_c, num_segments=nb)
            has = first < n
            fc = jnp.clip(first, 0, n - 1)
            out = jnp.where(has, jnp.take_along_axis(rows, fc, axis=0), 0).astype(dt)
            max_idx = jnp.where(has, jnp.take(idx, fc), 0) if padding_idx is None else \
                jnp.where(has, jnp.take(idx, fc), -1)
    else:
        vals = rows * vmask
        if per_sample_weights is not None:
            vals = vals * per_sample_weights.reshape(-1)[:, None]
        out = jax.ops.segment_sum(vals, seg_c, num_segments=nb)
        if mode == 1:
            out = out / jnp.maximum(cnt, 1).astype(dt)[:, None]
    res = (out, info)
    if aten:
        res += _aten_extras(mode, seg, valid, cnt, max_idx, n, nb, dim, per_sample_weights is not None,
                            padding_idx)
    if new_w is not None:
        res += (new_w,)
    return res


def _aten_extras(mode, seg, valid, cnt, max_idx, n, nb, dim, has_psw, padding_idx):
    """torch.embedding_bag's auxiliary outputs ``(offset2bag, bag_size, max_indices)`` as its CPU
    kernel gives them."""
    o2b = jnp.clip(seg, 0, max(nb - 1, 0))
    if mode == 0 and not has_psw and padding_idx is None:
        o2b = jnp.zeros((0,), jnp.int64)
    if mode == 0:
        return o2b, jnp.zeros((nb,), jnp.int64), jnp.zeros((nb,), jnp.int64)
    if mode == 1:
        return o2b, cnt, cnt
    return o2b, cnt, max_idx


register("_embedding_bag", nin=4, method=False, function=False,
         grad_name="EmbeddingBagBackward0")(_ebag_k)
_EBAG = REGISTRY["_embedding_bag"]


def _ebag_padding(padding_idx, num):
    if padding_idx is None:
        return None
    padding_idx = operator.index(padding_idx)
    if not -num <= padding_idx < num:
        raise RuntimeError(f"embedding_bag(): padding_idx must be within the number of embeddings, "
                           f"{-num} through {num - 1}, but got {padding_idx}")
    return padding_idx % num if num else padding_idx


def _ebag_run(weight, input, offsets, per_sample_weights, mode_enum, padding_idx, max_norm, norm_type,
              scale_grad_by_freq, include_last_offset, aten):
    num = weight.shape[0]
    pad = _ebag_padding(padding_idx, num)
    res = _EBAG.call(weight, input, offsets, per_sample_weights, mode_enum, pad,
                     None if max_norm is None else float(max_norm), float(norm_type),
                     bool(scale_grad_by_freq), bool(include_last_offset), aten)
    info = _concrete(res[1]._data)
    if info is not None:
        pos, val, off0, offlast, dec = (int(v) for v in info)
        if pos >= 0:
            raise ShapeError(f"embedding_bag(): Index {pos} of input takes value {val} which is not in the "
                               f"valid range [0, {num})")
        if input.dim() == 1 and offsets is not None and offsets.shape[0]:
            if off0 != 0:
                raise RuntimeError(f"embedding_bag(): offsets[0] has to be 0, i.e., the first sequence in "
                                   f"the "
                                   f"mini-batch has to start from position 0. However, got {off0}")
            if offlast > input.shape[0]:
                raise RuntimeError(f"embedding_bag(): offsets[-1] can not be greater than input's length "
                                   f"{input.shape[0]} but got offsets[-1] of {offlast}")
            if dec:
                raise RuntimeError(f"embedding_bag(): offsets must be non-decreasing, got "
                                   f"{np.asarray(offsets._data).tolist()}")
    if max_norm is not None:
        weight._data = res[-1]._data
        weight._version += 1
        res = res[:-1]
    return res


def _check_psw(input, per_sample_weights):
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise OpValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not "
                           f"None, then it must have the same shape as the input ({list(input.shape)})")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embedding rows, without building the per-index embeddings.

    Args:
        input: int64/int32 indices: 1-D ``(n,)`` with ``offsets``, or 2-D ``(B, L)`` (``B`` bags of
            ``L`` indices; ``offsets`` must then be None).
        weight: ``(num_embeddings, embedding_dim)``.
        offsets: 1-D start position of each bag in a 1-D ``input`` (``offsets[0] == 0``).
        max_norm, norm_type: rows looked up whose norm exceeds ``max_norm`` are rescaled to it, in
            place in ``weight`` (without autograd), as in ``embedding``.
        scale_grad_by_freq: scale each row's gradient by 1 / (its count in ``input``); not with 'max'.
        mode: ``'sum'``, ``'mean'`` or ``'max'`` (empty bags give zeros).
        sparse: accepted for compatibility; gradients are dense.
        per_sample_weights: weights of ``input``'s shape multiplying each row ('sum' mode only).
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: indices equal to it are left out of their bag (and its size for 'mean').

    Returns:
        ``(B, embedding_dim)``, ``B`` the number of bags. Out-of-range indices and bad offsets raise
        in eager mode.
    """
    if weight.dtype.name == "int64" and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag("
                      "weight, input, ...)` is deprecated, and should now be `embedding_bag(input, weight, "
                      "...)`.", stacklevel=2)
        weight, input = input, weight
    _check_psw(input, per_sample_weights)
    if weight.dim() != 2:
        raise OpValueError(f"embedding_bag(): weight has to be a 2D Tensor, but got Tensor of dimension "
                           f"{weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise OpValueError("embedding_bag(): if input is 2D, then offsets has to be None, as input is "
                               "treated is a mini-batch of fixed length sequences. However, found offsets of "
                               f"type {type(offsets)}")
        include_last_offset = False
    elif input.dim() == 1:
        if offsets is None:
            raise OpValueError("embedding_bag(): offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise OpValueError(f"embedding_bag(): offsets has to be a 1D Tensor, got shape "
                               f"{list(offsets.shape)}")
    else:
        raise OpValueError(f"embedding_bag(): input has to be 1D or 2D Tensor, but got Tensor of dimension "
                           f"{input.dim()}")
    if mode not in _MODES:
        raise OpValueError(f"embedding_bag(): mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise OpValueError("embedding_bag(): max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise OpValueError("embedding_bag(): max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
            f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
    needs_values("embedding_bag", input, offsets)
    return _ebag_run(weight, input, offsets, per_sample_weights, _MODES[mode], padding_idx, max_norm,
                     norm_type, scale_grad_by_freq, include_last_offset, False)[0]


def _embedding_bag_aten(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                        per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """``torch.embedding_bag(weight, indices, offsets, scale_grad_by_freq, mode, ...)``: ATen's argument
    order, ``mode`` as an int (0 sum, 1 mean, 2 max); returns ``(output, offset2bag, bag_size,
    max_indices)`` (the auxiliary outputs as torch's CPU kernel fills them). See
    ``nn.functional.embedding_bag``."""
    if weight.dim() != 2:
        raise OpValueError(f"embedding_bag(): weight has to be a 2D Tensor, but got Tensor of dimension "
                           f"{weight.dim()}")
    if indices.dim() != 1 or offsets is None or offsets.dim() != 1:
        raise OpValueError(f"embedding_bag(): expected 1-D indices and 1-D offsets, got shapes "
                           f"{list(indices.shape)} and {None if offsets is None else list(offsets.shape)}")
    if mode not in (0, 1, 2):
        raise OpValueError(f"embedding_bag(): mode has to be 0 (sum), 1 (mean) or 2 (max), got {mode!r}")
    _check_psw(indices, per_sample_weights)
    if per_sample_weights is not None and mode != 0:
        raise NotImplementedError(f"embedding_bag: per_sample_weights is only supported for mode='sum' "
                                  f"(got mode={mode})")
    res = _ebag_run(weight, indices, offsets, per_sample_weights, int(mode), padding_idx, None, 2.0,
                    scale_grad_by_freq, include_last_offset, True)
    return (res[0],) + tuple(res[2:])


def _ebag_samples():
    rng = _rng()

    def idx(*shape, high=6):
        return rng.integers(0, high, size=shape).astype("int64")
    d = "float64"
    off = np.array([0, 2, 2, 5])
    return [Sample(idx(8), A(6, 3, dtype=d), off, mode="sum"),
            Sample(idx(8), A(6, 3, dtype=d), off),
            Sample(idx(8), A(6, 3, dtype=d), off, mode="max"),
            Sample(idx(3, 4), A(6, 3, dtype=d), mode="mean"),
            Sample(idx(3, 4), A(6, 3), mode="max", padding_idx=2),
            Sample(idx(8), A(6, 2, dtype=d), off, mode="sum", per_sample_weights=A(8, dtype=d)),
            Sample(idx(2, 4), A(6, 2), mode="sum", per_sample_weights=A(2, 4)),
            Sample(idx(8), A(6, 3, dtype=d), np.array([0, 3, 8]), include_last_offset=True, mode="sum"),
            Sample(idx(8), A(6, 3, dtype=d), off, padding_idx=-1),
            # torch's CPU embedding_bag divides by a wrong count when index counts differ ([3, 3, 4, 4, 4]
            # gives row 4 the factor 1/2): these samples avoid that bug; mt divides by each row's own count
            Sample(np.array([4, 4, 1, 4, 2, 4, 0, 3]), A(6, 3, dtype=d), off, mode="sum",
                   scale_grad_by_freq=True),
            Sample(np.array([4, 1, 4, 4, 2, 4, 0, 3]), A(6, 3, dtype=d), np.array([0, 2, 5]), mode="mean",
                   scale_grad_by_freq=True),
            Sample(idx(8).astype("int32"), A(6, 3), off.astype("int32"), mode="sum"),
            Sample(idx(6), A(6, 3), np.array([0, 3]), max_norm=1.0, grad=False),
            Sample(np.array([1, 7]), A(6, 3), np.array([0])),  # index out of range
            Sample(idx(4), A(6, 3), np.array([1, 2])),  # offsets[0] != 0
            Sample(idx(4), A(6, 3), np.array([0, 5])),  # offsets[-1] > len(input)
            Sample(idx(2, 2), A(6, 3), np.array([0, 1])),  # 2-D input with offsets
            Sample(idx(4).astype("float32"), A(6, 3), np.array([0, 2])),  # float indices
            Sample(idx(4), A(6, 3), np.array([0, 2]), mode="foo"),
            Sample(idx(4), A(6, 3), np.array([0, 2]), mode="mean", per_sample_weights=A(4))]


register("embedding_bag", nin=4, method=False, function=False, functional=True,
         torch_name="nn.functional.embedding_bag", impl=embedding_bag, samples=_ebag_samples)(_ebag_k)
register("_embedding_bag_aten", nin=3, method=False, aliases=("embedding_bag",),
         impl=_embedding_bag_aten)(_ebag_k)


# ======================================================================================
# ctc_loss
# ======================================================================================
_NEG = -1e30  # "log 0" kept finite so that unreachable states give zero (not NaN) gradients
_RED = {0: "none", 1: "mean", 2: "sum"}


@jax.custom_jvp
def _nan_grad(x, bad):
    """``x``, with a NaN derivative where ``bad`` (torch's gradient of an infinite CTC loss)."""
    return x


@_nan_grad.defjvp
def _nan_grad_jvp(primals, tangents):
    x, bad = primals
    return x, tangents[0] * jnp.where(bad, jnp.nan, 1).astype(x.dtype)


def _lse3(a, b, c):
    m = lax.stop_gradient(jnp.maximum(jnp.maximum(a, b), c))
    return m + jnp.log(jnp.exp(a - m) + jnp.exp(b - m) + jnp.exp(c - m))


def _ctc_k(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity, smax,
           unbatched):
    """Per-sample CTC negative log-likelihoods (reduced) and ``info`` = [max input length, min input
    length, max target length, min target length, sum of target lengths]."""
    if not jnp.issubdtype(log_probs.dtype, jnp.floating):
        raise DTypeError(f"ctc_loss(): \"ctc_loss_cpu\" not implemented for '{_tn(log_probs.dtype)}'")
    for name, a in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
        if not jnp.issubdtype(a.dtype, jnp.integer):
            raise DTypeError(f"ctc_loss(): {name} must be integral, got dtype {a.dtype}")
    lp = log_probs[:, None] if unbatched else log_probs
    if lp.ndim != 3:
        raise ShapeError(f"ctc_loss(): log_probs must be (T, N, C) or (T, C) (unbatched), got shape "
                         f"{list(log_probs.shape)}")
    big_t, n, c = lp.shape
    if not 0 <= blank < c:
        raise ShapeError(f"ctc_loss(): blank must be in label range [0, {c}), got {blank}")
    il = input_lengths.reshape(-1).astype(jnp.int64)
    tl = target_lengths.reshape(-1).astype(jnp.int64)
    if il.shape[0] != n:
        raise ShapeError(f"ctc_loss(): input_lengths must be of size batch_size ({n}), got {il.shape[0]}")
    if tl.shape[0] != n:
        raise ShapeError(f"ctc_loss(): target_lengths must be of size batch_size ({n}), got {tl.shape[0]}")
    tg = targets.astype(jnp.int64)
    if unbatched:
        tg = tg.reshape(1, -1)
    if tg.ndim == 1:  # concatenated targets: gather each sample's labels into a padded (N, smax)
        start = jnp.cumsum(tl) - tl
        pos = start[:, None] + jnp.arange(smax)[None, :]
        tg = jnp.take(tg, jnp.clip(pos, 0, max(tg.shape[0] - 1, 0)), axis=0) if tg.shape[0] else \
            jnp.zeros((n, smax), jnp.int64)
    elif tg.ndim == 2:
        if tg.shape[0] != n:
            raise ShapeError(f"ctc_loss(): targets of shape {list(targets.shape)} do not match the batch "
                             f"size {n} of log_probs")
        tg = tg[:, :smax]
    else:
        raise ShapeError(f"ctc_loss(): targets must be 2-D (N, S) or 1-D (concatenated), got shape "
                         f"{list(targets.shape)}")
    s_len = 2 * smax + 1
    # frames past a sample's input length get no gradient at all (not even a NaN one)
    inside = jnp.arange(big_t)[:, None] < il[None, :]
    lp = jnp.where(inside[:, :, None], lp, lax.stop_gradient(lp))
    # extended label sequence: blank, l1, blank, l2, ..., blank
    lab = jnp.clip(tg, 0, c - 1)
    ext = jnp.full((n, s_len), blank, jnp.int64)
    if smax:
        ext = ext.at[:, 1::2].set(lab)
    s_idx = np.arange(s_len)
    prev2 = jnp.concatenate([jnp.full((n, 2), blank, jnp.int64), ext[:, :-2]], axis=1)
    skip = (s_idx % 2 == 1)[None, :] & (s_idx >= 2)[None, :] & (ext != prev2)
    dt = lp.dtype
    neg = jnp.asarray(_NEG, dt)
    emit = jnp.take_along_axis(lp, jnp.broadcast_to(ext[None], (big_t, n, s_len)), axis=2)
    alpha0 = jnp.full((n, s_len), neg, dt).at[:, 0].set(0)

    def step(alpha, xs):
        e, t = xs
        a1 = jnp.concatenate([jnp.full((n, 1), neg, dt), alpha[:, :-1]], axis=1)
        a2 = jnp.concatenate([jnp.full((n, 2), neg, dt), alpha[:, :-2]], axis=1)[:, :s_len]
        new = _lse3(alpha, a1, jnp.where(skip, a2, neg)) + e
        return jnp.where((t < il)[:, None], new, alpha), None

    alpha, _ = lax.scan(step, alpha0, (emit, jnp.arange(big_t)))
    tlc = jnp.clip(tl, 0, smax)
    last = jnp.take_along_axis(alpha, (2 * tlc)[:, None], axis=1)[:, 0]
    before = jnp.take_along_axis(alpha, jnp.maximum(2 * tlc - 1, 0)[:, None], axis=1)[:, 0]
    before = jnp.where(tlc > 0, before, neg)
    m = lax.stop_gradient(jnp.maximum(last, before))
    ll = m + jnp.log(jnp.exp(last - m) + jnp.exp(before - m))
    bad = ll < _NEG / 2
    # torch's gradient is exp(log_probs) - posterior: add a term of value 0 with gradient exp(log_probs)
    ex = jnp.sum(jnp.exp(lp) * inside[:, :, None].astype(dt), axis=(0, 2))
    loss = -ll + (ex - lax.stop_gradient(ex))
    if zero_infinity:
        loss = jnp.where(bad, jnp.zeros((), dt), loss)
    else:
        # value inf, gradient NaN (as torch) where no alignment exists
        loss = _nan_grad(loss, bad) + jnp.where(bad, jnp.asarray(jnp.inf, dt), jnp.zeros((), dt))
    if reduction == "mean":
        out = jnp.mean(loss / jnp.maximum(tl, 1).astype(dt))
    elif reduction == "sum":
        out = jnp.sum(loss)
    else:
        out = loss[0] if unbatched else loss
    info = jnp.stack([jnp.max(il) if n else 0, jnp.min(il) if n else 0, jnp.max(tl) if n else 0,
                      jnp.min(tl) if n else 0, jnp.sum(tl)]).astype(jnp.int64)
    return out, info


register("_ctc_loss", nin=4, method=False, function=False, grad_name="CtcLossBackward0")(_ctc_k)
_CTC = REGISTRY["_ctc_loss"]


def _lengths(v, name):
    """Lengths as a Tensor (kept on device) or a tuple/list of ints (checked here)."""
    if isinstance(v, Tensor):
        return v, None
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                                            for x in v):
        return np.asarray(v, np.int64), tuple(int(x) for x in v)
    raise OpTypeError(f"ctc_loss(): {name} must be a Tensor or a tuple of ints, got {type(v).__name__}")


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss (F.ctc_loss).

    Args:
        log_probs: ``(T, N, C)`` (or ``(T, C)`` unbatched) log-probabilities, e.g. ``log_softmax``.
        targets: ``(N, S)`` padded labels, or 1-D ``(sum(target_lengths),)`` concatenated labels.
            Labels are in ``[0, C)`` and must not be ``blank``.
        input_lengths: ``(N,)`` frames used per sample (a Tensor or a tuple of ints), each ``<= T``.
        target_lengths: ``(N,)`` labels per sample (a Tensor or a tuple of ints).
        blank: the blank label.
        reduction: ``'none'`` (per-sample losses ``(N,)``), ``'mean'`` (each loss divided by its
            target length, then the batch mean) or ``'sum'``; also torch's enum ints 0/1/2.
        zero_infinity: impossible alignments (infinite losses) give 0 and a zero gradient.

    The gradient with respect to ``log_probs`` is torch's ``exp(log_probs) - posterior``.
    Out-of-range lengths raise in eager mode (unchecked under ``jax.jit``, where tuples are still
    checked).
    """
    if isinstance(reduction, int) and not isinstance(reduction, bool):
        reduction = _RED.get(reduction, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise OpValueError(f"ctc_loss(): {reduction} is not a valid value for reduction")
    needs_values("ctc_loss", log_probs, targets, input_lengths, target_lengths)
    il, il_t = _lengths(input_lengths, "input_lengths")
    tl, tl_t = _lengths(target_lengths, "target_lengths")
    unbatched = log_probs.dim() == 2
    big_t = log_probs.shape[0] if log_probs.dim() else 0
    if targets.dim() == 2 or unbatched:
        smax = targets.shape[-1] if targets.dim() else 0
    else:
        smax = targets.shape[0]
        tv = tl_t if tl_t is not None else (_concrete(tl._data) if isinstance(tl, Tensor) else None)
        if tv is not None and len(tv):
            smax = max(0, min(smax, int(np.max(tv))))
    for name, vals in (("input_lengths", il_t), ("target_lengths", tl_t)):
        if vals:
            _check_lengths(name, min(vals), max(vals), big_t, sum(vals), targets, smax, unbatched)
    loss, info = _CTC.call(log_probs, targets, il, tl, int(blank), reduction, bool(zero_infinity), int(smax),
                           unbatched)
    if il_t is None or tl_t is None:
        v = _concrete(info._data)
        if v is not None and log_probs.dim() in (2, 3):
            mx_i, mn_i, mx_t, mn_t, sum_t = (int(x) for x in v)
            if il_t is None:
                _check_lengths("input_lengths", mn_i, mx_i, big_t, sum_t, targets, smax, unbatched)
            if tl_t is None:
                _check_lengths("target_lengths", mn_t, mx_t, big_t, sum_t, targets, smax, unbatched)
    return loss


def _check_lengths(name, lo, hi, big_t, total, targets, smax, unbatched):
    if lo < 0:
        raise RuntimeError(f"ctc_loss(): Expected {name} to have value at least 0, but got value {lo}")
    if name == "input_lengths":
        if hi > big_t:
            raise RuntimeError(f"ctc_loss(): Expected input_lengths to have value at most {big_t} (the "
                               f"length "
                               f"T of log_probs), but got value {hi}")
        return
    if targets.dim() == 2 or unbatched:
        size = targets.shape[-1] if targets.dim() else 0
        if hi > size:
            raise RuntimeError(f"ctc_loss(): Expected tensor to have size at least {hi} at dimension "
                               f"{targets.dim() - 1}, but got size {size} for argument #2 'targets' (the "
                               f"largest target length is {hi})")
    elif targets.dim() == 1 and total != targets.shape[0]:
        raise RuntimeError(f"ctc_loss(): Expected tensor to have size {total} at dimension 0, but got size "
                           f"{targets.shape[0]} for argument #2 'targets' (the sum of target_lengths)")


def _ctc_samples():
    rng = _rng()

    def lp(t, n, c, dtype="float32"):
        x = rng.standard_normal((t, n, c))
        x = x - np.log(np.exp(x).sum(-1, keepdims=True))
        return x.astype(dtype)

    def tg(*shape, c=5):
        return rng.integers(1, c, size=shape).astype("int64")
    d = "float64"
    return [Sample(lp(6, 2, 5, d), tg(2, 3), (6, 5), (3, 2)),
            Sample(lp(6, 2, 5, d), tg(2, 3), np.array([6, 4]), np.array([2, 3]), reduction="sum"),
            Sample(lp(7, 3, 4, d), tg(7, c=4), (7, 7, 5), (2, 3, 2), reduction="none"),
            Sample(lp(5, 2, 4), tg(2, 2, c=4), (5, 5), (2, 0), reduction="mean"),
            Sample(lp(5, 2, 4, d), np.array([[1, 2, 0], [2, 0, 1]]), (5, 5), (3, 3), blank=3,
                   reduction="none"),
            Sample(lp(3, 2, 3, d), np.array([[1, 1, 1], [1, 2, 0]]), (3, 3), (3, 2), zero_infinity=True),
            Sample(lp(3, 2, 3, d)[:, 0], np.array([1, 2]), np.array([3]), np.array([2]), reduction="none"),
            Sample(lp(4, 2, 3), tg(2, 2, c=3), (5, 4), (2, 2)),  # input length > T
            Sample(lp(4, 2, 3), tg(2, 2, c=3), (4, 4), (3, 2)),  # target length > S
            Sample(lp(4, 2, 3), tg(2, 2, c=3), (4, 4), (2, 2), blank=3),
            Sample(lp(4, 2, 3), tg(2, 2, c=3), (4, 4), (2, 2), reduction="foo"),
            Sample(lp(4, 2, 3), tg(5, c=3), (4, 4), (3, 3))]  # concatenated targets too short


register("ctc_loss", nin=4, method=False, function=True, functional=True, torch_name="nn.functional.ctc_loss",
         impl=ctc_loss, samples=_ctc_samples)(_ctc_k)


# ======================================================================================
# affine_grid, grid_sample
# ======================================================================================
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since "
                  "1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation "
                  "of "
                  "grid_sample for details.")


def _base_coords(n, align_corners, dt):
    """torch's normalised pixel-centre coordinates of ``n`` points in [-1, 1]."""
    if n <= 1:
        return jnp.zeros((n,), dt)
    r = jnp.linspace(-1.0, 1.0, n, dtype=dt)
    return r if align_corners else r * ((n - 1) / n)


def _affine_grid_k(theta, size, align_corners):
    """The sampling grid of the affine maps ``theta`` for an output of ``size``."""
    spatial = size[2:]
    k = len(spatial)
    dt = theta.dtype
    axes = [_base_coords(s, align_corners, dt) for s in spatial]  # (D,) H, W
    mesh = jnp.meshgrid(*axes, indexing="ij")
    base = [m for m in reversed(mesh)] + [jnp.ones(spatial, dt)]  # x (W), y (H), [z (D)], 1
    theta = jnp.broadcast_to(theta, (size[0], k, k + 1)) if theta.shape[0] == 1 else theta
    outs = [sum(base[j][None] * theta[:, i, j].reshape((-1,) + (1,) * k) for j in range(k + 1))
            for i in range(k)]
    return jnp.stack(outs, axis=-1)


def affine_grid(theta, size, align_corners=None):
    """A sampling grid for :func:`grid_sample` from a batch of affine matrices.

    Args:
        theta: ``(N, 2, 3)`` for a 4-D ``size`` or ``(N, 3, 4)`` for a 5-D ``size``; floating point.
        size: the target output size ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        align_corners: whether -1 and 1 are the centres (True) or the outer edges (False) of the corner
            pixels; None warns and means False.

    Returns:
        ``(N, H, W, 2)`` or ``(N, D, H, W, 3)``: the ``(x, y[, z])`` source coordinates in [-1, 1].
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise OpValueError(f"affine_grid(): Expected theta to have floating point type, but got "
                           f"{theta.dtype}")
    size = tuple(operator.index(s) for s in size)
    if len(size) in (4, 5):
        k = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (k, k + 1):
            raise OpValueError(f"affine_grid(): Expected a batch of {k}D affine matrices of shape "
                               f"Nx{k}x{k + 1} for size {size}. Got {list(theta.shape)}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                                  f"transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the "
                      "documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise OpValueError(f"affine_grid(): Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ShapeError(f"affine_grid(): theta has a batch of {theta.shape[0]} matrices but size {size} "
                         f"asks "
                         f"for {size[0]}")
    return REGISTRY["affine_grid"].call(theta, size, bool(align_corners))


def _ag_samples():
    d = "float64"
    return [Sample(A(2, 2, 3, dtype=d), (2, 3, 4, 5), align_corners=False),
            Sample(A(2, 2, 3, dtype=d), (2, 1, 3, 4), align_corners=True),
            Sample(A(1, 2, 3), (1, 1, 1, 4), align_corners=False),
            Sample(A(2, 3, 4, dtype=d), (2, 1, 3, 2, 4), align_corners=False),
            Sample(A(1, 3, 4, dtype=d), (1, 2, 2, 3, 2), align_corners=True),
            Sample(A(1, 3, 3), (1, 1, 4, 4), align_corners=False),  # wrong theta shape
            Sample(A(1, 2, 3), (1, 1, 4), align_corners=False),  # 3-D size
            Sample(A(1, 2, 3), (1, 1, 0, 4), align_corners=False),
            Sample(A(1, 2, 3).astype("int64"), (1, 1, 3, 3), align_corners=False)]


register("affine_grid", nin=1, method=False, function=False, functional=True,
         torch_name="nn.functional.affine_grid", impl=affine_grid, samples=_ag_samples)(_affine_grid_k)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(x, size):
    """torch's clip_coordinates: into [0, size - 1], with a zero gradient where clipped (also at
    the bounds)."""
    hi = jnp.asarray(size - 1, x.dtype)
    return jnp.where(x <= 0, jnp.zeros((), x.dtype), jnp.where(x >= hi, hi, x))


def _reflect(x, twice_low, twice_high):
    """torch's reflect_coordinates: fold ``x`` into [twice_low / 2, twice_high / 2]."""
    if twice_low == twice_high:
        return jnp.zeros_like(x)
    mn = twice_low / 2
    span = (twice_high - twice_low) / 2
    x = x - mn
    x = jnp.where(x < 0, -x, x)
    extra = jnp.fmod(x, span)
    flips = jnp.floor(x / span)
    return jnp.where(jnp.mod(flips, 2) == 0, extra + mn, span - extra + mn)


def _pad_coords(x, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(x, size)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return _clip(x, size)
    return x


def _tap(flat, idxs, sizes):
    """``input[n, :, idxs...]`` in ONE gather: ``idxs`` (one int array per spatial dim, broadcastable
    to ``(N, *taps, *out)``) give ``(N, C, *taps, *out)``, zero where a tap is outside the input."""
    n, c = flat.shape[:2]
    shape = jnp.broadcast_shapes(*(i.shape for i in idxs))
    ok = None
    lin = None
    stride = 1
    for i, s in reversed(list(zip(idxs, sizes))):
        inb = (i >= 0) & (i < s)
        ok = inb if ok is None else ok & inb
        term = jnp.clip(i, 0, s - 1) * stride
        lin = term if lin is None else lin + term
        stride *= s
    lin = jnp.broadcast_to(lin, shape).reshape(n, -1)
    vals = jax.vmap(lambda f, ix: f[:, ix])(flat, lin).reshape((n, c) + shape[1:])
    return jnp.where(jnp.broadcast_to(ok, shape)[:, None], vals, jnp.zeros((), flat.dtype))


_CUBIC_A = -0.75


def _cubic_coeffs(t):
    a = _CUBIC_A

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def _grid_sample_k(input, grid, mode, padding_mode, align_corners):
    """Samples ``input`` at the normalised coordinates ``grid``."""
    where = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise ShapeError(f"grid_sample(): expected 4D or 5D input and grid with same number of dimensions, "
                         f"but got {where}")
    k = input.ndim - 2
    if grid.shape[-1] != k:
        raise ShapeError(f"grid_sample(): expected grid to have size {k} in last dimension, but got grid "
                         f"with "
                         f"sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise ShapeError(f"grid_sample(): expected grid and input to have same batch size, but got {where}")
    for d in range(2, input.ndim):
        if input.shape[d] == 0:
            raise ShapeError(f"grid_sample(): expected input to have non-empty spatial dimensions, but "
                             f"input has "
                             f"sizes {list(input.shape)} with dimension {d} being empty")
    if mode == "bicubic" and k != 2:
        raise ShapeError(f"grid_sample(): bicubic interpolation only supports 4D input, got {where}")
    if not jnp.issubdtype(input.dtype, jnp.floating):
        raise DTypeError(f"grid_sample(): \"grid_sampler_{k}d_cpu_kernel_impl\" not implemented for "
                         f"'{_tn(input.dtype)}'")
    if grid.dtype != input.dtype:
        raise DTypeError(f"grid_sample(): expected input and grid to have same dtype, but input has "
                         f"{input.dtype} and grid has {grid.dtype}")
    n, c = input.shape[:2]
    sizes = input.shape[2:]
    flat = input.reshape(n, c, -1)
    dt = input.dtype
    # grid[..., 0] indexes the last spatial dim (x = W), grid[..., 1] the one before (y = H) ...
    coords = [_unnormalize(grid[..., k - 1 - d], sizes[d], align_corners) for d in range(k)]
    if mode == "bicubic":  # 4 x 4 taps: tap axes (N, 4, 1, *out) for y and (N, 1, 4, *out) for x
        fl = [jnp.floor(x) for x in coords]
        wy, wx = (jnp.stack(_cubic_coeffs(x - f), axis=1) for x, f in zip(coords, fl))
        steps = jnp.arange(-1, 3, dtype=dt)
        out_nd = grid.ndim - 2
        ty = fl[0][:, None] + steps.reshape((1, 4) + (1,) * out_nd)
        tx = fl[1][:, None] + steps.reshape((1, 4) + (1,) * out_nd)
        iy = _pad_coords(ty, sizes[0], padding_mode, align_corners).astype(jnp.int64)[:, :, None]
        ix = _pad_coords(tx, sizes[1], padding_mode, align_corners).astype(jnp.int64)[:, None, :]
        vals = _tap(flat, [iy, ix], sizes)  # (N, C, 4, 4, *out)
        w = wy[:, :, None] * wx[:, None, :]
        return jnp.sum(vals * w[:, None], axis=(2, 3)).astype(dt)
    coords = [_pad_coords(x, s, padding_mode, align_corners) for x, s in zip(coords, sizes)]
    if mode == "nearest":
        return _tap(flat, [jnp.round(x).astype(jnp.int64) for x in coords], sizes)
    # (tri/bi)linear: the 2**k corners on one tap axis
    corners = np.array(list(itertools.product((0, 1), repeat=k)))  # (2**k, k)
    bshape = (1, 2 ** k) + (1,) * (grid.ndim - 2)
    idxs, w = [], 1
    for d, x in enumerate(coords):
        f = jnp.floor(x)
        o = corners[:, d].reshape(bshape)
        idxs.append(f.astype(jnp.int64)[:, None] + o)
        t = (x - f)[:, None]
        w = w * jnp.where(o == 1, t, 1 - t)
    vals = _tap(flat, idxs, sizes)  # (N, C, 2**k, *out)
    return jnp.sum(vals * w[:, None], axis=2).astype(dt)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` at the locations ``grid`` (spatial transformer networks).

    Args:
        input: ``(N, C, H_in, W_in)`` or ``(N, C, D_in, H_in, W_in)``.
        grid: ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)``: ``(x, y[, z])`` locations
            normalised to [-1, 1] (x indexes W), same dtype as ``input``.
        mode: ``'bilinear'`` (trilinear for 5-D), ``'nearest'`` or ``'bicubic'`` (4-D only).
        padding_mode: values outside the input: ``'zeros'``, ``'border'`` (the edge value) or
            ``'reflection'`` (mirrored at the border).
        align_corners: -1 and 1 are the centres (True) or the outer edges (False) of the corner
            pixels; None warns and means False.

    Returns:
        ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``. Differentiable with respect to
        ``input`` and ``grid`` (the grid gradient is zero for 'nearest').
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise OpValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                           f"'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise OpValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                           f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return REGISTRY["grid_sample"].call(input, grid, mode, padding_mode, bool(align_corners))


def _gs_samples():
    rng = _rng()
    d = "float64"

    def g(*shape, lim=1.2, dtype=d):
        return rng.uniform(-lim, lim, size=shape).astype(dtype)
    out = []
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (False, True):
                out.append(Sample(A(2, 2, 4, 5, dtype=d), g(2, 3, 3, 2, lim=1.6), mode=mode, padding_mode=pad,
                                  align_corners=ac))
    for pad in ("zeros", "border", "reflection"):
        out.append(Sample(A(1, 2, 3, 4, 3, dtype=d), g(1, 2, 3, 2, 3, lim=1.5), padding_mode=pad,
                          align_corners=pad == "border"))
    out += [Sample(A(1, 1, 3, 4, 2, dtype=d), g(1, 2, 2, 2, 3), mode="nearest", align_corners=False),
            Sample(A(2, 3, 4, 4), g(2, 5, 2, 2, dtype="float32"), align_corners=False),
            Sample(A(1, 2, 1, 4, dtype=d), g(1, 2, 3, 2), padding_mode="reflection", align_corners=True),
            Sample(A(1, 2, 4, 4), g(1, 3, 3, 3, dtype="float32"), align_corners=False),  # grid last dim 3
            Sample(A(1, 2, 4, 4), g(2, 3, 3, 2, dtype="float32"), align_corners=False),  # batch mismatch
            Sample(A(1, 2, 4, 4, 1), g(1, 3, 3, 3, 3, dtype="float32"), mode="bicubic", align_corners=False),
            Sample(A(1, 2, 4, 4), g(1, 3, 3, 2, dtype="float32"), mode="foo", align_corners=False),
            Sample(A(1, 2, 4, 4), g(1, 3, 3, 2, dtype="float32"), padding_mode="foo", align_corners=False)]
    return out


register("grid_sample", nin=2, method=False, function=False, functional=True,
         torch_name="nn.functional.grid_sample", impl=grid_sample, samples=_gs_samples)(_grid_sample_k)
