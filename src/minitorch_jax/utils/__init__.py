"""``mt.utils``: ``data`` (datasets, samplers, DataLoader) and ``hooks``."""

from __future__ import annotations

from . import benchmark, data, hooks
