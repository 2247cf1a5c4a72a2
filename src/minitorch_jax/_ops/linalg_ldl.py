"""``torch.linalg.ldl_factor``, ``ldl_factor_ex`` and ``ldl_solve``: LDL^T with Bunch-Kaufman pivoting.

The factorisation is LAPACK's unblocked ``sytf2`` (lower triangle, as torch uses) written as a
``jax.lax.while_loop`` over the pivot blocks, so it compiles for a fixed ``n`` and runs inside
``mt.jit``; the solve uses ``fori_loop`` with a fixed trip count (reverse-differentiable); batches
are ``jax.vmap``-ed. Pivot decisions and ``LD`` match LAPACK (and torch) exactly where rounding
does not flip a pivot test. ``LD`` and ``pivots`` follow LAPACK's ``sytrf`` format: ``L`` (unit
diagonal, not stored) below the diagonal, the 1x1/2x2 blocks of ``D`` on the diagonal (and first
subdiagonal), 1-based pivots, negative (and repeated) for a 2x2 block. Only the lower triangle of
``A`` is read. ``ldl_solve`` is LAPACK's ``sytrs``; complex input with ``hermitian=True`` uses
``hetf2``/``hetrs`` (conjugate transposes, real diagonal), as torch does.

Differences from torch:

* ``ldl_factor`` does not raise for singular input (that check needs a device sync; torch 2.13
  fails there with an internal assert): ``info`` of ``ldl_factor_ex`` reports it, and
  ``check_errors=True`` raises :class:`LinAlgError`;
* ``out=`` is not supported (raises ``NotImplementedError``);
* ``ldl_solve`` is differentiable with respect to ``B`` (torch has no derivative for either
  function); ``ldl_factor`` is not differentiable, as in torch.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, OpIndexError, ShapeError
from ._helpers import A, Sample
from ._registry import REGISTRY, register
from .linalg import tname
from .linalg_decomp import _float_input, _result
from .linalg_extra import _raise_info

__all__: list[str] = []

_ALPHA = (1.0 + np.sqrt(17.0)) / 8.0
_LOW = (np.dtype(np.float16), np.dtype(jnp.bfloat16))


def _cabs1(x):
    """LAPACK's pivot size: ``|x|`` for real, ``|re| + |im|`` for complex."""
    if jnp.iscomplexobj(x):
        return jnp.abs(x.real) + jnp.abs(x.imag)
    return jnp.abs(x)


def _mirror(a, herm=False):
    """The symmetric (Hermitian if ``herm``) matrix whose lower triangle is ``a``'s."""
    up = jnp.tril(a, -1).T
    return jnp.tril(a) + (jnp.conj(up) if herm else up)


def _ops(herm, dtype):
    """``(conj, real)`` for the Hermitian (complex) algorithms, identities for the symmetric ones."""
    if not herm:
        return (lambda x: x), (lambda x: x)
    return jnp.conj, (lambda x: jnp.real(x).astype(dtype))


def _swap_rows(x, i, j, idx):
    """``x`` with rows ``i`` and ``j`` exchanged (dynamic slices and selects: cheap to compile)."""
    ri, rj = x[i], x[j]
    return jnp.where((idx == i)[:, None], rj[None], jnp.where((idx == j)[:, None], ri[None], x))


