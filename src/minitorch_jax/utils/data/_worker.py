"""The DataLoader worker process: its loop, ``get_worker_info`` and error transport.

A worker receives ``(epoch, task_id, index)`` messages on a pipe, fetches and collates the
samples and sends back ``pickle``d ``(epoch, task_id, data)`` from a sender thread (so it can
compute the next batch while the main process has not read the last one yet). Tensors in the
results are pickled as numpy arrays and rebuilt by the main process; with the default collate
the batch never becomes a JAX array in the worker at all. ``None`` or a closed pipe stops it,
and so does the death of the main process (checked every second).
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import random
import signal
import sys
import threading
import traceback

import numpy as np

from ..._tensor import Tensor
from . import _collate

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]

_worker_info = None
_POLL_S = 1.0


class WorkerInfo:
    """What a worker process knows about itself (read-only).

    Attributes:
        id: this worker's index in ``[0, num_workers)``.
        num_workers: the number of workers of the DataLoader.
        seed: this worker's seed (``base_seed + id``); Python's ``random``, numpy's global RNG
            and ``mt``'s default generator were seeded from it.
        dataset: this process's copy of the dataset.
    """

    __initialized = False

    def __init__(self, **kwargs) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its :class:`WorkerInfo`; ``None`` in the main process.

    Typical use: an :class:`IterableDataset` whose ``__iter__`` yields only its share::

        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        yield from range(start, n, step)
    """
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process and re-raised there."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the exception again (same type where it can be built from a message)."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            exception = None  # no frame -> exception -> traceback -> frame cycle


class _KeyErrorMessage(str):
    """A KeyError's message printed as is (KeyError would show its repr)."""

    def __repr__(self):
        return self


class _IterableDatasetStopIteration:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


# ----- transport ---------------------------------------------------------------------------------
def _reduce_tensor(t: Tensor):
    return _collate._rebuild_tensor, (np.asarray(t._data), bool(t.requires_grad))


class _Pickler(pickle.Pickler):
    """Pickles mt Tensors as numpy arrays that the main process turns back into Tensors."""

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return _reduce_tensor(obj)
        return NotImplemented


def dumps(obj) -> bytes:
    """Pickle ``obj`` for the trip to the main process."""
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


# ----- fetchers ---------------------------------------------------------------------------------
class _MapFetcher:
    """Fetches ``dataset[i]`` for each index of a batch (or one index), then collates."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.current = None  # the index being fetched (for error messages)
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index):
        if self.auto_collation:
            if self.getitems is not None:
                self.current = index
                data = self.getitems(index)
            else:
                data = []
                for i in index:
                    self.current = i
                    data.append(self.dataset[i])
        else:
            self.current = index
            data = self.dataset[index]
        self.current = None
        return self.collate_fn(data)


class _IterableFetcher:
    """Takes the next sample (or ``batch_size`` samples) from an iterator over the dataset."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.drop_last = drop_last
        self.iterator = iter(dataset)
        self.ended = False
        self.current = None

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.iterator))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.iterator)
        return self.collate_fn(data)


def make_fetcher(iterable: bool, dataset, auto_collation, collate_fn, drop_last):
    """The fetcher for a map-style (``iterable=False``) or iterable dataset."""
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# ----- the worker loop ----------------------------------------------------------------------------
def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    from ... import _random

    random.seed(seed)
    _random.manual_seed(seed)  # numpy key only: no JAX backend is started
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sender(conn, outbox: queue.Queue) -> None:
    while True:
        item = outbox.get()
        if item is None:
            return
        try:
            conn.send_bytes(item)
        except (OSError, ValueError):  # the main process closed the pipe or died
            return


def _where(worker_id: int, task_id: int, fetcher) -> str:
    where = f"in DataLoader worker process {worker_id}"
    cur = getattr(fetcher, "current", None)
    if cur is not None:
        where += f" while fetching dataset index {cur}"
    return where + f" (batch {task_id})"


def worker_loop(iterable, dataset, in_conn, out_conn, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers, parent_pid):
    """Entry point of a worker process (see the module docstring)."""
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C and stops us
    seed = base_seed + worker_id
    outbox: queue.Queue = queue.Queue()
    sender = threading.Thread(target=_sender, args=(out_conn, outbox), daemon=True)
    sender.start()
    init_error = None
    fetcher = None
    try:
        _seed_worker(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        if init_fn is not None:
            init_fn(worker_id)
    except Exception:
        init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
    epoch = 0
    iteration_end = False
    pending: list = []
    try:
        while True:
            if not pending:
                if not in_conn.poll(_POLL_S):
                    if not _parent_alive(parent_pid):
                        break
                    continue
            while in_conn.poll(0):  # read everything queued, to skip tasks of stale epochs
                pending.append(in_conn.recv())
            msg = pending.pop(0)
            if msg is None:
                break
            if msg[0] > epoch:  # a new epoch: a fresh iterator for iterable datasets
                epoch = msg[0]
                iteration_end = False
                if init_error is None and (iterable or fetcher is None):
                    try:
                        fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            if msg[0] < epoch or any(m is None or m[0] > msg[0] for m in pending):
                continue  # a task of an abandoned epoch
            _, task_id, index = msg
            if init_error is not None:
                data = init_error
            elif iteration_end:
                data = _IterableDatasetStopIteration(worker_id)
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where=_where(worker_id, task_id, fetcher))
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=_where(worker_id, task_id, fetcher))
            try:
                payload = dumps((epoch, task_id, data))
            except Exception:
                if not isinstance(data, ExceptionWrapper):
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id} while "
                                            f"pickling batch {task_id} for the main process")
                if not _picklable(data.exc_type):
                    data.exc_type = RuntimeError
                payload = dumps((epoch, task_id, data))
            del data
            outbox.put(payload)
    except (EOFError, OSError):  # the main process closed its end
        pass
    except KeyboardInterrupt:
        pass
    outbox.put(None)
    sender.join(timeout=5.0)
    for c in (in_conn, out_conn):
        try:
            c.close()
        except OSError:
            pass


def _picklable(obj) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True
