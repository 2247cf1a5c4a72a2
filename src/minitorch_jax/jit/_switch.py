"""The on/off switch of ``mt.jit`` and its stance (shaped like ``torch.compiler.set_stance``).

``MINITORCH_JAX_JIT=0`` in the environment (read at import), ``set_enabled(False)`` or
``with disable():`` make every compiled object run its Python eagerly, with the same results.
"""

from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["set_enabled", "is_enabled", "disable", "enable", "set_stance", "get_stance", "STANCES"]

STANCES = ("default", "force_eager", "fail_on_recompile", "eager_on_recompile")


class _Switch(threading.local):
    def __init__(self):
        self.enabled = os.environ.get("MINITORCH_JAX_JIT", "1").strip().lower() not in ("0", "false", "off",
                                                                                       "no")
        self.stance = "default"


SWITCH = _Switch()


def set_enabled(flag: bool) -> None:
    """Turn compilation on (True) or off (False) for every ``mt.jit``/``mt.compile`` object in this
    thread; while off they run their Python eagerly (pdb, print and exceptions work as usual)."""
    SWITCH.enabled = bool(flag)


def is_enabled() -> bool:
    """Whether ``mt.jit`` objects compile (False under ``MINITORCH_JAX_JIT=0`` or ``disable()``)."""
    return SWITCH.enabled and SWITCH.stance != "force_eager"


@contextlib.contextmanager
def disable():
    """Context manager: run every compiled object eagerly inside the block."""
    old = SWITCH.enabled
    SWITCH.enabled = False
    try:
        yield
    finally:
        SWITCH.enabled = old


@contextlib.contextmanager
def enable():
    """Context manager: compile inside the block even if compilation was switched off."""
    old = SWITCH.enabled
    SWITCH.enabled = True
    try:
        yield
    finally:
        SWITCH.enabled = old


class _Stance(contextlib.ContextDecorator):
    def __init__(self, stance: str):
        if stance not in STANCES:
            raise ValueError(f"mt.jit.set_stance(): unknown stance {stance!r}; expected one of {STANCES}")
        self.old = SWITCH.stance
        SWITCH.stance = stance
        self.stance = stance

    def __enter__(self):
        SWITCH.stance = self.stance
        return self

    def __exit__(self, *exc):
        SWITCH.stance = self.old
        return False


def set_stance(stance: str = "default"):
    """Set how compiled objects behave (also usable as a context manager or decorator).

    Args:
        stance: 'default' (compile, recompile when a guard fails), 'force_eager' (never compile:
            run the Python), 'fail_on_recompile' (raise instead of compiling again once a program
            exists), 'eager_on_recompile' (run eagerly instead of compiling again).
    """
    return _Stance(stance)


def get_stance() -> str:
    """The current stance (see :func:`set_stance`)."""
    return SWITCH.stance
