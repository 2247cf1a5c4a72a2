"""``Parameter`` and ``Buffer``: tensors that a :class:`~minitorch_jax.nn.Module` registers when
they are assigned as attributes."""

from __future__ import annotations

from .._tensor import Tensor, _wrap

__all__ = ["Parameter", "Buffer", "is_lazy", "UninitializedParameter", "UninitializedBuffer",
           "UninitializedTensorMixin"]


class Parameter(Tensor):
    """A Tensor that is a module parameter: it requires grad by default, and assigning it as a
    Module attribute registers it (it then appears in ``parameters()`` and the ``state_dict``).

    Args:
        data: the initial value (shares its array; an empty tensor when None).
        requires_grad: whether the parameter requires gradient (default True).

    Ops on a Parameter return plain Tensors, as in torch.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): expected a Tensor as data, got {type(data).__name__}")
        return _wrap(data._data, bool(requires_grad), cls)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        import numpy as np
        return (_rebuild_parameter, (np.asarray(self._data), self.requires_grad))


def _rebuild_parameter(arr, requires_grad):
    import jax.numpy as jnp
    return _wrap(jnp.asarray(arr), requires_grad, Parameter)


class Buffer(Tensor):
    """Marks a tensor to be registered as a module buffer when assigned as an attribute
    (``self.running_mean = nn.Buffer(mt.zeros(3))``).

    Args:
        data: the buffer's value (its array is shared).
        persistent: whether the buffer is part of the module's ``state_dict``.

    Assigning converts it to a plain Tensor buffer, as torch does.
    """

    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        t = _wrap(data._data, data.requires_grad, cls)
        t.__dict__["persistent"] = bool(persistent)
        return t

    def __init__(self, data=None, *, persistent=True):
        pass


def is_lazy(param) -> bool:
    """Whether ``param`` is an :class:`UninitializedParameter` or :class:`UninitializedBuffer`
    (the placeholders of a lazy module before its first forward)."""
    return isinstance(param, UninitializedTensorMixin)


# ----- lazy placeholders (used by ``nn.modules.lazy``) ------------------------------------------------

_SLOT = Tensor.__dict__["_data"]  # the storage slot behind ``Tensor._data``


def _where() -> str:
    """Name of the op or Tensor method that read an uninitialized tensor's data (for the message)."""
    import sys
    f = sys._getframe(2)
    for _ in range(12):
        if f is None:
            break
        op = f.f_locals.get("op")
        name = getattr(op, "name", None)
        if isinstance(name, str):
            return f"'{name}'"
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith("minitorch_jax._ops") and not mod.startswith("minitorch_jax._tensor"):
            break
        f = f.f_back
    f = sys._getframe(2)
    return f"'{f.f_code.co_name}'"


