"""Top-level functional forms torch has: ``detach``, ``fill``, ``zero_``, ``from_dlpack`` ..."""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["detach", "detach_", "fill", "fill_", "zero_", "from_dlpack", "to_dlpack"]

# ----- functional forms ---------------------------------------------------------------------------
def _need_tensor(x, fn: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: a tensor with the same data, cut from the autograd graph."""
    _need_tensor(input, "detach")
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """``input.detach_()``: cut ``input`` from the graph in place and return it."""
    _need_tensor(input, "detach_")
    return input.detach_()


def fill(input: Tensor, value) -> Tensor:
    """A new tensor shaped and typed like ``input`` filled with ``value`` (a number or a 0-d tensor);
    differentiable in ``value``, zero gradient for ``input``. The out-of-place ``fill_``."""
    _need_tensor(input, "fill")
    return input.clone().fill_(value)


def fill_(input: Tensor, value) -> Tensor:
    """``input.fill_(value)``: fill ``input`` in place and return it."""
    _need_tensor(input, "fill_")
    return input.fill_(value)


def zero_(input: Tensor) -> Tensor:
    """``input.zero_()``: fill ``input`` with zeros in place and return it."""
    _need_tensor(input, "zero_")
    return input.zero_()


def from_dlpack(ext) -> Tensor:
    """A Tensor sharing memory (where JAX allows) with ``ext``, an object with ``__dlpack__`` or a
    DLPack capsule (see :func:`minitorch_jax.utils.dlpack.from_dlpack`)."""
    from ..utils import dlpack

    return dlpack.from_dlpack(ext)


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s array (see :func:`minitorch_jax.utils.dlpack.to_dlpack`)."""
    from ..utils import dlpack

    return dlpack.to_dlpack(tensor)
