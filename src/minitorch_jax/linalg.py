"""``mt.linalg``: torch.linalg's functions, read from the op table.

The decompositions and norms are table entries named ``linalg_<name>`` (see
``_ops/linalg_decomp.py``), so they get autograd, jit caching and the matmul precision setting
like every other op; the products are the same callables as ``mt.matmul`` and friends.

Known difference from torch: singular or non positive-definite inputs give inf/NaN results
instead of raising ``torch.linalg.LinAlgError`` (that check would force a device sync per call).
"""

from __future__ import annotations

from ._ops import REGISTRY as _REGISTRY

__all__ = [
    "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm",
    "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
    "vecdot", "vector_norm",
]


def _op(name):
    op = _REGISTRY[name]
    return op.impl or op.call


cholesky = _op("linalg_cholesky")
cross = _op("linalg_cross")
det = _op("linalg_det")
eigh = _op("linalg_eigh")
eigvalsh = _op("linalg_eigvalsh")
inv = _op("linalg_inv")
lstsq = _op("linalg_lstsq")
matmul = _op("matmul")
matrix_norm = _op("linalg_matrix_norm")
matrix_rank = _op("linalg_matrix_rank")
multi_dot = _op("linalg_multi_dot")
norm = _op("linalg_norm")
pinv = _op("linalg_pinv")
qr = _op("linalg_qr")
slogdet = _op("linalg_slogdet")
solve = _op("linalg_solve")
svd = _op("linalg_svd")
svdvals = _op("linalg_svdvals")
vecdot = _op("linalg_vecdot")
vector_norm = _op("linalg_vector_norm")
