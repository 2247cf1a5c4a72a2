"""``torch.masked`` reductions and normalizations on plain tensors plus a boolean ``mask``.

Each function fills the masked-out elements (``mask`` False) with the identity of the operation
(0 for sum, 1 for prod, -inf for amax/logsumexp/softmax, NaN for median ...) and runs the
ordinary op, so values, gradients and ``mt.jit`` come from the op table. Fully masked slices follow
torch's conventions: sum 0, prod 1, amax -inf (the dtype's minimum for integers), mean/var/std/median
NaN, norm 0, softmax NaN. ``mask`` is broadcast to ``input``'s shape; ``None`` means all True.
A :class:`MaskedTensor` input supplies its own data and mask; the result is then a plain Tensor.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

import minitorch_jax as mt

__all__ = ["sum", "prod", "amax", "amin", "argmax", "argmin", "mean", "median", "norm", "var", "std",
           "logsumexp", "softmax", "log_softmax", "softmin", "normalize", "cumsum", "cumprod",
           "logaddexp"]


def _prep(input, mask, dtype):
    """(input cast to ``dtype``, boolean mask broadcast to input's shape or None)."""
    from ._maskedtensor import MaskedTensor
    if isinstance(input, MaskedTensor):
        own = input.get_mask()
        mask = own if mask is None else mt.logical_and(own, mt.as_tensor(mask).bool())
        input = input.get_data()
    if not isinstance(input, mt.Tensor):
        raise TypeError(f"masked reduction: input must be a Tensor or MaskedTensor, "
                        f"got {type(input).__name__}")
    if dtype is not None:
        input = input.to(dtype)
    if mask is None:
        return input, None
    mask = mt.as_tensor(mask)
    if mask.dtype != mt.bool:
        mask = mask != 0
    if tuple(mask.shape) != tuple(input.shape):
        try:
            mask = mt.broadcast_to(mask, input.shape)
        except Exception:
            raise RuntimeError(f"The expanded size of the mask {list(mask.shape)} must match the input size "
                               f"{list(input.shape)} (mask must be broadcastable to input)") from None
    return input, mask


def _dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or sequence; negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        out.append(d % n)
    return tuple(sorted(set(out)))


def _fill(x, mask, value):
    """``x`` where ``mask`` is True, else ``value`` (a scalar, in x's dtype)."""
    if mask is None:
        return x
    return mt.where(mask, x, mt.full((), value, dtype=x.dtype))


def _lowest(dtype):
    return -math.inf if dtype.is_floating_point else int(jnp.iinfo(dtype.np).min)


def _highest(dtype):
    return math.inf if dtype.is_floating_point else int(jnp.iinfo(dtype.np).max)


def _count(x, mask, dims, keepdim):
    """Number of unmasked elements over ``dims`` (in x's dtype)."""
    if mask is None:
        n = 1
        for d in dims:
            n *= x.shape[d]
        return n
    return mt.sum(mask.to(x.dtype), dims, keepdim=keepdim)


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Sum of the unmasked elements of ``input`` over ``dim`` (all dims if None); 0 for a fully
    masked slice.

    Args:
        input (Tensor or MaskedTensor): the input.
        dim (int or tuple of ints, optional): dimensions to reduce.
        keepdim (bool): keep reduced dims with size 1.
        dtype (mt.dtype, optional): cast ``input`` to this dtype first.
        mask (BoolTensor, optional): broadcastable to ``input``; True keeps an element.
    """
    x, m = _prep(input, mask, dtype)
    return mt.sum(_fill(x, m, 0), _dims(dim, x.ndim), keepdim=keepdim)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Product of the unmasked elements over ``dim``; 1 for a fully masked slice (args as :func:`sum`)."""
    x, m = _prep(input, mask, dtype)
    y = _fill(x, m, 1)
    dims = _dims(dim, x.ndim)
    if x.ndim == 0:
        return mt.prod(y)
    for d in reversed(dims):
        y = mt.prod(y, d, keepdim=True)
    return y if keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in dims])


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Maximum of the unmasked elements over ``dim``; -inf (integer minimum) for a fully masked slice."""
    x, m = _prep(input, mask, dtype)
    return mt.amax(_fill(x, m, _lowest(x.dtype)), _dims(dim, x.ndim), keepdim=keepdim)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Minimum of the unmasked elements over ``dim``; inf (integer maximum) for a fully masked slice."""
    x, m = _prep(input, mask, dtype)
    return mt.amin(_fill(x, m, _highest(x.dtype)), _dims(dim, x.ndim), keepdim=keepdim)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the largest unmasked element along ``dim`` (flattened if None); as torch.masked, the
    result has ``dtype`` (default: input's dtype). A fully masked slice gives index 0."""
    x, m = _prep(input, mask, dtype)
    return mt.argmax(_fill(x, m, _lowest(x.dtype)), dim, keepdim=keepdim).to(x.dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Index of the smallest unmasked element along ``dim`` (see :func:`argmax`)."""
    x, m = _prep(input, mask, dtype)
    return mt.argmin(_fill(x, m, _highest(x.dtype)), dim, keepdim=keepdim).to(x.dtype)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Mean of the unmasked elements over ``dim``; NaN for a fully masked slice (args as :func:`sum`)."""
    x, m = _prep(input, mask, dtype)
    if not (x.is_floating_point() or x.is_complex()):
        raise ValueError(f"mean(): Could not infer output dtype. Input dtype must be either a floating point "
                         f"or complex dtype. Got: {x.dtype}")
    dims = _dims(dim, x.ndim)
    return mt.sum(_fill(x, m, 0), dims, keepdim=keepdim) / _count(x, m, dims, keepdim)


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    """Median (lower middle value) of the unmasked elements along one ``dim`` (default -1); NaN for
    a fully masked slice. Returns the values only, as torch.masked.median."""
    x, m = _prep(input, mask, dtype)
    if x.is_floating_point():
        return mt.nanmedian(_fill(x, m, math.nan), dim, keepdim=keepdim).values
    if m is not None and not bool(mt.all(mt.any(m, dim))):
        raise ValueError("masked median expects no fully masked out rows if dtype is not floating point")
    xf = x.to(mt.float64 if x.element_size() > 2 else mt.float32)
    return mt.nanmedian(_fill(xf, m, math.nan), dim, keepdim=keepdim).values.to(x.dtype)


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Variance of the unmasked elements over ``dim`` with ``correction`` (default 1;
    ``unbiased=False`` means 0); NaN where the count does not exceed the correction."""
    x, m = _prep(input, mask, dtype)
    if correction is None:
        correction = 0 if unbiased is False else 1
    dims = _dims(dim, x.ndim)
    n = _count(x, m, dims, True)
    mu = mt.sum(_fill(x, m, 0), dims, keepdim=True) / n
    dev = x - mu
    sq = dev * dev.conj() if dev.is_complex() else dev * dev
    ss = mt.sum(_fill(sq, m, 0), dims, keepdim=keepdim)  # filled after squaring, as torch (NaN grads)
    n = _count(x, m, dims, keepdim)
    denom = mt.clamp(n - correction, min=0) if isinstance(n, mt.Tensor) else max(n - correction, 0)
    out = ss / denom
    return out.real if out.is_complex() else out


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None, mask=None):
    """Standard deviation of the unmasked elements (square root of :func:`var`)."""
    return mt.sqrt(var(input, dim, unbiased, correction=correction, keepdim=keepdim, dtype=dtype, mask=mask))


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    """Vector ``ord``-norm of the unmasked elements over ``dim``; 0 for a fully masked slice
    (inf for negative ``ord``)."""
    x, m = _prep(input, mask, dtype)
    if ord is None:
        ord = 2.0
    y = _fill(x, m, math.inf if ord < 0 else 0)
    return mt.linalg.vector_norm(y, ord, _dims(dim, x.ndim), keepdim=keepdim)


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    """log(sum(exp(x))) over the unmasked elements; -inf for a fully masked slice."""
    x, m = _prep(input, mask, dtype)
    if not (x.is_floating_point() or x.is_complex()):  # torch: integer fill and integer result
        return mt.logsumexp(_fill(x, m, _lowest(x.dtype)), _dims(dim, x.ndim), keepdim=keepdim).to(x.dtype)
    return mt.logsumexp(_fill(x, m, -math.inf), _dims(dim, x.ndim), keepdim=keepdim)


def softmax(input, dim, *, dtype=None, mask=None):
    """Softmax along ``dim`` over the unmasked elements (masked ones get 0; a fully masked slice NaN)."""
    x, m = _prep(input, mask, dtype)
    return mt.softmax(_fill(x, m, -math.inf), dim)


def log_softmax(input, dim, *, dtype=None, mask=None):
    """Log-softmax along ``dim`` over the unmasked elements (masked ones get -inf)."""
    x, m = _prep(input, mask, dtype)
    return mt.log_softmax(_fill(x, m, -math.inf), dim)


def softmin(input, dim, *, dtype=None, mask=None):
    """Softmin along ``dim`` over the unmasked elements (masked ones get 0)."""
    x, m = _prep(input, mask, dtype)
    return mt.softmax(-_fill(x, m, math.inf), dim)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    """``input / max(norm(input, ord, dim), eps)`` over the unmasked elements (masked ones become 0)."""
    x, m = _prep(input, mask, dtype)
    nrm = norm(x, ord, dim, keepdim=True, mask=m)
    return _fill(x, m, 0) / mt.clamp(nrm, min=eps)


def cumsum(input, dim, *, dtype=None, mask=None):
    """Cumulative sum along ``dim`` treating masked elements as 0."""
    x, m = _prep(input, mask, dtype)
    return mt.cumsum(_fill(x, m, 0), dim).to(x.dtype)


def cumprod(input, dim, *, dtype=None, mask=None):
    """Cumulative product along ``dim`` treating masked elements as 1."""
    x, m = _prep(input, mask, dtype)
    return mt.cumprod(_fill(x, m, 1), dim).to(x.dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    """log(exp(input) + exp(other)) with masked elements of each operand treated as -inf."""
    x, m = _prep(input, input_mask, dtype)
    y, n = _prep(other, other_mask, dtype)
    return mt.logaddexp(_fill(x, m, -math.inf), _fill(y, n, -math.inf))
