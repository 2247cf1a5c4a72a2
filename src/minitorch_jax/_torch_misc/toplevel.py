"""torch top-level names beside the op table: function forms of Tensor predicates, the anomaly-mode and
autocast switches, build flags, error classes and the ``sym_*`` helpers on plain Python numbers.

Imports only ``_dtype`` and ``_tensor`` at load time (this package loads before the op table); anything
else is imported inside the functions.

Differences from torch:

- ``OutOfMemoryError`` / ``AcceleratorError`` are the classes only: JAX reports running out of device memory
  as ``jax.errors.JaxRuntimeError`` (``RESOURCE_EXHAUSTED``), which is not translated; catch that as well.
- The autocast weight-cast cache does not exist (JAX needs none): ``set_autocast_cache_enabled`` only records
  the flag, ``clear_autocast_cache`` does nothing. The nesting counter is kept as torch keeps it.
- ``is_inference`` is always False (inference tensors are not tracked, as ``Tensor.is_inference``).
- ``sym_*`` take plain Python (and numpy) numbers only: there are no symbolic sizes here.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .._tensor import Tensor

# GradScaler comes from the module __getattr__ below (mt.amp loads later)
__all__ = ["is_signed", "is_inference", "get_device", "GradScaler", "OutOfMemoryError", "AcceleratorError",  # noqa: F822
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_anomaly_enabled",
           "set_autocast_enabled", "set_autocast_dtype", "set_autocast_cpu_enabled", "set_autocast_cpu_dtype",
           "set_autocast_gpu_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled",
           "clear_autocast_cache", "autocast_increment_nesting", "autocast_decrement_nesting",
           "has_lapack", "has_mkl", "has_openmp", "has_spectral",
           "sym_int", "sym_float", "sym_max", "sym_min", "sym_not", "sym_sqrt", "sym_sum", "sym_ite"]


# ----- function forms of Tensor predicates --------------------------------------------------------
def _need_tensor(fn: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def is_signed(input) -> bool:
    """Whether ``input``'s dtype is signed (every float and complex dtype, and int8..int64)."""
    _need_tensor("is_signed", input)
    return input.is_signed()


def is_inference(input) -> bool:
    """Whether ``input`` is an inference tensor: always False here, as ``Tensor.is_inference`` (inference
    tensors are not tracked; tensors made under ``mt.inference_mode()`` are ordinary tensors)."""
    _need_tensor("is_inference", input)
    return input.is_inference()


def get_device(input) -> int:
    """The device ordinal of ``input``: the accelerator index, or -1 for a CPU tensor."""
    _need_tensor("get_device", input)
    return input.get_device()


# ----- error classes --------------------------------------------------------------------------------
class OutOfMemoryError(RuntimeError):
    """torch's out-of-memory error class (``torch.OutOfMemoryError``, also ``torch.cuda.OutOfMemoryError``).

    JAX raises ``jax.errors.JaxRuntimeError`` with ``RESOURCE_EXHAUSTED`` when device memory runs out;
    that error is not translated into this class.
    """


class AcceleratorError(RuntimeError):
    """torch's error class for accelerator (device runtime) failures (``torch.AcceleratorError``)."""


def __getattr__(name):
    if name == "GradScaler":  # mt.amp loads after this module; the alias is looked up on use
        from ..amp import GradScaler
        return GradScaler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----- anomaly mode ---------------------------------------------------------------------------------
