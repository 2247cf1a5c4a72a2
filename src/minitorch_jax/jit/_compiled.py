"""``CompiledFunction``: a PyTorch-style function run as one XLA program.

A call gathers the state the function touches (found by :mod:`._capture`: parameters,
buffers, ``.grad``, optimizer state, generator keys, float hyperparameters such as ``lr``),
passes it with the tensor arguments to a ``jax.jit`` of the function, and writes the new
state back into the same Python objects. Inside the trace the objects hold tracers; whatever
happens, they are restored before the trace returns, so no tracer escapes. A program returns only
the state its function changed, and only that is donated (decided from the first trace; see
``_probe``), so an inference call passes the weights in and gets its result alone back.

Two kinds of program:

* a *step* (the function calls ``backward`` itself): outputs are returned as plain tensors;
* a *differentiable forward* (no backward inside, outputs require grad): the program runs under
  ``jax.vjp`` and the outputs are connected to the caller's autograd graph by one node whose
  backward is a second compiled program.
"""

from __future__ import annotations

import operator
import sys
import threading
import time
import warnings
import weakref
from collections import Counter, deque
from functools import partial
from itertools import compress, repeat

import jax
import jax.numpy as jnp
import numpy as np

from .. import _autocast_state, _autograd_graph, _dtype, _precision, _random, _state_version
from .._autograd_graph import Node, accumulate_node
from .._donation import ref_counts, unshared_count
from .._errors import MiniTorchError, drop_jax_note
from .._grad_mode import STATE, set_grad_enabled
from .._meta import is_meta_array
from .._tensor import Tensor, _DataAlias, _DetachedAlias, _wrap
from ..nn.modules import module as _module
from . import _capture, _diagnose
from ._shared_values import value_ids
from ._switch import SWITCH

__all__ = ["CompiledFunction", "JitError", "RecompileError"]

warnings.filterwarnings("ignore", message="Some donated buffers were not usable")

_TRAINING = operator.attrgetter("training")
_REQUIRES_GRAD = operator.attrgetter("requires_grad")
_TRACE_LOCK = threading.RLock()  # tracing swaps tracers into shared objects: one trace at a time


class _Tracing(threading.local):
    depth = 0


TRACING = _Tracing()  # > 0 while a compiled function's Python runs under a jax trace (is_compiling)
_INSTANCES: weakref.WeakSet = weakref.WeakSet()  # every CompiledFunction (mt.compiler.reset)
_Tracer = jax.core.Tracer
_AUTOCAST = _autocast_state.STATE
_PRECISION = _precision.KEY  # mt.set_float32_matmul_precision: baked into a program's matmuls
_VERSION = _state_version.VERSION
_REFS = sys.getrefcount
_GET_GRAD = operator.attrgetter("_grad")
_GET_DATA = operator.attrgetter("_data")
_SET_DATA = Tensor._data.__set__
_IS_NONE = partial(operator.is_, None)  # (not `None in xs`: that would call Tensor.__eq__)
_IS_FLOAT = partial(operator.is_, float)
_DATA_NAME, _NONES = repeat("_data"), repeat(None)  # (map(getattr, xs, _DATA_NAME, _NONES): x._data or None)
_consume = deque(maxlen=0).extend  # runs an iterator to its end at C speed
_ALIASES = (_DataAlias, _DetachedAlias)  # (a .detach() argument is rebuilt as a plain Tensor)


def _bump_versions(tensors) -> None:
    for t in tensors:  # (a plain loop beats map/attrgetter chains here)
        t._version += 1


class JitError(RuntimeError):
    """An ``mt.jit`` function could not be compiled (the message says where and what to do)."""


class RecompileError(JitError):
    """Raised under ``set_stance('fail_on_recompile')`` when a guard fails."""


class _NeedsVJP(Exception):
    """The traced function returned outputs that require grad and ran no backward."""


class _Leaked(Exception):
    def __init__(self, leaks):
        super().__init__(leaks)
        self.leaks = leaks


class _Entry:
    """One compiled program and what it needs at call time."""

    __slots__ = ("fn", "kind", "out_tree", "out_grad", "diff_idx", "diff_args", "eager", "reason",
                 "compile_time", "arg_grads", "arg_muts", "modes_after", "split")

    def __init__(self, reason):
        self.fn = None
        self.kind = "step"
        self.out_tree = None
        self.out_grad = None
        self.diff_idx = ()
        self.diff_args = ()
        self.eager = False
        self.reason = reason
        self.compile_time = 0.0
        self.arg_grads = ()  # argument positions whose .grad a step sets (returned after its outputs)
        self.arg_muts = ()  # argument positions a call changes in place (returned last)
        self.modes_after = None  # training flags the function leaves its modules in (model.train() inside)
        self.split = _NO_DONATION  # which state arrays a step program is donated (see _probe)


class _Split:
    """Which of a step's state arrays are donated to its program: ``keep`` holds three masks, over the
    captured tensors' arrays, their ``.grad`` arrays and the generator keys (True: not donated);
    ``give`` is their negation, ``donates`` whether anything is donated."""

    __slots__ = ("keep", "give", "donates", "gives_data", "sides")

    def __init__(self, keep):
        self.keep = tuple(map(tuple, keep))
        self.give = tuple(tuple(map(operator.not_, k)) for k in self.keep)
        self.donates = any(map(any, self.give))
        self.gives_data = any(self.give[0])
        # when each part is donated whole or kept whole (a training step): per part, donated or not
        whole = all(all(g) or not any(g) for g in self.give)
        self.sides = tuple(bool(g) and g[0] for g in self.give) if whole else None


_NO_DONATION = _Split(((), (), ()))


