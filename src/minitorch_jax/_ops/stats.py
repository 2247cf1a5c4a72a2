"""Statistics and combinatorics over tensors: diff, histc, bincount, cov, corrcoef, meshgrid, cdist ..."""

from __future__ import annotations
