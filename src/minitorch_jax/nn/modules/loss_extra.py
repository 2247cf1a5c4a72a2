"""More loss layers and ChannelShuffle (torch.nn): thin modules over ``nn.functional``."""

from __future__ import annotations

from .. import functional as F
from .distance import PairwiseDistance
from .loss import _Loss, _WeightedLoss
from .module import Module

__all__ = ["MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "ChannelShuffle"]


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss ``sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C``.

    Args:
        p: 1 or 2 (default 1). margin: default 1.
        weight: optional 1-D (C) per-class weights (a buffer).
        reduction: 'none' | 'mean' | 'sum'.

    Shapes: input (N, C) or (C); target (N) or () int64 class indices; output scalar or (N) with 'none'.
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D "
                             f"instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss (see ``nn.functional.multilabel_margin_loss``).

    Shapes: input (N, C) or (C); target int64 of the same shape, class indices padded with -1;
    output scalar or (N) with reduction='none'.
    """

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))`` with a custom distance ``d``.

    Args:
        distance_function: callable ``(x1, x2) -> distances``; default :class:`PairwiseDistance`
            (kept as a submodule, as torch).
        margin: > 0 (default 1). swap: use ``min(d(a, n), d(p, n))`` as the negative distance.
        reduction: 'none' | 'mean' | 'sum'.

    Shapes: anchor, positive, negative (N, D) or (D) (any shape ``distance_function`` accepts).
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap,
                                                   reduction=self.reduction)


class ChannelShuffle(Module):
    """Shuffles the channels of an ``(N, C, *)`` tensor in ``groups`` groups (ShuffleNet).

    Args:
        groups: number of groups (``C`` must be divisible by it).
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
