"""``mt.autograd.profiler``: torch's legacy profiler API (``torch.autograd.profiler``) on
:mod:`minitorch_jax.profiler` - ``profile(use_cuda=...)``, ``record_function``, ``emit_nvtx``.

What is measured is what :mod:`minitorch_jax.profiler` measures: wall-clock time per
``record_function`` label (no per-op events, shapes or memory figures).
"""

from __future__ import annotations

import contextlib

from .. import profiler as _profiler
from ..profiler import ProfilerActivity, record_function

__all__ = ["profile", "record_function", "emit_nvtx", "emit_itt", "kineto_available", "ProfilerActivity"]


class profile(_profiler.profile):  # noqa: N801 - torch's name
    """``with mt.autograd.profiler.profile() as prof:`` records labelled blocks, as torch's legacy
    profiler.

    Args:
        enabled: False makes the context manager do nothing.
        use_cuda: also wait for queued device work at the end of each labelled block, so its time
            includes the device's (``use_device='cuda'`` does the same).
        use_cpu, record_shapes, with_flops, profile_memory, with_stack, with_modules, use_kineto:
            accepted for torch compatibility (see :mod:`minitorch_jax.profiler`).

    Results: ``prof.key_averages().table(...)``, ``prof.table(...)``, ``prof.function_events``,
    ``prof.self_cpu_time_total`` (us), ``prof.export_chrome_trace(path)``.
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback=None, **kwargs):
        activities = {ProfilerActivity.CPU}
        if use_cuda or (use_device is not None and str(use_device).startswith("cuda")):
            activities.add(ProfilerActivity.CUDA)
        super().__init__(activities=activities, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules)
        self.enabled = bool(enabled)
        self.use_cuda = bool(use_cuda)
        self.use_device = use_device
        self.use_cpu = use_cpu
        self.entered = False

    def __enter__(self):
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        if self.enabled:
            self.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stop()
        return False

    @property
    def function_events(self):
        """The recorded events (``name``, ``start``, ``end``, ``duration``), in order."""
        return self.events()

    @property
    def self_cpu_time_total(self) -> float:
        """Total time (us) spent in labelled blocks outside nested ones."""
        return sum(r.self_cpu_time_total for r in self.key_averages())

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs) -> str:
        """``key_averages().table(...)``."""
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)


@contextlib.contextmanager
def emit_nvtx(enabled: bool = True, record_shapes: bool = False):
    """``torch.autograd.profiler.emit_nvtx``: accepted. NVTX ranges are not emitted per op here; each
    ``record_function`` block is already a ``jax.profiler.TraceAnnotation``, which NVIDIA's tools show
    in a JAX GPU trace."""
    yield


@contextlib.contextmanager
def emit_itt(enabled: bool = True, record_shapes: bool = False):
    """``torch.autograd.profiler.emit_itt``: accepted (see :func:`emit_nvtx`)."""
    yield


def kineto_available() -> bool:
    """False: torch's Kineto tracer is not part of this library (see :mod:`minitorch_jax.profiler`)."""
    return False
