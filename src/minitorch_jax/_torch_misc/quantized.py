"""torch's top-level quantized-tensor names: the quantized dtypes (``mt.qint8`` ...), the
quantization schemes (``mt.per_tensor_affine`` ...), ``quantize_per_tensor``,
``quantize_per_channel``, ``quantize_per_tensor_dynamic``, ``dequantize``, ``empty_quantized``
and the functional qparam accessors (``mt.int_repr``, ``mt.q_scale`` ...).

Quantization rounds as torch's CPU kernel does: ``q = clamp(nearbyint(x * (1 / scale) + zero_point))``
with ``1 / scale`` in float32 and the multiply-add fused (one rounding). The fake-quantization ops
(``mt.fake_quantize_per_tensor_affine`` ...) live in ``_ops/quantize_ops.py``. Quantized tensors are
eager objects: they do not enter ``mt.jit`` programs (use fake quantization there).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor
from ._qtensor import (
    QDTYPES,
    QTensor,
    _qdtype,
    make_qtensor,
    per_channel_affine,
    per_channel_affine_float_qparams,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qint8,
    qint32,
    qscheme,
    quint2x4,
    quint4x2,
    quint8,
)

__all__ = ["qint8", "quint8", "qint32", "quint4x2", "quint2x4", "qscheme", "per_tensor_affine",
           "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
           "per_channel_affine_float_qparams", "quantize_per_tensor", "quantize_per_channel",
           "quantize_per_tensor_dynamic", "dequantize", "empty_quantized", "int_repr", "q_scale",
           "q_zero_point", "q_per_channel_scales", "q_per_channel_zero_points", "q_per_channel_axis"]

_TORCH_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "qint8": "QInt8", "quint8": "QUInt8", "qint32": "QInt32",
                "quint4x2": "QUInt4x2", "quint2x4": "QUInt2x4"}


def _tname(d) -> str:
    name = getattr(d, "name", None) or str(np.dtype(d))
    return _TORCH_NAMES.get(name, name)


def _check_qdtype(dtype) -> _qdtype:
    if not isinstance(dtype, _qdtype):
        raise RuntimeError(f"ScalarType {_tname(dtype)} is not supported in new_qtensor.")
    return dtype


def _float_input(x, op: str, per_channel=False):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.is_quantized:
        raise RuntimeError(f"{op}(): input is already quantized")
    if x._data.dtype != np.float32:
        if per_channel:
            raise RuntimeError(f"{op}(): quantize_tensor_per_channel_affine expects a Float Tensor, got "
                               f"{_tname(x._data.dtype)}")
        raise RuntimeError(f"{op}(): Quantize only works on Float Tensor, got {_tname(x._data.dtype)}")
    return x._data


def _check_zp(op: str, kernel: str, zps, d: _qdtype) -> None:
    for z in np.atleast_1d(np.asarray(zps)).tolist():
        if z > d.qmax:
            raise RuntimeError(f"{op}(): {kernel} zero_point {z} is above upper bound.")
        if z < d.qmin:
            raise RuntimeError(f"{op}(): {kernel} zero_point {z} is below lower bound.")


def _round_affine(x, inv32, zp, qmin, qmax, np_dtype, fused):
    """``clamp(nearbyint(x * inv + zp))`` in float32. ``fused``: the multiply-add rounds once (torch's
    vectorised qint8/quint8 per-tensor kernel, an FMA); otherwise the product is rounded to float32
    before ``zp`` is added (its per-channel and qint32 kernels)."""
    if fused:
        t = (x.astype(jnp.float64) * inv32.astype(jnp.float64) + zp).astype(jnp.float32)
    else:
        from .._ops.quantize_ops import _mul_add_f32
        t = _mul_add_f32(x, inv32, jnp.asarray(zp).astype(jnp.float32))
    return jnp.clip(jnp.round(t), qmin, qmax).astype(np_dtype)


_round_affine_jit = jax.jit(_round_affine, static_argnums=(3, 4, 5, 6))


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _quant_channel(x, s, z, axis, qmin, qmax, np_dtype):
    shape = [1] * x.ndim
    shape[axis] = -1
    inv = (jnp.float32(1) / s.astype(jnp.float32)).reshape(shape)
    return _round_affine(x, inv, z.reshape(shape), qmin, qmax, np_dtype, False)


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6))
def _quant_channel_float(x, s, z, axis, qmin, qmax, np_dtype):
    shape = [1] * x.ndim
    shape[axis] = -1
    return jnp.clip(jnp.round(x / s.reshape(shape) + z.reshape(shape)), qmin, qmax).astype(np_dtype)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _dynamic_qparams(x, qmin, qmax, reduce_range):
    from .._ops.quantize_ops import choose_qparams
    return choose_qparams(jnp.min(x, initial=0.0), jnp.max(x, initial=0.0), qmin, qmax,
                          reduce_range=reduce_range)


def _number(v, what: str, op: str):
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeError(f"{op}(): {what}: a Tensor with {v.numel()} elements cannot be converted "
                               "to Scalar")
        return v.item()
    return v


def quantize_per_tensor(input, scale, zero_point, dtype):
    """Quantize a float32 tensor with one ``scale`` and ``zero_point``.

    ``int_repr = clamp(nearbyint(input / scale + zero_point), qmin, qmax)`` with the range of
    ``dtype``. With a list of tensors, ``scale``/``zero_point`` are tensors with one value per
    tensor and a tuple of quantized tensors is returned.

    Args:
        input: a float32 tensor (or a list of them).
        scale: a float (or a one-element tensor).
        zero_point: an int inside ``dtype``'s range (or a one-element tensor).
        dtype: ``mt.quint8``, ``mt.qint8``, ``mt.qint32``, ``mt.quint4x2`` or ``mt.quint2x4``.
    Returns:
        A :class:`QTensor` with ``qscheme() == mt.per_tensor_affine``.
    """
    op = "quantize_per_tensor"
    if isinstance(input, (list, tuple)):
        s = np.asarray(scale._data if isinstance(scale, Tensor) else scale, np.float64).reshape(-1)
        z = np.asarray(zero_point._data if isinstance(zero_point, Tensor) else zero_point).reshape(-1)
        if len(s) != len(input) or len(z) != len(input):
            raise RuntimeError(f"{op}(): expected {len(input)} scales and zero points, got {len(s)} and "
                               f"{len(z)}")
        return tuple(quantize_per_tensor(t, float(si), int(zi), dtype) for t, si, zi in zip(input, s, z))
    d = _check_qdtype(dtype)
    x = _float_input(input, op)
    scale = float(_number(scale, "scale", op))
    zero_point = int(_number(zero_point, "zero_point", op))
    _check_zp(op, "quantize_tensor_per_tensor_affine", zero_point, d)
    inv = np.float32(1) / np.float32(scale) if scale != 0 else np.float32(np.inf)
    fused = d is qint8 or d is quint8
    q = _round_affine_jit(x, jnp.asarray(inv), zero_point, d.qmin, d.qmax, d.storage, fused)
    return make_qtensor(q, d, per_tensor_affine, scale, zero_point)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """Quantize a float32 tensor with one ``scale``/``zero_point`` per index of dim ``axis``.

    Integer zero points give ``mt.per_channel_affine`` (float64 scales, int64 zero points are
    kept); float zero points give ``mt.per_channel_affine_float_qparams``.

    Args:
        input: a float32 tensor.
        scales: a 1-D tensor with ``input.size(axis)`` elements.
        zero_points: a 1-D tensor of the same length.
        axis: the channel dim (``0 <= axis < input.dim()``).
        dtype: a quantized dtype.
    """
    op = "quantize_per_channel"
    d = _check_qdtype(dtype)
    x = _float_input(input, op, per_channel=True)
    if not (isinstance(scales, Tensor) and isinstance(zero_points, Tensor)):
        raise TypeError(f"{op}(): scales and zero_points must be Tensors")
    if not 0 <= axis < x.ndim:
        raise RuntimeError(f"{op}(): Channel axis out of range in per channel affine quantization. Got: "
                           f"{axis}Expected: [0, {x.ndim})")
    n = x.shape[axis]
    for what, t in (("scales", scales), ("zero_points", zero_points)):
        if t.numel() != n:
            raise RuntimeError(f"{op}(): length of {what} must equal to channel, expected {n} got, "
                               f"{t.numel()}")
    float_q = np.issubdtype(zero_points._data.dtype, np.floating)
    if float_q:
        sf = scales._data.astype(jnp.float32).reshape(-1)
        zf = zero_points._data.astype(jnp.float32).reshape(-1)
        q = _quant_channel_float(x, sf, zf, axis, d.qmin, d.qmax, d.storage)
        return make_qtensor(q, d, per_channel_affine_float_qparams, sf, zf, axis)
    s = scales._data.astype(jnp.float64).reshape(-1)
    z = zero_points._data.astype(jnp.int64).reshape(-1)
    _check_zp(op, "quantize_tensor_per_channel_affine", z, d)
    q = _quant_channel(x, s, z, axis, d.qmin, d.qmax, d.storage)
    return make_qtensor(q, d, per_channel_affine, s, z, axis)


def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """Quantize with qparams chosen from ``input``'s own min and max (dynamic quantization).

    Args:
        input: a float32 tensor.
        dtype: ``mt.quint8`` or ``mt.qint8``.
        reduce_range: use half the integer range (7 bits), as torch's fbgemm path does.
    """
    op = "quantize_per_tensor_dynamic"
    if dtype is not quint8 and dtype is not qint8:
        raise RuntimeError(f"{op}(): dtype {_tname(dtype)}not supported")
    x = _float_input(input, op)
    s, z = _dynamic_qparams(x, dtype.qmin, dtype.qmax, bool(reduce_range))
    return quantize_per_tensor(input, float(s), int(z), dtype)


def dequantize(tensor):
    """The float32 values of a quantized tensor (or a tuple of them for a list); a plain tensor is
    returned unchanged."""
    if isinstance(tensor, (list, tuple)):
        return tuple(dequantize(t) for t in tensor)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"dequantize(): expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    return tensor.dequantize()


def empty_quantized(size, qtensor, *, dtype=None, layout=None, device=None, pin_memory=None,
                    memory_format=None):
    """A quantized tensor of ``size`` with ``qtensor``'s dtype and qparams (values: zero integers).

    Args:
        size: the shape (a list or tuple of ints).
        qtensor: the quantized tensor whose dtype, scheme and qparams are copied.
    """
    if not isinstance(qtensor, QTensor):
        raise RuntimeError("empty_quantized(): qtensor must be a quantized tensor")
    dd = qtensor.__dict__
    d = dd["qdtype"] if dtype is None else _check_qdtype(dtype)
    q = jnp.zeros(tuple(int(s) for s in size), d.storage)
    return make_qtensor(q, d, dd["scheme"], dd["scale"], dd["zero_point"], dd.get("axis"))


def _accessor(name: str):
    def f(input):
        return getattr(input, name)()
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name}()`` (see :class:`QTensor`)."
    return f


int_repr = _accessor("int_repr")
q_scale = _accessor("q_scale")
q_zero_point = _accessor("q_zero_point")
q_per_channel_scales = _accessor("q_per_channel_scales")
q_per_channel_zero_points = _accessor("q_per_channel_zero_points")
q_per_channel_axis = _accessor("q_per_channel_axis")

_ = (QDTYPES, per_channel_symmetric, per_tensor_symmetric, qint32, quint2x4, quint4x2)
