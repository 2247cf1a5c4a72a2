"""torch's legacy top-level linear algebra (``mt.svd`` returning V, ``mt.qr(some=)``, ``mt.slogdet``,
``mt.pinverse``, ``mt.cholesky*``, ``mt.lu``, ``mt.lu_solve``, ``mt.lu_unpack``, ``mt.triangular_solve`` ...):
functions and Tensor methods as in torch, built on the ``linalg_<name>`` entries."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, ShapeError
from ._helpers import A, I, Sample
from ._registry import REGISTRY, register
from .linalg_decomp import (
    _matrix_input,
    _mT,
    _result,
    _sym,
    linalg_cholesky,
    linalg_pinv,
    linalg_qr,
    linalg_slogdet,
)
from .linalg_extra import (
    _getrf_info,
    _lu_factor,
    _lu_solve_samples,
    _perm_from_pivots,
    _unpack,
    _well,
    linalg_lu_solve,
)

# ----- torch's legacy top-level forms -----------------------------------------------------------------------
_SVD_RESULT = _result("svd", "U S V")


def _svd_kernel(input, some=True):
    _matrix_input("linalg.svd", input, square=False)
    U, S, Vh = jnp.linalg.svd(input, full_matrices=not some)
    return U, S, _mT(Vh)


def svd(input, some=True, compute_uv=True):
    """Singular value decomposition ``input = U diag(S) V^H`` (legacy torch.svd: returns ``V``, not
    ``Vh``). ``some=True`` gives the reduced factors; with ``compute_uv=False`` only ``S`` is
    computed and ``U`` ``(*, m, m)``, ``V`` ``(*, n, n)`` are zeros. Named tuple ``(U, S, V)``."""
    if input.ndim < 2:
        raise ShapeError(
            f"linalg.svd: input should have at least 2 dimensions, but has {input.ndim} dimensions instead"
        )
    if compute_uv:
        return _SVD_RESULT(REGISTRY["svd"].call(input, some))
    S = REGISTRY["linalg_svdvals"].call(input)
    m, n = input.shape[-2:]
    batch = tuple(input.shape[:-2])
    zeros = REGISTRY["_zeros_like_shape"].call
    return _SVD_RESULT([zeros(S, batch + (m, m)), S, zeros(S, batch + (n, n))])


@register("_zeros_like_shape", method=False, function=False, differentiable=False)
def _zeros_like_shape(x, shape):
    """Zeros of ``shape`` and ``x``'s dtype, outside autograd."""
    return jnp.zeros(shape, x.dtype)


register(
    "svd",
    saves=(0,),
    impl=svd,
    samples=lambda: [
        Sample(np.diag(np.array([3.0, 2.0, 1.0], "float32"))),
        Sample(np.diag(np.array([3.0, 1.0])), some=False),
        Sample(A(2, 3, 4), compute_uv=False),
        Sample(A(3)),
        Sample(I(2, 2)),
    ],
)(_svd_kernel)


@register(
    "qr",
    saves=(0,),
    out_wrap=_result("qr", "Q R"),
    samples=lambda: [
        Sample(A(4, 3)),
        Sample(A(2, 3, 3, dtype="float64")),
        Sample(A(4, 3), some=False, grad=False),
        Sample(A(3)),
    ],
)
def qr(input, some=True):
    """QR decomposition (legacy torch.qr): ``some=True`` is ``mode='reduced'``, False ``'complete'``.
    Named tuple ``(Q, R)``."""
    return linalg_qr(input, "reduced" if some else "complete")


@register(
    "slogdet",
    saves=(0,),
    out_wrap=_result("slogdet", "sign logabsdet"),
    samples=lambda: [Sample(_well()), Sample(-_sym(3, (2,))), Sample(A(2, 3)), Sample(I(2, 2))],
)
def slogdet(input):
    """Sign and ``log|det|`` of square matrices (same as ``mt.linalg.slogdet``)."""
    return linalg_slogdet(input)


@register(
    "pinverse",
    precision=True,
    saves=(0,),
    samples=lambda: [
        Sample(A(3, 4)),
        Sample(A(2, 4, 3, dtype="float64")),
        Sample(A(3, 3), 0.3, grad=False),
        Sample(I(2, 2)),
    ],
)
def pinverse(input, rcond=1e-15, *, precision=None):
    """The pseudo-inverse of ``(*, m, n)`` matrices, singular values below ``rcond * largest``
    counted as zero (legacy form of ``mt.linalg.pinv``)."""
    return linalg_pinv(input, rtol=rcond, precision=precision)


