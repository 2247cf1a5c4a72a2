"""dtypes, torch's type-promotion rules and the default dtype.

A :class:`dtype` wraps one numpy/JAX dtype and prints like torch's (``minitorch_jax.float32``).
Promotion follows torch, not numpy: categories bool < integer < floating < complex, with
dimensioned tensors taking priority over 0-d tensors, and 0-d tensors over Python scalars.
"""

from __future__ import annotations

import builtins
import functools

import jax
import jax.numpy as jnp
import numpy as np

# int64/float64 must be real 64-bit types, as in torch. Every op in this package passes explicit
# dtypes, so float32 programs stay float32.
jax.config.update("jax_enable_x64", True)

__all__ = [
    "dtype", "float16", "half", "bfloat16", "float32", "float", "float64", "double", "int8", "uint8",
    "int16", "short", "int32", "int", "int64", "long", "bool", "complex64", "cfloat", "complex128",
    "cdouble", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "float8_e8m0fnu", "get_default_dtype",
    "set_default_dtype", "promote_types", "can_cast",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, like ``torch.dtype``.

    Attributes:
        is_floating_point: True for float16, bfloat16, float32 and float64.
        is_complex: True for complex64 and complex128.
        is_signed: True unless the type is unsigned or bool.
        itemsize: bytes per element.
    """

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_cat")

    def __init__(self, name: str, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        kind = self.np.kind
        self.is_floating_point = kind == "f" or name == "bfloat16" or name.startswith("float8")
        self.is_complex = kind == "c"
        self.is_signed = kind not in ("u", "b")
        self.itemsize = self.np.itemsize
        self._cat = (
            _BOOL if kind == "b" else _COMPLEX if self.is_complex
            else _FLOAT if self.is_floating_point else _INT
        )

    def __repr__(self) -> str:
        return f"minitorch_jax.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        """The real counterpart of a complex dtype (itself for real dtypes)."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> dtype:
        """The complex counterpart of a floating dtype."""
        return {"float64": complex128, "complex128": complex128}.get(self.name, complex64)


float16 = half = dtype("float16", jnp.float16)
bfloat16 = dtype("bfloat16", jnp.bfloat16)
float32 = float = dtype("float32", jnp.float32)  # noqa: A001 - torch's name
float64 = double = dtype("float64", jnp.float64)
int8 = dtype("int8", jnp.int8)
uint8 = dtype("uint8", jnp.uint8)
int16 = short = dtype("int16", jnp.int16)
int32 = int = dtype("int32", jnp.int32)  # noqa: A001 - torch's name
int64 = long = dtype("int64", jnp.int64)
bool = dtype("bool", jnp.bool_)  # noqa: A001 - torch's name
complex64 = cfloat = dtype("complex64", jnp.complex64)
complex128 = cdouble = dtype("complex128", jnp.complex128)
# "barebones" unsigned and float8 types: torch stores and casts them but promotes them with almost
# nothing (see _check_limited_promotion).
uint16 = dtype("uint16", jnp.uint16)
uint32 = dtype("uint32", jnp.uint32)
uint64 = dtype("uint64", jnp.uint64)
float8_e4m3fn = dtype("float8_e4m3fn", jnp.float8_e4m3fn)
float8_e5m2 = dtype("float8_e5m2", jnp.float8_e5m2)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", jnp.float8_e4m3fnuz)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", jnp.float8_e5m2fnuz)
float8_e8m0fnu = dtype("float8_e8m0fnu", jnp.float8_e8m0fnu)
float8_e8m0fnu.is_signed = False  # torch: unsigned (numpy's kind 'V' would say signed)

_ALL = [float16, bfloat16, float32, float64, int8, uint8, int16, int32, int64, bool,
        complex64, complex128, uint16, uint32, uint64, float8_e4m3fn, float8_e5m2, float8_e4m3fnuz,
        float8_e5m2fnuz, float8_e8m0fnu]
_FROM_NP = {d.np: d for d in _ALL}
_NAMES = {d.name: d for d in _ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_np(np_dtype) -> dtype:
    """The mt dtype for a numpy/JAX dtype (raises TypeError for types torch lacks)."""
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"minitorch_jax has no dtype matching numpy dtype {np_dtype!r}") from None


