"""Transforms acting on whole events (``event_dim > 0``) or on parts of a tensor
(``torch.distributions.transforms``): ``SoftmaxTransform, StickBreakingTransform, ReshapeTransform,
IndependentTransform, CatTransform, StackTransform, LowerCholeskyTransform, PositiveDefiniteTransform,
CorrCholeskyTransform, CumulativeDistributionTransform``. Re-exported by ``transforms``.

As in torch, ``SoftmaxTransform``, ``LowerCholeskyTransform`` and ``PositiveDefiniteTransform`` have no
``log_abs_det_jacobian`` (it raises ``NotImplementedError``).
"""

from __future__ import annotations

import math

import minitorch_jax as mt

from . import constraints
from .transforms import Transform
from .utils import sum_rightmost, tril_matrix_to_vec, vec_to_tril_matrix

__all__ = ["SoftmaxTransform", "StickBreakingTransform", "ReshapeTransform", "IndependentTransform",
           "CatTransform", "StackTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "CorrCholeskyTransform", "CumulativeDistributionTransform"]


class _SameClassEq:
    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = object.__hash__


class SoftmaxTransform(_SameClassEq, Transform):
    """Real vectors to the simplex by ``y = softmax(x)`` (not bijective; the inverse is ``log y``)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        return mt.softmax(x, -1)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    inverse_shape = forward_shape


def _stick_offset(x):
    """``log(K - k)`` for ``k = 1..K-1`` where ``x`` has ``K - 1`` entries on its last dim."""
    k = x.shape[-1]
    return mt.log(mt.arange(k, 0, -1, dtype=x.dtype))


class StickBreakingTransform(_SameClassEq, Transform):
    """Bijection from ``R^(K-1)`` to the ``K``-simplex by stick breaking: ``z_k = sigmoid(x_k -
    log(K - k))``, ``y_k = z_k prod_{i<k} (1 - z_i)``, ``y_K`` the remaining stick."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def _call(self, x):
        z = mt.sigmoid(x - _stick_offset(x))
        rest = (1 - z).cumprod(-1)
        ones = mt.ones_like(x[..., :1])
        return mt.cat([z, ones], -1) * mt.cat([ones, rest], -1)

    def _inverse(self, y):
        head = y[..., :-1]
        remaining = (1 - head.cumsum(-1)).clamp(min=mt.finfo(y.dtype).tiny)
        return head.log() - remaining.log() + _stick_offset(head)

    def log_abs_det_jacobian(self, x, y):
        x = x - _stick_offset(x)
        return (-x + mt.nn.functional.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return mt.Size(tuple(shape[:-1]) + (shape[-1] + 1,))

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return mt.Size(tuple(shape[:-1]) + (shape[-1] - 1,))


class ReshapeTransform(Transform):
    """Reshape the rightmost ``in_shape`` dims into ``out_shape`` (log-det 0).

    Args:
        in_shape (Size): the event shape of inputs. out_shape (Size): the event shape of outputs
            (same number of elements). cache_size (int): accepted for torch compatibility.
    """

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape = mt.Size(tuple(in_shape))
        self.out_shape = mt.Size(tuple(out_shape))
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size)

    @property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def _call(self, x):
        batch = tuple(x.shape[:x.dim() - len(self.in_shape)])
        return x.reshape(batch + tuple(self.out_shape))

    def _inverse(self, y):
        batch = tuple(y.shape[:y.dim() - len(self.out_shape)])
        return y.reshape(batch + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x, y):
        batch = tuple(x.shape[:x.dim() - len(self.in_shape)])
        return mt.zeros(batch, dtype=x.dtype)

    def _reshape(self, shape, src, dst, name):
        if len(shape) < len(src):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(src)
        if tuple(shape[cut:]) != tuple(src):
            raise ValueError(f"Shape mismatch: expected {tuple(shape[cut:])} but got {tuple(src)}")
        return mt.Size(tuple(shape[:cut]) + tuple(dst))

    def forward_shape(self, shape):
        return self._reshape(shape, self.in_shape, self.out_shape, "forward")

    def inverse_shape(self, shape):
        return self._reshape(shape, self.out_shape, self.in_shape, "inverse")


class IndependentTransform(Transform):
    """Treat ``reinterpreted_batch_ndims`` extra rightmost dims of ``base_transform`` as event dims
    (its log-det is summed over them).

    Args:
        base_transform (Transform): the wrapped transform. reinterpreted_batch_ndims (int): extra dims.
        cache_size (int): accepted for torch compatibility.
    """

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        super().__init__(cache_size)
        self.base_transform = base_transform
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class CatTransform(Transform):
    """Apply ``tseq[i]`` to the i-th chunk (of size ``lengths[i]``, default 1) along ``dim`` and
    concatenate, like ``torch.cat``.

    Args:
        tseq (list of Transform): the transforms. dim (int): the dim to split. lengths (list of int).
        cache_size (int): accepted for torch compatibility.
    """

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("CatTransform: every element of tseq must be a Transform")
        super().__init__(cache_size)
        self.transforms = list(tseq)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"CatTransform: got {len(self.transforms)} transforms but {len(self.lengths)} "
                             "lengths")
        self.dim = dim

    @property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        """The total size along ``dim``."""
        return sum(self.lengths)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    def _check(self, x):
        if not -x.dim() <= self.dim < x.dim():
            raise ValueError(f"CatTransform: dim {self.dim} out of range for an input of {x.dim()} dims")
        if x.size(self.dim) != self.length:
            raise ValueError(f"CatTransform: input has size {x.size(self.dim)} along dim {self.dim}, "
                             f"expected sum(lengths) = {self.length}")

    def _apply(self, x, fns):
        self._check(x)
        out, start = [], 0
        for fn, n in zip(fns, self.lengths):
            out.append(fn(x.narrow(self.dim, start, n)))
            start += n
        return mt.cat(out, self.dim)

    def _call(self, x):
        return self._apply(x, self.transforms)

    def _inverse(self, y):
        return self._apply(y, [t.inv for t in self.transforms])

    def log_abs_det_jacobian(self, x, y):
        self._check(x)
        terms, start = [], 0
        for t, n in zip(self.transforms, self.lengths):
            ladj = t.log_abs_det_jacobian(x.narrow(self.dim, start, n), y.narrow(self.dim, start, n))
            terms.append(sum_rightmost(ladj, self.event_dim - t.event_dim))
            start += n
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        if dim < 0:
            return mt.cat(terms, dim)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