def _sytf2(a, herm=False):
    """Bunch-Kaufman on one ``(n, n)`` matrix: ``(LD, pivots int32, info int32)`` (LAPACK sytf2, or
    hetf2 when ``herm``: complex Hermitian, real diagonal).

    The trailing block ``A[k:, k:]`` is kept as a full symmetric matrix (so row/column swaps are one
    permutation); columns left of ``k`` hold ``L`` and are never swapped (LAPACK's convention). A
    ``while_loop`` steps ``k`` by the pivot size (1 or 2).
    """
    n = a.shape[-1]
    idx = jnp.arange(n)
    zero = jnp.zeros((), a.dtype)
    unit = jnp.ones((), a.dtype)
    cj, re = _ops(herm, a.dtype)

    def step(carry):
        k, a, piv, info = carry
        col = a[:, k]
        absakk = _cabs1(re(col[k]))
        below = jnp.where(idx > k, _cabs1(col), -1.0)
        imax = jnp.argmax(below)
        colmax = jnp.maximum(below[imax], 0.0)
        singular = (jnp.maximum(absakk, colmax) == 0) | jnp.isnan(absakk)
        rowmax = jnp.maximum(jnp.max(jnp.where((idx >= k) & (idx != imax), _cabs1(a[imax]), -1.0)), 0.0)
        safe_row = jnp.where(rowmax > 0, rowmax, 1.0)
        use_k = singular | (absakk >= _ALPHA * colmax) | (absakk >= _ALPHA * colmax * (colmax / safe_row))
        one = use_k | (_cabs1(re(a[imax, imax])) >= _ALPHA * rowmax)
        kp = jnp.where(use_k, k, imax)
        kk = jnp.where(one, k, k + 1)
        # swap rows/columns kk and kp of the trailing block
        trail = (idx[:, None] >= k) & (idx[None, :] >= k)
        a = jnp.where(trail, _swap_rows(_swap_rows(a, kk, kp, idx).T, kk, kp, idx).T, a)
        k1 = jnp.minimum(k + 1, n - 1)
        ck, ck1 = a[:, k], a[:, k1]
        akk, ak1k, ak1k1 = re(a[k, k]), a[k1, k], re(a[k1, k1])
        # 1x1 pivot: rank-1 update, column k scaled by 1/d (LAPACK's dsyr order of operations)
        r1 = unit / jnp.where(singular | ~one, unit, akk)
        x = jnp.where(idx > k, ck, zero)
        # 2x2 pivot on (k, k+1) (LAPACK's sytf2 / hetf2 formulas: hetf2 divides by |A[k+1, k]|)
        d = jnp.where(one, unit, jnp.abs(ak1k).astype(a.dtype) if herm else ak1k)
        e = ak1k / d if herm else unit
        d11 = ak1k1 / d
        d22 = akk / d
        t = unit / jnp.where(one, unit, d11 * d22 - 1)
        d = t / d
        rest = idx > k + 1
        c0 = jnp.where(rest, ck, zero)
        c1 = jnp.where(rest, ck1, zero)
        wk = d * (d11 * c0 - (e * c1 if herm else c1))
        wkp1 = d * (d22 * c1 - (cj(e) * c0 if herm else c0))
        upd = jnp.where(one, jnp.outer(x, -r1 * cj(x)), -jnp.outer(c0, cj(wk)) - jnp.outer(c1, cj(wkp1)))
        upd = jnp.where(singular, zero, upd)
        a = a + _mirror(upd, herm)
        if herm:
            a = a.at[idx, idx].set(re(jnp.diagonal(a)))
        newk = jnp.where(one, jnp.where(idx > k, x * r1, ck), jnp.where(rest, wk, ck))
        newk1 = jnp.where(one, a[:, k1], jnp.where(rest, wkp1, ck1))
        a = a.at[:, k].set(jnp.where(singular, a[:, k], newk))
        a = a.at[:, k1].set(newk1)
        p1 = (kp + 1).astype(jnp.int32)
        piv = jnp.where(one, piv.at[k].set(p1), piv.at[k].set(-p1).at[k1].set(-p1))
        info = jnp.where((info == 0) & singular, k + 1, info).astype(jnp.int32)
        return jnp.where(one, k + 1, k + 2), a, piv, info

    a = _mirror(a, herm)
    if herm:
        a = a.at[idx, idx].set(re(jnp.diagonal(a)))
    init = (jnp.zeros((), jnp.int32), a, jnp.zeros((n,), jnp.int32), jnp.zeros((), jnp.int32))
    _, a, piv, info = jax.lax.while_loop(lambda c: c[0] < n, step, init)
    return jnp.tril(a), piv, info


def _batched(fn, x, core_ndim):
    for _ in range(x.ndim - core_ndim):
        fn = jax.vmap(fn)
    return fn


def _ldl_input(op, A, hermitian):
    if A.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, but they are "
                         f"{A.shape[-2]} by {A.shape[-1]} matrices")
    _float_input(op, A)
    if np.dtype(A.dtype) in _LOW:
        raise NotImplementedError(f'{op}: "ldl_factor_kernel_cpu" not implemented for \'{tname(A.dtype)}\'')


def _ldl_factor_ex_kernel(A, *, hermitian=False):
    """``(LD, pivots, info)`` of ``(*, n, n)`` symmetric matrices (see :func:`ldl_factor_ex`)."""
    _ldl_input("torch.linalg.ldl_factor_ex", A, hermitian)
    return _batched(partial(_sytf2, herm=hermitian and jnp.iscomplexobj(A)), A, 2)(A)


