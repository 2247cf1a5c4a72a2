"""``mt.cuda``: random state, device capabilities, errors, handles and the legacy CUDA tensor/storage types.

One random generator serves every device (JAX keys are device-independent), so the CUDA rng functions
read and write ``mt.default_generator``. cuBLAS/cuSOLVER handles and ``cudart`` are not exposed by JAX
(they raise); ``set_sync_debug_mode`` maps onto JAX's device-to-host transfer guard.
"""

from __future__ import annotations

import jax

from . import _cuda_base as _b
from . import _random
from ._torch_misc import legacy_types as _lt
from ._torch_misc import storage as _st

__all__ = ["get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all", "initial_seed",
           "get_device_capability", "get_arch_list", "get_gencode_flags", "is_bf16_supported",
           "is_tf32_supported", "can_device_access_peer", "CudaError", "DeferredCudaCallError", "cudaStatus",
           "check_error", "cudart", "current_blas_handle", "current_solver_handle", "get_sync_debug_mode",
           "set_sync_debug_mode", "GreenContext", "has_half", "has_magma"]

has_half = True
has_magma = False


# ----- random state ---------------------------------------------------------------------------------
def get_rng_state(device="cuda"):
    """The generator state (uint8 tensor) of GPU ``device``: mt's one generator. Raises without a GPU."""
    _b.get(device, "get_rng_state")
    return _random.get_rng_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restore the generator from :func:`get_rng_state`. Without a GPU a no-op, as torch's CPU build
    (which queues the call until CUDA starts)."""
    if not _b.gpus():
        return
    _b.get(device, "set_rng_state")
    _random.set_rng_state(new_state)


def get_rng_state_all() -> list:
    """One state per GPU (all the same generator's); ``[]`` without a GPU."""
    return [_random.get_rng_state() for _ in _b.gpus()]


def set_rng_state_all(new_states) -> None:
    """Restore each GPU's state (one generator: the last state wins); a no-op without a GPU."""
    for i, s in enumerate(new_states):
        set_rng_state(s, i)


def initial_seed() -> int:
    """The generator's initial seed. Raises without a GPU, as torch's CPU build."""
    _b.check(None, "initial_seed")
    return _random.initial_seed()


def default_generators() -> tuple:
    """``mt.default_generator`` once per GPU (``()`` without a GPU): ``mt.cuda.default_generators``."""
    return tuple(_random.default_generator for _ in _b.gpus())


# ----- capabilities ---------------------------------------------------------------------------------
def get_device_capability(device=None) -> tuple[int, int]:
    """``(major, minor)`` CUDA compute capability of GPU ``device`` (JAX's ``compute_capability``)."""
    _, d = _b.get(device, "get_device_capability")
    return _b.capability(d)


def get_arch_list() -> list[str]:
    """``['sm_90', ...]``: the architectures of this process's GPUs (XLA compiles for the cards present);
    ``[]`` without a GPU."""
    archs = sorted({"sm_{}{}".format(*_b.capability(d)) for d in _b.gpus()})
    return [a for a in archs if a != "sm_00"]


def get_gencode_flags() -> str:
    """nvcc ``-gencode`` flags for :func:`get_arch_list` (``''`` without a GPU)."""
    return " ".join(f"-gencode compute=compute_{a[3:]},code={a}" for a in get_arch_list())


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """True on a GPU of compute capability 8.0+ (or any GPU when ``including_emulation``); False without."""
    devs = _b.gpus()
    if not devs:
        return False
    return including_emulation or _b.capability(devs[_b._CURRENT[0] % len(devs)])[0] >= 8


def is_tf32_supported() -> bool:
    """True on a GPU of compute capability 8.0+; False without a GPU."""
    devs = _b.gpus()
    return bool(devs) and _b.capability(devs[_b._CURRENT[0] % len(devs)])[0] >= 8


def can_device_access_peer(device, peer_device) -> bool:
    """Whether GPU ``device`` can read ``peer_device``'s memory: True for two distinct GPUs (XLA moves data
    between any two), False for the same one. Raises without a GPU or for a bad index."""
    devs = _b.check(None, "can_device_access_peer")
    i, j = _b.index(device), _b.index(peer_device)
    if not 0 <= i < len(devs):
        raise AssertionError("Invalid device id")
    if not 0 <= j < len(devs):
        raise AssertionError("Invalid peer device id")
    return i != j


# ----- errors and handles ---------------------------------------------------------------------------
_ERRORS = {0: "no error", 1: "invalid argument", 2: "out of memory", 3: "initialization error",
           34: "device not ready", 100: "no CUDA-capable device is detected", 101: "invalid device ordinal",
           700: "an illegal memory access was encountered", 999: "unknown error"}


class CudaError(RuntimeError):
    """A CUDA runtime error code (``CudaError(code)``; message ``'<description> (<code>)'``)."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"{_ERRORS.get(int(code), 'unrecognized error code')} ({code})")


class DeferredCudaCallError(Exception):
    """Raised when a call queued until CUDA initialisation fails (torch's class)."""


class cudaStatus:
    """CUDA status codes used by :func:`check_error`."""

    SUCCESS: int = 0
    ERROR_NOT_READY: int = 34


def check_error(res: int) -> None:
    """Raise :class:`CudaError` for a non-zero CUDA status ``res``."""
    if res != cudaStatus.SUCCESS:
        raise CudaError(res)


def _no_handles(name: str):
    _b.check(None, name)
    return RuntimeError(f"minitorch_jax.cuda.{name}(): JAX does not expose CUDA runtime/library handles; "
                        f"XLA calls cuBLAS/cuSOLVER itself")


def cudart():
    """The CUDA runtime module: not exposed by JAX (raises)."""
    raise _no_handles("cudart")


def current_blas_handle():
    """The cuBLAS handle: not exposed by JAX (raises)."""
    raise _no_handles("current_blas_handle")


def current_solver_handle():
    """The cuSOLVER handle: not exposed by JAX (raises)."""
    raise _no_handles("current_solver_handle")


_SYNC_MODES = {"default": 0, "warn": 1, "error": 2}
_GUARD = {0: "allow", 1: "log", 2: "disallow"}
_SYNC = [0]


def set_sync_debug_mode(debug_mode) -> None:
    """Flag operations that synchronise with the host: 0/'default' allows them, 1/'warn' logs and
    2/'error' raises, through JAX's device-to-host transfer guard. Raises without a GPU."""
    _b.check(None, "set_sync_debug_mode")
    if isinstance(debug_mode, str):
        if debug_mode not in _SYNC_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`")
        debug_mode = _SYNC_MODES[debug_mode]
    if debug_mode not in _GUARD:
        raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`")
    jax.config.update("jax_transfer_guard_device_to_host", _GUARD[debug_mode])
    _SYNC[0] = int(debug_mode)


def get_sync_debug_mode() -> int:
    """The mode set by :func:`set_sync_debug_mode` (0 by default). Raises without a GPU."""
    _b.check(None, "get_sync_debug_mode")
    return _SYNC[0]


class GreenContext:
    """``torch.cuda.GreenContext`` (SM partitions): JAX cannot create them; ``create`` raises."""

    @staticmethod
    def create(num_sms: int, device_id: int = 0):
        """Not supported under JAX (raises)."""
        raise RuntimeError("minitorch_jax.cuda.GreenContext.create(): green contexts (SM partitioning) "
                           "are not available through JAX")

    def set_context(self) -> None:
        """Not supported under JAX (raises)."""
        self.create(0)

    def pop_context(self) -> None:
        """Not supported under JAX (raises)."""
        self.create(0)


# ----- legacy CUDA tensor and storage types ---------------------------------------------------------
class _cudatensortype(_lt._tensortype):
    """Metaclass of ``mt.cuda.FloatTensor`` ...: builds GPU tensors; ``isinstance`` needs dtype and GPU."""

    def __instancecheck__(cls, obj) -> bool:
        return super().__instancecheck__(obj) and obj.is_cuda

    def __call__(cls, *args, device=None):
        if not _b.gpus():
            raise TypeError(f"type minitorch_jax.cuda.{cls.__name__} not available. {_b.NOT_COMPILED}.")
        return _lt._legacy_new(cls, args, "cuda" if device is None else device)


def _tensor_type(name: str, d):
    doc = (f"Legacy CUDA tensor type of dtype ``{d}`` (``torch.cuda.{name}``): as ``mt.{name}`` but on the "
           f"GPU. Raises TypeError without a GPU, as torch's CPU build.")
    return _cudatensortype(name, (), {"__module__": "minitorch_jax.cuda", "__qualname__": name,
                                      "__doc__": doc, "dtype": d, "is_cuda": True, "is_sparse": False,
                                      "__slots__": ()})


def _storage_type(base):
    name = base.__name__

    def __init__(self, *args, **kwargs):
        if not _b.gpus():
            raise _b.no_cuda(name)
        kwargs.setdefault("device", "cuda")
        base.__init__(self, *args, **kwargs)

    doc = f"Legacy CUDA storage class (``torch.cuda.{name}``); raises without a GPU, as torch's CPU build."
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": "minitorch_jax.cuda"})


TENSOR_TYPES = {n: _tensor_type(n, getattr(_lt, n).dtype) for n in
                ("FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
                 "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor")}
STORAGE_TYPES = {n: _storage_type(getattr(_st, n)) for n in
                 ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "ByteStorage",
                  "CharStorage", "ShortStorage", "IntStorage", "LongStorage", "BoolStorage",
                  "ComplexFloatStorage", "ComplexDoubleStorage")}
