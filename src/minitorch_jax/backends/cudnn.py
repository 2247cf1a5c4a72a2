"""``mt.backends.cudnn``: torch.backends.cudnn's switches.

* ``allow_tf32`` is mt's float32 matmul/convolution precision (one setting covers both here, see
  :func:`minitorch_jax.set_float32_matmul_precision`): reading it says whether the precision is below
  'highest'; setting True selects 'high', False 'highest'. Its default therefore reads False (torch's
  reads True): mt runs float32 convolutions at full precision unless asked otherwise.
* ``enabled``, ``benchmark``, ``benchmark_limit`` and ``deterministic`` are recorded only: XLA picks
  and autotunes its own convolution algorithms (``benchmark``'s job), and its determinism on GPU is
  ``XLA_FLAGS=--xla_gpu_deterministic_ops=true``. As in torch, ``deterministic`` is a separate flag from
  ``mt.use_deterministic_algorithms``.
* ``is_available()`` is whether JAX has a GPU (``mt.cuda.is_available()``).
"""

from __future__ import annotations

import contextlib

from . import _flags

__all__ = ["is_available", "version", "flags"]

_state = {"enabled": True, "benchmark": False, "deterministic": False, "benchmark_limit": 10}


def is_available() -> bool:
    """Whether cuDNN can be used: True when JAX has a CUDA GPU backend."""
    from .. import cuda
    return cuda.is_available()


def version():
    """The cuDNN version as an int (e.g. 90100), or None when there is no GPU or the version is unknown."""
    if not is_available():
        return None
    for plugin in ("jax_cuda13_plugin", "jax_cuda12_plugin"):
        try:
            mod = __import__(plugin, fromlist=["_versions"])
            return int(mod._versions.cudnn_get_version())
        except Exception:  # noqa: BLE001 - the plugin's layout is not a public API: report unknown
            continue
    return None


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32=None, fp32_precision: str = "none",
          depthwise_kernel: str = "auto"):
    """Context manager setting the cuDNN flags inside the block and restoring them after.

    ``allow_tf32`` defaults to None here (leave mt's float32 precision alone) instead of torch's True,
    since it changes the precision of every float32 matmul, not only convolutions; ``fp32_precision``
    and ``depthwise_kernel`` are accepted and ignored.
    """
    mod = _module()
    old = dict(_state)
    from .._precision import get_float32_matmul_precision, set_float32_matmul_precision
    old_precision = get_float32_matmul_precision()
    try:
        mod.enabled, mod.benchmark, mod.deterministic = enabled, benchmark, deterministic
        mod.benchmark_limit = benchmark_limit
        if allow_tf32 is not None:
            mod.allow_tf32 = allow_tf32
        yield
    finally:
        _state.update(old)
        set_float32_matmul_precision(old_precision)


def _module():
    import sys
    return sys.modules[__name__]


def _bool_prop(name: str, setter: str, doc: str):
    def get(self):
        return _state[name]

    def set_(self, value):
        _state[name] = _flags.need_bool(value, setter)

    return property(get, set_, doc=doc)


class _CudnnModule(_flags.PropModule):
    enabled = _bool_prop("enabled", "set_enabled_cudnn", "Whether cuDNN may be used (recorded only).")
    benchmark = _bool_prop("benchmark", "set_benchmark_cudnn",
                           "Autotune convolution algorithms (recorded only: XLA autotunes itself).")
    deterministic = _bool_prop("deterministic", "set_deterministic_cudnn",
                               "Ask for deterministic convolutions (recorded only; see the module "
                               "docstring).")

    @property
    def benchmark_limit(self) -> int:
        """How many algorithms ``benchmark`` tries (recorded only)."""
        return _state["benchmark_limit"]

    @benchmark_limit.setter
    def benchmark_limit(self, value):
        if type(value) is not int:
            raise RuntimeError(f"set_benchmark_limit_cudnn expects an int, but got {type(value).__name__}")
        _state["benchmark_limit"] = value

    @property
    def allow_tf32(self) -> bool:
        """Whether float32 convolutions (and matmuls: one setting here) may use TF32."""
        return _flags.tf32_allowed()

    @allow_tf32.setter
    def allow_tf32(self, value):
        _flags.set_tf32(_flags.need_bool(value, "set_allow_tf32_cudnn"))

    @property
    def fp32_precision(self) -> str:
        """torch 2.9+'s name for the same switch: 'tf32' (reduced precision allowed) or 'ieee'."""
        return "tf32" if _flags.tf32_allowed() else "ieee"

    @fp32_precision.setter
    def fp32_precision(self, value):
        if value not in ("tf32", "ieee", "none"):
            raise RuntimeError(f"fp32_precision must be one of 'ieee', 'tf32' or 'none', but got {value!r}")
        if value != "none":
            _flags.set_tf32(value == "tf32")


_flags.install(__name__, _CudnnModule)
