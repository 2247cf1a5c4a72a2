"""The map-style dataset of tests/test_program_data_pipeline.py that DataLoader workers load.

It lives in its own small module (numpy + minitorch_jax only, as in a real project's ``data.py``) so a
worker process unpickling it does not have to import the test module and, with it, real torch.
"""

from __future__ import annotations

import minitorch_jax as mt


class ArrayPairs:
    """Map-style dataset over numpy arrays: sample ``i`` is ``{"x": x[i], "y": y[i], "index": i}``."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "y": self.y[i], "index": i}


class MtPairs(ArrayPairs, mt.utils.data.Dataset):
    """``ArrayPairs`` as a minitorch_jax ``Dataset``."""
