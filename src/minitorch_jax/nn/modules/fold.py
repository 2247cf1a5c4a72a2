"""``Fold`` (col2im) and ``Unfold`` (im2col) layers."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Combines an array of sliding local blocks into a tensor (overlaps summed).

    Args:
        output_size: spatial output size ``(H, W)``.
        kernel_size, dilation, padding, stride: an int or a pair.

    Shape: ``(N, C*kh*kw, L)`` or ``(C*kh*kw, L)`` -> ``(N, C, H, W)`` or ``(C, H, W)``.
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extracts sliding local blocks from a batched input tensor (im2col).

    Args:
        kernel_size, dilation, padding, stride: an int or a pair.

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C*kh*kw, L)`` or ``(C*kh*kw, L)``.
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")
