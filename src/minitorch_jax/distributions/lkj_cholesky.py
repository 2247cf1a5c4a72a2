"""``LKJCholesky(dim, concentration=1.0)`` (``torch.distributions.lkj_cholesky``): the LKJ distribution
over Cholesky factors of ``dim x dim`` correlation matrices (Lewandowski, Kurowicka & Joe, 2009).

Sampling uses the onion method: row ``k`` gets squared norm ``y ~ Beta(k / 2, eta + (dim - 1 - k) / 2)``
off the diagonal, spread uniformly over the sphere, and ``sqrt(1 - y)`` on the diagonal. No ``rsample``.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

import minitorch_jax as mt

from .._tensor import _wrap
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, next_key

__all__ = ["LKJCholesky"]


@functools.partial(jax.jit, static_argnums=(2, 3))
def _onion(key, eta, d, shape):
    """One compiled program: row ``k`` of the factor is ``sqrt(y_k) u_k`` off the diagonal (``u_k`` uniform
    on the unit sphere of the first ``k`` coordinates) and ``sqrt(1 - y_k)`` on it."""
    k_beta, k_dir = jax.random.split(key)
    k = jnp.arange(1, d, dtype=eta.dtype)
    eta = jnp.broadcast_to(eta, shape)[..., None]
    y = jax.random.beta(k_beta, jnp.broadcast_to(k / 2, shape + (d - 1,)), eta + (d - 1 - k) / 2,
                        shape + (d - 1,), eta.dtype)
    mask = jnp.tril(jnp.ones((d, d), eta.dtype), -1)[1:]
    u = jax.random.normal(k_dir, shape + (d - 1, d), eta.dtype) * mask
    u = u / jnp.linalg.norm(u, axis=-1, keepdims=True)
    diag = jnp.maximum(jnp.sqrt(1 - y), jnp.finfo(eta.dtype).tiny)
    rows = jnp.sqrt(y)[..., None] * u + (jnp.eye(d, k=1, dtype=eta.dtype)[:-1] * diag[..., None])
    first = jnp.broadcast_to(jnp.eye(d, dtype=eta.dtype)[:1], shape + (1, d))
    return jnp.concatenate([first, rows], -2)


class LKJCholesky(Distribution):
    """LKJ distribution of lower Cholesky factors of correlation matrices; density of the correlation
    matrix ``M`` proportional to ``det(M) ** (concentration - 1)``.

    Args:
        dim (int): matrix size (>= 2). concentration (float or Tensor): eta (> 0), batch shaped.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if not isinstance(dim, int) or dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new._batch_shape = mt.Size(tuple(batch_shape))
        return new

    def sample(self, sample_shape=()):
        """Samples (no gradient) of shape ``sample_shape + batch_shape + (dim, dim)`` (onion method)."""
        shape = tuple(self._extended_shape(sample_shape))[:-2]
        eta = self.concentration.detach()._data
        return _wrap(_onion(next_key(), eta, self.dim, shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        d = self.dim
        diag = mt.diagonal(value, dim1=-2, dim2=-1)[..., 1:]
        order = 2 * (self.concentration - 1).unsqueeze(-1) + d - mt.arange(2, d + 1, dtype=value.dtype)
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = d - 1
        alpha = self.concentration + 0.5 * dm1
        norm = 0.5 * dm1 * math.log(math.pi) + mt.mvlgamma(alpha - 0.5, dm1) - mt.lgamma(alpha) * dm1
        return unnormalized - norm
