"""``mt.sparse``: sparse COO and CSR tensors, as ``torch.sparse`` for everyday use (GNN adjacency
matrices, masked products).

A sparse tensor is a :class:`~minitorch_jax.Tensor` subclass (``SparseCooTensor``,
``SparseCsrTensor``) holding its index tensors and a ``values`` tensor. Supported: construction
(``mt.sparse_coo_tensor``, ``mt.sparse_csr_tensor``, ``dense.to_sparse()``/``to_sparse_csr()``),
``to_dense``, ``coalesce``, ``indices``/``values``/``crow_indices``/``col_indices``, ``t``/``transpose``,
``to(dtype)``, ``detach``, ``requires_grad_``, ``* scalar``, ``+``, ``@``/``mm``/``matmul``/``addmm`` with a
dense operand, :func:`mm`, :func:`addmm`, :func:`sum`, :func:`softmax`, :func:`log_softmax`,
``dense.sparse_mask(S)``, pickling (``mt.save``). Gradients flow to ``values`` and to dense operands.

Differences from torch:

- the gradient w.r.t. a sparse operand is always the masked one (at its stored indices);
- ops whose number of stored elements depends on index values (``coalesce``, ``to_sparse``,
  ``sum`` over sparse dims, sparse x sparse products) run eagerly only; sparse @ dense works in
  ``mt.jit`` for a fixed nnz (a sparse tensor can be an argument, result or captured state of a
  compiled function: the program sees its index and value tensors, and each nnz is one program);
- CSR is 2-D only (no batch or dense dims); CSC/BSR/BSC layouts are not implemented;
- any other op on a sparse tensor raises torch's ``NotImplementedError: Could not run 'aten::<op>'
  with arguments from the 'SparseCPU' backend`` (convert with ``to_dense()``).
"""

from __future__ import annotations

from . import _toplevel  # noqa: F401
from ._coo import SparseCooTensor
from ._csr import SparseCsrTensor
from ._install import install
from ._math import addmm, log_softmax, softmax
from ._math import mm as _mm
from ._math import sparse_sum as sum  # noqa: A001

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "SparseCooTensor", "SparseCsrTensor",
           "check_sparse_tensor_invariants"]


def mm(mat1, mat2):
    """``mat1 @ mat2`` with sparse ``mat1`` (COO or CSR) and dense or sparse ``mat2``: dense for a dense
    ``mat2``, sparse COO for a sparse one. The gradient w.r.t. ``mat1`` is at its stored indices."""
    return _mm(mat1, mat2)


class check_sparse_tensor_invariants:
    """Context manager/decorator accepted for torch compatibility; invariants are checked only where
    ``check_invariants=True`` is passed to a constructor."""

    def __init__(self, enable: bool = True):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn

    @staticmethod
    def is_enabled() -> bool:
        """False (global invariant checking is not implemented)."""
        return False


def _register_pytrees() -> None:
    import jax

    for cls in (SparseCooTensor, SparseCsrTensor):
        try:
            jax.tree_util.register_pytree_node(cls, lambda t: t._flatten(), SparseCooTensor._unflatten)
        except ValueError:  # already registered (module reloaded)
            pass


install()
_register_pytrees()
