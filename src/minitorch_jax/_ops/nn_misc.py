"""nn.functional kernels: nn_misc (being written)."""

from __future__ import annotations
