"""Arithmetic on sparse tensors: products with dense matrices (segment sums, differentiable and
``mt.jit``-friendly for a fixed nnz), scalar scaling, sums, and softmax over a sparse dim.

Differences from torch: the gradient w.r.t. a sparse operand is always the masked one (at the
stored indices), also for ``mm``/``matmul`` where torch returns a dense gradient; sparse x sparse
products are computed through a dense intermediate (eager only).
"""

from __future__ import annotations

import numbers

import jax.numpy as jnp

from .._tensor import Tensor, _wrap
from ._base import SparseBase, backend_error
from ._coo import SparseCooTensor, _concrete, _zeros, linear_index, make_coo

__all__ = ["mul", "div", "add", "matmul", "mm", "mv", "smm", "hspmm", "sparse_sum", "softmax",
           "log_softmax", "addmm", "sspaddmm", "to_coo"]


def to_coo(s: SparseBase) -> SparseCooTensor:
    """The COO form of any sparse tensor (``self`` for COO)."""
    return s if isinstance(s, SparseCooTensor) else s.to_sparse_coo()


def _is_scalar(x) -> bool:
    return isinstance(x, numbers.Number) or (isinstance(x, Tensor) and not isinstance(x, SparseBase)
                                            and x.ndim == 0)


def mul(s: SparseBase, other):
    """``s * other`` for a scalar (or 0-d tensor), or a dense tensor of ``s``'s shape (gives sparse)."""
    if _is_scalar(other):
        return s._with_values(s._vals * other)
    if isinstance(other, SparseBase):
        raise backend_error("mul")  # sparse * sparse: intersection, not implemented here
    if isinstance(other, Tensor):
        if tuple(other.shape) != s._size:
            raise RuntimeError(f"mul(): a sparse tensor of size {list(s._size)} can only be multiplied by "
                               f"a dense tensor of the same size, got {list(other.shape)}")
        c = to_coo(s)
        sd = c.sparse_dim()
        gathered = other[tuple(_wrap(c._idx._data[d]) for d in range(sd))]
        return make_coo(c._idx, c._vals * gathered, c._size, c._coalesced)
    return NotImplemented


def div(s: SparseBase, other):
    """``s / scalar``."""
    if not _is_scalar(other):
        raise backend_error("div")
    return s._with_values(s._vals / other)


def add(s, other, *, alpha=1):
    """``s + alpha * other``: sparse + sparse (same shape) gives sparse; sparse + dense gives dense."""
    if not isinstance(s, SparseBase):  # dense + sparse: dense
        if not isinstance(s, Tensor):  # number + sparse: refused, as in torch
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        d = to_coo(other).to_dense()
        return s + (d if alpha == 1 else d * alpha)
    if isinstance(other, SparseBase):
        if other.shape != s.shape:
            raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has size "
                               f"{list(s.shape)} while other has size {list(other.shape)} (Sparse "
                               f"tensors do not support broadcasting)")
        a, b = to_coo(s), to_coo(other)
        if a.sparse_dim() != b.sparse_dim():
            raise RuntimeError("add(): both sparse tensors must have the same sparse_dim")
        bv = b._vals if alpha == 1 else b._vals * alpha
        from .. import cat
        idx = _wrap(jnp.concatenate([a._idx._data, b._idx._data], axis=1))
        out = make_coo(idx, cat([a._vals, bv.to(a._vals.dtype) if bv.dtype != a._vals.dtype else bv]),
                       a._size, False)
        if a._coalesced and b._coalesced and not _traced(idx):
            out = out.coalesce()
        return out if isinstance(s, SparseCooTensor) else out.to_sparse_csr()
    if isinstance(other, (Tensor, numbers.Number)):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    return NotImplemented


def _traced(t: Tensor) -> bool:
    from ._base import is_traced
    return is_traced(t)


def _check_2d(s: SparseCooTensor, op: str) -> None:
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"{op}(): expected a 2-D sparse matrix (sparse_dim=2, dense_dim=0), got "
                           f"sparse_dim={s.sparse_dim()}, dense_dim={s.dense_dim()}")


def _spmm(s: SparseBase, d: Tensor, op: str) -> Tensor:
    """Dense ``s @ d`` for 2-D sparse ``s`` and 1-D/2-D dense ``d`` (gather, scale, segment-sum)."""
    c = to_coo(s)
    _check_2d(c, op)
    if isinstance(d, SparseBase):
        d = to_coo(d).to_dense()
    if not isinstance(d, Tensor):
        raise TypeError(f"{op}(): argument 'mat2' must be Tensor, not {type(d).__name__}")
    if d.ndim not in (1, 2):
        raise RuntimeError(f"{op}(): the dense operand must be 1-D or 2-D, got {d.ndim}-D")
    m, k = c._size
    if d.shape[0] != k:
        raise RuntimeError(f"{op}(): mat1 and mat2 shapes cannot be multiplied ({m}x{k} and "
                           f"{'x'.join(str(x) for x in d.shape)})")
    if d.dtype != c.dtype:
        raise RuntimeError(f"{op}(): expected mat1 and mat2 to have the same dtype, but got: {c.dtype} != "
                           f"{d.dtype}")
    rows, cols = _wrap(c._idx._data[0]), _wrap(c._idx._data[1])
    v = c._vals
    picked = d.index_select(0, cols)
    contrib = picked * (v if d.ndim == 1 else v.unsqueeze(1))
    return _zeros((m,) + tuple(d.shape[1:]), picked).index_add(0, rows, contrib)


