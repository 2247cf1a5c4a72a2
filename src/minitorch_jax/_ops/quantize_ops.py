"""Fake quantization (quantization-aware training): torch's top-level fake-quant ops.

* ``fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max)``: both torch
  overloads (Python ``float``/``int`` qparams, or one-element tensors);
* ``fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max)``;
* ``fused_moving_avg_obs_fake_quant(...)``: the moving-average min/max observer fused with fake
  quantization; it updates ``running_min``/``running_max``/``scale``/``zero_point`` in place;
* ``choose_qparams_optimized(input, numel, n_bins, ratio, bit_width)``: the greedy range search
  that minimises the L2 quantization error;
* ``_fake_quantize_learnable_per_tensor_affine``: the learnable-scale (LSQ) variant, with
  gradients for ``scale`` and ``zero_point`` as torch gives them.

Arithmetic follows torch's CPU kernels, found by experiment: ``q = nearbyint(x * (1 / scale)) +
zero_point`` with ``1 / scale`` rounded to float32 and ties to even; values are clamped to
``[quant_min, quant_max]`` (NaN goes to ``quant_min``) and the result is ``(q - zero_point) * scale``.
float16/bfloat16 inputs compute in float32; float64 inputs round in float64 and (per tensor) scale
back in float32. Gradients are torch's straight-through estimator: ``grad_output`` where the
unclamped ``q`` lies in ``[quant_min, quant_max]``, zero elsewhere.

Differences: checks that need the data (``zero_point`` inside ``[quant_min, quant_max]`` for
tensor qparams of ``fake_quantize_per_channel_affine``) are skipped inside ``mt.jit``. The public
fake-quant functions refuse a ``scale`` that requires grad, as torch does; use
``_fake_quantize_learnable_per_tensor_affine`` for a learnable scale.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, OpIndexError, OpTypeError, ShapeError
from .._grad_mode import STATE
from .._meta import is_meta_array
from .._tensor import Tensor
from ._helpers import A, Sample
from ._registry import REGISTRY, register

__all__: list[str] = []

_F32 = jnp.float32
_sg = jax.lax.stop_gradient


# ----- the shared arithmetic ------------------------------------------------------------------
def _compute(x):
    """The array the rounding runs on: float64 stays, every other float dtype goes to float32."""
    return x if x.dtype == jnp.float64 else x.astype(_F32)


def _fq_core(x, scale, zp, qmin, qmax, out_f32=True):
    """``(out, mask)`` of fake quantization with broadcastable ``scale`` and integer-valued ``zp``.

    ``out_f32``: scale back in float32 (torch's per-tensor kernel) rather than in the compute dtype.
    """
    xc = _compute(x)
    s32 = scale.astype(_F32)
    inv = (jnp.ones((), _F32) / s32).astype(xc.dtype)
    q = jnp.round(xc * inv) + zp.astype(xc.dtype)
    mask = (q >= qmin) & (q <= qmax)
    qc = jnp.fmin(jnp.fmax(q, jnp.asarray(qmin, xc.dtype)), jnp.asarray(qmax, xc.dtype))
    if out_f32:
        out = (qc.astype(_F32) - zp.astype(_F32)) * s32
    else:
        out = (qc - zp.astype(xc.dtype)) * s32.astype(xc.dtype)
    return out.astype(x.dtype), mask


def _ste(x, out, mask):
    """``out`` in the forward, ``mask * grad`` for ``x`` in the backward (straight through)."""
    o = _sg(out)
    return jnp.where(mask, o + (x - _sg(x)), o)


def _check_input(x, op: str) -> None:
    if not jnp.issubdtype(x.dtype, jnp.floating):
        name = {"int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
                "bool": "Bool"}.get(str(x.dtype), str(x.dtype))
        raise DTypeError(f'{op}(): "fake_quantize_tensor_cachemask_kernel_type_handling" not '
                         f"implemented for '{name}'")


def _check_range(op: str, quant_min, quant_max) -> None:
    for n, v in (("quant_min", quant_min), ("quant_max", quant_max)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise OpTypeError(f"{op}(): argument '{n}' must be int, not {type(v).__name__}")
    if quant_min > quant_max:
        raise ShapeError(f"{op}(): `quant_min` should be less than or equal to `quant_max` "
                         f"(got quant_min={quant_min}, quant_max={quant_max}).")


def _no_grad_qparam(op: str, kernel: str, scale, zero_point) -> None:
    for n, t in (("scale", scale), ("zero_point", zero_point)):
        if isinstance(t, Tensor) and t.requires_grad and STATE.grad:
            raise RuntimeError(f"{op}(): The function '{kernel}' is not differentiable with respect to "
                               f"argument '{n}'. This input cannot have requires_grad True.")


def _concrete(t):
    """The numpy value of a tensor, or None inside ``mt.jit`` (tracers have no value) and for a meta
    tensor."""
    if is_meta_array(t._data):
        return None
    try:
        return np.asarray(t._data)
    except Exception:
        return None


# ----- per tensor -------------------------------------------------------------------------------
def _fq_samples():
    edge = np.array([-1.05, -0.25, 0.05, 0.15, 0.25, 0.35, -12.85, 12.75, 100.0], "float32")
    return [Sample(A(3, 4), 0.1, 0, -128, 127), Sample(edge, 0.1, 3, 0, 255),
            Sample(A(2, 3, dtype="float64"), 0.05, -2, -8, 7), Sample(A(5), 0.3, 0, 0, 1)]


@register("fake_quantize_per_tensor_affine", nin=3, method=False,
          grad_name="FakeQuantizePerTensorAffineCachemaskBackward0", samples=_fq_samples)
def _fq_per_tensor(input, scale, zero_point, quant_min, quant_max):
    """Kernel of :func:`fake_quantize_per_tensor_affine` (Python-number qparams)."""
    out, mask = _fq_core(input, jnp.asarray(scale), jnp.asarray(zero_point), quant_min, quant_max)
    return _ste(input, out, mask)


@register("_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", nin=3, method=False,
          function=False, grad_name="FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0")
def _fq_per_tensor_t(input, scale, zero_point, quant_min, quant_max):
    """Kernel of :func:`fake_quantize_per_tensor_affine` with one-element tensor qparams."""
    s = scale.reshape(())
    z = zero_point.reshape(()).astype(jnp.int32)  # torch reads it as an integer (truncating)
    out, mask = _fq_core(input, s, z, quant_min, quant_max)
    return _ste(input, out, mask)


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """Fake-quantize ``input`` with one ``scale`` and ``zero_point`` (quantization-aware training).

    ``out = (clamp(nearbyint(input / scale) + zero_point, quant_min, quant_max) - zero_point) * scale``,
    rounding half to even. The gradient is passed straight through where the unclamped value lies
    in ``[quant_min, quant_max]`` and is zero outside.

    Args:
        input: a floating tensor (float32, float64, float16 or bfloat16), any shape.
        scale: a Python float, or a one-element float tensor.
        zero_point: a Python int inside ``[quant_min, quant_max]``, or a one-element tensor
            (both qparams must then be tensors).
        quant_min, quant_max: the integer range of the quantized domain.

    Returns:
        A tensor of ``input``'s shape and dtype.
    """
    op = "fake_quantize_per_tensor_affine"
    _check_input(input._data if isinstance(input, Tensor) else jnp.asarray(input), op)
    _check_range(op, quant_min, quant_max)
    if isinstance(scale, Tensor) or isinstance(zero_point, Tensor):
        if not (isinstance(scale, Tensor) and isinstance(zero_point, Tensor)):
            raise OpTypeError(
                f"{op}() received an invalid combination of arguments: scale and zero_point must be "
                f"both Tensors or both numbers, got {type(scale).__name__} and {type(zero_point).__name__}")
        _no_grad_qparam(op, "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", scale, zero_point)
        for n, t in (("scale", scale), ("zero_point", zero_point)):
            if t.numel() != 1:
                raise ShapeError(f"{op}(): {n}: a Tensor with {t.numel()} elements cannot be converted "
                                 "to Scalar")
        return REGISTRY["_fake_quantize_per_tensor_affine_cachemask_tensor_qparams"].call(
            input, scale, zero_point, quant_min, quant_max)
    if isinstance(zero_point, bool) or not isinstance(zero_point, (int, np.integer)):
        raise OpTypeError(f"{op}(): argument 'zero_point' must be int, not {type(zero_point).__name__}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)):
        raise OpTypeError(f"{op}(): argument 'scale' must be float, not {type(scale).__name__}")
    if not quant_min <= zero_point <= quant_max:
        raise ShapeError(f"{op}(): `zero_point` must be between `quant_min` and `quant_max` "
                         f"(got zero_point={zero_point}, range [{quant_min}, {quant_max}]).")
    return REGISTRY[op].call(input, float(scale), int(zero_point), quant_min, quant_max)


REGISTRY["fake_quantize_per_tensor_affine"].impl = fake_quantize_per_tensor_affine


# ----- per channel ------------------------------------------------------------------------------
_ZP_DTYPES = {np.dtype("int32"), np.dtype("float32"), np.dtype("float16")}
_TORCH_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


def _per_channel_checks(op, input, scale, zero_point, axis):
    """Shape/dtype checks of torch's per-channel fake quantization (static: run while tracing)."""
    if scale.dtype not in (np.dtype("float32"), jnp.bfloat16):
        raise DTypeError(f"{op}(): Scale must be Float or BFloat16, found "
                         f"{_TORCH_NAMES.get(str(scale.dtype))}")
    if zero_point.dtype not in _ZP_DTYPES:
        raise DTypeError(f"{op}(): Zero-point must be Int32, Float or Half, found "
                         f"{_TORCH_NAMES.get(str(zero_point.dtype))}")
    if scale.ndim != 1 or zero_point.ndim != 1 or scale.shape != zero_point.shape:
        raise ShapeError(f"{op}(): scale and zero-point need to have the same dimensions (got "
                         f"{list(scale.shape)} and {list(zero_point.shape)})")
    nd = input.ndim
    if nd == 0:
        raise OpIndexError(f"{op}(): Dimension specified as {axis} but tensor has no dimensions")
    if not -nd <= axis < nd:
        raise OpIndexError(f"{op}(): Dimension out of range (expected to be in range of [{-nd}, "
                           f"{nd - 1}], but got {axis})")
    if not 0 <= axis < nd:
        raise OpIndexError(f"{op}(): `axis` must be between 0 and number of dimensions of input "
                           f"(got axis={axis}, input dims {nd})")
    if scale.shape[0] != input.shape[axis]:
        raise ShapeError(f"{op}(): dimensions of scale and zero-point are not consistent with input "
                         f"tensor (scale has {scale.shape[0]} elements, input shape {list(input.shape)}, "
                         f"axis {axis})")


def _mul_add_f32(a, b, c):
    """float32 ``a * b + c`` with both steps rounded, as torch's C++ loops do. XLA's CPU backend would
    contract the two into one fused multiply-add (a different last bit); a select on the product
    (an identity: NaN stays NaN) sits between them and prevents that."""
    p = a.astype(_F32) * b.astype(_F32)
    p = jnp.where(jnp.isnan(p), jnp.float32(jnp.nan), p)
    return p + c.astype(_F32)


def _fq_channel_core(input, scale, zero_point, axis, quant_min, quant_max):
    shape = [1] * input.ndim
    shape[axis] = -1
    s = scale.reshape(shape)
    z = zero_point.reshape(shape)
    if jnp.issubdtype(zero_point.dtype, jnp.integer):
        return _fq_core(input, s, z, quant_min, quant_max, out_f32=False)
    # float zero points (per_channel_affine_float_qparams): torch divides by the scale (no inverse)
    # and adds the zero point before rounding, in float32 for every input dtype (float64 included),
    # and scales back in the input's dtype
    xc = _compute(input)
    s32 = s.astype(_F32)
    q = jnp.round(input.astype(_F32) / s32 + z.astype(_F32)).astype(xc.dtype)
    zc = z.astype(xc.dtype)
    mask = (q >= quant_min) & (q <= quant_max)
    qc = jnp.fmin(jnp.fmax(q, jnp.asarray(quant_min, xc.dtype)), jnp.asarray(quant_max, xc.dtype))
    return ((qc - zc) * s32.astype(xc.dtype)).astype(input.dtype), mask


def _fqc_samples():
    z = np.array([0, 1, -1], "int32")
    s = np.array([0.1, 0.2, 0.3], "float32")
    return [Sample(A(2, 3, 4), s, z, 1, -128, 127), Sample(A(3, 2), s, z, 0, -4, 3),
            Sample(A(4, 3, dtype="float64"), s, z, 1, -8, 7),
            Sample(A(2, 3), s, np.array([0.5, -1.25, 2.0], "float32"), 1, -8, 7)]


@register("fake_quantize_per_channel_affine", nin=3, method=False,
          grad_name="FakeQuantizePerChannelAffineCachemaskBackward0", samples=_fqc_samples)
def _fq_per_channel(input, scale, zero_point, axis, quant_min, quant_max):
    """Kernel of :func:`fake_quantize_per_channel_affine`."""
    _per_channel_checks("fake_quantize_per_channel_affine", input, scale, zero_point, axis)
    out, mask = _fq_channel_core(input, scale, zero_point, axis, quant_min, quant_max)
    return _ste(input, out, mask)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """Fake-quantize ``input`` with one ``scale``/``zero_point`` per slice along ``axis``.

    Same formula and straight-through gradient as :func:`fake_quantize_per_tensor_affine`, with
    ``scale[c]``/``zero_point[c]`` used for index ``c`` of dim ``axis``. Float zero points
    (``per_channel_affine_float_qparams``) are added before rounding:
    ``(clamp(nearbyint(input / scale + zero_point)) - zero_point) * scale``.

    Args:
        input: a floating tensor with at least one dim.
        scale: a 1-D float32 (or bfloat16) tensor of ``input.size(axis)`` elements.
        zero_point: a 1-D int32, float32 or float16 tensor of the same length, inside
            ``[quant_min, quant_max]``.
        axis: the channel dim (``0 <= axis < input.dim()``).
        quant_min, quant_max: the integer range of the quantized domain.
    """
    op = "fake_quantize_per_channel_affine"
    for n, t in (("input", input), ("scale", scale), ("zero_point", zero_point)):
        if not isinstance(t, Tensor):
            raise OpTypeError(f"{op}(): argument '{n}' must be Tensor, not {type(t).__name__}")
    _check_input(input._data, op)
    _check_range(op, quant_min, quant_max)
    _no_grad_qparam(op, "fake_quantize_per_channel_affine_cachemask", scale, zero_point)
    z = _concrete(zero_point)
    if z is not None and z.size and (z.min() < quant_min or z.max() > quant_max):
        raise ShapeError(f"{op}(): `zero_point` must be between `quant_min` and `quant_max` (got "
                         f"zero_point={z.tolist()}, range [{quant_min}, {quant_max}]).")
    return REGISTRY[op].call(input, scale, zero_point, axis, quant_min, quant_max)


REGISTRY["fake_quantize_per_channel_affine"].impl = fake_quantize_per_channel_affine


# ----- learnable (LSQ) per tensor ------------------------------------------------------------
@register("_fake_quantize_learnable_per_tensor_affine", nin=3, method=False,
          grad_name="FakeQuantizeLearnablePerTensorAffineBackward0")
def _fake_quantize_learnable_per_tensor_affine(input, scale, zero_point, quant_min, quant_max,
                                               grad_factor=1.0):
    """Fake quantization with gradients for ``scale`` and ``zero_point`` too (LSQ, as torch's
    ``_fake_quantize_learnable_per_tensor_affine``).

    The forward is :func:`fake_quantize_per_tensor_affine` with ``zero_point`` rounded to the
    nearest integer and clamped into the range. Gradients: ``input`` straight through inside the
    range; ``scale`` gets ``(q - zero_point) - x / scale`` inside the range and ``quant_min|max -
    zero_point`` outside, and ``zero_point`` gets ``-scale`` outside the range (zero inside), both
    summed over elements and multiplied by ``grad_factor``.

    Args:
        input: a floating tensor.
        scale, zero_point: one-element float tensors (the learnable qparams).
        quant_min, quant_max: the integer range.
        grad_factor: a factor on the ``scale``/``zero_point`` gradients.
    """
    s = scale.reshape(()).astype(_F32)
    z = jnp.clip(jnp.round(_sg(zero_point.reshape(()).astype(_F32))), quant_min, quant_max)
    x = input
    xc = _compute(x)
    inv = (1.0 / s).astype(xc.dtype)
    q = jnp.round(_sg(xc) * _sg(inv)) + _sg(z).astype(xc.dtype)
    below, above = q < quant_min, q > quant_max
    inside = ~(below | above)
    qc = jnp.clip(q, quant_min, quant_max)
    out = ((qc - _sg(z).astype(xc.dtype)).astype(_F32) * _sg(s)).astype(x.dtype)
    # build the same output with the gradient paths of torch's formulas
    # torch's per-element d(out)/d(scale) inside the range: (fake_quant(x) - x) / scale
    ds_in = (_sg(out).astype(_F32) - _sg(xc).astype(_F32)) * _sg(inv).astype(_F32)
    ds_out = (qc - _sg(z)).astype(_F32)
    g_s = jnp.where(inside, ds_in, ds_out) * grad_factor
    g_z = jnp.where(inside, 0.0, -_sg(s)) * grad_factor
    zt = zero_point.reshape(()).astype(_F32)
    extra = g_s * (s - _sg(s)) + g_z * (zt - _sg(zt))
    return _ste(x, out, inside) + extra.astype(x.dtype)


def _const(v, dtype):
    """A constant divisor XLA may not replace by a multiplication with its reciprocal (which can
    change the last bit of the quotient; torch divides)."""
    return jax.lax.optimization_barrier(jnp.asarray(v, dtype))


# ----- qparams (torch's ChooseQuantizationParams) --------------------------------------------
_SMALL_SCALE = np.float32(6.1e-5)


def choose_qparams(mn, mx, qmin: int, qmax: int, preserve_sparsity=False, reduce_range=False):
    """``(scale float64, zero_point int32)`` arrays for observed ``mn``/``mx`` (float32 arrays of any
    shape), following torch's ChooseQuantizationParams: the range always includes 0, a zero or
    overflowing scale becomes 0.1, and scales below 6.1e-5 are raised to it (widening the range).
    ``preserve_sparsity`` makes the range symmetric around 0 (torch's symmetric observers)."""
    if reduce_range:
        qmin, qmax = qmin // 2, qmax // 2
    f64 = jnp.float64
    mn = jnp.asarray(mn, _F32)
    mx = jnp.asarray(mx, _F32)
    sym = (mn < 0) & (mx > 0) & preserve_sparsity
    if preserve_sparsity:
        sq_min = -((qmax - qmin) // 2 + 1)
        sq_max = (qmax - qmin) // 2
        ms = jnp.maximum(jnp.abs(mn.astype(f64) / sq_min), jnp.abs(mx.astype(f64) / sq_max))
        mn = jnp.where(sym, (ms * sq_min).astype(_F32), mn)
        mx = jnp.where(sym, (ms * sq_max).astype(_F32), mx)
    mn = jnp.minimum(mn, 0.0)
    mx = jnp.maximum(mx, 0.0)
    scale = (mx.astype(f64) - mn.astype(f64)) / _const(qmax - qmin, f64)
    s32 = scale.astype(_F32)
    scale = jnp.where((s32 == 0) | jnp.isinf(1.0 / s32), 0.1, scale)
    small = scale < float(_SMALL_SCALE)
    amp = (_SMALL_SCALE / scale.astype(_F32)).astype(_F32)
    span = _SMALL_SCALE * np.float32(qmax - qmin)
    mn2 = jnp.where(mn == 0, mn, jnp.where(mx == 0, -span, mn * amp))
    mx2 = jnp.where(mn == 0, span, jnp.where(mx == 0, mx, mx * amp))
    mn = jnp.where(small, mn2, mn).astype(f64)
    mx = jnp.where(small, mx2, mx).astype(f64)
    scale = jnp.where(small, float(_SMALL_SCALE), scale)
    zmin = qmin - mn / scale
    zmax = qmax - mx / scale
    emin = abs(qmin) - jnp.abs(mn / scale)
    emax = abs(qmax) - jnp.abs(mx / scale)
    z0 = jnp.where(emin < emax, zmin, zmax)
    z0 = jnp.where(sym, (qmin + qmax) / 2.0, z0)
    zp = jnp.where(z0 < qmin, qmin, jnp.where(z0 > qmax, qmax, jnp.round(z0)))
    return scale, zp.astype(jnp.int32)


# ----- fused observer + fake quant -------------------------------------------------------------
def _fused_samples():
    def state(n):
        return (np.full(n, np.inf, "float32"), np.full(n, -np.inf, "float32"), np.ones(n, "float32"),
                np.zeros(n, "int32"))
    on, off = np.array([1]), np.array([0])
    return [Sample(A(3, 4), on, on, *state(1), 0.01, 0, 255, 0, grad=False),
            Sample(A(3, 4), on, on, *state(3), 0.01, -128, 127, 0, True, True, grad=False),
            Sample(A(2, 5), on, off, *state(1), 0.5, -8, 7, 0, grad=False)]


@register("fused_moving_avg_obs_fake_quant", nin=7, method=False, samples=_fused_samples,
          grad_name="FusedMovingAvgObsFqHelperBackward0")
def _fused_kernel(self, observer_on, fake_quant_on, running_min, running_max, scale, zero_point,
                  averaging_const, quant_min, quant_max, ch_axis, per_row_fake_quant=False,
                  symmetric_quant=False):
    """Kernel of :func:`fused_moving_avg_obs_fake_quant`: ``(output, running_min, running_max,
    scale, zero_point)`` (the last four are written back by the public function)."""
    x = self
    xs = _sg(x).astype(_F32)
    if per_row_fake_quant:
        rows = xs.reshape(xs.shape[0], -1) if xs.ndim else xs.reshape(1, 1)
        xmin, xmax = rows.min(axis=1), rows.max(axis=1)
    else:
        xmin, xmax = xs.min().reshape(1), xs.max().reshape(1)
    rmin = running_min.astype(_F32)
    rmax = running_max.astype(_F32)
    c = jnp.float32(averaging_const)
    new_min = jnp.where(jnp.isinf(rmin), xmin, _mul_add_f32(c, xmin - rmin, rmin))
    new_max = jnp.where(jnp.isinf(rmax), xmax, _mul_add_f32(c, xmax - rmax, rmax))
    obs = observer_on.reshape(-1)[0] == 1
    rmin = jnp.where(obs, new_min, rmin)
    rmax = jnp.where(obs, new_max, rmax)
    fq = fake_quant_on.reshape(-1)[0] == 1
    s_new, z_new = choose_qparams(rmin, rmax, quant_min, quant_max, preserve_sparsity=symmetric_quant)
    s = jnp.where(fq, s_new.reshape(scale.shape), scale.astype(_F32))
    z = jnp.where(fq, z_new.reshape(zero_point.shape), zero_point.astype(jnp.int32))
    if per_row_fake_quant:
        out, mask = _fq_channel_core(x, s, z, ch_axis, quant_min, quant_max)
    else:
        out, mask = _fq_core(x, s.reshape(-1)[0], z.reshape(-1)[0], quant_min, quant_max)
    y = jnp.where(fq, _ste(x, out, mask), x)
    return (y, rmin.astype(running_min.dtype), rmax.astype(running_max.dtype), s.astype(scale.dtype),
            z.astype(zero_point.dtype))


def fused_moving_avg_obs_fake_quant(input, observer_on, fake_quant_on, running_min, running_max, scale,
                                    zero_point, averaging_const, quant_min, quant_max, ch_axis,
                                    per_row_fake_quant=False, symmetric_quant=False):
    """A moving-average min/max observer fused with fake quantization (torch's QAT fast path).

    If ``observer_on[0] == 1``, ``running_min``/``running_max`` move towards the min/max of
    ``input`` (``running += averaging_const * (batch - running)``; an infinite running value is
    replaced by the batch value). If ``fake_quant_on[0] == 1``, ``scale``/``zero_point`` are
    recomputed from the running range and the output is ``input`` fake-quantized with them (per
    tensor, or per row along ``ch_axis`` 0 with ``per_row_fake_quant``); otherwise the output is
    ``input``. ``running_min``, ``running_max``, ``scale`` and ``zero_point`` are updated in place.

    Args:
        input: a float tensor.
        observer_on, fake_quant_on: one-element integer tensors (flags).
        running_min, running_max, scale: float32 tensors (1 element, or one per row).
        zero_point: an int32 tensor of the same length.
        averaging_const: the moving-average factor.
        quant_min, quant_max: the integer range.
        ch_axis: the channel dim for per-row fake quantization (must be 0).
        per_row_fake_quant: per-channel observer and fake quantization along dim 0.
        symmetric_quant: symmetric qparams (torch's preserve-sparsity rule).
    Returns:
        The (fake-quantized) output, of ``input``'s shape.
    """
    op = "fused_moving_avg_obs_fake_quant"
    _check_input(input._data, op)
    _check_range(op, quant_min, quant_max)
    if per_row_fake_quant and ch_axis != 0:
        raise ShapeError(f"{op}(): Per-channel FakeQuant in fused_moving_avg_obs_fake_quant is only "
                         f"supported on axis == 0 (got ch_axis={ch_axis})")
    state = (running_min, running_max, scale, zero_point)
    outs = REGISTRY[op].call(input, observer_on, fake_quant_on, *state, float(averaging_const),
                             quant_min, quant_max, ch_axis, bool(per_row_fake_quant), bool(symmetric_quant))
    for t, new in zip(state, outs[1:]):
        t._data = new._data
        t._version += 1
    return outs[0]


REGISTRY["fused_moving_avg_obs_fake_quant"].impl = fused_moving_avg_obs_fake_quant


# ----- choose_qparams_optimized ------------------------------------------------------------------
def _l2_error(x, valid, xmin, xmax, bit_width):
    """The L2 error of quantizing ``x`` to ``bit_width`` bits over ``[xmin, xmax]``, with ``xmin`` and
    the scale rounded to float16 (torch's embedding-table format stores them so)."""
    qmax = np.float32((1 << bit_width) - 1)
    xmin = xmin.astype(jnp.float16).astype(_F32)
    rng = xmax - xmin
    scale = jnp.where(rng == 0, jnp.float32(1), (rng / _const(qmax, _F32)).astype(jnp.float16).astype(_F32))
    inv = jnp.where(scale == 0, jnp.float32(1), jnp.float32(1) / scale)
    q = jnp.clip(jnp.round((x - xmin) * inv), 0, qmax)
    d = x - _mul_add_f32(q, scale, xmin)
    return jnp.sqrt(jnp.sum(jnp.where(valid, d * d, 0)))


@register("choose_qparams_optimized", nin=1, method=False, differentiable=False,
          samples=lambda: [Sample(A(40), 40, 200, 0.16, 8, grad=False),
                           Sample(A(6, 5, low=-5, high=3), 27, 50, 0.5, 4, grad=False)])
def _choose_qparams_optimized(input, numel, n_bins, ratio, bit_width):
    """Kernel of :func:`choose_qparams_optimized`."""
    op = "choose_qparams_optimized"
    if input.dtype != jnp.float32:
        raise DTypeError(f"{op}(): Expected input tensor of dtype float32, got "
                         f"{_TORCH_NAMES.get(str(input.dtype), str(input.dtype))}")
    x = input.reshape(-1)
    if numel < 0 or numel > x.shape[0]:
        raise ShapeError(f"{op}(): numel ({numel}) must be between 0 and the number of elements of "
                         f"input ({x.shape[0]})")
    valid = jnp.arange(x.shape[0]) < numel
    xmin = jnp.min(jnp.where(valid, x, jnp.inf))
    xmax = jnp.max(jnp.where(valid, x, -jnp.inf))
    step = (xmax - xmin) / _const(n_bins, _F32)
    min_bins = np.float32(int(n_bins * (1.0 - np.float32(ratio))))
    loss0 = _l2_error(x, valid, xmin, xmax, bit_width)
    thr = step * min_bins

    def cond(c):
        cur_min, cur_max = c[0], c[1]
        return cur_min + thr < cur_max

    def body(c):
        cur_min, cur_max, cur_loss, best_min, best_max, best_loss = c
        loss1 = _l2_error(x, valid, cur_min + step, cur_max, bit_width)
        loss2 = _l2_error(x, valid, cur_min, cur_max - step, bit_width)
        better = (cur_loss < loss1) & (cur_loss < loss2) & (cur_loss < best_loss)
        best_min = jnp.where(better, cur_min, best_min)
        best_max = jnp.where(better, cur_max, best_max)
        best_loss = jnp.where(better, cur_loss, best_loss)
        left = loss1 < loss2
        return (jnp.where(left, cur_min + step, cur_min), jnp.where(left, cur_max, cur_max - step),
                jnp.where(left, loss1, loss2), best_min, best_max, best_loss)

    c = jax.lax.while_loop(cond, body, (xmin, xmax, loss0, xmin, xmax, loss0))
    return c[4].reshape(1), c[3].reshape(1)


def choose_qparams_optimized(input, numel, n_bins, ratio, bit_width):
    """Search for a clipping range ``(xmax, xmin)`` of ``input`` that minimises the L2 error of
    ``bit_width``-bit affine quantization (torch's greedy search used for embedding tables).

    Starting from the data range split into ``n_bins`` steps, each round moves either end in by one
    step (whichever gives the lower error) until only ``n_bins * (1 - ratio)`` steps remain; the best
    range seen is returned.

    Args:
        input: a float32 tensor (flattened; its first ``numel`` elements are used).
        numel: how many elements to use.
        n_bins: the number of steps the range is divided into.
        ratio: the fraction of the range the search may clip away.
        bit_width: bits of the target quantization (``2 ** bit_width - 1`` levels).
    Returns:
        ``(xmax, xmin)``: two one-element float32 tensors.
    """
    return REGISTRY["choose_qparams_optimized"].call(input, int(numel), int(n_bins), float(ratio),
                                                     int(bit_width))


REGISTRY["choose_qparams_optimized"].impl = choose_qparams_optimized


def install() -> None:
    """Put the quantized-tensor accessors on Tensor (``dequantize``, ``int_repr``, ``q_scale`` ...)."""
    from .._torch_misc import _qtensor
    _qtensor.install_tensor_methods()
