"""The constructors: ``sparse_coo_tensor``, ``sparse_csr_tensor`` and dense-to-sparse conversion."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ._base import SparseBase, is_traced
from ._coo import SparseCooTensor, _concrete, make_coo
from ._csr import SparseCsrTensor, make_csr

__all__ = ["sparse_coo_tensor", "sparse_csr_tensor", "dense_to_sparse", "dense_to_csr", "sparse_mask"]


def _as_tensor(x, dtype=None) -> Tensor:
    if isinstance(x, SparseBase):
        raise TypeError("expected a dense tensor, got a sparse one")
    if isinstance(x, Tensor):
        return x
    from .. import tensor
    return tensor(x, dtype=dtype)


def _index_tensor(x, op: str, what: str = "indices") -> Tensor:
    t = _as_tensor(x, _dtype.int64)
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype is _dtype.bool:
        raise RuntimeError(f"{op}(): {what} must be an int64 tensor, got {t.dtype}")
    return t if t.dtype is _dtype.int64 else t.to(_dtype.int64)


def _take_values(values: Tensor, dtype, device, requires_grad: bool) -> Tensor:
    v = values if dtype is None and device is None else values.to(dtype=dtype, device=device)
    if v is values:  # own the values (requires_grad_() on the result must not flag the caller's tensor)
        v = values.view_as(values) if values.requires_grad else _wrap(values._data)
    if requires_grad:
        v.requires_grad_(True)
    return v


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None) -> SparseCooTensor:
    """A sparse COO tensor with ``values`` at ``indices``, like ``torch.sparse_coo_tensor``.

    Args:
        indices: int tensor of shape ``(sparse_dim, nnz)``: column ``j`` is the position of ``values[j]``.
        values: tensor of shape ``(nnz, *dense_shape)`` (differentiable: the gradient reaches it).
        size: full shape ``sparse_shape + dense_shape``; inferred as ``indices.max(1) + 1`` (eager only)
            when omitted.
        dtype, device: of the values. requires_grad: make the values a leaf that requires grad.
        check_invariants: check the indices are in range (eager only).
        is_coalesced: declare the indices sorted and unique.
    """
    op = "sparse_coo_tensor"
    idx = _index_tensor(indices, op)
    vals = _as_tensor(values)
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if vals.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz first)")
    sd, nnz = idx.shape
    if vals.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, "
                           f"nnz from values: {vals.shape[0]}")
    dense_shape = tuple(vals.shape[1:])
    if size is None:
        ii = _concrete(idx, op)
        sparse_shape = tuple(int(m) + 1 for m in ii.max(1)) if nnz else (0,) * sd
        size = sparse_shape + dense_shape
    else:
        size = tuple(int(s) for s in size)
        if len(size) != sd + len(dense_shape):
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sd}) + dense_dim "
                               f"({len(dense_shape)}), but got {len(size)}")
        if size[sd:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {list((nnz,) + size[sd:])}, got "
                               f"{list(vals.shape)}")
        if check_invariants and not is_traced(idx):
            _check_ranges(np.asarray(idx._data), size[:sd])
    v = _take_values(vals, dtype, device, requires_grad)
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    return make_coo(_wrap(idx._data), v, size, coalesced)


def _check_ranges(ii: np.ndarray, sparse_shape) -> None:
    for d, s in enumerate(sparse_shape):
        if ii.shape[1] == 0:
            return
        lo, hi = int(ii[d].min()), int(ii[d].max())
        if lo < 0:
            raise RuntimeError(f"found negative index {lo} for dim {d}")
        if hi >= s:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {s} but found "
                               f"index {hi}")


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None) -> SparseCsrTensor:
    """A 2-D sparse CSR matrix, like ``torch.sparse_csr_tensor``.

    Args:
        crow_indices: int tensor ``(rows + 1,)``: row ``r``'s values are ``values[crow[r]:crow[r+1]]``.
        col_indices: int tensor ``(nnz,)``, the column of each value. values: ``(nnz,)``.
        size: ``(rows, cols)``; inferred as ``(len(crow) - 1, max(col) + 1)`` when omitted (eager only).
    """
    op = "sparse_csr_tensor"
    crow = _index_tensor(crow_indices, op, "crow_indices")
    col = _index_tensor(col_indices, op, "col_indices")
    vals = _as_tensor(values)
    if crow.ndim != 1 or col.ndim != 1 or vals.ndim != 1:
        raise RuntimeError(f"{op}(): only 2-D CSR tensors are supported: crow_indices, col_indices and "
                           f"values must be 1-D, got {crow.ndim}-D, {col.ndim}-D and {vals.ndim}-D")
    if col.shape[0] != vals.shape[0]:
        raise RuntimeError(f"col_indices and values must have the same number of elements, but got "
                           f"{col.shape[0]} and {vals.shape[0]}, respectively")
    if size is None:
        cc = _concrete(col, op)
        size = (crow.shape[0] - 1, int(cc.max()) + 1 if cc.size else 0)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise RuntimeError(f"{op}(): only 2-D CSR tensors are supported, got size {size}")
    if crow.shape[0] != size[0] + 1:
        raise RuntimeError(f"crow_indices.size(-1) must be equal to size[-2] + 1 (that is {size[0] + 1}), "
                           f"but got: {crow.shape[0]}")
    if check_invariants and not is_traced(crow):
        cr, cc = np.asarray(crow._data), np.asarray(col._data)
        if cr[0] != 0 or cr[-1] != cc.size or np.any(np.diff(cr) < 0):
            raise RuntimeError(f"{op}(): crow_indices must start at 0, end at nnz ({cc.size}) and not "
                               f"decrease")
        if cc.size and (cc.min() < 0 or cc.max() >= size[1]):
            raise RuntimeError(f"{op}(): col_indices must be in [0, {size[1]}), got min {cc.min()} max "
                               f"{cc.max()}")
    v = _take_values(vals, dtype, device, requires_grad)
    return make_csr(_wrap(crow._data), _wrap(col._data), v, size)


def dense_to_sparse(x: Tensor, sparse_dim=None) -> SparseCooTensor:
    """COO form of a dense tensor (the nonzero entries; with ``sparse_dim`` the leading dims are sparse
    and a slice is stored if any of its elements is nonzero). Eager only."""
    sd = x.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 <= sd <= x.ndim:
        raise RuntimeError(f"to_sparse(): sparse_dim must be in [0, {x.ndim}], got {sd}")
    a = _concrete(x, "to_sparse")
    lead = a.reshape(a.shape[:sd] + (-1,)) != 0 if sd < a.ndim else a != 0
    mask = lead.any(-1) if sd < a.ndim else lead
    idx = np.stack(np.nonzero(mask)).astype(np.int64) if sd else np.zeros((0, int(mask.any())), np.int64)
    if sd == 0:
        vals = x.unsqueeze(0)[: idx.shape[1]]
    else:
        vals = x[tuple(_wrap(jnp.asarray(r)) for r in idx)]
    return make_coo(_wrap(jnp.asarray(idx)), vals, x.shape, True)


def dense_to_csr(x: Tensor) -> SparseCsrTensor:
    """CSR form of a dense 2-D tensor (eager only)."""
    if x.ndim != 2:
        raise RuntimeError(f"to_sparse_csr(): only 2-D tensors are supported, got {x.ndim}-D")
    return dense_to_sparse(x).to_sparse_csr()


def sparse_mask(x: Tensor, mask: SparseBase):
    """The entries of dense ``x`` at ``mask``'s indices, as a sparse tensor of ``mask``'s layout
    (differentiable w.r.t. ``x``)."""
    if not isinstance(mask, SparseBase):
        raise RuntimeError("sparse_mask(): mask is expected to be a sparse tensor (sparse_coo or "
                           "sparse_csr), got a strided tensor")
    if tuple(x.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size {list(x.shape)} "
                           f"but mask has size {list(mask.shape)}")
    from ._math import to_coo
    c = to_coo(mask)
    vals = x[tuple(_wrap(c._idx._data[d]) for d in range(c.sparse_dim()))]
    if isinstance(mask, SparseCsrTensor):
        return make_csr(mask._crow, mask._col, vals, mask._size)
    return make_coo(c._idx, vals, c._size, c._coalesced)