class _Fast:
    """The guards of the last cache hit, for calls whose arguments are plain tensors: while every one of
    them still holds (the same captured objects, argument shapes/dtypes, modes, training flags, static
    hyperparameters and ``requires_grad`` flags) the call runs ``entry`` without flattening the arguments
    or building and hashing the full cache key. It checks exactly what the key holds, so it can only
    agree with the cache."""

    __slots__ = ("entry", "cap", "args", "modes", "training", "hp_static", "requires")

    def __init__(self, entry, cap, args, key):
        self.entry = entry
        self.cap = cap
        self.args = tuple((type(a._data), a._data.shape, a._data.dtype, a.requires_grad) for a in args)
        self.modes = key[1] + (key[2],)
        self.training, self.hp_static, self.requires = key[3], key[4], key[7]

    @staticmethod
    def eligible(args, kwargs, static_argnums, dyn) -> bool:
        """Plain tensor arguments holding concrete arrays (no kwargs, containers or static values)."""
        return (not kwargs and not static_argnums and len(dyn) == len(args)
                and all(type(a) is Tensor for a in args) and not any(isinstance(d, _Tracer) for d in dyn))

    def match(self, cap, args):
        """The argument arrays if every guard still holds, else None."""
        if cap is not self.cap or cap.version != _VERSION[0] or len(args) != len(self.args):
            return None
        dyn = []
        for a, (cls, shape, dtype, rg) in zip(args, self.args):
            if type(a) is not Tensor or a.requires_grad != rg:
                return None
            d = a._data
            if type(d) is not cls or d.shape != shape or d.dtype != dtype:
                return None
            dyn.append(d)
        if ((STATE.grad, _AUTOCAST[0], _PRECISION[0], _dtype._default[0].name) != self.modes
                or tuple(map(_TRAINING, cap.guarded)) != self.training
                or tuple([get(g) for g, get in cap.hp_getters]) != self.hp_static
                or tuple(map(_REQUIRES_GRAD, cap.tensors)) != self.requires):
            return None
        return dyn


def _flatten_args(args, kwargs, static_argnums):
    """Split the call's arguments into array leaves and a hashable static description."""
    dyn = []
    spec = []
    for i, a in enumerate(args):
        if i in static_argnums:
            spec.append(("static", _hashable(a)))
        else:
            spec.append(_flat(a, dyn))
    kspec = tuple((k, _flat(v, dyn)) for k, v in sorted(kwargs.items())) if kwargs else ()
    return dyn, (tuple(spec), kspec)


def _composite(a) -> bool:
    """Whether ``a`` is a tensor made of other tensors (sparse, masked): ``a._flatten()`` gives
    ``(parts, aux)`` and ``type(a)._unflatten(aux, parts)`` rebuilds it; a program sees its parts."""
    return type(a) is not Tensor and hasattr(type(a), "_flatten")


def _flat(a, dyn):
    if isinstance(a, Tensor):
        if _composite(a):
            parts, aux = a._flatten()
            return ("P", (type(a)._unflatten, aux), tuple(_flat(p, dyn) for p in parts))
        dyn.append(a._data)
        cls = type(a)
        return ("T", a.requires_grad, Tensor if cls in _ALIASES else cls)
    if isinstance(a, (list, tuple)):
        kind = "L" if isinstance(a, list) else ("N", type(a)) if hasattr(a, "_fields") else "U"
        return (kind, tuple(_flat(x, dyn) for x in a))
    if isinstance(a, dict):
        return ("D", tuple((k, _flat(v, dyn)) for k, v in a.items()))
    if isinstance(a, (jax.Array, np.ndarray)):
        dyn.append(a)
        return ("A",)
    return ("S", _hashable(a))


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _unflat(spec, it):
    kind = spec[0]
    if kind == "T":
        return _wrap(next(it), spec[1], spec[2])
    if kind == "L":
        return [_unflat(s, it) for s in spec[1]]
    if kind == "U":
        return tuple(_unflat(s, it) for s in spec[1])
    if isinstance(kind, tuple) and kind[0] == "N":
        return kind[1](*(_unflat(s, it) for s in spec[1]))
    if kind == "D":
        return {k: _unflat(s, it) for k, s in spec[1]}
    if kind == "A":
        return next(it)
    if kind == "P":
        return spec[1][0](spec[1][1], [_unflat(s, it) for s in spec[2]])
    if kind == "static":
        return spec[1]
    return spec[1]


def _rebuild_args(spec, arrays, static_args):
    it = iter(arrays)
    pos, kw = spec
    args = [static_args[i] if s[0] == "static" else _unflat(s, it) for i, s in enumerate(pos)]
    kwargs = {k: _unflat(s, it) for k, s in kw}
    return args, kwargs


def _flatten_out(out, arrays, tensors):
    if isinstance(out, Tensor):
        if _composite(out):
            parts, aux = out._flatten()
            return ("P", (type(out)._unflatten, aux), tuple(_flatten_out(p, arrays, tensors) for p in parts))
        arrays.append(out._data)
        tensors.append(out)
        return ("T", type(out))
    if isinstance(out, (list, tuple)):
        kind = "L" if isinstance(out, list) else ("N", type(out)) if hasattr(out, "_fields") else "U"
        return (kind, tuple(_flatten_out(x, arrays, tensors) for x in out))
    if isinstance(out, dict):
        return ("D", tuple((k, _flatten_out(v, arrays, tensors)) for k, v in out.items()))
    if isinstance(out, (jax.Array, np.ndarray)):
        arrays.append(out)
        tensors.append(None)
        return ("A",)
    return ("S", out)


def _unflatten_out(spec, it):
    kind = spec[0]
    if kind == "T":
        return next(it)
    if kind == "A":
        return next(it)._data
    if kind == "P":
        return spec[1][0](spec[1][1], [_unflatten_out(s, it) for s in spec[2]])
    if kind == "L":
        return [_unflatten_out(s, it) for s in spec[1]]
    if kind == "U":
        return tuple(_unflatten_out(s, it) for s in spec[1])
    if isinstance(kind, tuple) and kind[0] == "N":
        return kind[1](*(_unflatten_out(s, it) for s in spec[1]))
    if kind == "D":
        return {k: _unflatten_out(s, it) for k, s in spec[1]}
    return spec[1]


class _Swap:
    """Puts traced values into the captured objects and restores the originals afterwards."""

    def __init__(self, cap):
        self.cap = cap
        ts = cap.tensors
        self.saved = [(t._data, t._grad, t._version, t.grad_fn, t.requires_grad, t._output_nr) for t in ts]
        self.keys = [g._key for g in cap.generators]
        self.hps = [(g, k, g[k]) for g, k, _ in cap.hp_slots]

    def put(self, data, grads, keys, hp):
        cap = self.cap
        for t, a, g in zip(cap.tensors, data, grads):
            t._data = a
            t._grad = None if g is None else _wrap(g)
        for gen, k in zip(cap.generators, keys):
            gen._key = k
        groups = {}
        for (group, key, idx), v in zip(cap.hp_slots, hp):
            if idx is None:
                group[key] = v
            else:
                groups.setdefault((id(group), key), (group, key, list(group[key])))[2][idx] = v
        for group, key, vals in groups.values():
            group[key] = tuple(vals)

    def restore(self):
        for t, (d, g, v, fn, rg, nr) in zip(self.cap.tensors, self.saved):
            t._data, t._grad, t._version, t.grad_fn, t.requires_grad, t._output_nr = d, g, v, fn, rg, nr
        for gen, k in zip(self.cap.generators, self.keys):
            gen._key = k
        for group, key, v in self.hps:
            group[key] = v


