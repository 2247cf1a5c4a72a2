"""Deferred graphs: the static-graph half of "immediate vs deferred execution".

``a = mt.jit.placeholder(); b = mt.jit.placeholder(); c = (a**2 + b**2) ** 0.5`` runs nothing:
``c`` is a graph. ``callable(c)`` is True; ``c(3.0, 4.0)`` (placeholders in creation order) or
``c(a=3.0, b=4.0)`` (by name) evaluates it eagerly; ``c.graph`` lists its instructions;
``c.compile()`` gives one compiled program for it. Every op of the table works on placeholders
(the dispatcher records a node instead of running when it meets one).
"""

from __future__ import annotations

import itertools

import jax

from .. import _dtype
from .._tensor import Tensor

__all__ = ["placeholder", "Deferred", "record"]

_ids = itertools.count()


class Deferred:
    """A value in a deferred graph: a placeholder, or an op applied to other values.

    Attributes:
        graph: the instruction listing (text) of everything this value depends on.
        name: the placeholder's name (placeholders only).
    """

    _mt_deferred = True
    __slots__ = ("_op", "_args", "_rest", "_kwargs", "_name", "_shape", "_dtype", "_id", "__weakref__")

    def __init__(self, op=None, args=(), rest=(), kwargs=None, name=None, shape=None, dtype=None):
        self._op = op
        self._args = tuple(args)
        self._rest = tuple(rest)
        self._kwargs = dict(kwargs or {})
        self._name = name
        self._shape = shape
        self._dtype = dtype
        self._id = next(_ids)

    # ----- description -----------------------------------------------------------------------
    @property
    def name(self):
        """The placeholder's name (None for computed values)."""
        return self._name

    def _nodes(self):
        """Every Deferred this value depends on, in creation (topological) order."""
        seen, stack, out = set(), [self], []
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            out.append(n)
            for a in _deferred_in(n._args) + _deferred_in(n._rest) + _deferred_in(list(n._kwargs.values())):
                stack.append(a)
        return sorted(out, key=lambda n: n._id)

    def placeholders(self) -> list:
        """The placeholders this value depends on, in creation order (the call's argument order)."""
        return [n for n in self._nodes() if n._op is None]

    @property
    def graph(self) -> str:
        """The instruction listing: one line per placeholder and op, then ``return``."""
        names = {}
        lines = []
        k = 0
        for n in self._nodes():
            if n._op is None:
                names[id(n)] = "%" + n._name
                shape = "?" if n._shape is None else list(n._shape)
                lines.append(f"{names[id(n)]} = placeholder(shape={shape}, dtype={n._dtype})")
            else:
                names[id(n)] = f"%{k}"
                k += 1

                def show(v):
                    if isinstance(v, Deferred):
                        return names[id(v)]
                    if isinstance(v, (list, tuple)):
                        return "[" + ", ".join(show(x) for x in v) + "]"
                    if isinstance(v, Tensor):
                        return f"tensor{list(v.shape)}"
                    return repr(v)
                parts = [show(a) for a in n._args] + [show(r) for r in n._rest]
                parts += [f"{key}={show(v)}" for key, v in n._kwargs.items()]
                lines.append(f"{names[id(n)]} = {n._op.name}({', '.join(parts)})")
        lines.append(f"return {names[id(self)]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self._op is None:
            return f"placeholder(name={self._name!r}, shape={self._shape}, dtype={self._dtype})"
        return f"<deferred {self._op.name} of {len(self.placeholders())} placeholder(s); .graph lists it>"

    @property
    def shape(self):
        """The shape, when the placeholders' shapes are known (computed abstractly, nothing runs)."""
        if self._op is None:
            return None if self._shape is None else tuple(self._shape)
        phs = self.placeholders()
        if any(p._shape is None for p in phs):
            return None
        specs = [jax.ShapeDtypeStruct(tuple(p._shape), p._dtype.np) for p in phs]
        out = jax.eval_shape(lambda *a: _evaluate(self, dict(zip(map(id, phs), map(_as_tensor, a))))._data,
                             *specs)
        return tuple(out.shape)

    def size(self, dim=None):
        """The shape (or one dim of it), when known."""
        s = self.shape
        return s if dim is None or s is None else s[dim]

    # ----- evaluation --------------------------------------------------------------------------
    def __call__(self, *values, **named):
        """Evaluate the graph: values for the placeholders in creation order, or by name."""
        phs = self.placeholders()
        if len(values) > len(phs):
            raise TypeError(f"deferred graph takes {len(phs)} placeholder value(s) "
                            f"({', '.join(p._name for p in phs)}), got {len(values)}")
        env = {}
        for p, v in zip(phs, values):
            env[id(p)] = _as_tensor(v, p)
        by_name = {p._name: p for p in phs}
        for k, v in named.items():
            if k not in by_name:
                raise TypeError(f"deferred graph has no placeholder named {k!r} "
                                f"(placeholders: {', '.join(by_name)})")
            env[id(by_name[k])] = _as_tensor(v, by_name[k])
        missing = [p._name for p in phs if id(p) not in env]
        if missing:
            raise TypeError(f"deferred graph: no value given for placeholder(s) {', '.join(missing)}")
        return _evaluate(self, env)

    def compile(self, **jit_options):
        """One compiled program for this graph: a callable taking the placeholder values."""
        from . import jit
        phs = self.placeholders()
        names = [p._name for p in phs]
        graph = self

        def run(*values):
            return graph(*values)

        run.__name__ = run.__qualname__ = f"graph({', '.join(names)})"
        return jit(run, **jit_options)

    def __bool__(self):
        raise TypeError("a deferred value has no truth value until it is evaluated; call the graph first")

    __hash__ = object.__hash__

    def __getattr__(self, name):
        from .._ops import REGISTRY
        op = REGISTRY.get(name)
        if op is None or not op.method:
            raise AttributeError(f"deferred values have no attribute {name!r}")
        f = op.impl or op.call
        return lambda *args, **kwargs: f(self, *args, **kwargs)


def _deferred_in(v):
    if isinstance(v, Deferred):
        return [v]
    if isinstance(v, (list, tuple)):
        return [d for x in v for d in _deferred_in(x)]
    return []


def _as_tensor(v, p=None):
    from .._creation import tensor
    if isinstance(v, Tensor):
        t = v
    else:
        t = tensor(v, dtype=None if p is None or not isinstance(v, (int, float)) else p._dtype)
    if p is not None and p._shape is not None and tuple(t.shape) != tuple(p._shape):
        raise RuntimeError(f"placeholder {p._name!r} expects shape {list(p._shape)}, got {list(t.shape)}")
    return t


def _evaluate(node, env):
    from .._ops._registry import dispatch
    values = dict(env)

    def sub(v):
        if isinstance(v, Deferred):
            return values[id(v)]
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, tuple):
            return tuple(sub(x) for x in v)
        return v

    for n in node._nodes():
        if id(n) in values:
            continue
        values[id(n)] = dispatch(n._op, [sub(a) for a in n._args], tuple(sub(r) for r in n._rest),
                                 {k: sub(v) for k, v in n._kwargs.items()})
    return values[id(node)]


