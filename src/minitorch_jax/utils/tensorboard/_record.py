"""TFRecord framing, the container format of TensorBoard event files.

Each record is ``uint64 length`` (little-endian), ``uint32 masked_crc32c(length bytes)``, the data,
``uint32 masked_crc32c(data)``. :func:`frame` builds one record; :func:`read_records` reads them
back, checking both checksums.
"""

from __future__ import annotations

import struct

from ._crc32c import masked_crc32c

__all__ = ["RecordCorruptError", "frame", "read_records"]


class RecordCorruptError(ValueError):
    """An event file record is truncated or fails its CRC-32C check."""


def frame(data: bytes) -> bytes:
    """``data`` framed as one TFRecord (header, data, footer)."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


def read_records(path: str, check_crc: bool = True) -> list[bytes]:
    """The data of every record in the TFRecord file at ``path``.

    Raises :class:`RecordCorruptError` naming the record index and byte offset when a record is
    truncated or (``check_crc=True``) a length or data checksum does not match.
    """
    with open(path, "rb") as fh:
        buf = fh.read()
    out, pos, index = [], 0, 0
    while pos < len(buf):
        where = f"{path}: record {index} at byte offset {pos}"
        if pos + 12 > len(buf):
            raise RecordCorruptError(f"{where}: truncated header ({len(buf) - pos} bytes left, need 12)")
        header = buf[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", buf[pos + 8:pos + 12])
        if check_crc and len_crc != masked_crc32c(header):
            raise RecordCorruptError(f"{where}: length checksum mismatch (stored {len_crc:#010x}, "
                                     f"computed {masked_crc32c(header):#010x})")
        end = pos + 12 + length
        if end + 4 > len(buf):
            raise RecordCorruptError(f"{where}: truncated data (record says {length} bytes, "
                                     f"{max(len(buf) - pos - 16, 0)} present)")
        data = buf[pos + 12:end]
        (data_crc,) = struct.unpack("<I", buf[end:end + 4])
        if check_crc and data_crc != masked_crc32c(data):
            raise RecordCorruptError(f"{where}: data checksum mismatch (stored {data_crc:#010x}, "
                                     f"computed {masked_crc32c(data):#010x})")
        out.append(data)
        pos, index = end + 4, index + 1
    return out
