"""TorchScript's annotations and knobs, so code written for ``torch.jit`` runs unchanged.

There is no TorchScript compiler here: code runs as Python (eagerly, or traced by ``mt.jit``), so the
annotations (``ignore``, ``unused``, ``export``, ``Final``, ``annotate`` ...) leave what they mark as it
is, ``is_scripting()`` is always False, and the fusion knobs are accepted and have no effect (XLA fuses).
"""

from __future__ import annotations

import builtins
import contextlib
import threading
import types
import typing
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

from ..futures import Future

__all__ = ["ignore", "unused", "export", "interface", "script_if_tracing", "script_method", "is_scripting",
           "is_tracing", "annotate", "isinstance", "Final", "Attribute", "Error", "TracerWarning",
           "ScriptWarning", "fork", "wait", "optimized_execution", "fuser", "set_fusion_strategy",
           "strict_fusion", "enable_onednn_fusion", "onednn_fusion_enabled"]

Final = typing.Final


def deprecated(name: str) -> None:
    """Warn as torch 2.13 does for the TorchScript API it deprecated (script, freeze, fork ...)."""
    warnings.warn(f"`mt.jit.{name}` is deprecated, as `torch.jit.{name}` is. Please switch to `mt.compile` "
                  "(or `mt.jit.trace` to export).", DeprecationWarning, stacklevel=3)


