"""``SparseCsrTensor``: torch's ``sparse_csr`` layout for 2-D matrices (``crow_indices`` (rows+1,),
``col_indices`` (nnz,), ``values`` (nnz,)); batched and hybrid CSR tensors are not supported.

Computation goes through the COO form (row indices found from ``crow_indices`` with a
searchsorted, so products with dense matrices also work inside ``mt.jit``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._ops._layouts import sparse_csr
from .._tensor import Tensor, _wrap
from ._base import SparseBase
from ._coo import SparseCooTensor, _concrete, make_coo
from ._repr import sparse_repr

__all__ = ["SparseCsrTensor", "make_csr", "coo_to_csr"]


def make_csr(crow: Tensor, col: Tensor, values: Tensor, size) -> SparseCsrTensor:
    """Build a CSR tensor from validated parts (no checks)."""
    t = SparseCsrTensor.__new__(SparseCsrTensor)
    t._setup(values, size)
    t.__dict__["_crow"] = crow
    t.__dict__["_col"] = col
    return t


def coo_to_csr(c: SparseCooTensor) -> SparseCsrTensor:
    """CSR form of a 2-D COO tensor (coalesced first; eager only)."""
    if c.sparse_dim() != 2 or c.dense_dim() != 0:
        raise RuntimeError(f"to_sparse_csr(): only 2-D sparse tensors without dense dims are supported, got "
                           f"sparse_dim={c.sparse_dim()}, dense_dim={c.dense_dim()}")
    c = c.coalesce()
    rows = _concrete(c._idx, "to_sparse_csr")[0]
    crow = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=c._size[0]))]).astype(np.int64)
    return make_csr(_wrap(jnp.asarray(crow)), _wrap(c._idx._data[1]), c._vals, c._size)


class SparseCsrTensor(SparseBase):
    """A 2-D sparse matrix in CSR layout (``layout == mt.sparse_csr``), as made by
    :func:`mt.sparse_csr_tensor` or ``dense.to_sparse_csr()``."""

    _backend = "SparseCsrCPU"
    _layout_word = "SparseCsr"

    @property
    def layout(self):
        """``mt.sparse_csr``."""
        return sparse_csr

    @property
    def is_sparse(self) -> bool:
        """False (torch's ``is_sparse`` means COO)."""
        return False

    @property
    def is_sparse_csr(self) -> bool:
        """True."""
        return True

    def sparse_dim(self) -> int:
        """2."""
        return 2

    def crow_indices(self) -> Tensor:
        """Compressed row pointers, shape ``(rows + 1,)``."""
        return self._crow

    def col_indices(self) -> Tensor:
        """Column index of each stored value, shape ``(nnz,)``."""
        return self._col

    def values(self) -> Tensor:
        """The stored values, shape ``(nnz,)``."""
        return self._vals

    def _with_values(self, values: Tensor, copy_index: bool = False) -> SparseCsrTensor:
        return make_csr(self._crow, self._col, values, self._size)

    def _parts(self):
        return (self._crow, self._col, self._vals)

    def _aux(self):
        return None

    @classmethod
    def _from_parts(cls, parts, size, extra):
        return make_csr(parts[0], parts[1], parts[2], size)

    def _torch_reduce(self):
        """``(layout name, args)`` of ``torch._utils._rebuild_sparse_tensor`` (used by ``mt.save``)."""
        return "sparse_csr", (self._crow, self._col, self._vals.detach(), self._size)

    def _reduce(self):
        return (_rebuild_csr, (np.asarray(self._crow._data), np.asarray(self._col._data),
                               np.asarray(self._vals.detach()._data), self._size, self.requires_grad))

    def _row_indices(self):
        nnz = self._col.shape[0]
        return jnp.searchsorted(self._crow._data[1:], jnp.arange(nnz, dtype=self._crow._data.dtype),
                                side="right").astype(jnp.int64)

    def to_sparse_coo(self) -> SparseCooTensor:
        """The COO form (coalesced when the column indices are sorted within rows, as CSR requires)."""
        idx = jnp.stack([self._row_indices(), self._col._data.astype(jnp.int64)])
        return make_coo(_wrap(idx), self._vals, self._size, True)

    def to_sparse_csr(self, dense_dim=None) -> SparseCsrTensor:
        """``self``."""
        return self

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense matrix; differentiable w.r.t. the values."""
        return self.to_sparse_coo().to_dense(dtype)

    def t(self):
        """Not supported (torch returns a CSC tensor): convert with ``to_sparse_coo()`` first."""
        raise NotImplementedError("t(): transposing a sparse_csr tensor (torch gives sparse_csc) is not "
                                  "supported; use .to_sparse_coo().t()")

    transpose = t

    def __repr__(self) -> str:
        return sparse_repr(self, [("crow_indices", self._crow), ("col_indices", self._col),
                                  ("values", self._vals)], force_newline=False)

    __str__ = __repr__


def _rebuild_csr(crow, col, vals, size, requires_grad):
    return make_csr(_wrap(jnp.asarray(crow)), _wrap(jnp.asarray(col)),
                    _wrap(jnp.asarray(vals), requires_grad), size)
