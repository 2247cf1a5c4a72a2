"""Compositions of table ops exposed in nn.functional: attention (being written)."""

from __future__ import annotations

__all__: list[str] = []
