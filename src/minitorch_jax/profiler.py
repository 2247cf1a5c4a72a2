"""``mt.profiler``: the basics of ``torch.profiler`` - ``profile``, ``record_function``, ``schedule``,
``tensorboard_trace_handler`` - measuring wall-clock time per ``record_function`` label.

What is measured: ``time.perf_counter`` at the start and end of every ``record_function`` block (and of
every step between ``profile.step()`` calls, labelled ``ProfilerStep#N``) while a profiler records.
JAX dispatches work asynchronously, so with the default CPU activity a block's time is what the host
spent (Python, dispatch, and any wait for results it read); with ``ProfilerActivity.CUDA`` in
``activities`` each block ends by waiting for all queued device work (``mt.cuda.synchronize``), so its
time includes the device's. There are no per-op (ATen-level) events, shapes or memory figures:
``record_shapes``, ``profile_memory``, ``with_stack``, ``with_flops`` are accepted and ignored.

Every ``record_function`` block is also a ``jax.profiler.TraceAnnotation`` (labels show up in JAX/XLA
traces), and inside a function ``mt.jit`` is tracing it is a ``jax.named_scope`` (labels show up in the
compiled program's op names; no time is recorded there - the program runs as one unit).
``tensorboard_trace_handler(dir)`` writes a Chrome-trace JSON of the recorded events into ``dir`` and, with
``jax_trace=True``, a JAX/XLA device trace of the recorded steps (``jax.profiler.start_trace``).
"""

from __future__ import annotations

import enum
import functools
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable

