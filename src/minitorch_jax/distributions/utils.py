"""Shared helpers of ``mt.distributions`` (``torch.distributions.utils``).

``broadcast_all`` turns numbers into tensors and broadcasts parameters together;
``probs_to_logits`` / ``logits_to_probs`` / ``clamp_probs`` convert probability parameters;
``lazy_property`` caches a derived parameter on first use; ``next_key`` draws a fresh JAX key
from mt's global generator, so samples are reproducible with ``mt.manual_seed`` and new on every
call of an ``mt.jit``-compiled function (the generator's key is threaded through the program).
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

import minitorch_jax as mt

from .. import _random
from .._errors import TracedValueError
from .._tensor import Tensor, _wrap

__all__ = ["broadcast_all", "probs_to_logits", "logits_to_probs", "clamp_probs", "lazy_property",
           "all_true", "next_key", "sum_rightmost", "as_size", "euler_constant", "vec_to_tril_matrix",
           "tril_matrix_to_vec"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values):
    """Broadcast ``values`` (Tensors or numbers) together; numbers become tensors of the first
    tensor's dtype (the default dtype if there is none). Returns a tuple of Tensors.

    Raises:
        ValueError: a value is neither a Tensor nor a number (torch's message).
    """
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or "
                             f"objects implementing __torch_function__, got {type(v).__name__}.")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), mt.get_default_dtype())
    ts = [v if isinstance(v, Tensor) else mt.tensor(v, dtype=dtype) for v in values]
    if len(ts) == 1:
        return (ts[0],)
    return tuple(mt.broadcast_tensors(*ts))


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamp probabilities into ``[eps, 1 - eps]`` (eps of their dtype)."""
    eps = mt.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits of ``probs``: ``log(p) - log1p(-p)`` if ``is_binary`` else ``log(p)`` (clamped)."""
    p = clamp_probs(probs)
    if is_binary:
        return mt.log(p) - mt.log1p(-p)
    return mt.log(p)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities of ``logits``: ``sigmoid`` if ``is_binary`` else ``softmax`` over the last dim."""
    if is_binary:
        return mt.sigmoid(logits)
    return mt.softmax(logits, dim=-1)


class lazy_property:  # noqa: N801 - torch's name
    """A property computed on first access and cached in the instance's ``__dict__``."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def all_true(t) -> bool:
    """``bool(t.all())``, or True when the value is traced (inside ``mt.jit``: not checkable)."""
    if not isinstance(t, Tensor):
        return bool(t)
    try:
        return bool(t.all())
    except (TracedValueError, jax.errors.ConcretizationTypeError):
        return True


def next_key():
    """A fresh typed JAX PRNG key split off mt's default generator (advances its state)."""
    gen = _random.default_generator
    gen._key, sub = _random._SPLIT(_random._jax_key(gen))
    return jax.random.wrap_key_data(sub, impl="threefry2x32")


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dimensions of ``value`` (``dim == 0``: unchanged)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def as_size(shape) -> mt.Size:
    """``shape`` (a Size, tuple or list of ints) as an ``mt.Size``."""
    if isinstance(shape, int):
        raise TypeError(f"sample_shape must be a tuple or torch.Size, not int ({shape}); use ({shape},)")
    return mt.Size(tuple(int(s) for s in shape))


def jax_sample(fn, dtype) -> Tensor:
    """``fn(key)`` (a jax array of samples) drawn with a fresh key, as a Tensor of ``dtype``."""
    return _wrap(fn(next_key()).astype(jnp.dtype(dtype.np if hasattr(dtype, "np") else dtype)))


def _tril_gather(n, offset):
    """Row-major flat indices of the ``tril(offset)`` entries of an ``n x n`` matrix."""
    rows, cols = np.tril_indices(n, offset)
    return rows * n + cols


def vec_to_tril_matrix(vec, diag=0):
    """Fill the ``tril(diag)`` part of a square matrix, row by row, from the last dim of ``vec``."""
    m = vec.shape[-1]
    n = round((-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * m + 4 * abs(diag) * (diag + 1))) / 2)
    flat = _tril_gather(n, diag)
    if len(flat) != m:
        raise ValueError(f"vec_to_tril_matrix: a last dim of {m} does not fill the tril({diag}) of a square "
                         "matrix")
    pos = np.zeros(n * n, dtype=np.int64)
    pos[flat] = np.arange(1, m + 1)
    padded = mt.cat([mt.zeros_like(vec[..., :1]), vec], -1)
    return padded[..., mt.tensor(pos)].reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat, diag=0):
    """The ``tril(diag)`` entries of ``mat``, row by row, along a new last dim."""
    n = mat.shape[-1]
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., mt.tensor(_tril_gather(n, diag))]
