"""``jax_function``: any JAX function as a differentiable mt op (gradient by ``jax.vjp``)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .._jax_op import apply_jax
from .._tensor import Tensor

__all__ = ["jax_function"]


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def jax_function(f=None, *, name: str | None = None):
    """Make ``f`` (a function of jax arrays returning an array or a pytree of arrays) callable on
    mt Tensors, as one op on the autograd tape whose backward is ``jax.vjp`` of ``f``.

    Tensors anywhere in the arguments (also inside lists/tuples/dicts, and keyword arguments) are
    passed to ``f`` as their jax arrays; other values are passed unchanged. The result has the
    same structure with every array leaf a Tensor; floating/complex outputs carry gradients.
    Works eagerly and inside ``mt.jit``. Usable as ``@jax_function`` or ``jax_function(f, name=...)``.

    Example::

        softplus = mt.interop.jax_function(jax.nn.softplus)
        y = softplus(x)          # y.grad_fn is a JaxFunctionBackward-style node
    """
    if f is None:
        return functools.partial(jax_function, name=name)
    label = name or getattr(f, "__name__", "jax_function")

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_tensor)
        pos = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]
        tensors = [leaves[i] for i in pos]
        box = {}

        def fn(*arrays):
            vals = list(leaves)
            for i, a in zip(pos, arrays):
                vals[i] = a
            a, kw = jax.tree_util.tree_unflatten(treedef, vals)
            flat, out_def = jax.tree_util.tree_flatten(f(*a, **kw))
            box["def"] = out_def
            return tuple(jnp.asarray(o) for o in flat)

        outs = apply_jax(fn, tensors, label)
        return jax.tree_util.tree_unflatten(box["def"], list(outs))

    return wrapper
