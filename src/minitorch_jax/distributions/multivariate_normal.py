"""``MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None)``
(``torch.distributions.multivariate_normal``)."""

from __future__ import annotations

import math

import minitorch_jax as mt

from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mahalanobis(bL, bx):
    """``x^T (L L^T)^{-1} x`` for lower-triangular ``L``, broadcasting batch dims."""
    n = bx.shape[-1]
    shape = tuple(mt.broadcast_shapes(tuple(bL.shape[:-2]), tuple(bx.shape[:-1])))
    L = bL.expand(shape + (n, n))
    x = bx.expand(shape + (n,))
    sol = mt.linalg.solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1)
    return sol.pow(2).sum(-1)


def _precision_to_scale_tril(P):
    # flip rows and columns, factor, flip back: P = U U^T with U upper; then L = U^{-T} is lower
    # triangular with L L^T = P^{-1}
    Lf = mt.linalg.cholesky(mt.flip(P, (-2, -1)))
    L_inv = mt.flip(Lf, (-2, -1)).mT
    eye = mt.eye(P.shape[-1], dtype=P.dtype).expand(tuple(P.shape))
    return mt.linalg.solve_triangular(L_inv, eye, upper=False)


class MultivariateNormal(Distribution):
    """A multivariate normal distribution with mean ``loc`` and one of ``covariance_matrix``,
    ``precision_matrix`` or lower-triangular ``scale_tril`` (``cov = scale_tril @ scale_tril.mT``).

    Args:
        loc (Tensor): mean, shape ``batch_shape + (n,)``.
        covariance_matrix (Tensor): positive-definite ``(..., n, n)``.
        precision_matrix (Tensor): positive-definite inverse covariance ``(..., n, n)``.
        scale_tril (Tensor): lower-triangular factor with positive diagonal ``(..., n, n)``.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if not isinstance(loc, Tensor) or loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                             "specified.")
        for name, m in (("scale_tril", scale_tril), ("covariance_matrix", covariance_matrix),
                        ("precision_matrix", precision_matrix)):
            if m is not None:
                if m.dim() < 2:
                    raise ValueError(f"{name} matrix must be at least two-dimensional, "
                                     "with optional leading batch dimensions")
                if m.shape[-1] != loc.shape[-1] or m.shape[-2] != loc.shape[-1]:
                    raise ValueError(f"MultivariateNormal: {name} of shape {tuple(m.shape)} does not match "
                                     f"loc's event size {loc.shape[-1]}")
                matrix = m
        batch_shape = tuple(mt.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        n = loc.shape[-1]
        if scale_tril is not None:
            self.scale_tril = scale_tril.expand(batch_shape + (n, n))
        elif covariance_matrix is not None:
            self.covariance_matrix = covariance_matrix.expand(batch_shape + (n, n))
        else:
            self.precision_matrix = precision_matrix.expand(batch_shape + (n, n))
        self.loc = loc.expand(batch_shape + (n,))
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = mt.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    _expand_params = ("loc", "scale_tril", "covariance_matrix", "precision_matrix")

    @lazy_property
    def scale_tril(self):
        """Lower-triangular factor of the covariance."""
        n = self._event_shape[0]
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + (n, n))

    @lazy_property
    def covariance_matrix(self):
        """The covariance matrix."""
        L = self._unbroadcasted_scale_tril
        n = self._event_shape[0]
        return (L @ L.mT).expand(tuple(self._batch_shape) + (n, n))

    @lazy_property
    def precision_matrix(self):
        """The inverse of the covariance matrix."""
        L = self._unbroadcasted_scale_tril
        n = self._event_shape[0]
        return mt.cholesky_inverse(L).expand(tuple(self._batch_shape) + (n, n))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = mt.randn(shape, dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = mt.diagonal(self._unbroadcasted_scale_tril, dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = mt.diagonal(self._unbroadcasted_scale_tril, dim1=-2, dim2=-1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return H.expand(tuple(self._batch_shape))
