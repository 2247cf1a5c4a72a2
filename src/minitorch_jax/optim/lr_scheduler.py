"""``mt.optim.lr_scheduler``: learning-rate schedulers with torch.optim.lr_scheduler's API and numbers.

Every scheduler works on any torch-style optimizer (``param_groups`` + ``step``): ``mt.optim`` ones,
and anything shaped like them. Learning rates are plain Python floats in the param groups, so
changing them never recompiles a jitted training step.
"""

from __future__ import annotations

from ._schedulers.base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler
from ._schedulers.composite import ChainedScheduler, SequentialLR
from ._schedulers.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._schedulers.plateau import ReduceLROnPlateau
from ._schedulers.simple import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
    "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
    "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LRScheduler",
]
_ = (EPOCH_DEPRECATION_WARNING, _LRScheduler)
