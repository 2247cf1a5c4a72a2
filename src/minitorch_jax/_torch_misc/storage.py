"""Storages: ``mt.UntypedStorage`` (bytes), ``mt.TypedStorage`` (elements of a dtype), the legacy
``FloatStorage`` ... ``BoolStorage`` classes, and the Tensor methods ``untyped_storage()``,
``storage()``, ``storage_type()`` and ``set_()``.

JAX arrays are immutable, so a tensor has no memory to share. A storage taken from a tensor is a
live byte view of the tensor's CURRENT elements (row-major): reading it reads the tensor now, and
writing into it (``s[i] = v``, ``fill_``, ``copy_``) writes the tensor back (its array is rebuilt
from the changed bytes and its version counter bumped), so the usual aliasing round trip works.
Differences from torch:

- a storage is always the whole tensor's elements in row-major order: views here are copies, so
  ``x[1:].untyped_storage()`` is the view's own bytes, not its base's, and ``storage_offset()`` is 0;
- slicing a storage (``s[2:6]``) gives a standalone copy, not a view;
- storages of traced tensors (inside ``mt.jit``) raise: there are no bytes to look at while tracing;
- ``data_ptr()`` is the tensor's ``data_ptr()`` (the device buffer's address, which changes when the
  tensor is written); a standalone storage reports its host buffer's address.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import TracedValueError
from .._tensor import Tensor, _wrap

__all__ = ["StorageBase", "UntypedStorage", "TypedStorage", "Storage", "FloatStorage", "DoubleStorage",
           "HalfStorage", "BFloat16Storage", "ByteStorage", "CharStorage", "ShortStorage", "IntStorage",
           "LongStorage", "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]


def _host(t: Tensor) -> np.ndarray:
    if isinstance(t._data, jax.core.Tracer):
        raise TracedValueError("untyped_storage")
    return np.ascontiguousarray(np.asarray(t._data)).reshape(-1)


class StorageBase:
    """Base class of :class:`UntypedStorage` (torch's ``torch._C.StorageBase``)."""


class UntypedStorage(StorageBase):
    """A flat array of bytes (torch.UntypedStorage).

    ``UntypedStorage()`` (empty), ``UntypedStorage(n)`` (``n`` zero bytes; torch leaves them
    uninitialised) or ``UntypedStorage(sequence_of_byte_values)``. ``tensor.untyped_storage()``
    gives a live view of a tensor's bytes (see the module notes).
    """

    def __init__(self, *args, device=None):
        self._owner = None
        if not args:
            self._buf = np.zeros(0, np.uint8)
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
            if args[0] < 0:
                raise RuntimeError(f"Storage size must be non-negative, got {args[0]}")
            self._buf = np.zeros(int(args[0]), np.uint8)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            vals = list(args[0])
            if any(not isinstance(v, (int, np.integer)) or not 0 <= v <= 255 for v in vals):
                raise RuntimeError(f"UntypedStorage(): expected byte values in [0, 255], got {vals}")
            self._buf = np.asarray(vals, np.uint8)
        else:
            raise TypeError(f"UntypedStorage(): expected no argument, a size or a sequence of bytes, got "
                            f"{tuple(type(a).__name__ for a in args)}")
        self._device = "cpu" if device is None else str(device)

    @classmethod
    def _of(cls, t: Tensor) -> UntypedStorage:
        s = cls.__new__(cls)
        s._owner, s._buf, s._device = t, None, t.device.type
        return s

    def _bytes(self) -> np.ndarray:
        return self._buf if self._owner is None else _host(self._owner).view(np.uint8)

    def _write(self, new: np.ndarray) -> None:
        if self._owner is None:
            self._buf = new
            return
        t = self._owner
        arr = new.view(np.dtype(t._data.dtype)).reshape(t._data.shape)
        t._data = jnp.asarray(arr)
        t._version += 1

    # --- queries ---
    def nbytes(self) -> int:
        """Size in bytes."""
        return int(self._bytes().size)

    def size(self) -> int:
        """Size in bytes (an untyped storage's elements are bytes)."""
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        """1: the element of an untyped storage is a byte."""
        return 1

    @property
    def device(self):
        """The device of the owning tensor (cpu for a standalone storage)."""
        from .._device import device
        return device(self._device)

    @property
    def is_cuda(self) -> bool:
        """Whether the storage is on a CUDA device."""
        return self._device == "cuda"

    def data_ptr(self) -> int:
        """The owning tensor's ``data_ptr()``, or the host buffer's address when standalone."""
        return self._owner.data_ptr() if self._owner is not None else int(self._buf.ctypes.data)

    def tolist(self) -> list:
        """The bytes as a list of ints."""
        return self._bytes().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, idx):
        b = self._bytes()
        if isinstance(idx, slice):
            out = UntypedStorage()
            out._buf = b[idx].copy()
            return out
        i = int(idx)
        if not -len(b) <= i < len(b):
            raise IndexError(f"index {i} out of range for storage of size {len(b)}")
        return int(b[i])

    def __setitem__(self, idx, value) -> None:
        b = self._bytes().copy()
        if not isinstance(idx, slice):
            i = int(idx)
            if not -len(b) <= i < len(b):
                raise IndexError(f"index {i} out of range for storage of size {len(b)}")
        b[idx] = value
        self._write(b)

    def fill_(self, value):
        """Set every byte to ``value``; writes back to the owning tensor."""
        self._write(np.full_like(self._bytes(), value))
        return self

    def copy_(self, src, non_blocking=None):
        """Copy the bytes of another storage of the same size; writes back to the owning tensor."""
        other = src._bytes() if isinstance(src, UntypedStorage) else src._untyped_storage._bytes()
        if other.size != self.nbytes():
            raise RuntimeError(f"size mismatch: copy_ from a storage of {other.size} bytes into one of "
                               f"{self.nbytes()} bytes")
        self._write(other.copy())
        return self

    def clone(self) -> UntypedStorage:
        """A standalone copy."""
        out = UntypedStorage(device=self._device)
        out._buf = self._bytes().copy()
        return out

    def cpu(self) -> UntypedStorage:
        """This storage (storages of host-visible bytes are already on the CPU side)."""
        return self

    def untyped(self) -> UntypedStorage:
        """Itself."""
        return self

    def resize_(self, size: int) -> UntypedStorage:
        """Resize a standalone storage (new bytes are zero). A tensor's storage cannot be resized."""
        if self._owner is not None:
            raise RuntimeError("resize_(): cannot resize the storage of a tensor here (JAX arrays have fixed "
                               "sizes); resize the tensor instead")
        b = np.zeros(int(size), np.uint8)
        n = min(int(size), self._buf.size)
        b[:n] = self._buf[:n]
        self._buf = b
        return self

    def is_shared(self) -> bool:
        """False: storages are never in shared memory here."""
        return False

    def share_memory_(self):
        """A no-op (JAX arrays cannot live in shared memory); returns self."""
        return self

    def is_pinned(self, device="cuda") -> bool:
        """False: no pinned host memory."""
        return False

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        tail = f"[{type(self).__module__.replace('minitorch_jax._torch_misc.', 'minitorch_jax.')}." \
               f"{type(self).__name__}(device={self._device}) of size {self.nbytes()}]"
        return body + ("\n" if body else "") + tail


