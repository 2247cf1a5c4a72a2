"""Turning JAX's tracer errors into messages in the user's terms: which line of their code read
a tensor's value while the function was being compiled, and what to do instead."""

from __future__ import annotations

import linecache
import os

import jax

from .._errors import DataDependentShapeError, TracedValueError

__all__ = ["TRACE_ERRORS", "explain_trace_error", "user_frame"]

TRACE_ERRORS = (TracedValueError, DataDependentShapeError, jax.errors.ConcretizationTypeError,
                jax.errors.TracerArrayConversionError, jax.errors.TracerIntegerConversionError,
                jax.errors.TracerBoolConversionError, jax.errors.NonConcreteBooleanIndexError)

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_JAX = os.path.dirname(os.path.dirname(os.path.abspath(jax.__file__)))


def _is_user_file(filename: str) -> bool:
    f = os.path.abspath(filename)
    if f.startswith(_PKG + os.sep) or f.startswith(_JAX + os.sep + "jax") or "site-packages" in f:
        return False
    return not f.startswith(os.path.dirname(os.__file__) + os.sep) and not filename.startswith("<frozen")


def user_frame(tb):
    """``(filename, lineno, source line)`` of the innermost frame of ``tb`` in the user's code."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_user_file(code.co_filename):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    line = linecache.getline(found[0], found[1]).strip()
    return found[0], found[1], line


_KINDS = {"bool": "a tensor was used as a Python bool (`if tensor:`, `while`, `and`/`or`, bool(t))",
          "int": "a tensor was used as a Python int (int(t), an index, a range bound)",
          "index": "a tensor was used as a Python int (int(t), an index, a range bound)",
          "float": "a tensor's value was read in Python (float(t))",
          "item": "a tensor's value was read in Python (.item())",
          "tolist": "a tensor's value was read in Python (.tolist())",
          "numpy": "a tensor was converted to numpy (.numpy(), np.asarray(t), printing a value)"}


def _what(e: Exception) -> str:
    if isinstance(e, TracedValueError):
        return _KINDS.get(e.kind, str(e))
    if isinstance(e, jax.errors.TracerBoolConversionError):
        return "a tensor was used as a Python bool (`if tensor:`, `while`, `and`/`or`, bool(t))"
    if isinstance(e, jax.errors.TracerIntegerConversionError):
        return "a tensor was used as a Python int (int(t), an index, a range bound)"
    if isinstance(e, jax.errors.TracerArrayConversionError):
        return "a tensor was converted to numpy (.numpy(), np.asarray(t), .tolist())"
    if isinstance(e, DataDependentShapeError):
        return (f"{e.op} gives a result whose shape depends on the data (t[mask], nonzero, unique, "
                "masked_select)")
    if isinstance(e, jax.errors.NonConcreteBooleanIndexError):
        return "a boolean mask selects a data-dependent number of elements (t[mask], nonzero, masked_select)"
    return "a tensor's value was read in Python (.item(), float(t), .tolist(), print of a value)"


_DATA_SHAPED = (DataDependentShapeError, jax.errors.NonConcreteBooleanIndexError)
_SHAPE_REMEDY = ("  - keep the shape fixed: mt.where(mask, x, 0) or x.masked_fill(~mask, 0) instead of "
                 "x[mask]; a masked mean as (x * mask).sum() / mask.sum(); a loss's ignore_index, or "
                 "reduction='none' times the mask;\n")


def explain_trace_error(name: str, e: Exception):
    """A :class:`JitError` saying where the user's code read a traced value and what to do."""
    from ._compiled import JitError
    where = user_frame(e.__traceback__)
    loc = f" at {where[0]}:{where[1]}: `{where[2]}`" if where else ""
    msg = (f"mt.jit({name}): {_what(e)}{loc}.\n"
           "While a function is compiled its tensors have no values yet, so Python cannot branch on them "
           "or convert them, and no result's shape may depend on them. Do one of:\n"
           f"{_SHAPE_REMEDY if isinstance(e, _DATA_SHAPED) else ''}"
           "  - keep it a tensor: mt.where(cond, a, b) instead of `if`, mt.cond / mt.while_loop / mt.scan "
           "for compiled control flow;\n"
           "  - make the value static: pass it as a Python number or list it in static_argnums;\n"
           "  - return the tensor and read its value outside the compiled function;\n"
           "  - run this function eagerly: mt.jit(fn, fallback='eager'), `with mt.jit.disable():`, or "
           "MINITORCH_JAX_JIT=0.")
    err = JitError(msg)
    err.__cause__ = None
    err.user_location = where
    return err
