"""``mt.utils``: ``data`` (datasets, samplers, DataLoader), ``benchmark``, ``dlpack``, ``hooks``,
``checkpoint``, ``tensorboard``."""

from __future__ import annotations

from . import benchmark, checkpoint, data, dlpack, hooks, tensorboard