class TypedStorage:
    """A flat array of elements of one dtype (torch.TypedStorage; deprecated in torch in favour of
    :class:`UntypedStorage`, still what ``tensor.storage()`` returns).

    ``TypedStorage(*, dtype, device=None)``, ``TypedStorage(n, *, dtype)``,
    ``TypedStorage(sequence, *, dtype)`` or ``TypedStorage(*, wrap_storage=untyped, dtype)``.
    """

    _fixed_dtype = None

    def __init__(self, *args, dtype=None, device=None, wrap_storage=None):
        dt = self._fixed_dtype or (_dtype.as_dtype(dtype) if dtype is not None
                                   else _dtype.get_default_dtype())
        self._dtype = dt
        if wrap_storage is not None:
            if not isinstance(wrap_storage, UntypedStorage):
                raise TypeError(f"TypedStorage(): argument 'wrap_storage' must be UntypedStorage, not "
                                f"{type(wrap_storage).__name__}")
            self._untyped_storage = wrap_storage
            return
        if not args:
            arr = np.zeros(0, dt.np)
        elif len(args) == 1 and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
            arr = np.zeros(int(args[0]), dt.np)
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            arr = np.asarray(args[0]).astype(dt.np)
        else:
            raise TypeError(f"{type(self).__name__}(): expected no argument, a size or a sequence, got "
                            f"{tuple(type(a).__name__ for a in args)}")
        u = UntypedStorage(device=device)
        u._buf = arr.reshape(-1).view(np.uint8)
        self._untyped_storage = u

    @classmethod
    def _of(cls, t: Tensor) -> TypedStorage:
        s = cls.__new__(cls)
        s._dtype = _dtype.from_np(t._data.dtype)
        s._untyped_storage = UntypedStorage._of(t)
        return s

    def _values(self) -> np.ndarray:
        return self._untyped_storage._bytes().view(self._dtype.np)

    @property
    def dtype(self):
        """The element dtype."""
        return self._dtype

    @property
    def device(self):
        """The device of the underlying storage."""
        return self._untyped_storage.device

    @property
    def is_cuda(self) -> bool:
        """Whether the storage is on a CUDA device."""
        return self._untyped_storage.is_cuda

    def untyped(self) -> UntypedStorage:
        """The underlying :class:`UntypedStorage`."""
        return self._untyped_storage

    def size(self) -> int:
        """Number of elements."""
        return self.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def nbytes(self) -> int:
        """Size in bytes."""
        return self._untyped_storage.nbytes()

    def element_size(self) -> int:
        """Bytes per element."""
        return self._dtype.itemsize

    def data_ptr(self) -> int:
        """Same as the underlying untyped storage's."""
        return self._untyped_storage.data_ptr()

    def tolist(self) -> list:
        """The elements as Python numbers."""
        return self._values().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, idx):
        v = self._values()
        if isinstance(idx, slice):
            return type(self)(v[idx].tolist(), **({} if self._fixed_dtype else {"dtype": self._dtype}))
        i = int(idx)
        if not -len(v) <= i < len(v):
            raise IndexError(f"index {i} out of range for storage of size {len(v)}")
        return v[i].item()

    def __setitem__(self, idx, value) -> None:
        v = self._values().copy()
        if not isinstance(idx, slice):
            i = int(idx)
            if not -len(v) <= i < len(v):
                raise IndexError(f"index {i} out of range for storage of size {len(v)}")
        v[idx] = np.asarray(value._data if isinstance(value, Tensor) else value).astype(self._dtype.np)
        self._untyped_storage._write(v.view(np.uint8))

    def fill_(self, value):
        """Set every element to ``value`` (writes back to the owning tensor)."""
        self._untyped_storage._write(np.full_like(self._values(), value).view(np.uint8))
        return self

    def copy_(self, src, non_blocking=None):
        """Copy another storage's bytes (same size)."""
        self._untyped_storage.copy_(src if isinstance(src, UntypedStorage) else src._untyped_storage)
        return self

    def clone(self):
        """A standalone copy."""
        out = TypedStorage.__new__(type(self))
        out._dtype = self._dtype
        out._untyped_storage = self._untyped_storage.clone()
        return out

    def cpu(self):
        """This storage."""
        return self

    def tensor(self) -> Tensor:
        """The elements as a 1-D tensor (a copy)."""
        return _wrap(jnp.asarray(self._values()))

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        name = "minitorch_jax.storage.TypedStorage" if self._fixed_dtype is None else \
            f"minitorch_jax.{type(self).__name__}"
        tail = f"[{name}(dtype={self._dtype}, device={self.device.type}) of size {self.size()}]"
        return body + ("\n" if body else "") + tail


