"""Reading ``torch.save``'s zip checkpoints without torch, and without running code from the file.

A zip holds ``<prefix>/data.pkl`` (a pickle whose tensors point at storages by persistent id
``('storage', torch.<X>Storage, key, location, numel)``) and ``<prefix>/data/<key>`` (each storage's
raw bytes, little-endian unless ``<prefix>/byteorder`` says ``big``).

:class:`RestrictedUnpickler` resolves globals from an allow-list only: torch's tensor/parameter
rebuild functions and storage types (replaced by this package's own implementations), dtypes,
``torch.Size``/``torch.device``, ``collections.OrderedDict`` and a few builtins. Any other global
(``posix.system``, ``builtins.eval`` ...) raises :class:`UnsafeCheckpointError` naming it, before
anything is called.
"""

from __future__ import annotations

import collections
import io
import mmap
import pickle
import pickletools
import zipfile

from .. import _dtype
from ..sparse._serialize import get_layout as _get_layout
from ..sparse._serialize import rebuild_sparse_tensor as _rebuild_sparse_tensor
from ._common import (
    CheckpointError,
    Storage,
    StorageType,
    UnsafeCheckpointError,
    rebuild_parameter,
    rebuild_tensor,
    rebuild_tensor_v1,
    storage_array,
)

__all__ = ["RestrictedUnpickler", "read_zip", "is_zip"]


def _codecs_encode(obj, encoding="utf-8"):
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: only str -> latin-1 bytes."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise CheckpointError("mt.load: _codecs.encode is only allowed as (str, 'latin1')")
    return obj.encode("latin1")


def _marker(name):
    def refuse(*args, **kwargs):
        raise CheckpointError(f"mt.load: {name} cannot be called directly in a checkpoint")
    refuse.marker = name
    return refuse