def _ldl_samples():
    sym = A(4, 4, dtype="float64")
    sym = sym + sym.T
    z = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]], "float32")
    h = (A(3, 3, dtype="float64") + 1j * A(3, 3, dtype="float64")) * (1 - np.eye(3))
    return [Sample(sym, grad=False), Sample(z, grad=False),
            Sample(np.diag([2.0, 1.0, 3.0]).astype("float32"), grad=False),
            Sample(h + h.conj().T, hermitian=True, grad=False)]


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """LDL^T factorisation with Bunch-Kaufman pivoting and LAPACK's ``info`` (torch.linalg.ldl_factor_ex).

    Args:
        A: ``(*, n, n)`` symmetric (or Hermitian) float/complex matrices; only the lower triangle is read.
        hermitian: consider ``A`` Hermitian (no effect for real input).
        check_errors: raise :class:`LinAlgError` when ``info`` is nonzero (a host read).

    Returns:
        A named tuple ``(LD (*, n, n), pivots (*, n) int32, info (*) int32)`` in LAPACK sytrf's format;
        ``info = i > 0`` when ``D[i-1, i-1]`` is exactly zero.
    """
    if out is not None:
        raise NotImplementedError("linalg.ldl_factor_ex: out= is not supported in minitorch_jax")
    res = REGISTRY["linalg_ldl_factor_ex"].call(A, hermitian=hermitian)
    if check_errors:
        _raise_info("torch.linalg.ldl_factor_ex", res.info,
                    lambda i: f"The factorization could not be completed because the input is singular "
                              f"(D[{i - 1}, {i - 1}] is exactly zero)")
    return res


register("linalg_ldl_factor_ex", method=False, function=False, torch_name="linalg.ldl_factor_ex",
         differentiable=False, out_wrap=_result("linalg_ldl_factor_ex", "LD pivots info"),
         samples=_ldl_samples, impl=ldl_factor_ex)(_ldl_factor_ex_kernel)


def _ldl_factor_kernel(A, *, hermitian=False):
    """``(LD, pivots)`` of ``(*, n, n)`` symmetric matrices (see :func:`ldl_factor`)."""
    _ldl_input("torch.linalg.ldl_factor", A, hermitian)
    ld, piv, _ = _batched(partial(_sytf2, herm=hermitian and jnp.iscomplexobj(A)), A, 2)(A)
    return ld, piv


def ldl_factor(A, *, hermitian=False, out=None):
    """Compact LDL^T factorisation of symmetric (possibly indefinite) matrices (torch.linalg.ldl_factor).

    Args:
        A: ``(*, n, n)`` float/complex matrices; only the lower triangle is read.
        hermitian: consider ``A`` Hermitian (no effect for real input; complex Hermitian is refused).

    Returns:
        A named tuple ``(LD (*, n, n), pivots (*, n) int32)`` in LAPACK sytrf's format (lower). Singular
        input is not reported: see :func:`ldl_factor_ex`. Not differentiable (as in torch).
    """
    if out is not None:
        raise NotImplementedError("linalg.ldl_factor: out= is not supported in minitorch_jax")
    return REGISTRY["linalg_ldl_factor"].call(A, hermitian=hermitian)


register("linalg_ldl_factor", method=False, function=False, torch_name="linalg.ldl_factor",
         differentiable=False, out_wrap=_result("linalg_ldl_factor", "LD pivots"),
         samples=_ldl_samples, impl=ldl_factor)(_ldl_factor_kernel)


# ----------------------------------------------------------------------------- solve
def _sytrs(ld, piv, b, herm=False):
    """LAPACK sytrs (hetrs if ``herm``), lower, for one ``(n, n)`` factor and ``(n, m)`` right-hand sides."""
    n = ld.shape[-1]
    cj, re = _ops(herm, ld.dtype)
    idx = jnp.arange(n)
    zero = jnp.zeros((), b.dtype)
    unit = jnp.ones((), ld.dtype)

    def swap(b, i, j):
        return _swap_rows(b, i, j, idx)

    def fwd(_, carry):  # L D Y = B, k steps forward by the block size
        k_, b_ = carry
        k = jnp.minimum(k_, n - 1)
        b = b_
        p = piv[k]
        two = p < 0
        k1 = jnp.minimum(k + 1, n - 1)
        b = swap(b, jnp.where(two, k1, k), jnp.abs(p) - 1)
        c0 = jnp.where(idx > jnp.where(two, k1, k), ld[:, k], zero)
        c1 = jnp.where(two & (idx > k1), ld[:, k1], zero)
        b = b - c0[:, None] * b[k][None, :] - c1[:, None] * b[k1][None, :]
        # the 1x1 or 2x2 block of D (zero-free denominators in the branch not taken: clean vjps)
        akm1k = jnp.where(two, ld[k1, k], unit)
        akm1 = ld[k, k] / cj(akm1k)
        ak = ld[k1, k1] / akm1k
        denom = jnp.where(two, akm1 * ak - 1, unit)
        bkm1, bk = b[k] / cj(akm1k), b[k1] / akm1k
        two_k = (ak * bkm1 - bk) / denom
        two_k1 = (akm1 * bk - bkm1) / denom
        one_k = b[k] * (unit / jnp.where(two, unit, re(ld[k, k])))
        b = b.at[k].set(jnp.where(two, two_k, one_k))
        b = b.at[k1].set(jnp.where(two, two_k1, b[k1]))
        done = k_ >= n
        return jnp.where(done, k_, jnp.where(two, k + 2, k + 1)), jnp.where(done, b_, b)

    # fixed trip counts (the blocks take at most n steps) keep the loops reverse-differentiable
    _, b = jax.lax.fori_loop(0, n, fwd, (jnp.zeros((), jnp.int32), b))

    def bwd(_, carry):  # L^T X = Y, k (last index of its block) steps backward
        k_, b_ = carry
        k = jnp.maximum(k_, 0)
        b = b_
        p = piv[k]
        two = (p < 0) & (k > 0) & (piv[jnp.maximum(k - 1, 0)] == p)
        km1 = jnp.maximum(k - 1, 0)
        rest = idx > k
        ck = jnp.where(rest, cj(ld[:, k]), zero)
        ckm1 = jnp.where(rest & two, cj(ld[:, km1]), zero)
        b = b.at[k].add(-(ck[:, None] * b).sum(0))
        b = b.at[km1].add(-(ckm1[:, None] * b).sum(0))
        b = swap(b, k, jnp.abs(p) - 1)
        done = k_ < 0
        return jnp.where(done, k_, jnp.where(two, k - 2, k - 1)), jnp.where(done, b_, b)

    _, b = jax.lax.fori_loop(0, n, bwd, (jnp.asarray(n - 1, jnp.int32), b))
    return b


