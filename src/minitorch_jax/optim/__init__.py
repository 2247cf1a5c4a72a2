"""``mt.optim``: torch-style optimizers built on optax, and ``lr_scheduler``."""

from __future__ import annotations
