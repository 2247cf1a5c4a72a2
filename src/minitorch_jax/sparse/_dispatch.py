"""Sparse kernels of op-table ops, by op name: what :meth:`SparseOperand.dispatch` runs when an op
such as ``mt.add(dense, sparse)`` or ``dense @ sparse`` meets a sparse operand (the op table
catches the error and hands over; every other op keeps torch's NotImplementedError)."""

from __future__ import annotations

from ._base import SparseBase
from ._math import add, addmm, matmul, mm, mul, mv, to_coo

__all__ = ["KERNELS"]


def _add(input, other, *, alpha=1, out=None):
    if out is not None:
        raise RuntimeError("add(): out= is not supported with sparse operands")
    return add(input, other, alpha=alpha)


def _sub(input, other, *, alpha=1, out=None):
    return _add(input, other, alpha=-alpha, out=out)


def _mul(input, other, *, out=None):
    if isinstance(input, SparseBase):
        return mul(input, other)
    return mul(other, input)  # dense * sparse: sparse result, as in torch


KERNELS = {
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "matmul": lambda a, b, *, out=None: matmul(a, b),
    "mm": lambda a, b, *, out=None: mm(a, b),
    "mv": lambda a, v, *, out=None: mv(a, v),
    "addmm": lambda input, m1, m2, *, beta=1, alpha=1, out=None: addmm(input, m1, m2, beta=beta, alpha=alpha),
    "to_dense": lambda s, dtype=None, **kw: to_coo(s).to_dense(dtype),
}
