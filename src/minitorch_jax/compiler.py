"""``mt.compiler``: ``torch.compiler``'s user-facing functions on top of :mod:`minitorch_jax.jit`.

``mt.jit`` traces a whole function into one XLA program; there are no graph breaks. Consequences:

* :func:`disable` on an ``mt.jit``/``mt.compile`` object returns the original, never-compiled callable.
  On a plain function it returns a wrapper that runs the function with compilation switched off (with
  ``recursive=True``, compiled objects it calls run eagerly too) and is never compiled by
  :func:`compile`. Called *while* an ``mt.jit`` function is being traced, it cannot leave the XLA
  program: it is traced into it like any other code (its Python side effects happen once, at compile
  time), with a one-time ``UserWarning`` saying so. To keep it out of the program, call it outside the
  compiled function, or use ``mt.jit(fn, fallback="eager")``.
* :func:`is_compiling` is True while ``mt.jit`` traces a function (the Python body runs once per
  compilation, so code under ``if mt.compiler.is_compiling():`` is what goes into the program).
* :func:`allow_in_graph`, :func:`assume_constant_result`, :func:`nested_compile_region` and
  :func:`substitute_in_graph` leave their function as it is (everything is traced; a constant result is
  whatever the function returns when traced), and :func:`cudagraph_mark_step_begin` does nothing (XLA has
  no CUDA-graph step marker to set).
* :func:`wrap_numpy` works eagerly too (torch's needs ``torch.compile``): the NumPy function runs on
  ``jax.numpy``, so it is differentiable and compiles into an ``mt.jit`` program.
* The guard-filter helpers (:func:`skip_guard_on_globals_unsafe` ...) compute torch's keep-flags from
  guard entries; ``mt.jit``'s guards are a cheap cache key, so it does not take a ``guard_filter_fn``.
* :func:`save_cache_artifacts`/:func:`load_cache_artifacts` carry JAX's persistent compilation cache
  (``jax.config.jax_compilation_cache_dir``) between machines; with no cache directory set there is
  nothing to save (``None``, as torch when nothing was compiled).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import types
import warnings
from collections import defaultdict

from . import jit as _jit

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "set_stance",
           "reset", "allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin", "list_backends",
           "get_default_backend", "set_default_backend", "nested_compile_region", "substitute_in_graph",
           "wrap_numpy", "CacheInfo", "save_cache_artifacts", "load_cache_artifacts",
           "load_compiled_function",
           "set_enable_guard_collectives", "skip_all_guards_unsafe", "skip_guard_on_globals_unsafe",
           "skip_guard_on_all_nn_modules_unsafe", "skip_guard_on_inbuilt_nn_modules_unsafe",
           "keep_tensor_guards_unsafe", "keep_portable_guards_unsafe"]

_DISABLED = "_mt_compiler_disabled"


def compile(model=None, **kwargs):
    """``torch.compiler.compile``: the same as :func:`minitorch_jax.compile` (``torch.compile``).

    A function marked by :func:`disable` is returned unchanged (it is never compiled).
    """
    if model is not None and getattr(model, _DISABLED, False):
        return model
    return _jit.compile(model, **kwargs)


def is_compiling() -> bool:
    """True while ``mt.jit``/``mt.compile`` is tracing a function into an XLA program (in this thread)."""
    from .jit._compiled import TRACING
    return TRACING.depth > 0


def is_dynamo_compiling() -> bool:
    """The same as :func:`is_compiling` (mt.jit is the only tracer here)."""
    return is_compiling()


def is_exporting() -> bool:
    """Whether a model is being exported (``torch.export``): always False (``mt.jit.save`` traces
    through :func:`minitorch_jax.jit.trace`, which is not an export in this sense)."""
    return False


def _warn_traced(name: str, flag: list) -> None:
    if not flag:
        flag.append(True)
        warnings.warn(f"torch.compiler.disable: {name} was called while mt.jit is compiling a function; it "
                      "cannot leave the XLA program, so it is traced into it (its Python side effects run "
                      "once, at compile time). Call it outside the compiled function to run it eagerly, or "
                      "compile the caller with mt.jit(..., fallback='eager').", UserWarning, stacklevel=3)


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """Keep ``fn`` from being compiled (decorator, with or without arguments).

    Args:
        fn: an ``mt.jit``/``mt.compile`` object (its original callable is returned), a Module or a
            function (a wrapper that runs it with compilation off is returned).
        recursive: also run compiled objects called by ``fn`` eagerly (torch: skip its callees too).
        reason: accepted for torch compatibility (shown in the warning's context only).

    See the module docstring for what happens when the result is called inside a function ``mt.jit``
    is tracing (it is traced, with a one-time warning).
    """
    if fn is None:
        return lambda f: disable(f, recursive=recursive, reason=reason)
    if isinstance(fn, (_jit.CompiledFunction, _jit.OptimizedModule)):
        return fn.eager
    from .nn.modules.module import Module
    if isinstance(fn, Module):
        object.__setattr__(fn, _DISABLED, True)
        return fn
    if not callable(fn):
        raise TypeError(f"torch.compiler.disable: expected a function or a Module, got {type(fn).__name__}")
    warned: list = []
    name = getattr(fn, "__qualname__", None) or repr(fn)

    @functools.wraps(fn)
    def run_eagerly(*args, **kwargs):
        if is_compiling():
            _warn_traced(name, warned)
        if not recursive:
            return fn(*args, **kwargs)
        with _jit.disable():
            return fn(*args, **kwargs)

    setattr(run_eagerly, _DISABLED, True)
    return run_eagerly


def set_stance(stance: str = "default", *, skip_guard_eval_unsafe: bool = False, force_backend=None):
    """``torch.compiler.set_stance``: :func:`minitorch_jax.jit.set_stance` (a function, context manager
    or decorator). Stances: 'default', 'force_eager', 'fail_on_recompile', 'eager_on_recompile'.
    ``skip_guard_eval_unsafe`` and ``force_backend`` are accepted and ignored (guards here are cheap
    and there is one backend)."""
    if force_backend is not None and stance != "force_eager":
        raise RuntimeError("force_backend can only be used with the 'force_eager' stance")
    return _jit.set_stance(stance)


def reset() -> None:
    """Forget every compiled program: each ``mt.jit``/``mt.compile`` object compiles again on its next
    call (its ``num_compiles`` and ``explain()`` history start over), and JAX's caches are cleared."""
    if is_compiling():
        raise RuntimeError("torch.compiler.reset() cannot be called while mt.jit is compiling a function")
    from .jit._compiled import _INSTANCES
    for obj in list(_INSTANCES):
        obj.reset()
    import jax
    jax.clear_caches()


def allow_in_graph(fn):
    """Return ``fn`` unchanged: ``mt.jit`` traces every function into the program anyway."""
    return fn


def assume_constant_result(fn):
    """Return ``fn`` unchanged: under ``mt.jit`` its result is whatever it returns when traced (a Python
    value computed at trace time is a constant of the program already)."""
    return fn


def cudagraph_mark_step_begin() -> None:
    """Do nothing: XLA manages its own executables; there are no CUDA graphs to mark a step for."""


def list_backends(exclude_tags=("debug", "experimental")) -> list[str]:
    """The compiler backends: ``['xla']`` (mt.jit's only one; ``backend=`` arguments are ignored)."""
    return ["xla"]


_DEFAULT_BACKEND = ["xla"]


def get_default_backend():
    """The backend ``compile`` uses when given none: ``'xla'`` unless :func:`set_default_backend` chose
    another (a name or a callable is recorded; mt.jit compiles with XLA in every case)."""
    return _DEFAULT_BACKEND[0]


def set_default_backend(backend) -> None:
    """Record ``backend`` (a name from :func:`list_backends` or one of torch's, a callable, or None for
    the default) as the default backend (see :func:`get_default_backend`)."""
    if backend is not None and not callable(backend) and not isinstance(backend, str):
        raise TypeError(f"set_default_backend: expected a backend name, a callable or None, got "
                        f"{type(backend).__name__}")
    _DEFAULT_BACKEND[0] = "xla" if backend is None else backend


def nested_compile_region(fn=None, *, options=None, max_reuse_entries: int = 8, reuse_hash_fn=None):
    """Mark ``fn`` as a region torch compiles once and reuses: returned unchanged here (``mt.jit``
    traces it into the surrounding program, where XLA deduplicates nothing but fuses across it).
    Usable as ``@nested_compile_region`` or ``@nested_compile_region(...)``."""
    if fn is None:
        return lambda f: f
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through: bool = False,
                        skip_signature_check: bool = False):
    """A decorator registering a Python polyfill for ``original_fn`` (torch uses it while tracing C
    functions); returns the polyfill unchanged. Its signature must match ``original_fn``'s, as in torch,
    unless ``skip_signature_check``."""
    import inspect

    def register(polyfill):
        if not skip_signature_check:
            try:
                a, b = inspect.signature(original_fn), inspect.signature(polyfill)
            except (TypeError, ValueError):
                a = b = None
            if a is not None and a != b:
                raise TypeError(f"Signature mismatch between {original_fn} and {polyfill}: {a} != {b}")
        return polyfill
    return register


