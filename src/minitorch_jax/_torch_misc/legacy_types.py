"""``typename``, ``is_storage``, the legacy tensor types (``mt.FloatTensor`` ...) and
``set_default_tensor_type``."""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .. import _dtype
from .._tensor import Size, Tensor

__all__ = [
    "typename", "is_storage", "set_default_tensor_type",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
]

_PKG = "minitorch_jax"

# ----- type names, storages, legacy tensor types ---------------------------------------------------
def typename(obj) -> str:
    """The type name of ``obj`` as torch spells it: ``t.type()`` for a tensor
    (``'minitorch_jax.FloatTensor'``), ``module.QualName`` otherwise (bare for builtins)."""
    if isinstance(obj, Tensor):
        return obj.type()
    if hasattr(obj, "__qualname__") or hasattr(obj, "__name__"):
        module = getattr(obj, "__module__", "") or ""
        qualname = getattr(obj, "__qualname__", None) or obj.__name__
    else:
        module = type(obj).__module__ or ""
        qualname = type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj) -> builtins.bool:
    """Whether ``obj`` is a storage object: always False, as minitorch_jax has no storages (JAX
    arrays are the tensors' memory)."""
    return False


class _tensortype(type):
    """The metaclass of the legacy tensor types: calling one builds a Tensor of its dtype, and
    ``isinstance(t, mt.FloatTensor)`` is true exactly for float32 tensors."""

    def __instancecheck__(cls, obj) -> builtins.bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        return _legacy_new(cls, args, device)


def _is_int(v) -> builtins.bool:
    return isinstance(v, (builtins.int, np.integer)) and not isinstance(v, (builtins.bool, np.bool_))


def _legacy_new(cls, args: tuple, device):
    from .. import _creation

    name = cls.__name__
    if len(args) == 1 and not isinstance(args[0], Size) and not _is_int(args[0]):
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"{name}(): expected {cls.dtype} tensor, got {data.dtype} tensor")
            return data
        if isinstance(data, (str, bytes)):
            raise TypeError(f"{name}(): invalid data type '{type(data).__name__}'")
        if not hasattr(data, "__len__") and not hasattr(data, "__array__"):
            raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__})")
        return _creation.tensor(data, dtype=cls.dtype, device=device)
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
    if not args:
        shape = (0,)
    for i, s in enumerate(shape):
        if not _is_int(s):
            raise TypeError(f"{name}(): size must be ints, got {type(s).__name__} at position {i}: "
                            f"{s!r}")
        if s < 0:
            raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return _creation.zeros(tuple(builtins.int(s) for s in shape), dtype=cls.dtype, device=device)


def _legacy_type(name: str, d: _dtype.dtype):
    doc = (f"Legacy tensor type of dtype ``{d}``, like ``torch.{name}``.\n\n"
           f"``{name}(*sizes)`` or ``{name}(size)`` gives a zero-filled tensor of that shape (torch's are\n"
           f"uninitialised), ``{name}(data)`` a tensor built from a sequence or array, ``{name}()`` an\n"
           f"empty one, and ``{name}(t)`` returns the {d} tensor ``t`` itself. ``isinstance(t, {name})``\n"
           f"is true exactly for {d} tensors. Only ``device=`` is accepted as a keyword.")
    return _tensortype(name, (), {"__module__": _PKG, "__qualname__": name, "__doc__": doc, "dtype": d,
                                  "is_cuda": False, "is_sparse": False, "__slots__": ()})


FloatTensor = _legacy_type("FloatTensor", _dtype.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dtype.float64)
HalfTensor = _legacy_type("HalfTensor", _dtype.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", _dtype.bfloat16)
LongTensor = _legacy_type("LongTensor", _dtype.int64)
IntTensor = _legacy_type("IntTensor", _dtype.int32)
ShortTensor = _legacy_type("ShortTensor", _dtype.int16)
CharTensor = _legacy_type("CharTensor", _dtype.int8)
ByteTensor = _legacy_type("ByteTensor", _dtype.uint8)
BoolTensor = _legacy_type("BoolTensor", _dtype.bool)
_LEGACY = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor,
                                   IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def set_default_tensor_type(t) -> None:
    """Set the default floating dtype from a legacy tensor type (deprecated, as in torch 2.1+).

    Args:
        t: a legacy type (``mt.DoubleTensor``) or its name (``'minitorch_jax.DoubleTensor'``;
            ``'torch.DoubleTensor'`` is read the same way).

    Raises:
        TypeError: an unknown type or name, or a non-floating type.
    """
    warnings.warn(f"{_PKG}.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  f"{_PKG}.set_default_dtype() and {_PKG}.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        prefix, _, name = t.rpartition(".")
        if prefix not in (_PKG, "torch") or name not in _LEGACY:
            raise TypeError(f"set_default_tensor_type(): invalid type: '{t}' (expected a name such as "
                            f"'{_PKG}.FloatTensor')")
        t = _LEGACY[name]
    if not isinstance(t, _tensortype):
        raise TypeError(f"set_default_tensor_type(): invalid type object {t!r}: expected a legacy tensor "
                        f"type such as {_PKG}.FloatTensor")
    if not t.dtype.is_floating_point:
        raise TypeError(f"set_default_tensor_type(): only floating-point types are supported as the "
                        f"default type, got {_PKG}.{t.__name__}")
    _dtype.set_default_dtype(t.dtype)
