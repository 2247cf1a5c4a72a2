"""Legacy and host-side Tensor methods: ``new(...)``, ``resize_``/``resize_as_`` (and the deprecated
out-of-place ``resize``/``resize_as``), ``apply_``/``map_``/``map2_`` (Python callables per element),
``as_subclass``, ``register_post_accumulate_grad_hook`` and ``float_power_``.

Differences from torch:

- ``resize_`` to more elements fills the new ones with zeros (torch leaves them uninitialised), and
  shrinking then growing again does not bring the old values back (there is no storage that
  outlives the shape);
- ``apply_``/``map_``/``map2_`` run the callable in Python on the values copied to the host (numpy),
  then write the result back: slow, for small tensors and tests, as in torch (CPU only there). They
  raise inside ``mt.jit`` (no values while tracing);
- ``register_post_accumulate_grad_hook`` hooks run when ``backward()`` accumulates into the leaf's
  ``.grad`` (under no_grad unless ``create_graph=True``); ``backward(inputs=...)`` and
  ``autograd.grad`` do not run them.
"""

from __future__ import annotations

import numbers
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._autograd_graph import accumulate_node
from .._device import put
from .._errors import DTypeError, OpTypeError, ShapeError, TracedValueError
from .._tensor import Size, Tensor, _wrap
from .._torch_misc import _check_memory_format
from ._registry import REGISTRY, check_inplace, commit_inplace
from .indexing import _tname as _np_tname
from .tensor_extra import expand_check

__all__ = ["METHODS"]


def _alias(t: Tensor) -> Tensor:
    """A new tensor on ``t``'s array, on the graph (AliasBackward0) when ``t`` requires grad."""
    return REGISTRY["_alias"].call(t) if t.requires_grad else _wrap(t._data)


def _is_int(v) -> bool:
    return hasattr(v, "__index__") and not isinstance(v, (bool, Tensor))


