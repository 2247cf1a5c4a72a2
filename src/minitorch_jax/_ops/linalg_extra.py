"""The rest of ``torch.linalg``: eig, LU, triangular and Cholesky solvers, matrix functions, tensor
inverse/solve (Householder products are in ``linalg_householder.py``, torch's legacy top-level forms
``mt.svd``, ``mt.qr``, ``mt.lu`` ... in ``linalg_legacy.py``).

The ``linalg_<name>`` entries appear only as ``mt.linalg.<name>`` (see ``minitorch_jax/linalg.py``);
the legacy names are ``mt.`` functions and Tensor methods as in torch. Differences from torch:

* ``eig``/``eigvals`` use JAX's nonsymmetric eigensolver: LAPACK on the CPU (on GPU JAX calls
  LAPACK on the host or cuSOLVER); TPUs have none.
* Data-dependent errors need a device sync, so they are raised only where torch's caller asks for
  them (``check_errors=True`` of the ``*_ex`` functions); ``lu_factor``, ``lu`` and ``lu_unpack``
  do not check for singular input or bad pivots. A failed ``cholesky_ex`` gives NaN in ``L``
  (torch: the partial factor) and the right ``info``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, MiniTorchError, OpTypeError, ShapeError
from ._helpers import A, I, Sample, norm_dim
from ._registry import REGISTRY, register
from .linalg import prec, tname
from .linalg_decomp import (
    _float_input,
    _hermitian_from,
    _matrix_input,
    _mT,
    _result,
    _sym,
    linalg_cholesky,
    linalg_inv,
    linalg_solve,
    matrix_norm_kernel,
)

__all__ = ["LinAlgError"]


def _linalg(name, **kwargs):
    """``register`` for a torch.linalg entry: ``linalg_<name>``, shown only as ``mt.linalg.<name>``."""
    return register(f"linalg_{name}", method=False, function=False, torch_name=f"linalg.{name}", **kwargs)


def _check_system(op, A, b):
    """torch's checks for solving ``A X = b`` (legacy solvers): square ``A``, matching sizes and dtypes."""
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if A.shape[-1] != b.shape[-2]:
        raise ShapeError(
            f"Incompatible matrix sizes for {op}: each A matrix is {A.shape[-1]} by {A.shape[-1]} but "
            f"each b matrix is {b.shape[-2]} by {b.shape[-1]}"
        )
    if A.dtype != b.dtype:
        raise DTypeError(
            f"Expected b and A to have the same dtype, but found b of type {tname(b.dtype)} "
            f"and A of type {tname(A.dtype)} instead."
        )


class LinAlgError(MiniTorchError, RuntimeError):
    """A linear-algebra routine failed on its data (torch.linalg.LinAlgError)."""


_LOW = (np.dtype(np.float16), np.dtype(jnp.bfloat16))


def _eye_like(x, n=None):
    n = x.shape[-1] if n is None else n
    return jnp.eye(n, dtype=x.dtype)


def _batch(*xs):
    """Broadcast the batch dims (all but the last two) of matrices."""
    batch = jnp.broadcast_shapes(*(x.shape[:-2] for x in xs))
    return [jnp.broadcast_to(x, batch + x.shape[-2:]) for x in xs]


def _trsolve(a, b, *, left=True, lower=True, trans=False, conj=False, unit=False):
    """``op(a) x = b`` (``x op(a) = b`` when ``left=False``) for triangular ``a``, batches broadcast."""
    a, b = _batch(a, b)
    return jax.lax.linalg.triangular_solve(
        a, b, left_side=left, lower=lower, transpose_a=trans, conjugate_a=conj, unit_diagonal=unit
    )


def _sq_spd(*batch, n=3, dtype="float32"):
    return _sym(n, batch, dtype)


def _well(*batch, n=3, dtype="float32"):
    """A well-conditioned general square sample."""
    return (A(*batch, n, n, dtype=dtype) + n * np.eye(n, dtype=dtype)).astype(dtype)


def _tri(*batch, n=3, upper=False, dtype="float32"):
    """A well-conditioned triangular sample (diagonal in [1, 2])."""
    x = A(*batch, n, n, dtype=dtype, low=-1.0, high=1.0)
    x = np.triu(x, 1) if upper else np.tril(x, -1)
    d = np.abs(A(*batch, n, dtype=dtype, low=1.0, high=2.0))
    return (x + d[..., None] * np.eye(n, dtype=dtype)).astype(dtype)


def _raise_info(op, info, what):
    """torch's error for a nonzero ``info`` (a host read: only when the caller asked)."""
    info = np.asarray(info._data if hasattr(info, "_data") else info)
    bad = np.flatnonzero(info.reshape(-1))
    if bad.size:
        i = int(bad[0])
        pre = f"(Batch element {i}): " if info.ndim else ""
        raise LinAlgError(f"{op}: {pre}{what(int(info.reshape(-1)[i]))}")


