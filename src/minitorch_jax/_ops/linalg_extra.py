"""Op family stub (filled in by a helper)."""

from __future__ import annotations

__all__: list[str] = []