def _sizes(op: str, sizes) -> tuple:
    """``(2, 3)`` or ``((2, 3),)`` -> ``(2, 3)``, refusing what is not a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(_is_int(s) for s in sizes):
        raise OpTypeError(f"{op}(): argument 'size' must be tuple of ints, but found "
                          f"{[type(s).__name__ for s in sizes]}")
    sizes = tuple(s.__index__() for s in sizes)
    for s in sizes:
        if s < 0:
            raise ShapeError(f"{op}(): Trying to create tensor with negative dimension {s}: {list(sizes)}")
    return sizes


# ----- new ---------------------------------------------------------------------------------------
def new(self, *args, device=None, **kwargs) -> Tensor:
    """The legacy constructor: a tensor with ``self``'s dtype (and device, unless ``device=``).

    ``new()`` is empty, ``new(2, 3)`` / ``new(size)`` (a :class:`Size`) is a zero-filled 2x3
    tensor (torch: uninitialised), ``new([1, 2])`` / ``new((1, 2))`` copies data, and
    ``new(other)`` aliases a tensor of the same dtype. Use ``new_tensor``/``new_empty`` for
    another dtype.
    """
    from .._creation import tensor, zeros
    if kwargs:
        raise OpTypeError(f"new() received an invalid combination of arguments: got unexpected keyword "
                          f"argument(s) {sorted(kwargs)} (new() takes only device=; use new_tensor, "
                          f"new_empty or new_zeros for dtype=)")
    dev = self.device if device is None else device
    dt = self.dtype
    if not args:
        return zeros(0, dtype=dt, device=dev)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a.dtype != dt:
                raise OpTypeError(f"new(): expected a tensor of dtype {dt} (self's), got {a.dtype}")
            return _alias(a)
        if isinstance(a, Size):
            return zeros(tuple(a), dtype=dt, device=dev)
        if isinstance(a, (list, tuple, np.ndarray)):
            return tensor(a, dtype=dt, device=dev)
        if not _is_int(a):
            raise OpTypeError(f"new(): data must be a sequence (got {type(a).__name__})")
    return zeros(_sizes("new", args), dtype=dt, device=dev)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False) -> Tensor:
    """``new_empty(size)`` (zero-filled): tensors here are always contiguous, so ``stride`` is only
    checked against ``size`` for length, not applied."""
    from .._creation import empty
    size = _sizes("new_empty_strided", (tuple(size),))
    stride = _sizes("new_empty_strided", (tuple(stride),))
    if len(size) != len(stride):
        raise ShapeError("new_empty_strided(): mismatch in length of strides and shape")
    return empty(size, dtype=self.dtype if dtype is None else dtype,
                 device=self.device if device is None else device, requires_grad=requires_grad)


# ----- resize ------------------------------------------------------------------------------------
def _no_grad_resize(self) -> None:
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")


def resize_(self, *sizes, memory_format=None) -> Tensor:
    """Give ``self`` the shape ``sizes`` in place, keeping its values in row-major order.

    Fewer elements keeps the first ones; more appends zeros (see the module docstring). Not for
    tensors that require grad (as torch).
    """
    _no_grad_resize(self)
    shape = _sizes("resize_", sizes)
    _check_memory_format(memory_format, "resize_", len(shape))
    n = int(np.prod(shape, dtype=np.int64))
    flat = self._data.reshape(-1)
    have = flat.shape[0]
    if n <= have:
        flat = flat[:n]
    else:
        flat = jnp.concatenate([flat, jnp.zeros((n - have,), flat.dtype)])
    self._data = flat.reshape(shape)
    self._version += 1
    return self


def resize_as_(self, the_template: Tensor, memory_format=None) -> Tensor:
    """``self.resize_(the_template.size())``."""
    if not isinstance(the_template, Tensor):
        raise OpTypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                          f"{type(the_template).__name__}")
    return resize_(self, tuple(the_template.shape), memory_format=memory_format)


def _resize_out_of_place(self, shape, op: str) -> Tensor:
    warnings.warn(f"non-inplace {op} is deprecated", UserWarning, stacklevel=3)
    n = int(np.prod(shape, dtype=np.int64))
    if n != self.numel():
        raise ShapeError(
            f"requested resize to {'x'.join(map(str, shape))} ({n} elements in total), but the given "
            f"tensor has a size of {'x'.join(map(str, self.shape))} ({self.numel()} elements). "
            "autograd's resize can only change the shape of a given tensor, while preserving the "
            "number of elements. ")
    return self.reshape(shape)


def resize(self, *sizes) -> Tensor:
    """Deprecated: ``self.reshape(sizes)``, which must keep the number of elements (differentiable)."""
    return _resize_out_of_place(self, _sizes("resize", sizes), "resize")


def resize_as(self, tensor: Tensor) -> Tensor:
    """Deprecated: ``self.resize(tensor.size())``."""
    return _resize_out_of_place(self, tuple(tensor.shape), "resize_as")


# ----- Python callables per element ------------------------------------------------------------
def _host_values(t: Tensor, op: str) -> np.ndarray:
    if isinstance(t._data, jax.core.Tracer):
        raise TracedValueError(op)
    return np.asarray(t._data)


def _python_map(self, others, fn, op: str) -> Tensor:
    """Run ``fn(self_value, *other_values)`` per element on the host and write the results back."""
    for t in (self, *others):
        if t.requires_grad:
            raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use var.detach()."
                               f"{op}() instead.")
    dt = self._data.dtype
    columns = [_host_values(self, op).reshape(-1)]
    for o in others:
        if not isinstance(o, Tensor):
            raise OpTypeError(f"{op}(): expected a Tensor, got {type(o).__name__}")
        if o._data.dtype != dt:
            raise OpTypeError(f"{op}: expected {self.type()} for 'other' (got {o.type()})")
        expand_check("expand", o.shape, self.shape)
        columns.append(np.broadcast_to(_host_values(o, op), self.shape).reshape(-1))
    out = np.empty(columns[0].shape, dt)
    for i, vals in enumerate(zip(*columns)):
        r = fn(*(v.item() for v in vals))
        if isinstance(r, Tensor):
            r = r.item()
        if not isinstance(r, (numbers.Number, np.generic)):
            raise OpTypeError(f"{op}(): the callable must return a number, got {type(r).__name__}")
        out[i] = np.asarray(r).astype(dt) if dt.kind != "b" else bool(r)
    self._data = put(jnp.asarray(out.reshape(self._data.shape)), self.device)
    self._version += 1
    return self


def apply_(self, callable) -> Tensor:  # noqa: A002 - torch's argument name
    """Replace each element ``v`` of ``self`` with ``callable(v)`` (a Python number), in place.

    Runs in Python on the host (see the module docstring); not for tensors that require grad.
    """
    return _python_map(self, (), callable, "apply_")


def map_(self, tensor: Tensor, callable) -> Tensor:  # noqa: A002
    """``self[i] = callable(self[i], tensor[i])`` per element, in place; ``tensor`` (same dtype)
    broadcasts to ``self``'s shape. Runs in Python on the host."""
    return _python_map(self, (tensor,), callable, "map_")


