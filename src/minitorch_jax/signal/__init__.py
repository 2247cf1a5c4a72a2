"""(stub: being written)"""

from __future__ import annotations

from . import windows  # noqa: F401

__all__: list[str] = []
