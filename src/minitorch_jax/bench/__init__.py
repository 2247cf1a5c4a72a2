"""``minitorch_jax.bench``: the eager-vs-``mt.jit`` benchmark command (``minitorch-jax bench``,
``python -m minitorch_jax.bench``). ``run_workload`` and ``WORKLOADS`` are usable from Python too."""

from __future__ import annotations

from .runner import run_workload
from .workloads import WORKLOADS, Workload

__all__ = ["run_workload", "WORKLOADS", "Workload"]