def _legacy(name: str, dt):
    cls = type(name, (TypedStorage,), {"_fixed_dtype": dt, "__doc__":
                                       f"Legacy storage class of {dt} elements (torch.{name}): "
                                       f"``{name}(n)`` or ``{name}(sequence)``."})
    cls.dtype = dt
    return cls


FloatStorage = _legacy("FloatStorage", _dtype.float32)
DoubleStorage = _legacy("DoubleStorage", _dtype.float64)
HalfStorage = _legacy("HalfStorage", _dtype.float16)
BFloat16Storage = _legacy("BFloat16Storage", _dtype.bfloat16)
ByteStorage = _legacy("ByteStorage", _dtype.uint8)
CharStorage = _legacy("CharStorage", _dtype.int8)
ShortStorage = _legacy("ShortStorage", _dtype.int16)
IntStorage = _legacy("IntStorage", _dtype.int32)
LongStorage = _legacy("LongStorage", _dtype.int64)
BoolStorage = _legacy("BoolStorage", _dtype.bool)
ComplexFloatStorage = _legacy("ComplexFloatStorage", _dtype.complex64)
ComplexDoubleStorage = _legacy("ComplexDoubleStorage", _dtype.complex128)
Storage = FloatStorage  # torch.Storage is the legacy float storage class
_LEGACY = {c._fixed_dtype.name: c for c in (FloatStorage, DoubleStorage, HalfStorage, BFloat16Storage,
                                            ByteStorage, CharStorage, ShortStorage, IntStorage, LongStorage,
                                            BoolStorage, ComplexFloatStorage, ComplexDoubleStorage)}


