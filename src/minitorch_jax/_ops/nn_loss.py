"""nn.functional kernels: nn_loss (being written)."""

from __future__ import annotations
