"""torch-level names everyday PyTorch code uses: constants, ``finfo``/``iinfo``, memory formats,
thread and determinism switches, the legacy tensor types (``mt.FloatTensor`` ...) and a few
top-level functional forms (``mt.detach``, ``mt.fill`` ...).

This module imports only ``_dtype`` and ``_tensor`` at load time (creation functions and DLPack
are imported on use), so op-table files may import its helpers (``_check_memory_format``).
"""

from __future__ import annotations

import builtins
import functools
import math
import os
import warnings

import jax.numpy as jnp
import numpy as np

from . import _dtype
from ._tensor import Size, Tensor

__all__ = [
    # constants
    "pi", "e", "inf", "nan", "newaxis",
    # dtype info
    "finfo", "iinfo",
    # memory formats
    "memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
    # threads, determinism, warnings
    "get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_warn_always", "is_warn_always_enabled", "set_flush_denormal",
    # types
    "typename", "is_storage", "set_default_tensor_type",
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    # functional forms
    "detach", "detach_", "fill", "fill_", "zero_", "from_dlpack", "to_dlpack",
]

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


# ----- memory formats ------------------------------------------------------------------------
class memory_format:
    """A memory layout request, like ``torch.memory_format`` (``mt.channels_last`` ...).

    JAX arrays have no user-visible strides (XLA picks layouts), so every format is accepted where
    torch takes one and values are never changed; the rank checks torch makes are kept. The four
    instances are the only ones: calling ``memory_format()`` raises TypeError.
    """

    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError(f"cannot create '{_PKG}.memory_format' instances")

    @classmethod
    def _make(cls, name: str) -> memory_format:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_name", name)
        return obj

    def __repr__(self) -> str:
        return f"{_PKG}.{self._name}"

    def __reduce__(self):
        return self._name  # pickled by reference: mt.<name>

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


memory_format.__module__ = _PKG
contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")
_FORMAT_RANK = {"channels_last": 4, "channels_last_3d": 5}


def _check_memory_format(fmt, op: str, ndim: int | None = None) -> None:
    """Validate a ``memory_format=`` argument of ``op`` the way torch does (layouts are not applied).

    ``None`` passes. Raises TypeError when ``fmt`` is not a :class:`memory_format`, and (given the
    tensor's ``ndim``) RuntimeError when ``channels_last`` meets a non-4-D or ``channels_last_3d``
    a non-5-D tensor.
    """
    if fmt is None:
        return
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be {_PKG}.memory_format, "
                        f"not {type(fmt).__name__}")
    rank = _FORMAT_RANK.get(fmt._name)
    if rank is not None and ndim is not None and ndim != rank:
        raise RuntimeError(f"{op}(): required rank {rank} tensor to use {fmt._name} format "
                           f"(got a {ndim}-D tensor)")


def _is_contiguous_as(fmt, ndim: int) -> builtins.bool:
    """``Tensor.is_contiguous(memory_format=fmt)``: True, except channels_last(_3d) on the wrong rank
    (False, as torch answers). JAX arrays are dense, so any layout counts as satisfied."""
    _check_memory_format(fmt, "is_contiguous")
    rank = _FORMAT_RANK.get(fmt._name) if fmt is not None else None
    return rank is None or ndim == rank


# ----- threads, determinism, warnings ------------------------------------------------------------
def _default_threads() -> builtins.int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_state = {"threads": None, "interop": None, "interop_set": False, "deterministic": False,
          "warn_only": False, "warn_always": False}


def _positive_int(n, fn: str) -> builtins.int:
    if type(n) is not builtins.int and not isinstance(n, np.integer):
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer, got {n}")
    return builtins.int(n)


def _need_bool(v, fn: str) -> None:
    if type(v) is not builtins.bool:
        raise RuntimeError(f"{fn} expects a bool, but got {type(v).__name__}")


def get_num_threads() -> builtins.int:
    """The number of intra-op threads (the value given to :func:`set_num_threads`, else the CPUs
    this process may use)."""
    return _state["threads"] or _default_threads()


def set_num_threads(num: builtins.int) -> None:
    """Record the number of intra-op threads, like ``torch.set_num_threads``.

    XLA sizes its CPU thread pool when the backend starts and it cannot be resized afterwards: the
    value is recorded (``get_num_threads`` returns it) but does not change how XLA runs. To limit
    XLA's threads, set ``XLA_FLAGS`` / CPU affinity before JAX starts.

    Raises:
        RuntimeError: ``num`` is not a positive int.
    """
    _state["threads"] = _positive_int(num, "set_num_threads")


