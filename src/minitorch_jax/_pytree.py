"""Tensor as a JAX pytree node, so ``jax.tree_util``, ``jax.jit`` and ``jax.grad`` see its array.

Only the array is a child; autograd state is not carried through JAX transforms (a Tensor
rebuilt from a pytree is a fresh leaf with ``requires_grad`` kept as metadata).
"""

from __future__ import annotations

import jax

from ._tensor import Tensor, _DataAlias, _DetachedAlias, _wrap

_ALIASES = (_DataAlias, _DetachedAlias)


def _flatten(t: Tensor):
    cls = type(t)
    return (t._data,), (Tensor if cls in _ALIASES else cls, t.requires_grad)  # (.detach(): a plain Tensor)


def _unflatten(aux, children):
    cls, requires_grad = aux
    return _wrap(children[0], requires_grad, cls)


def register_pytree(cls=Tensor) -> None:
    """Register ``cls`` (Tensor or a subclass) as a pytree node; safe to call twice."""
    try:
        jax.tree_util.register_pytree_node(cls, _flatten, _unflatten)
    except ValueError:
        pass


register_pytree(Tensor)
for _cls in _ALIASES:
    register_pytree(_cls)
