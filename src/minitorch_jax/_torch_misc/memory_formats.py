"""``mt.memory_format`` and its objects (``contiguous_format``, ``channels_last`` ...): accepted where torch
accepts them; JAX arrays have no strides, so values never change."""

from __future__ import annotations

import builtins

from .named_constant import _PKG, NamedConstant

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


# ----- memory formats ------------------------------------------------------------------------
class memory_format(NamedConstant):
    """A memory layout request, like ``torch.memory_format`` (``mt.channels_last`` ...).

    JAX arrays have no user-visible strides (XLA picks layouts), so every format is accepted where
    torch takes one and values are never changed; the rank checks torch makes are kept. The four
    instances are the only ones: calling ``memory_format()`` raises TypeError.
    """


memory_format.__module__ = _PKG
contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")
_FORMAT_RANK = {"channels_last": 4, "channels_last_3d": 5}


def _check_memory_format(fmt, op: str, ndim: int | None = None) -> None:
    """Validate a ``memory_format=`` argument of ``op`` the way torch does (layouts are not applied).

    ``None`` passes. Raises TypeError when ``fmt`` is not a :class:`memory_format`, and (given the
    tensor's ``ndim``) RuntimeError when ``channels_last`` meets a non-4-D or ``channels_last_3d``
    a non-5-D tensor.
    """
    if fmt is None:
        return
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be {_PKG}.memory_format, "
                        f"not {type(fmt).__name__}")
    rank = _FORMAT_RANK.get(fmt._name)
    if rank is not None and ndim is not None and ndim != rank:
        raise RuntimeError(f"{op}(): required rank {rank} tensor to use {fmt._name} format "
                           f"(got a {ndim}-D tensor)")


def _is_contiguous_as(fmt, ndim: int) -> builtins.bool:
    """``Tensor.is_contiguous(memory_format=fmt)``: True, except channels_last(_3d) on the wrong rank
    (False, as torch answers). JAX arrays are dense, so any layout counts as satisfied."""
    _check_memory_format(fmt, "is_contiguous")
    rank = _FORMAT_RANK.get(fmt._name) if fmt is not None else None
    return rank is None or ndim == rank
