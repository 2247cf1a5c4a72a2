"""torch's legacy hook-based ``nn.utils.weight_norm`` / ``spectral_norm`` (and their removers).

A forward pre-hook recomputes ``module.<name>`` (a plain attribute, not in the ``state_dict``)
from the stored parameters before every call: ``<name>_g`` / ``<name>_v`` for weight norm,
``<name>_orig`` plus the power-iteration buffers ``<name>_u`` / ``<name>_v`` for spectral
norm, as in torch. The recomputed attribute is state that ``mt.jit`` captures and writes back.
torch recommends the parametrization versions (:mod:`minitorch_jax.nn.utils.parametrizations`).
"""

from __future__ import annotations

import warnings

from ... import _random
from ..._grad_mode import no_grad
from .. import functional as F
from ..modules.module import Module
from ..parameter import Parameter
from .parametrizations import _norm_except_dim, _to_matrix, _weight_norm

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: sets ``module.<name> = g * v / ||v||``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module):
        """The weight from ``<name>_g`` and ``<name>_v``."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    def remove(self, module: Module) -> None:
        """Turn the computed weight back into a plain parameter."""
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Legacy weight normalization: replace ``module.<name>`` by parameters ``<name>_g``
    (magnitude) and ``<name>_v`` (direction), recombined by a forward pre-hook.

    Deprecated in torch (a FutureWarning, as there) in favour of
    :func:`minitorch_jax.nn.utils.parametrizations.weight_norm`.

    Args:
        module: the module.
        name: the parameter's name.
        dim: the dim kept by the norm (None: the whole tensor).

    Returns:
        ``module``.
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    fn = WeightNorm(name, dim)
    weight = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``module.<name>`` becomes a parameter with the current value."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: sets ``module.<name>`` to
    ``<name>_orig / sigma``, doing power iteration on ``<name>_u`` / ``<name>_v`` in training."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        """The weight as a matrix with ``dim`` first."""
        return _to_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool):
        """The normalized weight (updating ``<name>_u`` / ``<name>_v`` in place if asked)."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                mat = weight_mat.detach()
                nu, nv = u, v
                for _ in range(self.n_power_iterations):
                    nv = F.normalize(mat.mH.mv(nu), dim=0, eps=self.eps)
                    nu = F.normalize(mat.mv(nv), dim=0, eps=self.eps)
                u.copy_(nu)
                v.copy_(nv)
        u = u.clone()
        v = v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Turn the normalized weight back into a plain parameter."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Legacy spectral normalization: ``module.<name>`` becomes ``<name>_orig / sigma``,
    recomputed by a forward pre-hook, with power-iteration buffers ``<name>_u``, ``<name>_v``.

    Args:
        module: the module.
        name: the parameter's name.
        n_power_iterations: power iterations per forward in training mode.
        eps: for numerical stability of the normalizations.
        dim: the output dim (default 0, 1 for ``ConvTranspose``).

    Returns:
        ``module``.
    """
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters[name]
    with no_grad():
        mat = fn.reshape_weight_to_matrix(weight.detach())
        h, w = mat.shape
        u = F.normalize(_random.randn(h, dtype=weight.dtype), dim=0, eps=fn.eps)
        v = F.normalize(_random.randn(w, dtype=weight.dtype), dim=0, eps=fn.eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a parameter with the current value."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
