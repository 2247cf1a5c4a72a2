"""Grouped and scaled matmuls of ``torch.nn.functional``: ``grouped_mm`` (MoE expert matmuls),
``scaled_mm`` and ``scaled_grouped_mm`` (float8 matmuls with decoding scales).

``grouped_mm`` runs ``jax.lax.ragged_dot`` for the jagged (2-D x 3-D, 3-D x 2-D) cases, a masked
einsum when both operands are 2-D (the jagged dimension is the contraction) and a batched matmul for
3-D x 3-D. Group sizes come from ``offs`` as data, so it works inside ``mt.jit`` with a traced
``offs``. Differences from torch:

* rows/columns past ``offs[-1]`` are zero (torch leaves them uninitialised), and gradients there
  are zero;
* no 16-byte stride requirement; ``bias`` is refused as by torch ("Bias not supported yet");
* ``out_dtype=torch.float32`` is accepted for bfloat16/float16 inputs (torch's CUDA behaviour;
  torch's CPU build refuses it).

``scaled_mm``/``scaled_grouped_mm`` implement the TensorWise and RowWise recipes
(``out = (a * scale_a) @ (b * scale_b) + bias`` accumulated in float32, then cast to
``output_dtype``); the block-wise recipes and scale swizzling raise ``NotImplementedError``. They are
not differentiable (as in torch). ``scaled_grouped_mm`` supports 2-D x 3-D (with ``offs``) and
3-D x 3-D operands.
"""

from __future__ import annotations

import enum

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpValueError, ShapeError
from ._helpers import A, Sample
from ._registry import REGISTRY, register
from .linalg import tname

__all__ = ["ScalingType", "SwizzleType"]

_MM_DTYPES = (np.dtype(np.float32), np.dtype(jnp.bfloat16), np.dtype(np.float16))
_F8 = (np.dtype(jnp.float8_e4m3fn), np.dtype(jnp.float8_e5m2))


class ScalingType(enum.IntEnum):
    """How a float8 operand of :func:`scaled_mm` was scaled (torch.nn.functional.ScalingType)."""

    TensorWise = 0
    RowWise = 1
    BlockWise1x16 = 2
    BlockWise1x32 = 3
    BlockWise1x128 = 4
    BlockWise128x128 = 5


class SwizzleType(enum.IntEnum):
    """The layout of a scale tensor (torch.nn.functional.SwizzleType); only NO_SWIZZLE is supported."""

    NO_SWIZZLE = 0
    SWIZZLE_32_4_4 = 1


# ----------------------------------------------------------------------------- grouped_mm
def _group_sizes(offs):
    """int32 sizes of the groups ending at ``offs`` (``offs[i]`` is the end of group ``i``)."""
    offs = offs.astype(jnp.int32)
    return jnp.diff(offs, prepend=jnp.zeros((1,), jnp.int32))


def _check_grouped(op, a, b, offs, out_dtype):
    for name, x in (("mat_a", a), ("mat_b", b)):
        if x.ndim not in (2, 3):
            raise ShapeError(f"{op}: {name} has to be 2 or 3d")
        if np.dtype(x.dtype) not in _MM_DTYPES:
            raise DTypeError(f"{op}: Expected {name} to be Float32, BFloat16 or Float16 matrix, "
                             f"got {tname(x.dtype)}")
    if a.dtype != b.dtype:
        raise DTypeError(f"{op}: expected mat_a and mat_b to have the same dtype, but got: "
                         f"{tname(a.dtype)} != {tname(b.dtype)}")
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"{op}: contraction dimension of mat_a and mat_b must match "
                         f"(mat_a {list(a.shape)}, mat_b {list(b.shape)})")
    both3 = a.ndim == 3 and b.ndim == 3
    if (offs is None) != both3:
        raise ShapeError(f"{op}: Have to provide offsets if there is a 2d matrix, or no offset if "
                         f"both matrices are 3d")
    if both3 and a.shape[0] != b.shape[0]:
        raise ShapeError(f"{op}: batched dimension has to match (mat_a {list(a.shape)}, "
                         f"mat_b {list(b.shape)})")
    if offs is not None:
        if offs.dtype != jnp.int32:
            raise DTypeError(f"{op}: Offsets have to be int32, got {tname(offs.dtype)}")
        if offs.ndim != 1:
            raise ShapeError(f"{op}: offs has to be 1D, got shape {list(offs.shape)}")
        groups = a.shape[0] if a.ndim == 3 else b.shape[0] if b.ndim == 3 else None
        if groups is not None and groups != offs.shape[0]:
            raise ShapeError(f"{op}: matrix batch sizes have to match (offs has {offs.shape[0]} "
                             f"groups, the 3d operand {groups})")
    if out_dtype is not None:
        od = _dtype.to_np(out_dtype)
        if od != a.dtype and not (od == np.float32 and a.dtype != np.float32):
            raise DTypeError(f"{op}: Grouped gemm output dtype must match `mat_a` dtype "
                             f"(got {tname(od)} for {tname(a.dtype)} inputs)")
        return od
    return np.dtype(a.dtype)


