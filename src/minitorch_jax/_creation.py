"""Creation functions that take no tensor inputs: ``tensor``, ``zeros``, ``arange``, ``eye`` ...

Random creation (``rand``, ``randn`` ...) lives in ``_random.py`` beside the generator.
"""

from __future__ import annotations

import builtins
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.export import is_symbolic_dim

from . import _dtype
from ._device import is_meta, meta_default
from ._errors import OpTypeError, OpValueError
from ._meta import is_meta_array, meta_array
from ._tensor import Size, Tensor, _wrap

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "range", "linspace",
           "logspace", "eye", "scalar_tensor", "tensor_from_data", "complex", "polar",
           "broadcast_shapes"]


def _infer_np_dtype(data) -> np.dtype:
    """torch's dtype inference for Python data: bool < int64 < default float < complex."""
    cat = -1

    def walk(x):
        nonlocal cat
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        elif isinstance(x, Tensor):
            cat = builtins.max(cat, 10 + _dtype._FROM_NP[x._data.dtype]._cat)
        elif isinstance(x, builtins.bool | np.bool_):
            cat = builtins.max(cat, 0)
        elif isinstance(x, builtins.int | np.integer):
            cat = builtins.max(cat, 1)
        elif isinstance(x, builtins.float | np.floating):
            cat = builtins.max(cat, 2)
        elif isinstance(x, builtins.complex | np.complexfloating):
            cat = builtins.max(cat, 3)
        else:
            raise OpTypeError(f"tensor(): could not infer dtype of {type(x).__name__}")

    walk(data)
    if cat < 0:
        return _dtype.get_default_dtype().np
    return _dtype.scalar_default(cat % 10)


def _device_put(arr, device):
    if device is None:
        return arr
    from ._device import put
    return put(arr, device)


def tensor_from_data(data, dtype=None) -> Tensor:
    """Build a tensor from nested Python data, numpy/JAX arrays or Tensors (always a copy)."""
    np_dt = _dtype.to_np(dtype)
    if isinstance(data, Tensor):
        arr = data._data
        return _wrap(arr if np_dt is None else arr.astype(np_dt))
    if isinstance(data, jax.Array):
        return _wrap(data if np_dt is None else data.astype(np_dt))
    if isinstance(data, np.ndarray):
        if np_dt is None:
            _dtype.from_np(data.dtype)  # raises for dtypes torch has no twin of
        return _wrap(jnp.asarray(data, np_dt))
    if isinstance(data, np.generic):
        return _wrap(jnp.asarray(data, np_dt))
    if np_dt is None:
        np_dt = _infer_np_dtype(data)
    if _contains_tensor(data):
        arr = np.asarray(_to_nested_numpy(data), dtype=np_dt)
    else:
        try:
            arr = np.asarray(data, dtype=np_dt)
        except (ValueError, TypeError) as e:
            raise OpValueError(f"tensor(): could not build a tensor from the given data: {e}") \
                from None
    if arr.dtype == object:
        raise OpValueError("tensor(): nested sequences have inconsistent lengths")
    return _wrap(jnp.asarray(arr))


def _contains_tensor(x) -> builtins.bool:
    if isinstance(x, Tensor):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_contains_tensor(y) for y in x)
    return False


def _to_nested_numpy(x):
    if isinstance(x, Tensor):
        return np.asarray(x._data)
    if isinstance(x, (list, tuple)):
        return [_to_nested_numpy(y) for y in x]
    return x


def _makes_meta(device, like: Tensor | None = None) -> builtins.bool:
    """Whether a factory call makes a meta tensor: ``device`` is 'meta', or it is None inside
    ``with mt.device('meta'):`` or (``*_like``, as torch: on ``like``'s device) ``like`` is meta."""
    if device is None and like is not None and is_meta_array(like._data):
        return True
    return is_meta(device)


