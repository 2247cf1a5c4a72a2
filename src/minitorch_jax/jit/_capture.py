"""Finding the state a compiled function reads and writes: every Tensor reachable from the
function's closure, the globals it names, a bound method's ``self`` and the non-tensor objects
passed as arguments - through Modules, Optimizers, Generators, containers and plain objects.

The walk records a path for every tensor (``model.fc1.weight``, ``opt.state[3]['exp_avg']``)
for messages, and where it was found, so a tensor that escaped from a failed trace can be
removed again.
"""

from __future__ import annotations

import operator
import types

import jax
import numpy as np

from .. import _random
from .._tensor import Tensor, _DataAlias, _DetachedAlias

__all__ = ["Capture", "discover", "find_leaks", "roots_of"]

_LIBS = ("minitorch_jax.", "jax", "jaxlib", "numpy", "optax", "flax", "torch", "builtins", "functools",
         "collections", "typing", "abc", "threading", "logging", "warnings", "pytest", "_pytest", "re",
         "os", "sys", "inspect", "ml_dtypes", "scipy", "importlib", "contextlib", "weakref", "tqdm")
_ATOMS = (str, bytes, int, float, complex, bool, type(None), types.ModuleType, type, jax.Array, np.ndarray,
          np.generic, range, slice)
_MAX_OBJECTS = 200_000
_ALIASES = (_DataAlias, _DetachedAlias)
# parts of minitorch_jax whose objects hold user state (modules, optimizers, a GradScaler's scale ...)
_STATEFUL_PARTS = ("minitorch_jax.nn", "minitorch_jax.optim", "minitorch_jax.jit", "minitorch_jax.amp")


def _is_library(obj) -> bool:
    mod = getattr(type(obj), "__module__", "") or ""
    if mod.startswith("minitorch_jax"):
        return not mod.startswith(_STATEFUL_PARTS)
    return mod.startswith(_LIBS)


def _fn_library(fn) -> bool:
    mod = getattr(fn, "__module__", "") or ""
    return mod.startswith(_LIBS)


def _code_names(code, out):
    out.update(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            _code_names(c, out)
    return out


def roots_of(fn, args=(), kwargs=None):
    """The objects a walk starts from: ``(label, object)`` pairs."""
    roots = []
    seen = set()

    def add_fn(f, label):
        if id(f) in seen:
            return
        seen.add(id(f))
        if isinstance(f, types.MethodType):
            roots.append((label + ".__self__", f.__self__))
            f = f.__func__
        if isinstance(f, (types.FunctionType,)):
            if f.__closure__:
                for name, cell in zip(f.__code__.co_freevars, f.__closure__):
                    try:
                        roots.append((name, cell.cell_contents))
                    except ValueError:  # an empty cell
                        pass
            code = f.__code__
            if f.__defaults__:  # (``def step(x, model=model)``: the default objects are state too)
                names = code.co_varnames[:code.co_argcount][-len(f.__defaults__):]
                roots.extend(zip(names, f.__defaults__))
            if f.__kwdefaults__:
                roots.extend(f.__kwdefaults__.items())
            g = f.__globals__
            for name in _code_names(f.__code__, set()):
                if name in g:
                    roots.append((name, g[name]))
        elif not isinstance(f, (types.BuiltinFunctionType,)):
            roots.append((label, f))  # a callable object (a Module ...)

    add_fn(fn, getattr(fn, "__name__", "fn"))
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            roots.append((f"arg{i}", a))
    for k, v in (kwargs or {}).items():
        if not isinstance(v, Tensor):
            roots.append((k, v))
    return roots


class Capture:
    """The result of a walk.

    Attributes:
        tensors: captured Tensors, in discovery order (their ``_data`` and ``.grad`` are state).
        paths: a path for each tensor.
        generators: captured Generators (their keys are state); the default one always.
        modules: every Module found.
        guarded: the modules whose ``training`` flags are guarded: all, less those the function sets
            before calling any module (``model.train()`` first thing in a step).
        optimizers: every optimizer found (hyperparameters of their groups).
        hp_slots: ``(group, key, index)`` of float hyperparameters passed as traced values.
        hp_static: ``(group, keys)`` whose values are guarded.
    """

    def __init__(self):
        self.tensors: list = []
        self.paths: list = []
        self.ids: set = set()
        self.generators: list = [_random.default_generator]
        self.modules: list = []
        self.guarded: list = self.modules
        self.optimizers: list = []
        self.hp_slots: list = []
        self.hp_static: list = []
        self.hp_getters: list = []
        self.version = -1
        self.sig = None  # which set of captured objects this is (equal sets share it; see signature())
        self.hp_f64 = False  # float64 state: the hyperparameters go into programs as float64

    def signature(self) -> tuple:
        """The identity of everything captured: two captures with equal signatures hold the same
        objects, so programs compiled for one serve the other."""
        return (tuple(map(id, self.tensors)), tuple(map(id, self.generators)), tuple(map(id, self.modules)),
                tuple((id(g), k, i) for g, k, i in self.hp_slots),
                tuple((id(g), tuple(keys)) for g, keys in self.hp_static))


def _walk(roots, visit_tensor, visit_generator=None, visit_module=None, visit_optimizer=None):
    from ..nn.modules.module import Module
    from ..optim.optimizer import Optimizer

    seen = set()
    stack = [(obj, label, None, None) for label, obj in reversed(roots)]
    count = 0
    while stack:
        obj, path, container, key = stack.pop()
        if isinstance(obj, Tensor):
            if type(obj) is not Tensor and hasattr(type(obj), "_flatten"):
                # a sparse or masked tensor: its part tensors are the state (a leaked part is removed by
                # removing the whole tensor from its container)
                stack.extend((p, f"{path}.<part {i}>", container, key)
                             for i, p in reversed(list(enumerate(obj._flatten()[0]))))
            else:
                if type(obj) in _ALIASES and not obj.requires_grad and obj._grad is None:
                    # t.detach() / t.data: its values are its base's, so the base is the state
                    ref = obj._aref
                    base = ref() if ref is not None else None
                    if base is not None:
                        obj, path = base, path + ".<base>"
                visit_tensor(obj, path, container, key)
            continue
        if isinstance(obj, _ATOMS):
            continue
        oid = id(obj)
        if oid in seen:
            continue
        seen.add(oid)
        count += 1
        if count > _MAX_OBJECTS:
            break
        if isinstance(obj, _random.Generator):
            if visit_generator is not None:
                visit_generator(obj)
            continue
        if isinstance(obj, Module):
            if visit_module is not None:
                visit_module(obj)
            d = obj.__dict__
            items = []
            for name in ("_parameters", "_buffers"):
                for k, v in d[name].items():
                    items.append((v, f"{path}.{k}", d[name], k))
            for k, v in d["_modules"].items():
                items.append((v, f"{path}.{k}", d["_modules"], k))
            for k, v in d.items():
                if not k.startswith("_") or k == "_orig_mod":
                    items.append((v, f"{path}.{k}", obj, k))
            stack.extend(reversed(items))
            continue
        if isinstance(obj, Optimizer):
            if visit_optimizer is not None:
                visit_optimizer(obj)
            items = []
            index = {}
            for gi, group in enumerate(obj.param_groups):
                for pi, p in enumerate(group["params"]):
                    index[id(p)] = len(index)
                    items.append((p, f"{path}.param_groups[{gi}]['params'][{pi}]", group["params"], pi))
            for p, st in obj.state.items():
                label = index.get(id(p), "?")
                if isinstance(st, dict):
                    for k, v in st.items():
                        items.append((v, f"{path}.state[{label}][{k!r}]", st, k))
                else:
                    items.append((st, f"{path}.state[{label}]", obj.state, p))
            for k, v in obj.__dict__.items():
                if k not in ("param_groups", "state", "defaults") and not k.startswith("_optimizer_"):
                    items.append((v, f"{path}.{k}", obj, k))
            stack.extend(reversed(items))
            continue
        if isinstance(obj, dict):
            stack.extend((v, f"{path}[{k!r}]", obj, k) for k, v in reversed(list(obj.items())))
            continue
        if isinstance(obj, (list, tuple)):
            stack.extend((v, f"{path}[{i}]", obj, i) for i, v in reversed(list(enumerate(obj))))
            continue
        if isinstance(obj, (set, frozenset)):
            stack.extend((v, f"{path}{{...}}", None, None) for v in obj)
            continue
        if isinstance(obj, (types.FunctionType, types.MethodType)):
            if _fn_library(obj):
                continue
            stack.extend((o, f"{label}", None, None) for label, o in reversed(roots_of(obj)))
            continue
        if isinstance(obj, (types.BuiltinFunctionType, types.GeneratorType, types.CodeType, types.FrameType)):
            continue
        if _is_library(obj):
            continue
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict):
            stack.extend((v, f"{path}.{k}", obj, k) for k, v in reversed(list(d.items())))


