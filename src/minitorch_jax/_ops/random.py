"""In-place fills: the random ones (``uniform_``, ``normal_`` ...) and ``fill_``, ``zero_``, ``copy_``.

Random fills draw from a :class:`~minitorch_jax.Generator` (one cached jitted call, see
``_random.py``) and rebind the tensor's array. They are not differentiable: like torch, a
non-leaf that requires grad gets a grad_fn passing a zero gradient back, and a leaf that
requires grad is refused outside ``no_grad`` (``nn.init`` runs them under ``no_grad``).

``fill_`` and ``copy_`` are differentiable with respect to the value/source (table ops
``_fill`` and ``_copy_from``, committed in place).
"""

from __future__ import annotations

import builtins
import functools

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .. import _random as R
from .._errors import DTypeError, ShapeError
from .._grad_mode import STATE
from .._meta import is_meta_array
from .._tensor import Tensor, _wrap, _wrote_view
from ._helpers import broadcast_check
from ._registry import REGISTRY, check_inplace, commit_inplace, register

__all__ = ["install"]


# ----- table ops ------------------------------------------------------------------------------
def _sample_passthrough(sample, *inputs):
    """The sample itself; the inputs only receive (zero) gradients."""
    return sample


# grad_fn class names torch gives a sampled result whose inputs require grad
_ZERO_GRAD_OPS = {
    "_normal_nograd": "NormalBackward3", "_bernoulli_nograd": "BernoulliBackward0",
    "_poisson_nograd": "PoissonBackward0", "_uniform__nograd": "UniformBackward0",
    "_normal__nograd": "NormalBackward0", "_random__nograd": "RandomBackward2",
    "_bernoulli__nograd": "BernoulliBackward2", "_exponential__nograd": "ExponentialBackward0",
    "_geometric__nograd": "GeometricBackward0", "_cauchy__nograd": "CauchyBackward0",
    "_log_normal__nograd": "LogNormalBackward0",
}
for _name, _grad in _ZERO_GRAD_OPS.items():
    register(_name, nin=-1, method=False, function=False, grad_name=_grad)(_sample_passthrough)


@register("_fill", nin=2, method=False, function=False, grad_name="FillBackward3")
def _fill(input, value):
    """``input``'s shape and dtype filled with the 0-d ``value`` (differentiable in ``value``)."""
    if jnp.ndim(value) != 0:
        raise ShapeError(f"fill_(): fill_ only supports 0-dimension value tensor but got tensor "
                         f"with {jnp.ndim(value)} dimensions.")
    v = jnp.asarray(value)
    if jnp.iscomplexobj(v) and not jnp.iscomplexobj(input):
        v = jnp.real(v)
    return jnp.broadcast_to(v.astype(input.dtype), input.shape)


@register("_copy_from", nin=2, method=False, function=False, grad_name="CopyBackwards")
def _copy_from(input, src):
    """``src`` broadcast to ``input``'s shape and cast to its dtype (differentiable in ``src``)."""
    shape = broadcast_check("copy_", input, src)
    if shape != input.shape:
        raise ShapeError(f"copy_(): output with shape {list(input.shape)} doesn't match the "
                         f"broadcast shape {list(shape)}")
    s = jnp.asarray(src)
    if jnp.iscomplexobj(s) and not jnp.iscomplexobj(input):
        s = jnp.real(s)  # torch warns and drops the imaginary part
    return jnp.broadcast_to(s.astype(input.dtype), input.shape)


# ----- in-place methods ------------------------------------------------------------------------
def _commit(t: Tensor, arr, name: str) -> Tensor:
    """Rebind ``t`` to a sample; a non-leaf requiring grad gets a zero-gradient grad_fn."""
    if t.requires_grad and STATE.grad:  # leaves were refused by check_inplace
        res = REGISTRY[f"_{name}_nograd"].call(_wrap(arr), t)
        return commit_inplace(t, res, name)
    t._data = arr
    t._version += 1
    _wrote_view(t, name + "_")
    return t


def _floating_only(t: Tensor, name: str, kernel: str, complex_ok: bool = False) -> None:
    dt = t._data.dtype
    if not (_dtype.is_floating(dt) or (complex_ok and dt.kind == "c")):
        raise R.RandomDTypeError(f"{name}(): \"{kernel}\" not implemented for '{R._tname(dt)}' "
                                 f"(tensor dtype {t.dtype}); {name} needs a floating point tensor")


def _fill_random(t: Tensor, name: str, kind: str, generator, *params) -> Tensor:
    check_inplace(t, name)
    gen = R.resolve(generator, name)
    arr = R.draw(gen, kind, (t._data.shape, t._data.dtype), *params)
    return _commit(t, arr, name)


