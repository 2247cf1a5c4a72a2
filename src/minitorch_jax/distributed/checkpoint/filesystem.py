"""``FileSystemWriter`` / ``FileSystemReader``: the on-disk layout of a minitorch_jax DCP checkpoint.

A checkpoint is a directory holding

* ``__{rank}_0.distcp``, one per rank that owns entries: a ``mt.save`` file in torch's zip format
  (``torch.load(path, weights_only=True)`` reads it too) holding a flat ``{fqn: value}`` dict of the
  entries that rank wrote. A tensor every rank holds (all minitorch_jax tensors are replicated) is
  written once, by the lowest rank that has it.
* ``.metadata``, written last by rank 0 (its presence marks a complete checkpoint): UTF-8 JSON
  ``{"format": "minitorch_jax.distributed.checkpoint", "version": 1, "items": {fqn: item}}`` with
  ``item = {"file": "__0_0.distcp", "kind": "tensor", "dtype": "float32", "shape": [4, 3]}`` or
  ``{"file": ..., "kind": "bytes"}``.

This is not torch's binary layout (torch pickles its metadata classes into ``.metadata`` and stores
each item with ``torch.save`` at byte offsets); torch's DCP cannot load these directories and this
module cannot read torch's. The data files are torch-readable, so a torch user can still get the
tensors with ``torch.load``.
"""

from __future__ import annotations

import json
import os

from ... import _dtype
from ..._tensor import Size, Tensor
from ...serialization import load as _mt_load
from ...serialization._save import _write_atomic, torch_zip_bytes_to
from .metadata import (
    BytesStorageMetadata,
    ChunkStorageMetadata,
    Metadata,
    TensorProperties,
    TensorStorageMetadata,
)

__all__ = ["FileSystemWriter", "FileSystemReader", "CheckpointException", "StorageWriter", "StorageReader"]

FORMAT = "minitorch_jax.distributed.checkpoint"
VERSION = 1
METADATA_FILE = ".metadata"


class CheckpointException(RuntimeError):
    """A checkpoint could not be saved or loaded; the message names the key or file.

    (torch's ``CheckpointException`` derives from ``BaseException`` and wraps per-rank failures; this
    one is a ``RuntimeError`` so ``except Exception`` catches it.)"""


def data_file_name(rank: int) -> str:
    """The data file written by ``rank``."""
    return f"__{rank}_0.distcp"


class StorageWriter:
    """Base class of checkpoint writers (torch's ``StorageWriter``)."""


class StorageReader:
    """Base class of checkpoint readers (torch's ``StorageReader``)."""


class FileSystemWriter(StorageWriter):
    """Write a checkpoint into directory ``path`` (created if needed).

    Args:
        path: the checkpoint directory.
        single_file_per_rank, sync_files, thread_count, per_thread_copy_ahead, cache_staged_state_dict:
            accepted for torch compatibility (each rank always writes one fsynced file).
        overwrite: when False, refuse to write into a directory that already holds a checkpoint.
    """

    def __init__(self, path, single_file_per_rank: bool = True, sync_files: bool = True,
                 thread_count: int = 1, per_thread_copy_ahead: int = 10_000_000,
                 cache_staged_state_dict: bool = False, overwrite: bool = True, **kwargs):
        self.path = os.fspath(path)
        self.overwrite = overwrite

    def reset(self, checkpoint_id=None) -> None:
        """Point the writer at a new directory ``checkpoint_id`` (if given)."""
        if checkpoint_id is not None:
            self.path = os.fspath(checkpoint_id)

    def prepare(self) -> None:
        """Create the directory; refuse an existing checkpoint when ``overwrite=False``."""
        if not self.overwrite and os.path.exists(os.path.join(self.path, METADATA_FILE)):
            raise CheckpointException(f"FileSystemWriter: a checkpoint already exists at {self.path!r} and "
                                      "overwrite=False")
        os.makedirs(self.path, exist_ok=True)

    def write_rank(self, rank: int, items: dict) -> dict:
        """Write ``items`` (flat ``{fqn: value}``) as this rank's data file; return metadata entries."""
        if not items:
            return {}
        name = data_file_name(rank)
        try:
            _write_atomic(os.path.join(self.path, name), lambda fh: torch_zip_bytes_to(fh, dict(items)))
        except TypeError as e:
            raise TypeError(f"mt.distributed.checkpoint.save: cannot store the state_dict: {e}") from None
        out = {}
        for fqn, v in items.items():
            if isinstance(v, Tensor):
                out[fqn] = {"file": name, "kind": "tensor", "dtype": v.dtype.name, "shape": list(v.shape)}
            else:
                out[fqn] = {"file": name, "kind": "bytes"}
        return out

    def finish(self, entries: dict) -> None:
        """Write ``.metadata`` (rank 0, after every data file is in place)."""
        text = json.dumps({"format": FORMAT, "version": VERSION, "items": entries}, indent=0)
        _write_atomic(os.path.join(self.path, METADATA_FILE), lambda fh: fh.write(text.encode("utf-8")))


