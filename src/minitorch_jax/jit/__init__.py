"""``mt.jit``: compile PyTorch-style functions, modules and whole training steps into one XLA
program each, with automatic state capture, guards, and a switch to turn it all off.

``mt.jit`` is both this namespace and the decorator: ``@mt.jit``, ``@mt.jit(...)``,
``mt.jit(fn)``, ``mt.jit(model)``.
"""

from __future__ import annotations

import builtins
import sys
import types

from ._compare import CompareResult, compare
from ._compiled import CompiledFunction, JitError, RecompileError
from ._export import LoadedFunction, TracedFunction, load, save, trace, trace_module
from ._module import OptimizedModule
from ._placeholder import Deferred, placeholder
from ._script import (
    RecursiveScriptModule,
    ScriptFunction,
    ScriptModule,
    freeze,
    optimize_for_inference,
    script,
)
from ._switch import disable, enable, get_stance, is_enabled, set_enabled, set_stance
from ._torchscript import (
    Attribute,
    Error,
    Final,
    ScriptWarning,
    TracerWarning,
    annotate,
    enable_onednn_fusion,
    export,
    fork,
    fuser,
    ignore,
    interface,
    is_scripting,
    is_tracing,
    onednn_fusion_enabled,
    optimized_execution,
    script_if_tracing,
    script_method,
    set_fusion_strategy,
    strict_fusion,
    unused,
    wait,
)
from ._torchscript import isinstance as _ts_isinstance

__all__ = ["jit", "compile", "placeholder", "Deferred", "trace", "save", "load", "TracedFunction",
           "LoadedFunction", "CompiledFunction", "OptimizedModule", "JitError", "RecompileError",
           "set_enabled", "compare", "CompareResult",
           "is_enabled", "disable", "enable", "set_stance", "get_stance",
           # torch.jit's scripting API and TorchScript annotations (see _script.py, _torchscript.py)
           "script", "ScriptModule", "RecursiveScriptModule", "ScriptFunction", "freeze",
           "optimize_for_inference", "trace_module", "ignore", "unused", "export", "interface",
           "script_if_tracing", "script_method", "is_scripting", "is_tracing", "annotate", "isinstance",
           "Final", "Attribute", "Error", "TracerWarning", "ScriptWarning", "fork", "wait",
           "optimized_execution", "fuser", "set_fusion_strategy", "strict_fusion", "enable_onednn_fusion",
           "onednn_fusion_enabled"]


def jit(fn=None, *, enabled=None, fallback: str = "error", donate: bool = True, static_argnums=(),
        cache_size_limit: int = 8, check: bool = False):
    """Compile ``fn`` (a function, a method or a Module) into one XLA program per call signature.

    Args:
        fn: what to compile; omitted when used as ``@mt.jit(...)``.
        enabled: force compilation on (True) or off (False) for this object; None follows the
            global switch (:func:`set_enabled`, ``MINITORCH_JAX_JIT``).
        fallback: 'error' (default) raises a clear error when the function reads tensor values in
            Python; 'eager' runs such functions eagerly instead, warning once.
        donate: donate the captured state's buffers to the program (a step keeps one copy of the
            model in memory).
        static_argnums: positions of arguments that are compile-time constants.
        cache_size_limit: how many programs may be compiled before it warns and runs eagerly.
        check: run every call both eagerly and compiled and raise on the first difference.

    Every tensor the function reads or writes that is not an argument (parameters, buffers,
    ``.grad``, optimizer state, the RNG state) is found automatically, passed to the program and
    written back after each call.
    """
    if fn is not None and getattr(fn, "_mt_compiler_disabled", False):
        return fn  # marked by mt.compiler.disable: never compiled
    opts = dict(enabled=enabled, fallback=fallback, donate=donate, static_argnums=static_argnums,
                cache_size_limit=cache_size_limit, check=check)
    if fn is None:
        return lambda f: jit(f, **opts)
    from ..nn.modules.module import Module
    if builtins.isinstance(fn, Module):  # (this module's own `isinstance` is torch.jit.isinstance)
        return OptimizedModule(fn, **opts)
    return CompiledFunction(fn, **opts)


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend=None, mode=None, options=None,
            disable: bool = False, **kwargs):
    """``torch.compile``-shaped alias of :func:`jit` (torch's extra arguments are accepted and
    ignored; ``disable=True`` returns ``model`` unchanged)."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable, **kwargs)
    if disable:
        return model
    return jit(model, **kwargs)


class _JitModule(types.ModuleType):
    """Makes the ``mt.jit`` module itself callable as the decorator."""

    def __call__(self, fn=None, **kwargs):
        return jit(fn, **kwargs)


sys.modules[__name__].__class__ = _JitModule
# torch.jit.isinstance (this module's code calls builtins.isinstance by name)
globals()["isinstance"] = _ts_isinstance