def is_anomaly_enabled() -> bool:
    """Whether autograd anomaly detection is on (see ``mt.autograd.detect_anomaly``)."""
    from .._autograd_graph import ANOMALY
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also raises on NaN produced by a backward function."""
    from .._autograd_graph import ANOMALY
    return ANOMALY.check_nan


def set_anomaly_enabled(enabled, check_nan=True) -> None:
    """Turn autograd anomaly detection on or off, process-wide.

    Args:
        enabled: True to record forward stacks and report them when a backward fails.
        check_nan: also raise when a backward function returns NaN.
    """
    if not isinstance(enabled, bool) or not isinstance(check_nan, bool):
        raise TypeError(f"set_anomaly_enabled(): arguments must be bool, got enabled={enabled!r}, "
                        f"check_nan={check_nan!r}")
    from .._autograd_graph import ANOMALY
    ANOMALY.enabled = enabled
    ANOMALY.check_nan = check_nan


# ----- autocast switches ----------------------------------------------------------------------------
_AUTOCAST_DEVICES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                     "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone", "tpu")
_CACHE = [True]
_NESTING = [0]


def _device_type(fn: str, device_type) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{fn}(): argument 'device_type' must be str, not {type(device_type).__name__}")
    if device_type not in _AUTOCAST_DEVICES:
        raise RuntimeError(f"Expected one of {', '.join(_AUTOCAST_DEVICES)} device type at start of device "
                           f"string: {device_type}")
    return device_type


def set_autocast_enabled(*args) -> None:
    """Turn autocast on or off for a device type outside an ``mt.autocast`` block.

    ``set_autocast_enabled(device_type, enabled)``, or the legacy ``set_autocast_enabled(enabled)`` for
    ``'cuda'``. Ops are autocast only for this process's default device type, as with ``mt.autocast``;
    for another type the flag is only recorded (``is_autocast_enabled`` reports it).
    """
    if len(args) == 1 and isinstance(args[0], bool):
        device_type, enabled = "cuda", args[0]
    elif len(args) == 2 and isinstance(args[1], bool):
        device_type, enabled = _device_type("set_autocast_enabled", args[0]), args[1]
    else:
        raise TypeError(f"set_autocast_enabled() received an invalid combination of arguments - got "
                        f"{tuple(type(a).__name__ for a in args)}, but expected one of: (str device_type, "
                        f"bool enabled) or (bool enabled)")
    from ..amp import autocast_mode
    autocast_mode.switch(device_type, autocast_mode.get_autocast_dtype(device_type) if enabled else None)


def set_autocast_dtype(device_type, dtype) -> None:
    """Set the lower-precision dtype autocast uses for ``device_type`` (also the default of later
    ``mt.autocast(device_type)`` blocks that give no dtype)."""
    from .. import _dtype
    from ..amp import autocast_mode
    device_type = _device_type("set_autocast_dtype", device_type)
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be torch.dtype, not "
                        f"{type(dtype).__name__}")
    autocast_mode._DEFAULT_DTYPE[device_type] = dtype.name
    if device_type in autocast_mode._ACTIVE:
        autocast_mode.switch(device_type, dtype)


def set_autocast_cpu_enabled(enabled) -> None:
    """``set_autocast_enabled('cpu', enabled)`` (deprecated in torch)."""
    set_autocast_enabled("cpu", enabled)


def set_autocast_cpu_dtype(dtype) -> None:
    """``set_autocast_dtype('cpu', dtype)`` (deprecated in torch)."""
    set_autocast_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype) -> None:
    """``set_autocast_dtype('cuda', dtype)`` (deprecated in torch)."""
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether the autocast weight-cast cache is on (a recorded flag: JAX needs no such cache)."""
    return _CACHE[0]


def set_autocast_cache_enabled(enabled) -> None:
    """Record the autocast cache flag (no effect here: JAX needs no weight-cast cache)."""
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_cache_enabled(): argument 'enabled' must be bool, not "
                        f"{type(enabled).__name__}")
    _CACHE[0] = enabled


def clear_autocast_cache() -> None:
    """Clear the autocast weight-cast cache (there is none here: does nothing)."""


def autocast_increment_nesting() -> int:
    """Increment the autocast nesting counter and return its new value."""
    _NESTING[0] += 1
    return _NESTING[0]


def autocast_decrement_nesting() -> int:
    """Decrement the autocast nesting counter and return its new value."""
    _NESTING[0] -= 1
    return _NESTING[0]


# ----- build flags (what the XLA CPU backend provides) ---------------------------------------------
has_lapack = True   # jnp.linalg runs LAPACK-backed solvers on the CPU
has_mkl = False     # XLA does not link MKL
has_openmp = False  # XLA's CPU backend uses its own thread pool
has_spectral = True  # FFTs (mt.fft) are available


# ----- sym_* on plain numbers -----------------------------------------------------------------------
_NUMBER = (int, float, bool, np.integer, np.floating, np.bool_)


def _need_number(fn: str, a):
    if not isinstance(a, _NUMBER):
        raise TypeError(f"{fn}(): expected an int, float or bool, got {type(a).__name__}")


def sym_int(a):
    """``int(a)`` (truncation toward zero), as torch.sym_int on a non-symbolic number."""
    return int(a)


def sym_float(a):
    """``float(a)``, as torch.sym_float on a non-symbolic number."""
    return float(a)


def sym_max(a, b):
    """The larger of two numbers; a float when either is a float (torch's rule)."""
    _need_number("sym_max", a)
    _need_number("sym_max", b)
    r = builtins.max(a, b)
    return float(r) if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)) else r


def sym_min(a, b):
    """The smaller of two numbers; a float when either is a float (torch's rule)."""
    _need_number("sym_min", a)
    _need_number("sym_min", b)
    r = builtins.min(a, b)
    return float(r) if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)) else r


def sym_not(a):
    """``not a``."""
    return not a


def sym_sqrt(a):
    """``math.sqrt(a)`` (a float)."""
    return math.sqrt(a)


def sym_sum(args):
    """The sum of the numbers in ``args`` (0 for an empty sequence)."""
    return builtins.sum(args)


def sym_ite(b, t, f):
    """``t if b else f``; ``b`` must be a bool."""
    if not isinstance(b, (bool, np.bool_)):
        raise AssertionError(f"expected SymBool or bool, got {type(b)}")
    return t if b else f
