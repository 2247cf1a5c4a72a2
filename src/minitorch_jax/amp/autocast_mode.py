"""``mt.autocast`` / ``mt.amp.autocast``: mixed precision like ``torch.autocast``.

Inside the context, the ops torch's autocast lists for the device type as "lower precision" (matmul,
linear, convolutions, attention ...) cast their float32 inputs to the autocast dtype and return that dtype;
the ops it lists as "float32" (on CUDA: softmax, log_softmax, norms, losses, sums, exp/log ...; on CPU:
losses, linear algebra ...) cast float16/bfloat16 inputs up to float32. Float64 is never cast. The casts are
part of each op's compiled kernel, so gradients flow back to the float32 parameters in float32. Under
``mt.jit`` the autocast state at trace time is compiled in, and a change of it selects another program
(it is part of the guard key).

Autocast applies to the device type given when it is this process's default device type (``'cuda'`` on
a GPU machine, ``'cpu'`` on a CPU-only one); for another device type it warns and does nothing, as torch
does for an unavailable device.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import _autocast_state, _dtype

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available",
           "is_autocast_enabled", "get_autocast_dtype", "get_autocast_gpu_dtype", "get_autocast_cpu_dtype",
           "is_autocast_cpu_enabled"]

_DEVICE_TYPES = ("cpu", "cuda", "xpu", "hpu", "mps", "xla", "mtia", "maia", "ipu", "tpu")
_DEFAULT_DTYPE = {"cuda": "float16", "cpu": "bfloat16", "tpu": "bfloat16", "ipu": "float16",
                  "xla": "bfloat16"}
_ACTIVE: dict = {}  # device type -> mt dtype, for the is_/get_ queries


def _host_type() -> str:
    from .._device import get_default_device
    return get_default_device().type


def switch(device_type: str, dtype=None) -> None:
    """Turn autocast for ``device_type`` on at ``dtype`` (an mt dtype), or off (None), outside an
    :class:`autocast` block (``torch.set_autocast_enabled``/``set_autocast_dtype``). Ops are cast only
    for this process's device type; for another the state is recorded for the queries."""
    if dtype is None:
        _ACTIVE.pop(device_type, None)
        state = _autocast_state.STATE[0]
        if state is not None and state[1] == device_type:
            _autocast_state.STATE[0] = None
        return
    _ACTIVE[device_type] = dtype
    if is_autocast_available(device_type):
        _autocast_state.STATE[0] = (np.dtype(dtype.np), device_type)


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run for ``device_type`` here (the default device's type)."""
    return device_type == _host_type()


class autocast:
    """Context manager (and decorator) running the ops inside in mixed precision (``torch.autocast``).

    Args:
        device_type: ``'cuda'``, ``'cpu'`` ... (the device whose ops are autocast).
        dtype: the lower precision dtype: ``mt.float16`` or ``mt.bfloat16`` (default: float16 for cuda,
            bfloat16 for cpu).
        enabled: False turns autocast off inside (nested regions can switch it off).
        cache_enabled: accepted for torch compatibility (JAX needs no weight-cast cache).
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _dtype.as_dtype(dtype if dtype is not None else _DEFAULT_DTYPE.get(device_type,
                                                                                          "bfloat16"))
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        if self._enabled and not is_autocast_available(device_type):
            warnings.warn(f"User provided device_type of '{device_type}', but this process runs on "
                          f"'{_host_type()}'. Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled and self.fast_dtype.name not in ("float16", "bfloat16"):
            warnings.warn(f"In {device_type} autocast, but the target dtype is not supported "
                          f"({self.fast_dtype.name}; expected float16 or bfloat16). Disabling autocast.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        self._saved = []

    def __enter__(self):
        self._saved.append((_autocast_state.STATE[0], _ACTIVE.get(self.device)))
        if self._enabled:
            _autocast_state.STATE[0] = (np.dtype(self.fast_dtype.np), self.device)
            _ACTIVE[self.device] = self.fast_dtype
        else:
            _autocast_state.STATE[0] = None
            _ACTIVE.pop(self.device, None)
        return self

    def __exit__(self, *exc):
        state, active = self._saved.pop()
        _autocast_state.STATE[0] = state
        if active is None:
            _ACTIVE.pop(self.device, None)
        else:
            _ACTIVE[self.device] = active
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)
        return wrapped


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (default ``'cuda'``, as torch)."""
    return (device_type or "cuda") in _ACTIVE


def get_autocast_dtype(device_type: str):
    """The autocast dtype of ``device_type`` (its default when autocast is off)."""
    return _ACTIVE.get(device_type) or _dtype.as_dtype(_DEFAULT_DTYPE.get(device_type, "bfloat16"))


def get_autocast_gpu_dtype():
    """``get_autocast_dtype('cuda')``."""
    return get_autocast_dtype("cuda")


def get_autocast_cpu_dtype():
    """``get_autocast_dtype('cpu')``."""
    return get_autocast_dtype("cpu")


def is_autocast_cpu_enabled() -> bool:
    """``is_autocast_enabled('cpu')``."""
    return is_autocast_enabled("cpu")


def _cast_floats(value, dt):
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        return value.to(dt) if value.is_floating_point() and value.dtype != _dtype.float64 else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floats(v, dt) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, dt) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom ``autograd.Function.forward`` (``torch.amp.custom_fwd``).

    With ``cast_inputs`` (a dtype) and autocast on for ``device_type``, the forward runs with autocast
    off and its floating tensor arguments cast to ``cast_inputs``; otherwise it runs as is. The
    autocast state is recorded on ``ctx`` for :func:`custom_bwd`.
    """
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(ctx, *args, **kwargs):
        on = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = on
        ctx._autocast_dtype = get_autocast_dtype(device_type)
        if cast_inputs is not None and on:
            with autocast(device_type, enabled=False):
                return fwd(ctx, *_cast_floats(args, cast_inputs), **_cast_floats(kwargs, cast_inputs))
        return fwd(ctx, *args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``autograd.Function.backward`` (``torch.amp.custom_bwd``): the backward runs
    with the autocast state its forward ran with."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        with autocast(device_type, dtype=getattr(ctx, "_autocast_dtype", None),
                      enabled=getattr(ctx, "_fwd_used_autocast", False)):
            return bwd(ctx, *args, **kwargs)
    return decorate_bwd
