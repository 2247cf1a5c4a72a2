"""Quantized tensors: the quantized dtypes, ``qscheme`` objects and :class:`QTensor`.

A :class:`QTensor` is a :class:`Tensor` subclass holding the integer representation (a jax array
of int8/uint8/int32) and its qparams (``scale``/``zero_point``, per tensor or per channel). As in
torch, it supports only what quantized tensors support: ``int_repr()``, ``dequantize()``, the
qparam accessors, shape queries, ``clone``/``detach``, ``view``/``reshape`` and basic indexing
(per-tensor ones). Every other op raises ``NotImplementedError`` in torch's words ("Could not run
'aten::add' with arguments from the 'QuantizedCPU' backend"): dequantize first.

Differences from torch: ``quint4x2``/``quint2x4`` values are kept unpacked internally (one per
uint8); ``int_repr()`` packs them as torch does. Indexing and reshaping a per-channel quantized
tensor raise (dequantize it first).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor, _wrap

__all__ = ["qint8", "quint8", "qint32", "quint4x2", "quint2x4", "qscheme", "per_tensor_affine",
           "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
           "per_channel_affine_float_qparams", "QTensor"]


class _qdtype(_dtype.dtype):
    """A quantized element type (``mt.qint8`` ...): an integer storage type plus a value range.

    ``is_floating_point``/``is_complex`` are False; ``itemsize`` is the storage bytes per element;
    ``is_signed`` raises, as in torch; ``qmin``/``qmax`` are the value range and ``storage`` the numpy
    dtype of the integer values. Plain tensors cannot take these dtypes (creation raises).
    """

    __slots__ = ("qmin", "qmax", "storage")

    def __init__(self, name: str, storage, qmin: int, qmax: int, itemsize: int):
        self.name = name
        self.storage = np.dtype(storage)
        self.is_floating_point = False
        self.is_complex = False
        self.itemsize = itemsize
        self._cat = _dtype._INT
        self.qmin = qmin
        self.qmax = qmax

    @property
    def is_signed(self):
        raise RuntimeError("isSignedType not supported for quantized types")

    @property
    def np(self):
        # plain tensors cannot take a quantized dtype (mt.zeros(2, dtype=mt.qint8), t.to(mt.qint8))
        raise RuntimeError(f"{self!r} is a quantized dtype: plain tensors cannot have it; make quantized "
                           "tensors with mt.quantize_per_tensor / mt.quantize_per_channel")

    def __reduce__(self):
        return (_qdtype_by_name, (self.name,))


qint8 = _qdtype("qint8", np.int8, -128, 127, 1)
quint8 = _qdtype("quint8", np.uint8, 0, 255, 1)
qint32 = _qdtype("qint32", np.int32, -(2 ** 31), 2 ** 31 - 1, 4)
quint4x2 = _qdtype("quint4x2", np.uint8, 0, 15, 1)
quint2x4 = _qdtype("quint2x4", np.uint8, 0, 3, 1)
QDTYPES = {d.name: d for d in (qint8, quint8, qint32, quint4x2, quint2x4)}


def _qdtype_by_name(name: str) -> _qdtype:
    return QDTYPES[name]


class qscheme:
    """A quantization scheme (``mt.per_tensor_affine`` ...), printed like torch's."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"minitorch_jax.{self.name}"

    def __reduce__(self):
        return (_qscheme_by_name, (self.name,))


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")
_SCHEMES = {s.name: s for s in (per_tensor_affine, per_channel_affine, per_tensor_symmetric,
                                per_channel_symmetric, per_channel_affine_float_qparams)}


def _qscheme_by_name(name: str) -> qscheme:
    return _SCHEMES[name]


def _backend_error(op: str, backend: str = "QuantizedCPU") -> NotImplementedError:
    return NotImplementedError(
        f"Could not run 'aten::{op}' with arguments from the '{backend}' backend. This operator "
        f"does not support {'quantized' if backend != 'CPU' else 'non-quantized'} tensors"
        + (": call .dequantize() first and quantize the result again if needed."
           if backend != "CPU" else "."))


def _is_per_tensor(s: qscheme) -> bool:
    return s is per_tensor_affine or s is per_tensor_symmetric


