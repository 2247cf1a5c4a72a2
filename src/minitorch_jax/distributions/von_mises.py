"""``VonMises(loc, concentration)`` (``torch.distributions.von_mises``): the circular normal
distribution on ``[-pi, pi)``. Sampling uses Best and Fisher's rejection method inside one compiled
``lax.while_loop`` (so it also works inside ``mt.jit``); the buffer is padded to a power-of-two size so
one program serves many sample shapes. ``entropy``, ``cdf`` and ``icdf`` are not implemented (as in
torch)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

import minitorch_jax as mt

from .._tensor import _wrap
from . import constraints
from ._standard_gamma import _bucket
from .distribution import Distribution
from .utils import broadcast_all, next_key

__all__ = ["VonMises"]


@jax.jit
def _rejection(key, loc, conc):
    """Best-Fisher rejection sampler on flat arrays; loops until every element is accepted."""
    small = conc < 1e-5
    k = jnp.where(small, 1.0, conc)
    tau = 1 + jnp.sqrt(1 + 4 * k * k)
    rho = (tau - jnp.sqrt(2 * tau)) / (2 * k)
    r = jnp.where(k < 1e-3, 1 / k + k, (1 + rho * rho) / (2 * rho))

    def cond(state):
        return ~jnp.all(state[2])

    def body(state):
        key, x, done = state
        key, k1, k2, k3 = jax.random.split(key, 4)
        u1 = jax.random.uniform(k1, x.shape, x.dtype)
        u2 = jax.random.uniform(k2, x.shape, x.dtype, minval=jnp.finfo(x.dtype).tiny)
        u3 = jax.random.uniform(k3, x.shape, x.dtype)
        z = jnp.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = k * (r - f)
        accept = (c * (2 - c) - u2 > 0) | (jnp.log(c / u2) + 1 - c >= 0)
        theta = jnp.sign(u3 - 0.5) * jnp.arccos(jnp.clip(f, -1, 1))
        theta = jnp.where(small, 2 * math.pi * (u1 - 0.5), theta)  # ~uniform for tiny concentration
        take = accept & ~done
        return key, jnp.where(take, theta, x), done | take

    init = (key, jnp.zeros_like(loc), jnp.zeros(loc.shape, bool))
    _, x, _ = jax.lax.while_loop(cond, body, init)
    return jnp.mod(x + loc + math.pi, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution, density ``exp(concentration * cos(x - loc)) / (2 pi I0(concentration))``.

    Args:
        loc (float or Tensor): the mean angle (radians). concentration (float or Tensor): > 0.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        log_i0 = mt.log(mt.special.i0e(k)) + k
        return k * mt.cos(value - self.loc) - math.log(2 * math.pi) - log_i0

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        n = math.prod(shape)
        size = _bucket(n)
        dt = self.loc.dtype.np

        def flat(t):
            f = jnp.broadcast_to(t.detach()._data, shape).reshape(-1)
            return jnp.concatenate([f, jnp.ones((size - n,), dt)])

        x = _rejection(next_key(), flat(self.loc), flat(self.concentration))
        return _wrap(x[:n].reshape(shape).astype(dt))

    @property
    def mean(self):
        """The circular mean (``loc``)."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance ``1 - I1(k) / I0(k)``."""
        k = self.concentration
        return 1 - mt.special.i1e(k) / mt.special.i0e(k)
