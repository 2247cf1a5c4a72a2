"""Turning the values SummaryWriter accepts (``mt.Tensor``, jax and numpy arrays, Python and numpy
numbers) into numpy arrays on the host.

Reading a Tensor's value waits for the device. Inside an ``mt.jit``-compiled function a Tensor has
no value yet, so :func:`make_np` raises :class:`SummaryInJitError` (a ``TracedValueError``, which
``mt.jit`` reports as a ``JitError`` naming the line, or answers by running eagerly with
``fallback='eager'``): return the value from the compiled function and log it outside.
"""

from __future__ import annotations

import jax
import numpy as np

from ..._errors import TracedValueError
from ..._tensor import Tensor

__all__ = ["SummaryInJitError", "make_np"]


class SummaryInJitError(TracedValueError):
    """A SummaryWriter method was given a traced tensor (called inside ``mt.jit``)."""

    def __init__(self, fn: str):
        RuntimeError.__init__(
            self, f"SummaryWriter.{fn}() needs the tensor's value on the host, which does not exist "
                  f"while an mt.jit-compiled function is traced; return the tensor from the compiled "
                  f"function and call {fn}() outside it (or run the function eagerly)")
        self.kind = f"SummaryWriter.{fn}"


def make_np(x, fn: str) -> np.ndarray:
    """``x`` as a numpy array (a number becomes shape ``(1,)``, as torch's ``make_np``).

    Args:
        x: an ``mt.Tensor``, a jax array, a numpy array, or a Python/numpy number.
        fn: the calling SummaryWriter method, named in errors.
    """
    data = x._data if isinstance(x, Tensor) else x
    if isinstance(data, jax.core.Tracer):
        raise SummaryInJitError(fn)
    if isinstance(data, (np.ndarray, jax.Array)):
        return np.asarray(data)
    if np.isscalar(data) and not isinstance(data, (str, bytes)):
        return np.array([data])
    raise NotImplementedError(
        f"SummaryWriter.{fn}(): got {type(x)}, but an mt.Tensor, a numpy or jax array, or a Python "
        f"number is expected")