class CompiledFunction:
    """A function (or Module) compiled by :func:`minitorch_jax.jit`.

    Calling it runs one XLA program per call; the state it touches is captured automatically
    and written back. Attributes: ``.eager`` (the original callable), ``.num_compiles``;
    methods ``.explain()``, ``.lower(*args)``, ``.cost_analysis(*args)``.
    """

    def __init__(self, fn, *, enabled=None, fallback="error", donate=True, static_argnums=(),
                 cache_size_limit=8, check=False, name=None):
        if fallback not in ("error", "eager"):
            raise ValueError(f"mt.jit(): fallback must be 'error' or 'eager', got {fallback!r}")
        if not callable(fn):
            raise TypeError(f"mt.jit(): expected a function or a Module, got {type(fn).__name__}")
        self.eager = fn
        self.enabled = enabled
        self.fallback = fallback
        self.donate = bool(donate)
        self.static_argnums = tuple(static_argnums) if isinstance(static_argnums, (tuple, list)) \
            else (static_argnums,)
        self.cache_size_limit = int(cache_size_limit)
        self.check = check
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self._cap = None
        self._cache: dict = {}
        self._log: list = []
        self._lock = threading.RLock()
        self._warned_eager = False
        self._gave_up = False
        self._traces = 0
        self._arg_grads = ()
        self._arg_muts = ()
        self._sigs: dict = {}  # capture signature -> small int (part of the cache key)
        self._unguarded: dict = {}  # capture signature -> ids of modules whose flag the function sets first
        self._set_first = frozenset()
        self._modes_after = None
        self._hp_cache = None
        self._fast = None  # the last cache hit's guards (_Fast)
        self._warmed = False
        self._n_walks = 0  # state re-walks after the first (another model/optimizer state appeared ...)
        self._n_copies = 0  # arrays copied before donation because something else referenced them
        self._meta = None
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)
        _INSTANCES.add(self)

    def __repr__(self) -> str:
        return f"<mt.jit compiled {self.name}: {self.num_compiles} compilation(s)>"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        bound = self.__dict__.get("_bound")
        if bound is None:
            bound = self.__dict__["_bound"] = {}
        cf = bound.get(id(obj))
        if cf is None:
            cf = CompiledFunction(self.eager.__get__(obj, objtype), enabled=self.enabled,
                                  fallback=self.fallback,
                                  donate=self.donate, static_argnums=self.static_argnums,
                                  cache_size_limit=self.cache_size_limit, check=self.check, name=self.name)
            bound[id(obj)] = cf
        return cf

    def reset(self) -> None:
        """Forget the compiled programs and their history: the next call compiles again."""
        with self._lock:
            self._cache, self._log, self._sigs, self._unguarded = {}, [], {}, {}
            self._cap = self._hp_cache = self._meta = self._fast = None
            self._gave_up = self._warned_eager = self._warmed = False
            self._n_walks = self._n_copies = 0
            for bound in self.__dict__.get("_bound", {}).values():
                bound.reset()

    # ----- public info -------------------------------------------------------------------------
    @property
    def num_compiles(self) -> int:
        """How many programs have been compiled (each failed guard compiles one more)."""
        return sum(1 for r in self._log if r["kind"] == "compile")

    def explain(self, print_out: bool = False) -> str:
        """Each compilation and why it happened (and each eager fallback), as text."""
        lines = [f"mt.jit({self.name}): {self.num_compiles} compilation(s)"]
        for i, r in enumerate(self._log):
            if r["kind"] == "compile":
                lines.append(f"  [{i}] compiled ({r['program']}) in {r['time'] * 1e3:.1f} ms: {r['reason']}")
            else:
                lines.append(f"  [{i}] ran eagerly: {r['reason']}")
        if self._n_walks:
            lines.append(f"  state re-walked {self._n_walks} time(s): modules, parameters or optimizer state "
                         "were created between calls (programs are kept when the captured set is unchanged)")
        if self._n_copies:
            lines.append(f"  {self._n_copies} array(s) copied before donation: another tensor or array (a "
                         "detached view, a state_dict entry, a numpy view ...) shared a captured tensor's "
                         "array; drop such references between calls to avoid the copies")
        text = "\n".join(lines)
        if print_out:
            print(text)
        return text

    # ----- calling -----------------------------------------------------------------------------
    def _is_on(self) -> bool:
        if self.enabled is False:
            return False
        return SWITCH.enabled and SWITCH.stance != "force_eager"

    def __call__(self, *args, **kwargs):
        if not self._is_on() or self._gave_up:
            return self.eager(*args, **kwargs)
        if self.check:
            from ._check import run_checked
            return run_checked(self, args, kwargs)
        with self._lock:
            try:
                return self._call(args, kwargs)
            except MiniTorchError as e:  # an op's error, already in the user's terms: no JAX note
                drop_jax_note(e)
                raise

    def _capture(self, args, kwargs):
        cap = self._cap
        if cap is None or cap.version != _state_version.VERSION[0]:
            # something somewhere registered a module or created optimizer state: walk again, but keep
            # the compiled programs when what this function captures is still the same set of objects
            new = _capture.discover(_capture.roots_of(self.eager, args, kwargs))
            self._n_walks += cap is not None
            new.version = _state_version.VERSION[0]
            new.hp_f64 = _holds_float64(new)
            sig = new.signature()
            new.sig = self._sigs.setdefault(sig, len(self._sigs))
            unguarded = self._unguarded.get(new.sig)
            if unguarded:
                new.guarded = [m for m in new.modules if id(m) not in unguarded]
            if cap is not None and cap.sig == new.sig:
                cap.version = new.version
            else:
                self._cap = cap = new
        return cap

    def _key(self, cap, spec, dyn):
        # the guards, gathered with C-level getters: this runs on every call
        hp_static = tuple([get(g) for g, get in cap.hp_getters])
        training = tuple(map(_TRAINING, cap.guarded))
        avals = tuple([(a.shape, a.dtype) for a in dyn])
        modes = (STATE.grad, _AUTOCAST[0], _PRECISION[0])
        requires = tuple(map(_REQUIRES_GRAD, cap.tensors))  # a frozen (or unfrozen) parameter retraces
        return (spec, modes, _dtype._default[0].name, training, hp_static, cap.sig, avals, requires)

    def _call(self, args, kwargs):
        fast = self._fast
        if fast is not None:
            dyn = fast.match(self._cap, args)
            if dyn is not None:
                return self._execute(fast.entry, fast.cap, dyn, args, kwargs)
        cap = self._capture(args, kwargs)
        dyn, spec = _flatten_args(args, kwargs, self.static_argnums)
        if any(map(is_meta_array, dyn)) or (not self._cache and _holds_meta(cap)):
            return self.eager(*args, **kwargs)  # meta tensors: shapes only, nothing to compile
        key = self._key(cap, spec, dyn)
        plain = True
        try:
            entry = self._cache.get(key)  # hashes the key once
        except TypeError:  # an unhashable hyperparameter value (a list ...): compare it by value
            hp_static = tuple(tuple(_hashable(g[k]) for k in keys) for g, keys in cap.hp_static)
            key = key[:4] + (hp_static,) + key[5:]
            entry = self._cache.get(key)
            plain = False
        if entry is None:
            return self._first_call(key, cap, spec, dyn, args, kwargs)
        if entry.eager:
            return self.eager(*args, **kwargs)
        if plain and _Fast.eligible(args, kwargs, self.static_argnums, dyn):
            self._fast = _Fast(entry, cap, args, key)
        return self._execute(entry, cap, dyn, args, kwargs)

    def _reason(self, key) -> str:
        if not self._cache:
            return "first call"
        names = ("argument structure/static values", "grad mode, autocast or matmul precision",
                 "default dtype", "module training flags",
                 "optimizer hyperparameters (non-float or zero values)", "captured state (tensors added or "
                 "removed)", "argument shapes/dtypes", "requires_grad of captured tensors")
        diffs = set()
        for old in self._cache:
            diffs.update(names[i] for i in range(len(names)) if old[i] != key[i])
        changed = [n for n in names if n in diffs] or ["argument shapes/dtypes"]
        return "guard failed: " + ", ".join(changed) + " changed"

    def _may_compile(self, reason) -> bool:
        stance = SWITCH.stance
        if self._log and any(r["kind"] == "compile" for r in self._log):
            if stance == "fail_on_recompile":
                raise RecompileError(f"mt.jit({self.name}): a recompile is needed ({reason}) but the stance "
                                     "is "
                                     "'fail_on_recompile'")
            if stance == "eager_on_recompile":
                self._log.append({"kind": "eager", "reason": reason + " (stance eager_on_recompile)"})
                return False
        if self.num_compiles >= self.cache_size_limit:
            warnings.warn(
                f"mt.jit({self.name}) hit cache_size_limit ({self.cache_size_limit}): the last recompile was "
                f"caused by {reason}. It now runs eagerly. Make that value static, keep shapes fixed, or "
                "raise cache_size_limit.", UserWarning, stacklevel=5)
            self._gave_up = True
            self._log.append({"kind": "eager", "reason": f"cache_size_limit reached ({reason})"})
            return False
        return True

    def _first_call(self, key, cap, spec, dyn, args, kwargs):
        if not self._warmed and any(t.requires_grad and t._grad is None for t in cap.tensors):
            # gradients (and optimizer state) appear during the first step: run it eagerly so that
            # the program compiled next sees the state as it will be on every later call
            self._warmed = True
            self._log.append({"kind": "eager", "reason": "first call: ran eagerly to create gradients and "
                              "lazily created state; compiling from the next call"})
            out = self.eager(*args, **kwargs)
            _state_version.bump()
            return out
        self._warmed = True
        reason = self._reason(key)
        if not self._may_compile(reason):
            return self.eager(*args, **kwargs)
        entry = _Entry(reason)
        static_args = {i: args[i] for i in self.static_argnums if i < len(args)}
        roots = _capture.roots_of(self.eager, args, kwargs)
        t0 = time.perf_counter()
        try:
            with _TRACE_LOCK:
                result = self._probe(entry, cap, spec, static_args, roots, dyn, args, kwargs)
        except _Leaked as e:
            # state created inside the trace (optimizer moments at the first step ...): drop what
            # escaped, run this call eagerly to create it for real, and compile on the next call
            for _path, container, k, _t in e.leaks:
                _capture.remove_leak(container, k)
            _state_version.bump()
            shown = ", ".join(p for p, *_ in e.leaks[:4]) + (" ..." if len(e.leaks) > 4 else "")
            self._log.append({"kind": "eager", "reason": f"state was created during the call ({shown}): ran "
                              "eagerly to create it; compiling on the next call"})
            return self.eager(*args, **kwargs)
        except _diagnose.TRACE_ERRORS as e:
            err = _diagnose.explain_trace_error(self.name, e)
            if self.fallback != "eager":
                raise err from None
            if not self._warned_eager:
                warnings.warn(str(err) + "\nRunning it eagerly (fallback='eager').", UserWarning,
                              stacklevel=3)
                self._warned_eager = True
            entry.eager = True
            self._cache[key] = entry
            # Python control flow on tensor values: no other guard value makes it traceable, so stop tracing
            # it at all (a step that replaces its state every call, like LBFGS's, would re-trace every call)
            self._gave_up = True
            self._log.append({"kind": "eager", "reason": "cannot be traced: " + str(err).split("\n")[0]})
            return self.eager(*args, **kwargs)
        entry.compile_time = time.perf_counter() - t0
        key = self._unguard(cap, key)
        self._cache[key] = entry
        self._log.append({"kind": "compile", "reason": reason, "time": entry.compile_time,
                          "program": "forward+backward" if entry.kind == "diff" else "step"})
        return result

    def _unguard(self, cap, key):
        """After a trace: stop guarding the training flags the function sets before calling any module
        (``model.train()`` first thing in a step), and drop them from this entry's ``key``."""
        unguarded = self._set_first.intersection(map(id, cap.guarded))
        if not unguarded:
            return key
        self._unguarded[cap.sig] = self._unguarded.get(cap.sig, frozenset()) | unguarded
        keep = [id(m) not in unguarded for m in cap.guarded]
        cap.guarded = [m for m, k in zip(cap.guarded, keep) if k]
        return key[:3] + (tuple(f for f, k in zip(key[3], keep) if k),) + key[4:]

    # ----- building a program ---------------------------------------------------------------
    def _probe(self, entry, cap, spec, static_args, roots, dyn, args, kwargs):
        """Trace, compile and run the call: as a step, or as a differentiable forward if it turns out to
        be one (its outputs require grad and it ran no backward)."""
        run = self._trace_fn(cap, spec, static_args, STATE.grad, roots, "probe")
        entry.kind = "step"
        donate = (0,) if self.donate else ()
        if self.donate:
            # first guess: every array and every .grad changes, the generator keys do not (a training
            # step without dropout: the trace below then serves the call); a wrong guess costs one more
            # trace. A .grad slot holding None goes with the donated part: nothing is given, and the part
            # then needs no picking apart on each call
            empty = tuple(t._grad is None for t in cap.tensors)
            none = (False,) * len(cap.tensors)
            entry.split = _Split((none, none, (True,) * len(cap.generators)))
            entry.fn = _jit_step(_step_program(run, entry.split), donate)
        else:
            entry.fn = _jit_step(_step_program(run, _NO_DONATION), ())
        try:
            if self.donate:  # trace first (jax keeps the trace for the call): what does the step change?
                traced = entry.fn.trace(*split_state(entry, self._gather(cap)), dyn, self._hp(cap))
                # state it leaves as it was (a frozen layer, every parameter of an inference call) is
                # neither donated nor returned: a donated input must come back, or JAX may hand its buffer
                # to another output of the same shape
                (cd, cg, ck) = self._changed
                # on CUDA, nor is state of a shape and dtype that a value repeated among the outputs has:
                # XLA there can return a stale value for such a donated output (jax-ml/jax#39625: ASGD's
                # eta and mu, one value for every parameter). Elsewhere it is donated, as everything the
                # step changes: on the CPU a changed array passed undonated makes the next call wait
                nd, ng, nk = (_shared_state(traced, cap, self._changed) if _on_cuda(cap)
                              else (none, none, (False,) * len(ck)))
                keep = (tuple(n or not c for n, c in zip(nd, cd)),
                        tuple(n or not (c or e) for n, c, e in zip(ng, cg, empty)),
                        tuple(n or not c for n, c in zip(nk, ck)))
                if keep != entry.split.keep:
                    entry.split = _Split(keep)
                    entry.fn = _jit_step(_step_program(run, entry.split), donate)
            return self._execute(entry, cap, dyn, args, kwargs, first=True)
        except _NeedsVJP:
            entry.split = _NO_DONATION  # (a differentiable forward donates nothing)
            self._build_diff(entry, cap, spec, static_args, STATE.grad, roots, dyn)
            return self._execute(entry, cap, dyn, args, kwargs, first=True)

    def _trace_fn(self, cap, spec, static_args, grad_mode, roots, mode, diff_idx=(), diff_args=()):
        """The function jax traces: ``(state, args, hp) -> (outputs, new_state)``."""
        fn = self.eager
        outer = self

        def run(state, arg_arrays, hp, diff=None, give=None):
            data, grads, keys = state
            data = list(data)
            arg_arrays = list(arg_arrays)
            if diff is not None:
                for j, i in enumerate(diff_idx):
                    data[i] = diff[j]
                for j, i in enumerate(diff_args):
                    arg_arrays[i] = diff[len(diff_idx) + j]
            swap = _Swap(cap)
            TRACING.depth += 1
            watch, outer_watch = _module.ModeWatch(), _module.MODE_WATCH[0]
            _module.MODE_WATCH[0] = watch
            modes_before = list(map(_TRAINING, cap.modules))
            try:
                swap.put(data, grads, keys, hp)
                if mode == "diff":
                    for i in diff_idx:  # JAX differentiates; the tape stays off inside
                        cap.tensors[i].requires_grad = False
                a, kw = _rebuild_args(spec, arg_arrays, static_args)
                arg_leaves = _leaf_objects(a, kw, static_args)
                arg_before = [t._data if isinstance(t, Tensor) else None for t in arg_leaves]
                before = _autograd_graph.BACKWARD_RUNS[0]
                with set_grad_enabled(grad_mode and mode != "diff"):
                    out = fn(*a, **kw)
                ran_backward = _autograd_graph.BACKWARD_RUNS[0] != before
                # model.train()/eval() inside: the flags to leave after every call, and the modules whose
                # flags on entry do not matter (set before any module ran)
                modes_after = list(map(_TRAINING, cap.modules))
                outer._modes_after = tuple(modes_after) if modes_after != modes_before else None
                outer._set_first = frozenset(watch.set_first)
                # tensor arguments changed in place (x.add_(1), y.copy_(...), x[0] = ...): their new
                # values are returned last, and written into the caller's tensors (as eager code would)
                outer._arg_muts = tuple(i for i, t in enumerate(arg_leaves)
                                        if isinstance(t, Tensor) and t._data is not arg_before[i])
                muts = [jax.lax.stop_gradient(arg_leaves[i]._data) for i in outer._arg_muts]
                arrays, tensors = [], []
                out_spec = _flatten_out(out, arrays, tensors)
                if mode == "probe" and not ran_backward and grad_mode and any(
                        t is not None and t.requires_grad for t in tensors):
                    raise _NeedsVJP()
                leaks = _capture.find_leaks(roots, cap.ids)
                if leaks:
                    raise _Leaked(leaks)
                if mode == "export":  # a saved program threads its whole state through every call
                    new_state = ([t._data for t in cap.tensors],
                                 [None if t._grad is None else t._grad._data for t in cap.tensors],
                                 [g._key for g in cap.generators])
                else:
                    new_state, outer._changed = _changed_state(cap, data, grads, keys, give)
                outer._traces += 1
                outer._meta = (out_spec, [t is not None and t.requires_grad for t in tensors])
                outer._arg_grads = ()
                if mode in ("probe", "step") and ran_backward:
                    # a backward inside the step may set .grad of tensor arguments (torch accumulates
                    # into the caller's tensors): return those gradients after the outputs
                    leaves = _leaf_objects(a, kw, static_args)
                    idx = tuple(i for i, t in enumerate(leaves)
                                if isinstance(t, Tensor) and t._grad is not None)
                    outer._arg_grads = idx
                    arrays = arrays + [leaves[i]._grad._data for i in idx]
                for i, x in enumerate(arrays):
                    if not isinstance(x, (jax.Array, _Tracer)):
                        arrays[i] = jnp.asarray(x)
                if mode == "diff":
                    inexact = [i for i, x in enumerate(arrays) if _dtype.is_inexact(x.dtype)]
                    outer._meta = outer._meta + (inexact,)
                    return [arrays[i] for i in inexact], ([x for i,
                                                           x in enumerate(arrays) if i not in inexact] + muts,
                                                          new_state)
                return arrays + muts, new_state
            finally:
                TRACING.depth -= 1
                _module.MODE_WATCH[0] = outer_watch
                # a trace leaves no flags behind (a second trace - the differentiable forward after the
                # probe - must start from the same ones); _execute sets modes_after after each run
                _set_modes(cap.modules, modes_before)
                swap.restore()

        return run

    def _build_diff(self, entry, cap, spec, static_args, grad_mode, roots, dyn):
        diff_idx = tuple(i for i, t in enumerate(cap.tensors)
                         if t.requires_grad and _dtype.is_inexact(t._data.dtype))
        arg_flags = []
        self._arg_grad_flags(spec, arg_flags)
        diff_args = tuple(i for i, f in enumerate(arg_flags) if f and _dtype.is_inexact(dyn[i].dtype))
        run = self._trace_fn(cap, spec, static_args, grad_mode, roots, "diff", diff_idx, diff_args)

        def fwd(state, arg_arrays, hp):
            data = state[0]
            primals = [data[i] for i in diff_idx] + [arg_arrays[i] for i in diff_args]

            def f(diff):
                return run(state, arg_arrays, hp, diff)

            outs, vjp_fn, aux = jax.vjp(f, primals, has_aux=True)
            return outs, vjp_fn, aux

        entry.kind = "diff"
        entry.fn = jax.jit(fwd)
        entry.diff_idx = diff_idx
        entry.diff_args = diff_args

    def _arg_grad_flags(self, spec, out):
        def walk(s):
            kind = s[0]
            if kind == "T":
                out.append(s[1])
            elif kind == "A":
                out.append(False)
            elif kind == "P":
                for x in s[2]:
                    walk(x)
            elif kind in ("L", "U", "D") or (isinstance(kind, tuple) and kind[0] == "N"):
                for x in s[1]:
                    walk(x[1] if kind == "D" else x)
        for s in spec[0]:
            if s[0] != "static":
                walk(s)
        for _, s in spec[1]:
            walk(s)

    # ----- running a program ----------------------------------------------------------------
    def _gather(self, cap, give=None, grads=True):
        """The captured state as ``(arrays, .grad arrays or None, generator keys)``. ``give``: which
        arrays the program is donated (a donated array something else also references - a state_dict
        snapshot ... - is replaced by a private copy, so that theirs stays valid)."""
        tensors = cap.tensors
        data = list(map(_GET_DATA, tensors))
        if give and self.donate:
            base = unshared_count()
            if max(map(_REFS, data)) > base:
                shared = list(map(operator.and_, map(base.__lt__, ref_counts(data)), give))
                data = [jnp.copy(a) if sh else a for a, sh in zip(data, shared)]
                self._n_copies += sum(shared)
        if grads:
            holders = list(map(_GET_GRAD, tensors))
            if all(map(_IS_NONE, holders)):  # (an inference call: no gradients anywhere)
                grads = [None] * len(holders)
            else:  # (getattr(None, "_data", None) is None: one C-level pass)
                grads = list(map(getattr, holders, _DATA_NAME, _NONES))
        else:  # a differentiable forward never touches .grad: keep it out of the program
            grads = [None] * len(data)
        keys = list(map(_random._jax_key, cap.generators))
        return data, grads, keys

    def _hp(self, cap):
        values = [group[key] if idx is None else group[key][idx] for group, key, idx in cap.hp_slots]
        # float64 state gets float64 hyperparameters (a float32 beta2 = 0.999 would be off by 1e-8, its
        # bias correction by 1e-5); otherwise the default dtype, the type eager code sees them promote to
        dt = np.float64 if cap.hp_f64 else _dtype._default[0].np
        last = self._hp_cache
        if (last is not None and last[0] == values and last[2] is dt
                and all(map(_IS_FLOAT, map(type, values)))):
            return last[1]  # unchanged: reuse the device arrays (no host-to-device copy per call)
        if any(isinstance(v, Tensor) for v in values):
            out = [v._data if isinstance(v, Tensor) else jnp.asarray(np.asarray(v, dt)) for v in values]
        else:  # plain numbers: one array, one argument of the program
            out = jnp.asarray(np.asarray(values, dt))
        self._hp_cache = (values, out, dt)
        return out

    def _execute(self, entry, cap, dyn, args, kwargs, first=False):
        split = entry.split
        state = self._gather(cap, split.give[0] if split.gives_data else None, grads=entry.kind == "step")
        hp = self._hp(cap)
        traces = self._traces
        if entry.kind == "step":
            (data, grads, keys), outs = entry.fn(*split_state(entry, state), dyn, hp)
        else:
            diff_outs, vjp_fn, (other_outs, (data, grads, keys)) = entry.fn(state, dyn, hp)
        if first or self._traces != traces:  # jax traced (first call, or new argument shapes/dtypes)
            cap.hp_f64 = _holds_float64(cap)  # (the state's dtypes may have changed: model.double())
            meta = self._meta
            entry.out_tree = meta[0]
            entry.arg_muts = self._arg_muts
            entry.modes_after = self._modes_after
            if entry.kind == "step":
                entry.arg_grads = self._arg_grads
            if entry.kind == "diff":
                entry.out_grad = meta[2]
            if not first:
                self._log.append({"kind": "compile",
                                  "reason": "guard failed: captured state shapes/dtypes changed",
                                  "time": 0.0,
                                  "program": "forward+backward" if entry.kind == "diff" else "step"})
        mutated = ()
        if entry.arg_muts:
            k = len(entry.arg_muts)
            if entry.kind == "step":
                outs, mutated = outs[:-k], outs[-k:]
            else:
                other_outs, mutated = other_outs[:-k], other_outs[-k:]
        if entry.kind == "step":
            if entry.arg_grads:
                n = len(outs) - len(entry.arg_grads)
                outs, extra = outs[:n], outs[n:]
                _accumulate_arg_grads(entry.arg_grads, extra, args, kwargs, self.static_argnums)
            result = [_wrap(o) for o in outs]
        else:
            result = self._connect(entry, cap, diff_outs, other_outs, vjp_fn, args, kwargs)
        tensors = cap.tensors
        # write back with C-level loops (this runs on every call): the state the program changed, by index
        if len(data) == len(tensors):  # all of it (a training step)
            changed = tensors
        else:
            changed = list(map(tensors.__getitem__, data))
        _consume(map(_SET_DATA, changed, data.values()))
        _bump_versions(changed)
        if grads:
            _write_grads(tensors, grads)
        for i, k in keys.items():
            cap.generators[i]._k = k  # (the key's storage: a program's keys are never meta arrays)
        if mutated:  # after the state: a tensor argument may also be captured state (in a dict argument)
            _write_arg_muts(entry.arg_muts, mutated, args, kwargs, self.static_argnums)
        if entry.modes_after is not None:  # the function set training flags (model.train()): as eagerly
            _set_modes(cap.modules, entry.modes_after)
        return _unflatten_out(entry.out_tree, iter(result))

    def _connect(self, entry, cap, diff_outs, other_outs, vjp_fn, args, kwargs):
        inexact = entry.out_grad
        n = len(diff_outs) + len(other_outs)
        result = [None] * n
        di = iter(diff_outs)
        oi = iter(other_outs)
        for i in range(n):
            result[i] = _wrap(next(di) if i in inexact else next(oi))
        if not STATE.grad:
            return result
        edges = []
        for i in entry.diff_idx:
            t = cap.tensors[i]
            edges.append((accumulate_node(t), 0) if t.requires_grad else (None, 0))
        if entry.diff_args:
            arg_tensors = _leaf_objects(args, kwargs, self.static_argnums)  # indexed like the program's args
            for i in entry.diff_args:
                t = arg_tensors[i]
                gf = t.grad_fn
                edges.append((gf, t._output_nr) if gf is not None else (accumulate_node(t), 0))
        if not any(e[0] is not None for e in edges):
            return result
        diff_tensors = [result[i] for i in inexact]
        node = _CompiledBackward(tuple(edges), tuple((t._data.shape, t._data.dtype) for t in diff_tensors))
        node._vjp = vjp_fn
        node._name = self.name
        for k, t in enumerate(diff_tensors):
            t.requires_grad = True
            t.grad_fn = node
            t._output_nr = k
        return result

    # ----- inspection ------------------------------------------------------------------------
    def lower(self, *args, **kwargs):
        """The program for these arguments, lowered without running it (``.as_text()`` prints its
        StableHLO, ``.compile()`` compiles it)."""
        with self._lock, _TRACE_LOCK:
            cap = self._capture(args, kwargs)
            dyn, spec = _flatten_args(args, kwargs, self.static_argnums)
            static_args = {i: args[i] for i in self.static_argnums if i < len(args)}
            roots = _capture.roots_of(self.eager, args, kwargs)
            state, hp = self._gather(cap), self._hp(cap)
            run = self._trace_fn(cap, spec, static_args, STATE.grad, roots, "probe")
            try:
                program = _jit_step(_step_program(run, _NO_DONATION), ())
                return program.trace(*split_state(_Entry("lower"), state), dyn, hp).lower()
            except _NeedsVJP:
                entry = _Entry("lower")
                self._build_diff(entry, cap, spec, static_args, STATE.grad, roots, dyn)
                return entry.fn.trace(state, dyn, hp).lower()
            except _diagnose.TRACE_ERRORS as e:
                raise _diagnose.explain_trace_error(self.name, e) from None

    def cost_analysis(self, *args, **kwargs) -> dict:
        """XLA's cost estimate of the program for these arguments (``flops``, ``bytes accessed`` ...)."""
        compiled = self.lower(*args, **kwargs).compile()
        cost = compiled.cost_analysis()
        if isinstance(cost, (list, tuple)):
            cost = cost[0] if cost else {}
        return dict(cost or {})


