"""``mt.futures``: torch.futures' ``Future`` (a thread-safe result placeholder with callbacks),
``collect_all`` and ``wait_all``. Device arguments are accepted and ignored (JAX orders device work)."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")
_UNSET = object()


class Future(Generic[T]):
    """A value that will be available later (``torch.futures.Future``).

    Args:
        devices: accepted for torch compatibility (ignored).

    Example::

        >>> fut = mt.futures.Future()
        >>> chained = fut.then(lambda f: f.wait() + 1)
        >>> fut.set_result(3); chained.wait()
        4
    """

    def __init__(self, *, devices=None) -> None:
        self._cond = threading.Condition()
        self._result: Any = _UNSET
        self._exc: BaseException | None = None
        self._callbacks: list = []

    def done(self) -> bool:
        """True once a result or an exception has been set."""
        return self._result is not _UNSET or self._exc is not None

    def wait(self) -> T:
        """Block until the future completes; return its value or raise its exception."""
        with self._cond:
            self._cond.wait_for(self.done)
        if self._exc is not None:
            raise self._exc
        return self._result

    def value(self) -> T:
        """The value of a completed future (raises its exception; RuntimeError if not completed)."""
        if not self.done():
            raise RuntimeError("Future.value(): the future has not completed yet; call wait() instead")
        if self._exc is not None:
            raise self._exc
        return self._result

    def _complete(self, result, exc) -> None:
        with self._cond:
            if self.done():
                raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a "
                                   "Future can only be marked completed once.")
            self._result, self._exc = (result, None) if exc is None else (_UNSET, exc)
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for cb in callbacks:
            cb(self)

    def set_result(self, result: T) -> None:
        """Complete the future with ``result`` and run the callbacks (RuntimeError if already complete)."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an exception that :meth:`wait`/:meth:`value` will raise."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Run ``callback(self)`` when the future completes (at once if it already has)."""
        with self._cond:
            if not self.done():
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with ``callback(self)`` once this one completes (an error raised by the
        callback completes it with a RuntimeError)."""
        out: Future[S] = Future()

        def run(fut):
            try:
                value = callback(fut)
            except Exception as e:
                msg = "".join(traceback.format_exception_only(type(e), e)).strip()
                out.set_exception(RuntimeError(f"Got the following error when running the callback: {msg}"))
                return
            out.set_result(value)
        self.add_done_callback(run)
        return out

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<minitorch_jax.futures.Future ({state})>"


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed (with the list ``futures``) once every future in ``futures`` has completed."""
    out: Future[list[Future]] = Future()
    futures = list(futures)
    remaining = [len(futures)]
    lock = threading.Lock()
    if not futures:
        out.set_result([])
        return out

    def one(_):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            out.set_result(futures)
    for f in futures:
        f.add_done_callback(one)
    return out


def wait_all(futures: list[Future]) -> list:
    """Wait for every future and return their values (raises the first error met)."""
    return [f.wait() for f in collect_all(futures).wait()]