def matmul(a, b):
    """``a @ b`` where at least one side is sparse: sparse @ dense and dense @ sparse give dense
    tensors; sparse @ sparse gives a sparse COO tensor (eager only)."""
    if isinstance(a, SparseBase) and isinstance(b, SparseBase):
        return _spmm(a, to_coo(b).to_dense(), "matmul").to_sparse()
    if isinstance(a, SparseBase):
        return _spmm(a, b, "matmul")
    if a.ndim == 1:
        return _spmm(b.t() if isinstance(b, SparseCooTensor) else to_coo(b).t(), a, "matmul")
    return _spmm(to_coo(b).t(), a.t(), "matmul").t()


def mm(a, b):
    """2-D matrix product with a sparse operand (see :func:`matmul`)."""
    for x, n in ((a, "self"), (b, "mat2")):
        if x.ndim != 2:
            raise RuntimeError(f"{n} must be a matrix")
    return matmul(a, b)


def mv(s, vec):
    """Sparse matrix times dense vector."""
    if vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec.ndim}")
    return _spmm(s, vec, "mv")


def smm(s, mat):
    """``s @ mat`` (dense ``mat``) returned as a sparse COO tensor (eager only)."""
    return _spmm(s, mat, "smm").to_sparse()


def hspmm(s, mat):
    """``s @ mat`` as a hybrid COO tensor: one sparse dim (the rows of ``s`` that have entries) and
    one dense dim (eager only)."""
    c = to_coo(s)
    dense = _spmm(c, mat, "hspmm")
    rows = jnp.unique(jnp.asarray(_concrete(c._idx, "hspmm")[0]))
    return make_coo(_wrap(rows[None, :].astype(jnp.int64)), dense.index_select(0, _wrap(rows)),
                    dense.shape, True)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` with sparse ``mat1`` (dense or sparse ``input``)."""
    prod = matmul(mat1, mat2)
    if isinstance(input, SparseBase):
        input = to_coo(input).to_dense()
    return input * beta + prod * alpha if beta != 0 else prod * alpha


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for sparse ``input`` and ``mat1``: a sparse result
    (uncoalesced, as in torch; eager only)."""
    prod = smm(mat1, mat2)
    inp = to_coo(input)
    idx = _wrap(jnp.concatenate([inp._idx._data, prod._idx._data], axis=1))
    from .. import cat
    return make_coo(idx, cat([inp._vals * beta, prod._vals * alpha]), inp._size, False)


def sparse_sum(s, dim=None, dtype=None):
    """Sum of a sparse tensor: a dense 0-d tensor without ``dim``; over ``dim`` (int or tuple) a
    sparse tensor, or a dense one when every sparse dim is summed (sums over sparse dims are eager
    only)."""
    c = to_coo(s)
    v = c._vals if dtype is None else c._vals.to(dtype)
    if dim is None:
        return v.sum()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n, sd = c.ndim, c.sparse_dim()
    norm = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"sum(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        norm.append(d % n)
    dense_red = tuple(d - sd + 1 for d in norm if d >= sd)
    if dense_red:
        v = v.sum(dense_red)
    keep = [d for d in range(sd) if d not in norm]
    if not keep:
        return v.sum(0)
    size = [c._size[d] for d in keep] + [c._size[d] for d in range(sd, n) if d not in norm]
    if len(keep) == sd:
        return make_coo(c._idx, v, size, c._coalesced)
    _concrete(c._idx, "sum")
    idx = _wrap(c._idx._data[jnp.asarray(keep)])
    return make_coo(idx, v, size, False).coalesce()


def _softmax(s, dim, dtype, log: bool, op: str):
    c = to_coo(s)
    if dtype is not None:
        c = c.to(dtype)
    sd, n = c.sparse_dim(), c.ndim
    if not -n <= dim < n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    dim %= n
    if dim >= sd or c.dense_dim() != 0:
        raise RuntimeError(f"{op}(): only a softmax over a sparse dimension of a tensor without dense "
                           f"dimensions is supported (sparse_dim={sd}, dense_dim={c.dense_dim()}, dim={dim})")
    if not c._coalesced and not _traced(c._idx):
        c = c.coalesce()
    others = [d for d in range(sd) if d != dim]
    groups = _wrap(linear_index(c._idx._data[jnp.asarray(others, dtype=jnp.int32)],
                                [c._size[d] for d in others]) if others
                   else jnp.zeros(c._nnz(), jnp.int64))
    ng = 1
    for d in others:
        ng *= c._size[d]
    v = c._vals
    gmax = _zeros((ng,), v).scatter_reduce(0, groups, v.detach(), "amax", include_self=False)
    shifted = v - gmax.index_select(0, groups)
    e = shifted.exp()
    denom = _zeros((ng,), v).index_add(0, groups, e).index_select(0, groups)
    out = shifted - denom.log() if log else e / denom
    return make_coo(c._idx, out, c._size, c._coalesced)


def softmax(input, dim, *, dtype=None):
    """Softmax over ``dim`` of the stored values only (unstored entries count as -inf), as
    ``torch.sparse.softmax``; the result has ``input``'s (coalesced) indices."""
    return _softmax(input, dim, dtype, False, "softmax")


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over ``dim`` of the stored values only, as ``torch.sparse.log_softmax``."""
    return _softmax(input, dim, dtype, True, "log_softmax")