def _jit_step(run, donate_argnums):
    """``jax.jit`` of a step program; across processes (``mt.distributed`` with world_size > 1) one SPMD
    program over the process mesh, so collectives inside it are XLA collectives."""
    from ..distributed import _spmd
    if _spmd.active():
        return _spmd.jit_program(run, donate_argnums)
    return jax.jit(run, donate_argnums=donate_argnums, keep_unused=bool(donate_argnums))


def _changed_state(cap, data, grads, keys, give) -> tuple:
    """A trace's new state as ``({index: array}, {index: array or None}, {index: key})``: only what the
    function changed (or set to None), and whatever was donated (``give``: masks over the arrays, their
    ``.grad`` and the keys), which must come back. Also returns the three masks of what changed."""
    tensors = cap.tensors
    give_data, give_grads, give_keys = give or ((False,) * len(tensors),) * 2 + ((False,) * len(keys),)
    now_data = [t._data for t in tensors]
    now_grads = [None if t._grad is None else t._grad._data for t in tensors]
    now_keys = [g._key for g in cap.generators]
    changed = (tuple(map(operator.is_not, now_data, data)), tuple(map(operator.is_not, now_grads, grads)),
               tuple(map(operator.is_not, now_keys, keys)))
    new_data = {i: a for i, (a, c, g) in enumerate(zip(now_data, changed[0], give_data)) if c or g}
    new_grads = {i: a for i, (a, c, g, d) in enumerate(zip(now_grads, changed[1], give_grads, grads))
                 if c or (g and d is not None)}
    new_keys = {i: a for i, (a, c, g) in enumerate(zip(now_keys, changed[2], give_keys)) if c or g}
    return (new_data, new_grads, new_keys), changed