# ----- eigenvalues of general matrices ------------------------------------------------------------
@jax.custom_vjp
def _eig(A, marker):
    w, v = jnp.linalg.eig(A)
    return w, v


def _eig_fwd(A, marker):
    w, v = jnp.linalg.eig(A)
    return (w, v), (w, v, marker)


def _eig_bwd(res, cts):
    """torch's linalg_eig_backward (in JAX's cotangent convention: conjugated in and out)."""
    w, V, marker = res
    gL, gV = jnp.conj(cts[0]), jnp.conj(cts[1])
    Vh = _mT(V)
    VhgV = jnp.matmul(Vh, gV)
    diag = jnp.diagonal(VhgV, axis1=-2, axis2=-1)
    VhgV = VhgV - jnp.matmul(Vh, V * jnp.real(diag)[..., None, :])
    eye = jnp.eye(w.shape[-1], dtype=bool)
    E = jnp.conj(w)[..., None, :] - jnp.conj(w)[..., :, None]
    gA = jnp.where(eye, gL[..., None, :], VhgV / jnp.where(eye, 1, E))
    gA = jnp.linalg.solve(Vh, jnp.matmul(gA, Vh))
    gA = jnp.conj(gA) if jnp.iscomplexobj(marker) else jnp.real(gA)
    return gA.astype(marker.dtype), jnp.zeros_like(marker)


_eig.defvjp(_eig_fwd, _eig_bwd)


def _eig_samples():
    return [
        Sample(_tri(n=3, upper=True, dtype="float64"), grad=False),
        Sample(np.array([[2.0, -1.0], [1.0, 2.0]], "float32"), grad=False),
        Sample(_tri(2, n=2, upper=True), grad=False),
        Sample(A(2, 3)),
        Sample(I(2, 2)),
    ]


@_linalg(
    "eig",
    saves=(0,),
    out_wrap=_result("linalg_eig", "eigenvalues eigenvectors"),
    samples=_eig_samples,
)
def linalg_eig(A):
    """Eigenvalues and right eigenvectors of general square matrices ``(*, n, n)`` (torch.linalg.eig).

    Returns a named tuple ``(eigenvalues (*, n), eigenvectors (*, n, n))``, always complex; the
    eigenvectors have unit norm (LAPACK's geev). They are unique only up to a phase, so gradients
    are meaningful for losses that do not depend on it (torch's formula). Runs on the CPU (JAX's
    nonsymmetric eigensolver; on GPU via host LAPACK or cuSOLVER, none on TPU).
    """
    _matrix_input("linalg.eig", A)
    return _eig(A, jnp.zeros((0,), A.dtype))


@_linalg(
    "eigvals",
    saves=(0,),
    samples=lambda: [
        Sample(_tri(n=3, upper=True, dtype="float64"), grad=False),
        Sample(_tri(2, n=2, upper=True), grad=False),
        Sample(A(2, 3)),
        Sample(I(2, 2)),
    ],
)
def linalg_eigvals(A):
    """The (complex) eigenvalues ``(*, n)`` of general square matrices, in LAPACK's order.
    Same device support as :func:`linalg.eig`; differentiable."""
    _matrix_input("linalg.eigvals", A)
    return jnp.linalg.eigvals(A)


# ----- LU -----------------------------------------------------------------------------------------
def _lu_input(op, A):
    if A.ndim < 2:
        raise ShapeError(
            f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead"
        )
    _float_input(op, A)


def _getrf_info(lu):
    """LAPACK getrf's info: the 1-based index of the first zero on U's diagonal, 0 if none."""
    k = min(lu.shape[-2:])
    d = jnp.diagonal(lu, axis1=-2, axis2=-1)[..., :k]
    zero = d == 0
    first = jnp.argmax(zero, axis=-1) + 1
    return jnp.where(jnp.any(zero, axis=-1), first, 0).astype(jnp.int32)


def _lu_factor(op, A, pivot):
    _lu_input(op, A)
    if not pivot:
        raise ShapeError(f"{op}: LU without pivoting is not implemented on the CPU")
    lu, piv, _ = jax.lax.linalg.lu(A)
    return lu, (piv + 1).astype(jnp.int32)


def _lu_samples():
    return [
        Sample(_well()),
        Sample(A(4, 3)),
        Sample(A(2, 3, 4, dtype="float64")),
        Sample(_well(), pivot=False),
        Sample(A(3)),
        Sample(I(2, 2)),
    ]


@_linalg(
    "lu_factor",
    saves=(0,),
    out_wrap=_result("linalg_lu_factor", "LU pivots"),
    samples=_lu_samples,
)
def linalg_lu_factor(A, *, pivot=True):
    """LU factorisation with partial pivoting of ``(*, m, n)`` matrices, LAPACK's compact form.

    Returns a named tuple ``(LU (*, m, n), pivots (*, min(m, n)) int32)``: ``L`` (unit diagonal)
    below the diagonal of ``LU``, ``U`` on and above it; row ``i`` was swapped with row
    ``pivots[i]`` (1-based). ``pivot=False`` is refused, as by torch on the CPU. Singular input is
    not reported (see :func:`linalg.lu_factor_ex`).
    """
    return _lu_factor("linalg.lu_factor", A, pivot)


