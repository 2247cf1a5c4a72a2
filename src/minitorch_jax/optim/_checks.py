"""Hyperparameter checks shared by the optimizers (torch's ValueError messages)."""

from __future__ import annotations

import jax

from .._tensor import Tensor

__all__ = ["check_lr", "check_eps", "check_betas", "check_nonneg", "check_range"]


def _concrete(v):
    """The Python value of ``v``, or None when it cannot be checked (a traced value)."""
    if isinstance(v, Tensor):
        v = v._data
    if isinstance(v, jax.core.Tracer):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def check_lr(lr) -> None:
    """Raise ``ValueError('Invalid learning rate: ...')`` for a negative learning rate."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    v = _concrete(lr)
    if v is not None and not 0.0 <= v:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_eps(eps) -> None:
    """Raise ``ValueError('Invalid epsilon value: ...')`` for a negative epsilon."""
    v = _concrete(eps)
    if v is not None and not 0.0 <= v:
        raise ValueError(f"Invalid epsilon value: {eps}")


def check_betas(betas) -> None:
    """Each beta must lie in [0, 1)."""
    for i, b in enumerate(betas):
        v = _concrete(b)
        if v is not None and not 0.0 <= v < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


def check_nonneg(name: str, value) -> None:
    """Raise ``ValueError('Invalid {name} value: ...')`` for a negative value."""
    v = _concrete(value)
    if v is not None and not 0.0 <= v:
        raise ValueError(f"Invalid {name} value: {value}")


def check_range(name: str, value, lo: float, hi: float) -> None:
    """Raise ``ValueError('Invalid {name} value: ...')`` unless lo <= value <= hi."""
    v = _concrete(value)
    if v is not None and not lo <= v <= hi:
        raise ValueError(f"Invalid {name} value: {value}")
