"""torch's top-level sparse names (``mt.sparse_coo_tensor`` ...), star-imported into ``mt`` (stub)."""

from __future__ import annotations

__all__: list[str] = []
