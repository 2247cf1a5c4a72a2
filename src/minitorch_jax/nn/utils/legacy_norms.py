"""torch's legacy ``nn.utils.weight_norm`` / ``spectral_norm`` hooks (stub: being written)."""

from __future__ import annotations

__all__: list[str] = []