def _numpy_globals(fn):
    """``fn`` re-made with every global (and closure cell) bound to NumPy, or to a NumPy function,
    bound to its ``jax.numpy`` twin instead."""
    import jax.numpy as jnp
    import numpy as np

    def swap(v):
        if v is np:
            return jnp
        if getattr(v, "__module__", None) == "numpy" and callable(v) and hasattr(jnp, v.__name__):
            return getattr(jnp, v.__name__)
        return v
    g = dict(fn.__globals__)
    for k in fn.__code__.co_names:
        if k in g:
            g[k] = swap(g[k])
    cells = None
    if fn.__closure__:
        cells = tuple(types.CellType(swap(c.cell_contents)) for c in fn.__closure__)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, cells)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def wrap_numpy(fn):
    """Turn ``fn``, a function of NumPy arrays, into a function of Tensors returning Tensors.

    ``fn`` runs on ``jax.numpy``: the ``np``/``numpy`` names (and NumPy functions) it reads from its
    globals or closure are bound to their ``jax.numpy`` twins, so the result is one differentiable op,
    eagerly and under ``mt.jit``. Helpers that ``fn`` calls keep their own NumPy (pass arrays to them
    only through ``fn``'s own code); in-place NumPy writes are not possible on JAX arrays.

    Example::

        @mt.compiler.wrap_numpy
        def fn(a):
            return np.sum(a * a)
        x = mt.arange(6.0, requires_grad=True)
        fn(x).backward()           # x.grad == 2 * x
    """
    from .interop import jax_function
    jfn = _numpy_globals(fn)
    return functools.wraps(fn)(jax_function(jfn, name=getattr(fn, "__name__", "wrap_numpy")))


