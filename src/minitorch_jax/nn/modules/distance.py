"""Distance layers: ``CosineSimilarity``, ``PairwiseDistance``."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim`` (see ``nn.functional.cosine_similarity``).

    Args:
        dim: the dim of the vectors (default 1).
        eps: lower bound of each norm (default 1e-8).

    Shape: inputs broadcastable to a common ``(*1, D, *2)``; output ``(*1, *2)``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last dim (see ``nn.functional.pairwise_distance``).

    Args:
        p: the norm degree (default 2).
        eps: added to the difference (default 1e-6).
        keepdim: keep the reduced dim.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