@register(
    "cholesky",
    saves="output",
    samples=lambda: [
        Sample(_sym(3, dtype="float32")),
        Sample(_sym(3, (2,)), True),
        Sample(A(2, 3)),
        Sample(I(2, 2)),
    ],
)
def cholesky(input, upper=False):
    """Cholesky factor of Hermitian positive-definite matrices (legacy form of
    ``mt.linalg.cholesky``; ``upper=True`` returns ``U`` with ``A = U^H U``)."""
    _matrix_input("cholesky", input)
    return linalg_cholesky(input, upper=upper)


@register(
    "lu",
    saves=(0,),
    samples=lambda: [Sample(_well()), Sample(A(2, 4, 3, dtype="float64"), get_infos=True), Sample(A(3))],
)
def lu(A, pivot=True, get_infos=False):
    """LU factorisation (legacy torch.lu): ``(LU, pivots)``, or ``(LU, pivots, infos)`` with
    ``get_infos=True`` (see :func:`linalg.lu_factor_ex`). Singular input is not reported."""
    lu_, piv = _lu_factor("linalg.lu_factor", A, pivot)
    if get_infos:
        return lu_, piv, _getrf_info(lu_)
    return lu_, piv


def _lus_samples():
    s = _lu_solve_samples()
    return [
        Sample(s[0].args[2], s[0].args[0], s[0].args[1]),
        Sample(s[1].args[2], s[1].args[0], s[1].args[1]),
        Sample(A(3), s[0].args[0], s[0].args[1]),
    ]


@register("lu_solve", nin=3, saves=(0, 1), samples=_lus_samples)
def lu_solve(b, LU_data, LU_pivots):
    """Solve ``A X = b`` from ``A``'s LU factorisation (legacy torch.lu_solve; see
    :func:`linalg.lu_solve`, whose argument order differs)."""
    return linalg_lu_solve(LU_data, LU_pivots, b)


def _unpack_samples():
    s = _lu_solve_samples()
    return [
        Sample(s[0].args[0], s[0].args[1]),
        Sample(s[1].args[0], s[1].args[1], unpack_data=False, grad=False),
        Sample(A(4, 3), np.array([2, 3, 3], "int32"), unpack_pivots=False),
        Sample(A(3, 4), np.array([2, 3, 3], "int32")),
        Sample(A(3, 3), np.array([1, 2, 3])),
    ]


def _lu_unpack_kernel(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(L, U, perm)`` of :func:`lu_unpack` (P is built from ``perm`` without autograd)."""
    if LU_pivots.dtype != jnp.int32:
        raise DTypeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype."
        )
    if LU_data.ndim < 2:
        raise ShapeError("torch.lu_unpack: Expected tensor with 2 or more dimensions.")
    m = LU_data.shape[-2]
    perm = _perm_from_pivots(LU_pivots, m)
    _, L, U = _unpack(LU_data, perm, LU_data.dtype)
    if not unpack_data:
        L = U = jnp.zeros((0,), LU_data.dtype)
    return L, U, perm


_UNPACK_RESULT = _result("lu_unpack", "P L U")


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` from :func:`linalg.lu_factor`'s ``(LU, pivots)``: ``A = P L U``.

    Shapes: ``P (*, m, m)``, ``L (*, m, k)``, ``U (*, k, n)``; the parts not asked for
    (``unpack_data=False``: L, U; ``unpack_pivots=False``: P) are empty tensors. Pivot values are
    not validated (that would need a device sync).
    """
    L, U, perm = REGISTRY["lu_unpack"].call(LU_data, LU_pivots, unpack_data, unpack_pivots)
    P = REGISTRY["_lu_perm_matrix"].call(
        perm, LU_data.shape[-2], np.dtype(LU_data._data.dtype).name, bool(unpack_pivots)
    )
    return _UNPACK_RESULT([P, L, U])


register("lu_unpack", nin=2, method=False, saves=(0,), impl=lu_unpack, samples=_unpack_samples)(
    _lu_unpack_kernel
)
