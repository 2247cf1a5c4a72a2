"""Waiting for JAX work: block on every jax array (or minitorch_jax Tensor) inside a result."""

from __future__ import annotations

import jax

__all__ = ["synchronize"]


def _leaves(obj, out):
    from ..._tensor import Tensor
    if isinstance(obj, Tensor):
        out.append(obj._data)
    elif isinstance(obj, jax.Array):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _leaves(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _leaves(o, out)
    elif hasattr(obj, "_fields"):  # namedtuple-like return types
        for o in obj:
            _leaves(o, out)
    return out


def synchronize(result=None):
    """Block until every jax array / Tensor in ``result`` (nested lists, tuples, dicts) is computed,
    then wait for pending JAX side effects (``jax.effects_barrier``). Returns ``result``.

    JAX dispatches asynchronously, so a clock read is only meaningful after this: time a statement
    that *returns* (or assigns) what it computes, and that value is what gets waited for.
    """
    arrays = _leaves(result, [])
    if arrays:
        jax.block_until_ready(arrays)
    jax.effects_barrier()
    return result
