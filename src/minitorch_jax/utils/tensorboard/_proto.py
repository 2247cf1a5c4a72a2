"""A minimal protocol-buffer wire-format encoder and decoder, enough for TensorBoard's messages.

Encoding follows proto3: scalar fields equal to their default are left out unless ``always=True``
(members of a ``oneof``), message fields are written whenever given, repeated numeric fields are
packed. Fields are written in field-number order, as the protobuf library does, so the bytes equal
``message.SerializeToString()``. The decoder turns bytes into ``(field_number, wire_type, value)``
triples; the reader module interprets them.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["VARINT", "I64", "LEN", "I32", "varint", "f_varint", "f_double", "f_float", "f_bytes",
           "f_string", "f_message", "f_packed_double", "f_packed_float", "f_packed_varint",
           "f_repeated_bytes", "parse", "as_double", "as_float", "as_signed", "unpack_packed"]

VARINT, I64, LEN, I32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    """Base-128 varint of ``n``; negative ints are written as 64-bit two's complement (int32/int64)."""
    n = int(n)
    if n < 0:
        n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def f_varint(field: int, n, always: bool = False) -> bytes:
    """An int / enum / bool field (left out when 0 unless ``always``)."""
    n = int(n)
    return _key(field, VARINT) + varint(n) if (n or always) else b""


def f_double(field: int, x, always: bool = False) -> bytes:
    """A ``double`` field (left out when 0.0 unless ``always``)."""
    x = float(x)
    return _key(field, I64) + struct.pack("<d", x) if (x != 0.0 or always or _negzero(x)) else b""


def f_float(field: int, x, always: bool = False) -> bytes:
    """A ``float`` (32-bit) field (left out when 0.0 unless ``always``)."""
    x = float(x)
    return _key(field, I32) + struct.pack("<f", x) if (x != 0.0 or always or _negzero(x)) else b""


def _negzero(x: float) -> bool:
    return x == 0.0 and struct.pack("<d", x)[-1] == 0x80


def f_bytes(field: int, data: bytes, always: bool = False) -> bytes:
    """A ``bytes`` field (left out when empty unless ``always``)."""
    data = bytes(data)
    return _key(field, LEN) + varint(len(data)) + data if (data or always) else b""


def f_string(field: int, s: str, always: bool = False) -> bytes:
    """A ``string`` field, UTF-8 encoded (left out when empty unless ``always``)."""
    return f_bytes(field, s.encode("utf-8"), always)


def f_message(field: int, msg: bytes | None) -> bytes:
    """A sub-message field from its encoded bytes; written (even when empty) unless ``msg is None``."""
    if msg is None:
        return b""
    return _key(field, LEN) + varint(len(msg)) + msg


def f_packed_double(field: int, values) -> bytes:
    """A packed ``repeated double`` field (left out when empty)."""
    arr = np.asarray(values, dtype="<f8").reshape(-1)
    return f_bytes(field, arr.tobytes()) if arr.size else b""


def f_packed_float(field: int, values) -> bytes:
    """A packed ``repeated float`` field (left out when empty)."""
    arr = np.asarray(values, dtype="<f4").reshape(-1)
    return f_bytes(field, arr.tobytes()) if arr.size else b""


def f_packed_varint(field: int, values) -> bytes:
    """A packed ``repeated int32/int64/bool`` field (left out when empty)."""
    data = b"".join(varint(int(v)) for v in values)
    return f_bytes(field, data) if data else b""


def f_repeated_bytes(field: int, items) -> bytes:
    """A ``repeated bytes``/``string`` field: one entry per item, empty items included."""
    return b"".join(f_bytes(field, b, always=True) for b in items)


# --------------------------------------------------------------------------- decoding

def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint in protocol buffer")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ValueError("varint longer than 10 bytes in protocol buffer")


def parse(buf: bytes) -> list[tuple[int, int, object]]:
    """Split an encoded message into ``(field, wire_type, value)`` triples, in order: varints as
    unsigned ints, fixed64/fixed32 as raw 8/4 bytes, length-delimited fields as bytes.
    Raises ``ValueError`` on malformed input."""
    out = []
    pos, n = 0, len(buf)
    while pos < n:
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise ValueError("field number 0 in protocol buffer")
        if wire == VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == I64:
            value, pos = bytes(buf[pos:pos + 8]), pos + 8
        elif wire == I32:
            value, pos = bytes(buf[pos:pos + 4]), pos + 4
        elif wire == LEN:
            size, pos = _read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + size]), pos + size
        else:
            raise ValueError(f"unsupported wire type {wire} (field {field}) in protocol buffer")
        if pos > n:
            raise ValueError(f"truncated field {field} in protocol buffer")
        out.append((field, wire, value))
    return out


def as_double(raw: bytes) -> float:
    """A fixed64 field's bytes as a double."""
    return struct.unpack("<d", raw)[0]


def as_float(raw: bytes) -> float:
    """A fixed32 field's bytes as a float."""
    return struct.unpack("<f", raw)[0]


def as_signed(n: int) -> int:
    """An int64 varint read as unsigned, back to signed."""
    return n - (1 << 64) if n >= 1 << 63 else n


def unpack_packed(raw: bytes, kind: str) -> list:
    """A packed repeated field's bytes as a list: ``kind`` is 'double', 'float' or 'varint'."""
    if kind == "double":
        return np.frombuffer(raw, dtype="<f8").tolist()
    if kind == "float":
        return np.frombuffer(raw, dtype="<f4").tolist()
    vals, pos = [], 0
    while pos < len(raw):
        v, pos = _read_varint(raw, pos)
        vals.append(as_signed(v))
    return vals
