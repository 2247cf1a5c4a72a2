"""Samplers (``torch.utils.data.sampler``): iterables over dataset indices.

Random samplers draw from a :class:`minitorch_jax.Generator` (or the global generator), so
``mt.manual_seed`` makes them reproducible. Their orders differ from torch's (another bit
generator); their distributions and arguments follow torch.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (indices or lists of indices) and,
    where known, ``__len__``."""

    def __init__(self, data_source=None) -> None:
        if data_source is not None:
            warnings.warn("`data_source` argument is not used and will be removed in 2.2.0."
                          "You may still have custom implementation that utilizes it.", UserWarning,
                          stacklevel=2)

    def __iter__(self) -> Iterator:
        raise NotImplementedError


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _fresh_generator(generator):
    """torch's rule: without a generator, seed a fresh one from the global generator per epoch."""
    from ... import _random

    if generator is not None:
        return generator
    seed = int(_random.randint(0, 1 << 62, (), dtype=np.int64).item())
    return _random.Generator().manual_seed(seed)


class RandomSampler(Sampler):
    """Indices in random order: a new permutation every epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices with replacement (default False).
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement, more than the length repeats whole permutations.
        generator: the :class:`minitorch_jax.Generator` to draw from (default: a generator seeded
            from the global one at each epoch, so ``mt.manual_seed`` fixes the sequence).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not _is_int(self.num_samples) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """Indices per epoch."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        from ... import _random

        n = len(self.data_source)
        g = _fresh_generator(self.generator)
        m = int(self.num_samples)
        if self.replacement:
            yield from _random.randint(0, n, (m,), generator=g).tolist()
            return
        for _ in range(m // n):
            yield from _random.randperm(n, generator=g).tolist()
        if m % n:
            yield from _random.randperm(n, generator=g).tolist()[:m % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a new permutation every epoch).

    Args:
        indices: a sequence of indices.
        generator: the :class:`minitorch_jax.Generator` to draw from (default: the global one).
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ... import _random

        for i in _random.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0 .. len(weights)-1`` drawn with probabilities proportional to ``weights``.

    Args:
        weights: a 1-D sequence of non-negative weights (need not sum to one).
        num_samples: how many indices per epoch.
        replacement: draw with replacement (default True); without, ``num_samples`` must not
            exceed the number of positive weights.
        generator: the :class:`minitorch_jax.Generator` to draw from (default: the global one).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None) -> None:
        from ... import _creation, _dtype

        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = _creation.as_tensor(weights, dtype=_dtype.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ... import _random

        idx = _random.multinomial(self.weights, self.num_samples, self.replacement,
                                  generator=self.generator)
        yield from idx.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``.

    Args:
        sampler: an iterable of indices (a :class:`Sampler` or any iterable).
        batch_size: indices per batch (a positive int).
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        bs = self.batch_size
        if self.drop_last:
            while True:
                batch = [None] * bs
                try:
                    for i in range(bs):
                        batch[i] = next(it)
                except StopIteration:
                    return
                yield batch
        else:
            batch = []
            for idx in it:
                batch.append(idx)
                if len(batch) == bs:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
