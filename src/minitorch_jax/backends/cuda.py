"""``mt.backends.cuda``: torch.backends.cuda's switches.

* ``matmul.allow_tf32`` is mt's float32 matmul precision (:func:`minitorch_jax.set_float32_matmul_precision`):
  reading says whether it is below 'highest'; True selects 'high', False 'highest' (torch's documented
  relation).
* ``matmul.allow_fp16_reduced_precision_reduction`` / ``allow_bf16_reduced_precision_reduction`` /
  ``allow_fp16_accumulation``, the scaled-dot-product-attention backend switches
  (``enable_flash_sdp`` ...), ``sdp_kernel`` and ``preferred_linalg_library`` / ``preferred_blas_library``
  are recorded only: XLA chooses its own kernels, and ``mt.nn.functional.scaled_dot_product_attention``
  has one implementation whatever they say.
* ``is_built()`` is whether JAX has a CUDA backend.
"""

from __future__ import annotations

import contextlib
import enum
import warnings

from . import _flags

__all__ = ["matmul", "is_built", "flash_sdp_enabled", "enable_flash_sdp", "mem_efficient_sdp_enabled",
           "enable_mem_efficient_sdp", "math_sdp_enabled", "enable_math_sdp", "cudnn_sdp_enabled",
           "enable_cudnn_sdp", "sdp_kernel", "preferred_linalg_library", "preferred_blas_library",
           "SDPBackend"]


def is_built() -> bool:
    """Whether a CUDA backend is available to JAX (torch: whether it was built with CUDA)."""
    from .. import cuda
    return cuda.is_available()


class _CuBLASModule:
    """``mt.backends.cuda.matmul``: the cuBLAS switches (unknown names raise ``AttributeError``)."""

    _reductions = {"allow_fp16_reduced_precision_reduction": True,
                   "allow_bf16_reduced_precision_reduction": True,
                   "allow_fp16_accumulation": False}

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _flags.tf32_allowed()
        if name == "fp32_precision":
            return "tf32" if _flags.tf32_allowed() else "ieee"
        if name in self._reductions:
            return self._reductions[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _flags.set_tf32(_flags.need_bool(value, "set_allow_tf32_cublas"))
        elif name == "fp32_precision":
            if value not in ("tf32", "ieee", "none"):
                raise RuntimeError("fp32_precision must be one of 'ieee', 'tf32' or 'none', "
                                   f"but got {value!r}")
            if value != "none":
                _flags.set_tf32(value == "tf32")
        elif name in ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"):
            ok = type(value) is bool or (isinstance(value, (tuple, list)) and value
                                         and all(type(v) is bool for v in value))
            if not ok:
                raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")
            self._reductions[name] = value if type(value) is bool else value[0]
        elif name == "allow_fp16_accumulation":
            self._reductions[name] = _flags.need_bool(value, "set_allow_fp16_accumulation_cublas")
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = _CuBLASModule()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


class SDPBackend(enum.IntEnum):
    """The scaled-dot-product-attention backends (names as torch's; recorded only here)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


def flash_sdp_enabled() -> bool:
    """Whether the flash-attention SDPA backend is enabled (recorded only)."""
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    """Enable or disable the flash-attention SDPA backend (recorded only)."""
    _sdp["flash"] = _flags.need_bool(enabled, "set_sdp_use_flash")


def mem_efficient_sdp_enabled() -> bool:
    """Whether the memory-efficient SDPA backend is enabled (recorded only)."""
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Enable or disable the memory-efficient SDPA backend (recorded only)."""
    _sdp["mem_efficient"] = _flags.need_bool(enabled, "set_sdp_use_mem_efficient")


def math_sdp_enabled() -> bool:
    """Whether the math SDPA backend is enabled (recorded only)."""
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    """Enable or disable the math SDPA backend (recorded only)."""
    _sdp["math"] = _flags.need_bool(enabled, "set_sdp_use_math")


def cudnn_sdp_enabled() -> bool:
    """Whether the cuDNN SDPA backend is enabled (recorded only)."""
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Enable or disable the cuDNN SDPA backend (recorded only)."""
    _sdp["cudnn"] = _flags.need_bool(enabled, "set_sdp_use_cudnn")


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True):
    """Deprecated context manager setting the four SDPA backend switches inside the block (recorded only;
    torch recommends ``torch.nn.attention.sdpa_kernel``)."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager "
                  "will be removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context "
                  "manager, "
                  "with "
                  "updated signature.", FutureWarning, stacklevel=3)
    old = dict(_sdp)
    try:
        enable_flash_sdp(enable_flash)
        enable_math_sdp(enable_math)
        enable_mem_efficient_sdp(enable_mem_efficient)
        enable_cudnn_sdp(enable_cudnn)
        yield {}
    finally:
        _sdp.update(old)


class _LinalgBackend(enum.Enum):
    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(enum.Enum):
    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3


_preferred = {"linalg": _LinalgBackend.Default, "blas": _BlasBackend.Default}


def _prefer(kind, enum_cls, backend, fn):
    if backend is None:
        return _preferred[kind]
    if isinstance(backend, enum_cls):
        _preferred[kind] = backend
        return backend
    if not isinstance(backend, str):
        raise RuntimeError(f"{fn}: unknown input value type {type(backend).__name__}")
    names = {m.name.lower(): m for m in enum_cls}
    if backend.lower() not in names:
        raise RuntimeError(f"{fn}: unknown input value {backend!r}; expected one of {sorted(names)}")
    _preferred[kind] = names[backend.lower()]
    return _preferred[kind]


def preferred_linalg_library(backend=None):
    """Record the preferred linear-algebra library ('default', 'cusolver', 'magma') and return the current
    one (recorded only: XLA picks its own solvers)."""
    return _prefer("linalg", _LinalgBackend, backend, "preferred_linalg_library")


def preferred_blas_library(backend=None):
    """Record the preferred BLAS library ('default', 'cublas', 'cublaslt', 'ck') and return the current
    one (recorded only)."""
    return _prefer("blas", _BlasBackend, backend, "preferred_blas_library")
