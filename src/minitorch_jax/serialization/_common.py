"""Shared pieces of the checkpoint readers/writers: the error types, the torch storage-type and
dtype tables, and rebuilding a tensor from a raw storage (with every size checked first)."""

from __future__ import annotations

import math
import pickle

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import MiniTorchError
from .._tensor import Tensor, _wrap

__all__ = ["CheckpointError", "UnsafeCheckpointError", "STORAGE_DTYPES", "DTYPE_STORAGE", "Storage",
           "rebuild_tensor", "rebuild_parameter"]


class CheckpointError(MiniTorchError, RuntimeError, pickle.UnpicklingError):
    """A checkpoint could not be read or written (corrupt, truncated, empty or unsupported file).

    It is a ``RuntimeError`` (what torch raises) and a ``pickle.UnpicklingError``."""


class UnsafeCheckpointError(CheckpointError):
    """The file asks for a Python global that is not on the allow-list; nothing was run."""


# torch legacy typed-storage class name -> mt dtype
STORAGE_DTYPES = {
    "FloatStorage": _dtype.float32, "DoubleStorage": _dtype.float64, "HalfStorage": _dtype.float16,
    "BFloat16Storage": _dtype.bfloat16, "LongStorage": _dtype.int64, "IntStorage": _dtype.int32,
    "ShortStorage": _dtype.int16, "CharStorage": _dtype.int8, "ByteStorage": _dtype.uint8,
    "BoolStorage": _dtype.bool, "ComplexFloatStorage": _dtype.complex64,
    "ComplexDoubleStorage": _dtype.complex128, "UntypedStorage": _dtype.uint8,
}
_MAX_EXPANDED = 1 << 30  # bytes: larger stride-0 (expanded) views than their storage are refused
DTYPE_STORAGE = {d.name: n for n, d in STORAGE_DTYPES.items() if n != "UntypedStorage"}


class StorageType:
    """Stands for ``torch.<X>Storage`` inside a pickle: it only carries a dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __call__(self, *args, **kwargs):
        raise CheckpointError(f"mt.load: constructing torch.{self.name} directly is not supported")


class Storage:
    """A flat storage read from a checkpoint: ``array`` is a 1-D numpy array of ``dtype`` (None
    until the legacy reader has filled it)."""

    __slots__ = ("dtype", "numel", "array", "key")

    def __init__(self, dtype, numel, array=None, key=None):
        self.dtype, self.numel, self.array, self.key = dtype, numel, array, key


class Pending:
    """A tensor whose storage bytes come later in the file (legacy format)."""

    __slots__ = ("storage", "offset", "size", "stride", "requires_grad", "parameter")

    def __init__(self, storage, offset, size, stride, requires_grad):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride
        self.requires_grad, self.parameter = requires_grad, False


def _int_tuple(x, what):
    if not isinstance(x, (tuple, list)) or not all(type(v) is int for v in x):
        raise CheckpointError(f"mt.load: tensor {what} must be a tuple of ints, got {x!r:.80}")
    if any(v < 0 for v in x):
        raise CheckpointError(f"mt.load: negative tensor {what} {tuple(x)}")
    return tuple(x)


def materialize(p: Pending) -> Tensor:
    """Build the tensor a :class:`Pending` describes from its (now filled) storage."""
    st = p.storage
    arr = st.array
    if arr is None:
        raise CheckpointError(f"mt.load: storage {st.key!r} has no data in the file")
    size, stride, offset = p.size, p.stride, p.offset
    numel = math.prod(size)
    if numel == 0:
        out = np.zeros(size, arr.dtype)
    else:
        item = arr.dtype.itemsize
        if numel > arr.shape[0] and numel * item > _MAX_EXPANDED:
            raise CheckpointError(
                f"mt.load: refusing to materialize a broadcast view of size {list(size)} "
                f"({numel * item} bytes) from a storage of {arr.shape[0]} elements")
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= arr.shape[0]:
            raise CheckpointError(
                f"mt.load: tensor of size {list(size)}, stride {list(stride)} and offset {offset} reads "
                f"past the end of its storage of {arr.shape[0]} elements (corrupted file?)")
        view = np.lib.stride_tricks.as_strided(arr[offset:], shape=size, strides=[s * item for s in stride])
        out = np.array(view, order="C")
    from ..nn.parameter import Parameter
    cls = Parameter if p.parameter else Tensor
    return _wrap(jnp.asarray(out), bool(p.requires_grad), cls)


def rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                   metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing ``storage`` (validated, then copied)."""
    if not isinstance(storage, Storage):
        raise CheckpointError(f"mt.load: _rebuild_tensor_v2 expects a storage, got {type(storage).__name__}")
    if type(storage_offset) is not int or storage_offset < 0:
        raise CheckpointError(f"mt.load: bad storage offset {storage_offset!r:.40}")
    size = _int_tuple(size, "size")
    stride = _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise CheckpointError(f"mt.load: tensor size {size} and stride {stride} differ in length")
    if not isinstance(requires_grad, bool):
        raise CheckpointError("mt.load: requires_grad must be a bool")
    p = Pending(storage, storage_offset, size, stride, requires_grad)
    return p if storage.array is None else materialize(p)


def rebuild_tensor_v1(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor`` (older files)."""
    return rebuild_tensor(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    """``torch._utils._rebuild_parameter``: the tensor as an mt Parameter."""
    if not isinstance(requires_grad, bool):
        raise CheckpointError("mt.load: requires_grad must be a bool")
    if isinstance(data, Pending):
        data.parameter, data.requires_grad = True, requires_grad
        return data
    if not isinstance(data, Tensor):
        raise CheckpointError(f"mt.load: _rebuild_parameter expects a tensor, got {type(data).__name__}")
    from ..nn.parameter import Parameter
    return _wrap(data._data, requires_grad, Parameter)


def map_leaves(obj, fn):
    """``obj`` with every value inside its dicts (keeping their type and attributes), lists and
    tuples replaced by ``fn(value)``."""
    if isinstance(obj, dict):
        new = type(obj)((k, map_leaves(v, fn)) for k, v in obj.items())
        if hasattr(obj, "__dict__"):
            new.__dict__.update(obj.__dict__)
        return new
    if isinstance(obj, list):
        return [map_leaves(v, fn) for v in obj]
    if type(obj) is tuple:
        return tuple(map_leaves(v, fn) for v in obj)
    return fn(obj)


def resolve_pending(obj, memo=None):
    """Replace every :class:`Pending` inside plain containers by its tensor."""
    if memo is None:
        memo = {}

    def leaf(v):
        if isinstance(v, Pending):
            if id(v) not in memo:
                memo[id(v)] = materialize(v)
            return memo[id(v)]
        return v
    return map_leaves(obj, leaf)


def storage_array(raw: bytes, dtype, numel: int, big_endian: bool = False) -> np.ndarray:
    """The flat numpy array of ``numel`` elements of ``dtype`` stored in ``raw``."""
    need = numel * dtype.itemsize
    if type(numel) is not int or numel < 0 or len(raw) < need:
        raise CheckpointError(f"mt.load: storage of {numel!r:.30} {dtype.name} elements needs {need} bytes, "
                              f"the file has {len(raw)} (truncated or corrupted file?)")
    np_dt = dtype.np.newbyteorder(">") if big_endian and dtype.itemsize > 1 else dtype.np
    arr = np.frombuffer(raw, dtype=np_dt, count=numel)
    if big_endian and dtype.itemsize > 1:
        arr = arr.astype(dtype.np)
    return arr
