"""``mt.distributed.checkpoint``: torch.distributed.checkpoint (DCP) — sharded-style checkpoint
directories saved and loaded by every rank, plus :mod:`.state_dict` (FQN-keyed model/optimizer state).

``save(state_dict, checkpoint_id=dir)`` flattens nested dicts to dotted FQNs and writes a directory
(layout in :mod:`.filesystem`: per-rank ``__{rank}_0.distcp`` data files in torch's zip format plus a
JSON ``.metadata``); ``load(state_dict, checkpoint_id=dir)`` fills the given dict in place, tensors
keeping their identity. Differences from torch: minitorch_jax has no DTensor/ShardedTensor, so every
tensor is replicated and written once (rank 0); planners and storage classes are accepted but not
pluggable; the on-disk metadata is not torch's, so torch's DCP and this one cannot read each other's
checkpoint directories (the data files themselves open with ``torch.load``); ``CheckpointException`` is a
``RuntimeError``.
"""

from __future__ import annotations

from . import state_dict
from ._api import DefaultLoadPlanner, DefaultSavePlanner, LoadPlanner, SavePlanner, async_save, load, save
from .filesystem import CheckpointException, FileSystemReader, FileSystemWriter, StorageReader, StorageWriter
from .metadata import (
                       BytesStorageMetadata,
                       ChunkStorageMetadata,
                       Metadata,
                       TensorProperties,
                       TensorStorageMetadata,
)

save_state_dict = save
load_state_dict = load

__all__ = ["save", "load", "async_save", "save_state_dict", "load_state_dict", "FileSystemWriter",
           "FileSystemReader", "StorageWriter", "StorageReader", "DefaultSavePlanner", "DefaultLoadPlanner",
           "SavePlanner", "LoadPlanner", "CheckpointException", "Metadata", "TensorStorageMetadata",
           "BytesStorageMetadata", "TensorProperties", "ChunkStorageMetadata", "state_dict"]
