"""``SparseCooTensor``: torch's ``sparse_coo`` layout (``indices`` of shape (sparse_dim, nnz) and
``values`` of shape (nnz, *dense_shape)), and its construction/conversion/printing.

``coalesce()`` and every result whose number of stored elements depends on the index values
(``to_sparse()`` of a dense tensor, ``sum(dim)``, ``S + S`` of coalesced inputs) need concrete
indices: they run eagerly and raise a clear error inside ``mt.jit``. Products with a dense
operand (``S @ D``, ``mt.sparse.mm``, ``to_dense()``) keep nnz fixed and work under ``mt.jit``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._ops._layouts import sparse_coo
from .._tensor import Tensor, _wrap
from ._base import SparseBase, is_traced
from ._repr import sparse_repr

__all__ = ["SparseCooTensor", "make_coo", "linear_index"]


def linear_index(idx, sizes):
    """Row-major linear position (a jax int array (nnz,)) of each column of ``idx`` (jax, (k, nnz))."""
    lin = jnp.zeros(idx.shape[1], idx.dtype)
    for d, s in enumerate(sizes):
        lin = lin * s + idx[d]
    return lin


def make_coo(indices: Tensor, values: Tensor, size, coalesced: bool = False) -> SparseCooTensor:
    """Build a COO tensor from already validated parts (no checks, no copies)."""
    t = SparseCooTensor.__new__(SparseCooTensor)
    t._setup(values, size)
    t.__dict__["_idx"] = indices
    t.__dict__["_coalesced"] = bool(coalesced)
    return t


def _concrete(t: Tensor, op: str) -> np.ndarray:
    if is_traced(t):
        raise RuntimeError(f"{op}(): the result's number of stored elements depends on the index values, "
                           f"which are not known inside mt.jit; call it outside the compiled function")
    return np.asarray(t._data)


class SparseCooTensor(SparseBase):
    """A sparse tensor in COO layout (``layout == mt.sparse_coo``), as made by
    :func:`mt.sparse_coo_tensor` or ``dense.to_sparse()``.

    Holds ``indices()`` (int64, shape ``(sparse_dim, nnz)``) and ``values()`` (shape
    ``(nnz, *dense_shape)``); its shape is ``size = sparse_shape + dense_shape``.
    """

    @property
    def layout(self):
        """``mt.sparse_coo``."""
        return sparse_coo

    @property
    def is_sparse(self) -> bool:
        """True: this is a COO sparse tensor."""
        return True

    @property
    def is_sparse_csr(self) -> bool:
        """False (COO layout)."""
        return False

    def sparse_dim(self) -> int:
        """Number of sparse dimensions (rows of ``indices``)."""
        return self._idx.shape[0]

    def is_coalesced(self) -> bool:
        """True if the indices are known sorted and unique (after ``coalesce()``)."""
        return self._coalesced

    def _coalesced_(self, coalesced: bool):
        """Set the coalesced flag in place (the caller vouches for the indices); returns ``self``."""
        self.__dict__["_coalesced"] = bool(coalesced)
        return self

    def indices(self) -> Tensor:
        """The indices, shape ``(sparse_dim, nnz)``; the tensor must be coalesced (as in torch)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._idx

    def values(self) -> Tensor:
        """The values, shape ``(nnz, *dense_shape)``; the tensor must be coalesced (as in torch)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._vals

    def _indices(self) -> Tensor:
        """The indices as stored (also on an uncoalesced tensor)."""
        return self._idx

    def _values(self) -> Tensor:
        """The values as stored (also on an uncoalesced tensor)."""
        return self._vals

    def _with_values(self, values: Tensor, copy_index: bool = False) -> SparseCooTensor:
        idx = _wrap(self._idx._data) if copy_index else self._idx
        return make_coo(idx, values, self._size, self._coalesced)

    def _parts(self):
        return (self._idx, self._vals)

    def _aux(self):
        return self._coalesced

    @classmethod
    def _from_parts(cls, parts, size, coalesced):
        return make_coo(parts[0], parts[1], size, coalesced)

    def _torch_reduce(self):
        """``(layout name, args)`` of ``torch._utils._rebuild_sparse_tensor`` (used by ``mt.save``)."""
        return "sparse_coo", (self._idx, self._vals.detach(), self._size, self._coalesced)

    def _reduce(self):
        return (_rebuild_coo, (np.asarray(self._idx._data), np.asarray(self._vals.detach()._data),
                               self._size, self._coalesced, self.requires_grad))

    def coalesce(self) -> SparseCooTensor:
        """Sum the values of duplicate indices and sort the indices (row-major); eager only."""
        if self._coalesced:
            return self
        idx = _concrete(self._idx, "coalesce")
        sd = idx.shape[0]
        sizes = self._size[:sd]
        lin = np.zeros(idx.shape[1], np.int64)
        for d, s in enumerate(sizes):
            lin = lin * s + idx[d]
        uniq, inv = np.unique(lin, return_inverse=True)
        new_idx = np.stack(np.unravel_index(uniq, sizes)).astype(np.int64) if sd else \
            np.zeros((0, len(uniq)), np.int64)
        v = self._vals
        new_v = _zeros((len(uniq),) + tuple(v.shape[1:]), v).index_add(0, _wrap(jnp.asarray(inv.ravel())), v)
        return make_coo(_wrap(jnp.asarray(new_idx)), new_v, self._size, True)

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor (duplicates summed); differentiable w.r.t. the values."""
        v = self._vals
        sd = self.sparse_dim()
        sparse_shape = self._size[:sd]
        lin = _wrap(linear_index(self._idx._data, sparse_shape))
        n = int(np.prod(sparse_shape, dtype=np.int64))
        out = _zeros((n,) + tuple(v.shape[1:]), v).index_add(0, lin, v).reshape(self._size)
        return out if dtype is None else out.to(dtype)

    def to_sparse_coo(self) -> SparseCooTensor:
        """``self``."""
        return self

    def to_sparse_csr(self, dense_dim=None):
        """Convert a 2-D COO tensor to CSR (coalesces first; eager only)."""
        from ._csr import coo_to_csr
        return coo_to_csr(self)

    def t(self) -> SparseCooTensor:
        """Transpose a 2-D sparse tensor (0-D/1-D returned as is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def transpose(self, dim0: int, dim1: int) -> SparseCooTensor:
        """Swap two sparse dimensions (the result is uncoalesced, as in torch)."""
        n = self.ndim
        d0, d1 = dim0 % n if n else 0, dim1 % n if n else 0
        sd = self.sparse_dim()
        if d0 == d1:
            return self
        if d0 >= sd or d1 >= sd:
            raise RuntimeError("transpose(): only sparse dimensions can be transposed "
                               f"(sparse_dim={sd}, got dims {dim0} and {dim1})")
        perm = list(range(sd))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        size = list(self._size)
        size[d0], size[d1] = size[d1], size[d0]
        idx = _wrap(self._idx._data[jnp.asarray(perm)])
        return make_coo(idx, self._vals, size, False)

    def __repr__(self) -> str:
        return sparse_repr(self, [("indices", self._idx), ("values", self._vals)], force_newline=True)

    __str__ = __repr__


def _zeros(shape, like: Tensor) -> Tensor:
    return _wrap(jnp.zeros(tuple(int(s) for s in shape), like._data.dtype))


def _rebuild_coo(idx, vals, size, coalesced, requires_grad):
    return make_coo(_wrap(jnp.asarray(idx)), _wrap(jnp.asarray(vals), requires_grad), size, coalesced)
