"""Printing tensors the way torch does: ``repr(t)``, ``mt.set_printoptions``, ``mt.get_printoptions``.

The layout rules were found by experiment against torch 2.x and are reproduced here:

* floats: when every finite nonzero value is an integer they print as ``1.`` (``int mode``);
  otherwise with ``precision`` decimals. Scientific notation is chosen when the largest finite
  nonzero magnitude over the smallest exceeds 1000, the largest exceeds 1e8, or (not in int mode)
  the smallest is below 1e-4; ``sci_mode`` overrides that choice. The column width comes from the
  finite nonzero values only (so ``nan`` can stick out, and an all-zero tensor has width 1).
* complex: real and imaginary parts get their own formatter; the imaginary part is unpadded.
* a 1-D row holds ``(linewidth - indent) // (width + 2)`` elements per line; dimensions nest with
  one extra space of indent and ``dim - 1`` blank lines between blocks.
* above ``threshold`` elements only ``edgeitems`` at each end of every dimension are shown, with
  ``...`` between; the formatter then only sees the shown values.
* suffixes (``device=``, ``size=``, ``dtype=``, ``grad_fn=``/``requires_grad=``) go on the last
  line while they fit ``linewidth``, else on a new line indented under the opening bracket.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import _dtype

__all__ = ["get_printoptions", "set_printoptions"]

_PREFIX = "tensor("
_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_OPTS: dict = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set the options used to print tensors, as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point for floats (default 4).
        threshold: tensors with more elements than this are summarized (default 1000).
        edgeitems: items shown at the start and end of each dimension when summarized (default 3).
        linewidth: characters per line used to wrap rows and suffixes (default 80).
        profile: ``'default'``, ``'short'`` (precision 2, edgeitems 2) or ``'full'`` (never
            summarize); applied first, then the explicit arguments override it. Other names are
            ignored, as in torch.
        sci_mode: True forces scientific notation, False forbids it, None (the default) lets the
            values decide. Note that, as in torch, every call sets it (omitting it resets it to None).

    Example::

        >>> mt.set_printoptions(precision=2)
        >>> mt.tensor([1.12345])
        tensor([1.12])
        >>> mt.set_printoptions(profile='default')
    """
    if profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[key] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict with keys precision, threshold, edgeitems, linewidth,
    sci_mode (a copy: changing it has no effect; use :func:`set_printoptions`)."""
    return dict(_OPTS)


class _Formatter:
    """Turns the values of one (real) array into equal-width strings.

    Built from every value that will be shown, so that all of them line up in columns.
    """

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:  # ints and bools print as Python prints them
            self.width = max([len(str(v)) for v in values.tolist()], default=1)
            return
        shown = values[np.isfinite(values) & (values != 0)]
        if shown.size == 0:
            return
        mag = np.abs(shown)
        lo, hi = float(mag.min()), float(mag.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
        if _OPTS["sci_mode"] is not None:
            self.sci_mode = bool(_OPTS["sci_mode"])
        self.width = max(len(self._text(v)) for v in shown.tolist())

    def _text(self, v) -> str:
        if not self.floating:
            return str(v)
        if self.sci_mode:
            return f"{v:.{_OPTS['precision']}e}"
        if self.int_mode:
            s = f"{v:.0f}"
            return s + "." if math.isfinite(v) else s
        return f"{v:.{_OPTS['precision']}f}"

    def format(self, v) -> str:
        """``v`` (a Python number) right-aligned to this formatter's width."""
        return self._text(v).rjust(self.width)


