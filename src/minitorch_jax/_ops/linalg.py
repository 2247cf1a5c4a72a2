"""Matrix products and linear algebra: matmul, mm, bmm, einsum, ... (float32 precision honoured)."""

from __future__ import annotations
