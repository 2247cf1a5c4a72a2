"""Dtype/device conversions and copies: ``to``, ``float()`` ..., ``clone``, ``type_as``."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _dtype
from .._device import device as _device
from .._errors import OpTypeError, OpValueError
from .._meta import is_meta_array, meta_array, no_data
from .._tensor import Tensor, _wrap
from .._torch_misc import _check_memory_format, _is_contiguous_as
from .._torch_misc.memory_formats import contiguous_format
from ._helpers import A, I, Sample
from ._registry import REGISTRY, make_function, register
from ._tensor_attrs import _view_layout, contiguous_strides


@register("_cast", method=False, function=False, grad_name="ToCopyBackward0")
def _cast(input, dtype):
    """Cast to ``dtype`` (an mt dtype); differentiable between inexact dtypes."""
    return input.astype(dtype.np)


@register("_to_device", method=False, function=False, jit=False, grad_name="ToCopyBackward0")
def _to_device(input, device):
    """Move to ``device`` (an mt device)."""
    return jax.device_put(input, device.jax_device())


@register("clone", samples=lambda: [Sample(A(3, 4)), Sample(I(2, 3)), Sample(A())])
def clone(input, *, memory_format=None):
    """A copy of ``input`` that is part of the graph (gradient flows back unchanged)."""
    _check_memory_format(memory_format, "clone", input.ndim)
    return jnp.array(input, copy=True)


_cast_fn = make_function(REGISTRY["_cast"])
_device_fn = make_function(REGISTRY["_to_device"])


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, (str, _device, int)):
            dev = a
        elif a is None:
            continue
        else:
            try:
                dtype = _dtype.as_dtype(a)
            except TypeError:
                raise OpTypeError(f"to() received an invalid combination of arguments: {a!r}") \
                    from None
    kwargs.pop("non_blocking", None)
    _check_memory_format(kwargs.pop("memory_format", None), "to")
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise OpTypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    return dtype, dev, copy


def to(self, *args, **kwargs):
    """Convert dtype and/or device: ``t.to(mt.float64)``, ``t.to('cpu')``, ``t.to(other)``.

    Returns ``self`` when nothing changes (unless ``copy=True``), as torch does.
    """
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    _check_memory_format(kwargs.get("memory_format"), "to", self.ndim)
    out = self
    if dtype is not None and _dtype.as_dtype(dtype) != self.dtype:
        out = _cast_fn(out, _dtype.as_dtype(dtype))
    if dev is not None:
        dev = _device(dev)
        if dev.type == "cuda" and dev.index is None:
            dev = _device("cuda", 0)
        if dev != out.device:
            if is_meta_array(out._data):
                raise no_data()
            out = _device_fn(out, dev) if dev.type != "meta" else \
                _wrap(meta_array(out.shape, out._data.dtype), out.requires_grad)
    if out is self and copy:
        out = self.clone()
    return out


def _as(d):
    def method(self, memory_format=None):
        _check_memory_format(memory_format, "to", self.ndim)
        return to(self, d)
    method.__name__ = d.name
    method.__doc__ = f"``self.to({d})``."
    return method


_METHOD_DTYPES = {"float": _dtype.float32, "double": _dtype.float64, "half": _dtype.float16,
                  "bfloat16": _dtype.bfloat16, "long": _dtype.int64, "int": _dtype.int32,
                  "short": _dtype.int16, "char": _dtype.int8, "byte": _dtype.uint8,
                  "bool": _dtype.bool, "cfloat": _dtype.complex64, "cdouble": _dtype.complex128}

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
               "complex128": "ComplexDoubleTensor", "uint16": "UInt16Tensor", "uint32": "UInt32Tensor",
               "uint64": "UInt64Tensor", "float8_e4m3fn": "Float8_e4m3fnTensor",
               "float8_e5m2": "Float8_e5m2Tensor"}


def type_(self, dtype=None, non_blocking=False):
    """With no argument, the type name (``'minitorch_jax.FloatTensor'``); else ``self.to(dtype)``."""
    if dtype is None:
        return "minitorch_jax." + _TYPE_NAMES[self.dtype.name]
    if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), _dtype.dtype):
        dtype = dtype.dtype  # a legacy tensor type: mt.FloatTensor ...
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        inv = {v: k for k, v in _TYPE_NAMES.items()}
        if name not in inv:
            raise OpValueError(f"type(): invalid type name {dtype!r}")
        dtype = _dtype.as_dtype(inv[name])
    return to(self, dtype)


def type_as(self, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return to(self, other.dtype)


def contiguous(self, memory_format=None) -> Tensor:
    """``self`` (JAX arrays have no strides to make contiguous), except a copy of a transposed,
    permuted or expanded view, or of a strided slice (``x[:, :2]``, ``x[::2]``), as torch makes
    (writing into the copy leaves the view's base alone).
    ``memory_format`` is checked as in torch (a :class:`minitorch_jax.memory_format`; channels_last
    needs a 4-D tensor) and not applied."""
    _check_memory_format(memory_format, "contiguous", self.ndim)
    view = self._view
    if view is None:
        return self
    from .views import is_dense_view  # (views.py is imported after the op modules it tags)
    if not is_dense_view(view, self._data.shape):
        return self.clone()
    return self


def is_contiguous(self, memory_format=None) -> bool:
    """Whether torch would call ``self`` contiguous: False for a transposed, permuted, expanded or
    strided-slice view of a live root (from its strides, size-1 dims skipped, as torch checks), else
    True (JAX arrays are dense); False for ``channels_last`` on a non-4-D tensor and
    ``channels_last_3d`` on a non-5-D one, as torch answers."""
    ok = _is_contiguous_as(memory_format, self.ndim)
    if ok and self._view is not None and memory_format in (None, contiguous_format):
        lay = _view_layout(self)
        if lay is not None and self.numel() > 1:
            want = contiguous_strides(self.shape)
            return all(a == b for a, b, n in zip(lay[0], want, self.shape) if n != 1)
    return ok


def cpu(self) -> Tensor:
    """``self.to('cpu')``."""
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False) -> Tensor:
    """``self.to('cuda')`` (JAX's GPU); raises listing the devices there are if none."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device)


def install() -> None:
    Tensor.to = to
    Tensor.type = type_
    Tensor.type_as = type_as
    Tensor.contiguous = contiguous
    Tensor.is_contiguous = is_contiguous
    Tensor.cpu = cpu
    Tensor.cuda = cuda
    for name, d in _METHOD_DTYPES.items():
        setattr(Tensor, name, _as(d))

