"""``mt.utils.dlpack``: zero-copy exchange with other array libraries through DLPack."""

from __future__ import annotations

import jax

from .._tensor import Tensor, _wrap

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s array (for ``torch.utils.dlpack.from_dlpack`` and the like).

    Most libraries also accept the Tensor's array directly: ``torch.from_dlpack(t.jax())``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): expected a Tensor, got {type(tensor).__name__}")
    return tensor._data.__dlpack__()


class _Capsule:
    """Gives a bare (CPU) DLPack capsule the ``__dlpack__`` protocol that JAX requires."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


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
