"""``set_multithreading_enabled`` / ``is_multithreading_enabled``: torch's switch for running backward
on several threads. Backward here is one traced/compiled JAX computation per node, run in order, and
JAX spreads each over its own threads, so the switch is recorded and has no other effect."""

from __future__ import annotations

__all__ = ["set_multithreading_enabled", "is_multithreading_enabled"]

_ENABLED = [True]


def is_multithreading_enabled() -> bool:
    """What :class:`set_multithreading_enabled` last set (default True, as in torch)."""
    return _ENABLED[0]


class set_multithreading_enabled:  # noqa: N801 - torch's name
    """Set the multithreaded-backward switch, now and (used with ``with``) until the block ends.

    Args:
        mode: the new value.
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _ENABLED[0]
        self.mode = bool(mode)
        _ENABLED[0] = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _ENABLED[0] = self.prev
        return False

    def clone(self) -> set_multithreading_enabled:
        """A new switch setting the same mode."""
        return set_multithreading_enabled(self.mode)