_TENSOR = _marker("torch.Tensor")
_PARAMETER = _marker("torch.nn.parameter.Parameter")


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2`` restricted to plain tensors and parameters."""
    if new_type not in (_TENSOR, _PARAMETER) or not callable(func) or not isinstance(args, tuple):
        raise CheckpointError("mt.load: only torch.Tensor and Parameter are allowed in _rebuild_from_type_v2")
    t = func(*args)
    return rebuild_parameter(t, True) if new_type is _PARAMETER else t


def _size(*args):
    from .._tensor import Size
    vals = args[0] if len(args) == 1 else args
    if not isinstance(vals, (tuple, list)) or not all(type(v) is int for v in vals):
        raise CheckpointError("mt.load: torch.Size expects ints")
    return Size(vals)


def _device(*args):
    from .._device import device
    if not all(isinstance(a, (str, int)) for a in args) or not 1 <= len(args) <= 2:
        raise CheckpointError("mt.load: torch.device expects a string and an optional index")
    return device(*args)


def _safe_builtin(fn, allowed_arg_types):
    def call(*args):
        if not all(isinstance(a, allowed_arg_types) for a in args) or len(args) > 2:
            raise CheckpointError(f"mt.load: builtins.{fn.__name__} called with unsupported arguments")
        return fn(*args)
    return call


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): rebuild_tensor_v1,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): _TENSOR,
    ("torch._utils", "_rebuild_sparse_tensor"): _rebuild_sparse_tensor,
    ("torch.serialization", "_get_layout"): _get_layout,
    ("torch.nn.parameter", "Parameter"): _PARAMETER,
    ("torch", "Size"): _size,
    ("torch", "device"): _device,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): _safe_builtin(set, (list, tuple, set, frozenset)),
    ("builtins", "frozenset"): _safe_builtin(frozenset, (list, tuple, set, frozenset)),
    ("builtins", "complex"): _safe_builtin(complex, (int, float)),
    ("builtins", "bytearray"): _safe_builtin(bytearray, (bytes,)),
    ("_codecs", "encode"): _codecs_encode,
}
for _name in ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
              "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage",
              "ComplexDoubleStorage", "UntypedStorage"):
    _ALLOWED[("torch", _name)] = StorageType(_name)
_ALLOWED[("torch.storage", "UntypedStorage")] = StorageType("UntypedStorage")
for _d in _dtype._ALL:
    _ALLOWED[("torch", _d.name)] = _d
for _alias, _d in (("half", _dtype.float16), ("float", _dtype.float32), ("double", _dtype.float64),
                   ("long", _dtype.int64), ("int", _dtype.int32), ("short", _dtype.int16),
                   ("cfloat", _dtype.complex64), ("cdouble", _dtype.complex128)):
    _ALLOWED[("torch", _alias)] = _d


def _numpy_globals():
    """Extra globals for ``weights_only=False``: numpy arrays, dtypes and scalars (no object dtype)."""
    import numpy as np

    def dtype_(*args):
        d = np.dtype(*args)
        if d.hasobject:
            raise CheckpointError("mt.load: numpy object arrays are not allowed")
        return d

    def scalar(d, data=None):
        if not isinstance(d, np.dtype) or d.hasobject or not isinstance(data, bytes):
            raise CheckpointError("mt.load: numpy scalar with unsupported arguments")
        return np.frombuffer(data, d, count=1)[0]

    def reconstruct(cls, shape, dt):
        if cls is not np.ndarray:
            raise CheckpointError("mt.load: only numpy.ndarray may be reconstructed")
        return np.ndarray.__new__(np.ndarray, shape, dt)

    out = {}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(mod, "_reconstruct")] = reconstruct
        out[(mod, "scalar")] = scalar
    out[("numpy", "ndarray")] = np.ndarray
    out[("numpy", "dtype")] = dtype_
    return out


_FORBIDDEN_OPS = {"NEXT_BUFFER", "READONLY_BUFFER", "BYTEARRAY8", "INST", "OBJ", "EXT1", "EXT2", "EXT4"}
_MEMO_OPS = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader that resolves globals from an allow-list only, and persistent ids through
    ``storage_loader(pid) -> Storage``.

    Args:
        file: a binary file object positioned at the pickle.
        storage_loader: called with the persistent-id tuple.
        weights_only: when False, numpy arrays/dtypes/scalars are allowed too (still no code runs).
    """

    def __init__(self, file, storage_loader, weights_only: bool = True):
        super().__init__(file, encoding="utf-8")
        self._file = file
        self._storage_loader = storage_loader
        self._allowed = _ALLOWED if weights_only else {**_ALLOWED, **_numpy_globals()}
        self._weights_only = weights_only

    def load(self):
        """Check the opcodes first (no out-of-band buffers, memo indices bounded by the pickle's
        size so a corrupted index cannot make the unpickler allocate gigabytes), then unpickle."""
        start = self._file.tell()
        limit = 0
        for op, arg, pos in pickletools.genops(self._file):
            limit = pos - start
            if op.name in _FORBIDDEN_OPS:
                raise CheckpointError(f"mt.load: pickle opcode {op.name} is not allowed in a checkpoint")
            if op.name in _MEMO_OPS and arg is not None and arg > 4 * limit + 16:
                raise CheckpointError(f"mt.load: pickle memo index {arg} is out of range (corrupted file?)")
            if op.name == "STOP":
                break
        self._file.seek(start)
        return super().load()

    def find_class(self, module, name):
        fn = self._allowed.get((module, name))
        if fn is None:
            hint = "" if self._weights_only else " (even with weights_only=False)"
            raise UnsafeCheckpointError(
                f"mt.load: refusing to load '{module}.{name}'{hint}: only tensors, containers and numbers "
                f"are allowed in a checkpoint, and mt.load never runs code from the file")
        return fn

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise CheckpointError(f"mt.load: unsupported persistent id {pid!r:.80}")
        return self._storage_loader(pid)


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive."""
    return data[:4] == b"PK\x03\x04"


def read_zip(data: bytes, weights_only: bool = True):
    """Load the object stored in a torch zip checkpoint held in ``data``."""
    try:
        zf = zipfile.ZipFile(data if isinstance(data, mmap.mmap) else io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, IndexError) as e:
        raise CheckpointError(f"mt.load: not a valid torch zip checkpoint ({e})") from None
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise CheckpointError("mt.load: zip file has no '<archive>/data.pkl' record: not a torch checkpoint")
    prefix = pkl[0][: -len("data.pkl")]
    big = False
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder")
        if order not in (b"little", b"big"):
            raise CheckpointError(f"mt.load: unknown byteorder record {order[:20]!r}")
        big = order == b"big"
    loaded: dict = {}

    def load_storage(pid):
        if len(pid) != 5:
            raise CheckpointError(f"mt.load: malformed storage id {pid!r:.80}")
        _, stype, key, _location, numel = pid
        if not isinstance(stype, StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise CheckpointError(f"mt.load: malformed storage id {pid!r:.80}")
        if key in loaded:
            return loaded[key]
        name = f"{prefix}data/{key}"
        try:
            if zf.getinfo(name).file_size > 64 * len(data) + (1 << 20):
                raise CheckpointError(f"mt.load: record {name!r} declares an implausible size (zip bomb?)")
            raw = zf.read(name)
        except KeyError:
            raise CheckpointError(f"mt.load: storage record {name!r} is missing from the archive") from None
        dtype = stype.dtype
        if stype.name == "UntypedStorage":
            numel = len(raw)
        st = Storage(dtype, numel, storage_array(raw, dtype, numel, big), key)
        loaded[key] = st
        return st

    with zf:
        return RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), load_storage, weights_only).load()
