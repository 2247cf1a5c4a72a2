"""``to_jax(module)`` -> ``(apply_fn, params)`` and ``from_jax(array)``."""

from __future__ import annotations

import jax
import numpy as np

from .. import _dtype, _grad_mode
from .._tensor import Tensor, _wrap

__all__ = ["from_jax", "to_jax"]


def from_jax(array) -> Tensor:
    """Wrap a ``jax.Array`` (or a tracer) as a Tensor, without copying.

    Raises:
        TypeError: if ``array`` is not a JAX array, or its dtype has no mt dtype.
    """
    if not isinstance(array, (jax.Array, jax.core.Tracer)):
        raise TypeError(f"from_jax(): expected a jax.Array, got {type(array).__name__}")
    _dtype.from_np(array.dtype)
    return _wrap(array)


def _to_tensor(x):
    if isinstance(x, (jax.Array, jax.core.Tracer)):
        return _wrap(x)
    if isinstance(x, np.ndarray):
        return _wrap(jax.numpy.asarray(x))
    return x


def _to_array(x):
    return x._data if isinstance(x, Tensor) else x


def to_jax(module, *, include_buffers: bool = True):
    """Turn ``module`` into a pure JAX function and its parameters.

    Args:
        module: an ``mt.nn.Module``.
        include_buffers: when True (default) ``params`` holds every ``state_dict`` entry
            (parameters and persistent buffers, keyed exactly like ``module.state_dict()``), so the
            result can be given back to ``module.load_state_dict``. When False it holds only
            ``named_parameters()`` and the buffers are closed over (their values at call time).

    Returns:
        ``(apply_fn, params)``: ``params`` is a dict of ``jax.Array`` (no copies), and
        ``apply_fn(params, *args, **kwargs)`` runs ``module.forward`` through
        ``mt.func.functional_call`` with those arrays, args given as jax/numpy arrays (any pytree),
        and returns the output with every Tensor replaced by its jax array. It is pure: jit-,
        grad- and vmap-able; buffer updates made during the call (BatchNorm running statistics in
        training mode) are discarded, so call ``module.eval()`` first for inference-style use.
        Randomness (dropout in training mode) draws from mt's global generator and is not
        supported inside ``jax.jit``: use ``module.eval()`` there.
    """
    from ..func import functional_call

    if include_buffers:
        named = module.state_dict(keep_vars=True)
    else:
        named = dict(module.named_parameters())
    params = {k: v._data for k, v in named.items()}

    def apply_fn(params, *args, **kwargs):
        tparams = {k: _wrap(v) for k, v in params.items()}
        targs, tkwargs = jax.tree_util.tree_map(_to_tensor, (args, kwargs))
        state = _grad_mode.STATE
        prev = state.grad
        state.grad = False
        try:
            out = functional_call(module, tparams, targs, tkwargs)
        finally:
            state.grad = prev
        return jax.tree_util.tree_map(_to_array, out, is_leaf=lambda x: isinstance(x, Tensor))

    return apply_fn, params
