"""The sparse tensor classes' common base: a :class:`Tensor` subclass whose data is its parts.

A sparse tensor keeps its parts (index tensors and a ``values`` tensor) as ordinary minitorch_jax
tensors. Autograd runs on the ``values`` tensor: ``S.requires_grad``, ``S.grad_fn`` and
``S.is_leaf`` are those of ``S.values()``, and ``S.grad`` is a sparse tensor with ``S``'s indices
holding ``values().grad`` (torch's "masked" gradient; torch gives a dense ``.grad`` for ``S @ D``
through ``mm``/``matmul``, here it is always the masked one).

Dense ops never see a sparse tensor's values: reading its dense array (what every op in the op
table does) raises torch's ``NotImplementedError: Could not run 'aten::<op>' with arguments from
the 'SparseCPU' backend``.
"""

from __future__ import annotations

import jax

from .. import _dtype
from .._ops._registry import calling_op
from .._tensor import Size, Tensor, _wrap

__all__ = ["SparseBase", "SparseOperand", "is_traced", "backend_error"]


def is_traced(t: Tensor) -> bool:
    """True while ``t``'s array is a jax tracer (inside ``mt.jit``)."""
    return isinstance(t._data, jax.core.Tracer)


class SparseOperand(NotImplementedError):
    """Raised when an op-table op reads a sparse tensor's (nonexistent) dense array: torch's
    "Could not run 'aten::<op>' with arguments from the 'SparseCPU' backend" error.

    The op table can catch it and call :meth:`dispatch`, which runs the op's sparse kernel
    (``mt.add(dense, sparse)``, ``dense @ sparse`` ...) or re-raises this error when there is none.
    """

    def __init__(self, msg: str, opname: str):
        super().__init__(msg)
        self.opname = opname

    def dispatch(self, args, kwargs):
        """Run the sparse kernel of ``self.opname`` on the op's arguments, or re-raise."""
        from ._dispatch import KERNELS
        fn = KERNELS.get(self.opname)
        if fn is None:
            raise self
        return fn(*args, **kwargs)


def backend_error(opname: str, backend: str = "SparseCPU") -> NotImplementedError:
    """torch's error for an op that has no kernel for a sparse layout."""
    return SparseOperand(
        f"Could not run 'aten::{opname}' with arguments from the '{backend}' backend. This could be "
        f"because the operator doesn't exist for this backend (minitorch_jax supports only a subset "
        f"of ops on sparse tensors; call .to_dense() first).", opname)