@dataclasses.dataclass
class CacheInfo:
    """What :func:`save_cache_artifacts`/:func:`load_cache_artifacts` carried: artifact names by kind
    (here ``'jax_compilation_cache'``: the files of JAX's persistent compilation cache)."""

    artifacts: defaultdict = dataclasses.field(default_factory=lambda: defaultdict(list))


def _cache_dir():
    import jax
    return jax.config.jax_compilation_cache_dir


_CACHE_MAGIC = b"MTJAXCACHE1"


def save_cache_artifacts():
    """The files of JAX's persistent compilation cache as ``(bytes, CacheInfo)``, for
    :func:`load_cache_artifacts` on another process or machine; None when no cache directory is set
    (``jax.config.update('jax_compilation_cache_dir', path)``) or it holds nothing."""
    d = _cache_dir()
    if not d or not os.path.isdir(d):
        return None
    files = {}
    for root, _, names in os.walk(d):
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as fh:
                files[os.path.relpath(path, d)] = fh.read()
    if not files:
        return None
    info = CacheInfo()
    info.artifacts["jax_compilation_cache"] = sorted(files)
    return _CACHE_MAGIC + pickle.dumps(files), info


def load_cache_artifacts(serialized_artifacts: bytes):
    """Write artifacts from :func:`save_cache_artifacts` into this process's JAX compilation cache
    directory (which must be set); returns their :class:`CacheInfo`, or None when there were none."""
    if not isinstance(serialized_artifacts, (bytes, bytearray)) or \
            not serialized_artifacts.startswith(_CACHE_MAGIC):
        raise RuntimeError("load_cache_artifacts: not the bytes written by save_cache_artifacts "
                           "(corrupt, truncated or from another library)")
    try:
        files = pickle.loads(serialized_artifacts[len(_CACHE_MAGIC):])
    except Exception as e:
        raise RuntimeError(f"load_cache_artifacts: the artifacts are corrupt or truncated ({e})") from None
    if not files:
        return None
    d = _cache_dir()
    if not d:
        raise RuntimeError("load_cache_artifacts: no JAX compilation cache directory is set; call "
                           "jax.config.update('jax_compilation_cache_dir', path) first")
    for rel, data in files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    info = CacheInfo()
    info.artifacts["jax_compilation_cache"] = sorted(files)
    return info


