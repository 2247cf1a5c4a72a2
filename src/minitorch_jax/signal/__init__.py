"""``mt.signal``: torch.signal (its one submodule, :mod:`windows`)."""

from __future__ import annotations

from . import windows

__all__ = ["windows"]