class UninitializedTensorMixin:
    """What :class:`UninitializedParameter` and :class:`UninitializedBuffer` share: no data yet.

    Only the dtype/device (``dtype``, ``device``, ``size()``, ``is_floating_point()``, ``to()``,
    ``float()``/``double()``/``half()``/``cpu()``/``cuda()``, ``requires_grad``) may be used; any
    op raises torch's ValueError, ``.shape`` raises RuntimeError. :meth:`materialize` turns the
    object itself into a regular Parameter / Tensor of a given shape.
    """

    __slots__ = ()
    cls_to_become: type | None = None

    @property
    def _data(self):
        name = type(self).__name__
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {_where()}. This error happens when you are "
            f"using a `LazyModule` or explicitly manipulating `minitorch_jax.nn.parameter.{name}` objects. "
            "When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
            "calling minitorch_jax functions")

    @_data.setter
    def _data(self, arr):
        _SLOT.__set__(self, arr)

    def _plain(self) -> Tensor:
        return _wrap(_SLOT.__get__(self, type(self)))

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give this placeholder real (uninitialized, here zero-filled) data of ``shape`` and turn it
        into its ``cls_to_become`` (Parameter or Tensor), in place.

        Args:
            shape: the shape of the data.
            device, dtype: override the placeholder's device / dtype.
        """
        from .. import _creation
        from .._state_version import bump
        plain = self._plain()
        arr = _creation.empty(tuple(shape) if not isinstance(shape, int) else (shape,),
                              device=plain.device if device is None else device,
                              dtype=plain.dtype if dtype is None else dtype)._data
        self.__class__ = self.cls_to_become
        self._data = arr
        self._version += 1
        bump()

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes.")

    @property
    def dtype(self):
        """The dtype the data will have."""
        return self._plain().dtype

    @property
    def device(self):
        """The device the data will live on."""
        return self._plain().device

    @property
    def ndim(self) -> int:
        """1, the placeholder's (empty) data, as in torch."""
        return 1

    @property
    def data(self) -> Tensor:
        """The placeholder's empty data (a plain Tensor of shape (0,))."""
        return self._plain()

    @data.setter
    def data(self, value) -> None:
        self._data = value._data

    def size(self, dim=None):
        """The placeholder's size: ``Size([0])`` (the real shape is not known yet)."""
        return self._plain().size(dim)

    def is_floating_point(self) -> bool:
        """Whether the data will be floating point."""
        return self._plain().is_floating_point()

    def is_complex(self) -> bool:
        """Whether the data will be complex."""
        return self._plain().is_complex()

    def _converted(self, out):
        return out

    def to(self, *args, **kwargs):
        """The placeholder converted (dtype/device only); see :meth:`Tensor.to`."""
        return self._converted(self._plain().to(*args, **kwargs))

    def float(self, memory_format=None):
        """Converted to float32."""
        return self._converted(self._plain().float())

    def double(self, memory_format=None):
        """Converted to float64."""
        return self._converted(self._plain().double())

    def half(self, memory_format=None):
        """Converted to float16."""
        return self._converted(self._plain().half())

    def bfloat16(self, memory_format=None):
        """Converted to bfloat16."""
        return self._converted(self._plain().bfloat16())

    def cpu(self):
        """Moved to the CPU."""
        return self._converted(self._plain().cpu())

    def cuda(self, device=None, non_blocking=False):
        """Moved to a GPU."""
        return self._converted(self._plain().cuda(device))

    def requires_grad_(self, requires_grad: bool = True):
        """Not allowed before materialization (torch raises the same ValueError)."""
        raise ValueError(
            f"Attempted to use an uninitialized parameter in 'requires_grad_'. This error happens when you "
            f"are using a `LazyModule` or explicitly manipulating `minitorch_jax.nn.parameter."
            f"{type(self).__name__}` objects. When using LazyModules Call `forward` with a dummy batch to "
            "initialize the parameters before calling minitorch_jax functions")

    def share_memory_(self):
        """Not allowed before materialization (raises RuntimeError, as torch)."""
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize the "
            "parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (type(self), (self.requires_grad,))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        plain = self._plain()
        out = type(self)(self.requires_grad, plain.device, plain.dtype)
        memo[id(self)] = out
        return out


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A :class:`Parameter` whose shape is not known yet (a lazy module's weight before the first
    forward). Only its dtype/device can be used or changed; :meth:`materialize` (called by the
    lazy module) turns it into a regular :class:`Parameter` in place.

    Args:
        requires_grad: whether the parameter will require grad (default True).
        device, dtype: the device / dtype it will be materialized with.
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._creation import empty
        return _wrap(empty(0, device=device, dtype=dtype)._data, bool(requires_grad), cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy norm layer's running statistics before the
    first forward); :meth:`materialize` turns it into a regular Tensor in place.

    Args:
        requires_grad: default False.
        device, dtype: the device / dtype it will be materialized with.
        persistent: whether it will be part of the ``state_dict``.
    """

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        from .._creation import empty
        t = _wrap(empty(0, device=device, dtype=dtype)._data, bool(requires_grad), cls)
        t.__dict__["persistent"] = bool(persistent)
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def _converted(self, out):
        # a converted buffer stays a placeholder (Module._apply stores the result as the buffer)
        t = _wrap(out._data, self.requires_grad, type(self))
        t.__dict__.update(self.__dict__)
        return t
