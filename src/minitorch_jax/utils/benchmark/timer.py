"""``Timer``: time a statement or a callable, shaped like ``torch.utils.benchmark.Timer``, waiting for
JAX's asynchronous work before every clock read."""

from __future__ import annotations

import ast
import textwrap
import timeit as _timeit

from ._sync import synchronize
from .measurement import Measurement

__all__ = ["Timer"]

_LAST = "_mt_bench_last"


def _stmt_code(stmt: str, setup: str) -> str:
    """The source of ``inner(_mt_n, _mt_timer, _mt_sync)``: setup once, then ``_mt_n`` runs of stmt,
    then a sync on what the last statement computed (its value, or the names it assigned)."""
    tree = ast.parse(textwrap.dedent(stmt) or "pass")
    sync_expr = "None"
    if tree.body:
        last = tree.body[-1]
        if isinstance(last, ast.Expr):
            tree.body[-1] = ast.Assign(targets=[ast.Name(_LAST, ast.Store())], value=last.value)
            ast.fix_missing_locations(tree)
            sync_expr = _LAST
        elif isinstance(last, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = last.targets if isinstance(last, ast.Assign) else [last.target]
            names = sorted({n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
            if names:
                sync_expr = "[_mt_loc.get(n) for n in " + repr(names) + "]"
    body = textwrap.indent(ast.unparse(tree), " " * 8)
    setup_src = textwrap.indent(textwrap.dedent(setup) or "pass", " " * 4)
    return (f"def _mt_inner(_mt_n, _mt_timer, _mt_sync):\n{setup_src}\n"
            f"    _mt_sync(None)\n    {_LAST} = None\n    _mt_t0 = _mt_timer()\n"
            f"    for _mt_i in range(_mt_n):\n{body}\n"
            f"    _mt_loc = locals()\n    _mt_sync({sync_expr})\n    return _mt_timer() - _mt_t0\n")


class Timer:
    """Time ``stmt`` like ``torch.utils.benchmark.Timer``.

    Args:
        stmt: the code to time: a string of Python statements (run with ``globals``, after ``setup``),
            or a callable taking no arguments.
        setup: code run once before each block of runs (a string, or a callable for a callable stmt).
        timer: the clock (default ``timeit.default_timer``).
        globals: names the statement can use (a dict; it is copied).
        label, sub_label, description: names used by :class:`Compare` (table title, row, column).
        env: an environment tag (kept on the Measurement).
        num_threads: recorded for the report; XLA's thread pool is fixed when JAX starts, so it does
            not change how many threads run.

    JAX runs asynchronously. After each timed block the Timer waits for the last result: for a string
    statement, the value of its last line when that is an expression (``f(x)``) or the names its last
    line assigns (``y = f(x)``); for a callable, what it returns. Make the timed code return or assign
    its result (or call ``jax.block_until_ready`` yourself), or time would stop before the work ends.
    """

    def __init__(self, stmt="pass", setup="pass", global_setup: str = "", timer=_timeit.default_timer,
                 globals=None, label=None, sub_label=None, description=None, env=None, num_threads: int = 1,
                 language=None):
        self._timer = timer
        self.label, self.sub_label, self.description, self.env = label, sub_label, description, env
        self.num_threads = int(num_threads)
        ns = dict(globals or {})
        if global_setup:
            exec(compile(textwrap.dedent(global_setup), "<global_setup>", "exec"), ns)
        if callable(stmt):
            setup_fn = setup if callable(setup) else None
            if not callable(setup) and setup not in ("", "pass", None):
                exec(compile(textwrap.dedent(setup), "<setup>", "exec"), ns)
            self._stmt_text = getattr(stmt, "__qualname__", repr(stmt))
            self._setup_text = getattr(setup_fn, "__qualname__", "pass") if setup_fn else str(setup)

            def inner(n, clock, sync, _stmt=stmt, _setup=setup_fn):
                if _setup is not None:
                    _setup()
                sync(None)
                last = None
                t0 = clock()
                for _ in range(n):
                    last = _stmt()
                sync(last)
                return clock() - t0
            self._inner = inner
        else:
            if not isinstance(stmt, str) or not isinstance(setup, str):
                raise TypeError("Timer: stmt must be a string or a callable; setup a string (or a "
                                f"callable with a callable stmt), got {type(stmt).__name__} and "
                                f"{type(setup).__name__}")
            self._stmt_text, self._setup_text = stmt, setup
            exec(compile(_stmt_code(stmt, setup), "<timer>", "exec"), ns)
            self._inner = ns["_mt_inner"]

    # ----- primitives ------------------------------------------------------------------------------
    def _timeit(self, number: int) -> float:
        return max(self._inner(int(number), self._timer, synchronize), 1e-9)

    def _measurement(self, number, times) -> Measurement:
        return Measurement(number, times, stmt=self._stmt_text, setup=self._setup_text, label=self.label,
                           sub_label=self.sub_label, description=self.description,
                           num_threads=self.num_threads, env=self.env)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Run the statement ``number`` times in one block (after a short warm-up, which also triggers
        any compilation) and return that one block's Measurement."""
        self._timeit(max(number // 100, 2))
        return self._measurement(number, [self._timeit(number)])

    def repeat(self, repeat: int = -1, number: int = -1):
        """Not supported (torch raises too): use :meth:`blocked_autorange` or :meth:`timeit`."""
        raise NotImplementedError("See `Timer.blocked_autorange`.")

    def autorange(self, callback=None):
        """Not supported (torch raises too): use :meth:`blocked_autorange`."""
        raise NotImplementedError("See `Timer.blocked_autorange`.")

    def _estimate_block_size(self, min_run_time: float) -> int:
        overhead = sorted(self._timeit(0) for _ in range(5))[2]
        number = 1
        while True:
            taken = self._timeit(number)
            if (overhead / taken <= 1e-4 and taken >= min_run_time / 1000) or taken > min_run_time:
                return number
            if number * 10 > 2147483647:
                return number
            number *= 10

    def _loop(self, number, min_run_time, max_run_time, stop, callback):
        times, total = [], 0.0
        while total < min_run_time or not stop(times):
            t = self._timeit(number)
            total += t
            times.append(t)
            if callback is not None:
                callback(number, t)
            if max_run_time is not None and total >= max_run_time:
                break
        return times

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Pick a block size so one block takes well over the clock's overhead, then run blocks until
        at least ``min_run_time`` seconds were measured. ``callback(number, time)`` sees each block."""
        self._timeit(1)  # warm-up: compilation happens here, not in a measured block
        number = self._estimate_block_size(min_run_time)
        times = self._loop(number, min_run_time, None, lambda ts: True, callback)
        return self._measurement(number, times)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback=None) -> Measurement:
        """Run blocks until the IQR is below ``threshold`` times the median (at least ``min_run_time``
        seconds and 4 blocks; at most ``max_run_time`` seconds)."""
        self._timeit(1)
        number = self._estimate_block_size(min_run_time=0.05)

        def stop(times):
            return len(times) > 3 and self._measurement(number, times).meets_confidence(threshold)
        times = self._loop(number, min_run_time, max_run_time, stop, callback)
        return self._measurement(number, times)

    def __repr__(self) -> str:
        return f"Timer(stmt={self._stmt_text!r}, label={self.label!r}, sub_label={self.sub_label!r})"


