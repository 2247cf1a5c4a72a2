"""``mt.save``: torch-compatible zip checkpoints (readable by ``torch.load(..., weights_only=True)``)
and ``.safetensors``, written atomically.

The pickle inside the zip is emitted opcode by opcode (protocol 2), so it can name torch's globals
(``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage`` ...) without importing torch, and only
ever contains what torch's weights-only unpickler accepts.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from .. import _dtype
from .._device import device as _Device
from .._meta import is_meta_array, no_data
from .._tensor import Size, Tensor
from ._common import DTYPE_STORAGE
from ._safetensors import safetensors_bytes

__all__ = ["save"]

_ALIGN = 64


class _PickleWriter:
    """Writes a protocol-2 pickle of plain containers, numbers, strings and tensors; tensors become
    ``_rebuild_tensor_v2`` calls on storages given by persistent id, their bytes collected in
    ``self.storages`` (key -> bytes)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.storages: dict[str, bytes] = {}
        self._tensor_keys: dict[int, tuple] = {}
        self._active: set[int] = set()
        self._keep = []

    def w(self, b: bytes) -> None:
        self.out.write(b)

    def glob(self, module: str, name: str) -> None:
        self.w(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def string(self, s: str) -> None:
        b = s.encode("utf-8", "surrogatepass")
        self.w(b"X" + struct.pack("<I", len(b)) + b)

    def integer(self, v: int) -> None:
        if 0 <= v < 256:
            self.w(b"K" + bytes([v]))
        elif 0 <= v < 65536:
            self.w(b"M" + struct.pack("<H", v))
        elif -(2 ** 31) <= v < 2 ** 31:
            self.w(b"J" + struct.pack("<i", v))
        else:
            n = (v.bit_length() + 8) // 8
            data = v.to_bytes(n, "little", signed=True)
            self.w(b"\x8a" + bytes([n]) + data if n < 256 else b"\x8b" + struct.pack("<i", n) + data)

    def tuple_(self, items, path) -> None:
        self.w(b"(")
        for i, x in enumerate(items):
            self.save(x, f"{path}[{i}]")
        self.w(b"t")

    def empty_ordered_dict(self) -> None:
        self.glob("collections", "OrderedDict")
        self.w(b")R")

    def tensor(self, t: Tensor, path: str) -> None:
        from ..nn.parameter import Parameter
        is_param = isinstance(t, Parameter)
        if is_param:
            self.glob("torch._utils", "_rebuild_parameter")
            self.w(b"(")
        key, storage, shape, numel = self._storage_of(t, path)
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.w(b"(")
        self.w(b"(")
        self.string("storage")
        self.glob("torch", storage)
        self.string(key)
        self.string("cpu")
        self.integer(numel)
        self.w(b"tQ")
        self.integer(0)
        self.tuple_(shape, path)
        strides, acc = [], 1
        for n in reversed(shape):
            strides.append(acc)
            acc *= max(n, 1)
        self.tuple_(tuple(reversed(strides)), path)
        self.w(b"\x88" if (t.requires_grad and not is_param) else b"\x89")
        self.empty_ordered_dict()
        self.w(b"tR")
        if is_param:
            self.w(b"\x88" if t.requires_grad else b"\x89")
            self.empty_ordered_dict()
            self.w(b"tR")

    def sparse_tensor(self, t: Tensor, path: str) -> None:
        """torch's record of a sparse tensor:
        ``_rebuild_sparse_tensor(layout, (parts..., size[, coalesced]))``."""
        layout, args = t._torch_reduce()
        self.glob("torch._utils", "_rebuild_sparse_tensor")
        self.w(b"(")
        self.glob("torch.serialization", "_get_layout")
        self.string("torch." + layout)
        self.w(b"\x85R")
        self.tuple_(args, path)
        self.w(b"tR")

    def _storage_of(self, t: Tensor, path: str):
        if id(t) in self._tensor_keys:
            return self._tensor_keys[id(t)]
        storage = DTYPE_STORAGE.get(t.dtype.name)
        if storage is None:
            raise TypeError(f"mt.save: dtype {t.dtype} of {path} has no torch storage type")
        if is_meta_array(t._data):
            raise no_data(f" (mt.save: {path} is a meta tensor)")
        arr = np.asarray(t._data)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        key = str(len(self.storages))
        self.storages[key] = np.ascontiguousarray(arr).tobytes()
        self._keep.append(t)
        info = (key, storage, tuple(int(n) for n in arr.shape), int(arr.size))
        self._tensor_keys[id(t)] = info
        return info

    def save(self, obj, path: str = "obj") -> None:
        if obj is None:
            self.w(b"N")
        elif obj is True or obj is False:
            self.w(b"\x88" if obj else b"\x89")
        elif isinstance(obj, Tensor) and hasattr(obj, "_torch_reduce"):  # sparse COO/CSR
            self.sparse_tensor(obj, path)
        elif isinstance(obj, Tensor):
            self.tensor(obj, path)
        elif isinstance(obj, int) and type(obj) is not bool:
            self.integer(int(obj))
        elif isinstance(obj, float):
            self.w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, complex):
            self.glob("builtins", "complex")
            self.w(b"(")
            self.save(obj.real)
            self.save(obj.imag)
            self.w(b"tR")
        elif isinstance(obj, str):
            self.string(str(obj))
        elif isinstance(obj, (bytes, bytearray)):
            self.glob("_codecs", "encode")
            self.w(b"(")
            self.string(bytes(obj).decode("latin1"))
            self.string("latin1")
            self.w(b"tR")
        elif isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
            self.save(obj.item(), path)
        elif isinstance(obj, _dtype.dtype):
            self.glob("torch", obj.name)
        elif isinstance(obj, _Device):
            self.glob("torch", "device")
            self.w(b"(")
            self.string(str(obj))
            self.w(b"tR")
        elif isinstance(obj, Size):
            self.glob("torch", "Size")
            self.w(b"(")
            self.tuple_(tuple(obj), path)
            self.w(b"tR")
        elif isinstance(obj, (dict, list, tuple, set, frozenset)):
            self._container(obj, path)
        else:
            kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
            raise TypeError(f"mt.save: cannot save {path} of type {kind}; checkpoints hold tensors, dicts, "
                            "lists, tuples, sets, numbers, strings and None")

    def _container(self, obj, path: str) -> None:
        if id(obj) in self._active:
            raise ValueError(f"mt.save: {path} contains itself (reference cycle)")
        self._active.add(id(obj))
        try:
            if isinstance(obj, dict):
                if isinstance(obj, OrderedDict):
                    self.empty_ordered_dict()
                else:
                    self.w(b"}")
                if obj:
                    self.w(b"(")
                    for k, v in obj.items():
                        if not isinstance(k, (str, int, float, bool, tuple, type(None))):
                            raise TypeError(f"mt.save: dict key {k!r} of {path} has unsupported type "
                                            f"{type(k).__name__}")
                        self.save(k, f"{path}[{k!r}]")
                        self.save(v, f"{path}[{k!r}]")
                    self.w(b"u")
                meta = getattr(obj, "_metadata", None)
                if isinstance(obj, OrderedDict) and isinstance(meta, dict):
                    self.w(b"}")
                    self.string("_metadata")
                    self.save(meta, f"{path}._metadata")
                    self.w(b"sb")
            elif isinstance(obj, list):
                self.w(b"]")
                if obj:
                    self.w(b"(")
                    for i, v in enumerate(obj):
                        self.save(v, f"{path}[{i}]")
                    self.w(b"e")
            elif isinstance(obj, tuple):
                self.tuple_(obj, path)
            else:
                self.glob("builtins", "frozenset" if isinstance(obj, frozenset) else "set")
                self.w(b"(]")
                if obj:
                    self.w(b"(")
                    for v in obj:
                        self.save(v, f"{path}{{}}")
                    self.w(b"e")
                self.w(b"tR")
        finally:
            self._active.discard(id(obj))

    def finish(self) -> bytes:
        return self.out.getvalue() + b"."

    def start(self) -> None:
        self.w(b"\x80\x02")


