"""Reading torch's legacy (pre-1.6, ``_use_new_zipfile_serialization=False``) checkpoints.

The file is a run of pickles: the magic number, the protocol version (1001), a ``sys_info`` dict,
the object itself (storages as persistent ids ``('storage', type, key, location, numel,
view_metadata)``), the list of storage keys, and then each storage as an 8-byte element count
followed by its raw bytes. Every pickle goes through the same restricted unpickler as the zip
format.
"""

from __future__ import annotations

import io
import struct

from ._common import CheckpointError, Storage, StorageType, resolve_pending, storage_array
from ._torch_zip import RestrictedUnpickler

__all__ = ["MAGIC", "is_legacy", "read_legacy"]

MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001


def is_legacy(data: bytes) -> bool:
    """Whether ``data`` starts like a pickle (the legacy format is a run of pickles)."""
    return data[:1] == b"\x80"


def read_legacy(data: bytes, weights_only: bool = True):
    """Load the object stored in a legacy torch checkpoint held in ``data``."""
    f = io.BytesIO(data)

    def no_storage(pid):
        raise CheckpointError("mt.load: unexpected storage in a legacy checkpoint header")

    def header():
        return RestrictedUnpickler(f, no_storage, weights_only).load()

    if header() != MAGIC:
        raise CheckpointError("mt.load: not a torch checkpoint (legacy magic number missing)")
    if header() != _PROTOCOL:
        raise CheckpointError("mt.load: unsupported legacy torch checkpoint protocol version")
    sys_info = header()
    big = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    storages: dict = {}
    views = []

    def load_storage(pid):
        if len(pid) != 6:
            raise CheckpointError(f"mt.load: malformed legacy storage id {pid!r:.80}")
        _, stype, key, _loc, numel, view = pid
        if not isinstance(stype, StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise CheckpointError(f"mt.load: malformed legacy storage id {pid!r:.80}")
        if key not in storages:
            storages[key] = Storage(stype.dtype, numel, None, key)
        if view is None:
            return storages[key]
        vst = Storage(stype.dtype, None, None, key)
        views.append((vst, storages[key], view))
        return vst

    obj = RestrictedUnpickler(f, load_storage, weights_only).load()
    keys = header()
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise CheckpointError("mt.load: legacy checkpoint storage key list is malformed")
    for key in keys:
        st = storages.get(key)
        if st is None:
            raise CheckpointError(f"mt.load: legacy checkpoint has data for unknown storage {key!r}")
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError("mt.load: legacy checkpoint is truncated (storage header)")
        (numel,) = struct.unpack(">q" if big else "<q", head)
        if numel != st.numel:
            raise CheckpointError(f"mt.load: storage {key!r} holds {numel} elements, expected {st.numel}")
        raw = f.read(numel * st.dtype.itemsize)
        st.array = storage_array(raw, st.dtype, numel, big)
    for vst, root, view in views:
        if not (isinstance(view, tuple) and len(view) == 3 and all(type(v) is int for v in view[1:])):
            raise CheckpointError("mt.load: malformed legacy storage view")
        _, off, size = view
        if root.array is None or off < 0 or size < 0 or off + size > root.array.shape[0]:
            raise CheckpointError("mt.load: legacy storage view out of range")
        vst.array = root.array[off: off + size]
    return resolve_pending(obj)