def to_np(d) -> np.dtype:
    """The numpy dtype for an mt dtype, a numpy dtype, or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d.np
    if d is None:
        return None
    if d is builtins.float:
        return _default[0].np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool.np
    if d is builtins.complex:
        return get_default_dtype().to_complex().np
    return from_np(d).np


def as_dtype(d) -> dtype:
    """Normalise anything dtype-like (mt dtype, numpy dtype, Python type, string) to an mt dtype."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str):
        if d in _NAMES:
            return _NAMES[d]
        raise TypeError(f"unknown dtype name {d!r}")
    return from_np(to_np(d))


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """Set the default floating dtype; only float16/bfloat16/float32/float64 are allowed, as in torch."""
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


_BAREBONES_UNSIGNED = ("uint16", "uint32", "uint64")


def _check_limited_promotion(da: dtype, db: dtype) -> None:
    """torch refuses to promote float8 types with any other type, and uint16/32/64 with any other
    non-floating (real) type."""
    for x, y in ((da, db), (db, da)):
        if x.name.startswith("float8"):
            raise RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote {da} "
                               f"and {db}")
        if x.name in _BAREBONES_UNSIGNED and y._cat != _FLOAT:
            raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, attempted "
                               f"to promote {da} and {db}")


@functools.cache
def _promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    da, db = _FROM_NP[a], _FROM_NP[b]
    if da is not db:
        _check_limited_promotion(da, db)
    if da._cat != db._cat:
        if {da._cat, db._cat} == {_FLOAT, _COMPLEX}:
            return np.dtype(jnp.promote_types(a, b))  # complex64 with float64 widens
        return a if da._cat > db._cat else b
    return np.dtype(jnp.promote_types(a, b))


def promote_types(type1, type2) -> dtype:
    """The smallest dtype to which both may be cast, by torch's rules."""
    return _FROM_NP[_promote_np(to_np(type1), to_np(type2))]


def can_cast(from_, to) -> builtins.bool:
    """Whether torch allows casting ``from_`` to ``to`` in an in-place op (no category downcast)."""
    return as_dtype(from_)._cat <= as_dtype(to)._cat


# Python scalar types, ordered as categories.
_SCALAR_CAT = {type(True): _BOOL, type(1): _INT, type(1.0): _FLOAT, complex: _COMPLEX}  # noqa: UP003


def scalar_default(cat: int) -> np.dtype:
    """The dtype a Python scalar of this category takes on its own (torch's defaults)."""
    if cat == _BOOL:
        return bool.np
    if cat == _INT:
        return int64.np
    if cat == _FLOAT:
        return _default[0].np
    return _default[0].to_complex().np


@functools.lru_cache(maxsize=4096)
def _result_type(sig: tuple, default: dtype) -> np.dtype:
    dim_t = zero_t = None
    scalar_cat = -1
    for entry in sig:
        if isinstance(entry, np.dtype):
            dim_t = entry if dim_t is None else _promote_np(dim_t, entry)
        elif entry.__class__ is tuple:  # (dtype,) marks a 0-d tensor
            zero_t = entry[0] if zero_t is None else _promote_np(zero_t, entry[0])
        else:
            scalar_cat = max(scalar_cat, entry)
    r = dim_t
    if zero_t is not None and (r is None or _FROM_NP[zero_t]._cat > _FROM_NP[r]._cat):
        r = zero_t
    if scalar_cat >= 0 and (r is None or scalar_cat > _FROM_NP[r]._cat):
        if r is not None and scalar_cat == _COMPLEX and _FROM_NP[r]._cat == _FLOAT:
            r = _FROM_NP[r].to_complex().np if r == float64.np else complex64.np
        else:
            r = scalar_default(scalar_cat)
    return r


def result_type_of(arrays_and_scalars) -> np.dtype:
    """torch.result_type over jax arrays and Python scalars (the arrays' ndim decides priority)."""
    sig = []
    for a in arrays_and_scalars:
        cls = a.__class__
        if cls in _SCALAR_CAT:
            sig.append(_SCALAR_CAT[cls])
        elif a.ndim == 0:
            sig.append((a.dtype,))
        else:
            sig.append(a.dtype)
    return _result_type(tuple(sig), _default[0])


def is_floating(np_dtype) -> builtins.bool:
    """Whether a numpy/JAX dtype is floating point (bfloat16 included)."""
    return jnp.issubdtype(np_dtype, jnp.floating)


def is_inexact(np_dtype) -> builtins.bool:
    """Whether a numpy/JAX dtype is floating point or complex (differentiable)."""
    return jnp.issubdtype(np_dtype, jnp.inexact)
