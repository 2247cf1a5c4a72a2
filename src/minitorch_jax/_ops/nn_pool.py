"""nn.functional kernels: nn_pool (being written)."""

from __future__ import annotations