def _write_grads(tensors, grads) -> None:
    """Set ``.grad`` of the captured tensors from a step's ``{index: array or None}``."""
    ts = tensors if len(grads) == len(tensors) else list(map(tensors.__getitem__, grads))
    values = grads.values()
    holders = list(map(_GET_GRAD, ts))
    if any(map(_IS_NONE, holders)) or any(map(_IS_NONE, values)):  # a first gradient, or one set to None
        for t, h, g in zip(ts, holders, values):
            if g is None:
                t._grad = None
            elif h is None:
                t._grad = _wrap(g)
            else:
                h._data = g
                h._version += 1
    else:
        _consume(map(_SET_DATA, holders, values))
        _bump_versions(holders)


def split_state(entry, state) -> tuple:
    """A step program's state arguments ``(donated, kept)``: the captured arrays, their ``.grad`` arrays
    and the generator keys, each split by ``entry.split`` (see :class:`_Split`)."""
    split = entry.split
    if not split.donates:
        return ((), (), ()), state
    sides = split.sides
    if sides is not None:  # (a training step: arrays and .grad donated whole, keys kept or donated whole)
        d, g, k = state
        s0, s1, s2 = sides
        return ((d if s0 else [], g if s1 else [], k if s2 else []),
                ([] if s0 else d, [] if s1 else g, [] if s2 else k))
    return (tuple(list(compress(v, g)) for v, g in zip(state, split.give)),
            tuple(list(compress(v, k)) for v, k in zip(state, split.keep)))