def to_metadata(entries: dict) -> Metadata:
    """Build a :class:`Metadata` from ``.metadata``'s item entries."""
    sdm, storage = {}, {}
    for fqn, e in entries.items():
        storage[fqn] = e["file"]
        if e["kind"] == "tensor":
            size = Size(e["shape"])
            sdm[fqn] = TensorStorageMetadata(TensorProperties(getattr(_dtype, e["dtype"])), size,
                                             [ChunkStorageMetadata(Size([0] * len(size)), size)])
        else:
            sdm[fqn] = BytesStorageMetadata()
    return Metadata(sdm, storage_data=storage, version=str(VERSION))


class FileSystemReader(StorageReader):
    """Read a checkpoint written by :class:`FileSystemWriter` from directory ``path``."""

    def __init__(self, path, **kwargs):
        self.path = os.fspath(path)
        self._entries = None

    def reset(self, checkpoint_id=None) -> None:
        """Point the reader at a new directory ``checkpoint_id`` (if given)."""
        if checkpoint_id is not None:
            self.path = os.fspath(checkpoint_id)
            self._entries = None

    def read_entries(self) -> dict:
        """The raw ``{fqn: item}`` entries of ``.metadata``.

        Raises:
            FileNotFoundError: no ``.metadata`` in the directory (not a checkpoint, or an unfinished one).
            CheckpointException: ``.metadata`` is unreadable, truncated or not this format.
        """
        if self._entries is not None:
            return self._entries
        mpath = os.path.join(self.path, METADATA_FILE)
        if not os.path.exists(mpath):
            raise FileNotFoundError(f"mt.distributed.checkpoint: no checkpoint at {self.path!r}: "
                                    f"{mpath!r} does not exist")
        with open(mpath, "rb") as fh:
            raw = fh.read()
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise CheckpointException(f"mt.distributed.checkpoint: checkpoint metadata file {mpath!r} is "
                                      f"corrupt or truncated ({e})") from None
        if not (isinstance(doc, dict) and doc.get("format") == FORMAT and isinstance(doc.get("items"), dict)):
            raise CheckpointException(f"mt.distributed.checkpoint: {mpath!r} is not a minitorch_jax "
                                      "checkpoint metadata file (torch's DCP checkpoints cannot be read)")
        for fqn, e in doc["items"].items():
            if not (isinstance(e, dict) and isinstance(e.get("file"), str)
                    and e.get("kind") in ("tensor", "bytes") and os.path.basename(e["file"]) == e["file"]
                    and (e["kind"] == "bytes" or (isinstance(e.get("shape"), list)
                                                  and isinstance(getattr(_dtype, str(e.get("dtype")), None),
                                                                 _dtype.dtype)))):
                raise CheckpointException(f"mt.distributed.checkpoint: {mpath!r} has a malformed entry for "
                                          f"{fqn!r}")
        self._entries = doc["items"]
        return self._entries

    def read_metadata(self) -> Metadata:
        """The checkpoint's :class:`Metadata`."""
        return to_metadata(self.read_entries())

    def read_file(self, name: str) -> dict:
        """Load data file ``name``.

        Raises:
            CheckpointException: the file is missing, truncated or corrupt (naming it).
        """
        p = os.path.join(self.path, name)
        if not os.path.exists(p):
            raise CheckpointException(f"mt.distributed.checkpoint: data file {p!r} named in the metadata is "
                                      "missing")
        try:
            data = _mt_load(p)
        except Exception as e:  # noqa: BLE001 - any decoding failure means a damaged file
            raise CheckpointException(f"mt.distributed.checkpoint: data file {p!r} is corrupt or truncated "
                                      f"({type(e).__name__}: {e})") from None
        if not isinstance(data, dict):
            raise CheckpointException(f"mt.distributed.checkpoint: data file {p!r} does not hold a dict")
        return data
