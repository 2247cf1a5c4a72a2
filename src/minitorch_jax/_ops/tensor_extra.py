"""Tensor methods and attributes torch has beside the main op families (stub: being written)."""

from __future__ import annotations

__all__: list[str] = []
