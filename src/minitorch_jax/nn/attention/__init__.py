"""``mt.nn.attention``: choosing the scaled-dot-product-attention backend, ``bias`` and ``flex_attention``.

``sdpa_kernel(backends)`` records the choice in the same switches as ``mt.backends.cuda``
(``flash_sdp_enabled()`` ...) and restores them on exit, as torch does. It does not change what runs:
XLA compiles ``F.scaled_dot_product_attention`` into its own fused kernel on every device, so the
backend names are bookkeeping only and a choice torch would reject on a given device never raises
here. The flash-attention implementation registry (``register_flash_attention_impl`` ...) keeps torch's
names and errors, with no implementation behind them (activating one only records its name).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from ...backends import cuda as _cuda
from ...backends.cuda import SDPBackend
from . import bias, flex_attention  # noqa: F401

__all__ = [
    "SDPBackend",
    "sdpa_kernel",
    "WARN_FOR_UNFUSED_KERNELS",
    "register_flash_attention_impl",
    "activate_flash_attention_impl",
    "list_flash_attention_impls",
    "current_flash_attention_impl",
    "restore_flash_attention_impl",
]

WARN_FOR_UNFUSED_KERNELS = False
"""torch's flag for warning when SDPA falls back to an unfused kernel (recorded only: XLA always fuses)."""

_SWITCH = {
    SDPBackend.MATH: "math",
    SDPBackend.FLASH_ATTENTION: "flash",
    SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
    SDPBackend.CUDNN_ATTENTION: "cudnn",
}
_DEFAULT_PRIORITY = [
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.MATH,
    SDPBackend.CUDNN_ATTENTION,
    SDPBackend.OVERRIDEABLE,
]
_state = {"priority": list(_DEFAULT_PRIORITY), "backends": list(_DEFAULT_PRIORITY)}


def _current_backends() -> list:
    """The SDPA backends currently enabled (those whose switch is on)."""
    return [b for b, name in _SWITCH.items() if _cuda._sdp[name]]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Context manager selecting the backends ``F.scaled_dot_product_attention`` may use.

    Args:
        backends: one :class:`SDPBackend` or a list of them; only these are enabled in the block.
        set_priority: also record the list's order as the backends' priority.

    The choice is recorded (``mt.backends.cuda.flash_sdp_enabled()`` etc. see it) and restored on
    exit; the computation itself is XLA's fused attention whatever is chosen.
    """
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, Iterable) or isinstance(backends, (str, bytes)):
        raise AssertionError(
            f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
            f"got {type(backends).__name__}"
        )
    backends = list(backends)
    for b in backends:
        if not isinstance(b, SDPBackend):
            raise AssertionError(
                f"Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
                f"got {type(b).__name__}"
            )
    old_sdp, old_state = dict(_cuda._sdp), {k: list(v) for k, v in _state.items()}
    try:
        for b, name in _SWITCH.items():
            _cuda._sdp[name] = b in backends
        _state["backends"] = backends
        if set_priority:
            _state["priority"] = backends + [b for b in _state["priority"] if b not in backends]
        yield {}
    finally:
        _cuda._sdp.clear()
        _cuda._sdp.update(old_sdp)
        _state.update(old_state)


# ----- flash-attention implementation registry (names only) ----------------------------------
_FLASH_IMPLS: dict = {"FA3": None, "FA4": None}
_flash = {"current": None}


def register_flash_attention_impl(impl, *, register_fn) -> None:
    """Register the callable that activates the flash-attention implementation named ``impl``.

    Recorded only: XLA's attention is used whatever is registered or activated.
    """
    if not callable(register_fn):
        raise TypeError(f"register_flash_attention_impl(): register_fn must be callable, got {register_fn!r}")
    _FLASH_IMPLS[str(impl)] = register_fn


def list_flash_attention_impls() -> list:
    """The names of the flash-attention implementations known (``['FA3', 'FA4']`` plus registered ones)."""
    return list(_FLASH_IMPLS)


def activate_flash_attention_impl(impl) -> None:
    """Activate a registered flash-attention implementation by name (recorded only)."""
    if impl not in _FLASH_IMPLS:
        raise ValueError(
            f"Unknown flash attention impl {impl!r}. Available implementations: {list(_FLASH_IMPLS)}"
        )
    _flash["current"] = impl


def current_flash_attention_impl():
    """The name of the activated flash-attention implementation, or None (the default)."""
    return _flash["current"]


def restore_flash_attention_impl(_raise_warn: bool = True) -> None:
    """Go back to the default flash-attention implementation."""
    _flash["current"] = None
