"""torch's top-level sparse names, star-imported into ``mt``: the constructors
(``mt.sparse_coo_tensor``, ``mt.sparse_csr_tensor``), the legacy products (``smm``, ``hspmm``,
``spmm``, ``dsmm``, ``hsmm``, ``sspaddmm``, ``saddmm``). ``mt.mm``/``matmul``/``addmm`` ... accept sparse
operands through the op table, which hands them to ``_dispatch.KERNELS`` (``_ops/_registry.py``'s
``_operand_kernel``).
"""

from __future__ import annotations

from ._construct import sparse_coo_tensor, sparse_csr_tensor
from ._math import hspmm, smm, sspaddmm
from ._math import mm as _sparse_mm

__all__ = ["sparse_coo_tensor", "sparse_csr_tensor", "smm", "hspmm", "spmm", "dsmm", "hsmm", "sspaddmm",
           "saddmm"]


def spmm(input, mat2):
    """Sparse (or dense) ``input`` @ dense ``mat2``: a dense matrix (torch's legacy name of ``mm``)."""
    from .. import _ops
    return _ops.FUNCTIONS["mm"](input, mat2)


def dsmm(input, mat2):
    """Sparse ``input`` @ dense ``mat2`` as a dense matrix."""
    return _sparse_mm(input, mat2)


def hsmm(input, mat2):
    """Sparse ``input`` @ dense ``mat2`` as a sparse COO matrix (same as :func:`smm`)."""
    return smm(input, mat2)


def saddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (sparse ``input``, ``mat1``): sparse (as :func:`sspaddmm`)."""
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha)
