"""``Parameter`` and ``Buffer``: tensors that a :class:`~minitorch_jax.nn.Module` registers when
they are assigned as attributes."""

from __future__ import annotations

from .._tensor import Tensor, _wrap

__all__ = ["Parameter", "Buffer", "is_lazy"]


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
    """Whether ``param`` is an uninitialised (lazy) parameter; lazy modules are not provided,
    so this is always False."""
    return False