# ----- Tensor methods ------------------------------------------------------------------------------
def untyped_storage(self) -> UntypedStorage:
    """The tensor's bytes as an :class:`UntypedStorage` (a live view: writes go back to the tensor)."""
    return UntypedStorage._of(self)


def typed_storage(self) -> TypedStorage:
    """The tensor's elements as a :class:`TypedStorage` (``Tensor.storage()``; a live view)."""
    return TypedStorage._of(self)


def storage_type(self):
    """The legacy storage class of the tensor's dtype (``mt.FloatStorage`` for float32 ...)."""
    name = _dtype.from_np(self._data.dtype).name
    if name not in _LEGACY:
        raise RuntimeError(f"storage_type(): no legacy storage class for dtype {self.dtype}")
    return _LEGACY[name]


def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make ``self`` hold ``source``'s data: a tensor (its shape and values; same dtype required), a
    storage (its elements from ``storage_offset``, shaped ``size`` with ``stride``; default the whole
    storage as 1-D), or nothing (an empty tensor). A copy, not shared memory (see module notes).
    Returns ``self``."""
    dt = np.dtype(self._data.dtype)
    if source is None:
        new = jnp.zeros((0,), dt)
    elif isinstance(source, Tensor):
        if source._data.dtype != dt:
            raise RuntimeError(f"Could not set tensor of type {_dtype.from_np(source._data.dtype)} to a "
                               f"tensor of type {_dtype.from_np(dt)}")
        new = source._data
    elif isinstance(source, (UntypedStorage, TypedStorage)):
        if isinstance(source, TypedStorage) and source.dtype.np != dt:
            raise RuntimeError(f"Expected a Storage of type {_dtype.from_np(dt)} but got type "
                               f"{source.dtype} for argument #1 'source'")
        b = source._bytes() if isinstance(source, UntypedStorage) else source._untyped_storage._bytes()
        vals = b[: b.size - b.size % dt.itemsize].view(dt)
        if size is None:
            size = (vals.size - int(storage_offset),)
        size = tuple(int(s) for s in size)
        if stride is None:
            stride = tuple(int(np.prod(size[k + 1:])) for k in range(len(size)))
        idx = np.full(size, int(storage_offset), np.int64)
        for k, (n, st) in enumerate(zip(size, stride)):
            idx = idx + (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (len(size) - k - 1))
        if idx.size and (idx.max() >= vals.size or idx.min() < 0):
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                               f"{storage_offset}, and itemsize {dt.itemsize} requiring a storage size of "
                               f"{(int(idx.max()) + 1) * dt.itemsize} are out of bounds for storage of size "
                               f"{vals.size * dt.itemsize}")
        new = jnp.asarray(vals[idx])
    else:
        raise TypeError(f"set_(): argument 'source' must be Tensor or Storage, not {type(source).__name__}")
    self._data = new
    self._version += 1
    return self
