"""Shape ops: view/reshape, permute/transpose, squeeze/unsqueeze, expand, cat/stack, split ..."""

from __future__ import annotations
