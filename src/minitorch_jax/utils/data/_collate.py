"""``default_collate`` and ``default_convert``: samples -> batches, numpy -> tensors.

Both walk nested structures the way torch's do. The leaves are built by a small "backend":
in the main process numpy leaves become ``mt`` Tensors (numpy arrays are stacked with numpy,
then moved to JAX once per leaf; Tensors are stacked with one ``mt.stack``); in a DataLoader
worker the same code produces :class:`_AsTensor` markers around numpy arrays, which the main
process unpickles straight into Tensors, so a worker never needs a JAX backend.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import re

import jax.numpy as jnp
import numpy as np

from ... import _creation, _dtype
from ..._tensor import Tensor, _wrap

__all__ = ["default_collate", "default_convert"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")
default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


# ----- leaves ------------------------------------------------------------------------------------
def _rebuild_tensor(arr: np.ndarray, requires_grad: bool = False) -> Tensor:
    """Unpickling hook: a Tensor made from a numpy array sent by a worker."""
    return _wrap(jnp.asarray(arr), requires_grad)


class _AsTensor:
    """A numpy array that becomes a Tensor when unpickled (worker -> main transport)."""

    __slots__ = ("arr",)

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr

    def __reduce__(self):
        return _rebuild_tensor, (self.arr,)


def _tensor_to_np(t: Tensor) -> np.ndarray:
    return np.asarray(t._data)


def _np_stack(arrays: list) -> np.ndarray:
    """``torch.stack`` of numpy arrays: same shapes required, torch's dtype promotion."""
    s0 = arrays[0].shape
    dt = arrays[0].dtype
    for i, a in enumerate(arrays):
        if a.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 "
                               f"and {list(a.shape)} at entry {i}")
        if a.dtype != dt:
            dt = _dtype._promote_np(np.dtype(dt), np.dtype(a.dtype))
    return np.stack(arrays).astype(dt, copy=False)


class _MainBackend:
    """Leaves become mt Tensors (in the process that uses them)."""

    @staticmethod
    def leaf(arr: np.ndarray):
        return _wrap(jnp.asarray(arr))

    @staticmethod
    def stack_tensors(batch: list):
        from ... import stack
        return stack(batch, 0)


class _WorkerBackend:
    """Leaves stay numpy, marked to become Tensors when the main process unpickles them."""

    leaf = _AsTensor

    @staticmethod
    def stack_tensors(batch: list):
        return _AsTensor(_np_stack([_tensor_to_np(t) for t in batch]))


# ----- default_collate -------------------------------------------------------------------------
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _is_np_scalar(x) -> bool:
    return isinstance(x, np.bool_ | np.number | np.object_)


def _collate(batch, be):
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return be.stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        return be.leaf(_np_stack([np.asarray(b) for b in batch]))
    if _is_np_scalar(elem):
        arr = np.array(batch)
        if arr.dtype.kind in "OSU":
            raise TypeError(default_collate_err_msg_format.format(arr.dtype))
        return be.leaf(arr)
    if isinstance(elem, float):
        return be.leaf(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return be.leaf(np.array(batch, dtype=_creation._infer_np_dtype(batch)))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, cabc.Mapping):
        if isinstance(elem, cabc.MutableMapping):
            clone = copy.copy(elem)
            clone.update({key: _collate([d[key] for d in batch], be) for key in elem})
            return clone
        try:
            return elem_type({key: _collate([d[key] for d in batch], be) for key in elem})
        except TypeError:
            return {key: _collate([d[key] for d in batch], be) for key in elem}
    if _is_namedtuple(elem):
        return elem_type(*(_collate(list(samples), be) for samples in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [_collate(samples, be) for samples in transposed]
        try:
            if isinstance(elem, cabc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = _collate(samples, be)
                return clone
            return elem_type([_collate(samples, be) for samples in transposed])
        except TypeError:
            return [_collate(samples, be) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    The structure of the samples is kept and their leaves are stacked along a new first dim:

    * Tensors -> ``mt.stack(batch)``; numpy arrays -> a Tensor of the stacked arrays (sizes must
      match: RuntimeError otherwise); numpy scalars -> a 1-D Tensor of their dtype;
    * Python floats -> float64, ints -> int64 (bools -> bool) 1-D Tensors, as torch does;
    * strings and bytes -> left as the list of samples;
    * dicts -> a dict of collated values; namedtuples -> the same namedtuple of collated fields;
      tuples/lists -> a list of collated positions (all samples must have the same length:
      RuntimeError "each element in list of batch should be of equal size").

    Other types raise TypeError. Example::

        >>> default_collate([(np.zeros(3), 1), (np.ones(3), 2)])
        [tensor(shape [2, 3], float64), tensor([1, 2])]
    """
    return _collate(batch, _MainBackend)


def worker_collate(batch):
    """:func:`default_collate` for worker processes: numpy leaves that unpickle into Tensors."""
    return _collate(batch, _WorkerBackend)


# ----- default_convert -------------------------------------------------------------------------
def _convert(data, be):
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray):
            if np_str_obj_array_pattern.search(data.dtype.str) is not None:
                return data
            return be.leaf(data)
        if np.ndim(data) == 0:
            if isinstance(data, np.object_):
                return data
            return be.leaf(np.asarray(data))
        return data
    if isinstance(data, cabc.Mapping):
        try:
            if isinstance(data, cabc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: _convert(data[key], be) for key in data})
                return clone
            return elem_type({key: _convert(data[key], be) for key in data})
        except TypeError:
            return {key: _convert(data[key], be) for key in data}
    if _is_namedtuple(data):
        return elem_type(*(_convert(d, be) for d in data))
    if isinstance(data, tuple):
        return [_convert(d, be) for d in data]
    if isinstance(data, cabc.Sequence) and not isinstance(data, str | bytes):
        try:
            if isinstance(data, cabc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = _convert(d, be)
                return clone
            return elem_type([_convert(d, be) for d in data])
        except TypeError:
            return [_convert(d, be) for d in data]
    return data


def default_convert(data):
    """Convert numpy arrays and numpy scalars inside ``data`` to Tensors (no batching).

    The collate function of a DataLoader with ``batch_size=None``. Nested dicts, namedtuples
    and sequences are walked (tuples become lists, as in torch); string/object arrays and other
    objects are returned unchanged.
    """
    return _convert(data, _MainBackend)


def worker_convert(data):
    """:func:`default_convert` for worker processes (numpy leaves that unpickle into Tensors)."""
    return _convert(data, _WorkerBackend)