def _lu_factor_ex_kernel(A, *, pivot=True):
    """``(LU, pivots, info)``: :func:`linalg.lu_factor` plus LAPACK's ``info`` (int32, ``(*)``):
    ``i > 0`` when ``U[i-1, i-1]`` is exactly zero."""
    lu, piv = _lu_factor("linalg.lu_factor_ex", A, pivot)
    return lu, piv, _getrf_info(lu)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """LU factorisation with ``info`` (torch.linalg.lu_factor_ex): a named tuple ``(LU, pivots, info)``.

    ``info`` (int32, one per matrix) is 0 on success, ``i`` if ``U[i-1, i-1]`` is zero.
    ``check_errors=True`` raises :class:`LinAlgError` then (reading ``info`` on the host).
    """
    res = REGISTRY["linalg_lu_factor_ex"].call(A, pivot=pivot)
    if check_errors:
        _raise_info(
            "torch.linalg.lu_factor_ex",
            res.info,
            lambda i: (
                f"U[{i},{i}] is zero and using it on lu_solve would result in a division "
                f"by zero. If you still want to perform the factorization, consider calling "
                f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
            ),
        )
    return res


_linalg(
    "lu_factor_ex",
    saves=(0,),
    out_wrap=_result("linalg_lu_factor_ex", "LU pivots info"),
    samples=lambda: [
        Sample(_well()),
        Sample(A(2, 4, 3)),
        Sample(np.array([[1.0, 2.0], [2.0, 4.0]], "float32"), grad=False),
        Sample(np.zeros((2, 2, 3), "float32"), grad=False),
        Sample(A(3)),
    ],
    impl=lu_factor_ex,
)(_lu_factor_ex_kernel)


def _perm_matrix(perm, m, dtype):
    """P with ``A = P @ (A[perm])``: ``P[perm[i], i] = 1``."""
    return jnp.swapaxes(jax.nn.one_hot(perm, m, dtype=dtype), -1, -2)


def _unpack(lu, perm, dtype):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = jnp.tril(lu[..., :, :k], -1) + jnp.eye(m, k, dtype=lu.dtype)
    U = jnp.triu(lu[..., :k, :])
    return _perm_matrix(perm, m, dtype), L, U


@register("_lu_perm_matrix", method=False, function=False, differentiable=False)
def _lu_perm_matrix(perm, m, dtype, want=True):
    """The permutation matrix of ``perm`` (see :func:`_perm_matrix`); empty if not ``want``."""
    if not want:
        return jnp.zeros((0,), dtype)
    return _perm_matrix(perm, m, dtype)


_LU_RESULT = _result("linalg_lu", "P L U")


def _linalg_lu_kernel(A, *, pivot=True):
    """``(L, U, perm)``: the differentiable factors and the row permutation (int32)."""
    _lu_input("linalg.lu", A)
    if not pivot:
        raise ShapeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu_, _, perm = jax.lax.linalg.lu(A)
    _, L, U = _unpack(lu_, perm, A.dtype)
    return L, U, perm


def linalg_lu(A, *, pivot=True):
    """LU decomposition ``A = P L U`` of ``(*, m, n)`` matrices (torch.linalg.lu).

    Returns a named tuple ``(P (*, m, m), L (*, m, k), U (*, k, n))`` with ``k = min(m, n)``, ``L``
    unit lower triangular and ``P`` a permutation matrix (not differentiable).
    """
    L, U, perm = REGISTRY["linalg_lu"].call(A, pivot=pivot)
    P = REGISTRY["_lu_perm_matrix"].call(perm, L.shape[-2], np.dtype(L._data.dtype).name)
    return _LU_RESULT([P, L, U])


_linalg(
    "lu",
    saves=(0,),
    impl=linalg_lu,
    samples=lambda: [
        Sample(_well()),
        Sample(A(4, 3)),
        Sample(A(2, 3, 4, dtype="float64")),
        Sample(A(3)),
        Sample(I(2, 2)),
    ],
)(_linalg_lu_kernel)


def _pivots_input(op, LU, pivots):
    if pivots.dtype != jnp.int32:
        raise DTypeError(f"{op}: pivots should be a Tensor of scalar type torch.int32")


def _perm_from_pivots(pivots, m):
    return jax.lax.linalg.lu_pivots_to_permutation(pivots.astype(jnp.int32) - 1, m)