def _padded(zf: zipfile.ZipFile, fp, name: str, data: bytes) -> None:
    """Write a stored record whose data starts on a 64-byte boundary (as torch's writer does)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = fp.tell() + 30 + len(name.encode())
    pad = -(start + 4) % _ALIGN
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    zf.writestr(info, data)


def torch_zip_bytes_to(fp, obj, archive: str = "archive") -> None:
    """Write ``obj`` as a torch zip checkpoint to the seekable binary file ``fp``."""
    pw = _PickleWriter()
    pw.start()
    pw.save(obj)
    pkl = pw.finish()
    with zipfile.ZipFile(fp, "w", zipfile.ZIP_STORED) as zf:
        _padded(zf, fp, f"{archive}/data.pkl", pkl)
        _padded(zf, fp, f"{archive}/.format_version", b"1")
        _padded(zf, fp, f"{archive}/.storage_alignment", b"64")
        _padded(zf, fp, f"{archive}/byteorder", b"little")
        for key, raw in pw.storages.items():
            _padded(zf, fp, f"{archive}/data/{key}", raw)
        _padded(zf, fp, f"{archive}/version", b"3\n")


def _encode(obj, fmt: str, f) -> bytes:
    if fmt == "safetensors":
        return safetensors_bytes(obj, {"format": "pt"})
    buf = io.BytesIO()
    torch_zip_bytes_to(buf, obj)
    return buf.getvalue()


def _write_atomic(path: str, data_writer) -> None:
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as fh:
            data_writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def save(obj, f, *, format=None) -> None:  # noqa: A002 - torch-style keyword
    """Save ``obj`` (state_dicts, optimizer state_dicts, nested dicts/lists/tuples/sets of tensors,
    numbers, strings and None) to ``f``.

    Args:
        obj: the object to save. Tensors are stored by value (contiguous, little-endian);
            Parameters stay Parameters; one tensor object saved twice is stored once.
        f: a path (str or ``os.PathLike``) or a writable binary file object.
        format: ``"torch"`` (the zip format of ``torch.save``, readable by
            ``torch.load(path, weights_only=True)``) or ``"safetensors"`` (a flat dict of name ->
            tensor only). Default: safetensors when the path ends in ``.safetensors``, else torch.

    Writing to a path is atomic: the data goes to a temporary file in the same directory that is
    flushed, fsynced and renamed over ``f``, so an error or interruption leaves any previous file
    intact. For a file object the whole checkpoint is built in memory first, then written.

    Raises:
        TypeError: for objects that a checkpoint cannot hold.
        ValueError: for an unknown ``format`` or a reference cycle.
    """
    is_path = isinstance(f, (str, os.PathLike))
    if format is None:
        format = "safetensors" if is_path and os.fspath(f).endswith(".safetensors") else "torch"  # noqa: A001
    if format not in ("torch", "safetensors"):
        raise ValueError(f"mt.save: unknown format {format!r}; expected 'torch' or 'safetensors'")
    if is_path:
        if format == "torch":
            _write_atomic(f, lambda fh: torch_zip_bytes_to(fh, obj))
        else:
            data = _encode(obj, format, f)
            _write_atomic(f, lambda fh: fh.write(data))
        return
    if not hasattr(f, "write"):
        raise TypeError(f"mt.save: f must be a path or a binary file object, got {type(f).__name__}")
    f.write(_encode(obj, format, f))
    if hasattr(f, "flush"):
        f.flush()
