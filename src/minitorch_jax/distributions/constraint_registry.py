"""``biject_to`` and ``transform_to`` (``torch.distributions.constraint_registry``): map a constraint to a
transform from unconstrained reals onto it.

``biject_to(c)`` is a bijection (usable for HMC-style reparameterization, log-det included);
``transform_to(c)`` need not be (e.g. ``SoftmaxTransform`` for the simplex, ``PositiveDefiniteTransform``).
Both are ``ConstraintRegistry`` objects: ``registry.register(constraint_or_type, factory)`` (or as a
decorator) adds a rule for a constraint class.
"""

from __future__ import annotations

import numbers

from . import constraints, transforms

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]


class ConstraintRegistry:
    """A registry linking constraint classes to factories ``factory(constraint) -> Transform``."""

    def __init__(self):
        self._registry = {}

    def register(self, constraint, factory=None):
        """Register ``factory`` for ``constraint`` (a Constraint subclass, or an instance whose class is
        used). Without ``factory``, returns a decorator.

        Args:
            constraint (type or Constraint): the constraint class.
            factory (callable): constraint -> Transform.
        """
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError("Expected constraint to be either a Constraint subclass or instance, "
                            f"but got {constraint}")
        self._registry[constraint] = factory
        return factory

    def __call__(self, constraint):
        """The transform registered for ``type(constraint)``.

        Raises:
            NotImplementedError: nothing is registered for that constraint class.
        """
        try:
            factory = self._registry[type(constraint)]
        except KeyError:
            raise NotImplementedError(f"Cannot transform {type(constraint).__name__} constraints") from None
        return factory(constraint)


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


def _identity(constraint):
    return transforms.identity_transform


def _biject_independent(constraint):
    base = biject_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _transform_independent(constraint):
    base = transform_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


def _exp(constraint):
    return transforms.ExpTransform()


def _greater_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.lower_bound, 1)])


def _less_than(constraint):
    return transforms.ComposeTransform([transforms.ExpTransform(),
                                        transforms.AffineTransform(constraint.upper_bound, -1)])


def _interval(constraint):
    lo, hi = constraint.lower_bound, constraint.upper_bound
    if isinstance(lo, numbers.Number) and lo == 0 and isinstance(hi, numbers.Number) and hi == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform([transforms.SigmoidTransform(),
                                        transforms.AffineTransform(lo, hi - lo)])


def _stick_breaking(constraint):
    return transforms.StickBreakingTransform()


def _softmax(constraint):
    return transforms.SoftmaxTransform()


def _lower_cholesky(constraint):
    return transforms.LowerCholeskyTransform()


def _positive_definite(constraint):
    return transforms.PositiveDefiniteTransform()


def _corr_cholesky(constraint):
    return transforms.CorrCholeskyTransform()


def _cat(registry):
    def factory(constraint):
        parts = [registry(c) for c in constraint.cseq]
        return transforms.CatTransform(parts, constraint.dim, constraint.lengths)
    return factory


def _stack(registry):
    def factory(constraint):
        return transforms.StackTransform([registry(c) for c in constraint.cseq], constraint.dim)
    return factory


for _reg, _indep in ((biject_to, _biject_independent), (transform_to, _transform_independent)):
    _reg.register(constraints.real, _identity)
    _reg.register(constraints.independent, _indep)
    # positive / nonnegative are instances of the greater-than classes: the later rule wins, as in torch
    _reg.register(constraints.positive, _exp)
    _reg.register(constraints.nonnegative, _exp)
    _reg.register(constraints.greater_than, _greater_than)
    _reg.register(constraints.greater_than_eq, _greater_than)
    _reg.register(constraints.less_than, _less_than)
    _reg.register(constraints.interval, _interval)
    _reg.register(constraints.half_open_interval, _interval)
    _reg.register(constraints.corr_cholesky, _corr_cholesky)
    _reg.register(constraints.cat, _cat(_reg))
    _reg.register(constraints.stack, _stack(_reg))

biject_to.register(constraints.simplex, _stick_breaking)
transform_to.register(constraints.simplex, _softmax)
transform_to.register(constraints.lower_cholesky, _lower_cholesky)
transform_to.register(constraints.positive_definite, _positive_definite)
transform_to.register(constraints.positive_semidefinite, _positive_definite)