def _element(v, fmts) -> str:
    if len(fmts) == 1:
        return fmts[0].format(v)
    real = fmts[0].format(v.real)
    imag = (fmts[1].format(v.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _rows(n: int, summarize: bool):
    """Indices shown along a dimension of size n; None marks the elided middle."""
    edge = _OPTS["edgeitems"]
    if summarize and n > 2 * edge:
        return itertools.chain(range(edge), [None], range(n - edge, n))
    return range(n)


def _shown_values(a: np.ndarray, summarize: bool) -> np.ndarray:
    """Flat array of the values that will be printed (all of them unless summarized)."""
    if not summarize or a.ndim == 0:
        return a.reshape(-1)
    if a.ndim == 1:
        return a[[i for i in _rows(a.shape[0], True) if i is not None]]
    return np.concatenate([_shown_values(a[i], True) for i in _rows(a.shape[0], True) if i is not None])


def _vector(a: np.ndarray, indent: int, summarize: bool, fmts) -> str:
    width = fmts[0].width + 2 + (fmts[1].width + 1 if len(fmts) == 2 else 0)
    per_line = max(1, int(math.floor((_OPTS["linewidth"] - indent) / width)))
    vals = a.tolist()
    items = [" ..." if i is None else _element(vals[i], fmts) for i in _rows(len(vals), summarize)]
    lines = [", ".join(items[k:k + per_line]) for k in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmts) -> str:
    if a.ndim == 0:
        return _element(a.item(), fmts)
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmts)
    parts = ["..." if i is None else _nested(a[i], indent + 1, summarize, fmts)
             for i in _rows(a.shape[0], summarize)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(a: np.ndarray, dt: _dtype.dtype, indent: int) -> str:
    """The bracketed values of a non-empty array."""
    summarize = a.size > _OPTS["threshold"]
    if summarize and _OPTS["edgeitems"] == 0:
        return "[...]"
    if dt.is_complex:
        a = a.astype(np.complex128)
        shown = _shown_values(a, summarize)
        fmts = (_Formatter(shown.real.copy()), _Formatter(shown.imag.copy()))
    else:
        if dt.is_floating_point:  # float16/bfloat16 become float32 first, as in torch
            a = a.astype(np.float64 if dt is _dtype.float64 else np.float32).astype(np.float64)
        fmts = (_Formatter(_shown_values(a, summarize)),)
    return _nested(a, indent, summarize, fmts)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    out = [text]
    # torch counts the last line two characters longer than it is, and suffixes as torch spells
    # them ('torch.float64'): mirrored so that lines break exactly where torch breaks them.
    line_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        n = len(s.replace("minitorch_jax.", "torch."))
        if line_len + n + 2 > _OPTS["linewidth"]:
            out.append(",\n" + " " * indent + s)
            line_len = indent + n
        else:
            out.append(", " + s)
            line_len += n + 2
    return "".join(out)


def _default_dtypes() -> tuple:
    d = _dtype.get_default_dtype()
    return (d, _dtype.complex128 if d is _dtype.float64 else _dtype.complex64, _dtype.int64, _dtype.bool)


def _host(t):
    """The tensor's values as numpy, or None while it is being traced by jax.jit."""
    import jax

    try:
        return np.asarray(t._data)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def tensor_repr(t) -> str:
    """``repr(t)`` / ``str(t)``: exactly torch's text with ``torch.`` spelled ``minitorch_jax.``.

    Honours :func:`set_printoptions`. A tensor traced inside ``mt.jit`` has no values and prints
    as ``tensor(<traced>, size=..., dtype=...)``.
    """
    indent = len(_PREFIX)
    dt = t.dtype
    shape = tuple(t.shape)
    suffixes = []
    dev = t.device
    if dev.type == "meta":  # no values: torch prints the shape, and the dtype unless the default
        suffixes += ["device='meta'", f"size={shape}"]
        if dt is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dt}")
        return _add_suffixes(_PREFIX + "...", suffixes + _grad_suffix(t), indent) + ")"
    if dev.type != "cpu":
        suffixes.append(f"device='{dev.type}:{dev.index or 0}'")
    a = _host(t)
    if a is None:
        body = "<traced>"
        suffixes += [f"size={shape}", f"dtype={dt}"]
    elif a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={shape}")
        if dt is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dt}")
    else:
        if _OPTS["edgeitems"] == 0:
            suffixes.append(f"size={shape}")
        if dt not in _default_dtypes():
            suffixes.append(f"dtype={dt}")
        body = _body(a, dt, indent)
    return _add_suffixes(_PREFIX + body, suffixes + _grad_suffix(t), indent) + ")"


def _grad_suffix(t) -> list:
    if t.grad_fn is not None:
        return [f"grad_fn=<{type(t.grad_fn).__name__}>"]
    return ["requires_grad=True"] if t.requires_grad else []
