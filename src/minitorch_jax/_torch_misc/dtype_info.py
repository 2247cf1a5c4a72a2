"""Constants (``pi``, ``e``, ``inf``, ``nan``, ``newaxis``) and ``finfo`` / ``iinfo``, as torch's."""

from __future__ import annotations

import builtins
import functools
import math

import jax.numpy as jnp
import numpy as np

from .. import _dtype

__all__ = ["pi", "e", "inf", "nan", "newaxis", "finfo", "iinfo"]

_PKG = "minitorch_jax"

# ----- constants ---------------------------------------------------------------------------
pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None

# ----- finfo / iinfo -----------------------------------------------------------------------
_NO_ARG = object()
# Python types as torch reads them where a dtype is expected (not via the default dtype).
_PY_TYPES = {builtins.float: _dtype.float64, builtins.int: _dtype.int64, builtins.bool: _dtype.bool,
             builtins.complex: _dtype.complex128}


def _as_info_dtype(t, fn: str) -> _dtype.dtype:
    if isinstance(t, _dtype.dtype):
        return t
    if isinstance(t, type) and t in _PY_TYPES:
        return _PY_TYPES[t]
    raise TypeError(f"{fn}(): argument 'type' (position 1) must be {_PKG}.dtype, not {type(t).__name__}")


class _Info:
    """Shared read-only behaviour of :class:`finfo` and :class:`iinfo`."""

    __slots__ = ()
    _FIELDS: tuple = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of '{_PKG}.{type(self).__name__}' objects is not writable")

    def __eq__(self, other):
        return type(other) is type(self) and other.dtype == self.dtype

    def __hash__(self):
        return hash((type(self).__name__, self.dtype))

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={getattr(self, k):g}" for k in self._FIELDS)
        return f"{type(self).__name__}({parts}, dtype={self.dtype})"


class finfo(_Info):
    """Machine limits of a floating-point dtype, like ``torch.finfo``.

    Args:
        type: a floating or complex dtype (complex gives its real part's limits), or ``float``
            (float64). Without an argument, the default dtype (``mt.get_default_dtype()``).

    Attributes:
        bits (int): bits the type occupies.
        eps (float): smallest ``x`` with ``1.0 + x != 1.0``.
        max (float), min (float): largest and most negative finite values.
        tiny (float), smallest_normal (float): smallest positive normal number.
        resolution (float): approximate decimal resolution, ``10 ** -floor(-log10(eps))``.
        dtype (str): the dtype's name, e.g. ``'float32'``.

    Raises:
        TypeError: for integer or bool dtypes, or an argument that is not a dtype.
    """

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    _FIELDS = ("resolution", "min", "max", "eps", "smallest_normal", "tiny")

    def __new__(cls, type=_NO_ARG):  # noqa: A002 - torch's argument name
        d = _dtype.get_default_dtype() if type is _NO_ARG else _as_info_dtype(type, "finfo")
        if d.is_complex:
            d = d.to_real()
        if not d.is_floating_point:
            raise TypeError(f"{_PKG}.finfo() requires a floating point input type, got {d}; use "
                            f"{_PKG}.iinfo to handle integer types")
        return _finfo_of(d.name)

    def __reduce__(self):
        return (finfo, (_dtype.as_dtype(self.dtype),))


@functools.cache
def _finfo_of(name: str) -> finfo:
    info = jnp.finfo(_dtype.as_dtype(name).np)
    self = object.__new__(finfo)
    eps = builtins.float(info.eps)
    values = {"bits": builtins.int(info.bits), "eps": eps, "max": builtins.float(info.max),
              "min": builtins.float(info.min), "tiny": builtins.float(info.tiny),
              "smallest_normal": builtins.float(info.smallest_normal),
              "resolution": 10.0 ** -math.floor(-math.log10(eps)), "dtype": name}
    for k, v in values.items():
        object.__setattr__(self, k, v)
    return self


class iinfo(_Info):
    """Machine limits of an integer dtype, like ``torch.iinfo``.

    Args:
        type: an integer dtype, or ``int`` (int64).

    Attributes:
        bits (int): bits the type occupies.
        max (int), min (int): largest and smallest representable values.
        dtype (str): the dtype's name, e.g. ``'int32'``.

    Raises:
        TypeError: for bool, floating or complex dtypes, or an argument that is not a dtype.
    """

    __slots__ = ("bits", "max", "min", "dtype")
    _FIELDS = ("min", "max")

    def __new__(cls, type):  # noqa: A002 - torch's argument name
        d = _as_info_dtype(type, "iinfo")
        if d is _dtype.bool:
            raise TypeError(f"{_PKG}.bool is not supported by {_PKG}.iinfo")
        if d.is_floating_point or d.is_complex:
            raise TypeError(f"{_PKG}.iinfo() requires an integer input type, got {d}; use "
                            f"{_PKG}.finfo to handle floating point types")
        return _iinfo_of(d.name)

    def __reduce__(self):
        return (iinfo, (_dtype.as_dtype(self.dtype),))


@functools.cache
def _iinfo_of(name: str) -> iinfo:
    info = np.iinfo(_dtype.as_dtype(name).np)
    self = object.__new__(iinfo)
    for k, v in {"bits": builtins.int(info.bits), "max": builtins.int(info.max),
                 "min": builtins.int(info.min), "dtype": name}.items():
        object.__setattr__(self, k, v)
    return self
