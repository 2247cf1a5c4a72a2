"""nn.FractionalMaxPool2d/3d and nn.CrossMapLRN2d (torch's legacy cross-channel LRN)."""

from __future__ import annotations

from ..._errors import OpValueError
from ..._ops._registry import REGISTRY
from .. import functional as F
from .module import Module
from .pooling import _ntuple

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d", "CrossMapLRN2d"]


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if nd == 3 and any(k <= 0 for k in _ntuple(kernel_size, nd)):
            raise OpValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _ntuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise OpValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise OpValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio[:nd]):
            raise OpValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return self._fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                        _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2D fractional max pooling (see ``nn.functional.fractional_max_pool2d``).

    Args:
        kernel_size: ``k`` or ``(kH, kW)``.
        output_size: ``oH`` or ``(oH, oW)``; or
        output_ratio: a number or pair in (0, 1) (exactly one of the two).
        return_indices: also return the flat indices of the maxima (for ``nn.MaxUnpool2d``).
        _random_samples: fixed ``(N, C, 2)`` samples (a buffer; None draws new ones per call from
            mt's default generator).

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, oH, oW)`` or ``(C, oH, oW)``.
    """

    _nd = 2
    _fn = staticmethod(F.fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3D fractional max pooling (see ``nn.functional.fractional_max_pool3d``).

    Args:
        kernel_size: ``k`` or ``(kT, kH, kW)`` (positive).
        output_size: ``o`` or ``(oT, oH, oW)``; or
        output_ratio: a number or triple in (0, 1) (exactly one of the two).
        return_indices: also return the flat indices of the maxima (for ``nn.MaxUnpool3d``).
        _random_samples: fixed ``(N, C, 3)`` samples (a buffer; None draws new ones per call).

    Shape: ``(N, C, T, H, W)`` or ``(C, T, H, W)`` -> ``(N, C, oT, oH, oW)`` or ``(C, oT, oH, oW)``.
    """

    _nd = 3
    _fn = staticmethod(F.fractional_max_pool3d)


class CrossMapLRN2d(Module):
    """torch's legacy local response normalization across channels (from Lua torch).

    ``y[n, c] = x[n, c] * (k + alpha / size * sum_{j in window(c)} x[n, j]**2) ** -beta``, where the
    window is the one of torch's running sum (channels ``c - p + 1 .. c + p - 1`` with
    ``p = int((size - 1) / 2 + 1)``, plus channel 0 once ``c >= p``, a quirk kept for parity). The
    gradient is torch's hand-written backward, which is not the exact derivative of this forward
    (see ``_ops.nn_pool_extra.lrn_windows``); ``nn.LocalResponseNorm`` is the exact, modern form.

    Args:
        size: the number of neighbouring channels summed over.
        alpha: the multiplicative factor. Default: 1e-4.
        beta: the exponent. Default: 0.75.
        k: the additive constant. Default: 1.

    Shape: ``(N, C, H, W)`` -> ``(N, C, H, W)`` (4-D input only).
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        if input.dim() != 4:
            raise OpValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        return REGISTRY["_cross_map_lrn2d"].call(input, int(self.size), float(self.alpha), float(self.beta),
                                                 float(self.k))

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