def get_num_interop_threads() -> builtins.int:
    """The number of inter-op threads (the recorded value, else the CPUs this process may use)."""
    return _state["interop"] or _default_threads()


def set_num_interop_threads(num: builtins.int) -> None:
    """Record the number of inter-op threads, like ``torch.set_num_interop_threads``.

    As in torch it may be called once; the value is recorded only (XLA's pools are fixed at start).

    Raises:
        RuntimeError: ``num`` is not a positive int, or the value was already set.
    """
    num = _positive_int(num, "set_num_interop_threads")
    if _state["interop_set"]:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started "
                           "or set_num_interop_threads called")
    _state["interop"] = num
    _state["interop_set"] = True


def use_deterministic_algorithms(mode: builtins.bool, *, warn_only: builtins.bool = False) -> None:
    """Ask for deterministic algorithms, like ``torch.use_deterministic_algorithms``.

    The flag is recorded and reported by :func:`are_deterministic_algorithms_enabled`. XLA on CPU is
    deterministic; on GPU pass ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` before JAX starts
    (XLA reads it once), since no op here changes algorithm on this flag.

    Args:
        mode: True to require deterministic algorithms.
        warn_only: with ``mode``, warn instead of raising where an op has no deterministic version.

    Raises:
        TypeError: ``mode`` or ``warn_only`` is not a bool.
    """
    for name, v in (("mode", mode), ("warn_only", warn_only)):
        if type(v) is not builtins.bool:
            where = " (position 1)" if name == "mode" else ""
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}'{where} must be bool, "
                            f"not {type(v).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = warn_only


def are_deterministic_algorithms_enabled() -> builtins.bool:
    """Whether :func:`use_deterministic_algorithms` turned the flag on."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    """Whether the deterministic flag is on in warn-only mode."""
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """Set the deterministic mode by level: ``'default'``/0 (off), ``'warn'``/1 (on, warn only),
    ``'error'``/2 (on), as ``torch.set_deterministic_debug_mode``.

    Raises:
        TypeError: ``debug_mode`` is neither str nor int.
        RuntimeError: an unknown name or a level outside 0-2.
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        level = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, (builtins.int, np.integer)):
        level = builtins.int(debug_mode)
        if level not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {level}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode() -> builtins.int:
    """The deterministic level: 0 off, 1 warn only, 2 on (see :func:`set_deterministic_debug_mode`)."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_warn_always(b: builtins.bool) -> None:
    """Record whether warnings torch issues once should be issued every time (the flag only).

    Raises:
        RuntimeError: ``b`` is not a bool.
    """
    _need_bool(b, "set_warn_always")
    _state["warn_always"] = b


def is_warn_always_enabled() -> builtins.bool:
    """The flag set by :func:`set_warn_always` (False by default)."""
    return _state["warn_always"]


def set_flush_denormal(mode: builtins.bool) -> builtins.bool:
    """Request flushing denormal floats to zero; returns False: not supported here (XLA decides),
    as torch returns on CPUs without the feature.

    Raises:
        RuntimeError: ``mode`` is not a bool.
    """
    _need_bool(mode, "flush_denormal")
    return False


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
    from . import _creation

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


# ----- functional forms ---------------------------------------------------------------------------
def _need_tensor(x, fn: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: a tensor with the same data, cut from the autograd graph."""
    _need_tensor(input, "detach")
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """``input.detach_()``: cut ``input`` from the graph in place and return it."""
    _need_tensor(input, "detach_")
    return input.detach_()


def fill(input: Tensor, value) -> Tensor:
    """A new tensor shaped and typed like ``input`` filled with ``value`` (a number or a 0-d tensor);
    differentiable in ``value``, zero gradient for ``input``. The out-of-place ``fill_``."""
    _need_tensor(input, "fill")
    return input.clone().fill_(value)


def fill_(input: Tensor, value) -> Tensor:
    """``input.fill_(value)``: fill ``input`` in place and return it."""
    _need_tensor(input, "fill_")
    return input.fill_(value)


def zero_(input: Tensor) -> Tensor:
    """``input.zero_()``: fill ``input`` with zeros in place and return it."""
    _need_tensor(input, "zero_")
    return input.zero_()


def from_dlpack(ext) -> Tensor:
    """A Tensor sharing memory (where JAX allows) with ``ext``, an object with ``__dlpack__`` or a
    DLPack capsule (see :func:`minitorch_jax.utils.dlpack.from_dlpack`)."""
    from .utils import dlpack

    return dlpack.from_dlpack(ext)


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s array (see :func:`minitorch_jax.utils.dlpack.to_dlpack`)."""
    from .utils import dlpack

    return dlpack.to_dlpack(tensor)
