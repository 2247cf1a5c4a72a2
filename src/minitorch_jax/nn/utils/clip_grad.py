"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``,
``clip_grads_with_norm_``.

Each is one compiled call over all the gradients (not one dispatch per parameter), and works
on traced gradients inside ``mt.jit``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from ..._scalars import device_scalar
from ..._tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


@functools.partial(jax.jit, static_argnums=(1,))
def _norm(arrays, p):
    if p == math.inf:
        per = [jnp.max(jnp.abs(a)).astype(jnp.float32) if a.size else jnp.zeros((), jnp.float32)
               for a in arrays]
        return jnp.max(jnp.stack(per))
    if p == -math.inf:
        per = [jnp.min(jnp.abs(a)) for a in arrays]
        return jnp.min(jnp.stack(per))
    per = [jnp.linalg.norm(a.reshape(-1), ord=p) for a in arrays]
    dt = jnp.result_type(*per)
    return jnp.linalg.norm(jnp.stack([x.astype(dt) for x in per]), ord=p)


@jax.jit
def _scale(arrays, max_norm, total):
    coef = jnp.clip(max_norm / (total + 1e-6), max=1.0)
    return [(a * coef.astype(a.dtype)).astype(a.dtype) for a in arrays]


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector)."""
    ts = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not ts:
        from ..._creation import tensor
        return tensor(0.0)
    total = _norm([t._data for t in ts], norm_type)
    if error_if_nonfinite:
        try:
            bad = not bool(jnp.isfinite(total))
        except jax.errors.ConcretizationTypeError:
            bad = False
        if bad:
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                "anyway, set `error_if_nonfinite=False`")
    return _wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``max_norm / (total_norm + 1e-6)`` if
    that is below 1."""
    ps = [p for p in _as_list(parameters) if p.grad is not None]
    if not ps:
        return
    tot = total_norm._data if isinstance(total_norm, Tensor) else jnp.asarray(total_norm, jnp.float32)
    mx = device_scalar(float(max_norm), tot.dtype) if type(max_norm) in (int, float) else \
        jnp.asarray(max_norm, tot.dtype)
    new = _scale([p.grad._data for p in ps], mx, tot)
    for p, a in zip(ps, new):
        g = p.grad
        g._data = a
        g._version += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Clip the gradient norm of ``parameters`` (computed over all gradients together) in place.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed norm.
        norm_type: the p of the p-norm (``inf`` for the max norm).
        error_if_nonfinite: raise if the total norm is nan/inf.

    Returns:
        The total norm before clipping (a 0-d Tensor).
    """
    params = _as_list(parameters)
    grads = _grads(params)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """Deprecated alias of :func:`clip_grad_norm_`."""
    import warnings
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of `nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@jax.jit
def _clamp(arrays, clip):
    return [jnp.clip(a, -clip.astype(a.dtype), clip.astype(a.dtype)) for a in arrays]


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place."""
    ps = [p for p in _as_list(parameters) if p.grad is not None]
    if not ps:
        return
    new = _clamp([p.grad._data for p in ps], jnp.asarray(float(clip_value), jnp.float32))
    for p, a in zip(ps, new):
        p.grad._data = a
        p.grad._version += 1
