"""(stub: being written)"""

from __future__ import annotations

from . import flex_attention  # noqa: F401

__all__: list[str] = []
