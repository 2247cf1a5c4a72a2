"""Tensor queries that are plain Python functions, not ops: ``result_type``, ``is_floating_point``,
``is_complex``, ``numel`` (torch's ``torch.<name>`` functions of the same names)."""

from __future__ import annotations

from . import _dtype
from ._tensor import Tensor

__all__ = ["is_complex", "is_floating_point", "numel", "result_type"]

_SCALARS = (bool, int, float, complex)


def _need_tensor(fn: str, t) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}")


def result_type(tensor, other) -> _dtype.dtype:
    """The dtype an arithmetic op on ``tensor`` and ``other`` would return (torch.result_type).

    Args:
        tensor, other: tensors or Python numbers. 0-d tensors and numbers only raise the
            category (bool < int < float < complex), as in torch's promotion rules.

    Example::

        >>> mt.result_type(mt.tensor([1, 2]), 1.0)
        mt.float32
    """
    vals = []
    for pos, v in enumerate((tensor, other), 1):
        if isinstance(v, Tensor):
            vals.append(v._data)
        elif isinstance(v, _SCALARS):
            vals.append(v)
        else:
            raise TypeError(f"result_type(): argument {pos} must be a Tensor or a number, not "
                            f"{type(v).__name__}")
    return _dtype.from_np(_dtype.result_type_of(vals))


def is_floating_point(input) -> bool:
    """True if ``input`` is a tensor of a floating point dtype (float16, bfloat16, float32, float64)."""
    _need_tensor("is_floating_point", input)
    return input.is_floating_point()


def is_complex(input) -> bool:
    """True if ``input`` is a tensor of a complex dtype (complex64, complex128)."""
    _need_tensor("is_complex", input)
    return input.is_complex()


def numel(input) -> int:
    """The number of elements of ``input`` (the product of its shape; 1 for a 0-d tensor)."""
    _need_tensor("numel", input)
    return input.numel()
