"""nn.FractionalMaxPool2d/3d, CrossMapLRN2d (stub, filled in by a helper)."""

from __future__ import annotations

__all__: list[str] = []