def _from_to(args, kwargs, name):
    """torch's ``(from, to)`` arguments: ``from`` is a Python keyword, so it may arrive in kwargs."""
    extra = set(kwargs) - {"from", "to"}
    if extra:
        raise TypeError(f"{name}() got unexpected keyword arguments {sorted(extra)}")
    if len(args) > 2:
        raise TypeError(f"{name}() takes at most 2 positional arguments ({len(args)} given)")
    vals = list(args) + [None] * (2 - len(args))
    return kwargs.get("from", vals[0]), kwargs.get("to", vals[1])


def uniform_(self, *args, generator=None, **kwargs) -> Tensor:
    """Fill with samples from the uniform distribution on ``[from, to)`` (default ``[0, 1)``).

    Args:
        from, to: the bounds (positional, or ``**{'from': a, 'to': b}``); ``from <= to``.
        generator: the :class:`Generator` to draw from.
    """
    lo, hi = _from_to(args, kwargs, "uniform_")
    lo, hi = 0.0 if lo is None else lo, 1.0 if hi is None else hi
    lo, hi = builtins.float(R._num(lo, "uniform_", "from")), builtins.float(
        R._num(hi, "uniform_", "to"))
    _floating_only(self, "uniform_", "check_uniform_bounds", complex_ok=True)
    if lo > hi:
        raise ShapeError(f"uniform_(): uniform_ expects to return a [from, to) range, but found "
                         f"from={lo} > to={hi}")
    if lo == 0.0 and hi == 1.0:  # the common case needs no parameters
        check_inplace(self, "uniform_")
        arr = R.draw(R.resolve(generator, "uniform_"), "rand",
                     (self._data.shape, self._data.dtype))
        return _commit(self, arr, "uniform_")
    return _fill_random(self, "uniform_", "uniform", generator, lo, hi)


def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with samples from ``N(mean, std**2)``."""
    mean = builtins.float(R._num(mean, "normal_", "mean"))
    std = builtins.float(R._num(std, "normal_", "std"))
    _floating_only(self, "normal_", "normal_kernel_cpu", complex_ok=True)
    R._check_std(std, "normal_")
    return _fill_random(self, "normal_", "normal", generator, mean, std)


def _max_random(dt: np.dtype) -> int:
    """The largest value ``random_()`` may produce for a dtype (torch: 2**mantissa for floats)."""
    if dt.kind == "b":
        return 1
    if dt.kind in "iu":
        return int(np.iinfo(dt).max)
    digits = {2: 11, 4: 24, 8: 53}[dt.itemsize] if dt.name != "bfloat16" else 8
    return 1 << digits


def random_(self, *args, generator=None, **kwargs) -> Tensor:
    """Fill with integers drawn uniformly from ``[from, to)``.

    ``random_()`` covers ``[0, max]`` (max: the dtype's largest integer, or ``2**mantissa`` for
    floating types), ``random_(to)`` covers ``[0, to)`` and ``random_(from, None)`` ``[from, max]``.
    """
    lo, hi = _from_to(args, kwargs, "random_")
    if len(args) == 1 and not kwargs:  # random_(to)
        lo, hi = 0, args[0]
    lo = 0 if lo is None else lo
    dt = self._data.dtype
    if dt.kind == "c":
        raise R.RandomDTypeError(f"random_(): \"random_from_to\" not implemented for "
                                 f"'{R._tname(dt)}'")
    lo = builtins.int(R._num(lo, "random_", "from"))
    if hi is None:
        hi = min(_max_random(dt) + 1, (1 << 63) - 1)  # int64's max itself is left out
        if lo >= hi:
            raise ShapeError(f"random_(): random_ expects 'from' to be less than 'to', but got "
                             f"from={lo} >= to={hi}")
    else:
        hi = builtins.int(R._num(hi, "random_", "to"))
        R._int_bounds(lo, hi, dt, "random_")
    return _fill_random(self, "random_", "randint", generator, lo, hi)


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability ``p`` (a number or a tensor broadcast to self)."""
    check_inplace(self, "bernoulli_")
    gen = R.resolve(generator, "bernoulli_")
    arr = R.bernoulli_draw(gen, self._data.shape, self._data.dtype, p, "bernoulli_")
    return _commit(self, arr, "bernoulli_")


