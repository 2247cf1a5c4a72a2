"""torch.distributed's key-value stores: ``HashStore`` (one process), ``TCPStore`` (a server in one process,
clients anywhere), ``FileStore`` (a file several processes share) and ``PrefixStore`` (a key namespace).

Processes use a store to meet before they can communicate: ``init_process_group(store=...)`` exchanges the
JAX coordinator's address through one. Keys are strings, values bytes (a ``str`` value is stored UTF-8
encoded); ``get`` and ``wait`` block until the keys exist or the store's timeout passes
(``DistStoreError: Wait timeout after ... ms, keys: ...``).
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time

from ._errors import DistNetworkError, DistStoreError, QueueEmptyError

__all__ = ["Store", "HashStore", "TCPStore", "FileStore", "PrefixStore"]

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"Store: a value must be str or bytes, got {type(value).__name__}")


def _seconds(timeout) -> float:
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


class _Table:
    """The store's contents and its operations, thread-safe; blocking operations wait on a condition."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.queues: dict[str, list] = {}
        self.cond = threading.Condition()

    def run(self, op: str, args: list, timeout: float):
        """Apply operation ``op`` (a Store method name) to ``args``; ``timeout``: seconds a blocking
        operation waits."""
        with self.cond:
            result = getattr(self, "op_" + op)(timeout, *args)
            self.cond.notify_all()
            return result

    def _wait_for(self, ready, timeout: float, keys) -> None:
        if not self.cond.wait_for(ready, timeout=max(timeout, 0.0)):
            raise DistStoreError(f"Wait timeout after {timeout * 1000:.0f} ms, keys: {', '.join(keys)}")

    def op_set(self, timeout, key, value):
        self.data[key] = value

    def op_get(self, timeout, key):
        self._wait_for(lambda: key in self.data, timeout, [key])
        return self.data[key]

    def op_add(self, timeout, key, amount):
        old = self.data.get(key, b"0")
        try:
            new = int(old) + int(amount)
        except ValueError:
            raise ValueError(f"Store.add(): the value of key {key!r} is not an integer ({old!r})") from None
        self.data[key] = str(new).encode()
        return new

    def op_append(self, timeout, key, value):
        self.data[key] = self.data.get(key, b"") + value

    def op_compare_set(self, timeout, key, expected, desired):
        if key not in self.data:
            if expected:
                return expected
            self.data[key] = desired
            return desired
        if self.data[key] == expected:
            self.data[key] = desired
        return self.data[key]

    def op_check(self, timeout, keys):
        return all(k in self.data for k in keys)

    def op_delete_key(self, timeout, key):
        return self.data.pop(key, None) is not None

    def op_num_keys(self, timeout):
        return len(self.data)

    def op_wait(self, timeout, keys):
        self._wait_for(lambda: all(k in self.data for k in keys), timeout, keys)

    def op_multi_get(self, timeout, keys):
        self._wait_for(lambda: all(k in self.data for k in keys), timeout, keys)
        return [self.data[k] for k in keys]

    def op_multi_set(self, timeout, keys, values):
        self.data.update(zip(keys, values))

    def op_queue_push(self, timeout, key, value):
        self.queues.setdefault(key, []).append(value)

    def op_queue_pop(self, timeout, key, block):
        if not self.queues.get(key):
            if not block:
                raise QueueEmptyError(f"queue is empty: Store.queue_pop({key!r}, block=False)")
            self._wait_for(lambda: bool(self.queues.get(key)), timeout, [key])
        return self.queues[key].pop(0)

    def op_queue_len(self, timeout, key):
        return len(self.queues.get(key, ()))


