"""Run an arbitrary function of jax arrays as one differentiable mt op (gradient by ``jax.vjp``).

Used where an op is built at call time rather than taken from the op table: compiled control
flow (``mt.cond``, ``mt.scan``) and ``mt.interop.jax_function``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _dtype
from ._autograd_graph import Node, accumulate_node
from ._grad_mode import STATE
from ._tensor import Tensor, _wrap

__all__ = ["apply_jax", "tensors_to_arrays", "arrays_to_tensors"]


def tensors_to_arrays(tree):
    """Replace every Tensor in a nested structure by its jax array."""
    return jax.tree_util.tree_map(lambda t: t._data if isinstance(t, Tensor) else t, tree,
                                  is_leaf=lambda t: isinstance(t, Tensor))


def arrays_to_tensors(tree):
    """Replace every jax array in a nested structure by a Tensor."""
    return jax.tree_util.tree_map(lambda a: _wrap(a) if isinstance(a, (jax.Array, jax.core.Tracer)) else a,
                                  tree)


class JaxFunctionBackward(Node):
    """Backward of :func:`apply_jax`: applies the saved ``jax.vjp`` pullback."""

    __slots__ = ("_vjp", "_mask", "_label")
    _saves = True

    def name(self) -> str:
        return self._label

    def _apply(self, grads, create_graph):
        if create_graph:
            raise RuntimeError(f"{self._label}: double backward (create_graph=True) is not supported here")
        self._check_not_freed()
        cts = tuple(jnp.zeros(s, d) if g is None else g._data.astype(d)
                    for g, (s, d) in zip(grads, self._out_meta))
        res = self._vjp(cts)
        return [_wrap(r) for r, m in zip(res, self._mask) if m]

    def _release(self):
        self._freed = True
        self._vjp = None


def apply_jax(fn, tensors, name: str = "jax_function"):
    """``fn(*arrays) -> tuple of arrays`` applied to ``tensors``; returns a tuple of Tensors that
    are connected to autograd (when any input requires grad) through ``jax.vjp(fn)``."""
    arrays = [t._data if isinstance(t, Tensor) else jnp.asarray(t) for t in tensors]
    mask = [isinstance(t, Tensor) and t.requires_grad and _dtype.is_inexact(t._data.dtype) for t in tensors]
    if not (STATE.grad and any(mask)):
        return tuple(_wrap(o) for o in fn(*arrays))
    outs, vjp = jax.vjp(lambda *a: tuple(fn(*a)), *arrays)
    edges = []
    for t, m in zip(tensors, mask):
        if m:
            gf = t.grad_fn
            edges.append((gf, t._output_nr) if gf is not None else (accumulate_node(t), 0))
    diff = [i for i, o in enumerate(outs) if _dtype.is_inexact(o.dtype)]
    node = JaxFunctionBackward(tuple(edges), tuple((outs[i].shape, outs[i].dtype) for i in diff))
    node._mask = mask
    node._label = name[:1].upper() + name[1:] + "Backward"

    def pullback(cts):
        full = list(jnp.zeros(o.shape, o.dtype) if not _dtype.is_inexact(o.dtype) else None for o in outs)
        it = iter(cts)
        for i in diff:
            full[i] = next(it)
        full = [jnp.zeros(o.shape, jax.dtypes.float0) if not _dtype.is_inexact(o.dtype) else c
                for o, c in zip(outs, full)]
        return vjp(tuple(full))

    node._vjp = pullback
    result = []
    k = 0
    for i, o in enumerate(outs):
        t = _wrap(o)
        if i in diff:
            t.requires_grad = True
            t.grad_fn = node
            t._output_nr = k
            k += 1
        result.append(t)
    return tuple(result)