def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution with rate ``lambd`` (> 0)."""
    lambd = builtins.float(R._num(lambd, "exponential_", "lambd"))
    if not _dtype.is_floating(self._data.dtype):
        raise DTypeError(f"exponential_(): Exponential distribution is a continuous probability "
                         f"distribution. dtype must be a floating point but you specified "
                         f"{self.dtype}")
    if not lambd > 0:
        raise ShapeError(f"exponential_(): exponential_ expects lambda > 0.0, but found "
                         f"lambda={lambd}")
    return _fill_random(self, "exponential_", "exponential", generator, lambd)


def geometric_(self, p, *, generator=None) -> Tensor:
    """Fill with samples from the geometric distribution on ``{1, 2, ...}`` (success prob. ``p``)."""
    p = builtins.float(R._num(p, "geometric_", "p"))
    if not 0 < p < 1:
        raise ShapeError(f"geometric_(): geometric_ expects p to be in (0, 1), but got p={p}")
    if self._data.dtype.kind in "bc":
        raise R.RandomDTypeError(f"geometric_(): \"geometric_cpu\" not implemented for "
                                 f"'{R._tname(self._data.dtype)}'")
    return _fill_random(self, "geometric_", "geometric", generator, p)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the Cauchy distribution ``median + sigma * tan(pi * (u - 1/2))``."""
    median = builtins.float(R._num(median, "cauchy_", "median"))
    sigma = builtins.float(R._num(sigma, "cauchy_", "sigma"))
    if not _dtype.is_floating(self._data.dtype):
        raise DTypeError(f"cauchy_(): Cauchy distribution is a continuous probability "
                         f"distribution. dtype must be a floating point but you specified "
                         f"{self.dtype}")
    if not sigma > 0:
        raise ShapeError(f"cauchy_(): cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill_random(self, "cauchy_", "cauchy", generator, median, sigma)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with ``exp(N(mean, std**2))`` samples (``std > 0``)."""
    mean = builtins.float(R._num(mean, "log_normal_", "mean"))
    std = builtins.float(R._num(std, "log_normal_", "std"))
    _floating_only(self, "log_normal_", "log_normal_cpu")
    if not std > 0:
        raise ShapeError(f"log_normal_(): log_normal_ expects std > 0.0, but found std={std}")
    return _fill_random(self, "log_normal_", "log_normal", generator, mean, std)


def fill_(self, value) -> Tensor:
    """Fill with ``value`` (a number or a 0-d tensor, cast to self's dtype; differentiable in it)."""
    check_inplace(self, "fill_")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ShapeError(f"fill_(): fill_ only supports 0-dimension value tensor but got tensor "
                         f"with {value.ndim} dimensions.")
    if isinstance(value, builtins.complex) and value.imag != 0 and self._data.dtype.kind != "c":
        raise ShapeError(f"fill_(): value {value} cannot be converted to type {self.dtype} "
                         f"without overflow")
    if isinstance(value, builtins.float) and self._data.dtype.kind in "fc":
        value = np.asarray(value, self._data.dtype)  # not via the default float dtype: keep f64 exact
    return commit_inplace(self, REGISTRY["_fill"].call(self, value), "fill_")


def zero_(self) -> Tensor:
    """Fill with zeros."""
    check_inplace(self, "zero_")
    return commit_inplace(self, REGISTRY["_fill"].call(self, 0), "zero_")


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` into self: broadcast to self's shape and cast to its dtype.

    Differentiable with respect to ``src`` (self's old value gets a zero gradient), as in torch.
    """
    check_inplace(self, "copy_")
    return commit_inplace(self, REGISTRY["_copy_from"].call(self, src), "copy_")


def bernoulli(self, p=None, *, generator=None) -> Tensor:
    """See :func:`minitorch_jax.bernoulli` (``self`` holds the probabilities unless ``p`` is given)."""
    return R.bernoulli(self, p, generator=generator)


def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """See :func:`minitorch_jax.multinomial`."""
    return R.multinomial(self, num_samples, replacement, generator=generator)


_METHODS = (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, cauchy_,
            log_normal_, fill_, zero_, copy_, bernoulli, multinomial)


def _keeping_meta(fill):
    """``fill`` leaving a meta tensor as it is (no values to draw: ``nn.init`` on the meta device)."""
    @functools.wraps(fill)
    def method(self, *args, **kwargs):
        if is_meta_array(self._data):
            return self
        return fill(self, *args, **kwargs)
    return method


def install() -> None:
    """Put the in-place fills (and ``bernoulli``/``multinomial``) on :class:`Tensor`."""
    for f in _METHODS:
        if f in _METHODS[:8]:  # the random fills
            f = _keeping_meta(f)
        f.__qualname__ = "Tensor." + f.__name__
        setattr(Tensor, f.__name__, f)
