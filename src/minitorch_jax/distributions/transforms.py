"""Bijections (``torch.distributions.transforms``) for ``TransformedDistribution`` and the constraint
registries: elementwise ``ExpTransform, AffineTransform, SigmoidTransform, TanhTransform, PowerTransform,
AbsTransform, SoftplusTransform``, composition ``ComposeTransform`` and ``identity_transform``, and (in
``_transforms_event``) the event-shaped ``SoftmaxTransform, StickBreakingTransform, ReshapeTransform,
IndependentTransform, CatTransform, StackTransform, LowerCholeskyTransform, PositiveDefiniteTransform,
CorrCholeskyTransform, CumulativeDistributionTransform``.

``cache_size`` is accepted (0 or 1) for torch compatibility; values are recomputed rather than cached
(JAX arrays are immutable and recomputation is cheap and jit-safe).
"""

from __future__ import annotations

import math
import numbers

import minitorch_jax as mt

from . import constraints
from .utils import sum_rightmost

__all__ = ["Transform", "ExpTransform", "AffineTransform", "SigmoidTransform", "TanhTransform",
           "PowerTransform", "AbsTransform", "SoftplusTransform", "ComposeTransform", "identity_transform"]


def _same(a, b) -> bool:
    """Whether two parameters (numbers or Tensors) are equal everywhere."""
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    if isinstance(a, mt.Tensor) and isinstance(b, mt.Tensor):
        if a is b:
            return True
        try:
            return bool((a == b).all())
        except Exception:
            return False
    return False


class Transform:
    """An invertible map ``y = f(x)`` with ``log_abs_det_jacobian(x, y)``.

    Subclasses define ``_call``, ``_inverse``, ``log_abs_det_jacobian``, ``domain``, ``codomain``
    (constraints whose ``event_dim`` says how many rightmost dims one application acts on),
    ``sign`` (+1 increasing, -1 decreasing; elementwise bijections only) and, when the map changes
    the shape, ``forward_shape``/``inverse_shape``.

    Args:
        cache_size (int): 0 or 1 (accepted for torch compatibility; nothing is cached).
    """

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError("cache_size must be 0 or 1")
        self._cache_size = cache_size
        self._inv = None

    @property
    def event_dim(self):
        """Event dims the map acts on (0: elementwise)."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def sign(self):
        """+1 or -1 for monotone elementwise bijections."""
        raise NotImplementedError

    @property
    def inv(self):
        """The inverse transform (``inv.inv is self``; the same object on every access)."""
        inv = self.__dict__.get("_inv_transform")
        if inv is None:
            inv = self.__dict__["_inv_transform"] = _InverseTransform(self)
        return inv

    def with_cache(self, cache_size=1):
        """This transform with another ``cache_size`` (no-op here: nothing is cached)."""
        return self

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __call__(self, x):
        return self._call(x)

    def _inv_call(self, y):
        return self._inverse(y)

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        """``log |dy/dx|``, summed over the ``event_dim`` rightmost dims."""
        raise NotImplementedError

    def forward_shape(self, shape):
        """The output shape for an input of ``shape``."""
        return shape

    def inverse_shape(self, shape):
        """The input shape for an output of ``shape``."""
        return shape

    def __repr__(self):
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    """The inverse of ``transform`` (``transform.inv``)."""

    def __init__(self, transform):
        super().__init__()
        self._inv = transform

    @property
    def domain(self):
        return self._inv.codomain

    @property
    def codomain(self):
        return self._inv.domain

    @property
    def bijective(self):
        return self._inv.bijective

    @property
    def sign(self):
        return self._inv.sign

    @property
    def inv(self):
        return self._inv

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __call__(self, x):
        return self._inv._inverse(x)

    def _inverse(self, y):
        return self._inv(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv.forward_shape(shape)

    def __repr__(self):
        return f"_InverseTransform({self._inv!r})"


class _Elementwise(Transform):
    """A monotone increasing elementwise bijection; equal to any instance of the same class."""

    bijective = True
    sign = 1

    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = object.__hash__


class ExpTransform(_Elementwise):
    """``y = exp(x)``."""

    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(_Elementwise):
    """``y = sigmoid(x)`` (clamped into the open unit interval)."""

    codomain = constraints.unit_interval

    def _call(self, x):
        fi = mt.finfo(x.dtype)
        return mt.sigmoid(x).clamp(min=fi.tiny, max=1.0 - fi.eps)

    def _inverse(self, y):
        fi = mt.finfo(y.dtype)
        y = y.clamp(min=fi.tiny, max=1.0 - fi.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        sp = mt.nn.functional.softplus
        return -sp(-x) - sp(x)


class TanhTransform(_Elementwise):
    """``y = tanh(x)``."""

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return mt.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - mt.nn.functional.softplus(-2.0 * x))


class SoftplusTransform(_Elementwise):
    """``y = log(1 + exp(x))``; inverse ``x = y + log(-expm1(-y))``."""

    codomain = constraints.positive

    def _call(self, x):
        return mt.nn.functional.softplus(x)

    def _inverse(self, y):
        return y + mt.log(-mt.expm1(-y))

    def log_abs_det_jacobian(self, x, y):
        return -mt.nn.functional.softplus(-x)


def _param_shape(p):
    return tuple(p.shape) if isinstance(p, mt.Tensor) else ()


class AffineTransform(Transform):
    """``y = loc + scale * x`` (elementwise; ``event_dim`` extra dims are summed in the log-det).

    Args:
        loc (Tensor or float): shift. scale (Tensor or float): scale. event_dim (int): event dims.
        cache_size (int): accepted for torch compatibility.
    """

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def domain(self):
        if self._event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self._event_dim)

    codomain = domain

    def __eq__(self, other):
        return (isinstance(other, AffineTransform) and _same(self.loc, other.loc)
                and _same(self.scale, other.scale))

    __hash__ = object.__hash__

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Real):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, numbers.Real):
            result = mt.full_like(x, math.log(abs(scale)))
        else:
            result = scale.abs().log().expand(tuple(mt.broadcast_shapes(tuple(scale.shape), tuple(x.shape))))
        if self._event_dim:
            result = result.reshape(tuple(result.shape[:result.dim() - self._event_dim]) + (-1,)).sum(-1)
        return result

    def forward_shape(self, shape):
        return mt.Size(mt.broadcast_shapes(tuple(shape), _param_shape(self.loc), _param_shape(self.scale)))

    inverse_shape = forward_shape


class PowerTransform(Transform):
    """``y = x ** exponent`` on positive reals.

    Args:
        exponent (Tensor or float): the power. cache_size (int): accepted for torch compatibility.
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent = exponent

    def __eq__(self, other):
        return isinstance(other, PowerTransform) and _same(self.exponent, other.exponent)

    __hash__ = object.__hash__

    @property
    def sign(self):
        if isinstance(self.exponent, mt.Tensor):
            return self.exponent.sign()
        return 1 if self.exponent > 0 else -1

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return mt.Size(mt.broadcast_shapes(tuple(shape), _param_shape(self.exponent)))

    inverse_shape = forward_shape