def record(op, targs, rest, kwargs) -> Deferred:
    """What the dispatcher returns when an op meets a placeholder: a new graph node."""
    return Deferred(op, targs, rest, kwargs)


def placeholder(shape=None, dtype=None, name=None) -> Deferred:
    """A named input of a deferred graph (see the module docstring).

    Args:
        shape: the expected shape (None: any; given, values are checked and ``.shape`` of derived
            values can be computed).
        dtype: the dtype Python numbers are converted to (default: the default float dtype).
        name: the name for ``g(name=value)`` (default ``p0``, ``p1`` ... by creation).
    """
    d = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    p = Deferred(name=name, shape=None if shape is None else tuple(shape), dtype=d)
    if p._name is None:
        p._name = f"p{p._id}"
    return p


def _install_operators():
    from .._ops import FUNCTIONS, REGISTRY
    unary = {"neg", "pos", "abs", "invert"}
    for name, op in REGISTRY.items():
        stem = op.dunder
        if not stem:
            continue
        f = FUNCTIONS.get(name) or op.impl or op.call
        if stem in unary:
            setattr(Deferred, f"__{stem}__", lambda self, f=f: f(self))
            continue
        setattr(Deferred, f"__{stem}__", lambda self, other, f=f: f(self, other))
        if stem not in ("eq", "ne", "lt", "le", "gt", "ge"):
            setattr(Deferred, f"__r{stem}__", lambda self, other, f=f: f(other, self))


_install_operators()
