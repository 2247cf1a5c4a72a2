"""``Wishart(df, covariance_matrix=None, precision_matrix=None, scale_tril=None)``
(``torch.distributions.wishart``): the distribution of ``sum_i x_i x_i^T`` for ``df`` draws
``x_i ~ N(0, covariance_matrix)``, over positive-definite matrices.

``rsample`` uses the Bartlett decomposition (chi-squared diagonal through jax's implicit gamma
gradient, normal off-diagonal), so it is reparameterized in the scale matrix and in ``df``.
``max_try_correction`` is accepted but unused: samples are positive definite by construction.
"""

from __future__ import annotations

import math
import numbers

import minitorch_jax as mt

from . import constraints
from ._standard_gamma import standard_gamma
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril
from .utils import all_true, lazy_property

__all__ = ["Wishart"]


class _WishartArgumentError(ValueError, AssertionError):
    """Bad Wishart arguments: a ValueError that is also the AssertionError torch raises."""


def _mvdigamma(a, p):
    """``sum_{i<p} digamma(a - i / 2)``."""
    offsets = mt.arange(p, dtype=a.dtype) * -0.5
    return mt.digamma(a.unsqueeze(-1) + offsets).sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution with ``df`` degrees of freedom (> p - 1) and a ``p x p`` scale matrix
    given as exactly one of ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``.

    Args:
        df (float or Tensor): degrees of freedom, batch shaped.
        covariance_matrix (Tensor): positive-definite scale ``(..., p, p)``.
        precision_matrix (Tensor): its inverse. scale_tril (Tensor): its lower Cholesky factor.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0
    _expand_params = ("df", "scale_tril", "covariance_matrix", "precision_matrix")

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        given = [(n, m) for n, m in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix), ("scale_tril", scale_tril))
                 if m is not None]
        if len(given) != 1:
            raise _WishartArgumentError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                                        "may be specified.")
        name, matrix = given[0]
        if matrix.dim() < 2:
            raise _WishartArgumentError("scale_tril must be at least two-dimensional, with optional leading "
                                        "batch dimensions")
        if matrix.shape[-1] != matrix.shape[-2]:
            raise ValueError(f"Wishart: {name} must be square, got shape {tuple(matrix.shape)}")
        p = matrix.shape[-1]
        if isinstance(df, numbers.Number):
            df = mt.tensor(float(df), dtype=matrix.dtype)
        batch_shape = tuple(mt.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(df.shape)))
        event_shape = (p, p)
        self.df = df.expand(batch_shape)
        if not all_true(~(df <= p - 1)):
            shown = df.item() if df.numel() == 1 else df
            raise ValueError(f"Value of df={shown} expected to be greater than ndim - 1 = {p - 1}.")
        setattr(self, name, matrix.expand(batch_shape + event_shape))
        self._arg_constraints = {"covariance_matrix": constraints.positive_definite,
                                "precision_matrix": constraints.positive_definite,
                                "scale_tril": constraints.lower_cholesky,
                                "df": constraints.greater_than(p - 1)}
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = mt.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    @property
    def arg_constraints(self):
        """The parameter constraints (``df`` must exceed ``p - 1``)."""
        return self._arg_constraints

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        batch_shape = tuple(batch_shape)
        p = self._event_shape[-1]
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in ("scale_tril", "covariance_matrix", "precision_matrix")})
        new.df = self.df.expand(batch_shape)
        for k in ("scale_tril", "covariance_matrix", "precision_matrix"):
            if k in self.__dict__:
                new.__dict__[k] = self.__dict__[k].expand(batch_shape + (p, p))
        new._batch_shape = mt.Size(batch_shape)
        return new

    def _full(self, m):
        p = self._event_shape[-1]
        return m.expand(tuple(self._batch_shape) + (p, p))

    @lazy_property
    def scale_tril(self):
        """Lower Cholesky factor of the scale matrix."""
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        """The scale (covariance) matrix."""
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self):
        """The inverse of the scale matrix."""
        return self._full(mt.cholesky_inverse(self._unbroadcasted_scale_tril))

    @property
    def mean(self):
        return self.df[..., None, None] * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self._event_shape[-1] - 1
        factor = mt.where(factor <= 0, mt.full_like(factor, float("nan")), factor)
        return factor[..., None, None] * self.covariance_matrix

    @property
    def variance(self):
        v = self.covariance_matrix
        d = mt.diagonal(v, dim1=-2, dim2=-1)
        return self.df[..., None, None] * (v.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _half_log_det(self):
        return mt.diagonal(self._unbroadcasted_scale_tril, dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Reparameterized samples (Bartlett decomposition), shape ``sample_shape + batch + (p, p)``."""
        p = self._event_shape[-1]
        shape = tuple(self._extended_shape(sample_shape))[:-1]  # ... + (p,)
        dtype = self.df.dtype
        half_dof = 0.5 * (self.df.unsqueeze(-1) - mt.arange(p, dtype=dtype))
        chi2 = 2 * standard_gamma(half_dof, shape)
        noise = mt.randn(shape + (p,), dtype=dtype).tril(-1)
        bartlett = noise + mt.diag_embed(chi2.sqrt())
        chol = self._unbroadcasted_scale_tril @ bartlett
        return chol @ chol.mT

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        value_logdet = 2 * mt.diagonal(mt.linalg.cholesky(value), dim1=-2, dim2=-1).log().sum(-1)
        trace = mt.diagonal(mt.cholesky_solve(value, L), dim1=-2, dim2=-1).sum(-1)
        return (-nu * (p * math.log(2) / 2 + self._half_log_det()) - mt.mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * value_logdet - trace / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        return ((p + 1) * self._half_log_det() + p * (p + 1) * math.log(2) / 2 + mt.mvlgamma(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self):
        return (-0.5 * self.precision_matrix, 0.5 * (self.df - self._event_shape[-1] - 1))

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        a = y + 0.5 * (p + 1)
        return -a * mt.linalg.slogdet(-x)[1] + mt.mvlgamma(a, p)