class Store:
    """Base class of the key-value stores (``torch.distributed.Store``).

    Subclasses implement ``_run(op, args)``; every method below goes through it.

    Args:
        timeout: how long ``get``/``wait`` (and a blocking ``queue_pop``) wait (default 300 s).
    """

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = timeout if isinstance(timeout, datetime.timedelta) else datetime.timedelta(
            seconds=float(timeout))

    @property
    def timeout(self) -> datetime.timedelta:
        """The store's timeout for blocking operations."""
        return self._timeout

    def set_timeout(self, timeout) -> None:
        """Set the timeout of blocking operations (a ``timedelta`` or seconds)."""
        self._timeout = timeout if isinstance(timeout, datetime.timedelta) else datetime.timedelta(
            seconds=float(timeout))

    def _run(self, op, args, timeout=None):
        raise NotImplementedError

    def _call(self, op, *args, timeout=None):
        secs = _seconds(self._timeout if timeout is None else timeout)
        return self._run(op, list(args), secs)

    def set(self, key: str, value) -> None:
        """Set ``key`` to ``value`` (str or bytes)."""
        self._call("set", str(key), _bytes(value))

    def get(self, key: str) -> bytes:
        """The value of ``key``, waiting up to the timeout for it to be set."""
        return self._call("get", str(key))

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer at ``key`` (0 when unset) and return the new value."""
        return self._call("add", str(key), int(amount))

    def append(self, key: str, value) -> None:
        """Append ``value`` to the bytes at ``key`` (set it when unset)."""
        self._call("append", str(key), _bytes(value))

    def compare_set(self, key: str, expected_value, desired_value) -> bytes:
        """Set ``key`` to ``desired_value`` if it holds ``expected_value`` (or is unset and
        ``expected_value`` is empty); returns the value after the call (``expected_value`` for an unset
        key that was not set)."""
        return self._call("compare_set", str(key), _bytes(expected_value), _bytes(desired_value))

    def check(self, keys) -> bool:
        """Whether every key in ``keys`` is set (does not wait)."""
        return self._call("check", [str(k) for k in keys])

    def delete_key(self, key: str) -> bool:
        """Delete ``key``; whether it was set."""
        return self._call("delete_key", str(key))

    def num_keys(self) -> int:
        """The number of keys set."""
        return self._call("num_keys")

    def wait(self, keys, timeout=None) -> None:
        """Wait until every key in ``keys`` is set (``DistStoreError`` after ``timeout``, by default the
        store's)."""
        self._call("wait", [str(k) for k in keys], timeout=timeout)

    def multi_get(self, keys) -> list:
        """The values of ``keys``, waiting for all of them."""
        return self._call("multi_get", [str(k) for k in keys])

    def multi_set(self, keys, values) -> None:
        """Set each key in ``keys`` to the matching value."""
        keys = [str(k) for k in keys]
        values = [_bytes(v) for v in values]
        if len(keys) != len(values):
            raise ValueError(f"Store.multi_set(): {len(keys)} keys but {len(values)} values")
        self._call("multi_set", keys, values)

    def queue_push(self, key: str, value) -> None:
        """Push ``value`` onto the queue ``key``."""
        self._call("queue_push", str(key), _bytes(value))

    def queue_pop(self, key: str, block: bool = True) -> bytes:
        """Pop the oldest value of the queue ``key``; if it is empty, wait (``block``) or raise
        ``QueueEmptyError``."""
        return self._call("queue_pop", str(key), bool(block))

    def queue_len(self, key: str) -> int:
        """The number of values in the queue ``key``."""
        return self._call("queue_len", str(key))

    def has_extended_api(self) -> bool:
        """Whether the store has ``append``/``multi_get``/``multi_set`` (all of these do)."""
        return True


class HashStore(Store):
    """A store in this process's memory (threads of one process share it)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _run(self, op, args, timeout):
        return self._table.run(op, args, timeout)


# ----- TCPStore: a length-prefixed JSON protocol (no pickle: a store port must not run code) -------------
def _encode(obj):
    if isinstance(obj, bytes):
        return {"b": base64.b64encode(obj).decode()}
    if isinstance(obj, list):
        return [_encode(x) for x in obj]
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        return base64.b64decode(obj["b"])
    if isinstance(obj, list):
        return [_decode(x) for x in obj]
    return obj


def _send(sock, obj) -> None:
    body = json.dumps(_encode(obj)).encode()
    sock.sendall(struct.pack("!I", len(body)) + body)


def _recv_exact(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the store's peer closed the connection")
        buf += chunk
    return buf


def _recv(sock):
    (n,) = struct.unpack("!I", _recv_exact(sock, 4))
    return _decode(json.loads(_recv_exact(sock, n)))


_ERRORS = {"DistStoreError": DistStoreError, "QueueEmptyError": QueueEmptyError, "ValueError": ValueError}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        with server.joined_cond:
            server.joined += 1
            server.joined_cond.notify_all()
        while True:
            try:
                op, args, timeout = _recv(self.request)
            except (ConnectionError, OSError, struct.error, ValueError):
                return
            try:
                if not hasattr(_Table, "op_" + op):
                    raise ValueError(f"TCPStore: unknown operation {op!r}")
                reply = ["ok", server.table.run(op, args, timeout)]
            except (DistStoreError, ValueError) as e:
                reply = ["error", type(e).__name__, str(e)]
            except Exception as e:  # noqa: BLE001 - a malformed request: answer it, keep serving
                reply = ["error", "DistStoreError", f"TCPStore: bad request {op!r}: {type(e).__name__}: {e}"]
            try:
                _send(self.request, reply)
            except OSError:
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore(Store):
    """A store served over TCP by the process created with ``is_master=True``; every process (the master
    too) is a client of it.

    Args:
        host_name: the server's host name or address.
        port: its port (0 on the master: any free port; read it back from ``.port``).
        world_size: the number of processes that will use the store (with ``wait_for_workers``, the
            master's constructor waits until that many have connected).
        is_master: whether this process runs the server.
        timeout: for connecting and for blocking operations (default 300 s).
        wait_for_workers: see ``world_size``.
        multi_tenant, master_listen_fd, use_libuv: torch's server options, accepted and unused (one server
            per master object, plain sockets).
    """

    def __init__(self, host_name: str, port: int, world_size: int | None = None, is_master: bool = False,
                 timeout=_DEFAULT_TIMEOUT, wait_for_workers: bool = True, multi_tenant: bool = False,
                 master_listen_fd=None, use_libuv: bool = True):
        super().__init__(timeout)
        self.host = host_name
        self._server = None
        if is_master:
            try:
                self._server = _Server((host_name, port), _Handler)
            except OSError as e:
                raise DistNetworkError(f"TCPStore: the master cannot listen on {host_name}:{port}: "
                                       f"{e}") from None
            self._server.table = _Table()
            self._server.joined, self._server.joined_cond = 0, threading.Condition()
            port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="mt-tcpstore",
                             daemon=True).start()
        self.port = port
        self._lock = threading.Lock()
        self._sock = self._connect(_seconds(self._timeout))
        if is_master and wait_for_workers and world_size:
            deadline = time.monotonic() + _seconds(self._timeout)
            with self._server.joined_cond:
                if not self._server.joined_cond.wait_for(lambda: self._server.joined >= world_size,
                                                         timeout=max(deadline - time.monotonic(), 0)):
                    raise DistStoreError(f"TCPStore: {self._server.joined} of {world_size} workers joined "
                                         f"within {_seconds(self._timeout):g} s")

    def _connect(self, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=max(timeout, 1.0))
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as e:
                if time.monotonic() >= deadline:
                    raise DistNetworkError(f"TCPStore: cannot connect to {self.host}:{self.port} within "
                                           f"{timeout:g} s: {e}") from None
                time.sleep(0.05)

    def _run(self, op, args, timeout):
        with self._lock:
            try:
                _send(self._sock, [op, args, timeout])
                reply = _recv(self._sock)
            except (ConnectionError, OSError) as e:
                raise DistNetworkError(f"TCPStore {self.host}:{self.port}: {op} failed: {e}") from None
        if reply[0] == "ok":
            return reply[1]
        raise _ERRORS[reply[1]](reply[2])

    @property
    def libuvBackend(self) -> bool:  # noqa: N802 (torch's name)
        """torch's TCPStore reports whether it uses libuv; this one is plain sockets."""
        return False

    def __del__(self):
        try:
            self._sock.close()
            # (at interpreter exit the server's daemon thread may be stopped already: shutdown() would
            # wait for it forever; the process's end closes the port anyway)
            if self._server is not None and not sys.is_finalizing():
                self._server.shutdown()
                self._server.server_close()
        except Exception:  # noqa: BLE001 - a half-built store, or interpreter shutdown
            pass


class FileStore(Store):
    """A store kept in a file that processes on one machine (or a shared file system) share.

    Each operation locks the file (``fcntl.flock``), reads it, applies the change and writes it back;
    blocking operations poll.

    Args:
        file_name: the file (created if missing).
        world_size: the number of processes using it (informational).
    """

    def __init__(self, file_name: str, world_size: int = -1):
        super().__init__()
        self.path = os.fspath(file_name)
        self.world_size = world_size
        with open(self.path, "a"):
            pass

    def _locked(self, op, args):
        with open(self.path, "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                text = f.read()
                table = _Table()
                if text:
                    try:
                        saved = _decode(json.loads(text))
                        table.data = dict(zip(saved[0], saved[1]))
                        table.queues = dict(zip(saved[2], saved[3]))
                    except (ValueError, KeyError, IndexError, TypeError):
                        raise DistStoreError(f"FileStore: {self.path} is not a store file (corrupt or "
                                             "written by something else)") from None
                with table.cond:
                    result = getattr(table, "op_" + op)(0.0, *args)
                if op not in ("get", "check", "num_keys", "wait", "multi_get", "queue_len"):
                    f.seek(0)
                    f.truncate()
                    f.write(json.dumps(_encode([list(table.data), list(table.data.values()),
                                                list(table.queues), list(table.queues.values())])))
                    f.flush()  # (before the lock goes: the next process must read this)
                return result
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _run(self, op, args, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._locked(op, args)
            except DistStoreError as e:
                if not str(e).startswith("Wait timeout"):
                    raise
                if time.monotonic() >= deadline:  # (the table waited 0 ms each time: say how long this did)
                    keys = str(e).split("keys: ", 1)[1]
                    raise DistStoreError(f"Wait timeout after {timeout * 1000:.0f} ms, keys: "
                                         f"{keys}") from None
            time.sleep(0.01)


class PrefixStore(Store):
    """A view of ``store`` whose keys all start with ``prefix + "/"``.

    Args:
        prefix: the namespace.
        store: the underlying store.
    """

    def __init__(self, prefix: str, store: Store):
        super().__init__(store.timeout)
        self.prefix = prefix
        self.underlying_store = store

    def _key(self, key):
        return f"{self.prefix}/{key}"

    def _run(self, op, args, timeout):
        if op in ("check", "wait", "multi_get", "multi_set"):
            args = [[self._key(k) for k in args[0]]] + args[1:]
        elif op != "num_keys":
            args = [self._key(args[0])] + args[1:]
        return self.underlying_store._run(op, args, timeout)