class StackTransform(Transform):
    """Apply ``tseq[i]`` to ``x.select(dim, i)`` and stack the results along ``dim``.

    Args:
        tseq (list of Transform): the transforms. dim (int): the dim to unstack.
        cache_size (int): accepted for torch compatibility.
    """

    def __init__(self, tseq, dim=0, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("StackTransform: every element of tseq must be a Transform")
        super().__init__(cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    def _slices(self, z):
        if not -z.dim() <= self.dim < z.dim():
            raise ValueError(f"StackTransform: dim {self.dim} out of range for an input of {z.dim()} dims")
        if z.size(self.dim) != len(self.transforms):
            raise ValueError(f"StackTransform: input has size {z.size(self.dim)} along dim {self.dim}, "
                             f"expected {len(self.transforms)} (one per transform)")
        return [z.select(self.dim, i) for i in range(z.size(self.dim))]

    def _call(self, x):
        return mt.stack([t(s) for t, s in zip(self.transforms, self._slices(x))], self.dim)

    def _inverse(self, y):
        return mt.stack([t.inv(s) for t, s in zip(self.transforms, self._slices(y))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        xs, ys = self._slices(x), self._slices(y)
        return mt.stack([t.log_abs_det_jacobian(a, b) for t, a, b in zip(self.transforms, xs, ys)], self.dim)


class LowerCholeskyTransform(_SameClassEq, Transform):
    """Unconstrained square matrices to lower-triangular matrices with positive diagonal: keep the
    strictly lower part, exponentiate the diagonal."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return x.tril(-1) + mt.diag_embed(mt.diagonal(x, dim1=-2, dim2=-1).exp())

    def _inverse(self, y):
        return y.tril(-1) + mt.diag_embed(mt.diagonal(y, dim1=-2, dim2=-1).log())


class PositiveDefiniteTransform(_SameClassEq, Transform):
    """Unconstrained square matrices to positive-definite ones: ``L L^T`` with
    ``L = LowerCholeskyTransform()(x)``."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(mt.linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    """Real vectors of length ``D(D-1)/2`` to Cholesky factors of ``D x D`` correlation matrices:
    ``tanh`` into ``(-1, 1)``, then stick breaking on the squared entries of each row so every row has
    unit norm."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = mt.finfo(x.dtype).eps
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        remaining = (1 - r.pow(2)).sqrt().cumprod(-1)
        n = r.shape[-1]
        r = r + mt.eye(n, dtype=x.dtype)
        scale = mt.cat([mt.ones_like(remaining[..., :1]), remaining[..., :-1]], -1)
        return r * scale

    def _inverse(self, y):
        left = 1 - (y * y).cumsum(-1)
        left = mt.cat([mt.ones_like(left[..., :1]), left[..., :-1]], -1)
        t = tril_matrix_to_vec(y, -1) / tril_matrix_to_vec(left, -1).sqrt()
        eps = mt.finfo(y.dtype).eps
        return mt.atanh(t.clamp(min=-1 + eps, max=1 - eps))

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        left = 1 - (y * y).cumsum(-1)
        stick = 0.5 * tril_matrix_to_vec(left, -2).log().sum(-1)
        tanh = -2 * (x + mt.nn.functional.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick + tanh

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        m = shape[-1]
        d = round((0.25 + 2 * m) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != m:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return mt.Size(tuple(shape[:-1]) + (d, d))

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return mt.Size(tuple(shape[:-2]) + (d * (d - 1) // 2,))


class CumulativeDistributionTransform(Transform):
    """``y = distribution.cdf(x)``: maps the support of a univariate ``distribution`` to ``[0, 1]``;
    inverse ``distribution.icdf``, log-det ``distribution.log_prob``.

    Args:
        distribution (Distribution): with ``cdf``, ``icdf`` and ``log_prob``.
        cache_size (int): accepted for torch compatibility.
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution, cache_size=0):
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
