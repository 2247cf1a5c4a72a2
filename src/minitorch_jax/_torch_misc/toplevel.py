"""torch top-level names beside the op table (stub: being written). Imports only ``_dtype`` and ``_tensor`` at
load time (this package loads before the op table); import anything else inside functions."""

from __future__ import annotations

__all__: list[str] = []
