"""Datasets for the DataLoader worker tests (module level, so worker processes can unpickle them)."""

from __future__ import annotations

import os
import random

import numpy as np

from minitorch_jax.utils.data import Dataset, IterableDataset, get_worker_info

_INIT = {"worker_id": None}


def _jax_backends() -> int:
    """How many JAX backends this process has started (0: JAX never ran here)."""
    import jax._src.xla_bridge as xb

    return len(xb._backends)


def record_init(worker_id: int) -> None:
    """A worker_init_fn that records its argument."""
    _INIT["worker_id"] = worker_id


class ProbeDataset(Dataset):
    """Item i: numpy data plus facts about the process that loaded it."""

    def __init__(self, n: int = 12) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "x": np.full((2, 3), i, dtype=np.float32),
            "i": i,
            "name": f"s{i}",
            "pid": os.getpid(),
            "backends": _jax_backends(),
            "wid": -1 if info is None else info.id,
            "nw": -1 if info is None else info.num_workers,
            "seed": -1 if info is None else info.seed,
            "init": -2 if _INIT["worker_id"] is None else _INIT["worker_id"],
            "pyrand": random.random(),
        }


class TensorItems(Dataset):
    """Items are mt Tensors made in the worker (so the worker does run JAX)."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i):
        import minitorch_jax as mt

        return mt.full((3,), float(i)), i


class Failing(Dataset):
    """Raises ValueError at index ``bad``."""

    def __init__(self, n: int, bad: int) -> None:
        self.n, self.bad = n, bad

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"bad sample {i}")
        return np.float32(i)


class Exiting(Dataset):
    """The worker process exits abruptly (os._exit) at index ``bad``."""

    def __init__(self, n: int, bad: int) -> None:
        self.n, self.bad = n, bad

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            os._exit(3)
        return np.int64(i)


class Ranges(IterableDataset):
    """range(start, end), split between workers with get_worker_info."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    def __len__(self) -> int:
        return self.end - self.start

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


class CpuWork(Dataset):
    """About ``ms`` milliseconds of numpy work per item (for the benchmark)."""

    def __init__(self, n: int, size: int = 96) -> None:
        self.n = n
        self.size = size

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        a = rng.standard_normal((self.size, self.size)).astype(np.float32)
        for _ in range(3):
            a = np.tanh(a @ a.T / self.size)
        return a[0].copy(), i % 10


class Sleepy(Dataset):
    """Index ``slow`` takes ``seconds`` (sleeping); the others are instant."""

    def __init__(self, n: int, slow: int, seconds: float) -> None:
        self.n, self.slow, self.seconds = n, slow, seconds

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if i == self.slow:
            import time

            time.sleep(self.seconds)
        return np.int64(i), os.getpid()


def failing_init(worker_id: int) -> None:
    """A worker_init_fn that fails."""
    raise KeyError(f"init failed in {worker_id}")