class AbsTransform(Transform):
    """``y = |x|`` (not bijective: the inverse returns the non-negative preimage)."""

    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y

    def __eq__(self, other):
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__


class ComposeTransform(Transform):
    """Apply ``parts`` in order: ``y = parts[-1](... parts[0](x))``; event dims are reconciled (a part
    acting on fewer dims than the whole has its log-det summed over the extra ones).

    Args:
        parts (list of Transform): the transforms. cache_size (int): accepted for torch compatibility.
    """

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    @property
    def bijective(self):
        return all(p.bijective for p in self.parts)

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim
        for p in reversed(self.parts):
            event_dim = max(event_dim - p.codomain.event_dim + p.domain.event_dim, p.domain.event_dim)
        if event_dim > domain.event_dim:
            domain = constraints.independent(domain, event_dim - domain.event_dim)
        return domain

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for p in self.parts:
            event_dim = max(event_dim - p.domain.event_dim + p.codomain.event_dim, p.codomain.event_dim)
        if event_dim > codomain.event_dim:
            codomain = constraints.independent(codomain, event_dim - codomain.event_dim)
        return codomain

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def inv(self):
        return ComposeTransform([p.inv for p in reversed(self.parts)]) if self.parts else self

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return mt.zeros_like(x)
        event_dim = self.domain.event_dim
        total = 0.0
        for i, p in enumerate(self.parts):
            y_i = y if i == len(self.parts) - 1 else p(x)
            total = total + sum_rightmost(p.log_abs_det_jacobian(x, y_i), event_dim - p.domain.event_dim)
            event_dim += p.codomain.event_dim - p.domain.event_dim
            x = y_i
        return total

    def forward_shape(self, shape):
        for p in self.parts:
            shape = p.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return shape

    def __repr__(self):
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"ComposeTransform(\n    {inner}\n)"


identity_transform = ComposeTransform([])

from ._transforms_event import *  # noqa: E402,F401,F403
from ._transforms_event import __all__ as _event_all  # noqa: E402

__all__ = __all__ + list(_event_all)
