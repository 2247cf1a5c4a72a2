"""``mt.backends.opt_einsum``: the einsum contraction-order switches, as ``torch.backends.opt_einsum``.

``enabled`` and ``strategy`` ('auto', 'greedy' or 'optimal') are recorded only: ``jax.numpy.einsum``
always optimises the contraction order with the ``opt_einsum`` package JAX depends on.
"""

from __future__ import annotations

from . import _flags

__all__ = ["is_available", "get_opt_einsum"]

_STRATEGIES = ("auto", "greedy", "optimal")
_state = {"enabled": None, "strategy": "auto"}


def is_available() -> bool:
    """Whether the ``opt_einsum`` package can be imported."""
    try:
        import opt_einsum  # noqa: F401
    except ImportError:
        return False
    return True


def get_opt_einsum():
    """The ``opt_einsum`` module, or None when it is not installed."""
    try:
        import opt_einsum
    except ImportError:
        return None
    return opt_einsum


class _OptEinsumModule(_flags.PropModule):
    @property
    def enabled(self) -> bool:
        """Whether einsum optimises its contraction order (default: when opt_einsum is installed)."""
        return is_available() if _state["enabled"] is None else _state["enabled"]

    @enabled.setter
    def enabled(self, value):
        if type(value) is not bool:
            raise ValueError(f"opt_einsum.enabled expects a bool, but got {type(value).__name__}")
        if value and not is_available():
            raise ValueError("opt_einsum.enabled cannot be True: the opt_einsum package is not installed")
        _state["enabled"] = value

    @property
    def strategy(self):
        """'auto', 'greedy' or 'optimal' (None while ``enabled`` is False)."""
        return _state["strategy"] if self.enabled else None

    @strategy.setter
    def strategy(self, value):
        if value not in _STRATEGIES:
            raise ValueError(f"opt_einsum.strategy must be one of {_STRATEGIES}, but got {value!r}")
        if not self.enabled:
            raise ValueError("opt_einsum.strategy cannot be set while opt_einsum.enabled is False")
        _state["strategy"] = value


_flags.install(__name__, _OptEinsumModule)
