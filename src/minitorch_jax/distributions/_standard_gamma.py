"""Differentiable standard-gamma samples: ``jax.random.gamma``'s implicit reparameterization
gradient (d sample / d concentration) connected to mt autograd through ``apply_jax``. Used by the
``rsample`` of Gamma, Chi2, Beta, Dirichlet and StudentT.

The sampler (a while loop, slow to compile) runs on a flat buffer padded to a power-of-two size
(at least 256), so one compiled program serves many sample shapes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import minitorch_jax as mt

from .._jax_op import apply_jax
from .utils import next_key

__all__ = ["standard_gamma"]


@jax.jit
def _gamma(key, a):
    return jax.random.gamma(key, a, a.shape, a.dtype)


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
    tiny = float(jnp.finfo(concentration.dtype.np).tiny)

    def draw(a):
        flat = jnp.broadcast_to(a, shape).reshape(-1)
        flat = jnp.concatenate([flat, jnp.ones((size - n,), flat.dtype)])
        return (jnp.maximum(_gamma(key, flat)[:n].reshape(shape), tiny),)

    (out,) = apply_jax(draw, [concentration], name="standard_gamma")
    return out