def _lu_solve_core(LU, pivots, B, adjoint):
    """``A X = B`` (``A^H X = B`` if ``adjoint``) with ``A = P L U`` given packed; B ``(*, n, k)``."""
    n = LU.shape[-1]
    batch = jnp.broadcast_shapes(LU.shape[:-2], pivots.shape[:-1], B.shape[:-2])
    LU = jnp.broadcast_to(LU, batch + LU.shape[-2:])
    B = jnp.broadcast_to(B, batch + B.shape[-2:])
    perm = jnp.broadcast_to(_perm_from_pivots(pivots, n), batch + (n,))
    if not adjoint:
        Y = jnp.take_along_axis(B, perm[..., :, None], axis=-2)
        Y = _trsolve(LU, Y, lower=True, unit=True)
        return _trsolve(LU, Y, lower=False)
    Y = _trsolve(LU, B, lower=False, trans=True, conj=True)
    Y = _trsolve(LU, Y, lower=True, unit=True, trans=True, conj=True)
    return jnp.take_along_axis(Y, jnp.argsort(perm, axis=-1)[..., :, None], axis=-2)


def _lu_solve_samples():
    def fac(x):
        import scipy.linalg  # noqa: PLC0415  (samples only)

        lu, piv = scipy.linalg.lu_factor(x) if x.ndim == 2 else zip(*map(scipy.linalg.lu_factor, x))
        return np.asarray(lu, x.dtype), (np.asarray(piv) + 1).astype(np.int32)

    a, b = fac(_well()), fac(_well(2, dtype="float64"))
    return [
        Sample(*a, A(3, 2)),
        Sample(*b, A(4, 1, 3, 2, dtype="float64")),
        Sample(*a, A(2, 3), left=False, adjoint=True),
        Sample(*a, A(3, 2), adjoint=True),
        Sample(*a, A(3)),
        Sample(a[0], a[1].astype(np.int64), A(3, 2)),
    ]


@_linalg(
    "lu_solve",
    nin=3,
    saves=(0, 2),
    samples=_lu_solve_samples,
)
def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """Solve ``A X = B`` from ``A``'s LU factorisation ``(LU, pivots)`` (torch.linalg.lu_solve).

    Args:
        LU, pivots: the output of :func:`linalg.lu_factor`, ``(*, n, n)`` and ``(*, n)`` int32.
        B: ``(*, n, k)`` right-hand sides (batch dims broadcast).
        left: solve ``X A = B`` (B ``(*, k, n)``) when False.
        adjoint: use ``A^H`` in place of ``A``.
    """
    if LU.ndim < 2:
        raise ShapeError("torch.linalg.lu_solve: The input tensor A must have at least 2 dimensions.")
    if LU.shape[-1] != LU.shape[-2]:
        raise ShapeError(
            f"torch.linalg.lu_solve: A must be batches of square matrices, but they are "
            f"{LU.shape[-2]} by {LU.shape[-1]} matrices"
        )
    if B.ndim < 2:
        raise ShapeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    if LU.dtype != B.dtype:
        raise DTypeError(
            f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of "
            f"type {tname(LU.dtype)} and B of type {tname(B.dtype)} instead"
        )
    _pivots_input("linalg.lu_solve", LU, pivots)
    _float_input("linalg.lu_solve", LU)
    if left:
        return _lu_solve_core(LU, pivots, B, adjoint)
    return _mT(_lu_solve_core(LU, pivots, _mT(B), not adjoint))


# ----- triangular solvers ---------------------------------------------------------------------------
def _st_samples():
    return [
        Sample(_tri(upper=True), A(3, 2), upper=True),
        Sample(_tri(2, dtype="float64"), A(4, 1, 3, 2, dtype="float64"), upper=False),
        Sample(_tri(), A(2, 3), upper=False, left=False, unitriangular=True),
        Sample(_tri(upper=True), A(3, 2, dtype="float64"), upper=True),
        Sample(_tri(), A(3), upper=False),
        Sample(A(2, 3), A(2, 3), upper=True),
    ]


@_linalg(
    "solve_triangular",
    nin=2,
    saves=(0, 1),
    samples=_st_samples,
)
def linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """Solve ``A X = B`` (``X A = B`` if ``left=False``) for triangular ``A`` (torch.linalg.solve_triangular).

    Args:
        A: ``(*, n, n)``; only the ``upper`` (or lower) triangle is read, and its diagonal is taken
            as ones with ``unitriangular=True``.
        B: ``(*, n, k)`` (``(*, k, n)`` when ``left=False``); batch dims broadcast.

    The result has ``A``'s dtype (``B`` is cast to it), as in torch.
    """
    _matrix_input("linalg.solve_triangular", A)
    B = B.astype(A.dtype) if B.dtype != A.dtype else B  # torch computes in A's dtype
    if B.ndim < 2:
        raise ShapeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {eq} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    return _trsolve(A, B, left=left, lower=not upper, unit=unitriangular)


def _ts_samples():
    return [
        Sample(A(3, 2), _tri(upper=True)),
        Sample(A(4, 3, 2, dtype="float64"), _tri(2, 1, dtype="float64"), False),
        Sample(A(3, 2), _tri(), False, True, True),
        Sample(A(3, 2), _tri(upper=True), transpose=True),
        Sample(A(3), _tri()),
        Sample(A(4, 2), _tri()),
        Sample(A(3, 2, dtype="float64"), _tri()),
    ]


