"""``mt.linalg``: torch.linalg's functions, read from the op table.

The decompositions and norms are table entries named ``linalg_<name>`` (see
``_ops/linalg_decomp.py``), so they get autograd, jit caching and the matmul precision setting
like every other op; the products are the same callables as ``mt.matmul`` and friends.

Known difference from torch: singular or non positive-definite inputs give inf/NaN results
instead of raising ``torch.linalg.LinAlgError`` (that check would force a device sync per call);
the ``*_ex`` functions report it in ``info`` and raise :class:`LinAlgError` with ``check_errors=True``.
"""

from __future__ import annotations

from ._ops import public
from ._ops.linalg_extra import LinAlgError

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh",
    "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex",
    "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor",
    "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
    "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]


_op = public


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
cholesky_ex = _op("linalg_cholesky_ex")
cond = _op("linalg_cond")
diagonal = _op("linalg_diagonal")
eig = _op("linalg_eig")
eigvals = _op("linalg_eigvals")
householder_product = _op("linalg_householder_product")
inv_ex = _op("linalg_inv_ex")
ldl_factor = _op("linalg_ldl_factor")
ldl_factor_ex = _op("linalg_ldl_factor_ex")
ldl_solve = _op("linalg_ldl_solve")
lu = _op("linalg_lu")
lu_factor = _op("linalg_lu_factor")
lu_factor_ex = _op("linalg_lu_factor_ex")
lu_solve = _op("linalg_lu_solve")
matrix_exp = _op("matrix_exp")
matrix_power = _op("matrix_power")
solve_ex = _op("linalg_solve_ex")
solve_triangular = _op("linalg_solve_triangular")
tensorinv = _op("linalg_tensorinv")
tensorsolve = _op("linalg_tensorsolve")
vander = _op("linalg_vander")
