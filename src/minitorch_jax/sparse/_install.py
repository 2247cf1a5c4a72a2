"""``install()``: the dense Tensor methods that make sparse tensors (``to_sparse``,
``to_sparse_coo``, ``to_sparse_csr``, ``sparse_mask``)."""

from __future__ import annotations

from .._ops._layouts import sparse_coo, sparse_csr, strided
from .._tensor import Tensor
from ._construct import dense_to_csr, dense_to_sparse, sparse_mask

__all__ = ["install"]


def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None):
    """A sparse copy: ``to_sparse(sparse_dim)`` or ``to_sparse(layout=mt.sparse_coo|mt.sparse_csr)``."""
    if args:
        if len(args) > 1 or layout is not None:
            raise TypeError("to_sparse() takes either sparse_dim or layout=, not both")
        return dense_to_sparse(self, args[0])
    if layout is None or layout is sparse_coo:
        sd = None if dense_dim is None else self.ndim - int(dense_dim)
        return dense_to_sparse(self, sd)
    if layout is sparse_csr:
        return dense_to_csr(self)
    if layout is strided:
        return self
    raise NotImplementedError(f"to_sparse(): conversion to {layout} is not supported")


def to_sparse_coo(self):
    """A sparse COO copy holding the nonzero entries."""
    return dense_to_sparse(self)


def to_sparse_csr(self, dense_dim=None):
    """A sparse CSR copy of a 2-D tensor."""
    if dense_dim:
        raise NotImplementedError("to_sparse_csr(): dense_dim is not supported")
    return dense_to_csr(self)


def install() -> None:
    """Put the dense-to-sparse methods on :class:`Tensor` (sparse classes override them)."""
    for f in (to_sparse, to_sparse_coo, to_sparse_csr, sparse_mask):
        if f.__name__ not in Tensor.__dict__:
            setattr(Tensor, f.__name__, f)