def load_compiled_function(file, *, f_globals=None, external_data=None):
    """Load a compiled function from a file: a program written by ``mt.jit.save`` (this library's
    ahead-of-time format), returned as the callable :func:`minitorch_jax.jit.load` gives."""
    return _jit.load(file)


_GUARD_COLLECTIVES = [False]


def set_enable_guard_collectives(enabled: bool) -> bool:
    """Record whether guard evaluation should synchronise across ranks; returns the previous setting.
    ``mt.jit``'s guards depend only on shapes, dtypes and flags that every SPMD rank shares, so no
    collective is issued either way."""
    prev, _GUARD_COLLECTIVES[0] = _GUARD_COLLECTIVES[0], bool(enabled)
    return prev


def skip_all_guards_unsafe(guard_entries) -> list[bool]:
    """A guard filter that keeps no guard."""
    return [False for _ in guard_entries]


def skip_guard_on_globals_unsafe(guard_entries) -> list[bool]:
    """A guard filter that keeps every guard except those on globals (``entry.is_global``)."""
    return [not entry.is_global for entry in guard_entries]


def skip_guard_on_all_nn_modules_unsafe(guard_entries) -> list[bool]:
    """A guard filter that drops guards whose source is an (unspecialized) nn module."""
    return [not entry.orig_guard.source.is_unspecialized_nn_module() for entry in guard_entries]


def skip_guard_on_inbuilt_nn_modules_unsafe(guard_entries) -> list[bool]:
    """A guard filter that drops guards whose source is a built-in nn module (``nn.Linear`` ...)."""
    return [not entry.orig_guard.source.is_unspecialized_builtin_nn_module() for entry in guard_entries]


def keep_tensor_guards_unsafe(guard_entries, keep_parameters: bool = False) -> list[bool]:
    """A guard filter that keeps only tensor-match guards (on Parameters only if ``keep_parameters``)."""
    from .nn.parameter import Parameter
    return [entry.guard_type == "TENSOR_MATCH" and (keep_parameters or not isinstance(entry.value, Parameter))
            for entry in guard_entries]


def keep_portable_guards_unsafe(guard_entries) -> list[bool]:
    """A guard filter that keeps global-state and shape guards and tensor guards on non-globals."""
    return [g.guard_type in ("GLOBAL_STATE", "SHAPE_ENV")
            or (g.guard_type == "TENSOR_MATCH" and not g.is_global) for g in guard_entries]
