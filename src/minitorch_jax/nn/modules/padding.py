"""Padding layers: constant/zero, reflection, replication and circular padding (1d-3d)."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _expand(padding, nd):
    return tuple(padding) if isinstance(padding, (list, tuple)) else (padding,) * (2 * nd)


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _expand(padding, self._nd)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name, base, nd, mode, doc):
    return type(name, (base,), {"_nd": nd, "_mode": mode, "__doc__": doc, "__module__": __name__})


_DOC = """Pads the last {nd} dim(s) of the input ({what}).

    Args:
        padding: an int (all sides) or a {n}-tuple ``(left, right{more})``{extra}.

    Shape: ``(N, C, *in)`` or ``(C, *in)``; each padded dim grows by its two paddings.
    """
_MORE = {1: "", 2: ", top, bottom", 3: ", top, bottom, front, back"}

ConstantPad1d, ConstantPad2d, ConstantPad3d = (
    _make(f"ConstantPad{n}d", _ConstantPadNd, n, "constant",
          _DOC.format(nd=n, n=2 * n, more=_MORE[n], what="with a constant value",
                      extra="; value: the fill value")) for n in (1, 2, 3))


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


ZeroPad1d, ZeroPad2d, ZeroPad3d = (
    _make(f"ZeroPad{n}d", _ZeroPadNd, n, "constant",
          _DOC.format(nd=n, n=2 * n, more=_MORE[n], what="with zeros", extra="")) for n in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (
    _make(f"ReflectionPad{n}d", _PadNd, n, "reflect",
          _DOC.format(nd=n, n=2 * n, more=_MORE[n], what="reflecting at the border, edge not repeated",
                      extra="; each < the padded dim")) for n in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (
    _make(f"ReplicationPad{n}d", _PadNd, n, "replicate",
          _DOC.format(nd=n, n=2 * n, more=_MORE[n], what="repeating the edge values", extra=""))
    for n in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (
    _make(f"CircularPad{n}d", _PadNd, n, "circular",
          _DOC.format(nd=n, n=2 * n, more=_MORE[n], what="wrapping around", extra="; each <= the padded dim"))
    for n in (1, 2, 3))