def _finish(t: Tensor, device, requires_grad: builtins.bool) -> Tensor:
    if device is not None:
        t._data = _device_put(t._data, device)
    elif meta_default():  # inside ``with mt.device('meta'):``
        t._data = meta_array(t._data.shape, t._data.dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: builtins.bool = False,
           pin_memory: builtins.bool = False) -> Tensor:
    """Construct a tensor by copying ``data`` (nested lists/tuples, numbers, numpy or JAX arrays).

    Python floats give the default dtype (float32), ints int64, bools bool - as in torch.

    Example::

        >>> mt.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    return _finish(tensor_from_data(data, dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Convert ``data`` to a tensor, sharing it when it already is one with the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype.as_dtype(dtype)) \
            and device is None:
        return data
    return _finish(tensor_from_data(data, dtype), device, False)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """Like :func:`as_tensor` (torch.asarray)."""
    t = as_tensor(obj, dtype, device)
    return t.requires_grad_(True) if requires_grad else t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor with the data of a numpy array (JAX copies it to the device; the dtype is kept)."""
    if not isinstance(ndarray, np.ndarray):
        raise OpTypeError(f"from_numpy(): expected np.ndarray (got {type(ndarray).__name__})")
    return tensor_from_data(ndarray)


def _shape(size, name: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    try:  # a dynamic size (x.shape[0] inside mt.export) stays symbolic
        shape = tuple(s if is_symbolic_dim(s) else builtins.int(s) for s in size)
    except (TypeError, ValueError):
        raise OpTypeError(f"{name}(): size must be a sequence of ints, got {size!r}") from None
    if builtins.any(s < 0 for s in shape if not is_symbolic_dim(s)):
        raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def _fill(name, value_fn):
    def create(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
               pin_memory=False):
        shape = _shape(size, name)
        dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
        if _makes_meta(device):  # a shape and a dtype: nothing is allocated
            return _finish(_wrap(meta_array(shape, dt)), None, requires_grad)
        return _finish(_wrap(value_fn(shape, dt)), device, requires_grad)
    create.__name__ = name
    return create


def _host_filled(value):
    """A constant-filled array made on the host for small sizes: a transfer, not an XLA program
    compiled per shape (model construction creates many shapes once each)."""
    def make(shape, dt):
        if builtins.all(s.__class__ is builtins.int for s in shape) and math.prod(shape) <= (1 << 20):
            return jnp.asarray(np.full(shape, value, dtype=dt))
        return jnp.full(shape, value, dt)
    return make


zeros = _fill("zeros", _host_filled(0))
zeros.__doc__ = """A tensor of zeros with the given size (``zeros(2, 3)`` or ``zeros((2, 3))``).

    Args:
        dtype: element type (default float32); device, requires_grad as in torch."""
ones = _fill("ones", _host_filled(1))
ones.__doc__ = "A tensor of ones with the given size; arguments as :func:`zeros`."
empty = _fill("empty", _host_filled(0))
empty.__doc__ = ("An 'uninitialised' tensor of the given size (zero-filled: JAX has no "
                 "uninitialised memory); arguments as :func:`zeros`.")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None,
         layout=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value's type."""
    shape = _shape((size,) if not isinstance(size, (list, tuple)) else (size,), "full")
    if dtype is None:
        if isinstance(fill_value, Tensor):
            dt = fill_value._data.dtype
            fill_value = fill_value.item()
        else:
            dt = _infer_np_dtype(fill_value)
    else:
        dt = _dtype.to_np(dtype)
        if isinstance(fill_value, Tensor):
            fill_value = fill_value.item()
    if _makes_meta(device):
        return _finish(_wrap(meta_array(shape, dt)), None, requires_grad)
    return _finish(_wrap(jnp.full(shape, fill_value, dt)), device, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor holding ``s`` (default float dtype)."""
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    return _finish(_wrap(jnp.asarray(s, dt)), device, requires_grad)


def _like(name, value_fn):
    def create(input, *, dtype=None, device=None, requires_grad=False, memory_format=None,
               layout=None):
        if not isinstance(input, Tensor):
            raise OpTypeError(f"{name}(): argument 'input' must be Tensor, not "
                              f"{type(input).__name__}")
        dt = _dtype.to_np(dtype) if dtype is not None else input._data.dtype
        if _makes_meta(device, input):
            return _finish(_wrap(meta_array(input._data.shape, dt)), None, requires_grad)
        return _finish(_wrap(value_fn(input._data.shape, dt)), device, requires_grad)
    create.__name__ = name
    create.__doc__ = f"Like ``{name[:-5]}`` with the shape (and by default dtype) of ``input``."
    return create


zeros_like = _like("zeros_like", _host_filled(0))
ones_like = _like("ones_like", _host_filled(1))
empty_like = _like("empty_like", _host_filled(0))


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """A tensor shaped like ``input`` filled with ``fill_value`` (dtype of ``input`` by default)."""
    dt = _dtype.to_np(dtype) if dtype is not None else input._data.dtype
    if _makes_meta(device, input):
        return _finish(_wrap(meta_array(input._data.shape, dt)), None, requires_grad)
    return _finish(_wrap(jnp.full(input._data.shape, fill_value, dt)), device, requires_grad)


def _num(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None) -> Tensor:
    """Values from ``start`` (default 0) up to but excluding ``end``, spaced by ``step``.

    The dtype is int64 when all arguments are integers, else the default float dtype.
    """
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if builtins.any(is_symbolic_dim(v) for v in (start, end, step)):  # a dynamic size inside mt.export
        dt = np.dtype(np.int64) if dtype is None and builtins.all(
            isinstance(v, builtins.int) or is_symbolic_dim(v) for v in (start, end, step)) \
            else _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
        return _finish(_wrap(jnp.arange(start, end, step, dtype=dt)), device, requires_grad)
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dt = np.dtype(np.int64) if builtins.all(
            isinstance(v, builtins.int) for v in (start, end, step)) \
            else _dtype.get_default_dtype().np
    else:
        dt = _dtype.to_np(dtype)
    n = builtins.max(0, math.ceil((end - start) / step))
    arr = np.arange(n, dtype=np.float64 if dt.kind == "f" or dt.kind == "V" else np.int64)
    vals = start + arr * step
    return _finish(_wrap(jnp.asarray(vals, dt)), device, requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A001
    """Deprecated in torch: like arange but including ``end`` (float result)."""
    if end is None:
        start, end = 0, start
    n = builtins.int(math.floor((end - start) / step)) + 1
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    return _finish(_wrap(jnp.asarray(start + np.arange(n) * step, dt)), device, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False,
             out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    start, end = _num(start), _num(end)
    if not isinstance(steps, builtins.int) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps!r}")
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    vals = np.linspace(start, end, steps, dtype=np.float64)
    if dt.kind in "iu":
        vals = np.trunc(vals)
    return _finish(_wrap(jnp.asarray(vals, dt)), device, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    vals = np.power(base, np.linspace(_num(start), _num(end), steps, dtype=np.float64))
    return _finish(_wrap(jnp.asarray(vals, dt)), device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """An ``n x m`` (default square) identity matrix."""
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye(): n and m must be non-negative, got n={n}, m={m}")
    dt = _dtype.to_np(dtype) if dtype is not None else _dtype.get_default_dtype().np
    return _finish(_wrap(jnp.eye(n, m, dtype=dt)), device, requires_grad)


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """A complex tensor with the given real and imaginary parts (float32 -> complex64)."""
    return real + imag * 1j


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """A complex tensor from magnitude and angle."""
    return abs * angle.cos() + (abs * angle.sin()) * 1j


def _new(name, maker):
    def method(self, *args, dtype=None, device=None, requires_grad=False, **kw):
        dt = dtype if dtype is not None else self.dtype
        if device is None and not isinstance(self._data, jax.core.Tracer):
            device = self.device  # as torch: on this tensor's device, not the default one
        return maker(*args, dtype=dt, device=device, requires_grad=requires_grad, **kw)
    method.__name__ = name
    method.__doc__ = (f"``mt.{name[4:]}`` with this tensor's dtype and device (unless ``dtype=`` / "
                      "``device=`` are given).")
    return method


Tensor.new_zeros = _new("new_zeros", zeros)
Tensor.new_ones = _new("new_ones", ones)
Tensor.new_empty = _new("new_empty", empty)
Tensor.new_full = _new("new_full", full)
Tensor.new_tensor = _new("new_tensor", tensor)


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of the given shapes broadcast to (torch.broadcast_shapes).

    Raises RuntimeError naming the mismatching sizes, like the binary ops do.
    """
    from ._ops._helpers import broadcast_shape

    return Size(broadcast_shape("broadcast_shapes", *(
        (s,) if isinstance(s, builtins.int) else tuple(s) for s in shapes)))