@register(
    "triangular_solve",
    nin=2,
    saves=(0, 1),
    out_wrap=_result("triangular_solve", "solution cloned_coefficient"),
    samples=_ts_samples,
)
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """Solve ``A X = b`` for triangular ``A`` (legacy torch.triangular_solve; note the order).

    Args:
        b: ``(*, n, k)``; A: ``(*, n, n)`` (batch dims broadcast).
        upper: read the upper (default) or lower triangle; transpose: solve ``A^T X = b``;
        unitriangular: take A's diagonal as ones.

    Returns a named tuple ``(solution, cloned_coefficient)``, the latter a copy of ``A``
    broadcast to the batch shape.
    """
    if b.ndim < 2:
        raise ShapeError(
            f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
            f"{b.ndim} dimensions instead"
        )
    if A.ndim < 2:
        raise ShapeError(
            f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has "
            f"{A.ndim} dimensions instead"
        )
    _check_system("triangular_solve", A, b)
    _float_input("triangular_solve", A)
    Ab, bb = _batch(A, b)
    X = jax.lax.linalg.triangular_solve(
        Ab, bb, left_side=True, lower=not upper, transpose_a=transpose, unit_diagonal=unitriangular
    )
    return X, Ab + jnp.zeros((), A.dtype)


# ----- Cholesky ----------------------------------------------------------------------------------------
def _cho_solve_value(L, B, upper):
    if upper:
        Y = _trsolve(L, B, lower=False, trans=True, conj=True)
        return _trsolve(L, Y, lower=False)
    Y = _trsolve(L, B, lower=True)
    return _trsolve(L, Y, lower=True, trans=True, conj=True)


@partial(jax.custom_vjp, nondiff_argnums=(2,))
def _cho_solve(L, B, upper):
    return _cho_solve_value(L, B, upper)


def _cho_solve_fwd(L, B, upper):
    X = _cho_solve_value(L, B, upper)
    return X, (L, X)


def _cho_solve_bwd(upper, res, ct):
    """torch's cholesky_solve_backward: the gradient treats ``L`` as a full matrix."""
    L, X = res
    gB = _cho_solve_value(L, jnp.conj(ct), upper)
    common = jnp.matmul(gB, _mT(X))
    common = common + _mT(common)
    gL = -jnp.matmul(L, common) if upper else -jnp.matmul(common, L)
    return jnp.conj(gL), jnp.conj(gB)


_cho_solve.defvjp(_cho_solve_fwd, _cho_solve_bwd)


def _chol_factor(*batch, n=3, upper=False, dtype="float32"):
    L = np.linalg.cholesky(_sym(n, batch, "float64")).astype(dtype)
    return np.swapaxes(L, -1, -2).copy() if upper else L


@register(
    "cholesky_solve",
    nin=2,
    saves=(0, 1),
    samples=lambda: [
        Sample(A(3, 2), _chol_factor()),
        Sample(A(4, 3, 2, dtype="float64"), _chol_factor(2, 1, dtype="float64")),
        Sample(A(3, 1), _chol_factor(upper=True), True),
        Sample(A(3), _chol_factor()),
        Sample(A(2, 2), _chol_factor()),
        Sample(A(3, 2, dtype="float64"), _chol_factor()),
    ],
)
def cholesky_solve(B, L, upper=False):
    """Solve ``A X = B`` given the Cholesky factor of ``A = L L^H`` (or ``U^H U`` with ``upper=True``).

    Shapes: ``B (*, n, k)``, ``L (*, n, n)``, batch dims broadcast. Only L's triangle is read for
    the value; the gradient w.r.t. ``L`` is torch's (that of ``L`` as a full matrix).
    """
    if B.ndim < 2:
        raise ShapeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead")
    if L.ndim < 2:
        raise ShapeError(f"u should have at least 2 dimensions, but has {L.ndim} dimensions instead")
    _check_system("cholesky_solve", L, B)
    _float_input("cholesky_solve", L)
    L, B = _batch(L, B)
    return _cho_solve(L, B, upper)


