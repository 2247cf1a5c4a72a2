"""``DistributedSampler``: each of ``num_replicas`` processes loads its own shard of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _dist_default(what: str) -> int:
    try:
        from ... import distributed as dist  # optional package (mt.distributed)
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_available", lambda: False)():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if what == "world" else dist.get_rank()


class DistributedSampler(Sampler):
    """Restricts loading to this replica's share of the dataset (torch's DistributedSampler).

    The (optionally shuffled) index list is padded by repeating its start (or truncated with
    ``drop_last``) to a multiple of ``num_replicas``, and replica ``rank`` takes every
    ``num_replicas``-th index from position ``rank``: the shards are disjoint and together cover
    the dataset. Call :meth:`set_epoch` before each epoch so shuffling differs between epochs.

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: number of processes (default: ``mt.distributed.get_world_size()``).
        rank: this process's rank in ``[0, num_replicas)`` (default: ``mt.distributed.get_rank()``).
        shuffle: shuffle with a generator seeded by ``seed + epoch`` (default True); every
            replica must use the same ``seed``.
        seed: the shuffling seed.
        drop_last: drop the tail so each replica gets the same number of distinct samples
            instead of padding with repeats.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _dist_default("world")
        if rank is None:
            rank = _dist_default("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            from ... import _random

            g = _random.Generator().manual_seed(self.seed + self.epoch)
            indices = _random.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with ``shuffle=True`` each epoch gets its own order (same on all replicas)."""
        self.epoch = epoch
