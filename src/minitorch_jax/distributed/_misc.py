"""Backend availability, debug level, node-local rank, group count, ``monitored_barrier``, ``breakpoint``,
``split_group`` (torch.distributed's everyday helpers).

The availability checks never start JAX (``init_process_group`` must run before any JAX computation):
gloo is always available (JAX's gloo CPU collectives), NCCL when a JAX CUDA plugin is installed, and
MPI, UCC and XCCL never. ``monitored_barrier`` is a plain :func:`barrier` (its ``timeout`` is not
enforced: JAX's collectives have no per-call timeout).
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
import os
import sys
import typing

from . import _group

__all__ = ["is_gloo_available", "is_nccl_available", "is_mpi_available", "is_ucc_available",
           "is_xccl_available", "is_backend_available", "get_default_backend_for_device",
           "get_node_local_rank", "get_pg_count", "DebugLevel", "get_debug_level", "set_debug_level",
           "set_debug_level_from_env", "supports_complex", "monitored_barrier", "breakpoint", "split_group",
           "GroupName", "BackendConfig", "get_backend_config", "record_comm"]


def is_gloo_available() -> bool:
    """True: CPU processes communicate through JAX's gloo collectives."""
    return True


def is_nccl_available() -> bool:
    """True when a JAX CUDA plugin is installed (GPU collectives go through NCCL). Does not start JAX."""
    return any(importlib.util.find_spec(m) is not None
               for m in ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_cuda11_plugin"))


def is_mpi_available() -> bool:
    """False: there is no MPI backend."""
    return False


def is_ucc_available() -> bool:
    """False: there is no UCC backend."""
    return False


def is_xccl_available() -> bool:
    """False: there is no XCCL (Intel GPU) backend."""
    return False


def is_backend_available(backend: str) -> bool:
    """Whether ``backend`` ('gloo', 'nccl', 'mpi', 'ucc', 'xccl' or 'jax'; any case) can be used."""
    b = str(backend).lower()
    checks = {"gloo": is_gloo_available, "nccl": is_nccl_available, "mpi": is_mpi_available,
              "ucc": is_ucc_available, "xccl": is_xccl_available, "jax": lambda: True}
    return checks[b]() if b in checks else False


_TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                       "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                       "privateuseone", "tpu")


def get_default_backend_for_device(device) -> str:
    """The backend torch would pick for ``device`` (a ``mt.device`` or string): 'gloo' for cpu, 'nccl' for
    cuda. Raises ValueError for a device type with no default backend."""
    from .._device import device as _device
    kind = device.type if hasattr(device, "type") else str(device).partition(":")[0]
    if kind not in _TORCH_DEVICE_TYPES:
        kind = _device(str(device)).type  # raises torch's message for an unknown device string
    table = {"cpu": "gloo", "cuda": "nccl"}
    if kind not in table:
        raise ValueError(f"Default backend not registered for device : {kind}")
    return table[kind]


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its machine (``LOCAL_RANK``, set by the launcher), else ``fallback_rank``.

    Raises RuntimeError when neither is available, as torch.
    """
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device "
                       "context and want the code to run locally instead.")


def get_pg_count() -> int:
    """The number of process groups made: the default group plus each :func:`new_group` (0 before init)."""
    st = _group._STATE
    return 1 + st["groups"] if st["init"] else 0


class DebugLevel(enum.Enum):
    """``TORCH_DISTRIBUTED_DEBUG`` levels (torch's ``DebugLevel``)."""

    OFF = 0
    INFO = 1
    DETAIL = 2


_DEBUG = {"level": DebugLevel.OFF}


def get_debug_level() -> DebugLevel:
    """The current debug level (``DebugLevel.OFF`` unless set)."""
    return _DEBUG["level"]


def set_debug_level(level: DebugLevel) -> None:
    """Set the debug level (a :class:`DebugLevel`)."""
    if not isinstance(level, DebugLevel):
        raise TypeError(f"set_debug_level(): expected a DebugLevel, got {type(level).__name__} {level!r}")
    _DEBUG["level"] = level


def set_debug_level_from_env() -> None:
    """Set the debug level from the ``TORCH_DISTRIBUTED_DEBUG`` environment variable (default OFF)."""
    v = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if v not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL.")
    _DEBUG["level"] = DebugLevel[v]


def supports_complex(reduceOp) -> bool:  # noqa: N803 - torch's argument name
    """Whether reduction ``reduceOp`` is defined on complex tensors (SUM and AVG; not MIN/MAX/PRODUCT)."""
    from ._collectives import _op
    return _op(reduceOp) in ("sum", "avg")


def monitored_barrier(group=None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A :func:`barrier` over ``group`` (torch's gloo-only monitored barrier).

    ``timeout`` and ``wait_all_ranks`` are accepted but not enforced: JAX's collectives have no per-call
    timeout, so a missing rank makes the job hang until the launcher or JAX's heartbeat ends it.
    """
    _group._require()
    _group.barrier(group)


_BP = {"calls": 0}


def breakpoint(rank: int = 0, skip: int = 0, timeout_s=3600):  # noqa: A001 - torch's name
    """Enter ``pdb`` on process ``rank`` only, while the other processes wait at a :func:`barrier`.

    Args:
        rank: the global rank that stops in the debugger.
        skip: skip the first ``skip`` calls of this function (they return at once).
        timeout_s: accepted for torch compatibility (the barrier has no timeout here).
    """
    _group._require()
    _BP["calls"] += 1
    if _BP["calls"] <= skip:
        return
    if _group.get_rank() == rank:
        import pdb
        pdb.Pdb().set_trace(sys._getframe(1))
    _group.barrier()


def split_group(parent_pg=None, split_ranks: list | None = None, timeout=None, pg_options=None,
                group_desc: str | None = None, backend=None):
    """Split ``parent_pg`` (the default group if None) into disjoint groups, one per ``split_ranks`` entry
    (lists of global ranks of the parent). Every process of the parent calls it alike.

    Returns:
        The :class:`ProcessGroup` holding this process, or None when it is in no split.
    """
    _group._require()
    if not split_ranks:
        raise ValueError("split_group(): split_ranks cannot be None or empty")
    parent = _group.get_process_group_ranks(parent_pg)
    for ranks in split_ranks:
        bad = [r for r in ranks if r not in parent]
        if bad:
            raise ValueError(f"split_group(): ranks {bad} of split {list(ranks)} are not in the parent group "
                             f"{parent}")
    cur, _ = _group.new_subgroups_by_enumeration(split_ranks, timeout=timeout, backend=backend)
    return cur


GroupName = typing.NewType("GroupName", str)
GroupName.__doc__ = "A process group's name (a ``str``), as torch's ``GroupName`` type."


class BackendConfig:
    """The device -> backend map of a backend string (torch's ``BackendConfig``).

    'gloo' maps cpu and cuda to gloo, 'nccl' cuda to nccl, 'jax' (this library's default) cpu to gloo and
    cuda to nccl; 'cpu:gloo,cuda:nccl' lists the map explicitly.
    """

    def __init__(self, backend):
        b = str(getattr(backend, "value", backend)).lower()
        if ":" in b:
            pairs = [p.split(":", 1) for p in b.split(",")]
            self._map = {dev.strip(): be.strip() for dev, be in pairs}
        elif b in ("jax", "undefined", "none"):
            self._map = {"cpu": "gloo", "cuda": "nccl"}
        elif b == "gloo":
            self._map = {"cpu": "gloo", "cuda": "gloo"}
        elif b in ("nccl", "xccl"):
            self._map = {"cuda": b}
        elif b in ("mpi", "ucc"):
            self._map = {"cpu": b, "cuda": b}
        else:
            raise ValueError(f"BackendConfig(): unknown backend {backend!r}")

    def get_device_backend_map(self) -> dict:
        """The ``{device type: backend name}`` map."""
        return dict(self._map)

    def __repr__(self) -> str:
        return ",".join(f"{d}:{b}" for d, b in self._map.items())


def get_backend_config(group=None) -> str:
    """The backend configuration of ``group`` (the default group if None), e.g. 'cpu:gloo,cuda:nccl'."""
    return str(BackendConfig(_group.get_backend(group)))


_COMM = {"name": None}


@contextlib.contextmanager
def record_comm(name: str):
    """Name the collectives issued inside the block ``name`` for profiling: their XLA programs are traced
    under ``jax.named_scope(name)`` (a program compiled earlier for the same shapes keeps its name)."""
    import jax
    prev = _COMM["name"]
    _COMM["name"] = name
    try:
        with jax.named_scope(name):
            yield
    finally:
        _COMM["name"] = prev