def _merge(keep, given, kept) -> list:
    given, kept = iter(given), iter(kept)
    return [next(kept) if k else next(given) for k in keep]


def _on_cuda(cap) -> bool:
    """Whether the captured arrays live on a GPU (where :func:`_shared_state` decides what is kept)."""
    return bool(cap.tensors) and cap.tensors[0].is_cuda


def _shared_state(traced, cap, changed) -> tuple:
    """Masks (arrays, ``.grad``, keys) of the changed state a step program on CUDA passes undonated: every
    changed array of a shape and dtype that some value of the program has twice among its outputs (or
    that changed state takes from an input). In jax-ml/jax#39625 XLA mixes up such a repeated output with
    a donated buffer of its kind; the state that had the bug (ASGD's eta and mu) lives in 0-d arrays, like
    the step counter, and passing every 0-d array undonated fixed it on an H200. Kinds no value repeats
    are donated. ``changed``: the masks of what the traced step changes."""
    from ..distributed import _spmd
    try:
        in_ids, out_ids = value_ids(traced.jaxpr)
        kinds = [(tuple(v.aval.shape), v.aval.dtype) for v in traced.jaxpr.jaxpr.outvars]
        tree = jax.tree_util.tree_unflatten(traced.out_tree, range(len(out_ids)))  # (output positions)
    except Exception:  # (a program form the analysis does not know: no 0-d state or key is donated)
        scalar = tuple(t._data.ndim == 0 for t in cap.tensors)
        return scalar, scalar, (True,) * len(cap.generators)
    if _spmd.active():
        tree = tree[0]  # (an SPMD program also returns what keeps its collectives alive)
    state, outs = tree
    new = [part[i] for part, mask in zip(state, changed) for i, c in enumerate(mask)
           if c and part.get(i) is not None]  # (the positions of the changed arrays)
    returned = new + jax.tree_util.tree_leaves(outs)
    counts = Counter(out_ids[k] for k in returned)
    inputs = set(in_ids)
    risky = {kinds[k] for k in returned if counts[out_ids[k]] > 1}
    risky.update(kinds[k] for k in new if out_ids[k] in inputs)
    return tuple(tuple(c and part.get(i) is not None and kinds[part[i]] in risky for i, c in enumerate(mask))
                 for part, mask in zip(state, changed))