def discover(roots) -> Capture:
    """Walk from ``roots`` and collect the state (see :class:`Capture`)."""
    cap = Capture()
    gen_ids = {id(g) for g in cap.generators}

    def on_tensor(t, path, container, key):
        if id(t) not in cap.ids:
            cap.ids.add(id(t))
            cap.tensors.append(t)
            cap.paths.append(path)

    def on_generator(g):
        if id(g) not in gen_ids:
            gen_ids.add(id(g))
            cap.generators.append(g)

    def on_optimizer(o):
        if o in cap.optimizers:
            return
        cap.optimizers.append(o)
        for group in o.param_groups:
            static_keys = []
            for k, v in group.items():
                if k in ("params", "param_names"):
                    continue
                if type(v) is float and v != 0:
                    cap.hp_slots.append((group, k, None))
                elif type(v) is tuple and v and all(type(x) is float and x != 0 for x in v):
                    for j in range(len(v)):
                        cap.hp_slots.append((group, k, j))
                else:
                    static_keys.append(k)
            cap.hp_static.append((group, tuple(static_keys)))
            if static_keys:
                get = operator.itemgetter(*static_keys)
                cap.hp_getters.append((group, get))

    _walk(roots, on_tensor, on_generator, cap.modules.append, on_optimizer)
    # a module reached twice is listed twice by append: keep each once, in order
    seen = set()
    cap.modules = [m for m in cap.modules if not (id(m) in seen or seen.add(id(m)))]
    return cap


def find_leaks(roots, captured_ids) -> list:
    """Tensors reachable from ``roots`` that hold a JAX tracer and are not captured state:
    ``(path, container, key, tensor)`` for each (a value escaped from a trace)."""
    leaks = []

    def on_tensor(t, path, container, key):
        if id(t) not in captured_ids and isinstance(t._data, jax.core.Tracer):
            leaks.append((path, container, key, t))

    _walk(roots, on_tensor)
    return leaks


def remove_leak(container, key) -> None:
    """Delete the entry holding an escaped tensor from its container (dict, list or object)."""
    try:
        if isinstance(container, dict):
            container.pop(key, None)
        elif isinstance(container, list):
            del container[key]
        elif container is not None and not isinstance(container, tuple):
            delattr(container, key)
    except Exception:
        pass
