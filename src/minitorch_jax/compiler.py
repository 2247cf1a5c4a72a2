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
* :func:`allow_in_graph`, :func:`assume_constant_result` return their function unchanged (everything is
  traced; a constant result is whatever the function returns when traced), and
  :func:`cudagraph_mark_step_begin` does nothing (XLA has no CUDA-graph step marker to set).
"""

from __future__ import annotations

import functools
import warnings

from . import jit as _jit

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "set_stance",
           "reset", "allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin", "list_backends"]

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
