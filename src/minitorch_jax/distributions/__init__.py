"""``mt.distributions``: probability distributions with torch.distributions's API (stub: being written)."""

from __future__ import annotations

__all__: list[str] = []
