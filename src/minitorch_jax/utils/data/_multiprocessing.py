"""The multi-process DataLoader iterator: worker pool, in-order delivery, failure handling.

Each worker has two one-way pipes: tasks ``(epoch, task_id, index)`` go out, pickled results
``(epoch, task_id, data)`` come back. The main process keeps ``prefetch_factor * num_workers``
tasks outstanding, hands them out round-robin, and waits on all result pipes *and* the worker
processes' sentinels at once (``multiprocessing.connection.wait``), so a worker that dies is
noticed immediately instead of after a timeout. Results that arrive early wait in a buffer keyed
by task id, so batches come out in sampler order. The epoch number lets persistent workers drop
the tasks of an epoch that was abandoned (``break``).

Worker processes are owned by a :class:`_WorkerPool`, which has no reference back to the
iterator: a ``weakref.finalize`` on the iterator (also run at interpreter exit) shuts the pool
down when the iterator is garbage-collected, e.g. after ``break`` or ``del loader``.
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import time
import weakref
from multiprocessing import connection

from . import _collate, _worker
from .dataloader import _BaseDataLoaderIter, _DatasetKind

_POLL_S = 0.5


class _WorkerPool:
    """The worker processes and the main process's ends of their pipes."""

    def __init__(self) -> None:
        self.procs: list = []
        self.task_conns: list = []
        self.result_conns: list = []
        self.closed = False

    def shutdown(self) -> None:
        """Stop every worker: ask politely, close the pipes, then terminate/kill stragglers."""
        if self.closed:
            return
        self.closed = True
        for c in self.task_conns:
            try:
                c.send(None)
            except (OSError, ValueError):
                pass
        for c in self.task_conns + self.result_conns:
            try:
                c.close()
            except OSError:
                pass
        deadline = time.monotonic() + 0.5
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            if p.exitcode is None:
                p.terminate()
                p.join(1.0)
            if p.exitcode is None:
                p.kill()
                p.join(1.0)


def _worker_collate(collate_fn):
    if collate_fn is _collate.default_collate:
        return _collate.worker_collate
    if collate_fn is _collate.default_convert:
        return _collate.worker_convert
    return collate_fn


def _death_message(p) -> str:
    code = p.exitcode
    msg = f"DataLoader worker (pid {p.pid}) exited unexpectedly with exit code {code}"
    if code is not None and code < 0:
        try:
            msg += f" (killed by signal {signal.Signals(-code).name})"
        except ValueError:
            pass
    return msg


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads batches in ``num_workers`` background processes (see the module docstring)."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._prefetch_factor = max(1, self._prefetch_factor)
        self._in_order = loader.in_order
        self._epoch = 0
        ctx = loader._mp_context()
        pool = self._pool = _WorkerPool()
        self._finalizer = weakref.finalize(self, pool.shutdown)
        collate = _worker_collate(self._collate_fn)
        iterable = self._dataset_kind == _DatasetKind.Iterable
        try:
            for wid in range(self._num_workers):
                task_r, task_w = ctx.Pipe(duplex=False)
                res_r, res_w = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_worker.worker_loop, daemon=True, args=(
                    iterable, self._dataset, task_r, res_w, self._auto_collation, collate, self._drop_last,
                    self._base_seed, loader.worker_init_fn, wid, self._num_workers, os.getpid()))
                p.start()
                task_r.close()
                res_w.close()
                pool.procs.append(p)
                pool.task_conns.append(task_w)
                pool.result_conns.append(res_r)
        except BaseException:
            pool.shutdown()
            raise
        self._reader_wid = {c: i for i, c in enumerate(pool.result_conns)}
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._epoch += 1
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info: dict = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _shutdown_workers(self) -> None:
        self._finalizer()

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = next(self._worker_cycle)
            if self._workers_status[wid]:
                break
        else:
            return
        try:
            self._pool.task_conns[wid].send((self._epoch, self._send_idx, index))
        except (OSError, ValueError):  # its process is gone
            self._raise_dead(wid)
        self._task_info[self._send_idx] = (wid,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _raise_dead(self, wid: int):
        p = self._pool.procs[wid]
        p.join(1.0)
        msg = _death_message(p)
        self._shutdown_workers()
        raise RuntimeError(msg)

    def _get_data(self):
        """The next result ``(task_id, data)`` of this epoch from any worker."""
        pool = self._pool
        if pool.closed:
            raise RuntimeError("DataLoader worker processes were shut down")
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        sentinels = {p.sentinel: i for i, p in enumerate(pool.procs)}
        while True:
            wait_s = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - time.monotonic()))
            ready = connection.wait(pool.result_conns + list(sentinels), wait_s)
            dead, eof = set(), set()
            for r in ready:
                if r in sentinels:
                    dead.add(sentinels[r])
                    continue
                try:
                    buf = r.recv_bytes()
                except (EOFError, OSError):
                    wid = self._reader_wid[r]
                    dead.add(wid)
                    eof.add(wid)
                    continue
                epoch, task_id, data = pickle.loads(buf)
                if epoch == self._epoch:
                    return task_id, data
            for wid in sorted(dead):
                if wid not in eof:
                    try:
                        if pool.result_conns[wid].poll(0):  # sent something before it went away?
                            continue
                    except (EOFError, OSError):
                        pass
                self._raise_dead(wid)
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_data(self):
        try:
            return self._next_data_inner()
        except KeyboardInterrupt:
            self._shutdown_workers()
            raise

    def _next_data_inner(self):
        while True:
            if not self._in_order:
                for tid, info in self._task_info.items():
                    if len(info) == 2:
                        del self._task_info[tid]
                        return self._process_data(info[1])
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process_data(info[1])
            task_id, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                self._task_info.pop(task_id, None)
                self._try_put_index()
                continue
            if task_id != self._rcvd_idx or not self._in_order:
                if task_id in self._task_info:
                    self._task_info[task_id] += (data,)
                continue
            del self._task_info[task_id]
            self._rcvd_idx += 1
            return self._process_data(data)

    def _process_data(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data