def map2_(self, x: Tensor, y: Tensor, callable) -> Tensor:  # noqa: A002
    """``self[i] = callable(self[i], x[i], y[i])`` per element, in place; ``x`` and ``y`` (same
    dtype) broadcast to ``self``'s shape. Runs in Python on the host."""
    return _python_map(self, (x, y), callable, "map2_")


# ----- subclasses and hooks ----------------------------------------------------------------------
def as_subclass(self, cls) -> Tensor:
    """``self`` as an instance of ``cls`` (a subclass of Tensor) on the same array, without calling
    ``cls.__init__``; stays on the graph (AliasBackward0) when ``self`` requires grad."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise OpTypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is "
                          "not possible. Make sure your class inherits from Tensor.")
    out = _alias(self)
    out.__class__ = cls
    return out


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(self)`` after ``backward()`` has accumulated a gradient into this leaf's ``.grad``.

    The hook may read and change ``self`` and ``self.grad`` in place (it runs under no_grad unless
    ``create_graph=True``); its return value is ignored. Returns a handle whose ``remove()``
    unregisters it. Only for leaves that require grad (as torch).
    """
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise OpTypeError(f"register_post_accumulate_grad_hook(): hook must be callable, got "
                          f"{type(hook).__name__}")

    def after_accumulate(grad_inputs, grad_outputs):
        hook(self)

    after_accumulate.__wrapped__ = hook
    return accumulate_node(self).register_hook(after_accumulate)


# ----- in-place variants -------------------------------------------------------------------------
def float_power_(self, exponent) -> Tensor:
    """In-place :meth:`float_power`: ``self`` must already have the result's dtype (float64, or
    complex128 for complex operands), as torch requires."""
    cplx = self.is_complex() or (isinstance(exponent, Tensor) and exponent.is_complex()) or \
        isinstance(exponent, complex)
    want = _dtype.complex128 if cplx else _dtype.float64
    if self.dtype != want:
        raise DTypeError(f"the base given to float_power_ has dtype {_tname(self.dtype)} but the "
                         f"operation's result requires dtype {_tname(want)}")
    check_inplace(self, "float_power_")
    op = REGISTRY["float_power"]
    return commit_inplace(self, (op.impl or op.call)(self, exponent), "float_power_")


def _tname(d) -> str:
    return _np_tname(d.np)


METHODS = {f.__name__: f for f in (new, new_empty_strided, resize_, resize_as_, resize, resize_as, apply_,
                                   map_, map2_, as_subclass, register_post_accumulate_grad_hook,
                                   float_power_)}
