"""The ops behind ``mt.linalg``: norms, inverses, solvers and decompositions.

Each is registered as ``linalg_<name>`` with ``function=False, method=False`` (they appear only
as ``mt.linalg.<name>``, see ``minitorch_jax/linalg.py``). Checks follow torch's messages
(``linalg.inv: A must be batches of square matrices ...``). One documented difference: torch
raises for singular / non positive-definite inputs (a data-dependent check needing a device
sync); here, as in JAX, the result then holds inf/NaN instead.
"""

from __future__ import annotations

from collections import namedtuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._errors import DTypeError, OpTypeError, ShapeError
from ._helpers import A, I, Sample, norm_dim, norm_dims
from ._registry import REGISTRY, register
from .linalg import cross_kernel, prec, same_dtype, tname

_INF = float("inf")
_LOW = (np.dtype(np.float16), np.dtype(jnp.bfloat16))


def _float_input(op: str, x) -> None:
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                         f"{tname(x.dtype)}")


def _matrix_input(op: str, x, square=True) -> None:
    """torch's checks for a (batch of) matrices: float/complex, >= 2-D, square if asked."""
    _float_input(op, x)
    if x.dtype in _LOW:
        raise DTypeError(f"{op}: Low precision dtypes not supported. Got {tname(x.dtype)}")
    if x.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, but they are "
                         f"{x.shape[-2]} by {x.shape[-1]} matrices")


