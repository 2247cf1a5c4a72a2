"""``mt.load``: torch zip checkpoints (this library's and real PyTorch's), torch's legacy format and
``.safetensors``, read safely (no code from the file ever runs)."""

from __future__ import annotations

import mmap as _mmap_module
import os

from .._tensor import Tensor
from ._common import CheckpointError, map_leaves
from ._legacy import is_legacy, read_legacy
from ._safetensors import is_safetensors, read_safetensors
from ._torch_zip import is_zip, read_zip

__all__ = ["load"]


class _Mapped(_mmap_module.mmap):
    """A read-only file mapping that ``zipfile`` accepts as a file object."""

    def seekable(self) -> bool:
        return True


def _read_all(f, use_mmap: bool = False) -> tuple[bytes, str]:
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        with open(path, "rb") as fh:
            if use_mmap and os.fstat(fh.fileno()).st_size:
                # records are read out of the mapping one by one: the file is never copied whole
                return _Mapped(fh.fileno(), 0, access=_mmap_module.ACCESS_READ), repr(path)
            return fh.read(), repr(path)
    if use_mmap:
        raise ValueError("mt.load: f must be a file path in order to use the mmap argument")
    if not hasattr(f, "read"):
        raise TypeError(f"mt.load: f must be a path or a binary file object, got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("mt.load: the file object must be opened in binary mode")
    return bytes(data), "<file object>"


def _decode(data: bytes, weights_only: bool):
    if is_zip(data):
        return read_zip(data, weights_only)
    if is_safetensors(data):
        return read_safetensors(data)
    if is_legacy(data):
        return read_legacy(data, weights_only)
    raise CheckpointError("not a recognized checkpoint format (expected a torch zip or legacy checkpoint, "
                          "or a .safetensors file)")


def _move(obj, device):
    def leaf(v):
        if isinstance(v, Tensor):
            moved = v.to(device)
            if type(moved) is not type(v):
                moved.__class__ = type(v)
            return moved
        return v
    return map_leaves(obj, leaf)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved with :func:`save` or ``torch.save`` (zip or legacy format), or a
    ``.safetensors`` file (returned as a dict of name -> Tensor).

    Args:
        f: a path or a readable binary file object.
        map_location: None, a device or device string ('cpu', 'cuda:0'), or a dict mapping saved
            location strings to devices (its first value is used): tensors are moved there.
        weights_only: when True (default) only tensors, Parameters, dicts/OrderedDicts, lists,
            tuples, sets, numbers, strings, None, dtypes, ``torch.Size`` and ``torch.device`` are
            allowed. False also allows numpy arrays/dtypes/scalars. Neither setting ever runs code
            from the file: anything else is refused.
        pickle_module: None or the ``pickle`` module (accepted for torch's signature; the file is
            always read with this library's restricted unpickler).
        mmap: map a file given by path into memory instead of reading it whole (torch's
            ``mmap=True``): each tensor's bytes are read out of the mapping as it is rebuilt.

    Returns:
        The saved object with torch tensors as mt Tensors (torch Parameters as mt Parameters).
        Tensors that shared a storage in the file come back as independent arrays (JAX arrays
        are immutable, so nothing observable is lost).

    Raises:
        UnsafeCheckpointError: the file names a global that is not allowed (the name is in the
            message); nothing from the file was executed.
        CheckpointError: empty, truncated, corrupted or unrecognized files (a ``RuntimeError`` and
            ``pickle.UnpicklingError``).
    """
    if pickle_module is not None and getattr(pickle_module, "__name__", None) != "pickle":
        name = getattr(pickle_module, "__name__", pickle_module)
        raise ValueError(f"mt.load: pickle_module={name!r} is not supported: files are always read with "
                         "the restricted unpickler (weights_only)")
    data, where = _read_all(f, bool(mmap))
    if not data:
        raise CheckpointError(f"mt.load: {where} is empty (0 bytes)")
    try:
        obj = _decode(data, bool(weights_only))
    except CheckpointError as e:
        msg = str(e)
        if msg.startswith("mt.load: "):
            msg = msg[len("mt.load: "):]
        raise type(e)(f"mt.load: {where}: {msg}") from None
    except Exception as e:  # anything a corrupted pickle/zip can raise inside the stdlib
        raise CheckpointError(f"mt.load: {where} is corrupted or truncated "
                              f"({type(e).__name__}: {str(e)[:200]})") from e
    if map_location is not None and not callable(map_location):
        if isinstance(map_location, dict):
            map_location = next(iter(map_location.values()), None)
        if map_location is not None:
            obj = _move(obj, map_location)
    return obj
