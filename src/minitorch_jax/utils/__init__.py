"""``mt.utils``: ``data`` (datasets, samplers, DataLoader), ``benchmark``, ``dlpack``, ``hooks``,
``checkpoint``, ``tensorboard``."""

from __future__ import annotations

from . import _pytree, benchmark, checkpoint, data, dlpack, flop_counter, hooks, module_tracker, tensorboard
