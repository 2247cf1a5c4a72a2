"""Printing tensors the way torch does."""

from __future__ import annotations

import numpy as np


def tensor_repr(t) -> str:
    """Placeholder until the torch-identical printer lands."""
    return f"tensor({np.asarray(t._data)!r}, dtype={t.dtype})"