class SparseBase(Tensor):
    """Common machinery of :class:`SparseCooTensor` and :class:`SparseCsrTensor` (not public)."""

    _backend = "SparseCPU"
    _layout_word = "Sparse"

    # -- construction -----------------------------------------------------------------------
    def _setup(self, values: Tensor, size) -> None:
        d = self.__dict__
        d["_vals"] = values
        d["_size"] = tuple(int(s) for s in size)
        d["_version"] = 0
        d["_output_nr"] = 0
        d["_retains_grad"] = False
        d["_hooks"] = None
        d["_acc"] = None

    # -- the dense array does not exist -------------------------------------------------------
    @property
    def _data(self):
        op = calling_op("_base.py")
        if op == "<jit>":
            raise TypeError(f"mt.jit: a {self.layout} tensor cannot be an input or output of a compiled "
                            f"function; pass its index and value tensors and build it inside (sparse @ dense "
                            f"then compiles for a fixed nnz)")
        raise backend_error(op, self._backend)

    @_data.setter
    def _data(self, value):
        raise backend_error("set_", self._backend)

    # -- pytree view: the parts are the children ---------------------------------------------
    def _flatten(self):
        """``(parts, aux)``: the part tensors and a hashable static description (see ``_unflatten``)."""
        return self._parts(), (type(self), self._size, self._aux())

    @staticmethod
    def _unflatten(aux, parts):
        """Rebuild a sparse tensor from ``_flatten``'s ``aux`` and (new) part tensors."""
        cls, size, extra = aux
        return cls._from_parts(parts, size, extra)

    # -- metadata -------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The (dense) shape of the sparse tensor."""
        return Size(self._size)

    def size(self, dim=None):
        """The shape as a :class:`Size`, or one dimension's length."""
        if dim is None:
            return Size(self._size)
        n = len(self._size)
        if not -n <= dim < n:
            raise IndexError(f"size(): Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got {dim})")
        return self._size[dim]

    @property
    def ndim(self) -> int:
        """Number of dimensions (sparse plus dense)."""
        return len(self._size)

    def dim(self) -> int:
        """Number of dimensions (sparse plus dense)."""
        return len(self._size)

    ndimension = dim

    def numel(self) -> int:
        """Number of elements of the dense equivalent."""
        return Size(self._size).numel()

    nelement = numel

    def __len__(self) -> int:
        if not self._size:
            raise TypeError("len() of a 0-d tensor")
        return self._size[0]

    @property
    def dtype(self):
        """Element type of the values."""
        return self._vals.dtype

    @property
    def device(self):
        """Device of the values."""
        return self._vals.device

    @property
    def is_cuda(self) -> bool:
        """True if the values live on a GPU."""
        return self._vals.is_cuda

    def element_size(self) -> int:
        """Bytes per value element."""
        return self._vals.element_size()

    def is_floating_point(self) -> bool:
        """True for floating point values."""
        return self._vals.is_floating_point()

    def is_complex(self) -> bool:
        """True for complex values."""
        return self._vals.is_complex()

    def _nnz(self) -> int:
        """Number of stored (specified) elements."""
        return self._vals.shape[0]

    def dense_dim(self) -> int:
        """Number of dense dimensions (the trailing dims of ``values``)."""
        return self._vals.ndim - 1

    # -- autograd: delegated to the values tensor -------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether the values require grad."""
        return self._vals.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        self._vals.requires_grad_(bool(flag))

    @property
    def grad_fn(self):
        """The values' ``grad_fn``."""
        return self._vals.grad_fn

    @grad_fn.setter
    def grad_fn(self, value) -> None:
        self._vals.grad_fn = value

    @property
    def _grad(self):
        g = self._vals._grad
        return None if g is None else self._with_values(g)

    @_grad.setter
    def _grad(self, value) -> None:
        if value is not None and isinstance(value, SparseBase):
            value = value._vals
        self._vals._grad = value

    @property
    def grad(self):
        """The gradient: a sparse tensor with this tensor's indices holding ``values().grad``."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None and not isinstance(value, type(self)):
            raise TypeError(f"assigned grad to a {self.layout} tensor must be a {self.layout} tensor "
                            f"with the same indices, got {type(value).__name__}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._vals._grad = None

    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` of the values in place; returns ``self``."""
        self._vals.requires_grad_(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` of the (non-leaf) values after backward."""
        self._vals.retain_grad()

    def backward(self, *args, **kwargs):
        """Not supported: backward starts from a dense result (e.g. ``mt.sparse.sum(S)``)."""
        raise RuntimeError(f"backward(): cannot start backward from a {self.layout} tensor; reduce it "
                           f"to a dense tensor first (e.g. mt.sparse.sum(S))")

    # -- conversions shared by the layouts ----------------------------------------------------
    def detach(self):
        """The same sparse tensor cut from the autograd graph."""
        return self._with_values(self._vals.detach())

    def detach_(self):
        """Cut the values from the graph in place; returns ``self``."""
        self._vals.detach_()
        return self

    def clone(self, *, memory_format=None):
        """A copy (values cloned, so the copy stays in the graph)."""
        return self._with_values(self._vals.clone())

    def to(self, *args, **kwargs):
        """``.to(dtype)`` / ``.to(device)``: converts the values (indices keep int64)."""
        v = self._vals.to(*args, **kwargs)
        return self if v is self._vals else self._with_values(v)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """``type(dtype)`` converts the values; ``type()`` names the sparse tensor type."""
        if dtype is None:
            return "minitorch_jax.sparse." + Tensor.type(_wrap_like(self._vals)).split(".")[-1]
        return self.to(dtype)

    def double(self):
        """Values as float64."""
        return self.to(_dtype.float64)

    def float(self):
        """Values as float32."""
        return self.to(_dtype.float32)

    def half(self):
        """Values as float16."""
        return self.to(_dtype.float16)

    def cpu(self):
        """``self`` on the CPU."""
        return self.to("cpu")

    def numpy(self, *, force: bool = False):
        """Refused as in torch: convert with ``to_dense()`` first."""
        raise TypeError(f"can't convert {self._layout_word} layout tensor to numpy. Use Tensor.to_dense() "
                        f"first.")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    def register_hook(self, hook):
        """Call ``hook(grad)`` with the sparse gradient when the values' gradient is computed; a
        returned sparse tensor replaces it. Returns a removable handle."""
        def on_values(g):
            r = hook(self._with_values(g))
            return r._vals if isinstance(r, SparseBase) else r
        return self._vals.register_hook(on_values)

    def __reduce_ex__(self, protocol):
        return self._reduce()

    def __deepcopy__(self, memo):
        out = self._with_values(self._vals.__deepcopy__(memo), copy_index=True)
        memo[id(self)] = out
        return out

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {list(self._size)})")
        return bool(self.to_dense())

    def __neg__(self):
        return self._with_values(-self._vals)

    def neg(self):
        """Negated values."""
        return -self

    def __mul__(self, other):
        from ._math import mul
        return mul(self, other)

    def __rmul__(self, other):
        from ._math import mul
        return mul(self, other)

    mul = __mul__

    def __truediv__(self, other):
        from ._math import div
        return div(self, other)

    div = __truediv__

    def __add__(self, other):
        from ._math import add
        return add(self, other)

    def __radd__(self, other):  # dense + sparse (tried before the dense __add__: a subclass)
        from ._math import add
        return add(other, self)

    def __rsub__(self, other):  # dense - sparse
        from ._math import add
        return add(other, self, alpha=-1)

    def add(self, other, *, alpha=1):
        """``self + alpha * other`` (other sparse of the same layout and shape, or dense)."""
        from ._math import add
        return add(self, other, alpha=alpha)

    def __sub__(self, other):
        from ._math import add
        return add(self, other, alpha=-1)

    sub = __sub__

    def __matmul__(self, other):
        from ._math import matmul
        return matmul(self, other)

    def __rmatmul__(self, other):
        from ._math import matmul
        return matmul(other, self)

    def matmul(self, other):
        """``self @ other``: sparse @ dense gives a dense result."""
        from ._math import matmul
        return matmul(self, other)

    def mm(self, mat2):
        """2-D ``self @ mat2``."""
        from ._math import mm
        return mm(self, mat2)

    def mv(self, vec):
        """``self @ vec`` for a 1-D dense ``vec``."""
        from ._math import mv
        return mv(self, vec)

    def smm(self, mat):
        """``self @ mat`` as a sparse COO tensor."""
        from ._math import smm
        return smm(self, mat)

    def sum(self, dim=None, keepdim=False, dtype=None):
        """Sum of the specified values: a dense scalar without ``dim``; see :func:`mt.sparse.sum`."""
        from ._math import sparse_sum
        if keepdim:
            raise RuntimeError("sum(): keepdim=True is not supported for sparse tensors")
        return sparse_sum(self, dim, dtype=dtype)

    def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None):
        """Convert to another sparse layout (COO by default)."""
        from .._ops._layouts import sparse_coo, sparse_csr, strided
        if layout is None or layout is sparse_coo:
            return self.to_sparse_coo()
        if layout is sparse_csr:
            return self.to_sparse_csr()
        if layout is strided:
            return self.to_dense()
        raise NotImplementedError(f"to_sparse(): conversion to {layout} is not supported")


def _wrap_like(t: Tensor) -> Tensor:
    return _wrap(t._data)
