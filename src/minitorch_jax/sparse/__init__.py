"""``mt.sparse`` (stub: being written)."""

from __future__ import annotations

from . import _toplevel  # noqa: F401

__all__: list[str] = []