def _marker(fn=None, **kwargs):
    if fn is None:  # used as @ignore(drop=True)
        return lambda f: f
    if not callable(fn):
        raise TypeError(f"expected a function to decorate, got {type(fn).__name__}")
    return fn


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` / ``@torch.jit.ignore(drop=True)``: leave a function as Python. Here every
    function is Python, so it is returned unchanged."""
    if callable(drop):
        return drop
    return _marker(**kwargs)


def unused(fn):
    """``@torch.jit.unused``: TorchScript would not compile this method. Returned unchanged."""
    return _marker(fn)


def export(fn):
    """``@torch.jit.export``: compile this method of a scripted module too. Returned unchanged."""
    return _marker(fn)


def interface(obj):
    """``@torch.jit.interface``: declare a TorchScript interface type. Returned unchanged."""
    return obj


def script_if_tracing(fn):
    """``@torch.jit.script_if_tracing``: script ``fn`` when first called under tracing. Returned
    unchanged: ``mt.jit.trace`` records what ``fn`` runs."""
    return _marker(fn)


def script_method(fn):
    """``torch.jit.script_method`` (legacy ScriptModule methods). Returned unchanged."""
    return _marker(fn)


def is_scripting() -> bool:
    """False: code here never runs under the TorchScript compiler (``mt.jit`` runs the Python)."""
    return False


class _TraceDepth(threading.local):
    depth = 0


_TRACE = _TraceDepth()


def is_tracing() -> bool:
    """True while :func:`minitorch_jax.jit.trace` records a function (as ``torch.jit.is_tracing``); False
    in eager code and inside ``mt.jit``/``mt.compile``, as under ``torch.compile``."""
    return _TRACE.depth > 0


@contextlib.contextmanager
def tracing():
    """Mark the body as recorded by ``mt.jit.trace`` (what :func:`is_tracing` reports)."""
    _TRACE.depth += 1
    try:
        yield
    finally:
        _TRACE.depth -= 1


def annotate(the_type, the_value):
    """``torch.jit.annotate(type, value)``: a type hint for TorchScript; returns ``the_value``."""
    return the_value


# torch's wording for a container type given without its contents, per container
_ONE = ("a contained type", "a contained type", "[int]")
_BARE = {list: _ONE, tuple: _ONE, typing.Optional: _ONE,
         dict: ("contained types", "contained type", "[int, int]")}


def _matches(obj, tp) -> bool:
    if tp is Any:
        return True
    if tp is None or tp is type(None):
        return obj is None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        return builtins.any(_matches(obj, a) for a in args)
    if origin is None:
        return builtins.isinstance(obj, tp)
    if origin is list:
        return builtins.isinstance(obj, list) and builtins.all(_matches(v, args[0]) for v in obj)
    if origin is dict:
        return builtins.isinstance(obj, dict) and builtins.all(
            _matches(k, args[0]) and _matches(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if not builtins.isinstance(obj, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return builtins.all(_matches(v, args[0]) for v in obj)
        return len(obj) == len(args) and builtins.all(_matches(v, a) for v, a in zip(obj, args))
    return builtins.isinstance(obj, origin)


def isinstance(obj, target_type) -> bool:  # noqa: A001 - torch's name
    """``torch.jit.isinstance``: like ``isinstance``, but checks the contents of typed containers
    (``list[int]``, ``dict[str, Tensor]``, ``tuple[int, str]``, ``Optional[...]``).

    Raises:
        RuntimeError: ``target_type`` is a container without its contained type (``list``).
    """
    bare = target_type if target_type in _BARE else typing.get_origin(target_type)
    if bare in _BARE and not typing.get_args(target_type):  # list, typing.List, dict, Optional ...
        name = getattr(target_type, "_name", None) or target_type.__name__
        without, add, example = _BARE[bare]
        raise RuntimeError(f"Attempted to use {name} without {without}. Please add {add}, "
                           f"e.g. {name}{example}")
    if builtins.isinstance(target_type, tuple):
        return builtins.any(isinstance(obj, t) for t in target_type)
    return _matches(obj, target_type)


class Attribute(NamedTuple):
    """``torch.jit.Attribute(value, type)``: a typed attribute of a legacy ScriptModule."""

    value: Any
    type: Any


class Error(Exception):
    """``torch.jit.Error``: an error raised by scripted code."""


class TracerWarning(Warning):
    """``torch.jit.TracerWarning``: something a trace may not record faithfully."""

    @staticmethod
    def ignore_lib_warnings() -> None:
        """Accepted for torch compatibility (no library warnings are filtered here)."""


class ScriptWarning(Warning):
    """``torch.jit.ScriptWarning``."""


def fork(func: Callable, *args, **kwargs) -> Future:
    """``torch.jit.fork``: start ``func(*args, **kwargs)`` and return a Future of its result.

    Outside TorchScript torch runs ``func`` right away; so does this (JAX already runs device work
    asynchronously). An exception is kept in the future and raised by :func:`wait`."""
    deprecated("fork")
    fut: Future = Future()
    try:
        fut.set_result(func(*args, **kwargs))
    except Exception as e:  # raised by wait(), as torch does
        fut.set_exception(e)
    return fut


def wait(future: Future):
    """``torch.jit.wait``: the result of a :func:`fork` (raises its exception)."""
    return future.wait()


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    """``torch.jit.optimized_execution``: accepted; XLA always optimises."""
    yield


@contextlib.contextmanager
def fuser(name: str):
    """``torch.jit.fuser('fuser1' | ...)``: accepted; XLA does the fusion."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")
    yield


_FUSION_STRATEGY = [[("STATIC", 2), ("DYNAMIC", 10)]]


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``torch.jit.set_fusion_strategy``: recorded (no effect); returns the previous strategy."""
    for kind, depth in strategy:
        if kind not in ("STATIC", "DYNAMIC") or not builtins.isinstance(depth, int):
            raise RuntimeError(f"set_fusion_strategy: expected ('STATIC' | 'DYNAMIC', int) pairs, got "
                               f"{(kind, depth)!r}")
    old = _FUSION_STRATEGY[0]
    _FUSION_STRATEGY[0] = list(strategy)
    return old


class strict_fusion:  # noqa: N801 - torch's name
    """``with torch.jit.strict_fusion():`` accepted (XLA fuses the whole program)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_ONEDNN = [False]


def enable_onednn_fusion(enabled: bool) -> None:
    """``torch.jit.enable_onednn_fusion``: recorded (no effect here)."""
    _ONEDNN[0] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    """What :func:`enable_onednn_fusion` last set (default False)."""
    return _ONEDNN[0]
