"""``EventFileWriter``: one TensorBoard event file, written in the background.

The file is ``<logdir>/events.out.tfevents.<time>.<hostname>.<pid>.<n><filename_suffix>`` and starts
with an ``Event(file_version="brain.Event:2")`` record, written at once. Later events wait in memory
until ``max_queue`` of them are pending (then the adding call writes them and flushes the file),
until a background thread's periodic flush every ``flush_secs``, or until :meth:`flush` /
:meth:`close`. The file is closed (pending events written) when the writer is garbage-collected
and at interpreter exit. ``close()`` may be called any number of times.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref

from ._messages import Event
from ._record import frame

__all__ = ["EventFileWriter"]

_uid = itertools.count()


class _EventFile:
    """The open file, its pending records and the lock guarding both (owned by the flush thread
    and the finalizer, never referring back to the writer so that it can be collected)."""

    def __init__(self, path: str, max_queue: int):
        self.path = path
        self.max_queue = max(int(max_queue), 1)
        self._fh = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._pending: list[bytes] = []
        self._lock = threading.Lock()
        self.closed = False
        self.stop = threading.Event()

    def add(self, record: bytes) -> None:
        with self._lock:
            if self.closed:
                raise OSError(f"Writer is closed: cannot add an event to {self.path} (call reopen())")
            self._pending.append(frame(record))
            if len(self._pending) >= self.max_queue:
                self._write_locked()

    def _write_locked(self) -> None:
        if self._pending:
            self._fh.write(b"".join(self._pending))
            self._pending.clear()
        self._fh.flush()

    def flush(self) -> None:
        with self._lock:
            if not self.closed:
                self._write_locked()

    def close(self) -> None:
        self.stop.set()
        with self._lock:
            if self.closed:
                return
            try:
                self._write_locked()
            finally:
                self._fh.close()
                self.closed = True


def _flush_loop(state: _EventFile, secs: float) -> None:
    while not state.stop.wait(secs):
        try:
            state.flush()
        except (OSError, ValueError):  # file gone or closed under us: stop quietly
            return


class EventFileWriter:
    """Writes serialized ``Event`` records to a new event file in ``logdir``.

    Args:
        logdir (str): directory (created if missing).
        max_queue (int): pending events that force a write and flush. Default 10.
        flush_secs (float): period of the background flush, in seconds. Default 120.
        filename_suffix (str): appended to the file name.
    """

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""):
        self._logdir = str(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._suffix = filename_suffix
        self._open()

    def _open(self) -> None:
        os.makedirs(self._logdir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_uid)}{self._suffix}")
        self._state = _EventFile(os.path.join(self._logdir, name), self._max_queue)
        self._state.add(Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        self._state.flush()
        if self._flush_secs and self._flush_secs > 0:
            t = threading.Thread(target=_flush_loop, args=(self._state, float(self._flush_secs)),
                                 name="mt-tensorboard-flush", daemon=True)
            t.start()
        self._finalizer = weakref.finalize(self, self._state.close)

    @property
    def path(self) -> str:
        """The event file's path."""
        return self._state.path

    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self._logdir

    def add_event(self, event) -> None:
        """Queue one event (an :class:`Event` or its serialized bytes)."""
        data = event if isinstance(event, (bytes, bytearray)) else event.SerializeToString()
        self._state.add(bytes(data))

    def flush(self) -> None:
        """Write the pending events and flush the file."""
        self._state.flush()

    def close(self) -> None:
        """Write the pending events and close the file (idempotent)."""
        self._finalizer()

    def reopen(self) -> None:
        """After :meth:`close`, start a new event file in the same directory."""
        if self._state.closed:
            self._open()