def _step_program(run, split):
    """A step program: ``f(donated, kept, args, hp) -> (new_state, outputs)`` (see :func:`split_state`).
    jit donates whole arguments, so the arrays that must not be donated travel in an argument of their own.
    The new state comes first: JAX pairs donated inputs with outputs of the same shape and dtype in output
    order, so each state array reuses its own buffer (with the outputs first, a scalar loss could take the
    buffer of a scalar state, and XLA adds copies to keep that input alive)."""
    keep, give = split.keep, split.give

    def f(donated, kept, arg_arrays, hp):
        if split.donates:
            state = tuple(_merge(k, d, c) for k, d, c in zip(keep, donated, kept))
        else:  # (nothing donated: the state is passed whole)
            state = kept
        outs, new_state = run(state, arg_arrays, hp, give=give if split.donates else None)
        return new_state, outs
    return f


def _set_modes(modules, flags) -> None:
    """Set each module's ``training`` flag (only those that differ: Module.__setattr__ is slow)."""
    for m, flag in zip(modules, flags):
        if m.training is not flag:
            m.training = flag


def _holds_meta(cap) -> bool:
    """Whether any captured tensor is on the meta device (a model built under ``mt.device('meta')``)."""
    return any(t.is_meta for t in cap.tensors)


def _holds_float64(cap) -> bool:
    """Whether any captured tensor is float64 (its optimizer then needs float64 hyperparameters)."""
    raw = Tensor._data.__get__  # the slot itself: a lazy module's placeholders have no data yet
    return any(getattr(raw(t), "dtype", None) == np.float64 for t in cap.tensors)