def _mT(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _hermitian_from(A, lower=True):
    """The Hermitian matrix torch's solvers see: one triangle of ``A`` mirrored. Its value reads
    only that triangle; its gradient flows to ``(A + A^H) / 2``, which is torch's convention (a
    symmetric gradient) for cholesky / eigh."""
    strict = jnp.tril(A, -1) if lower else jnp.triu(A, 1)
    diag = jnp.diagonal(A, axis1=-2, axis2=-1).real.astype(A.dtype)
    herm = strict + _mT(strict) + diag[..., None] * jnp.eye(A.shape[-1], dtype=A.dtype)
    sym = (A + _mT(A)) / 2
    return sym + jax.lax.stop_gradient(herm - sym)


def _result(name: str, fields: str):
    """A torch.return_types-like named tuple and the ``out_wrap`` building it."""
    cls = namedtuple(name, fields)
    cls.__module__ = "minitorch_jax.return_types"
    return lambda outs: cls(*outs)


def _diag(*values, dtype="float32"):
    """A diagonal matrix: its singular / eigen vectors have no sign ambiguity between libraries
    (the generic parity test compares them directly; test_linalg.py covers general inputs)."""
    return np.diag(np.asarray(values, dtype))


def _sym(n=3, batch=(), dtype="float64"):
    """A well-conditioned symmetric positive-definite sample (distinct eigenvalues, likely)."""
    x = A(*batch, n, n, dtype=dtype)
    return (x @ np.swapaxes(x, -1, -2) + n * np.eye(n, dtype=dtype)).astype(dtype)


# ----- norms -----------------------------------------------------------------------------------
def _norm_dtype(op, x, dtype):
    _float_input(op, x)
    if dtype is None:
        return x
    dt = _dtype.to_np(dtype)
    if jnp.promote_types(x.dtype, dt) != dt:
        raise DTypeError(f"{op}: the dtype of the input ({tname(x.dtype)}) should be convertible "
                         f"without narrowing to the specified dtype ({tname(dt)})")
    return x.astype(dt)


def _safe_root(s, p):
    """``s ** (1/p)`` with a zero (not NaN) gradient where ``s == 0``, as torch's norm backward."""
    pos = s > 0
    root = jnp.sqrt(jnp.where(pos, s, 1)) if p == 2 else jnp.where(pos, s, 1) ** (1.0 / p)
    return jnp.where(pos, root, 0)


def vector_norm_kernel(op, x, ord, axes, keepdim):
    """The p-norm of ``x`` (already float/complex) over ``axes`` (None: all), real-valued."""
    if isinstance(ord, str) or isinstance(ord, bool):
        raise OpTypeError(f"{op}(): argument 'ord' must be Number, not {type(ord).__name__}")
    red = range(x.ndim) if axes is None else axes
    if abs(ord) == _INF and any(x.shape[a] == 0 for a in red):
        raise ShapeError(f"{op} cannot compute the {ord} norm on an empty tensor because the "
                         f"operation does not have an identity")
    cplx = jnp.iscomplexobj(x)
    if ord == 2:
        sq = x.real * x.real + x.imag * x.imag if cplx else x * x
        return _safe_root(jnp.sum(sq, axis=axes, keepdims=keepdim), 2)
    a = jnp.abs(x)
    if ord == _INF:
        return jnp.max(a, axis=axes, keepdims=keepdim)
    if ord == -_INF:
        return jnp.min(a, axis=axes, keepdims=keepdim)
    if ord == 0:
        return jnp.sum((a != 0).astype(a.dtype), axis=axes, keepdims=keepdim)
    if ord == 1:
        return jnp.sum(a, axis=axes, keepdims=keepdim)
    return _safe_root(jnp.sum(a ** ord, axis=axes, keepdims=keepdim), ord)


def _matrix_dims(op, x, dim):
    if not isinstance(dim, tuple) or len(dim) != 2:
        got = ", ".join(map(str, dim)) if isinstance(dim, tuple) else dim
        raise ShapeError(f"{op}: dim must be a 2-tuple. Got {got}")
    d0, d1 = norm_dim(dim[0], x.ndim, op), norm_dim(dim[1], x.ndim, op)
    if d0 == d1:
        raise ShapeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm_kernel(op, x, ord, dim, keepdim):
    """A matrix norm of ``x`` (already float/complex) over the two dims ``dim``."""
    if x.ndim < 2:
        raise ShapeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = _matrix_dims(op, x, dim)
    if ord == "fro":
        return vector_norm_kernel(op, x, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        s = jnp.linalg.svd(jnp.moveaxis(x, (d0, d1), (-2, -1)), compute_uv=False)
        r = jnp.sum(s, -1) if ord == "nuc" else (jnp.max(s, -1) if ord == 2 else jnp.min(s, -1))
        return jnp.expand_dims(r, tuple(sorted((d0, d1)))) if keepdim else r
    if ord in (1, -1, _INF, -_INF):
        inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = jnp.sum(jnp.abs(x), axis=inner, keepdims=True)
        r = jnp.max(sums, axis=outer, keepdims=True) if ord > 0 else jnp.min(sums, axis=outer,
                                                                               keepdims=True)
        return r if keepdim else jnp.squeeze(r, (d0, d1))
    raise ShapeError(f"{op}: Order {ord} not supported.")


def _vn_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), 1, 1), Sample(A(2, 3, 4), _INF, (0, 2), True),
            Sample(A(3, 4), -_INF, -1), Sample(A(3, 4), 0, 0), Sample(A(5), 3), Sample(A(4), 0.5),
            Sample(np.zeros((2, 3), np.float32), dim=1), Sample(A(2, 3, dtype="complex64"), 2, 1),
            Sample(A(3, dtype="float64")), Sample(A(0, 2), 2, 0), Sample(A(2, 2), dtype=_dtype.float64),
            Sample(A(2, 2, dtype="float64"), dtype=_dtype.float32), Sample(I(3)), Sample(A(3), "fro"),
            Sample(A(0, 2), _INF, 0), Sample(A(2, 3), 2, (0, 0))]


@register("linalg_vector_norm", method=False, function=False, torch_name="linalg.vector_norm",
          samples=_vn_samples)
def linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector p-norm ``(sum |x|**ord) ** (1/ord)`` over ``dim`` (torch.linalg.vector_norm).

    Args:
        ord: 2 (default), any real p, ``inf``/``-inf`` (max/min of ``|x|``), 0 (nonzero count).
        dim: an int or tuple of ints; None flattens the whole tensor.
        keepdim: keep the reduced dims with size 1.
        dtype: compute in this (not narrower) dtype.

    Returns a real tensor also for complex input; the gradient at a zero vector is 0, as in torch.
    """
    x = _norm_dtype("linalg.vector_norm", x, dtype)
    axes = norm_dims(dim, x.ndim, "linalg.vector_norm")
    return vector_norm_kernel("linalg.vector_norm", x, ord, axes, keepdim)



def _mn_samples():
    return [Sample(A(3, 4)), Sample(A(3, 4), "nuc"), Sample(A(2, 3, 3), 2), Sample(A(3, 4), -2),
            Sample(A(3, 4), 1), Sample(A(3, 4), -1), Sample(A(3, 4), _INF), Sample(A(3, 4), -_INF),
            Sample(A(2, 3, 4), "fro", (0, 2), True), Sample(A(2, 3, 4), 1, (2, 0), True),
            Sample(A(2, 3, 4), "nuc", (2, 0), True),
            Sample(A(3, 3, dtype="float64"), 2), Sample(A(2, 2, dtype="complex64")),
            Sample(A(3)), Sample(A(3, 3), 3), Sample(A(3, 3), dim=(0, 0)), Sample(I(2, 2))]


@register("linalg_matrix_norm", method=False, function=False, torch_name="linalg.matrix_norm",
          samples=_mn_samples)
def linalg_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim`` (default the last two) (torch.linalg.matrix_norm).

    Args:
        ord: 'fro' (default), 'nuc' (sum of singular values), 2/-2 (largest/smallest singular
            value), 1/-1 (max/min column sum of ``|A|``), ``inf``/``-inf`` (max/min row sum).
        dim: a pair of dims; the other dims are batch dims.
        keepdim: keep the reduced dims with size 1.
        dtype: compute in this (not narrower) dtype.
    """
    A = _norm_dtype("linalg.matrix_norm", A, dtype)
    return matrix_norm_kernel("linalg.matrix_norm", A, ord, dim, keepdim)



def _norm_samples():
    return [Sample(A(3, 4)), Sample(A(2, 3, 4)), Sample(A(4), 1), Sample(A(3, 4), "nuc"),
            Sample(A(3, 4), 2), Sample(A(3, 4), _INF, dim=1), Sample(A(2, 3, 4), dim=(1, 2)),
            Sample(A(2, 3, 4), -1, (0, 1), True), Sample(A(4, dtype="float64"), dim=0),
            Sample(A(2, 3, 4), 2), Sample(A(3), "fro"), Sample(A(3, 3), "fro", 1)]


@register("linalg_norm", method=False, function=False, torch_name="linalg.norm",
          samples=_norm_samples)
