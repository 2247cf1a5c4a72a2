"""Normalization layers over features: ``LayerNorm``, ``GroupNorm``, ``RMSNorm``,
``LocalResponseNorm``. Each call is one table-op dispatch."""

from __future__ import annotations

import numbers

from ... import _creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]


def _shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


def _check_trailing(layer, input, shape) -> None:
    k = len(shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"{layer!r}: expected input with trailing shape {list(shape)}, got shape "
                           f"{list(input.shape)}")


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``.

    Args:
        normalized_shape: an int or a sequence: the trailing dims' sizes.
        eps: added to the (biased) variance.
        elementwise_affine: learn ``weight`` (init 1) and ``bias`` (init 0) of that shape.
        bias: with ``elementwise_affine``, also learn the bias.

    Shape: input ``(*, *normalized_shape)``, output the same.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(_creation.empty(self.normalized_shape, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1, bias to 0."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        ns = self.normalized_shape
        if tuple(input.shape[input.dim() - len(ns):]) != ns or input.dim() < len(ns):
            _check_trailing(self, input, ns)
        return F.layer_norm(input, ns, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims:
    ``y = x / sqrt(mean(x**2) + eps) * weight``.

    Args:
        normalized_shape: an int or a sequence: the trailing dims' sizes.
        eps: added to the mean square (None: ``finfo(input.dtype).eps``).
        elementwise_affine: learn ``weight`` (init 1).
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_creation.empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input):
        ns = self.normalized_shape
        if tuple(input.shape[input.dim() - len(ns):]) != ns or input.dim() < len(ns):
            _check_trailing(self, input, ns)
        return F.rms_norm(input, ns, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalization: the ``num_channels`` channels split into ``num_groups`` groups, each
    normalized (per sample) over its channels and the spatial dims.

    Args:
        num_groups: number of groups (must divide ``num_channels``).
        num_channels: ``C``.
        eps: added to the variance.
        affine: learn a per-channel weight (init 1) and bias (init 0).
        bias: with ``affine``, also learn the bias.

    Shape: input ``(N, C, *)``, output the same.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(_creation.empty(num_channels, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(_creation.empty(num_channels, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight to 1, bias to 0."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.dim() < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(f"{self!r}: expected input with {self.num_channels} channels (dim 1), "
                               f"got shape {list(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalization across channels (see ``nn.functional.local_response_norm``).

    Args:
        size: number of neighbouring channels in the window.
        alpha, beta, k: ``y = x / (k + alpha / size * sum x**2) ** beta``.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