def _leaf_objects(args, kwargs, static_argnums):
    """The Tensors and arrays of a call, in the order of ``_flatten_args``'s array leaves."""
    out: list = []

    def walk(a):
        if isinstance(a, Tensor) and _composite(a):
            for p in a._flatten()[0]:
                walk(p)
        elif isinstance(a, (Tensor, jax.Array, np.ndarray, _Tracer)):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            for x in a:
                walk(x)
        elif isinstance(a, dict):
            for x in a.values():
                walk(x)

    for i, a in enumerate(args):
        if i not in static_argnums:
            walk(a)
    for k in sorted(kwargs):
        walk(kwargs[k])
    return out


def _write_arg_muts(idx, arrays, args, kwargs, static_argnums) -> None:
    """Give the caller's tensor arguments the values the step wrote into them in place."""
    leaves = _leaf_objects(args, kwargs, static_argnums)
    for i, a in zip(idx, arrays):
        t = leaves[i]
        t._data = a
        t._version += 1


def _accumulate_arg_grads(idx, grads, args, kwargs, static_argnums) -> None:
    """Add a step's gradients into the ``.grad`` of the caller's tensor arguments (as torch would)."""
    leaves = _leaf_objects(args, kwargs, static_argnums)
    for i, g in zip(idx, grads):
        t = leaves[i]
        og = t._grad
        if og is None:
            t._grad = _wrap(g)
        else:
            og._data = og._data + g
            og._version += 1


_BWD = jax.jit(lambda vjp_fn, cts: vjp_fn(cts)[0])


class _CompiledBackward(Node):
    """The grad_fn of a compiled forward's outputs: runs the compiled backward program."""

    __slots__ = ("_vjp", "_name")

    def name(self) -> str:
        return "CompiledFunctionBackward"

    def _apply(self, grads, create_graph):
        if create_graph:
            raise RuntimeError(
                f"mt.jit({self._name}): double backward (create_graph=True) through a compiled function is "
                "not "
                "supported; run it eagerly (mt.jit.disable()) for higher-order gradients")
        if self._vjp is None:
            self._check_not_freed()
        cts = [jnp.zeros(s, d) if g is None else g._data.astype(d) for g, (s, d) in zip(grads,
                                                                                        self._out_meta)]
        res = _BWD(self._vjp, cts)
        return [_wrap(r) for r in res]

    def _release(self):
        self._freed = True
        self._vjp = None

    _saves = True

