"""``mt.utils.benchmark``: time code shaped like ``torch.utils.benchmark`` (:class:`Timer`,
:class:`Measurement`, :class:`Compare`), waiting for JAX's asynchronous work before each clock read."""

from __future__ import annotations

from ._sync import synchronize
from .compare import Compare
from .measurement import Measurement, select_unit
from .timer import Timer

__all__ = ["Timer", "Measurement", "Compare", "synchronize", "select_unit"]
