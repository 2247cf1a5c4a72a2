"""The random number generator (``mt.Generator``, ``mt.manual_seed``) and random creation functions."""

from __future__ import annotations

__all__: list[str] = []
