"""CRC-32C (Castagnoli), the checksum of TFRecord framing, and TensorFlow's "masked" form of it.

Uses the ``crc32c`` or ``google_crc32c`` package when one is already installed (fast, C), else a
table-driven pure-Python implementation (about 5 MB/s: ample for scalars, histograms and text;
a large image costs a few tens of milliseconds).
"""

from __future__ import annotations

__all__ = ["crc32c", "masked_crc32c"]

_POLY = 0x82F63B78  # the Castagnoli polynomial, bit-reflected
_MASK_DELTA = 0xA282EAD8


def _make_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def _crc32c_py(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _pick():
    try:  # pragma: no cover - only where the optional C package is installed
        import crc32c as _c
        return lambda data: _c.crc32c(data)
    except ImportError:
        pass
    try:  # pragma: no cover
        import google_crc32c as _g
        return lambda data: _g.value(bytes(data))
    except ImportError:
        return _crc32c_py


_impl = _pick()


def crc32c(data: bytes) -> int:
    """The CRC-32C checksum of ``data`` (an unsigned 32-bit int); ``crc32c(b"123456789") == 0xE3069283``."""
    return _impl(data)


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``: the CRC rotated right by 15 bits plus ``0xa282ead8``
    (mod 2**32), so that a CRC of data that itself holds CRCs stays well distributed."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
