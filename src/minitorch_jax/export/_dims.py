"""``Dim``, ``dims`` and ``ShapesCollection``: how ``mt.export.export`` is told which input
dimensions may vary between calls.

Each dynamic dimension becomes a symbolic dimension of the ``jax.export`` program (one symbol per
``Dim`` name, so inputs naming the same ``Dim`` share it); ``min``/``max`` become the program's
symbolic constraints and are checked again on every call. Derived dimensions ``a * dim + b``
(``2 * dim``, ``dim + 1``) are supported; other arithmetic on a ``Dim`` raises.
"""

from __future__ import annotations

import math

__all__ = ["Dim", "dims", "ShapesCollection"]


class _DimHint:
    """A per-dimension hint: ``Dim.AUTO`` / ``Dim.DYNAMIC`` (dynamic, a fresh symbol) or
    ``Dim.STATIC`` (specialised to the example's size)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"DimHint({self.kind})"

    def __eq__(self, other) -> bool:
        return isinstance(other, _DimHint) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("DimHint", self.kind))


class Dim:
    """A named dynamic dimension, optionally bounded.

    Args:
        name: a Python identifier; dimensions given the same name must have equal sizes.
        min: smallest allowed size (default 0, as torch).
        max: largest allowed size (default unbounded).

    ``Dim.AUTO``, ``Dim.DYNAMIC`` (an unnamed dynamic dimension) and ``Dim.STATIC`` (the
    example's size) are per-dimension hints. ``a * dim + b`` (ints, ``a > 0``) is a derived
    dimension tied to ``dim``.
    """

    AUTO = _DimHint("AUTO")
    DYNAMIC = _DimHint("DYNAMIC")
    STATIC = _DimHint("STATIC")

    def __init__(self, name: str, *, min: int | None = None, max: int | None = None):
        if not isinstance(name, str) or not name.isidentifier():
            raise AssertionError(f"Dim name must be a valid identifier, got {name}")
        lo = 0 if min is None else int(min)
        hi = math.inf if max is None else int(max)
        if lo > hi:
            raise AssertionError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        self.__name__ = name
        self.min = lo
        self.max = hi

    def __repr__(self) -> str:
        parts = [repr(self.__name__), f"min={self.min}"]
        if self.max != math.inf:
            parts.append(f"max={self.max}")
        return f"Dim({', '.join(parts)})"

    def __mul__(self, k):
        return _DerivedDim(self, 1, 0) * k

    __rmul__ = __mul__

    def __add__(self, k):
        return _DerivedDim(self, 1, 0) + k

    __radd__ = __add__

    def __sub__(self, k):
        return _DerivedDim(self, 1, 0) - k

    def _unsupported(self, *_):
        raise TypeError(f"mt.export.Dim: only derived dimensions of the form a * Dim + b (ints a > 0, b) are "
                        f"supported, not this arithmetic on Dim({self.__name__!r})")

    __rsub__ = __floordiv__ = __truediv__ = _unsupported


class _DerivedDim:
    """``a * root + b`` for a :class:`Dim` ``root`` (``2 * dim``, ``dim + 1``): a size tied to ``root``."""

    def __init__(self, root: Dim, a: int, b: int):
        self.root, self.a, self.b = root, a, b
        self.__name__ = f"{a}*{root.__name__}+{b}"

    def __mul__(self, k):
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
            return self.root._unsupported()
        return _DerivedDim(self.root, self.a * k, self.b * k)

    __rmul__ = __mul__

    def __add__(self, k):
        if isinstance(k, bool) or not isinstance(k, int):
            return self.root._unsupported()
        return _DerivedDim(self.root, self.a, self.b + k)

    __radd__ = __add__

    def __sub__(self, k):
        return self + (-k) if isinstance(k, int) else self.root._unsupported()

    def __repr__(self) -> str:
        return self.__name__


def dims(*names: str, min: int | None = None, max: int | None = None) -> tuple:
    """Several :class:`Dim` objects with the same bounds: ``batch, seq = dims("batch", "seq")``."""
    return tuple(Dim(n, min=min, max=max) for n in names)


class ShapesCollection:
    """Builds ``dynamic_shapes`` by tensor rather than by input position.

    ``sc[tensor] = {0: Dim("batch")}`` (or a tuple per dimension) for any tensor inside the
    inputs; ``sc.dynamic_shapes(model, args, kwargs)`` returns the matching nested spec (what
    :func:`mt.export.export` does with a ``ShapesCollection`` passed as ``dynamic_shapes``).
    """

    def __init__(self):
        self._shapes: dict[int, object] = {}
        self._keep: list = []

    def __setitem__(self, tensor, shape) -> None:
        self._shapes[id(tensor)] = shape
        self._keep.append(tensor)

    def __getitem__(self, tensor):
        return self._shapes[id(tensor)]

    def __contains__(self, tensor) -> bool:
        return id(tensor) in self._shapes

    def dynamic_shapes(self, m, args, kwargs=None):
        """The nested ``dynamic_shapes`` spec for ``m(*args, **kwargs)``: a tuple with one
        entry per positional argument, then per keyword argument."""
        from .._tensor import Tensor

        def spec(v):
            if isinstance(v, Tensor):
                return self._shapes.get(id(v))
            if isinstance(v, (list, tuple)):
                return type(v)(spec(x) for x in v) if not hasattr(v, "_fields") else tuple(spec(x) for x in v)
            if isinstance(v, dict):
                return {k: spec(x) for k, x in v.items()}
            return None

        return tuple(spec(a) for a in args) + tuple(spec(v) for v in (kwargs or {}).values())