import jax

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    """What to profile: CPU (host wall time) or CUDA (also wait for device work at each block's end)."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a :func:`schedule` asks the profiler to do at a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities() -> set:
    """The activities :class:`profile` accepts: CPU, and CUDA when JAX has a GPU."""
    from . import cuda
    return {ProfilerActivity.CPU, ProfilerActivity.CUDA} if cuda.is_available() else {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """A step -> :class:`ProfilerAction` function, as ``torch.profiler.schedule``.

    After ``skip_first`` steps, cycles of ``wait`` idle steps, ``warmup`` steps and ``active`` recorded
    steps (the last one RECORD_AND_SAVE) repeat ``repeat`` times (0: forever); ``skip_first_wait`` skips
    the first cycle's wait.
    """
    if not (wait >= 0 and warmup >= 0 and active > 0 and repeat >= 0 and skip_first >= 0):
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
                             f"warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", UserWarning,
                      stacklevel=2)
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


class _Event:
    __slots__ = ("name", "start", "end", "child", "tid", "top")

    def __init__(self, name, start, tid, top=True):
        self.name, self.start, self.end, self.child, self.tid, self.top = name, start, None, 0.0, tid, top

    @property
    def duration(self) -> float:
        return self.end - self.start


_ACTIVE: list = []  # profilers currently recording
_LOCAL = threading.local()  # per thread: the stack of open record_function events


def _stack() -> list:
    s = getattr(_LOCAL, "stack", None)
    if s is None:
        s = _LOCAL.stack = []
    return s


class record_function:
    """Label a block of code (context manager or decorator), as ``torch.profiler.record_function``.

    Args:
        name: the label shown by ``key_averages().table()`` and in traces.
        args: accepted for torch compatibility.
    """

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self._event = None
        self._scope = None

    def __enter__(self):
        from .compiler import is_compiling
        if is_compiling():
            self._scope = jax.named_scope(self.name)
        else:
            self._scope = jax.profiler.TraceAnnotation(self.name)
            if _ACTIVE:
                stack = _stack()
                self._event = _Event(self.name, time.perf_counter(), threading.get_ident(), not stack)
                stack.append(self._event)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc):
        self._scope.__exit__(*exc)
        ev, self._event = self._event, None
        if ev is not None:
            if any(p._sync for p in _ACTIVE):
                from . import cuda
                cuda.synchronize()
            ev.end = time.perf_counter()
            stack = _stack()
            if stack and stack[-1] is ev:
                stack.pop()
            if stack:
                stack[-1].child += ev.duration
            for p in _ACTIVE:
                p._add(ev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped


class _Average:
    """One row of :meth:`profile.key_averages`: a label's call count and times (microseconds)."""

    def __init__(self, key):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0

    @property
    def cpu_time(self) -> float:
        """Average time per call (us)."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        """Average time per call outside nested labelled blocks (us)."""
        return self.self_cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} count={self.count} "
                f"cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


_SORT_KEYS = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
              "cpu_time": "cpu_time", "self_cpu_time": "self_cpu_time", "count": "count",
              "cuda_time_total": "cpu_time_total", "device_time_total": "cpu_time_total",
              "self_cuda_time_total": "self_cpu_time_total", "self_device_time_total": "self_cpu_time_total"}


def _fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class _EventList(list):
    """The rows of :meth:`profile.key_averages` (a list of averages) with ``.table()``."""

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              header: str | None = None, top_level_events_only: bool = False, **kwargs) -> str:
        """The rows as a text table (returned, as torch's; ``print`` it).

        Args:
            sort_by: 'cpu_time_total', 'self_cpu_time_total', 'cpu_time', 'self_cpu_time', 'count' (cuda_/
                device_ names map to the same wall-clock totals); None keeps first-seen order.
            row_limit: at most this many rows (-1: all).
        """
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"key_averages().table(): unknown sort_by {sort_by!r}; expected one of "
                                 f"{sorted(_SORT_KEYS)}")
            attr = _SORT_KEYS[sort_by]
            rows.sort(key=lambda r: getattr(r, attr), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = sum(r.self_cpu_time_total for r in self) or 1.0
        width = max([len("Name")] + [min(len(r.key), max_name_column_width) for r in rows])
        cols = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        line = "-" * width + "  " + "  ".join("-" * max(len(c), 12) for c in cols)
        out = [header] if header else []
        out += [line, "Name".ljust(width) + "  " + "  ".join(c.rjust(max(len(c), 12)) for c in cols), line]
        for r in rows:
            vals = [f"{100 * r.self_cpu_time_total / total:.2f}%", _fmt_us(r.self_cpu_time_total),
                    f"{100 * r.cpu_time_total / total:.2f}%", _fmt_us(r.cpu_time_total), _fmt_us(r.cpu_time),
                    str(r.count)]
            name = r.key if len(r.key) <= width else r.key[:width - 3] + "..."
            cells = "  ".join(v.rjust(max(len(c), 12)) for v, c in zip(vals, cols))
            out.append(name.ljust(width) + "  " + cells)
        out.append(line)
        out.append(f"Self CPU time total: {_fmt_us(sum(r.self_cpu_time_total for r in self))}")
        return "\n".join(out) + "\n"


class profile:
    """Record wall-clock time per :class:`record_function` label (context manager), as
    ``torch.profiler.profile``.

    Args:
        activities: :class:`ProfilerActivity` values; with CUDA each labelled block waits for queued
            device work before it is timed (see the module docstring). Default: CPU.
        schedule: a step -> :class:`ProfilerAction` function (see :func:`schedule`); None records
            from ``__enter__`` to ``__exit__``.
        on_trace_ready: called with the profiler when a recording cycle ends (RECORD_AND_SAVE step,
            or exit while recording), e.g. :func:`tensorboard_trace_handler`.
        record_shapes, profile_memory, with_stack, with_flops, with_modules: accepted, ignored.

    Methods: ``step()`` (mark the end of a training step), ``key_averages()`` (``.table()``),
    ``events()``, ``export_chrome_trace(path)``, ``start()``/``stop()``.
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda: bool | None = None, **kwargs):
        acts = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(): activities must be ProfilerActivity values, got {a!r}")
        if use_cuda:
            acts.add(ProfilerActivity.CUDA)
        self.activities = acts
        self._sync = ProfilerActivity.CUDA in acts
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._events: list = []
        self._saved: list | None = None
        self._lock = threading.Lock()
        self._step_event = None
        self._running = False

    # ----- recording ---------------------------------------------------------------------------
    def _add(self, ev) -> None:
        with self._lock:
            self._events.append(ev)

    def _recording(self) -> bool:
        return self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _set_recording(self, on: bool) -> None:
        if on and self not in _ACTIVE:
            _ACTIVE.append(self)
            if isinstance(self.on_trace_ready, _TraceHandler):
                self.on_trace_ready._begin()
        elif not on and self in _ACTIVE:
            _ACTIVE.remove(self)

    def _open_step(self) -> None:
        if self._recording():
            self._step_event = _Event(f"ProfilerStep#{self.step_num}", time.perf_counter(),
                                      threading.get_ident())

    def _close_step(self) -> None:
        ev, self._step_event = self._step_event, None
        if ev is not None:
            ev.end = time.perf_counter()
            ev.child = sum(e.duration for e in self._events
                           if e.top and e.start >= ev.start and e.tid == ev.tid)
            self._add(ev)

    def _ready(self) -> None:
        self._saved = list(self._events)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def start(self) -> None:
        """Start profiling (what ``__enter__`` does)."""
        self._running = True
        self.current_action = self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD
        self._set_recording(self._recording())
        if self.schedule is not None:  # steps are labelled from the start when a schedule drives them
            self._open_step()

    def stop(self) -> None:
        """Stop profiling; calls ``on_trace_ready`` if a cycle was being recorded."""
        if not self._running:
            return
        self._running = False
        self._close_step()
        was = self._recording()
        self._set_recording(False)
        if was:
            self._ready()
        self.current_action = ProfilerAction.NONE

    def step(self) -> None:
        """Mark the end of one step: advance the schedule (recording, saving, or idling accordingly)."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num) if self.schedule else ProfilerAction.RECORD
        if prev == ProfilerAction.RECORD_AND_SAVE:
            self._set_recording(False)
            self._ready()
            self._events = []
        elif prev not in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and self._recording():
            self._events = []  # a new cycle starts: drop what a previous one left
        self._set_recording(self._recording())
        self._open_step()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ----- results ----------------------------------------------------------------------------
    def events(self) -> list:
        """The recorded events of the last completed cycle (or of the current one): objects with
        ``name``, ``start``/``end`` (``time.perf_counter`` seconds) and ``duration``."""
        if self._saved is not None and (not self._running or not self._events):
            return list(self._saved)
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> _EventList:
        """Per-label totals of :meth:`events`: count, total and self time in microseconds."""
        rows: dict = {}
        for ev in self.events():
            if ev.end is None:
                continue
            r = rows.get(ev.name)
            if r is None:
                r = rows[ev.name] = _Average(ev.name)
            r.count += 1
            r.cpu_time_total += ev.duration * 1e6
            r.self_cpu_time_total += max(ev.duration - ev.child, 0.0) * 1e6
        return _EventList(rows.values())

    def export_chrome_trace(self, path: str) -> str:
        """Write the events as a Chrome trace (JSON, open in chrome://tracing or Perfetto); returns
        ``path``."""
        pid = os.getpid()
        events = self.events()
        t0 = min((e.start for e in events), default=0.0)
        trace = {"traceEvents": [{"name": e.name, "ph": "X", "cat": "user_annotation", "pid": pid,
                                  "tid": e.tid,
                                  "ts": (e.start - t0) * 1e6, "dur": e.duration * 1e6}
                                 for e in events if e.end is not None],
                 "displayTimeUnit": "ms"}
        with open(path, "w") as f:
            json.dump(trace, f)
        return path


class _TraceHandler:
    def __init__(self, dir_name, worker_name, use_gzip, jax_trace):
        self.dir_name = dir_name
        self.worker_name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        self.use_gzip = use_gzip
        self.jax_trace = jax_trace
        self._tracing = False
        self.paths: list[str] = []

    def _begin(self) -> None:
        if self.jax_trace and not self._tracing:
            os.makedirs(self.dir_name, exist_ok=True)
            jax.profiler.start_trace(self.dir_name)
            self._tracing = True

    def __call__(self, prof) -> None:
        if self._tracing:
            jax.profiler.stop_trace()
            self._tracing = False
        os.makedirs(self.dir_name, exist_ok=True)
        name = f"{self.worker_name}.{time.time_ns() // 1_000_000}.pt.trace.json"
        path = os.path.join(self.dir_name, name)
        prof.export_chrome_trace(path)
        if self.use_gzip:
            import gzip
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                dst.write(src.read())
            os.remove(path)
            path += ".gz"
        self.paths.append(path)


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False,
                              use_python_export: bool = False, *, jax_trace: bool = False):
    """An ``on_trace_ready`` handler writing ``{worker_name}.{ms}.pt.trace.json`` (Chrome trace of the
    recorded labels) into ``dir_name`` at each saved cycle.

    Args:
        dir_name: the output directory (created when first written).
        worker_name: file name prefix (default ``{hostname}_{pid}``).
        use_gzip: gzip the file.
        use_python_export: accepted for torch compatibility.
        jax_trace: also record a JAX/XLA trace of each recording cycle into ``dir_name``
            (``jax.profiler.start_trace``; view with TensorBoard's profile plugin or Perfetto).
    """
    return _TraceHandler(dir_name, worker_name, use_gzip, jax_trace)