@register(
    "cholesky_inverse",
    saves=(0,),
    samples=lambda: [
        Sample(_chol_factor()),
        Sample(_chol_factor(2, dtype="float64"), True),
        Sample(_chol_factor(upper=True), upper=True),
        Sample(A(3)),
        Sample(A(2, 3)),
    ],
)
def cholesky_inverse(L, upper=False):
    """The inverse of ``A = L L^H`` (``U^H U`` with ``upper=True``) from its Cholesky factor
    ``(*, n, n)``; the gradient treats ``L`` as a full matrix, as torch's."""
    if L.ndim < 2:
        raise ShapeError("cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    if L.shape[-1] != L.shape[-2]:
        raise ShapeError(
            f"cholesky_inverse: A must be batches of square matrices, but they are "
            f"{L.shape[-2]} by {L.shape[-1]} matrices"
        )
    _float_input("cholesky_inverse", L)
    eye = jnp.broadcast_to(_eye_like(L), L.shape)
    return _cho_solve(L, eye, upper)


def _nopivot_pivots(A):
    """The pivots of Gaussian elimination without row swaps, ``(*, n)``: for a Hermitian matrix
    the k-th leading minor is positive-definite iff pivots ``0..k-1`` are positive."""
    n = A.shape[-1]
    rows = jnp.arange(n)

    def body(k, M):
        piv = jnp.take(jnp.take(M, k, axis=-1), k, axis=-1)
        col = jnp.where(rows > k, jnp.take(M, k, axis=-1) / piv[..., None], 0)
        row = jnp.where(rows > k, jnp.take(M, k, axis=-2), 0)
        return M - col[..., :, None] * row[..., None, :]

    return jnp.diagonal(jax.lax.fori_loop(0, n, body, A), axis1=-2, axis2=-1)


def _chol_info(A, L):
    def failed(A):
        d = jnp.real(_nopivot_pivots(_hermitian_from(A)))
        bad = ~(d > 0)
        return jnp.where(jnp.any(bad, -1), jnp.argmax(bad, -1) + 1, 0).astype(jnp.int32)

    A = jax.lax.stop_gradient(A)
    return jax.lax.cond(jnp.any(jnp.isnan(L)), failed, lambda A: jnp.zeros(A.shape[:-2], jnp.int32), A)


def _cholesky_ex_kernel(A, *, upper=False):
    """``(L, info)`` (see :func:`linalg.cholesky_ex`)."""
    _matrix_input("linalg.cholesky", A)
    L = linalg_cholesky(A, upper=upper)
    return L, _chol_info(A, L)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """Cholesky factorisation with ``info`` (torch.linalg.cholesky_ex): named tuple ``(L, info)``.

    ``info`` (int32, one per matrix) is 0 on success, else the order of the first leading minor
    that is not positive-definite (then ``L`` holds NaN; torch leaves the partial factor).
    ``check_errors=True`` raises :class:`LinAlgError` for a nonzero ``info``.
    """
    res = REGISTRY["linalg_cholesky_ex"].call(A, upper=upper)
    if check_errors:
        _raise_info(
            "linalg.cholesky_ex",
            res.info,
            lambda i: (
                f"The factorization could not be completed because the input is not "
                f"positive-definite (the leading minor of order {i} is not positive-definite)."
            ),
        )
    return res


_linalg(
    "cholesky_ex",
    saves=(0,),
    out_wrap=_result("linalg_cholesky_ex", "L info"),
    samples=lambda: [
        Sample(_sym(3, dtype="float32")),
        Sample(_sym(3, (2,)), upper=True),
        Sample(np.diag(np.array([1.0, 2.0, 3.0], "float32")), grad=False),
        Sample(A(2, 3)),
    ],
    impl=cholesky_ex,
)(_cholesky_ex_kernel)


def _inv_ex_kernel(A):
    """``(inverse, info)`` (see :func:`linalg.inv_ex`)."""
    inv = linalg_inv(A)
    lu, _, _ = jax.lax.linalg.lu(jax.lax.stop_gradient(A))
    return inv, _getrf_info(lu)


def inv_ex(A, *, check_errors=False):
    """Inverse with ``info`` (torch.linalg.inv_ex): named tuple ``(inverse, info)``; ``info`` is
    ``i > 0`` when the ``i``-th diagonal element of the LU factor is zero (singular input)."""
    res = REGISTRY["linalg_inv_ex"].call(A)
    if check_errors:
        _raise_info(
            "linalg.inv_ex",
            res.info,
            lambda i: (
                f"The diagonal element {i} is zero, the inversion could not be completed "
                f"because the input matrix is singular."
            ),
        )
    return res


_linalg(
    "inv_ex",
    saves=(0,),
    out_wrap=_result("linalg_inv_ex", "inverse info"),
    samples=lambda: [
        Sample(_well()),
        Sample(_well(2, dtype="float64")),
        Sample(np.array([[1.0, 2.0], [2.0, 4.0]], "float32"), grad=False),
        Sample(A(2, 3)),
    ],
    impl=inv_ex,
)(_inv_ex_kernel)


def _solve_ex_kernel(A, B, *, left=True):
    """``(result, info)`` (see :func:`linalg.solve_ex`)."""
    X = linalg_solve(A, B, left=left)
    lu, _, _ = jax.lax.linalg.lu(jax.lax.stop_gradient(A))
    return X, _getrf_info(lu)


def solve_ex(A, B, *, left=True, check_errors=False):
    """:func:`linalg.solve` with ``info`` (torch.linalg.solve_ex): named tuple ``(result, info)``,
    ``info > 0`` for a singular ``A``; ``check_errors=True`` raises :class:`LinAlgError` then."""
    res = REGISTRY["linalg_solve_ex"].call(A, B, left=left)
    if check_errors:
        _raise_info(
            "torch.linalg.solve_ex",
            res.info,
            lambda i: "The solver failed because the input matrix is singular.",
        )
    return res


_linalg(
    "solve_ex",
    nin=2,
    saves=(0,),
    out_wrap=_result("linalg_solve_ex", "result info"),
    samples=lambda: [
        Sample(_well(), A(3, 2)),
        Sample(_well(2), A(3)),
        Sample(_well(dtype="float64"), A(2, 3, dtype="float64"), left=False),
        Sample(np.zeros((3, 3), "float32"), A(3), grad=False),
        Sample(A(2, 3), A(2)),
    ],
    impl=solve_ex,
)(_solve_ex_kernel)


# ----- matrix functions ----------------------------------------------------------------------------------
def _mexp_samples():
    return [
        Sample(A(3, 3, low=-1.0, high=1.0)),
        Sample(A(2, 3, 3, dtype="float64")),
        Sample(A(2, 2, dtype="complex64", low=-0.5, high=0.5)),
        Sample(A(0, 0)),
        Sample(A(2, 3)),
        Sample(I(2, 2)),
    ]


@register("matrix_exp", saves=(0,), samples=_mexp_samples)
def matrix_exp(A):
    """The matrix exponential ``sum_k A^k / k!`` of square matrices ``(*, n, n)`` (also
    ``mt.linalg.matrix_exp``). float16/bfloat16 are computed in float32."""
    _float_input("linalg.matrix_exp", A)
    if A.ndim < 2:
        raise ShapeError("linalg.matrix_exp: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"linalg.matrix_exp: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if A.shape[-1] == 0:
        return A + jnp.zeros((), A.dtype)
    if A.dtype in _LOW:
        return jax.scipy.linalg.expm(A.astype(jnp.float32)).astype(A.dtype)
    return jax.scipy.linalg.expm(A)


def _mpow_samples():
    return [
        Sample(A(3, 3), 3),
        Sample(A(2, 3, 3, dtype="float64"), 0),
        Sample(_well(), -2),
        Sample(I(3, 3, low=-2, high=3), 2),
        Sample(I(2, 2), -1),
        Sample(A(2, 3), 2),
        Sample(A(3, 3), 2.0),
    ]


def _matrix_power_kernel(A, n, *, precision=None):
    if A.ndim < 2:
        raise ShapeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if A.dtype == jnp.bool_:
        raise DTypeError("linalg.matrix_power: not implemented for 'Bool'")
    if n == 0:
        return jnp.broadcast_to(_eye_like(A), A.shape)
    if n < 0:
        A, n = linalg_inv(A), -int(n)
    p = prec(A, precision)
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else jnp.matmul(result, base, precision=p)
        n >>= 1
        if n:
            base = jnp.matmul(base, base, precision=p)
    return result + jnp.zeros((), A.dtype)


def matrix_power(A, n):
    """``A`` to the integer power ``n`` for square matrices ``(*, m, m)`` (also
    ``mt.linalg.matrix_power``): the identity for ``n = 0``, powers of the inverse for ``n < 0``
    (float input only). Integer input is allowed for ``n >= 0``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):  # before the kernel cache (2.0 == 2)
        raise OpTypeError(
            f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}"
        )
    return REGISTRY["matrix_power"].call(A, int(n))


register("matrix_power", precision=True, saves=(0,), samples=_mpow_samples, impl=matrix_power)(
    _matrix_power_kernel
)


# ----- tensor inverse / solve ------------------------------------------------------------------------------
@_linalg(
    "tensorinv",
    saves=(0,),
    samples=lambda: [
        Sample(_well(n=6).reshape(2, 3, 6)),
        Sample(_well(n=4, dtype="float64").reshape(4, 2, 2), 1),
        Sample(A(4, 6, 8, 2)),
        Sample(A(2, 2), 0),
        Sample(I(2, 2), 1),
    ],
)
def linalg_tensorinv(A, ind=2):
    """The inverse of ``A`` seen as a linear map from its first ``ind`` dims to the rest
    (torch.linalg.tensorinv): ``prod(A.shape[:ind]) == prod(A.shape[ind:])`` is required and the
    result has shape ``A.shape[ind:] + A.shape[:ind]``."""
    if ind <= 0:
        raise ShapeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    if ind > A.ndim:
        raise ShapeError(f"linalg.tensorinv: ind ({ind}) is larger than the number of dims ({A.ndim})")
    out, inn = A.shape[:ind], A.shape[ind:]
    p, q = int(np.prod(out)), int(np.prod(inn))
    if p != q:
        raise ShapeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {q} != {p}"
        )
    return linalg_inv(A.reshape(p, p)).reshape(inn + out)


@_linalg(
    "tensorsolve",
    nin=2,
    saves=(0, 1),
    samples=lambda: [
        Sample(_well(n=6).reshape(2, 3, 6), A(2, 3)),
        Sample(
            np.moveaxis(_well(n=6, dtype="float64").reshape(2, 3, 6), 0, 2),
            A(3, 6, dtype="float64"),
            dims=(0,),
        ),
        Sample(A(2, 3, 6), A(6)),
        Sample(A(2, 3, 6), A(3, 6), dims=(5,)),
    ],
)
def linalg_tensorsolve(A, B, dims=None):
    """Solve ``tensordot(A, X, X.ndim) = B`` for ``X`` (torch.linalg.tensorsolve).

    ``dims`` (optional) are dims of ``A`` moved to the end first. Requires
    ``prod(A.shape[B.ndim:]) == prod(A.shape[:B.ndim])``; ``X`` has shape ``A.shape[B.ndim:]``.
    """
    if dims is not None:
        dims = [
            norm_dim(d, A.ndim, "linalg.tensorsolve")
            for d in (dims if isinstance(dims, (tuple, list)) else (dims,))
        ]
        A = jnp.moveaxis(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    k = B.ndim
    p, q = int(np.prod(A.shape[:k])), int(np.prod(A.shape[k:]))
    if p != q:
        raise ShapeError(
            f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {q} != {p}"
        )
    return linalg_solve(A.reshape(p, p), B.reshape(p)).reshape(A.shape[k:])


# ----- small linalg helpers --------------------------------------------------------------------------------
@_linalg(
    "vander",
    samples=lambda: [
        Sample(A(3)),
        Sample(np.array([0.0, 1.5, -2.0], "float32"), N=4),
        Sample(I(2, 3, low=-3, high=4), N=4),
        Sample(A(2, 3, dtype="complex64"), N=2, grad=False),
        Sample(A(3), N=1),
        Sample(np.array([True, False])),
    ],
)
def linalg_vander(x, N=None):
    """The Vandermonde matrix ``(*, n, N)`` of ``x (*, n)``: column ``j`` is ``x ** j``
    (increasing powers; ``N`` defaults to n and must be > 1)."""
    if x.dtype == jnp.bool_:
        raise DTypeError("linalg.vander supports floating point, complex, and integer tensors, but got Bool")
    n = x.shape[-1] if x.ndim else 1
    N = n if N is None else N
    if N <= 1:
        raise ShapeError("N must be greater than 1.")
    x = x.reshape(1) if x.ndim == 0 else x
    reps = jnp.broadcast_to(x[..., None], x.shape + (N - 1,))
    return jnp.cumprod(jnp.concatenate([jnp.ones(x.shape + (1,), x.dtype), reps], -1), -1).astype(x.dtype)


@_linalg(
    "diagonal",
    samples=lambda: [Sample(A(2, 3, 4), offset=1), Sample(A(3, 4), offset=-1, dim1=1, dim2=0), Sample(A(3))],
)
def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of matrices over ``dim1, dim2`` (default the last two) as the last dim
    (torch.linalg.diagonal; :func:`mt.diagonal` with matrix-friendly defaults)."""
    d1 = norm_dim(dim1, A.ndim, "linalg.diagonal")
    d2 = norm_dim(dim2, A.ndim, "linalg.diagonal")
    if d1 == d2:
        raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return jnp.diagonal(A, offset, d1, d2)


_COND_NORMS = (None, "fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))


@_linalg(
    "cond",
    saves=(0,),
    samples=lambda: [
        Sample(A(3, 3)),
        Sample(A(2, 3, 4, dtype="float64"), -2),
        Sample(_well(), "fro", grad=False),
        Sample(_well(2), 1, grad=False),
        Sample(_well(), float("inf"), grad=False),
        Sample(A(3, 3), 3),
        Sample(A(2, 3), "nuc"),
        Sample(np.zeros((3, 3), "float32"), 1, grad=False),
    ],
)
def linalg_cond(A, p=None):
    """The condition number of matrices ``(*, m, n)`` in the norm ``p`` (torch.linalg.cond).

    ``p`` None/2/-2 use singular values (any shape); 'fro', 'nuc', 1, -1, inf, -inf need square
    invertible matrices (singular ones give inf). Returns a real tensor ``(*)``.
    """
    if p not in _COND_NORMS:
        raise ShapeError(f"linalg.cond got an invalid norm type: {p}")
    if A.ndim < 2:
        raise ShapeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    if p in (None, 2, -2):
        _matrix_input("linalg.svd", A, square=False)
        s = jnp.linalg.svd(A, compute_uv=False)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    _matrix_input(f"linalg.cond(ord={p})", A)
    lu, _, _ = jax.lax.linalg.lu(jax.lax.stop_gradient(A))
    r = matrix_norm_kernel("linalg.cond", A, p, (-2, -1), False) * matrix_norm_kernel(
        "linalg.cond", linalg_inv(A), p, (-2, -1), False
    )
    return jnp.where(_getrf_info(lu) > 0, jnp.inf, r)
