"""``mt.types``: torch.types' type aliases for annotations (``Number``, ``Device``, ``FileLike`` ...)."""

from __future__ import annotations

import os
from typing import IO, TypeAlias, Union

from ._device import device as _device_cls
from ._dtype import dtype as _dtype_cls
from ._ops._layouts import layout as _layout_cls
from ._tensor import Size, Tensor
from ._torch_misc.extras import SymFloat, SymInt
from ._torch_misc.storage import TypedStorage, UntypedStorage

SymBool = bool  # no symbolic shapes here: a SymBool is a plain bool

__all__ = ["Number", "Device", "FileLike", "Storage"]

Storage: TypeAlias = Union[TypedStorage, UntypedStorage]  # noqa: UP007
"""A typed or untyped storage."""

Number: TypeAlias = Union[int, float, bool]  # noqa: UP007
"""A Python number as torch accepts it."""

Device: TypeAlias = Union[_device_cls, str, int, None]  # noqa: UP007
"""Anything accepted where a device is expected."""

FileLike: TypeAlias = Union[str, os.PathLike, IO[bytes]]  # noqa: UP007
"""A path or a binary file object (``mt.save``/``mt.load``)."""

IntLikeType: TypeAlias = Union[int, SymInt]  # noqa: UP007
FloatLikeType: TypeAlias = Union[float, SymFloat]  # noqa: UP007
BoolLikeType: TypeAlias = Union[bool, SymBool]  # noqa: UP007
py_sym_types = (SymInt, SymFloat, SymBool)

_int = int
_float = float
_bool = bool
_complex = complex
_dtype = _dtype_cls
_device = _device_cls
_size: TypeAlias = Union[Size, list[int], tuple[int, ...]]  # noqa: UP007
_TensorOrTensors: TypeAlias = Union[Tensor, tuple[Tensor, ...]]  # noqa: UP007
_layout = _layout_cls
