"""torch's ``*_copy`` ops and other table entries for top-level names (stub: being written)."""

from __future__ import annotations

__all__: list[str] = []
