"""``spawn`` / ``start_processes``: run ``fn(i, *args)`` in ``nprocs`` fresh processes and fail the parent
with the child's traceback when one of them fails (``torch.multiprocessing.spawn``)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import time
import traceback
import warnings

__all__ = ["spawn", "start_processes", "ProcessContext", "SpawnContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException"]


class ProcessException(Exception):
    """A spawned process failed. ``error_index`` is its index, ``error_pid`` its pid."""

    def __init__(self, msg: str, error_index: int, pid: int):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised; the message holds its traceback."""

    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg, error_index, error_pid)


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code or was killed by a signal (``exit_code``,
    ``signal_name``)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_file):
    """The child's entry point: run ``fn(i, *args)``; on an exception write its traceback for the parent
    and exit with code 1."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the processes down
    except Exception:
        with open(error_file, "w") as f:
            f.write(traceback.format_exc())
        raise SystemExit(1) from None


class ProcessContext:
    """The processes started by :func:`start_processes` with ``join=False``.

    Attributes:
        processes: the ``multiprocessing.Process`` objects, in index order.
    """

    def __init__(self, processes, error_files):
        self.processes = processes
        self.error_files = error_files
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        """The processes' pids."""
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait for the processes (up to ``timeout`` seconds).

        Returns True once all have exited successfully, False if some still run after ``timeout``.

        Raises:
            ProcessRaisedException: a process raised (the message holds its traceback); the others are
                terminated first.
            ProcessExitedException: a process exited with a non-zero code or was killed by a signal.
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        error_index = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0:
                error_index = index
                break
        if error_index is None:
            return not self.sentinels
        self._stop_others(grace_period)
        return self._raise(error_index)

    def _stop_others(self, grace_period) -> None:
        deadline = time.monotonic() + (grace_period or 0)
        for p in self.processes:
            if p.is_alive() and grace_period:
                p.join(max(deadline - time.monotonic(), 0))
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        for p in self.processes:
            p.join(30)
            if p.is_alive():
                p.kill()
                p.join()

    def _raise(self, index):
        process = self.processes[index]
        path = self.error_files[index]
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            code = process.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"<Unknown signal {-code}>"
                raise ProcessExitedException(f"process {index:d} terminated with signal {name}", index,
                                             process.pid, code, name)
            raise ProcessExitedException(f"process {index:d} terminated with exit code {code:d}", index,
                                         process.pid, code)
        with open(path) as f:
            trace = f.read()
        msg = f"\n\n-- Process {index:d} terminated with the following error:\n{trace}"
        raise ProcessRaisedException(msg, index, process.pid)

    def __del__(self):
        for path in getattr(self, "error_files", ()):
            try:
                os.unlink(path)
            except OSError:
                pass


class SpawnContext(ProcessContext):
    """What :func:`spawn` returns with ``join=False`` (a :class:`ProcessContext`)."""


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """Start ``nprocs`` processes, each running ``fn(i, *args)`` with its index ``i``.

    Args:
        fn: a picklable (module-level) function; its first argument is the process index.
        args: the other arguments (pickled to each process).
        nprocs: how many processes.
        join: wait for all of them (and raise if one fails); False returns a :class:`ProcessContext`.
        daemon: start them as daemonic processes.
        start_method: 'spawn' (default), 'forkserver' or 'fork'. JAX runs threads, so forking a process
            that has already used JAX can deadlock; 'fork' warns when it may.

    Raises:
        ProcessRaisedException, ProcessExitedException: (with ``join=True``) a process failed; the
            others are terminated.
    """
    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"start_processes(): nprocs must be a positive int, got {nprocs!r}")
    if start_method not in multiprocessing.get_all_start_methods():
        raise ValueError(f"start_processes(): start_method {start_method!r} is not available here; expected "
                         f"one of {multiprocessing.get_all_start_methods()}")
    if start_method == "fork":
        warnings.warn("start_processes(start_method='fork'): forking a process in which JAX has started its "
                      "threads can deadlock; prefer 'spawn' (the default) or 'forkserver'", RuntimeWarning,
                      stacklevel=2)
    ctx = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        fd, path = tempfile.mkstemp(prefix="mt-spawn-error-")
        os.close(fd)
        error_files.append(path)
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), path), daemon=daemon)
        p.start()
        processes.append(p)
    context = SpawnContext(processes, error_files) if start_method == "spawn" else \
        ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False, start_method: str = "spawn"):
    """``torch.multiprocessing.spawn``: :func:`start_processes` (``start_method='spawn'`` by default).

    Typical use, one process per rank::

        def main(rank, world_size):
            mt.distributed.init_process_group("gloo", rank=rank, world_size=world_size, ...)
            ...

        if __name__ == "__main__":
            mt.multiprocessing.spawn(main, args=(2,), nprocs=2)
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
