"""The meta device: tensors that have a shape and a dtype but no data (``device='meta'``).

A meta tensor's array is a ``jax.ShapeDtypeStruct``. Creation functions make one without allocating
(``mt.empty(10**9, device='meta')``, or any factory inside ``with mt.device('meta'):``), ops on meta
tensors compute only their result's shape and dtype (``jax.eval_shape`` of the op's kernel, in the op
table's dispatch), in-place fills and ``nn.init`` leave them as they are, and
``Module.to_empty(device=...)`` gives a module built on the meta device real (uninitialised) storage:
torch's way to build a large model without paying for its first initialisation.

Differences from torch: meta tensors carry no autograd graph (``backward()`` raises), and ops whose
output shape depends on values (``nonzero``, boolean masks) raise.
"""

from __future__ import annotations

import jax

from ._errors import ShapeError

__all__ = ["META_ARRAY", "is_meta_array", "meta_array", "no_data", "eval_meta"]

META_ARRAY = _SDS = jax.ShapeDtypeStruct  # (the class: hot paths compare ``a.__class__ is META_ARRAY``)


def is_meta_array(a) -> bool:
    """True for a meta tensor's array (a ``jax.ShapeDtypeStruct``)."""
    return a.__class__ is _SDS


def meta_array(shape, dtype) -> jax.ShapeDtypeStruct:
    """The array of a meta tensor of ``shape`` and (numpy) ``dtype``."""
    return _SDS(tuple(shape), dtype)


def no_data(hint: str = "") -> NotImplementedError:
    """torch's error for reading a meta tensor's values."""
    return NotImplementedError("Cannot copy out of meta tensor; no data!" + hint)


def eval_meta(fn, arrays):
    """The shapes and dtypes ``fn(*arrays)`` would return, as meta arrays (nothing runs)."""
    out = jax.eval_shape(fn, *arrays)
    if isinstance(out, (tuple, list)):
        return type(out)(meta_array(o.shape, o.dtype) for o in out)
    return meta_array(out.shape, out.dtype)


def needs_values(op: str, *tensors) -> None:
    """Raise a clear error where ``op`` must read its inputs' values (a data-dependent output shape or
    check) and one of ``tensors`` is a meta tensor, which has none (as torch's meta kernels raise)."""
    for t in tensors:
        if t is not None and is_meta_array(getattr(t, "_data", t)):
            raise ShapeError(f"{op}(): needs the values of its input to compute its result, and a meta "
                             "tensor has no values (meta tensors carry shapes and dtypes only)")
