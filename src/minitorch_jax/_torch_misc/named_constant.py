"""``NamedConstant``: the base of torch's enum-like objects (``mt.strided``, ``mt.channels_last`` ...)."""

from __future__ import annotations

__all__: list[str] = []

_PKG = "minitorch_jax"


class NamedConstant:
    """A fixed set of named instances: calling the class raises TypeError (as torch's C types do);
    the instances compare by identity, print as ``minitorch_jax.<name>``, and pickle and copy as
    themselves (pickled by reference to ``mt.<name>``)."""

    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError(f"cannot create '{_PKG}.{cls.__name__}' instances")

    @classmethod
    def _make(cls, name: str):
        obj = object.__new__(cls)
        object.__setattr__(obj, "_name", name)
        return obj

    def __repr__(self) -> str:
        return f"{_PKG}.{self._name}"

    def __reduce__(self):
        return self._name

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self
