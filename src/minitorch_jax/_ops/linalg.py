"""Matrix products: matmul, mm, bmm, mv, dot, einsum, tensordot, addmm... (float32 precision honoured).

Every op that multiplies floats is registered with ``precision=True``: the dispatcher passes the
global ``mt.set_float32_matmul_precision`` level as ``precision=`` and it reaches XLA for float32
and complex64 inputs (other dtypes are computed exactly as their dtype allows). Like torch, the
products require both operands to have the same dtype (no promotion); shape errors are raised at
trace time with torch's wording. The decompositions of ``mt.linalg`` live in ``linalg_decomp``.
"""

from __future__ import annotations

import types

import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, OpTypeError, OpValueError, ShapeError
from ._helpers import A, I, Sample, broadcast_check, norm_dim
from ._registry import REGISTRY, register

_F32 = (np.dtype(np.float32), np.dtype(np.complex64))
_BOOL = np.dtype(np.bool_)
_TORCH_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def tname(dt) -> str:
    """torch's scalar-type name of a dtype (``Float``, ``Double``, ``Long`` ...) for messages."""
    name = jnp.dtype(dt).name
    return _TORCH_NAMES.get(name, name)


def prec(x, precision):
    """The precision to hand XLA: the global setting for float32/complex64, else None."""
    return precision if x.dtype in _F32 else None


def same_dtype(op: str, *xs) -> None:
    """torch's matmul-family rule: all operands share one dtype, and bool is not supported."""
    d = xs[0].dtype
    for x in xs[1:]:
        if x.dtype != d:
            raise DTypeError(f"{op}(): expected all operands to have the same dtype, but got "
                             f"{tname(d)} and {tname(x.dtype)}")
    if d == _BOOL:
        raise DTypeError(f"{op}(): not implemented for 'Bool'")


def _x(shape) -> str:
    return "x".join(str(s) for s in shape)


def _mm_mismatch(op, a_shape, b_shape):
    return ShapeError(f"{op}(): mat1 and mat2 shapes cannot be multiplied "
                      f"({_x(a_shape)} and {_x(b_shape)})")


def _shaped(shape):
    return types.SimpleNamespace(shape=tuple(shape))


def _check_matmul(op, a, b):
    """torch.matmul's shape rules, with the error torch gives for each case."""
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"{op}(): both arguments to matmul need to be at least 1D, but they are "
                         f"{a.ndim}D and {b.ndim}D")
    same_dtype(op, a, b)
    k = a.shape[-1]
    if a.ndim == 1 and b.ndim == 1:
        if k != b.shape[0]:
            raise ShapeError(f"{op}(): inconsistent tensor size, expected tensor [{k}] and src "
                             f"[{b.shape[0]}] to have the same number of elements, but got {k} and "
                             f"{b.shape[0]} elements respectively")
        return
    if b.ndim == 1:
        if k != b.shape[0]:
            rows = int(np.prod(a.shape[:-1]))
            raise ShapeError(f"{op}(): size mismatch, got input ({rows}), mat ({rows}x{k}), "
                             f"vec ({b.shape[0]})")
        return
    kb = b.shape[-2]
    if b.ndim == 2:
        if k != kb:
            rows = int(np.prod(a.shape[:-1]))
            raise _mm_mismatch(op, (rows, k), b.shape)
        return
    batch = broadcast_check(op, _shaped(a.shape[:-2]), _shaped(b.shape[:-2]))
    if k != kb:
        nb = int(np.prod(batch))
        raise ShapeError(f"{op}(): Expected size for first two dimensions of batch2 tensor to be: "
                         f"[{nb}, {k}] but got: [{nb}, {kb}].")


def _need_ndim(op, x, what, n):
    if x.ndim != n:
        kind = {1: "a vector", 2: "a matrix", 3: "a 3D tensor"}[n]
        raise ShapeError(f"{op}(): {what} must be {kind}, but got a {x.ndim}D tensor of shape "
                         f"{list(x.shape)}")


def _check_mm(op, a, b):
    _need_ndim(op, a, "self" if op == "mm" else "mat1", 2)
    _need_ndim(op, b, "mat2", 2)
    same_dtype(op, a, b)
    if a.shape[1] != b.shape[0]:
        raise _mm_mismatch(op, a.shape, b.shape)


