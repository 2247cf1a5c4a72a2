"""``mt.cuda.amp`` and ``mt.cpu.amp``: torch's device-specific (deprecated) spellings of autocast and
GradScaler, with the device type fixed."""

from __future__ import annotations

import types
import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def make(device_type: str) -> types.ModuleType:
    """The ``<device>.amp`` module for ``device_type``."""
    mod = types.ModuleType(f"minitorch_jax.{device_type}.amp", f"mt.{device_type}.amp: autocast and "
                           f"GradScaler for '{device_type}' (torch.{device_type}.amp).")
    default = "float16" if device_type == "cuda" else "bfloat16"

    class autocast(_autocast):
        """``torch.{device}.amp.autocast(enabled=True, dtype=..., cache_enabled=True)``: deprecated in
        torch in favour of ``torch.autocast('{device}', ...)``, which this is."""

        def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
            warnings.warn(f"`torch.{device_type}.amp.autocast(args...)` is deprecated. Please use "
                          f"`torch.amp.autocast('{device_type}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device_type, dtype=dtype or default, enabled=enabled,
                             cache_enabled=cache_enabled)

    mod.autocast = autocast
    if device_type == "cuda":
        class GradScaler(_GradScaler):
            """``torch.cuda.amp.GradScaler(...)``: ``mt.amp.GradScaler('cuda', ...)``."""

            def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                         growth_interval=2000, enabled=True):
                super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)

        mod.GradScaler = GradScaler
    mod.__all__ = [n for n in ("autocast", "GradScaler") if hasattr(mod, n)]
    return mod
