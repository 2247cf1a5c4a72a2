"""The autocast state the op dispatcher reads (kept apart from ``mt.amp`` so that the op table can import it
without import cycles).

``STATE[0]`` is None (autocast off) or ``(numpy dtype, device type)``. Each device type has torch's
policy table (op name -> ``"lower"``: cast float32 inputs to the autocast dtype; ``"fp32"``: cast
float16/bfloat16 inputs up to float32), from torch's autocast op lists for CUDA and for CPU, by
minitorch_jax op names. Float64 inputs are never cast, as in torch.
"""

from __future__ import annotations

import numpy as np

STATE: list = [None]

_LOWER_COMMON = """
matmul mm bmm baddbmm addmm addbmm linear conv1d conv2d conv3d conv_transpose1d conv_transpose2d
conv_transpose3d prelu scaled_dot_product_attention _mha _transformer_layer einsum tensordot bilinear inner
linalg_vecdot
"""
LOWER = {
    "cuda": frozenset((_LOWER_COMMON + " addmv addr chain_matmul linalg_multi_dot mv _rnn_cell _rnn_stack")
                      .split()),
    "cpu": frozenset((_LOWER_COMMON + " _rnn_stack").split()),
}
FP32 = {
    "cuda": frozenset("""
pow acos asin cosh erfinv exp expm1 log log10 log1p log2 reciprocal rsqrt sinh tan softplus
binary_cross_entropy_with_logits cosine_embedding_loss cdist cosine_similarity cross_entropy cumprod cumsum
dist group_norm hinge_embedding_loss kl_div l1_loss layer_norm log_softmax margin_ranking_loss mse_loss
multilabel_margin_loss multi_margin_loss nll_loss norm normalize pdist poisson_nll_loss prod smooth_l1_loss
soft_margin_loss softmax softmin sum renorm triplet_margin_loss linalg_vector_norm linalg_norm
""".split()),
    "cpu": frozenset("""
avg_pool3d binary_cross_entropy grid_sample polar prod quantile nanquantile stft cdist trace cholesky
cholesky_inverse cholesky_solve inverse lu_solve pinverse max_pool3d adaptive_avg_pool3d mse_loss
cosine_embedding_loss nll_loss hinge_embedding_loss poisson_nll_loss smooth_l1_loss cross_entropy l1_loss
huber_loss margin_ranking_loss soft_margin_loss triplet_margin_loss multi_margin_loss ctc_loss kl_div
multilabel_margin_loss binary_cross_entropy_with_logits linalg_inv linalg_cholesky linalg_pinv linalg_qr
linalg_svd linalg_svdvals linalg_eigh linalg_eigvalsh linalg_solve linalg_lstsq linalg_det linalg_slogdet
linalg_matrix_norm linalg_vector_norm linalg_norm
""".split()),
}
TABLES: dict = {}

_LOW_ELIGIBLE = {np.dtype(np.float32), np.dtype(np.float16), np.dtype("bfloat16")}
_HALF = {np.dtype(np.float16), np.dtype("bfloat16")}


def table(device_type: str) -> dict:
    """Op name -> ``"lower"``/``"fp32"`` under autocast on ``device_type`` (CUDA's lists for other
    accelerators)."""
    key = device_type if device_type in LOWER else "cuda"
    t = TABLES.get(key)
    if t is None:
        t = TABLES[key] = {**{n: "fp32" for n in FP32[key]}, **{n: "lower" for n in LOWER[key]}}
    return t


def cast_plan(kind, arrays, dt, cast_pos, low):
    """The ``(dtype, cast positions)`` an autocast op runs with, given the dispatcher's own ``dt`` and
    ``cast_pos`` (returned unchanged when autocast does not apply to these inputs)."""
    if kind == "lower":
        pos = tuple(i for i, a in enumerate(arrays) if getattr(a, "dtype", None) in _LOW_ELIGIBLE)
        if not pos:
            return dt, cast_pos
        return low, pos
    pos = tuple(i for i, a in enumerate(arrays) if getattr(a, "dtype", None) in _HALF)
    if not pos:
        return dt, cast_pos
    if dt is not None and dt in _HALF:
        return np.dtype(np.float32), cast_pos  # a promoting op: promote to float32 instead
    return np.dtype(np.float32), pos
