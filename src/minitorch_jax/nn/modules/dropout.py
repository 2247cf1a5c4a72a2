"""Dropout layers: ``Dropout``, ``Dropout1d``/``2d``/``3d``, ``AlphaDropout``, ``FeatureAlphaDropout``.

Masks come from the global generator (``mt.manual_seed`` makes them reproducible); in eval mode
(or with ``p=0``) each layer returns its input.
"""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; the identity in eval mode.

    Args:
        p: probability of an element being zeroed (default 0.5).
        inplace: write the result into the input.
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` inputs with probability ``p`` during
    training (scaling the rest by ``1 / (1 - p)``)."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` inputs with probability ``p`` during training
    (scaling the rest by ``1 / (1 - p)``); 3-D inputs are taken as ``(N, C, L)``, as torch."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs with probability ``p``
    during training (scaling the rest by ``1 / (1 - p)``)."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for self-normalizing (SELU) networks: keeps zero mean and unit variance.

    Args:
        p: drop probability (default 0.5).
        inplace: write the result into the input.
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (dim 1 of ``(N, C, *)``)."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
