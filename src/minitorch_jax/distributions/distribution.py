"""``Distribution``: the base class of ``mt.distributions`` (``torch.distributions.Distribution``).

Shapes follow torch: ``sample(sample_shape)`` has shape ``sample_shape + batch_shape + event_shape``;
``log_prob(value)`` has the broadcast batch shape. Parameters are validated against
``arg_constraints`` at construction and ``log_prob`` values against ``support`` when validation is on
(default on, like torch under ``__debug__``; ``Distribution.set_default_validate_args(False)`` turns
it off). Inside ``mt.jit`` parameter values are traced and cannot be inspected, so value checks are
skipped there (shape checks still run).
"""

from __future__ import annotations

import minitorch_jax as mt

from .._grad_mode import no_grad
from .._tensor import Tensor
from . import constraints
from .utils import all_true, as_size, lazy_property

__all__ = ["Distribution"]


def _show(value) -> str:
    try:
        return str(value.item()) if isinstance(value, Tensor) and value.dim() == 0 else str(value)
    except Exception:  # traced
        return f"Tensor(shape={tuple(value.shape)})"


class Distribution:
    """Base class for probability distributions.

    Args:
        batch_shape: the shape over which parameters are batched.
        event_shape: the shape of a single sample (without batching).
        validate_args: check parameters (and ``log_prob`` values); ``None`` uses the default.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Set whether validation is on by default for distributions created afterwards."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = as_size(batch_shape)
        self._event_shape = as_size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # not given: computed lazily from another parameter
                value = getattr(self, param)
                if not all_true(constraint.check(value)):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) "
                        f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                        f"but found invalid values:\n{_show(value)}")

    # ----- shapes --------------------------------------------------------------------------------
    @property
    def batch_shape(self) -> mt.Size:
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> mt.Size:
        """The shape of a single sample."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict:
        """Parameter name -> Constraint each parameter must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The Constraint describing this distribution's support."""
        raise NotImplementedError

    def _extended_shape(self, sample_shape=()) -> mt.Size:
        return mt.Size(tuple(as_size(sample_shape)) + tuple(self._batch_shape) + tuple(self._event_shape))

    # ----- expand --------------------------------------------------------------------------------
    _expand_params: tuple | None = None  # tensors to expand (default: the arg_constraints names present)

    def expand(self, batch_shape, _instance=None):
        """A new distribution whose parameters are expanded to ``batch_shape`` (no copy of data).

        Args:
            batch_shape: the desired batch shape (must be broadcast-compatible with the current one).
        """
        batch_shape = as_size(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        nb = len(self._batch_shape)
        names = self._expand_params
        if names is None:
            names = tuple(k for k in type(self).arg_constraints_names() if k in self.__dict__)
        for k, v in self.__dict__.items():
            if k in names and isinstance(v, Tensor):
                v = v.expand(tuple(batch_shape) + tuple(v.shape[nb:]))
            elif isinstance(getattr(type(self), k, None), lazy_property):
                continue  # recomputed from the expanded parameters
            new.__dict__[k] = v
        new._batch_shape = batch_shape
        return new

    @classmethod
    def arg_constraints_names(cls) -> tuple:
        """Names of the parameters in ``arg_constraints`` (read from the class when static)."""
        ac = None
        for base in cls.__mro__:
            ac = base.__dict__.get("arg_constraints")
            if ac is not None:
                break
        if isinstance(ac, dict):
            return tuple(ac)
        return tuple(getattr(cls, "_param_names", ()))

    # ----- statistics ----------------------------------------------------------------------------
    @property
    def mean(self) -> Tensor:
        """The mean of the distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        """The mode of the distribution."""
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """The variance of the distribution."""
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        """The standard deviation (square root of the variance)."""
        return self.variance.sqrt()

    # ----- sampling ------------------------------------------------------------------------------
    def sample(self, sample_shape=()) -> Tensor:
        """Draw a sample (no gradient) of shape ``sample_shape + batch_shape + event_shape``."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterized sample: gradients flow to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} does not support rsample (has_rsample=False); "
                                  "use sample() with a score-function (REINFORCE) estimator instead")

    def sample_n(self, n: int) -> Tensor:
        """Deprecated: ``sample((n,))``."""
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        """The log probability density/mass of ``value``."""
        raise NotImplementedError

    def cdf(self, value) -> Tensor:
        """The cumulative distribution function at ``value``."""
        raise NotImplementedError

    def icdf(self, value) -> Tensor:
        """The inverse cumulative distribution function at ``value``."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete distribution's support, along a new leading dim."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy, of shape ``batch_shape``."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """``exp(entropy)``."""
        return mt.exp(self.entropy())

    # ----- validation ----------------------------------------------------------------------------
    def _validate_sample(self, value) -> None:
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.dim() - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        actual = tuple(value.shape)
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{mt.Size(actual)} vs {mt.Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            return
        if not all_true(support.check(value)):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be "
                f"within the support ({support!r}) of the distribution {self!r}, "
                f"but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a "
                                      "custom __init__ method must also define a custom .expand() method.")
        return type(self).__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        vals = [(p, self.__dict__[p]) for p in names if isinstance(self.__dict__[p], Tensor)]
        args = ", ".join(f"{p}: {_show(v) if v.numel() == 1 else v.shape}" for p, v in vals)
        return f"{type(self).__name__}({args})"
