"""nn.functional kernels: nn_sampling (being written)."""

from __future__ import annotations