def _grouped(a, b, offs, acc, precision=None):
    """The grouped product of arrays (checked), accumulated in ``acc``."""
    if a.ndim == 3 and b.ndim == 3:
        return jnp.matmul(a, b, precision=precision, preferred_element_type=acc)
    gs = _group_sizes(offs)
    if a.ndim == 2 and b.ndim == 3:  # rows of a jagged: (T, K) x (G, K, N) -> (T, N)
        return jax.lax.ragged_dot(a, b, gs, precision=precision, preferred_element_type=acc)
    if a.ndim == 3:  # columns of b jagged: (G, M, K) x (K, N) -> (M, N)
        out_t = jax.lax.ragged_dot(b.T, jnp.swapaxes(a, 1, 2), gs, precision=precision,
                                   preferred_element_type=acc)
        return out_t.T
    # both 2-D, the contraction jagged: (M, K) x (K, N) -> (G, M, N)
    k = jnp.arange(a.shape[1], dtype=jnp.int32)
    starts = offs.astype(jnp.int32) - gs
    mask = (k[None, :] >= starts[:, None]) & (k[None, :] < offs.astype(jnp.int32)[:, None])
    am = jnp.where(mask[:, None, :], a[None], jnp.zeros((), a.dtype))
    return jnp.matmul(am, b, precision=precision, preferred_element_type=acc)


def _grouped_mm_kernel(mat_a, mat_b, offs=None, *, out_dtype=None, precision=None):
    """The grouped_mm kernel on jax arrays (see :func:`grouped_mm`)."""
    od = _check_grouped("grouped_mm", mat_a, mat_b, offs, out_dtype)
    acc = jnp.float32 if od == np.float32 else None
    out = _grouped(mat_a, mat_b, offs, acc, precision=precision if mat_a.dtype == np.float32 else None)
    return out.astype(od)


def grouped_mm(mat_a, mat_b, *, offs=None, bias=None, out_dtype=None):
    """Grouped matrix multiply sharing weight shapes across groups with jagged group sizes (MoE).

    Args:
        mat_a: ``(T, K)`` (rows split into groups by ``offs``), ``(G, M, K)``, or ``(M, K_total)``
            when ``mat_b`` is 2-D too (then the contraction is split by ``offs``).
        mat_b: ``(G, K, N)``, ``(K, N_total)`` (columns split by ``offs`` when ``mat_a`` is 3-D) or
            ``(K_total, N)``.
        offs: 1-D int32 ``(G,)``: ``offs[i]`` ends group ``i`` of the jagged dimension; required
            iff an operand is 2-D. Entries past ``offs[-1]`` give zeros.
        bias: not supported (as torch's CPU/CUDA kernels: raises).
        out_dtype: ``None`` (``mat_a``'s dtype) or ``float32`` for bfloat16/float16 accumulation.

    Returns:
        ``(T, N)`` for 2-D x 3-D, ``(M, N_total)`` for 3-D x 2-D, ``(G, M, N)`` for 2-D x 2-D and
        3-D x 3-D. float32, bfloat16 and float16 inputs only.
    """
    if bias is not None:
        raise NotImplementedError("grouped_mm: Bias not supported yet")
    return REGISTRY["grouped_mm"].call(mat_a, mat_b, offs, out_dtype=out_dtype)


def _offs(*ends):
    return np.array(ends, np.int32)


