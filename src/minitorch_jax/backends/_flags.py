"""Helpers shared by the ``mt.backends`` modules: bool checks and the module-with-properties pattern."""

from __future__ import annotations

import sys
import types

__all__ = ["need_bool", "PropModule", "install", "tf32_allowed", "set_tf32"]


def need_bool(value, setter: str) -> bool:
    """Return ``value`` if it is a bool, else raise torch's ``RuntimeError`` ("<setter> expects a bool")."""
    if type(value) is not bool:
        raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
    return value


class PropModule(types.ModuleType):
    """A module whose class carries properties, so ``mt.backends.x.flag = v`` runs a setter (as torch's)."""


def install(module_name: str, cls: type) -> None:
    """Give the module ``module_name`` the class ``cls`` (a :class:`PropModule` subclass)."""
    sys.modules[module_name].__class__ = cls


def tf32_allowed() -> bool:
    """Whether float32 matmuls/convolutions may use reduced precision (precision is not 'highest')."""
    from .._precision import get_float32_matmul_precision
    return get_float32_matmul_precision() != "highest"


def set_tf32(flag: bool) -> None:
    """``allow_tf32 = True`` is ``set_float32_matmul_precision('high')``; False is 'highest'."""
    from .._precision import set_float32_matmul_precision
    set_float32_matmul_precision("high" if flag else "highest")
