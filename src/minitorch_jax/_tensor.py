"""``Tensor``: one ``jax.Array`` plus the autograd state torch keeps beside it.

Everything that computes is in the op table (``_ops``), which installs itself on this class as
methods and operators. This file holds only what is about the object itself: data access,
conversions, autograd bookkeeping and printing.
"""

from __future__ import annotations

import itertools
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtype
from ._device import device as _device
from ._device import from_jax
from ._errors import TracedValueError
from ._meta import is_meta_array, no_data

_Tracer = jax.core.Tracer
_META = _device("meta")

__all__ = ["Tensor", "Size"]


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints like ``torch.Size``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"minitorch_jax.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r


def _np_dtype_name(d) -> str:
    return _dtype.from_np(d).name


class Tensor:
    """A multi-dimensional array with autograd, backed by one ``jax.Array``.

    Build tensors with :func:`minitorch_jax.tensor` and the other creation functions.
    ``Tensor(data)`` also works (data is converted to the default float dtype), and
    ``Tensor(2, 3)`` makes an uninitialised (zero-filled) 2x3 float tensor, as in torch.

    JAX arrays are immutable: in-place methods (``add_`` ...) rebind this tensor's array and
    bump its version counter. Views (``x[0]``, ``x.view(...)``, ``x.t()``, ``x.chunk(2)``) hold their
    own array and remember their base: writing into a view writes its base, and a view re-reads a
    base changed in place (see ``_ops/views.py``).
    """

    __slots__ = ("_data", "requires_grad", "grad_fn", "_grad", "_version", "_output_nr",
                 "_retains_grad", "_hooks", "_acc", "__weakref__", "__dict__")
    # as torch.Tensor: numpy scalars/arrays on the left (``np.float64(0.3) * t``) defer to our
    # reflected operators instead of turning the tensor into a float64 ndarray (losing autograd)
    __array_priority__ = 1000
    # a view's ViewInfo (set in the instance's __dict__ by the view ops; see _ops/views.py)
    _view = None

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            src = args[0]
            arr = src._data.astype(d.np) if isinstance(src, Tensor) else jnp.asarray(
                np.asarray(src, dtype=d.np))
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
            arr = jnp.zeros(tuple(int(s) for s in shape), d.np)
        _init(self, arr, requires_grad)

    # ----- data access -----------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The tensor's shape, a :class:`Size`."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> _dtype.dtype:
        """The element type, e.g. ``mt.float32``."""
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def device(self):
        """The device holding the data (``device(type='cpu')`` here)."""
        try:
            devs = self._data.devices()
        except Exception:  # a tracer inside jax.jit (the default device), or a meta tensor
            if self.is_meta:
                return _META
            return from_jax(jax.devices()[0])
        return from_jax(next(iter(devs)))

    @property
    def is_meta(self) -> bool:
        """True for a tensor on the meta device (a shape and a dtype, no data)."""
        try:  # (the slot itself: sparse, masked and lazy tensors answer ``_data`` with an error)
            return is_meta_array(_RAW_DATA(self))
        except AttributeError:
            return False

    @property
    def is_cuda(self) -> bool:
        """True if the data lives on a GPU."""
        return self.device.type == "cuda"

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def size(self, dim: int | None = None):
        """The shape as a :class:`Size`, or one dimension's length if ``dim`` is given."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self._data.ndim, "size")]

    def numel(self) -> int:
        """Number of elements."""
        return int(np.prod(self._data.shape, dtype=np.int64))

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.dtype.itemsize

    def is_floating_point(self) -> bool:
        """True for float16/bfloat16/float32/float64 tensors."""
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        """True for complex tensors."""
        return self.dtype.is_complex

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's values, outside autograd: an in-place op on either one is seen by
        the other (``p.data.mul_(2)``, ``m.weight.data.normal_(0, 0.02)``), and it has its own version
        counter (autograd does not see changes made through it). Assigning rebinds the array."""
        return _alias(self, _DataAlias)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def jax(self) -> jax.Array:
        """The underlying ``jax.Array`` (no copy)."""
        return self._data

    def __jax_array__(self):
        return self._data

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a numpy array. Raises if the tensor requires grad, as torch does."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._view is not None:
            _sync_view(self)
        if isinstance(self._data, _Tracer):
            raise TracedValueError("numpy")
        if is_meta_array(self._data):
            raise TypeError("can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the "
                            "tensor to host memory first.")
        return np.asarray(self._data)

    def __array__(self, dtype=None, copy=None):
        if self._view is not None:
            _sync_view(self)
        if isinstance(self._data, _Tracer):
            raise TracedValueError("numpy")
        if is_meta_array(self._data):
            raise no_data()
        a = np.asarray(self._data)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        if self._view is not None:
            _sync_view(self)
        if isinstance(self._data, _Tracer):
            raise TracedValueError("item")
        if is_meta_array(self._data):
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return np.asarray(self._data).reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        if self._view is not None:
            _sync_view(self)
        if isinstance(self._data, _Tracer):
            raise TracedValueError("tolist")
        if is_meta_array(self._data):
            raise no_data()
        return np.asarray(self._data).tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {list(self._data.shape)})")
        if isinstance(self._data, _Tracer):
            raise TracedValueError("bool")
        return bool(self.item())

    def __float__(self) -> float:
        if isinstance(self._data, _Tracer):
            raise TracedValueError("float")
        return float(self.item())

    def __int__(self) -> int:
        if isinstance(self._data, _Tracer):
            raise TracedValueError("int")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self._data.size != 1 or self.dtype is _dtype.bool:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from ._repr import tensor_repr
        if self._view is not None:
            _sync_view(self)
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        if self._view is not None:
            _sync_view(self)
        if is_meta_array(self._data):
            raise no_data(" (a meta tensor cannot be pickled or saved here)")
        return (_rebuild, (np.asarray(self._data), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be because "
                "of a torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
        if self._view is not None:
            _sync_view(self)
        t = _wrap(self._data, self.requires_grad)
        t.__class__ = self.__class__
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        t.__dict__.update(self.__dict__)
        t.__dict__.pop("_view", None)
        memo[id(self)] = t
        return t

    # ----- autograd state ------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, or requires_grad=False)."""
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, or tensors that called ``retain_grad()``)."""
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected "
                                   f"{list(self.shape)}, got {list(value.shape)}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected "
                                   f"{self.dtype}, got {value.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def _version_counter(self) -> int:
        return self._version

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (only on leaves, and only for float/complex dtypes)."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not _dtype.is_inexact(self._data.dtype):
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients "
                f"(got {self.dtype})")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A new tensor cut from the autograd graph that shares this one's values and version counter:
        an in-place op on either one is seen by the other (``p.detach().copy_(x)`` changes ``p``), as in
        torch."""
        return _alias(self, _DetachedAlias)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (it becomes a leaf)."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn._retain(self._output_nr, self)

    @property
    def retains_grad(self) -> bool:
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        from ._autograd_graph import accumulate_node
        node = self.grad_fn if self.grad_fn is not None else accumulate_node(self)
        return node._add_tensor_hook(self._output_nr, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves, accumulating into their ``.grad``.

        Args:
            gradient: d(something)/d(self); required unless this tensor has one element.
            retain_graph: keep the graph's saved values so backward can run again
                (defaults to ``create_graph``).
            create_graph: record the backward pass so higher-order gradients can be taken.
            inputs: accumulate only into these tensors' ``.grad``.
        """
        from ._autograd_graph import run_backward
        if is_meta_array(self._data):
            raise NotImplementedError("backward() of a meta tensor: minitorch_jax's meta tensors carry "
                                      "shapes and dtypes only, no autograd graph")
        run_backward((self,), (gradient,), retain_graph, create_graph, inputs=inputs)


_RAW_DATA = Tensor._data.__get__


def _init(t: Tensor, arr, requires_grad: bool = False) -> None:
    t._data = arr
    t.requires_grad = requires_grad
    t.grad_fn = None
    t._grad = None
    t._version = 0
    t._output_nr = 0
    t._retains_grad = False
    t._hooks = None
    t._acc = None


_new = object.__new__


def _wrap(arr, requires_grad: bool = False, cls=Tensor) -> Tensor:
    """Make a Tensor around a jax array without any checks (the hot path of every op)."""
    t = _new(cls)
    t._data = arr
    t.requires_grad = requires_grad
    t.grad_fn = None
    t._grad = None
    t._version = 0
    t._output_nr = 0
    t._retains_grad = False
    t._hooks = None
    t._acc = None
    return t


def _rebuild(arr, requires_grad):
    return _wrap(jnp.asarray(arr), requires_grad)


# ----- aliases: .data and .detach() share their tensor's values ------------------------------------
_SLOT_GET, _SLOT_SET = Tensor._data.__get__, Tensor._data.__set__
_VERSION_GET, _VERSION_SET = Tensor._version.__get__, Tensor._version.__set__


class _DataAlias(Tensor):
    """The tensor ``t.data`` returns: it reads and writes ``t``'s array (arrays are immutable, so an
    in-place op replaces the array, and the alias passes the new one on), with its own version counter.

    A computed base is held weakly (``losses.append(loss.detach())`` must not keep the autograd graph
    alive); once it is gone the alias keeps the last array it saw. A leaf base is held strongly. An
    in-place op that changes the shape or dtype (``t_()``, ``resize_``), or a base rebound to another
    shape, ends the sharing.
    """

    __slots__ = ("_aref",)

    @property
    def _data(self):
        try:
            ref = self._aref
        except AttributeError:  # made without _alias (a class swap, _wrap(..., cls)): not sharing
            ref = self._aref = None
        if ref is not None:
            base = ref()
            if base is not None:
                arr = _SLOT_GET(base)
                mine = _SLOT_GET(self)
                if arr is mine:
                    return arr
                if arr.shape == mine.shape and arr.dtype == mine.dtype:
                    _SLOT_SET(self, arr)
                    return arr
                self._aref = None  # the base was rebound to another shape (p.data = other): stop sharing
        return _SLOT_GET(self)

    @_data.setter
    def _data(self, arr):
        try:
            ref = self._aref
        except AttributeError:
            ref = self._aref = None
        if ref is not None:
            base = ref()
            if base is not None:
                old = _SLOT_GET(self)
                if arr.shape == old.shape and arr.dtype == old.dtype:
                    _SLOT_SET(base, arr)
                else:
                    self._aref = None
        _SLOT_SET(self, arr)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.asarray(self._data), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            return Tensor.__deepcopy__(self, memo)
        t = _wrap(self._data, self.requires_grad)
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        t.__dict__.update(self.__dict__)
        t.__dict__.pop("_view", None)
        memo[id(self)] = t
        return t


class _DetachedAlias(_DataAlias):
    """The tensor ``t.detach()`` returns: a :class:`_DataAlias` that also shares ``t``'s version counter
    (an in-place op through it is seen by autograd's checks on ``t``'s saved values, as in torch)."""

    __slots__ = ()

    @property
    def _version(self):
        ref = getattr(self, "_aref", None)
        base = ref() if ref is not None else None
        return _VERSION_GET(self) if base is None else _VERSION_GET(base)

    @_version.setter
    def _version(self, v):
        ref = getattr(self, "_aref", None)
        base = ref() if ref is not None else None
        if base is not None:
            _VERSION_SET(base, v)
        _VERSION_SET(self, v)


_WEAKREF = weakref.ref
_repeat = itertools.repeat


def _alias(t: Tensor, cls) -> Tensor:
    """A ``cls`` alias of ``t`` (``.data`` / ``.detach()``); a plain copy of the reference for tensors
    whose array is not a plain slot (sparse, masked, quantized: they define their own ``detach``)."""
    if t._view is not None:
        _sync_view(t)
    arr = t._data
    out = _new(cls)
    if isinstance(t, _DataAlias):
        ref = t._aref
        base = ref() if ref is not None else None
    else:
        base = t if type(t)._data is Tensor._data else None
    # a leaf base (a parameter, a data tensor) is held strongly, so the alias sees its last values however
    # long it lives; a computed base weakly (a kept ``loss.detach()`` must not keep the graph alive)
    if base is None:
        out._aref = None
    else:
        out._aref = _WEAKREF(base) if base.grad_fn is not None else _repeat(base).__next__
    _SLOT_SET(out, arr)
    out.requires_grad = False
    out.grad_fn = None
    out._grad = None
    _VERSION_SET(out, _VERSION_GET(base) if (base is not None and cls is _DetachedAlias) else 0)
    out._output_nr = 0
    out._retains_grad = False
    out._hooks = None
    out._acc = None
    return out


def _sync_view(t: Tensor) -> None:
    """Re-read view ``t`` if its base changed in place (see ``_ops/views.py``)."""
    from ._ops.views import sync
    sync(t)


def _wrote_view(t: Tensor, opname: str) -> None:
    """After ``t``'s array was replaced in place (an init function, a random fill, out=): if ``t`` is a
    view, write the new values through to its base."""
    if t._view is not None:
        from ._ops.views import write_back
        write_back(t, opname)


def _norm_dim(dim, ndim: int, op: str = "") -> int:
    """Normalise a possibly-negative dim, raising torch's IndexError when out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if dim < lo or dim > hi:
        raise IndexError(
            f"{op + ': ' if op else ''}Dimension out of range (expected to be in range of "
            f"[{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim else 0


def is_tensor(obj) -> bool:
    """True if ``obj`` is a minitorch_jax Tensor."""
    return isinstance(obj, Tensor)

