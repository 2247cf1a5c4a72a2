"""Differentiable standard-gamma samples with implicit reparameterization gradients.

The sample is drawn by ``jax.random.gamma`` (one compiled sampler, shared by ``sample`` and
``rsample``); its derivative in the concentration, ``d x / d alpha = -(dF/dalpha) / (dF/dx)`` (F the
gamma CDF), comes from ``jax.lax.random_gamma_grad`` and is attached with mt ops as
``x + (alpha - alpha.detach()) * dx_dalpha``: the value is ``x`` and the gradient flows to ``alpha``
through mt autograd, eagerly and inside ``mt.jit``, without differentiating the sampler's while loop
(whose JVP is slow to compile). Used by the ``rsample`` of Gamma, Chi2, Beta, Dirichlet, StudentT
and FisherSnedecor.

The sampler runs on a flat buffer padded to a power-of-two size (at least 256), so one compiled
program serves many sample shapes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import minitorch_jax as mt

from .._grad_mode import STATE
from .._tensor import _wrap
from .utils import next_key

__all__ = ["standard_gamma"]


@jax.jit
def _gamma(key, a):
    return jax.random.gamma(key, a, a.shape, a.dtype)


@jax.jit
def _dgamma(a, x):
    return jax.lax.random_gamma_grad(jnp.broadcast_to(a, x.shape), x)


def _bucket(n: int) -> int:
    return max(256, 1 << (max(n, 1) - 1).bit_length())


def standard_gamma(concentration, shape) -> mt.Tensor:
    """Gamma(concentration, 1) samples of ``shape`` (``concentration`` broadcasts to it), clamped
    to at least the dtype's smallest normal number; differentiable in ``concentration``."""
    key = next_key()
    shape = tuple(shape)
    n = 1
    for s in shape:
        n *= s
    size = _bucket(n)
    a = concentration._data
    tiny = float(jnp.finfo(a.dtype).tiny)
    flat = jnp.broadcast_to(a, shape).reshape(-1)
    flat = jnp.concatenate([flat, jnp.ones((size - n,), flat.dtype)])
    x = jnp.maximum(_gamma(key, flat)[:n].reshape(shape), tiny)
    out = _wrap(x)
    if not (STATE.grad and concentration.requires_grad):
        return out
    slope = _wrap(_dgamma(a, x))
    c = concentration.expand(shape)
    return out + (c - c.detach()) * slope
