"""Passage between minitorch_jax and the JAX ecosystem.

- :func:`from_jax` wraps a ``jax.Array`` as a Tensor without copying (``Tensor.jax()`` goes back).
- :func:`to_jax` turns a Module into ``(apply_fn, params)``: a pure JAX function and a dict of
  arrays, for raw ``jax.jit``/``jax.grad``/``jax.vmap`` and optax.
- :func:`jax_function` makes any JAX function a differentiable mt op.
- ``mt.nn.FlaxModule`` (in ``nn/modules/flax_module.py``) wraps a ``flax.nnx`` module as a Module.
"""

from __future__ import annotations

from ._jax_function import jax_function
from ._to_jax import from_jax, to_jax

__all__ = ["from_jax", "jax_function", "to_jax"]
