"""Complex-number ops: conj, real/imag, angle, view_as_real/complex."""

from __future__ import annotations