class QTensor(Tensor):
    """A quantized tensor (what ``mt.quantize_per_tensor`` returns): integer values plus qparams.

    ``dequantize()`` gives ``(int_repr - zero_point) * scale`` as float32. Ordinary ops raise
    ``NotImplementedError`` (see the module docstring).
    """

    __slots__ = ()

    # ----- the array is not reachable by ordinary ops -----------------------------------------
    @property
    def _data(self):
        raise NotImplementedError(
            "Could not run this operator with arguments from the 'QuantizedCPU' backend: a quantized "
            "tensor supports only int_repr(), dequantize(), its qparams and shape queries; call "
            ".dequantize() first.")

    @_data.setter
    def _data(self, value):
        raise RuntimeError("a quantized tensor's values cannot be assigned in place; build a new one "
                           "with mt.quantize_per_tensor")

    # ----- qparams -------------------------------------------------------------------------------
    def int_repr(self) -> Tensor:
        """The integer values as a tensor: int8 for qint8, uint8 for quint8, int32 for qint32. For
        quint4x2/quint2x4, the packed bytes as torch stores them: a 1-D uint8 tensor holding 2 (or 4)
        values per byte, lowest bits first, over the flattened values."""
        q = self.__dict__["q"]
        per = {"quint4x2": 2, "quint2x4": 4}.get(self.dtype.name)
        if per is None:
            return _wrap(q)
        return _wrap(_pack(q, per))

    def qscheme(self) -> qscheme:
        """The quantization scheme (``mt.per_tensor_affine`` ...)."""
        return self.__dict__["scheme"]

    def q_scale(self) -> float:
        """The scale of a per-tensor quantized tensor (a Python float)."""
        if not _is_per_tensor(self.qscheme()):
            raise RuntimeError("q_scale(): Expected quantizer->qscheme() == kPerTensorAffine to be true, "
                               f"but got false (this tensor is {self.qscheme()}).")
        return self.__dict__["scale"]

    def q_zero_point(self) -> int:
        """The zero point of a per-tensor quantized tensor (a Python int)."""
        if not _is_per_tensor(self.qscheme()):
            raise RuntimeError("q_zero_point(): Expected quantizer->qscheme() == kPerTensorAffine to be "
                               f"true, but got false (this tensor is {self.qscheme()}).")
        return self.__dict__["zero_point"]

    def _per_channel(self, name):
        if _is_per_tensor(self.qscheme()):
            raise RuntimeError(f"{name}(): Expected quantizer->qscheme() == kPerChannelAffine || "
                               "quantizer->qscheme() == kPerChannelAffineFloatQParams to be true, but got "
                               f"false (this tensor is {self.qscheme()}).")

    def q_per_channel_scales(self) -> Tensor:
        """The per-channel scales (a float64 tensor)."""
        self._per_channel("q_per_channel_scales")
        return _wrap(self.__dict__["scale"])

    def q_per_channel_zero_points(self) -> Tensor:
        """The per-channel zero points (int64, or float for float qparams)."""
        self._per_channel("q_per_channel_zero_points")
        return _wrap(self.__dict__["zero_point"])

    def q_per_channel_axis(self) -> int:
        """The channel dim of a per-channel quantized tensor."""
        self._per_channel("q_per_channel_axis")
        return self.__dict__["axis"]

    def dequantize(self) -> Tensor:
        """The float32 values ``(int_repr - zero_point) * scale``."""
        return _wrap(_dequant_array(self))

    # ----- queries ---------------------------------------------------------------------------------
    @property
    def is_quantized(self) -> bool:
        """True."""
        return True

    @property
    def dtype(self) -> _qdtype:
        """The quantized dtype (``mt.qint8`` ...)."""
        return self.__dict__["qdtype"]

    @property
    def shape(self) -> Size:
        """The shape."""
        return Size(self.__dict__["q"].shape)

    @property
    def ndim(self) -> int:
        """Number of dims."""
        return self.__dict__["q"].ndim

    @property
    def device(self):
        """The device of the integer values."""
        return _wrap(self.__dict__["q"]).device

    def dim(self) -> int:
        """Number of dims."""
        return self.__dict__["q"].ndim

    ndimension = dim

    def size(self, dim=None):
        """The shape, or one dim's length."""
        return _wrap(self.__dict__["q"]).size(dim)

    def numel(self) -> int:
        """Number of elements."""
        return int(np.prod(self.__dict__["q"].shape, dtype=np.int64))

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element of the storage type."""
        return self.dtype.itemsize

    def is_floating_point(self) -> bool:
        """False."""
        return False

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.__dict__["q"].shape[0]

    def requires_grad_(self, requires_grad: bool = True):
        """Only ``False`` is allowed: quantized tensors are not differentiable."""
        if requires_grad:
            raise RuntimeError("requires_grad_(): only Tensors of floating point dtype can require "
                               "gradients (this tensor is quantized)")
        return self

    # ----- copies, views, indexing ---------------------------------------------------------------
    def _like(self, q) -> QTensor:
        d = self.__dict__
        return make_qtensor(q, d["qdtype"], d["scheme"], d["scale"], d["zero_point"], d.get("axis"))

    def clone(self, *, memory_format=None) -> QTensor:
        """A copy with the same qparams."""
        return self._like(self.__dict__["q"])

    def detach(self) -> QTensor:
        """Itself as a new tensor object (quantized tensors never require grad)."""
        return self._like(self.__dict__["q"])

    def __deepcopy__(self, memo):
        return self.clone()

    def _shape_op(self, name, fn):
        if not _is_per_tensor(self.qscheme()):
            raise NotImplementedError(f"{name}(): supported here for per-tensor quantized tensors only; "
                                      "dequantize() a per-channel tensor first")
        return self._like(fn(_wrap(self.__dict__["q"]))._data)

    def view(self, *shape):
        """A reshaped per-tensor quantized tensor."""
        return self._shape_op("view", lambda t: t.view(*shape))

    def reshape(self, *shape):
        """A reshaped per-tensor quantized tensor."""
        return self._shape_op("reshape", lambda t: t.reshape(*shape))

    def __getitem__(self, item):
        return self._shape_op("__getitem__", lambda t: t[item])

    def __eq__(self, other):
        if isinstance(other, QTensor):
            return self.dequantize() == other.dequantize()
        raise _backend_error("eq.Tensor")

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from .._repr import _add_suffixes, _body
        d = self.__dict__
        a = np.asarray(_dequant_array(self))
        indent = len("tensor(")
        if a.size == 0:
            body = "[]"
        else:
            body = _body(a, _dtype.float32, indent)
        suffixes = [f"size={tuple(a.shape)}", f"dtype={self.dtype}", f"quantization_scheme={self.qscheme()}"]
        if _is_per_tensor(self.qscheme()):
            suffixes += [f"scale={d['scale']}", f"zero_point={d['zero_point']}"]
        else:
            suffixes += [f"scale={_wrap(d['scale'])!r}", f"zero_point={_wrap(d['zero_point'])!r}",
                         f"axis={d['axis']}"]
        return _add_suffixes("tensor(" + body, suffixes, indent) + ")"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        d = self.__dict__
        scale, zp = d["scale"], d["zero_point"]
        if not _is_per_tensor(d["scheme"]):
            scale, zp = np.asarray(scale), np.asarray(zp)
        return (_rebuild_q, (np.asarray(d["q"]), d["qdtype"].name, d["scheme"].name, scale, zp,
                             d.get("axis")))


def _rebuild_q(q, dname, sname, scale, zp, axis):
    if not isinstance(scale, float):
        scale, zp = jnp.asarray(scale), jnp.asarray(zp)
    return make_qtensor(jnp.asarray(q), QDTYPES[dname], _SCHEMES[sname], scale, zp, axis)


def make_qtensor(q, qdtype, scheme, scale, zero_point, axis=None) -> QTensor:
    """A :class:`QTensor` around the integer array ``q`` (already clamped to ``qdtype``'s range).

    Per tensor: ``scale`` a float, ``zero_point`` an int. Per channel: 1-D jax arrays (float64
    scales, int64 or float zero points) and ``axis``.
    """
    t = object.__new__(QTensor)
    for k, v in (("requires_grad", False), ("grad_fn", None), ("_grad", None), ("_version", 0),
                 ("_output_nr", 0), ("_retains_grad", False), ("_hooks", None), ("_acc", None)):
        object.__setattr__(t, k, v)
    t.__dict__.update(q=q, qdtype=qdtype, scheme=scheme, scale=scale, zero_point=zero_point, axis=axis)
    return t


def _pack(q, per: int):
    """Pack unsigned sub-byte values ``per`` to a byte, lowest bits first (torch's layout)."""
    flat = q.reshape(-1).astype(jnp.uint8)
    pad = (-flat.shape[0]) % per
    flat = jnp.concatenate([flat, jnp.zeros(pad, jnp.uint8)]).reshape(-1, per)
    bits = 8 // per
    out = jnp.zeros(flat.shape[0], jnp.uint8)
    for i in range(per):
        out = out | (flat[:, i] << (bits * i)).astype(jnp.uint8)
    return out


def _dequant_array(t: QTensor):
    d = t.__dict__
    q = d["q"]
    if _is_per_tensor(d["scheme"]):
        return _dequant_tensor(q, np.float32(d["zero_point"]), np.float32(d["scale"]))
    return _dequant_channel(q, d["scale"], d["zero_point"], d["axis"],
                            d["scheme"] is per_channel_affine_float_qparams)


@jax.jit
def _dequant_tensor(q, zp, scale):
    return (q.astype(jnp.float32) - zp) * scale


@functools.partial(jax.jit, static_argnums=(3, 4))
def _dequant_channel(q, scale, zp, axis, float_qparams):
    shape = [1] * q.ndim
    shape[axis] = -1
    if float_qparams:
        s = scale.astype(jnp.float32).reshape(shape)
        z = zp.reshape(shape).astype(jnp.float32)
        return (q.astype(jnp.float32) - z) * s
    # torch scales back in float64 with the stored float64 scales, then rounds to float32
    s = scale.astype(jnp.float64).reshape(shape)
    z = zp.reshape(shape).astype(jnp.float64)
    return ((q.astype(jnp.float64) - z) * s).astype(jnp.float32)


# ----- Tensor methods for plain tensors ------------------------------------------------------------
_ALLOWED = frozenset("""int_repr qscheme q_scale q_zero_point q_per_channel_scales q_per_channel_zero_points
q_per_channel_axis dequantize clone detach view reshape size dim ndimension numel nelement element_size
is_floating_point requires_grad_""".split())


def _plain_accessor(name):
    def method(self, *args, **kwargs):
        raise _backend_error(name, "CPU")
    method.__name__ = name
    method.__qualname__ = "Tensor." + name
    method.__doc__ = f"Only for quantized tensors: ``{name}`` of a plain tensor raises, as in torch."
    return method


def _plain_dequantize(self) -> Tensor:
    """Dequantize: a plain (float) tensor is returned unchanged, as in torch."""
    return self


def _quantized_refusal(name):
    def method(self, *args, **kwargs):
        raise _backend_error(name)
    method.__name__ = name
    method.__qualname__ = "QTensor." + name
    method.__doc__ = f"Not supported on quantized tensors (``{name}`` raises, as in torch)."
    return method


_DUNDERS = ("add sub mul truediv floordiv mod pow matmul and or xor lshift rshift lt le gt ge ne "
            "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul rand ror rxor iadd isub imul itruediv "
            "neg pos abs invert").split()


def install_tensor_methods() -> None:
    """Put ``int_repr``/``q_scale``/... (raising) and ``dequantize`` (identity) on plain tensors, and
    make every op method of a :class:`QTensor` raise torch's backend error."""
    for name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales", "q_per_channel_zero_points",
                 "q_per_channel_axis", "qscheme"):
        setattr(Tensor, name, _plain_accessor(name))
    Tensor.dequantize = _plain_dequantize
    from .._ops._registry import REGISTRY
    for name, op in REGISTRY.items():
        for n in (name, *op.aliases):
            if op.method and n not in _ALLOWED and n not in QTensor.__dict__:
                setattr(QTensor, n, _quantized_refusal(n))
                if op.inplace:
                    setattr(QTensor, n + "_", _quantized_refusal(n + "_"))
    for stem in _DUNDERS:
        attr = f"__{stem}__"
        if hasattr(Tensor, attr):
            setattr(QTensor, attr, _quantized_refusal(stem))
