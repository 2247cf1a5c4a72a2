"""``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``
(``torch.distributions.lowrank_multivariate_normal``): a normal whose covariance is
``cov_factor @ cov_factor.mT + diag(cov_diag)``; ``log_prob`` and ``entropy`` use the Woodbury
identity and the matrix determinant lemma (cost linear in the event size)."""

from __future__ import annotations

import math

import minitorch_jax as mt

from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["LowRankMultivariateNormal"]


def _capacitance_tril(W, D):
    """Cholesky factor of ``I + W^T D^{-1} W`` (``m x m``)."""
    m = W.shape[-1]
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    K = Wt_Dinv @ W
    return mt.linalg.cholesky(K + mt.eye(m, dtype=W.dtype))


class LowRankMultivariateNormal(Distribution):
    """A multivariate normal with low-rank plus diagonal covariance.

    Args:
        loc (Tensor): mean ``batch_shape + (n,)``. cov_factor (Tensor): ``(..., n, m)``.
        cov_diag (Tensor): positive diagonal ``(..., n)``.
        validate_args (bool, optional): check the parameters / ``log_prob`` values.
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True
    _expand_params = ("loc", "cov_factor", "cov_diag")

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if not isinstance(loc, Tensor) or loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        n = loc.shape[-1]
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch "
                             "dimensions")
        if tuple(cov_factor.shape[-2:-1]) != (n,):
            raise ValueError(f"cov_factor must be a batch of matrices with shape {n} x m")
        if tuple(cov_diag.shape[-1:]) != (n,):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {(n,)}")
        m = cov_factor.shape[-1]
        batch = tuple(mt.broadcast_shapes(tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]),
                                          tuple(cov_diag.shape[:-1])))
        self.loc = loc.expand(batch + (n,))
        self.cov_factor = cov_factor.expand(batch + (n, m))
        self.cov_diag = cov_diag.expand(batch + (n,))
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch, (n,), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._capacitance_tril = self._capacitance_tril
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The diagonal of the covariance."""
        v = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return v.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def scale_tril(self):
        """Lower-triangular Cholesky factor of the covariance."""
        return mt.linalg.cholesky(self.covariance_matrix)

    @lazy_property
    def covariance_matrix(self):
        """``cov_factor @ cov_factor.mT + diag(cov_diag)``."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        cov = W @ W.mT + mt.diag_embed(D)
        n = self._event_shape[0]
        return cov.expand(tuple(self._batch_shape) + (n, n))

    @lazy_property
    def precision_matrix(self):
        """The inverse covariance, by the Woodbury identity."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv = W.mT / D.unsqueeze(-2)
        A = mt.linalg.solve_triangular(self._capacitance_tril, Wt_Dinv, upper=False)
        prec = mt.diag_embed(D.reciprocal()) - A.mT @ A
        n = self._event_shape[0]
        return prec.expand(tuple(self._batch_shape) + (n, n))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        m = self.cov_factor.shape[-1]
        eps_w = mt.randn(tuple(shape[:-1]) + (m,), dtype=self.loc.dtype)
        eps_d = mt.randn(shape, dtype=self.loc.dtype)
        W = self._unbroadcasted_cov_factor
        return (self.loc + (W @ eps_w.unsqueeze(-1)).squeeze(-1)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def _half_log_det(self):
        diag = mt.diagonal(self._capacitance_tril, dim1=-2, dim2=-1).log().sum(-1)
        return diag + 0.5 * self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        x_Dinv = diff / D
        m_diag = (diff * x_Dinv).sum(-1)
        Wt_Dinv_x = (W.mT @ x_Dinv.unsqueeze(-1))  # (..., m, 1)
        L = self._capacitance_tril
        shape = tuple(mt.broadcast_shapes(tuple(L.shape[:-2]), tuple(Wt_Dinv_x.shape[:-2])))
        m = L.shape[-1]
        sol = mt.linalg.solve_triangular(L.expand(shape + (m, m)), Wt_Dinv_x.expand(shape + (m, 1)),
                                         upper=False)
        M = m_diag - sol.squeeze(-1).pow(2).sum(-1)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H.expand(tuple(self._batch_shape))