def _grouped_samples():
    # torch's CPU kernel wants 16-byte aligned strides (K, N multiples of 4 for float32)
    return [
        Sample(A(6, 8), A(3, 8, 16), offs=_offs(2, 4, 6)),
        Sample(A(6, 8), A(3, 8, 16), offs=_offs(0, 4, 6)),
        Sample(A(3, 4, 8), A(3, 8, 16)),
        Sample(A(3, 4, 8), A(8, 16), offs=_offs(4, 8, 16)),
        Sample(A(8, 16), A(16, 8), offs=_offs(4, 12, 16)),
        Sample(A(6, 8), A(3, 8, 16), out_dtype=_dtype.float32, offs=_offs(2, 4, 6)),
        Sample(A(6, 8, dtype="float64"), A(3, 8, 16, dtype="float64"), offs=_offs(2, 4, 6)),
        Sample(A(6, 8), A(3, 8, 16)),
        Sample(A(3, 6, 8), A(3, 8, 16), offs=_offs(2, 4, 6)),
        Sample(A(6, 8), A(3, 8, 16), offs=_offs(2, 4, 6).astype(np.int64)),
        Sample(A(6, 8), A(3, 8, 16), offs=_offs(2, 6)),
        Sample(A(2, 6, 8), A(3, 8, 16)),
        Sample(A(6, 16), A(3, 8, 16), offs=_offs(2, 4, 6)),
        Sample(A(8), A(3, 8, 16), offs=_offs(2, 4, 6)),
    ]


register("grouped_mm", nin=3, method=False, function=False, functional=True, precision=True,
         saves=(0, 1), impl=grouped_mm, torch_name="nn.functional.grouped_mm",
         samples=_grouped_samples)(_grouped_mm_kernel)


# ----------------------------------------------------------------------------- scaled matmuls
def _recipe(op, r, which):
    if isinstance(r, (list, tuple)):
        if len(r) != 1:
            raise NotImplementedError(f"{op}: only one scale recipe per operand is supported, got {r!r}")
        r = r[0]
    v = int(getattr(r, "value", r))
    if v not in (ScalingType.TensorWise, ScalingType.RowWise):
        name = getattr(r, "name", r)
        raise NotImplementedError(f"{op}: scale_recipe_{which}={name} is not supported (only "
                                  f"TensorWise and RowWise scaling are implemented)")
    return v


def _one(op, x, what):
    if isinstance(x, (list, tuple)):
        if len(x) != 1:
            raise NotImplementedError(f"{op}: only one {what} per operand is supported")
        return x[0]
    return x


def _scale_error(op, a, sa, b, sb, rows, cols):
    def desc(x):
        return f"{tname(x.dtype)}, size {list(x.shape)}"
    return OpValueError(
        f"{op}: Invalid scaling configuration.\n"
        f"- For TensorWise scaling, a and b should be float8, scales should be float and singletons.\n"
        f"- For RowWise scaling, a and b should be float8, scales should be float, scale_a should be "
        f"{rows} and scale_b should be {cols}.\n"
        f"Got mat_a {tname(a.dtype)}, scale_a {desc(sa)}, mat_b {tname(b.dtype)}, scale_b {desc(sb)}")


def _check_scales(op, a, sa, ra, b, sb, rb, rows_shape, cols_shape):
    ok = ra == rb and np.dtype(a.dtype) in _F8 and np.dtype(b.dtype) in _F8
    ok = ok and sa.dtype == np.float32 and sb.dtype == np.float32
    if ok and ra == ScalingType.TensorWise:
        ok = sa.size == 1 and sb.size == 1
    elif ok:
        ok = tuple(sa.shape) == rows_shape and tuple(sb.shape) == cols_shape
    if not ok:
        raise _scale_error(op, a, sa, b, sb, rows_shape, cols_shape)


def _out_dtype(a, output_dtype):
    return np.dtype(a.dtype) if output_dtype is None else _dtype.to_np(output_dtype)


def _finish(acc, bias, od):
    if bias is not None:
        acc = acc + bias.astype(jnp.float32)
    return acc.astype(od)


