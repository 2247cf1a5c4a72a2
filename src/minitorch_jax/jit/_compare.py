"""``mt.jit.compare``: eager vs ``mt.jit`` timings of a user's own function, compile time apart."""

from __future__ import annotations

import statistics
import time

import numpy as np

__all__ = ["compare", "CompareResult"]

_MAX_COMPILE_CALLS = 5


def _stats(times) -> dict:
    ms = np.asarray(times, dtype=np.float64) * 1e3
    q1, q3 = np.percentile(ms, [25, 75])
    return {"median_ms": float(statistics.median(ms)), "iqr_ms": float(q3 - q1), "mean_ms": float(ms.mean()),
            "min_ms": float(ms.min()), "times_ms": [float(t) for t in ms]}


class CompareResult:
    """What :func:`compare` measured.

    Attributes:
        name: the function's name.
        eager, jit: dicts with ``median_ms``, ``iqr_ms``, ``mean_ms``, ``min_ms``, ``times_ms``.
        eager_median_ms, eager_iqr_ms, jit_median_ms, jit_iqr_ms: the same, flat.
        compile_s: duration of the call that compiled (None if it never compiled).
        calls_to_compile: calls made until it compiled (2 when the first call warmed state up eagerly).
        num_compiles: the compiled function's ``num_compiles`` at the end (1 means no recompiles).
        speedup: eager median / jit median.
        repeat, warmup: the settings used. ``explain``: the compiled function's ``explain()`` text.
    """

    def __init__(self, name, eager, jit, compile_s, calls_to_compile, num_compiles, repeat, warmup, explain):
        self.name, self.eager, self.jit = name, eager, jit
        self.compile_s, self.calls_to_compile, self.num_compiles = compile_s, calls_to_compile, num_compiles
        self.repeat, self.warmup, self.explain = repeat, warmup, explain

    eager_median_ms = property(lambda self: self.eager["median_ms"], doc="Eager median ms per call.")
    eager_iqr_ms = property(lambda self: self.eager["iqr_ms"], doc="Eager IQR in ms.")
    jit_median_ms = property(lambda self: self.jit["median_ms"], doc="mt.jit median ms per call.")
    jit_iqr_ms = property(lambda self: self.jit["iqr_ms"], doc="mt.jit IQR in ms.")

    @property
    def speedup(self) -> float:
        """Eager median over jit median (> 1 means jit is faster)."""
        return self.eager["median_ms"] / self.jit["median_ms"]

    def as_dict(self) -> dict:
        """The result as plain data (for JSON)."""
        return {"name": self.name, "eager": self.eager, "jit": self.jit, "compile_s": self.compile_s,
                "calls_to_compile": self.calls_to_compile, "num_compiles": self.num_compiles,
                "speedup": self.speedup, "repeat": self.repeat, "warmup": self.warmup}

    def __str__(self) -> str:
        comp = f"{self.compile_s:.3f} s" if self.compile_s is not None else "did not compile (ran eagerly)"
        rows = [("eager", self.eager), ("mt.jit", self.jit)]
        lines = [f"mt.jit.compare({self.name}): {self.repeat} timed calls after {self.warmup} warm-up",
                 f"  {'':8s} {'median ms':>12s} {'IQR ms':>10s} {'min ms':>10s}"]
        lines += [f"  {n:8s} {s['median_ms']:12.4f} {s['iqr_ms']:10.4f} {s['min_ms']:10.4f}" for n, s in rows]
        lines.append(f"  compile: {comp} (call {self.calls_to_compile}); num_compiles={self.num_compiles}; "
                     f"speedup {self.speedup:.2f}x")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _timed(fn, args, kwargs, n, sync):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sync(fn(*args, **kwargs))
        times.append(time.perf_counter() - t0)
    return times


def compare(fn, *args, repeat: int = 20, warmup: int = 3, jit_options=None, **kwargs) -> CompareResult:
    """Time ``fn(*args, **kwargs)`` eagerly and under :func:`mt.jit <minitorch_jax.jit>`.

    Args:
        fn: a function (or Module) of Tensors; or an ``mt.jit`` compiled function, whose ``.eager`` is
            then the eager side.
        args, kwargs: what each call receives.
        repeat: timed calls per side (median and IQR are over these).
        warmup: untimed calls per side first (eager ops compile their kernels on first use; the
            jit side warms up after compiling).
        jit_options: keyword arguments for ``mt.jit`` (e.g. ``{"donate": False}``).

    Returns:
        a :class:`CompareResult`; printing it shows a small table.

    The compile time is the duration of the call during which ``num_compiles`` went up: a step whose
    parameters have no gradients yet runs eagerly on its first call and compiles on the second. Each
    call waits for every array/Tensor in the result (return what you compute). Both sides run on the
    same arguments and state: a training step trains for all the calls made.
    """
    from ..utils.benchmark._sync import synchronize
    from . import CompiledFunction, jit
    from ._switch import is_enabled
    if repeat < 1 or warmup < 0:
        raise ValueError(f"mt.jit.compare(): repeat must be >= 1 and warmup >= 0, got {repeat} and {warmup}")
    if isinstance(fn, CompiledFunction):
        eager, compiled = fn.eager, fn
    else:
        eager, compiled = fn, jit(fn, **(jit_options or {}))
    name = getattr(eager, "__qualname__", None) or type(eager).__name__
    _timed(eager, args, kwargs, warmup, synchronize)
    eager_times = _timed(eager, args, kwargs, repeat, synchronize)

    counter = getattr(compiled, "num_compiles", None)
    get = (lambda: compiled.num_compiles) if counter is not None else (lambda: 0)
    compile_s, calls = None, 0
    if is_enabled():
        while compile_s is None and calls < _MAX_COMPILE_CALLS:
            before = get()
            t0 = time.perf_counter()
            synchronize(compiled(*args, **kwargs))
            dt = time.perf_counter() - t0
            calls += 1
            if get() > before:
                compile_s = dt
    _timed(compiled, args, kwargs, warmup, synchronize)
    jit_times = _timed(compiled, args, kwargs, repeat, synchronize)
    explain = compiled.explain() if hasattr(compiled, "explain") else ""
    return CompareResult(name, _stats(eager_times), _stats(jit_times), compile_s, calls, get(), repeat,
                         warmup, explain)
