"""The ``.safetensors`` format, read and written from its specification (no safetensors package).

Layout: an 8-byte little-endian unsigned header length ``N``; ``N`` bytes of UTF-8 JSON mapping each
tensor name to ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` (offsets relative to
the byte buffer that follows, which the tensors cover exactly, without holes or overlaps) plus an
optional ``"__metadata__"`` map of strings; then the little-endian, C-contiguous tensor bytes.
"""

from __future__ import annotations

import json
import math
import struct

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._meta import is_meta_array, no_data
from .._tensor import Tensor, _wrap
from ._common import CheckpointError

__all__ = ["is_safetensors", "read_safetensors", "safetensors_bytes"]

_CODES = {
    "F16": _dtype.float16, "BF16": _dtype.bfloat16, "F32": _dtype.float32, "F64": _dtype.float64,
    "I8": _dtype.int8, "U8": _dtype.uint8, "I16": _dtype.int16, "I32": _dtype.int32, "I64": _dtype.int64,
    "BOOL": _dtype.bool, "C64": _dtype.complex64,
}
_NAMES = {d.name: c for c, d in _CODES.items()}
_MAX_HEADER = 100_000_000


def is_safetensors(data: bytes) -> bool:
    """Whether ``data`` starts like a safetensors file (a length then a JSON object)."""
    if len(data) < 9:
        return False
    (n,) = struct.unpack("<Q", data[:8])
    return 2 <= n <= len(data) - 8 and data[8:9] == b"{"


def read_safetensors(data: bytes) -> dict:
    """Parse a whole safetensors file held in ``data`` into ``{name: Tensor}`` (header order)."""
    if len(data) < 8:
        raise CheckpointError(f"mt.load: safetensors file too short ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(_MAX_HEADER, len(data) - 8):
        raise CheckpointError(f"mt.load: safetensors header length {n} exceeds the file (truncated?)")
    try:
        header = json.loads(data[8: 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"mt.load: safetensors header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError("mt.load: safetensors header must be a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise CheckpointError("mt.load: safetensors __metadata__ must map strings to strings")
    buf = memoryview(data)[8 + n:]
    spans = []
    out = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise CheckpointError(f"mt.load: safetensors entry {name!r} is malformed")
        dt = _CODES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        shape, offs = info["shape"], info["data_offsets"]
        if dt is None:
            raise CheckpointError(f"mt.load: safetensors dtype {info['dtype']!r} of {name!r} is not "
                                  "supported")
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise CheckpointError(f"mt.load: safetensors shape of {name!r} is malformed: {shape!r:.60}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
                and 0 <= offs[0] <= offs[1] <= len(buf)):
            raise CheckpointError(f"mt.load: safetensors data_offsets of {name!r} are out of range: "
                                  f"{offs!r:.60} (buffer has {len(buf)} bytes)")
        if offs[1] - offs[0] != math.prod(shape) * dt.itemsize:
            raise CheckpointError(f"mt.load: safetensors entry {name!r} has {offs[1] - offs[0]} bytes for "
                                  f"shape {shape} of {info['dtype']}")
        spans.append(tuple(offs))
        arr = np.frombuffer(buf[offs[0]: offs[1]], dtype=dt.np).reshape(shape)
        out[name] = _wrap(jnp.asarray(arr))
    pos = 0
    for b, e in sorted(spans):
        if b != pos:
            raise CheckpointError("mt.load: safetensors tensors overlap or leave holes in the data buffer")
        pos = e
    if pos != len(buf):
        raise CheckpointError(f"mt.load: safetensors data buffer has {len(buf) - pos} trailing bytes")
    return out


def safetensors_bytes(tensors, metadata=None) -> bytes:
    """Serialize a flat ``{str: Tensor}`` dict to safetensors bytes.

    Raises:
        TypeError: if ``tensors`` is not a flat dict of strings to Tensors, or a dtype has no code.
    """
    if not isinstance(tensors, dict):
        raise TypeError("mt.save: safetensors holds a flat dict of name -> tensor, got "
                        f"{type(tensors).__name__}")
    entries = []
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise TypeError(f"mt.save: safetensors names must be strings (not '__metadata__'), got {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"mt.save: safetensors holds only tensors (a flat dict of name -> tensor); "
                            f"{name!r} is a {type(t).__name__}")
        code = _NAMES.get(t.dtype.name)
        if code is None:
            raise TypeError(f"mt.save: dtype {t.dtype} of {name!r} cannot be stored in safetensors")
        if is_meta_array(t._data):
            raise no_data(f" (mt.save: {name!r} is a meta tensor)")
        arr = np.ascontiguousarray(np.asarray(t._data))
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        entries.append((-t.dtype.itemsize, name, code, list(arr.shape), arr))
    entries.sort(key=lambda e: (e[0], e[1]))
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    pos = 0
    for _, name, code, shape, arr in entries:
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [pos, pos + arr.nbytes]}
        pos += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [e[4].tobytes() for e in entries])