def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector or matrix norm (torch.linalg.norm).

    With ``dim`` of length 1, or a 1-D input, the vector norm; with ``dim`` of length 2, or a 2-D
    input with ``ord`` given, the matrix norm; with neither ``ord`` nor ``dim``, the 2-norm of the
    flattened tensor. ``ord``, ``keepdim`` and ``dtype`` as in vector_norm / matrix_norm.
    """
    A = _norm_dtype("linalg.norm", A, dtype)
    if dim is not None:
        dims = dim if isinstance(dim, tuple) else (dim,)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise ShapeError(f"linalg.norm: ord {ord!r} needs a 2-tuple dim, got {dim}")
            axes = norm_dims(dims, A.ndim, "linalg.norm")
            return vector_norm_kernel("linalg.norm", A, 2 if ord is None else ord, axes, keepdim)
        if len(dims) == 2:
            return matrix_norm_kernel("linalg.matrix_norm", A, "fro" if ord is None else ord, dims,
                                      keepdim)
        raise ShapeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dim}")
    if ord is None:
        return vector_norm_kernel("linalg.norm", A, 2, None, keepdim)
    if A.ndim == 2 or isinstance(ord, str):
        return matrix_norm_kernel("linalg.matrix_norm", A, ord, (-2, -1), keepdim)
    if A.ndim == 1:
        return vector_norm_kernel("linalg.norm", A, ord, None, keepdim)
    raise ShapeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                     f"Got {A.ndim}D.")



# ----- inverses, determinants, solvers ----------------------------------------------------------
def _sq_samples(extra=()):
    def samples():
        return [Sample(_sym(3, dtype="float32")), Sample(A(2, 3, 3) + 3 * np.eye(3, dtype="float32")),
                Sample(_sym(2)), Sample(A(0, 0)), Sample(A(2, 3)), Sample(I(2, 2)), Sample(A(3)),
                *[e() for e in extra]]
    return samples


@register("linalg_inv", method=False, function=False, torch_name="linalg.inv", saves="output",
          samples=_sq_samples())
def linalg_inv(A):
    """The inverse of a (batch of) square invertible matrices ``(*, n, n)`` (torch.linalg.inv)."""
    _matrix_input("linalg.inv", A)
    return jnp.linalg.inv(A)


@register("linalg_det", method=False, function=False, torch_name="linalg.det", saves=(0,),
          samples=_sq_samples((lambda: Sample(A(2, 2, dtype="complex128")),)))
def linalg_det(A):
    """The determinant of square matrices ``(*, n, n)``, shape ``(*)`` (torch.linalg.det)."""
    _matrix_input("linalg.det", A)
    if A.shape[-1] == 0:
        return jnp.ones(A.shape[:-2], A.dtype)
    return jnp.linalg.det(A)


@register("linalg_slogdet", method=False, function=False, torch_name="linalg.slogdet", saves=(0,),
          samples=_sq_samples((lambda: Sample(-_sym(3)),)),
          out_wrap=_result("linalg_slogdet", "sign logabsdet"))
def linalg_slogdet(A):
    """Sign (or phase, for complex) and ``log|det A|`` of square matrices (torch.linalg.slogdet).

    Returns a named tuple ``(sign, logabsdet)``; ``det = sign * exp(logabsdet)``.
    """
    _matrix_input("linalg.slogdet", A)
    if A.shape[-1] == 0:
        return jnp.ones(A.shape[:-2], A.dtype), jnp.zeros(A.shape[:-2], jnp.finfo(A.dtype).dtype)
    sign, logabs = jnp.linalg.slogdet(A)
    return sign, logabs


def _solve_samples():
    m = A(3, 3) + 3 * np.eye(3, dtype="float32")
    return [Sample(m, A(3)), Sample(m, A(3, 2)), Sample(A(2, 3, 3) + 3 * np.eye(3, dtype="float32"), A(2, 3)),
            Sample(A(2, 3, 3) + 3 * np.eye(3, dtype="float32"), A(3)),
            Sample(A(2, 3, 3) + 3 * np.eye(3, dtype="float32"), A(4, 1, 3, 2)),
            Sample(m, A(2, 3), left=False), Sample(_sym(2), A(2, 1, dtype="float64")),
            Sample(m, A(4)), Sample(m, A(3, dtype="float64")), Sample(A(3, 2), A(3))]


@register("linalg_solve", nin=2, method=False, function=False, torch_name="linalg.solve",
          saves=(0,), samples=_solve_samples)
def linalg_solve(A, B, *, left=True):
    """Solve ``A X = B`` (or ``X A = B`` with ``left=False``) for square invertible ``A``.

    Shapes: ``A (*, n, n)``; ``B (*, n, k)`` or a batch of vectors ``(*, n)``; batch dims broadcast.
    """
    _matrix_input("linalg.solve", A)
    if A.dtype != B.dtype:
        raise DTypeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                         f"{tname(A.dtype)} and B of type {tname(B.dtype)} instead")
    if not left:
        return _mT(linalg_solve(_mT(A), _mT(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    Bm = B[..., None] if vector else B
    n = A.shape[-1]
    if Bm.ndim < 2 or Bm.shape[-2] != n:
        shape = Bm.shape[-2:] if Bm.ndim >= 2 else (Bm.shape[0], 1)
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                         f"({n}x{n} and {shape[0]}x{shape[1]})")
    batch = jnp.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    X = jnp.linalg.solve(jnp.broadcast_to(A, batch + A.shape[-2:]),
                         jnp.broadcast_to(Bm, batch + Bm.shape[-2:]))
    return X[..., 0] if vector else X


@register("linalg_cholesky", method=False, function=False, torch_name="linalg.cholesky",
          saves="output",
          samples=lambda: [Sample(_sym(3, dtype="float32")), Sample(_sym(3, (2,))),
                           Sample(_sym(3, dtype="float32"), upper=True), Sample(A(0, 0)),
                           Sample(A(3, 4)), Sample(I(2, 2))])
def linalg_cholesky(A, *, upper=False):
    """The Cholesky factor of Hermitian positive-definite matrices: ``A = L L^H`` (lower ``L``), or
    ``U = L^H`` with ``upper=True``. Only the lower triangle of ``A`` is read."""
    _matrix_input("linalg.cholesky", A)
    L = jnp.linalg.cholesky(_hermitian_from(A), symmetrize_input=False)
    return _mT(L) if upper else L


@register("linalg_qr", method=False, function=False, torch_name="linalg.qr", saves=(0,),
          out_wrap=_result("linalg_qr", "Q R"),
          samples=lambda: [Sample(A(4, 3)), Sample(A(3, 4), grad=False), Sample(A(2, 3, 3)),
                           Sample(A(4, 3, dtype="float64"), "complete", grad=False),
                           Sample(A(4, 3), mode="r", grad=False), Sample(A(3, 3), "x"),
                           Sample(I(3, 3))])
def linalg_qr(A, mode="reduced"):
    """QR decomposition ``A = Q R`` of ``(*, m, n)`` matrices (torch.linalg.qr).

    Args:
        mode: 'reduced' (Q ``(*, m, k)``, R ``(*, k, n)``, k = min(m, n)), 'complete' (Q square) or
            'r' (only R; Q is an empty tensor).

    Returns a named tuple ``(Q, R)``.
    """
    if mode not in ("reduced", "complete", "r"):
        raise ShapeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                         f"(default), 'r', or 'complete'")
    _matrix_input("linalg.qr", A, square=False)
    if mode == "r":
        return jnp.zeros((0,), A.dtype), jnp.linalg.qr(A, mode="r")
    Q, R = jnp.linalg.qr(A, mode=mode)
    return Q, R


# ----- spectral decompositions ------------------------------------------------------------------
@register("linalg_svd", method=False, function=False, torch_name="linalg.svd", saves=(0,),
          out_wrap=_result("linalg_svd", "U S Vh"),
          samples=lambda: [Sample(_diag(3.0, 2.0, 1.0)), Sample(_diag(3.0, 1.0, dtype="float64"),
                                                                full_matrices=False),
                           Sample(np.eye(2, 3, dtype="float32") * 2, grad=False), Sample(I(2, 2)),
                           Sample(A(3))])
def linalg_svd(A, full_matrices=True, *, driver=None):
    """Singular value decomposition ``A = U diag(S) Vh`` of ``(*, m, n)`` matrices.

    Args:
        full_matrices: square ``U (*, m, m)`` and ``Vh (*, n, n)`` if True, else ``(*, m, k)`` and
            ``(*, k, n)`` with k = min(m, n). ``S (*, k)`` is real and descending.

    Returns a named tuple ``(U, S, Vh)``. Singular vectors are unique only up to sign (phase), so
    gradients are defined for losses that do not depend on that choice.
    """
    _matrix_input("linalg.svd", A, square=False)
    U, S, Vh = jnp.linalg.svd(A, full_matrices=full_matrices)
    return U, S, Vh


@register("linalg_svdvals", method=False, function=False, torch_name="linalg.svdvals", saves=(0,),
          samples=lambda: [Sample(A(3, 4)), Sample(A(2, 3, 3)), Sample(A(4, 2, dtype="float64")),
                           Sample(A(2, 2, dtype="complex64")), Sample(I(2, 2)), Sample(A(3))])
def linalg_svdvals(A, *, driver=None):
    """The singular values ``(*, min(m, n))`` of ``(*, m, n)`` matrices, descending."""
    _matrix_input("linalg.svdvals", A, square=False)
    return jnp.linalg.svd(A, compute_uv=False)


def _uplo(op, UPLO):
    if UPLO not in ("L", "U"):
        raise ShapeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


@register("linalg_eigh", method=False, function=False, torch_name="linalg.eigh", saves=(0,),
          out_wrap=_result("linalg_eigh", "eigenvalues eigenvectors"),
          samples=lambda: [Sample(_diag(1.0, 2.0, 3.0)), Sample(_diag(1.0, 3.0, dtype="float64"), "U"),
                           Sample(A(3, 3), "X"), Sample(I(2, 2)), Sample(A(2, 3))])
def linalg_eigh(A, UPLO="L"):
    """Eigenvalues (ascending, real) and eigenvectors of Hermitian matrices (torch.linalg.eigh).

    Only the ``UPLO`` ('L' or 'U') triangle of ``A`` is read. Returns a named tuple
    ``(eigenvalues, eigenvectors)``; eigenvectors are unique only up to sign (phase).
    """
    _uplo("linalg.eigh", UPLO)
    _matrix_input("linalg.eigh", A)
    w, v = jnp.linalg.eigh(_hermitian_from(A, UPLO == "L"), symmetrize_input=False)
    return w, v


@register("linalg_eigvalsh", method=False, function=False, torch_name="linalg.eigvalsh", saves=(0,),
          samples=lambda: [Sample(_sym(3)), Sample(_sym(3, dtype="float32"), "U"),
                           Sample(_sym(2, (2,))), Sample(A(3, 3), "X"), Sample(A(2, 3))])
def linalg_eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending, real) of Hermitian matrices, reading the ``UPLO`` triangle."""
    _uplo("linalg.eigvalsh", UPLO)
    _matrix_input("linalg.eigvalsh", A)
    return jnp.linalg.eigvalsh(_hermitian_from(A, UPLO == "L"), symmetrize_input=False)