def _ldl_solve_kernel(LD, pivots, B, *, hermitian=False):
    """``X`` with ``A X = B`` from ``A``'s LDL factorisation (see :func:`ldl_solve`)."""
    op = "torch.linalg.ldl_solve"
    if LD.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if LD.shape[-1] != LD.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, but they are "
                         f"{LD.shape[-2]} by {LD.shape[-1]} matrices")
    if B.ndim < 2:
        raise OpIndexError(f"{op}: Dimension out of range (expected to be in range of [-1, 0], but got -2): "
                           f"B must have at least 2 dimensions, got shape {list(B.shape)}")
    if pivots.shape != LD.shape[:-1]:
        raise ShapeError(f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got "
                         f"pivots with shape {list(pivots.shape)} instead")
    if not jnp.issubdtype(pivots.dtype, jnp.integer):
        raise DTypeError(f"{op}: Expected pivots to be integers. Got {tname(pivots.dtype)}")
    if B.shape[-2] != LD.shape[-1]:
        raise ShapeError(f"Incompatible matrix sizes for {op}: each A matrix is {LD.shape[-1]} by "
                         f"{LD.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if LD.dtype != B.dtype:
        raise DTypeError(f"{op}: Expected b and A to have the same dtype, but found b of type "
                         f"{tname(B.dtype)} and A of type {tname(LD.dtype)} instead.")
    _float_input(op, LD)
    batch = jnp.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    LD = jnp.broadcast_to(LD, batch + LD.shape[-2:])
    pivots = jnp.broadcast_to(pivots.astype(jnp.int32), batch + pivots.shape[-1:])
    B = jnp.broadcast_to(B, batch + B.shape[-2:])
    f = partial(_sytrs, herm=bool(hermitian and jnp.iscomplexobj(LD)))
    for _ in batch:
        f = jax.vmap(f)
    return f(LD, pivots, B)


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """Solve ``A X = B`` from ``A``'s compact LDL factorisation (torch.linalg.ldl_solve).

    Args:
        LD, pivots: the output of :func:`ldl_factor`/:func:`ldl_factor_ex`: ``(*, n, n)`` and
            ``(*, n)`` int32.
        B: ``(*, n, k)`` right-hand sides (batch dims broadcast with ``LD``'s).
        hermitian: must match the value given to the factorisation.

    Returns:
        ``X`` ``(*, n, k)``. Differentiable with respect to ``B`` (and ``LD``).
    """
    if out is not None:
        raise NotImplementedError("linalg.ldl_solve: out= is not supported in minitorch_jax")
    return REGISTRY["linalg_ldl_solve"].call(LD, pivots, B, hermitian=hermitian)


def _solve_samples():
    def fac(a):
        ld, piv, _ = _batched(_sytf2, a, 2)(jnp.asarray(a))
        return np.asarray(ld), np.asarray(piv)

    s = A(4, 4, dtype="float64")
    z = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]], "float32")
    b = A(2, 3, 3)
    # torch has no derivative for ldl_solve: values only (the B-gradient is tested against linalg.solve)
    return [
        Sample(*fac(s + s.T), A(4, 2, dtype="float64"), grad=False),
        Sample(*fac(z), A(3, 1), grad=False),
        Sample(*fac(b + np.swapaxes(b, -1, -2)), A(3, 2), grad=False),
        Sample(*fac(z), A(3), grad=False),
        Sample(*fac(z), A(3, 2, dtype="float64"), grad=False),
    ]


register("linalg_ldl_solve", nin=3, method=False, function=False, torch_name="linalg.ldl_solve",
         saves=(0, 2), impl=ldl_solve, samples=_solve_samples)(_ldl_solve_kernel)
