"""``ExponentialFamily`` (``torch.distributions.exp_family``): the base class of distributions with
density ``p(x; theta) = exp(<t(x), theta> - F(theta) + k(x))``.

Subclasses give ``_natural_params`` (the tuple ``theta``), ``_log_normalizer(*theta)`` (``F``) and
``_mean_carrier_measure`` (``E[k(x)]``); ``entropy()`` is then ``F(theta) - <theta, grad F(theta)> -
E[k(x)]`` with ``grad F`` from mt autograd (differentiable: the gradient graph is kept), and the
Bregman-divergence KL between two members of the same family is registered in ``kl``.
"""

from __future__ import annotations

import minitorch_jax as mt

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class for exponential-family distributions (see the module docstring)."""

    @property
    def _natural_params(self):
        """The natural parameters ``theta`` (a tuple of Tensors)."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """The log normalizer ``F(theta)`` (batch shaped)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """``E[k(x)]``, the expected carrier measure (a number or Tensor)."""
        raise NotImplementedError

    def _log_normalizer_and_grads(self):
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with mt.enable_grad():
            value = self._log_normalizer(*params)
            grads = mt.autograd.grad(value.sum(), params, create_graph=True)
        return params, value, grads

    def entropy(self):
        """The entropy from the natural parameters via autograd (``F - <theta, dF> - E[k]``)."""
        params, value, grads = self._log_normalizer_and_grads()
        result = value - self._mean_carrier_measure
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
