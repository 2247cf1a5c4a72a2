"""``torch.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``
built on :mod:`minitorch_jax.nn.utils.parametrize` (torch's state_dict keys:
``parametrizations.weight.original0/1``, ``parametrizations.weight.0._u`` ...).

Random draws (the power-iteration start vectors of ``spectral_norm``, the completion of a
non-square matrix in ``orthogonal``) use this library's generator, so their values differ from
torch's; load torch's ``state_dict`` to get the same state.
"""

from __future__ import annotations

import jax.numpy as jnp

from ... import _creation, _random, linalg
from ..._grad_mode import no_grad
from ..._tensor import Tensor
from .. import functional as F
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ----- weight norm -----------------------------------------------------------------------------
def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dim but ``dim`` (kept, size 1); over all of ``v`` if
    ``dim == -1`` (torch's ``norm_except_dim``)."""
    if dim == -1:
        return v.norm()
    if dim < 0:
        dim += v.ndim
    dims = tuple(d for d in range(v.ndim) if d != dim)
    if not dims:
        return v.abs()
    return (v * v).sum(dims, keepdim=True).sqrt()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * g / ||v||`` with the norm taken over every dim but ``dim`` (torch's ``_weight_norm``)."""
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    """The weight-norm parametrization: ``(g, v) -> g * v / ||v||``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        """The weight from its magnitude ``weight_g`` and direction ``weight_v``."""
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        """``(g, v)`` for a weight: its norms except ``dim``, and itself."""
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (weight normalization).

    The magnitude ``g`` (``parametrizations.<name>.original0``, shape: size of ``dim``, 1
    elsewhere) and the direction ``v`` (``original1``, the weight's shape) are the new
    parameters. Old checkpoints with ``<name>_g`` / ``<name>_v`` keys load too.

    Args:
        module: the module.
        name: the parameter's name.
        dim: the dim kept by the norm (``None``: the norm of the whole tensor).

    Returns:
        ``module``.
    """
    _weight_norm_p = _WeightNorm(dim)
    parametrize.register_parametrization(module, name, _weight_norm_p, unsafe=True)

    def compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(compat_hook)
    return module


# ----- spectral norm -----------------------------------------------------------------------------
def _to_matrix(weight: Tensor, dim: int) -> Tensor:
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.flatten(1)


class _SpectralNorm(Module):
    """The spectral-norm parametrization: the weight divided by its largest singular value,
    estimated by power iteration (buffers ``_u``, ``_v``; updated in training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] "
                             f"but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with no_grad():
                mat = _to_matrix(weight.detach(), self.dim)
                h, w = mat.shape
                u = _random.randn(h, dtype=weight.dtype)
                v = _random.randn(w, dtype=weight.dtype)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
                self._power_method(mat, 15)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """``n_power_iterations`` steps of power iteration, updating ``_u`` and ``_v`` in place."""
        with no_grad():
            weight_mat = weight_mat.detach()
            u, v = self._u, self._v
            for _ in range(n_power_iterations):
                u = F.normalize(weight_mat.mv(v), dim=0, eps=self.eps)
                v = F.normalize(weight_mat.mH.mv(u), dim=0, eps=self.eps)
            self._u.copy_(u)
            self._v.copy_(v)

    def forward(self, weight: Tensor) -> Tensor:
        """``weight / sigma`` (a 1-D weight is just normalized)."""
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = _to_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = _creation_vdot(u, weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        """The identity: assigning a weight stores it as is."""
        return value


def _creation_vdot(a: Tensor, b: Tensor) -> Tensor:
    return a.conj().dot(b) if a.is_complex() else a.dot(b)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as the weight divided by its spectral norm.

    The largest singular value is estimated by power iteration on the weight reshaped to a
    matrix (``dim`` first): buffers ``parametrizations.<name>.0._u`` / ``._v`` start with 15
    iterations and do ``n_power_iterations`` more on every access in training mode.

    Args:
        module: the module.
        name: the parameter's name.
        n_power_iterations: iterations per access in training mode (positive).
        eps: for numerical stability of the normalizations.
        dim: the output dim (default 0, 1 for ``ConvTranspose``).

    Returns:
        ``module``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ----- orthogonal ----------------------------------------------------------------------------
_MAPS = ("matrix_exp", "cayley", "householder")


def _eye(n: int, like: Tensor) -> Tensor:
    return _creation.eye(n, dtype=like.dtype)


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * float(jnp.finfo(q._data.dtype).eps)
    return bool((q.mH @ q).allclose(_eye(k, q).expand(q.mH.shape[:-1] + (k,)), atol=eps))


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a = QR`` (a tall matrix or batch) with the diagonal of R made non-negative."""
    q, r = linalg.qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """The orthogonal (unitary) parametrization by ``matrix_exp``, ``cayley`` or ``householder``."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        """An orthogonal matrix (or batch) of ``X``'s shape, as a function of ``X``."""
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                pad = _creation.zeros(X.shape[:-1] + (n - k,), dtype=X.dtype)
                X = _creation_cat(X, pad)
            A = X - X.mH
            if self.orthogonal_map == "matrix_exp":
                Q = A.matrix_exp()
            else:
                eye = _eye(n, A)
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """Store ``Q`` (made orthogonal if it is not) as ``base`` and return the ``X`` that maps to
        the identity; without trivialization, the Householder vectors of ``Q``."""
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {tuple(Q.shape)}.")
            q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                A, tau = Q.geqrf()
                d = A.diagonal(dim1=-2, dim2=-1).sign()
                d = d.where(tau != 0.0, -d)
                eye = _creation.eye(n, k, dtype=A.dtype)
                A = A * (1 - eye) + eye * d.unsqueeze(-2)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = _random.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                Q = _make_orthogonal(_creation_cat(Q, N))
            self.base = Q
            neg_id = -_creation.eye(q_init.shape[-2], q_init.shape[-1], dtype=q_init.dtype)
            return neg_id.expand(q_init.shape).clone()


def _creation_cat(a: Tensor, b: Tensor) -> Tensor:
    from ... import cat
    return cat([a, b], dim=-1)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal (unitary).

    Args:
        module: the module.
        name: the tensor's name.
        orthogonal_map: ``"matrix_exp"``, ``"cayley"`` or ``"householder"`` (default: matrix_exp
            for square or complex matrices, householder otherwise).
        use_trivialization: keep a ``base`` buffer (the current orthogonal matrix) so that the
            parameter stays near zero, and assignment works for every map.

    Returns:
        ``module``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] or weight.is_complex() \
            else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
