"""Checkpoints: ``save``/``load`` (torch's zip format, torch's legacy format, ``.safetensors``).

``load`` never runs code from a file: pickles go through an allow-list of globals (tensor
rebuilding, containers, numbers) and anything else is refused with :class:`UnsafeCheckpointError`.
"""

from __future__ import annotations

from ._common import CheckpointError, UnsafeCheckpointError
from ._load import load
from ._safetensors import read_safetensors, safetensors_bytes
from ._save import save

__all__ = ["save", "load", "CheckpointError", "UnsafeCheckpointError", "load_safetensors", "save_safetensors"]


def load_safetensors(f) -> dict:
    """Read a ``.safetensors`` file (path or binary file object) into ``{name: Tensor}``."""
    if hasattr(f, "read"):
        return read_safetensors(f.read())
    with open(f, "rb") as fh:
        return read_safetensors(fh.read())


def save_safetensors(tensors: dict, f, metadata: dict | None = None) -> None:
    """Write a flat ``{name: Tensor}`` dict as ``.safetensors`` (atomically for a path)."""
    if metadata is None:
        save(tensors, f, format="safetensors")
        return
    data = safetensors_bytes(tensors, metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        from ._save import _write_atomic
        _write_atomic(f, lambda fh: fh.write(data))
