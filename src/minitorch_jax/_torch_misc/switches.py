"""Process-wide switches torch has: thread counts, deterministic algorithms, warn-always, flush-denormal
(recorded for torch compatibility; XLA's own settings are fixed when it starts)."""

from __future__ import annotations

import builtins
import os

import numpy as np

__all__ = [
    "get_num_threads", "set_num_threads", "get_num_interop_threads", "set_num_interop_threads",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
    "get_deterministic_debug_mode", "set_warn_always", "is_warn_always_enabled", "set_flush_denormal",
]

# ----- threads, determinism, warnings ------------------------------------------------------------
def _default_threads() -> builtins.int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_state = {"threads": None, "interop": None, "interop_set": False, "deterministic": False,
          "warn_only": False, "warn_always": False}


def _positive_int(n, fn: str) -> builtins.int:
    if type(n) is not builtins.int and not isinstance(n, np.integer):
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer, got {n}")
    return builtins.int(n)


def _need_bool(v, fn: str) -> None:
    if type(v) is not builtins.bool:
        raise RuntimeError(f"{fn} expects a bool, but got {type(v).__name__}")


def get_num_threads() -> builtins.int:
    """The number of intra-op threads (the value given to :func:`set_num_threads`, else the CPUs
    this process may use)."""
    return _state["threads"] or _default_threads()


def set_num_threads(num: builtins.int) -> None:
    """Record the number of intra-op threads, like ``torch.set_num_threads``.

    XLA sizes its CPU thread pool when the backend starts and it cannot be resized afterwards: the
    value is recorded (``get_num_threads`` returns it) but does not change how XLA runs. To limit
    XLA's threads, set ``XLA_FLAGS`` / CPU affinity before JAX starts.

    Raises:
        RuntimeError: ``num`` is not a positive int.
    """
    _state["threads"] = _positive_int(num, "set_num_threads")


def get_num_interop_threads() -> builtins.int:
    """The number of inter-op threads (the recorded value, else the CPUs this process may use)."""
    return _state["interop"] or _default_threads()


def set_num_interop_threads(num: builtins.int) -> None:
    """Record the number of inter-op threads, like ``torch.set_num_interop_threads``.

    As in torch it may be called once; the value is recorded only (XLA's pools are fixed at start).

    Raises:
        RuntimeError: ``num`` is not a positive int, or the value was already set.
    """
    num = _positive_int(num, "set_num_interop_threads")
    if _state["interop_set"]:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started "
                           "or set_num_interop_threads called")
    _state["interop"] = num
    _state["interop_set"] = True


def use_deterministic_algorithms(mode: builtins.bool, *, warn_only: builtins.bool = False) -> None:
    """Ask for deterministic algorithms, like ``torch.use_deterministic_algorithms``.

    The flag is recorded and reported by :func:`are_deterministic_algorithms_enabled`. XLA on CPU is
    deterministic; on GPU pass ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` before JAX starts
    (XLA reads it once), since no op here changes algorithm on this flag.

    Args:
        mode: True to require deterministic algorithms.
        warn_only: with ``mode``, warn instead of raising where an op has no deterministic version.

    Raises:
        TypeError: ``mode`` or ``warn_only`` is not a bool.
    """
    for name, v in (("mode", mode), ("warn_only", warn_only)):
        if type(v) is not builtins.bool:
            where = " (position 1)" if name == "mode" else ""
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}'{where} must be bool, "
                            f"not {type(v).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = warn_only


def are_deterministic_algorithms_enabled() -> builtins.bool:
    """Whether :func:`use_deterministic_algorithms` turned the flag on."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    """Whether the deterministic flag is on in warn-only mode."""
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """Set the deterministic mode by level: ``'default'``/0 (off), ``'warn'``/1 (on, warn only),
    ``'error'``/2 (on), as ``torch.set_deterministic_debug_mode``.

    Raises:
        TypeError: ``debug_mode`` is neither str nor int.
        RuntimeError: an unknown name or a level outside 0-2.
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                               f"but got {debug_mode}")
        level = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, (builtins.int, np.integer)):
        level = builtins.int(debug_mode)
        if level not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {level}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode() -> builtins.int:
    """The deterministic level: 0 off, 1 warn only, 2 on (see :func:`set_deterministic_debug_mode`)."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_warn_always(b: builtins.bool) -> None:
    """Record whether warnings torch issues once should be issued every time (the flag only).

    Raises:
        RuntimeError: ``b`` is not a bool.
    """
    _need_bool(b, "set_warn_always")
    _state["warn_always"] = b


def is_warn_always_enabled() -> builtins.bool:
    """The flag set by :func:`set_warn_always` (False by default)."""
    return _state["warn_always"]


def set_flush_denormal(mode: builtins.bool) -> builtins.bool:
    """Request flushing denormal floats to zero; returns False: not supported here (XLA decides),
    as torch returns on CPUs without the feature.

    Raises:
        RuntimeError: ``mode`` is not a bool.
    """
    _need_bool(mode, "flush_denormal")
    return False
