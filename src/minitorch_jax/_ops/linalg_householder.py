"""Householder reflectors: ``linalg.householder_product`` and torch's ``geqrf``, ``orgqr``, ``ormqr``
(LAPACK's conventions; ``geqrf`` has no gradient, as in torch)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._errors import DTypeError, ShapeError
from ._helpers import A, Sample
from ._registry import register
from .linalg import tname
from .linalg_decomp import (
    _float_input,
    _result,
)
from .linalg_extra import _linalg


# ----- Householder reflectors -------------------------------------------------------------------------------
def _apply_reflectors(V, tau, C, left, adjoint):
    """``Q C`` / ``Q^H C`` / ``C Q`` / ``C Q^H`` for ``Q = H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^H``,
    ``v_i`` read from column i of ``V`` below the diagonal (1 on it)."""
    m = V.shape[-2]
    k = tau.shape[-1]
    rows = jnp.arange(m)
    forward = left == adjoint  # Q^H C and C Q apply H_1 first

    def step(C, i):
        col = jnp.take(V, i, axis=-1)
        v = jnp.where(rows > i, col, (rows == i).astype(V.dtype))
        t = jnp.take(tau, i, axis=-1)
        t = jnp.conj(t) if adjoint else t
        if left:
            C = (
                C
                - (t[..., None] * v)[..., :, None]
                * jnp.einsum("...i,...ij->...j", jnp.conj(v), C)[..., None, :]
            )
        else:
            C = (
                C
                - jnp.einsum("...ij,...j->...i", C, v)[..., :, None]
                * (t[..., None] * jnp.conj(v))[..., None, :]
            )
        return C, None

    order = jnp.arange(k) if forward else jnp.arange(k - 1, -1, -1)
    C, _ = jax.lax.scan(step, C, order)
    return C


def _hh_check(op, A, tau):
    if A.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions.")
    if tau.ndim != A.ndim - 1:
        raise ShapeError(
            f"{op}: Expected tau to have one dimension less than input, but got tau.ndim "
            f"equal to {tau.ndim} and input.ndim is equal to {A.ndim}"
        )
    if tau.shape[:-1] != A.shape[:-2]:
        raise ShapeError(
            f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but "
            f"got {list(tau.shape[:-1])}"
        )
    if tau.dtype != A.dtype:
        raise DTypeError(f"{op}: tau dtype {tname(tau.dtype)} does not match input dtype {tname(A.dtype)}")
    _float_input(op, A)


def _hh_samples():
    return [
        Sample(A(4, 3), A(2)),
        Sample(A(2, 3, 3, dtype="float64"), A(2, 3, dtype="float64")),
        Sample(A(3, 2, dtype="complex64"), A(2, dtype="complex64"), grad=False),
        Sample(A(3, 4), A(2)),
        Sample(A(4, 3), A(4)),
        Sample(A(2, 4, 3), A(2)),
    ]


def householder_kernel(op, A, tau):
    """The first ``n`` columns of ``H_1 ... H_k`` (torch.linalg.householder_product)."""
    _hh_check(op, A, tau)
    m, n = A.shape[-2:]
    if m < n:
        raise ShapeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < tau.shape[-1]:
        raise ShapeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    eye = jnp.broadcast_to(jnp.eye(m, n, dtype=A.dtype), A.shape)
    return _apply_reflectors(A, tau, eye, True, False)


@_linalg(
    "householder_product",
    nin=2,
    saves=(0, 1),
    samples=_hh_samples,
)
def linalg_householder_product(A, tau):
    """The first ``n`` columns of ``H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^H`` (LAPACK orgqr).

    Args:
        A: ``(*, m, n)`` with ``m >= n``; ``v_i`` is column ``i`` below the diagonal (1 on it).
        tau: ``(*, k)`` with ``k <= n``.
    """
    return householder_kernel("torch.linalg.householder_product", A, tau)


@register("orgqr", nin=2, saves=(0, 1), samples=lambda: [Sample(A(4, 3), A(3)), Sample(A(3, 4), A(2))])
def orgqr(input, tau):
    """Same as :func:`linalg.householder_product` (LAPACK's name)."""
    return householder_kernel("torch.linalg.householder_product", input, tau)


@register(
    "ormqr",
    nin=3,
    saves=(0, 1, 2),
    samples=lambda: [
        # tau's gradient spans 0.5 to 300 here: float32 rounding reaches 2e-5 on the small entries
        Sample(A(4, 3), A(3), A(4, 2), rtol=1e-4, atol=1e-4),
        Sample(A(2, 4, 3), A(2, 2), A(2, 3, 4), False, True),
        Sample(A(4, 3, dtype="float64"), A(3, dtype="float64"), A(4, 2, dtype="float64"), transpose=True),
        Sample(A(4, 3), A(3), A(3, 2)),
        Sample(A(4, 3), A(5), A(4, 2)),
    ],
)
def ormqr(input, tau, other, left=True, transpose=False):
    """Multiply ``other`` by ``Q = H_1 ... H_k`` given as Householder reflectors (LAPACK ormqr).

    Args:
        input: ``(*, mn, k)`` reflectors (as from :func:`geqrf`), ``mn`` = m (left) or n (right).
        tau: ``(*, min(mn, k))``.
        other: ``(*, m, n)``.
        left: ``Q @ other`` (default) or ``other @ Q``; transpose: use ``Q^H``.
    """
    op = "torch.ormqr"
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise ShapeError(f"{op}: other must have at least 2 dimensions.")
    if other.ndim != input.ndim:
        raise ShapeError(
            f"{op}: Expected other to have the same number of dimensions as input, but got "
            f"other.ndim equal to {other.ndim} and input.ndim is equal to {input.ndim}"
        )
    dim = -2 if left else -1
    if other.shape[dim] != input.shape[-2]:
        raise ShapeError(f"{op}: other.shape[{dim}] must be equal to input.shape[-2]")
    if tau.ndim == input.ndim - 1 and tau.shape[-1] != min(other.shape[dim], input.shape[-1]):
        raise ShapeError(f"{op}: tau.shape[-1] must be equal to min(other.shape[{dim}], input.shape[-1])")
    _hh_check(op, input, tau)
    if other.dtype != input.dtype:
        raise DTypeError(
            f"{op}: other dtype {tname(other.dtype)} does not match input dtype {tname(input.dtype)}"
        )
    return _apply_reflectors(input, tau, other, left, transpose)


@register(
    "geqrf",
    differentiable=False,
    out_wrap=_result("geqrf", "a tau"),
    samples=lambda: [
        Sample(A(4, 3)),
        Sample(A(2, 3, 4, dtype="float64")),
        Sample(A(3, 3, dtype="complex128")),
        Sample(A(3)),
    ],
)
def geqrf(input):
    """QR decomposition in LAPACK's geqrf form: named tuple ``(a, tau)``, R on and above the
    diagonal of ``a`` and the Householder vectors below it (see :func:`linalg.householder_product`,
    :func:`ormqr`). Not differentiable, as in torch."""
    if input.ndim < 2:
        raise ShapeError("torch.geqrf: input must have at least 2 dimensions.")
    _float_input("torch.geqrf", input)
    m, n = input.shape[-2:]
    k = min(m, n)
    rows, cols = jnp.arange(m), jnp.arange(n)
    real = jnp.finfo(input.dtype).dtype

    def body(j, carry):
        M, tau = carry
        x = jnp.take(M, j, axis=-1)
        alpha = jnp.take(x, j, axis=-1)
        below = rows > j
        xnorm = jnp.sqrt(jnp.sum(jnp.where(below, jnp.abs(x) ** 2, 0), -1))
        ar, ai = jnp.real(alpha), jnp.imag(alpha)
        trivial = (xnorm == 0) & (ai == 0)
        beta = -jnp.copysign(jnp.sqrt(ar * ar + ai * ai + xnorm * xnorm), ar).astype(real)
        safe = jnp.where(trivial, 1, beta).astype(input.dtype)
        t = jnp.where(trivial, 0, (safe - alpha) / safe)
        scale = 1 / jnp.where(trivial, 1, alpha - safe)
        v = jnp.where(below, x * scale[..., None], (rows == j).astype(input.dtype))
        w = jnp.einsum("...i,...ij->...j", jnp.conj(v), M)
        upd = M - (jnp.conj(t)[..., None] * v)[..., :, None] * w[..., None, :]
        M = jnp.where(cols > j, upd, M)
        newcol = jnp.where(rows < j, x, jnp.where(rows == j, jnp.where(trivial, alpha, beta)[..., None], v))
        M = jnp.where(cols == j, newcol[..., :, None], M)
        tau = jnp.where(jnp.arange(k) == j, t[..., None], tau)
        return M, tau

    tau0 = jnp.zeros(input.shape[:-2] + (k,), input.dtype)
    return jax.lax.fori_loop(0, k, body, (input, tau0))
