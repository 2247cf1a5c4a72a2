"""``mt.utils.dlpack``: zero-copy exchange with other array libraries through DLPack."""

from __future__ import annotations

import ctypes

import jax

from .._tensor import Tensor, _wrap

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s array (for ``torch.utils.dlpack.from_dlpack`` and the like).

    Most libraries also accept the Tensor's array directly: ``torch.from_dlpack(t.jax())``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): expected a Tensor, got {type(tensor).__name__}")
    return tensor._data.__dlpack__()


def _capsule_device(capsule) -> tuple:
    """The ``(device_type, device_id)`` recorded in a legacy DLPack capsule (1 = CPU, 2 = CUDA ...).

    A capsule holds a ``DLManagedTensor`` whose ``DLTensor`` starts with the data pointer followed by
    the device (two int32s)."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    try:
        ptr = get(capsule, b"dltensor")
    except ValueError:
        raise RuntimeError("from_dlpack(): the DLPack capsule was already consumed (a capsule can be "
                           "imported once); export the tensor again") from None
    dev = (ctypes.c_int32 * 2).from_address(ptr + ctypes.sizeof(ctypes.c_void_p))
    return int(dev[0]), int(dev[1])


class _Capsule:
    """Gives a bare DLPack capsule the ``__dlpack__`` protocol that JAX requires, with the device
    the capsule itself records (a GPU capsule must not be read as host memory)."""

    def __init__(self, capsule):
        self._capsule = capsule
        self._device = _capsule_device(capsule)

    def __dlpack__(self, *args, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return self._device


def from_dlpack(ext) -> Tensor:
    """A Tensor sharing memory (where JAX allows) with ``ext``: any object with ``__dlpack__``
    (torch tensors, numpy arrays, jax arrays, CuPy ...) or a CPU DLPack capsule.

    Torch tensors that require grad are detached first (DLPack carries no autograd).
    """
    if isinstance(ext, Tensor):
        return ext
    if isinstance(ext, jax.Array):
        return _wrap(ext)
    if not hasattr(ext, "__dlpack__"):
        if type(ext).__name__ == "PyCapsule":
            ext = _Capsule(ext)
        else:
            raise TypeError(f"from_dlpack(): expected an object with __dlpack__ or a DLPack capsule, got "
                            f"{type(ext).__name__}")
    if getattr(ext, "requires_grad", False) and hasattr(ext, "detach"):
        ext = ext.detach()
    return _wrap(jax.dlpack.from_dlpack(ext))
