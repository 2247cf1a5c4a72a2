"""``torch.autograd.forward_ad``: forward-mode AD with dual tensors.

Inside ``with dual_level():``, ``make_dual(x, t)`` gives a tensor carrying the tangent ``t``. Every op
of the op table that receives such a tensor computes, besides its value, its output tangent as
``jax.jvp`` of the op's kernel (cached and compiled per op and static arguments, like the forward);
``unpack_dual(y)`` reads ``(primal, tangent)`` back. Leaving the level drops all tangents. While no
dual level is active the op dispatcher pays one global check and nothing else.

Differences from torch:

- Only ops that run through the op table propagate tangents (that is nearly every tensor op, and all
  of ``nn.functional`` built on them). An op kernel JAX cannot differentiate forward (a
  ``jax.custom_vjp`` kernel) raises a RuntimeError naming the op; use ``mt.func.jvp`` there.
- A custom ``autograd.Function`` needs no ``jvp`` staticmethod: the ops inside its ``forward``
  propagate tangents themselves.
- Tangents do not cross the boundary of an ``mt.jit``-compiled callable (it traces its inputs as plain
  tensors, so a dual input's tangent is not seen inside and the result has none); enter the dual level
  inside the compiled function instead (``make_dual``/``unpack_dual`` work on traced values).
- One level at a time, as in torch ("Nested forward mode AD is not supported"); for higher-order
  forward derivatives use ``mt.func.jvp``/``jacfwd``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from .. import _dtype
from .._ops import _registry as _reg
from .._tensor import Tensor, _wrap

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual"]

_ATTR = "_fw_tangent"   # tensor.__dict__ entry: (level token, tangent Tensor)


class _Level:
    __slots__ = ("idx",)

    def __init__(self, idx: int):
        self.idx = idx


_CURRENT: list = [None]   # the active _Level, or None


def _tangent_of(t: Tensor, level):
    entry = t.__dict__.get(_ATTR)
    if entry is not None and entry[0] is level:
        return entry[1]
    return None


class _ForwardAD:
    """The registry's FORWARD_AD hook: propagates tangents through dispatched ops."""

    def __init__(self):
        self._cache: dict = {}

    def on_op(self, op, key, targs, arrays, outs) -> None:
        level = _CURRENT[0]
        pos = []
        tans = []
        for i, a in enumerate(targs):
            if isinstance(a, Tensor):
                tan = _tangent_of(a, level)
                if tan is not None:
                    pos.append(i)
                    tans.append(tan._data)
        if not pos or not op.differentiable:
            return
        fn = self._jvp(op, key, tuple(pos))
        try:
            touts = fn(list(arrays), tans)
        except Exception as e:
            raise RuntimeError(
                f"forward-mode AD: no forward derivative for op '{op.name}' ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else ''}). Use mt.func.jvp on a function that avoids "
                "it, or reverse mode.") from e
        for o, t in zip(outs, touts):
            if o._data.dtype in _reg._INEXACT:
                o.__dict__[_ATTR] = (level, _wrap(t))

    def _jvp(self, op, key, pos):
        ck = (op.name, key, pos)
        fn = self._cache.get(ck)
        if fn is None:
            fwd = op.bound(key)

            def fn(arrays, tans):
                def g(*dx):
                    full = list(arrays)
                    for i, d in zip(pos, dx):
                        full[i] = d
                    out = fwd(*full)
                    return tuple(out) if isinstance(out, (tuple, list)) else (out,)

                prim = [arrays[i] for i in pos]
                tans = [t.astype(p.dtype) for t, p in zip(tans, prim)]
                return jax.jvp(g, prim, tans)[1]

            if op.jit:
                fn = jax.jit(fn)
            self._cache[ck] = fn
        return fn

    def on_inplace(self, t: Tensor, res: Tensor) -> None:
        level = _CURRENT[0]
        tan = _tangent_of(res, level)
        if tan is not None:
            t.__dict__[_ATTR] = (level, tan)
        else:
            t.__dict__.pop(_ATTR, None)


_HOOK = _ForwardAD()


def enter_dual_level() -> int:
    """Enter a new forward-AD level and return its index (levels do not nest: see module docs)."""
    if _CURRENT[0] is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _CURRENT[0] = _Level(0)
    _reg.FORWARD_AD = _HOOK
    return 0


def exit_dual_level(*, level=None) -> None:
    """Leave the current forward-AD level; tangents of that level are dropped."""
    cur = _CURRENT[0]
    if cur is None:
        raise RuntimeError("Dual level must be a positive number.")
    if level is not None and level != cur.idx:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _CURRENT[0] = None
    _reg.FORWARD_AD = None


class dual_level:
    """Context manager for forward-mode AD: ``with dual_level(): ...`` enters a level and leaves it
    (dropping all tangents) on exit. Also usable as a decorator.

    Example::

        with fwAD.dual_level():
            x = fwAD.make_dual(primal, tangent)
            y = f(x)
            jvp = fwAD.unpack_dual(y).tangent
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper


def _level_of(level):
    cur = _CURRENT[0]
    if level is not None and (cur is None or level != cur.idx):
        return None
    return cur


def _plain_view(tensor: Tensor) -> Tensor:
    """A new tensor with ``tensor``'s value and autograd history, no tangent."""
    if tensor.requires_grad:
        prev = _reg.FORWARD_AD
        _reg.FORWARD_AD = None
        try:
            out = tensor.view_as(tensor)
        finally:
            _reg.FORWARD_AD = prev
        return out
    return _wrap(tensor._data)


def make_dual(tensor, tangent, *, level=None) -> Tensor:
    """A tensor with the value of ``tensor`` and the forward gradient ``tangent`` (at ``level``, by
    default the current one). Reverse-mode gradients flow through it to ``tensor``.

    Args:
        tensor: a floating-point or complex Tensor (the primal).
        tangent: a Tensor of the same shape (cast to the primal's dtype).
    """
    if _CURRENT[0] is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    lvl = _level_of(level)
    if lvl is None:
        raise RuntimeError(f"make_dual: level {level} is not the current forward AD level")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual(): expected Tensors, got {type(tensor).__name__} and "
                        f"{type(tangent).__name__}")
    if not _dtype.is_inexact(tensor._data.dtype):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not _dtype.is_inexact(tangent._data.dtype):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tangent._data.shape) != tuple(tensor._data.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, "
            f"this is not supported. Tensor is of size {list(tensor._data.shape)} while the given forward "
            f"gradient is of size {list(tangent._data.shape)}.")
    out = _plain_view(tensor)
    tan = tangent if tangent._data.dtype == tensor._data.dtype else _wrap(
        tangent._data.astype(tensor._data.dtype))
    out.__dict__[_ATTR] = (lvl, tan)
    return out


class UnpackedDualTensor(NamedTuple):
    """``(primal, tangent)`` returned by :func:`unpack_dual` (tangent None when there is none)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor, *, level=None) -> UnpackedDualTensor:
    """Split a dual tensor into ``UnpackedDualTensor(primal, tangent)``.

    ``primal`` has the value and autograd history of ``tensor`` but no tangent; ``tangent`` is its
    forward gradient at ``level`` (default: the current level), or None if it has none (also after
    the level was exited).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): expected a Tensor, got {type(tensor).__name__}")
    lvl = _level_of(level)
    tan = _tangent_of(tensor, lvl) if lvl is not None else None
    if tan is None:
        return UnpackedDualTensor(tensor if _CURRENT[0] is None else _plain_view(tensor), None)
    return UnpackedDualTensor(_plain_view(tensor), tan)