def _tolerances(A, atol, rtol):
    """torch's defaults: rtol = eps * max(m, n) unless atol > 0 is given alone."""
    if rtol is None:
        rtol = 0.0 if (atol is not None and atol > 0) else \
            float(jnp.finfo(A.dtype).eps) * max(A.shape[-2:])
    return (0.0 if atol is None else float(atol)), float(rtol)


@register("linalg_pinv", method=False, function=False, torch_name="linalg.pinv", precision=True,
          saves=(0,),
          samples=lambda: [Sample(A(3, 4)), Sample(A(2, 4, 3, dtype="float64")),
                           Sample(A(3, 4), atol=0.5, grad=False), Sample(A(3, 3), rtol=0.3, grad=False),
                           Sample(_sym(3), hermitian=True), Sample(I(2, 2))])
def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, precision=None):
    """The Moore-Penrose pseudo-inverse ``(*, n, m)`` of ``(*, m, n)`` matrices (torch.linalg.pinv).

    Singular values below ``max(atol, rtol * largest)`` count as zero; by default
    ``rtol = eps * max(m, n)``. ``hermitian=True`` is accepted; the result is computed as for a
    general matrix (the same for Hermitian input, and the same gradient as torch's).
    """
    _matrix_input("linalg.pinv", A, square=False)
    atol, rtol = _tolerances(A, atol, rtol)
    if atol == 0:
        return jnp.linalg.pinv(A, rtol=rtol)
    U, S, Vh = jnp.linalg.svd(A, full_matrices=False)
    cutoff = jnp.maximum(atol, rtol * jnp.max(S, -1, keepdims=True))
    keep = S > cutoff
    s_inv = jnp.where(keep, 1 / jnp.where(keep, S, 1), 0).astype(A.dtype)
    return jnp.matmul(_mT(Vh) * s_inv[..., None, :], _mT(U), precision=prec(A, precision))


