"""``mt.random``: the default generator's seeding and state, as ``torch.random``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = ["default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state", "thread_safe_generator"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None) -> Iterator[None]:
    """A context in which the default generator may be used freely: its state is restored on exit.

    Args:
        devices: accepted for torch compatibility (there is one generator for all devices).
        enabled: if False, the context does nothing.

    Example::

        >>> with mt.random.fork_rng():
        ...     mt.manual_seed(0); a = mt.rand(3)
        >>> # the default generator is back where it was
    """
    if not enabled:
        yield
        return
    gen = default_generator
    saved = (gen._key, gen._seed)  # arrays are immutable: keeping the references is a snapshot
    try:
        yield
    finally:
        gen._key, gen._seed = saved


def thread_safe_generator():
    """A thread-safe generator for DataLoader thread workers, else ``None`` (use the global generator).

    minitorch_jax's DataLoader workers are processes (never threads), so this always returns ``None``
    here, as torch does in the main process and in process workers.
    """
    return None