def _check_bmm(op, a, b):
    _need_ndim(op, a, "batch1", 3)
    _need_ndim(op, b, "batch2", 3)
    same_dtype(op, a, b)
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise ShapeError(f"{op}(): Expected size for first two dimensions of batch2 tensor to be: "
                         f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")


def _check_mv(op, m, v):
    if m.ndim != 2 or v.ndim != 1:
        raise ShapeError(f"{op}(): vector + matrix @ vector expected, got 1, {m.ndim}, {v.ndim}")
    same_dtype(op, m, v)
    if m.shape[1] != v.shape[0]:
        raise ShapeError(f"{op}(): size mismatch, got input ({m.shape[0]}), mat ({_x(m.shape)}), "
                         f"vec ({v.shape[0]})")


def _check_vectors(op, a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"{op}(): 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    same_dtype(op, a, b)
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"{op}(): inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                         f"[{b.shape[0]}] to have the same number of elements, but got "
                         f"{a.shape[0]} and {b.shape[0]} elements respectively")


# ----- samples ---------------------------------------------------------------------------------
def _matmul_samples():
    return [Sample(A(3, 4), A(4, 5)), Sample(A(4), A(4)), Sample(A(4), A(4, 2)), Sample(A(3, 4), A(4)),
            Sample(A(2, 3, 4), A(4, 5)), Sample(A(2, 1, 3, 4), A(5, 4, 2)), Sample(A(2, 3, 4), A(4)),
            Sample(A(3), A(2, 3, 4)), Sample(A(0, 3), A(3, 2)), Sample(A(2, 0), A(0, 3)),
            Sample(A(3, 4, dtype="float64"), A(4, 2, dtype="float64")), Sample(I(3, 4), I(4, 2)),
            Sample(I(2, 3, dtype="int32"), I(3, dtype="int32")),
            Sample(A(2, 3), A(4, 5)), Sample(A(3), A(4)), Sample(A(2, 3), A(4)), Sample(A(3), A(4, 2)),
            Sample(A(2, 2, 3), A(2, 4, 5)), Sample(A(2, 2, 3), A(3, 3, 5)), Sample(A(), A(3)),
            Sample(A(2, 3), A(3, 4, dtype="float64")), Sample(A(3), A(3, dtype="float64"))]


def _mm_samples():
    return [Sample(A(3, 4), A(4, 5)), Sample(A(1, 1), A(1, 3)), Sample(A(0, 3), A(3, 2)),
            Sample(A(2, 0), A(0, 3)), Sample(A(2, 3, dtype="float64"), A(3, 2, dtype="float64")),
            Sample(I(2, 3), I(3, 2)), Sample(A(2, 3), A(4, 5)), Sample(A(3), A(3, 2)),
            Sample(A(2, 3), A(3, 2, dtype="float64"))]


def _bmm_samples():
    return [Sample(A(2, 3, 4), A(2, 4, 5)), Sample(A(0, 2, 3), A(0, 3, 1)),
            Sample(A(1, 3, 2, dtype="float64"), A(1, 2, 2, dtype="float64")),
            Sample(I(2, 2, 3), I(2, 3, 2)), Sample(A(2, 3), A(3, 2)), Sample(A(2, 2, 3), A(2, 4, 5)),
            Sample(A(2, 2, 3), A(3, 3, 5)), Sample(A(2, 2, 3), A(2, 3, 5, dtype="float64"))]


def _mv_samples():
    return [Sample(A(3, 4), A(4)), Sample(A(0, 2), A(2)), Sample(A(2, 0), A(0)),
            Sample(A(3, 2, dtype="float64"), A(2, dtype="float64")), Sample(I(2, 3), I(3)),
            Sample(A(2, 3), A(4)), Sample(A(2, 3), A(3, 1)), Sample(A(2, 3), A(3, dtype="float64"))]


def _vec_samples():
    return [Sample(A(4), A(4)), Sample(A(0), A(0)), Sample(A(3, dtype="float64"), A(3, dtype="float64")),
            Sample(I(5, dtype="int32"), I(5, dtype="int32")), Sample(A(3), A(4)),
            Sample(A(3, 1), A(3, 1)), Sample(A(3), A(3, dtype="float64")),
            Sample(A(3, dtype="complex64"), A(3, dtype="complex64"))]


# ----- products ----------------------------------------------------------------------------------
@register("matmul", nin=2, dunder="matmul", precision=True, saves=(0, 1), samples=_matmul_samples)
def matmul(input, other, *, precision=None):
    """Matrix product with torch's rules for 1-D, 2-D and batched operands (torch.matmul).

    1-D @ 1-D is a dot product; a 1-D first (second) operand gets a dimension prepended
    (appended) that is removed afterwards; batch dimensions broadcast. Shapes ``(*, n, k)`` and
    ``(*, k, m)`` give ``(*, n, m)``. Both operands must have the same dtype.
    """
    _check_matmul("matmul", input, other)
    return jnp.matmul(input, other, precision=prec(input, precision))


@register("mm", nin=2, precision=True, saves=(0, 1), samples=_mm_samples)
def mm(input, mat2, *, precision=None):
    """Product of matrices ``(n, k)`` and ``(k, m)``, giving ``(n, m)`` (torch.mm); no broadcasting."""
    _check_mm("mm", input, mat2)
    return jnp.matmul(input, mat2, precision=prec(input, precision))


@register("bmm", nin=2, precision=True, saves=(0, 1), samples=_bmm_samples)
def bmm(input, mat2, *, precision=None):
    """Batched matrix product of ``(b, n, k)`` and ``(b, k, m)`` 3-D tensors (torch.bmm)."""
    _check_bmm("bmm", input, mat2)
    return jnp.matmul(input, mat2, precision=prec(input, precision))


@register("mv", nin=2, precision=True, saves=(0, 1), samples=_mv_samples)
def mv(input, vec, *, precision=None):
    """Matrix ``(n, m)`` times vector ``(m,)``, giving ``(n,)`` (torch.mv)."""
    _check_mv("mv", input, vec)
    return jnp.matmul(input, vec, precision=prec(input, precision))


@register("dot", nin=2, precision=True, saves=(0, 1), samples=_vec_samples)
def dot(input, other, *, precision=None):
    """Dot product of two 1-D tensors of the same size and dtype (torch.dot); no conjugation."""
    _check_vectors("dot", input, other)
    return jnp.dot(input, other, precision=prec(input, precision))


@register("vdot", nin=2, precision=True, saves=(0, 1), samples=_vec_samples)
def vdot(input, other, *, precision=None):
    """Dot product of 1-D tensors conjugating the first one: ``sum(conj(input) * other)``."""
    _check_vectors("vdot", input, other)
    return jnp.vdot(input, other, precision=prec(input, precision))


def _inner_samples():
    return [Sample(A(3, 4), A(4)), Sample(A(2, 3), A(4, 3)), Sample(A(4), A(4)), Sample(A(), A(2, 3)),
            Sample(A(2, 3), A()), Sample(I(2, 3), I(3)), Sample(A(2, 0), A(3, 0)),
            Sample(A(2, 3), A(4)), Sample(A(2, 3), A(3, dtype="float64"))]


@register("inner", nin=2, precision=True, saves=(0, 1), samples=_inner_samples)
def inner(input, other, *, precision=None):
    """Sum of products over the last dimension of both tensors (torch.inner).

    Shapes ``(*a, k)`` and ``(*b, k)`` give ``(*a, *b)``; a 0-d operand multiplies elementwise.
    """
    same_dtype("inner", input, other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(f"inner(): the last dimension must match on both input tensors but got "
                         f"shapes {list(input.shape)} and {list(other.shape)}")
    return jnp.inner(input, other, precision=prec(input, precision))


def _outer_samples():
    return [Sample(A(3), A(4)), Sample(A(0), A(2)), Sample(A(2), A(3, dtype="float64")),
            Sample(I(3, dtype="int32"), A(2)), Sample(I(2), I(3)), Sample(A(2, 3), A(3))]


@register("outer", nin=2, promote="common", saves=(0, 1), samples=_outer_samples, aliases=("ger",))
def outer(input, vec2):
    """Outer product of 1-D tensors ``(n,)`` and ``(m,)``, giving ``(n, m)``; dtypes promote."""
    for x, what in ((input, "self"), (vec2, "vec2")):
        if x.ndim != 1:
            raise ShapeError(f"outer(): Expected 1-D argument {what}, but got {x.ndim}-D")
    return input[:, None] * vec2[None, :]


# ----- einsum and tensordot ----------------------------------------------------------------------
def _einsum_kernel(*operands, equation, precision=None):
    """The traced einsum: all operands share one dtype (as in torch)."""
    if not operands:
        raise OpValueError("einsum(): must provide at least one operand")
    same_dtype("einsum", *operands)
    return jnp.einsum(equation, *operands, precision=prec(operands[0], precision))


def einsum(equation, *operands):
    """Sum of products over the indices of ``equation`` (torch.einsum).

    Args:
        equation: subscripts such as ``"bij,bjk->bik"``; ``...`` stands for broadcast dims and an
            omitted ``->`` sums the repeated letters (output letters sorted).
        operands: the tensors, either as separate arguments or as one list.

    Example: ``mt.einsum("ij,jk->ik", a, b)`` is ``a @ b``.
    """
    if not isinstance(equation, str):
        raise OpTypeError("einsum(): the sublist format is not supported; pass an equation string "
                          f"first, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    return REGISTRY["einsum"].call(*operands, equation=equation)


def _einsum_samples():
    return [Sample("ij,jk->ik", A(2, 3), A(3, 4)), Sample("ij,jk", [A(2, 3), A(3, 4)]),
            Sample("bij,bjk->bik", A(2, 2, 3), A(2, 3, 2)), Sample("ii->i", A(3, 3)),
            Sample("ii", A(3, 3)), Sample("...ij->...ji", A(2, 3, 4)), Sample("i,j->ij", A(3), A(2)),
            Sample("i,i->", A(4, dtype="float64"), A(4, dtype="float64")),
            Sample("ij,jk,kl->il", A(2, 3), A(3, 4), A(4, 2)), Sample("ij->", I(2, 3)),
            Sample("ij,jk->ik", A(2, 3), A(4, 4)), Sample("ij,jk->ik", A(2, 3), A(3, 4, dtype="float64")),
            Sample("ii", A(2, 3)), Sample("ij,jk->ik", A(2, 3))]


register("einsum", nin=-1, precision=True, method=False, impl=einsum,
         samples=_einsum_samples)(_einsum_kernel)


def _tensordot_axes(a, b, dims):
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise ShapeError(f"tensordot(): tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise ShapeError(f"tensordot(): tensordot expects dims < ndim_a or ndim_b, but got "
                             f"dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims)), dims
    if not (isinstance(dims, tuple) and len(dims) == 2
            and all(isinstance(d, tuple) for d in dims)):
        raise OpTypeError(f"tensordot(): dims must be an int or a pair of lists of ints, got {dims!r}")
    da, db = dims
    if len(da) != len(db):
        raise ShapeError(f"tensordot(): both dimension lists should have same length, got {list(da)} "
                         f"and {list(db)}")
    return list(da), list(db), None


@register("tensordot", nin=2, precision=True, method=False, saves=(0, 1),
          samples=lambda: [Sample(A(2, 3, 4), A(3, 4, 5)), Sample(A(2, 3), A(3, 4), 1),
                           Sample(A(2, 3), A(4, 5), 0), Sample(A(2, 3, 4), A(4, 2, 3), ([0, 2], [1, 0])),
                           Sample(A(2, 3, dtype="float64"), A(3, 2, dtype="float64"), dims=([1], [0])),
                           Sample(I(2, 3), I(3, 2), 1), Sample(A(2, 3), A(4, 4), 1),
                           Sample(A(2, 3), A(3, 4), -1), Sample(A(2, 3), A(3, 4), 3),
                           Sample(A(2, 3), A(3, 4, dtype="float64"), 1)])
def tensordot(a, b, dims=2, *, precision=None):
    """Contract ``dims`` dimensions of ``a`` and ``b`` (torch.tensordot).

    Args:
        dims: an int ``d`` (the last ``d`` dims of ``a`` with the first ``d`` of ``b``) or a pair of
            lists ``([dims of a], [dims of b])`` (a 2-row tensor also works).
    """
    same_dtype("tensordot", a, b)
    da, db, n = _tensordot_axes(a, b, dims)
    da = [norm_dim(d, a.ndim, "tensordot") for d in da]
    db = [norm_dim(d, b.ndim, "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise ShapeError(f"tensordot(): contracted dimensions need to match, but first has size "
                             f"{a.shape[x]} in dim {x - a.ndim if n is not None else x} and second "
                             f"has size {b.shape[y]} in dim {y}")
    return jnp.tensordot(a, b, axes=(da, db), precision=prec(a, precision))


# ----- fused multiply-adds ---------------------------------------------------------------------
def _axpby(op, input, prod, beta, alpha):
    """``beta * input + alpha * prod`` with torch's rules: input expands to the product's shape and
    is ignored (NaNs included) when beta is 0."""
    ins, outs = input.shape, prod.shape
    if len(ins) > len(outs) or any(i not in (1, o) for i, o in zip(ins[::-1], outs[::-1])):
        raise ShapeError(f"{op}(): The expanded size of the tensor ({list(input.shape)}) must match "
                         f"the result size {list(prod.shape)}")
    if input.dtype != prod.dtype:
        raise DTypeError(f"{op}(): self and mat2 must have the same dtype, but got "
                         f"{tname(input.dtype)} and {tname(prod.dtype)}")
    dt = prod.dtype
    if alpha != 1:
        prod = (prod * jnp.asarray(alpha, dt) if jnp.issubdtype(dt, jnp.inexact)
                else prod * int(alpha))
    if beta == 0:
        return prod
    term = input if beta == 1 else input * (jnp.asarray(beta, dt) if jnp.issubdtype(dt, jnp.inexact)
                                            else int(beta))
    return (term + prod).astype(dt)


def _addmm_samples():
    return [Sample(A(2, 4), A(2, 3), A(3, 4)), Sample(A(4), A(2, 3), A(3, 4), beta=0.5, alpha=2.0),
            Sample(A(1, 1), A(2, 3), A(3, 4), beta=0), Sample(A(2, 2, dtype="float64"),
                                                             A(2, 3, dtype="float64"),
                                                             A(3, 2, dtype="float64"), alpha=-1),
            Sample(I(2, 2), I(2, 3), I(3, 2), beta=2, alpha=3), Sample(A(3, 2), A(2, 3), A(3, 2)),
            Sample(A(2, 3), A(2, 3), A(4, 3)), Sample(A(2, 2, dtype="float64"), A(2, 3), A(3, 2))]


@register("addmm", nin=3, precision=True, inplace=True, saves=(1, 2), samples=_addmm_samples)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, precision=None):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices; ``input`` broadcasts to ``(n, m)``."""
    _check_mm("addmm", mat1, mat2)
    return _axpby("addmm", input, jnp.matmul(mat1, mat2, precision=prec(mat1, precision)), beta, alpha)


@register("addmv", nin=3, precision=True, inplace=True, saves=(1, 2),
          samples=lambda: [Sample(A(2), A(2, 3), A(3)), Sample(A(1), A(2, 3), A(3), beta=2, alpha=0.5),
                           Sample(A(2, dtype="float64"), A(2, 3, dtype="float64"), A(3, dtype="float64"),
                                  beta=0),
                           Sample(I(2), I(2, 3), I(3)), Sample(A(2), A(2, 3), A(4))])
def addmv(input, mat, vec, *, beta=1, alpha=1, precision=None):
    """``beta * input + alpha * (mat @ vec)``; ``input`` broadcasts to ``(n,)``."""
    _check_mv("addmv", mat, vec)
    return _axpby("addmv", input, jnp.matmul(mat, vec, precision=prec(mat, precision)), beta, alpha)


@register("addbmm", nin=3, precision=True, inplace=True, saves=(1, 2),
          samples=lambda: [Sample(A(2, 2), A(4, 2, 3), A(4, 3, 2)),
                           Sample(A(2), A(3, 2, 3), A(3, 3, 2), beta=0.5, alpha=2),
                           Sample(A(2, 2, dtype="float64"), A(2, 2, 3, dtype="float64"),
                                  A(2, 3, 2, dtype="float64"), beta=0),
                           Sample(A(2, 2), A(0, 2, 3), A(0, 3, 2))])
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, precision=None):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])`` for 3-D batches; result ``(n, m)``."""
    _check_bmm("addbmm", batch1, batch2)
    prod = jnp.einsum("bij,bjk->ik", batch1, batch2, precision=prec(batch1, precision))
    return _axpby("addbmm", input, prod.astype(batch1.dtype), beta, alpha)


@register("baddbmm", nin=3, precision=True, inplace=True, saves=(1, 2),
          samples=lambda: [Sample(A(2, 2, 2), A(2, 2, 3), A(2, 3, 2)),
                           Sample(A(2, 1), A(3, 2, 3), A(3, 3, 1), beta=0.5, alpha=2),
                           Sample(A(2, 2, dtype="float64"), A(2, 2, 3, dtype="float64"),
                                  A(2, 3, 2, dtype="float64"), beta=0),
                           Sample(A(2, 3, 2), A(2, 2, 3), A(2, 3, 2))])
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, precision=None):
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches; ``input`` broadcasts."""
    _check_bmm("baddbmm", batch1, batch2)
    prod = jnp.matmul(batch1, batch2, precision=prec(batch1, precision))
    return _axpby("baddbmm", input, prod, beta, alpha)


# ----- kron, cross, trace -----------------------------------------------------------------------
@register("kron", nin=2, promote="common", saves=(0, 1),
          samples=lambda: [Sample(A(2, 3), A(2, 2)), Sample(A(2, 3), A(3, dtype="float64")),
                           Sample(I(2, dtype="int32"), A(3)), Sample(A(2, 1, 2), A(3, 2)),
                           Sample(A(), A(2)), Sample(I(2, 2), I(2, 2))])
def kron(input, other):
    """Kronecker product; the operand with fewer dims gets leading 1s (torch.kron)."""
    return jnp.kron(input, other)


def cross_kernel(op, input, other, dim):
    """The cross product of 3-vectors along ``dim`` (shared by torch.cross and linalg.cross)."""
    if input.ndim != other.ndim:
        raise ShapeError(f"{op}: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise DTypeError(f"{op}: expected scalar type {tname(input.dtype)} but found "
                         f"{tname(other.dtype)}")
    broadcast_check(op, input, other)
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"{op}: no dimension of size 3 in input of shape {list(input.shape)}")
    d = norm_dim(dim, input.ndim, op)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(f"{op}: inputs dimension {dim} must have length 3. Got {input.shape[d]} "
                         f"and {other.shape[d]}")
    return jnp.cross(input, other, axis=d)


def _cross_samples():
    return [Sample(A(4, 3), A(4, 3), dim=1), Sample(A(3, 2), A(3, 2), dim=0), Sample(A(2, 3), A(1, 3), 1),
            Sample(A(3, dtype="float64"), A(3, dtype="float64"), dim=-1), Sample(I(2, 3), I(2, 3), dim=1),
            Sample(A(4, 2), A(4, 2), dim=1), Sample(A(2, 3), A(2, 3, dtype="float64"), dim=1),
            Sample(A(4, 3), A(3), dim=-1)]


@register("cross", nin=2, saves=(0, 1), samples=_cross_samples)
def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3), broadcasting."""
    return cross_kernel("cross", input, other, dim)


@register("trace", samples=lambda: [Sample(A(3, 3)), Sample(A(2, 4)), Sample(I(3, 2, dtype="int32")),
                                    Sample(A(0, 0)), Sample(A(3, 3, dtype="float64")), Sample(A(3))])
def trace(input):
    """Sum of the main diagonal of a 2-D tensor; integers sum to int64 (torch.trace)."""
    if input.ndim != 2:
        raise ShapeError(f"trace(): expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype == _BOOL:
        raise DTypeError("trace(): not implemented for 'Bool'")
    dt = input.dtype if jnp.issubdtype(input.dtype, jnp.inexact) else jnp.dtype(jnp.int64)
    return jnp.trace(input, dtype=dt)


def _tri_indices(op, row, col, offset, dtype, lower):
    from .. import _dtype
    if row < 0 or col < 0:
        raise ShapeError(f"{op}(): row and col must be non-negative, got {row} and {col}")
    fn = np.tril_indices if lower else np.triu_indices
    r, c = fn(row, offset, col)
    dt = _dtype.to_np(dtype) if dtype is not None else np.dtype(np.int64)
    return jnp.asarray(np.stack([r, c]).astype(dt), dt)


def _tri_samples():
    return [Sample(3, 3), Sample(4, 3, 1), Sample(3, 5, -1), Sample(0, 0), Sample(3, 4, 10)]


@register("tril_indices", nin=0, method=False, differentiable=False, samples=_tri_samples)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices ``(2, N)`` of the lower triangle of a ``row x col`` matrix (row-major order).

    Args:
        offset: which diagonal bounds the triangle (0 the main one, >0 above, <0 below).
        dtype: index dtype (default int64).
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, True)


@register("triu_indices", nin=0, method=False, differentiable=False, samples=_tri_samples)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """Indices ``(2, N)`` of the upper triangle of a ``row x col`` matrix (row-major order)."""
    return _tri_indices("triu_indices", row, col, offset, dtype, False)


def install() -> None:
    """``@`` accepts Tensors only, as in torch (``t @ 2`` raises TypeError)."""
    from .._tensor import Tensor

    f = REGISTRY["matmul"].call

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return f(self, other)

    def __rmatmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return f(other, self)

    Tensor.__matmul__ = __matmul__
    Tensor.__rmatmul__ = __rmatmul__


from . import linalg_decomp  # noqa: E402,F401  (registers the mt.linalg ops)
