"""``mt.nn.parallel``: ``DataParallel`` (local devices, jax.sharding) and ``DistributedDataParallel``
(processes, ``mt.distributed``)."""

from __future__ import annotations

from .data_parallel import DataParallel, replicate_module
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "replicate_module"]
