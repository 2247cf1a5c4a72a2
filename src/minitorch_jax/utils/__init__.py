"""``mt.utils``: ``data`` (datasets, samplers, DataLoader), ``benchmark``, ``dlpack``, ``hooks``."""

from __future__ import annotations

from . import benchmark, data, dlpack, hooks
