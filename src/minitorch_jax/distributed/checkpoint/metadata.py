"""Checkpoint metadata classes named as torch.distributed.checkpoint.metadata's (the parts a script reads).

``Metadata.state_dict_metadata`` maps each flattened FQN to a :class:`TensorStorageMetadata` (dtype,
size, one chunk covering the whole tensor: minitorch_jax has no sharded tensors) or a
:class:`BytesStorageMetadata` (any other value). ``storage_data`` maps each FQN to the data file
(relative to the checkpoint directory) that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ... import _dtype
from ..._tensor import Size

__all__ = ["Metadata", "TensorStorageMetadata", "BytesStorageMetadata", "TensorProperties",
           "ChunkStorageMetadata"]


@dataclass
class TensorProperties:
    """Properties of a saved tensor: ``dtype`` and ``requires_grad``."""

    dtype: Any = field(default_factory=lambda: _dtype.float32)
    requires_grad: bool = False


@dataclass
class ChunkStorageMetadata:
    """One stored chunk of a tensor: its ``offsets`` in the full tensor and its ``sizes``."""

    offsets: Size
    sizes: Size


@dataclass
class TensorStorageMetadata:
    """A saved tensor: its ``properties``, full ``size`` and stored ``chunks``."""

    properties: TensorProperties
    size: Size
    chunks: list


@dataclass
class BytesStorageMetadata:
    """A saved non-tensor value (number, string, list of plain values ...)."""


@dataclass
class Metadata:
    """What a checkpoint holds: ``state_dict_metadata`` (FQN -> storage metadata), ``storage_data``
    (FQN -> data file name), ``planner_data``, ``storage_meta`` and the format ``version``."""

    state_dict_metadata: dict
    planner_data: Any = None
    storage_data: Any = None
    storage_meta: Any = None
    version: str | None = None
