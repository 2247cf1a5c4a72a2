"""Layers torch added late: ``LinearCrossEntropyLoss`` ... (stub: being written)."""

from __future__ import annotations

__all__: list[str] = []