def _scaled_mm_kernel(mat_a, mat_b, scale_a, scale_b, bias=None, *, recipe_a, recipe_b, output_dtype):
    op = "scaled_mm"
    if mat_a.ndim != 2:
        raise OpValueError(f"{op}: mat_a must be a matrix, got shape {list(mat_a.shape)}")
    if mat_b.ndim != 2:
        raise OpValueError(f"{op}: mat_b must be a matrix, got shape {list(mat_b.shape)}")
    (m, k), (k2, n) = mat_a.shape, mat_b.shape
    if k != k2:
        raise OpValueError(f"{op}: mat_a and mat_b shapes cannot be multiplied ({m}x{k} and {k2}x{n})")
    _check_scales(op, mat_a, scale_a, recipe_a, mat_b, scale_b, recipe_b, (m, 1), (1, n))
    f32 = jnp.float32
    acc = jnp.matmul(mat_a.astype(f32), mat_b.astype(f32), precision=jax.lax.Precision.HIGHEST)
    sa = scale_a.reshape(()) if recipe_a == ScalingType.TensorWise else scale_a
    sb = scale_b.reshape(()) if recipe_b == ScalingType.TensorWise else scale_b
    return _finish(acc * sa * sb, bias, _out_dtype(mat_a, output_dtype))


def _scaled_samples():
    # numpy has no float8 for torch.from_numpy: the value parity is in tests/test_grouped_mm_ldl.py;
    # here torch's checks on non-float8 operands and bad shapes
    one = np.ones((), np.float32)
    return [
        Sample(A(16, 32), A(32, 16), one, ScalingType.TensorWise, one, ScalingType.TensorWise),
        Sample(A(16, 32), A(32, 16), np.ones((16, 1), np.float32), ScalingType.RowWise,
               np.ones((1, 16), np.float32), ScalingType.RowWise),
        Sample(A(2, 16, 32), A(32, 16), one, ScalingType.TensorWise, one, ScalingType.TensorWise),
    ]


register("scaled_mm", nin=5, method=False, function=False, functional=True, differentiable=False,
         torch_name="nn.functional.scaled_mm", samples=_scaled_samples)(_scaled_mm_kernel)
_SCALED_MM_OP = REGISTRY["scaled_mm"]


def _check_swizzle(op, swizzle_a, swizzle_b):
    for s in (swizzle_a, swizzle_b):
        s = _one(op, s, "swizzle")
        if s is not None and int(getattr(s, "value", s)) != SwizzleType.NO_SWIZZLE:
            raise NotImplementedError(f"{op}: scale swizzling ({getattr(s, 'name', s)}) is not supported")


def scaled_mm(mat_a, mat_b, scale_a, scale_recipe_a, scale_b, scale_recipe_b, swizzle_a=None,
              swizzle_b=None, bias=None, output_dtype=_dtype.bfloat16, contraction_dim=(),
              use_fast_accum=False):
    """Scaled (float8) matrix multiply: ``(mat_a * scale_a) @ (mat_b * scale_b) + bias``.

    Args:
        mat_a, mat_b: float8 (``float8_e4m3fn``/``float8_e5m2``) matrices ``(M, K)`` and ``(K, N)``.
        scale_a, scale_b: float32 decoding scales: one element each (``ScalingType.TensorWise``) or
            ``(M, 1)`` and ``(1, N)`` (``ScalingType.RowWise``); both operands use the same recipe.
        scale_recipe_a, scale_recipe_b: :class:`ScalingType` (or torch's enum of the same name).
        swizzle_a, swizzle_b: only ``None``/``SwizzleType.NO_SWIZZLE``.
        bias: optional ``(N,)`` added in float32 before the cast.
        output_dtype: result dtype (default bfloat16; ``None`` gives ``mat_a``'s dtype).
        contraction_dim: must be empty (the standard ``(M, K) x (K, N)`` layout).
        use_fast_accum: accepted and ignored (accumulation is float32).

    Not differentiable. Block-wise recipes raise ``NotImplementedError``.
    """
    op = "scaled_mm"
    if tuple(contraction_dim):
        raise NotImplementedError(f"{op}: contraction_dim={tuple(contraction_dim)} is not supported")
    _check_swizzle(op, swizzle_a, swizzle_b)
    ra, rb = _recipe(op, scale_recipe_a, "a"), _recipe(op, scale_recipe_b, "b")
    return _SCALED_MM_OP.call(mat_a, mat_b, _one(op, scale_a, "scale"), _one(op, scale_b, "scale"),
                              bias, recipe_a=ra, recipe_b=rb, output_dtype=output_dtype)