@register("linalg_matrix_rank", method=False, function=False, torch_name="linalg.matrix_rank",
          differentiable=False,
          samples=lambda: [Sample(A(3, 4)), Sample(A(3, 1) @ A(1, 4)), Sample(A(2, 3, 3), atol=1.0),
                           Sample(A(3, 3), rtol=0.5), Sample(_sym(3), hermitian=True),
                           Sample(np.zeros((2, 2), np.float32)), Sample(I(2, 2))])
def linalg_matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The numerical rank (int64) of ``(*, m, n)`` matrices: singular values above
    ``max(atol, rtol * largest)`` (defaults as in :func:`linalg.pinv`)."""
    _matrix_input("linalg.matrix_rank", A, square=False)
    atol, rtol = _tolerances(A, atol, rtol)
    S = jnp.abs(jnp.linalg.eigvalsh(A)) if hermitian else jnp.linalg.svd(A, compute_uv=False)
    if S.shape[-1] == 0:
        return jnp.zeros(S.shape[:-1], jnp.int64)
    tol = jnp.maximum(atol, rtol * jnp.max(S, -1, keepdims=True))
    return jnp.sum(S > tol, -1).astype(jnp.int64)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")
_LstsqResult = namedtuple("linalg_lstsq", "solution residuals rank singular_values")
_LstsqResult.__module__ = "minitorch_jax.return_types"


def _lstsq_setup(A, B, rcond, driver):
    driver = driver or "gelsy"
    if driver not in _DRIVERS:
        raise ShapeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                         f"(gels, gelsy, gelsd, gelss), got {driver}")
    _matrix_input("linalg.lstsq", A, square=False)
    m, n = A.shape[-2:]
    rtol = float(jnp.finfo(A.dtype).eps) * max(m, n) if rcond is None else float(rcond)
    return driver, rtol


def _lstsq_kernel(A, B, rcond=None, *, driver=None, precision=None):
    """The differentiable part of lstsq: (solution, residuals, rank)."""
    driver, rtol = _lstsq_setup(A, B, rcond, driver)
    same_dtype("linalg.lstsq", A, B)
    vector = B.ndim == A.ndim - 1
    Bm = B[..., None] if vector else B
    m, n = A.shape[-2:]
    if Bm.ndim < 2 or Bm.shape[-2] != m:
        raise ShapeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got {m} "
                         f"and {Bm.shape[-2] if Bm.ndim >= 2 else Bm.shape}")
    p = prec(A, precision)
    X = jnp.matmul(jnp.linalg.pinv(A, rtol=rtol), Bm, precision=p)
    if m > n and driver != "gelsy":
        r = jnp.matmul(A, X, precision=p) - Bm
        res = jnp.sum((r.real * r.real + r.imag * r.imag) if jnp.iscomplexobj(r) else r * r, -2)
        res = res[..., 0] if vector else res
    else:
        res = jnp.zeros((0,), jnp.finfo(A.dtype).dtype)
    if driver == "gels":
        rank = jnp.zeros((0,), jnp.int64)
    else:
        S = jnp.linalg.svd(jax.lax.stop_gradient(A), compute_uv=False)
        rank = jnp.sum(S > rtol * jnp.max(S, -1, keepdims=True), -1).astype(jnp.int64)
    return (X[..., 0] if vector else X), res, rank


@register("_linalg_lstsq_sv", differentiable=False, method=False, function=False)
def _lstsq_singular_values(A, rcond=None, *, driver=None):
    """lstsq's singular_values output (not differentiable in torch): filled for gelsd/gelss."""
    driver, _ = _lstsq_setup(A, None, rcond, driver)
    if driver in ("gelsd", "gelss"):
        return jnp.linalg.svd(A, compute_uv=False)
    return jnp.zeros((0,), jnp.finfo(A.dtype).dtype)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` for ``(*, m, n)`` A and ``(*, m, k)`` (or ``(*, m)``) B.

    Returns ``(solution, residuals, rank, singular_values)`` like torch on CPU: ``rank`` unless
    ``driver='gels'``, ``singular_values`` for 'gelsd'/'gelss', ``residuals`` (squared) for
    ``m > n`` with drivers other than the default 'gelsy' (assuming full rank); others are empty.
    """
    sol, res, rank = REGISTRY["linalg_lstsq"].call(A, B, rcond, driver=driver)
    sv = REGISTRY["_linalg_lstsq_sv"].call(A, rcond, driver=driver)
    return _LstsqResult(sol, res, rank, sv)


register("linalg_lstsq", nin=2, method=False, function=False, torch_name="linalg.lstsq",
         precision=True, saves=(0, 1), impl=lstsq,
         samples=lambda: [Sample(A(5, 3), A(5, 2)), Sample(A(5, 3), A(5)),
                          Sample(A(5, 3, dtype="float64"), A(5, 2, dtype="float64"), driver="gelsd"),
                          Sample(A(2, 4, 3), A(2, 4, 1), driver="gels"),
                          Sample(_sym(3, dtype="float32"), A(3, 2)),
                          Sample(A(5, 3), A(4, 2)), Sample(A(5, 3), A(5, 2), driver="x")])(_lstsq_kernel)


# ----- products living in linalg -----------------------------------------------------------------
@register("linalg_cross", nin=2, method=False, function=False, torch_name="linalg.cross",
          saves=(0, 1),
          samples=lambda: [Sample(A(4, 3), A(4, 3)), Sample(A(3, 2), A(3, 2), dim=0),
                           Sample(A(2, 3), A(1, 3)), Sample(I(2, 3), I(2, 3)), Sample(A(4, 2), A(4, 2)),
                           Sample(A(4, 3), A(3))])
def linalg_cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim`` (default -1), broadcasting (torch.linalg.cross)."""
    return cross_kernel("linalg.cross", input, other, dim)


@register("linalg_vecdot", nin=2, method=False, function=False, torch_name="linalg.vecdot",
          precision=True, saves=(0, 1),
          samples=lambda: [Sample(A(3, 4), A(4)), Sample(A(2, 3), A(2, 3), dim=0),
                           Sample(A(3, dtype="complex64"), A(3, dtype="complex64")),
                           Sample(A(2, 3), A(2, 4))])
def linalg_vecdot(x, y, *, dim=-1, precision=None):
    """``sum(conj(x) * y, dim)`` with broadcasting (torch.linalg.vecdot)."""
    same_dtype("linalg.vecdot", x, y)
    nd = max(x.ndim, y.ndim)
    d = norm_dim(dim, nd, "linalg.vecdot")
    shape = jnp.broadcast_shapes(x.shape, y.shape)
    x, y = jnp.broadcast_to(x, shape), jnp.broadcast_to(y, shape)
    x, y = jnp.moveaxis(x, d, -1), jnp.moveaxis(y, d, -1)
    return jnp.einsum("...i,...i->...", jnp.conj(x), y, precision=prec(x, precision))


def _md_samples():
    return [Sample([A(2, 3), A(3, 4)]), Sample([A(3), A(3, 4), A(4, 2), A(2)]),
            Sample([A(3), A(3, 2)]), Sample([A(2, 3, dtype="float64"), A(3, 3, dtype="float64"),
                                             A(3, dtype="float64")]),
            Sample([A(3)]), Sample([A(2, 3, 3), A(3, 4)]), Sample([A(3, 3), A(2, 3, 4)]),
            Sample([A(3), A(3, dtype="float64")]), Sample([A(2, 3), A(4, 2)])]


@register("linalg_multi_dot", seq=True, method=False, function=False, torch_name="linalg.multi_dot",
          precision=True, samples=_md_samples)
def linalg_multi_dot(*tensors, precision=None):
    """The chained product ``tensors[0] @ tensors[1] @ ...`` in the cheapest order.

    The first and last tensors may be 1-D (treated as row / column vectors, the dim dropped in
    the result); the others must be 2-D.
    """
    n = len(tensors)
    if n < 2:
        raise ShapeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, t in enumerate(tensors):
        if t.dtype != tensors[0].dtype:
            raise DTypeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                             f"{tname(tensors[0].dtype)} and tensor {i} {tname(t.dtype)}")
        edge = "first" if i == 0 else "last" if i == n - 1 else None
        if edge and t.ndim not in (1, 2):
            raise ShapeError(f"multi_dot(): the {edge} tensor must be 1D or 2D but got {t.ndim}D")
        if edge is None and t.ndim != 2:
            raise ShapeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    same_dtype("multi_dot", *tensors)
    mats = [tensors[0][None] if tensors[0].ndim == 1 else tensors[0], *tensors[1:-1],
            tensors[-1][:, None] if tensors[-1].ndim == 1 else tensors[-1]]
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ShapeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} "
                             f"and {list(tensors[i + 1].shape)} cannot be multiplied")
    return jnp.linalg.multi_dot(list(tensors), precision=prec(tensors[0], precision))