_SCALED_MM_OP.impl = scaled_mm
_SCALED_MM_OP.doc = scaled_mm.__doc__


def _scaled_grouped_kernel(mat_a, mat_b, scale_a, scale_b, offs=None, bias=None, *, recipe_a, recipe_b,
                           output_dtype):
    op = "scaled_grouped_mm"
    if not ((mat_a.ndim == 2 and mat_b.ndim == 3) or (mat_a.ndim == 3 and mat_b.ndim == 3)):
        raise NotImplementedError(f"{op}: only 2d x 3d (with offs) and 3d x 3d operands are supported, "
                                  f"got mat_a {list(mat_a.shape)} and mat_b {list(mat_b.shape)}")
    f32 = jnp.float32
    a32, b32 = mat_a.astype(f32), mat_b.astype(f32)
    _check_grouped(op, a32, b32, offs, None)
    g, n = mat_b.shape[0], mat_b.shape[-1]
    rows = mat_a.shape[:-1]  # (T,) or (G, M)
    _check_scales(op, mat_a, scale_a, recipe_a, mat_b, scale_b, recipe_b, rows, (g, n))
    if recipe_a == ScalingType.TensorWise:
        a32, b32 = a32 * scale_a.reshape(()), b32 * scale_b.reshape(())
    else:
        a32, b32 = a32 * scale_a[..., None], b32 * scale_b[:, None, :]
    acc = _grouped(a32, b32, offs, f32, precision=jax.lax.Precision.HIGHEST)
    return _finish(acc, bias, _out_dtype(mat_a, output_dtype))


def _scaled_grouped_samples():
    # torch's CPU build has no scaled_grouped_mm kernel (NotImplementedError on both sides for a
    # float8-free call is not comparable): value checks against numpy live in the test file
    return []


register("scaled_grouped_mm", nin=6, method=False, function=False, functional=True,
         differentiable=False, torch_name="nn.functional.scaled_grouped_mm",
         samples=_scaled_grouped_samples)(_scaled_grouped_kernel)
_SCALED_GROUPED_OP = REGISTRY["scaled_grouped_mm"]


def scaled_grouped_mm(mat_a, mat_b, scale_a, scale_recipe_a, scale_b, scale_recipe_b, swizzle_a=None,
                      swizzle_b=None, bias=None, offs=None, output_dtype=_dtype.bfloat16,
                      contraction_dim=(), use_fast_accum=False):
    """Grouped scaled (float8) matmul: :func:`grouped_mm` of ``mat_a * scale_a`` and ``mat_b * scale_b``.

    Args:
        mat_a: float8 ``(T, K)`` (rows split by ``offs``) or ``(G, M, K)``.
        mat_b: float8 ``(G, K, N)``.
        scale_a, scale_b: float32; RowWise: ``(T,)`` or ``(G, M)`` and ``(G, N)``; TensorWise:
            one element each.
        scale_recipe_a, scale_recipe_b: :class:`ScalingType` (same for both operands).
        bias: optional, broadcast to the output and added in float32.
        offs: int32 ``(G,)`` group ends, required for a 2-D ``mat_a``.
        output_dtype: default bfloat16 (``None``: ``mat_a``'s dtype).

    Not differentiable; 2-D ``mat_b`` operands and block-wise recipes raise ``NotImplementedError``.
    """
    op = "scaled_grouped_mm"
    if tuple(contraction_dim):
        raise NotImplementedError(f"{op}: contraction_dim={tuple(contraction_dim)} is not supported")
    _check_swizzle(op, swizzle_a, swizzle_b)
    ra, rb = _recipe(op, scale_recipe_a, "a"), _recipe(op, scale_recipe_b, "b")
    return _SCALED_GROUPED_OP.call(mat_a, mat_b, _one(op, scale_a, "scale"), _one(op, scale_b, "scale"),
                                   offs, bias, recipe_a=ra, recipe_b=rb, output_dtype=output_dtype)


_SCALED_GROUPED_OP.impl = scaled_grouped_mm
_SCALED_GROUPED_OP.doc = scaled_grouped_mm.__doc__

