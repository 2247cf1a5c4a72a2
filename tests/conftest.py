"""Shared pytest setup: make hypothesis quick and deterministic on this 2-core machine, compile XLA's
kernels with less optimisation, and keep a long test worker below the kernel's memory-map limit."""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, settings

# Most of the suite's time is XLA compiling small kernels once each. Lower LLVM optimisation makes those
# compiles ~25% faster, and XLA's older CPU emitters (instead of its MLIR fusion emitters) compile them
# 2-3x faster again; kernels are still exact (XLA's CPU code has no fast-math either way). Set before JAX
# starts its backend; MT_TEST_XLA_FAST=0 keeps XLA's defaults.
_FAST_XLA = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true",
             "--xla_cpu_use_fusion_emitters=false")


def _xla_accepts(flags: str) -> bool:
    """XLA aborts the whole process on a flag it does not know, and a later jaxlib may drop one of these:
    try them in a child process first."""
    import subprocess
    import sys
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    probe = "import jax.numpy as jnp; (jnp.zeros(3) + 1).block_until_ready()"
    try:
        return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              timeout=300).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


if os.environ.get("MT_TEST_XLA_FAST", "1") != "0":
    _flags = os.environ.get("XLA_FLAGS", "")
    _add = [f for f in _FAST_XLA if f.split("=")[0] not in _flags]
    if _add and not _xla_accepts(" ".join([_flags, *_add])):
        _add = [f for f in _add if _xla_accepts(" ".join([_flags, f]))]
    # (xdist workers and the tests' subprocesses inherit the variable, so this runs once per session)
    os.environ["XLA_FLAGS"] = " ".join([_flags, *_add]).strip()

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Every compiled XLA CPU executable maps its code into the process. One pytest worker compiles some
# ten thousand kernels over the suite, and past vm.max_map_count (65530 by default) the next compile
# fails inside LLVM with a segfault. Every 100 tests, when the map count is high, drop JAX's caches
# (their executables are unmapped; later tests recompile what they need).
_MAPS = "/proc/self/maps"
_CHECK_EVERY = 100
_MAX_MAPS = int(os.environ.get("MT_TEST_MAX_MAPS", "30000"))
_count = [0]


def _map_count() -> int:
    with open(_MAPS, "rb") as f:
        return sum(1 for _ in f)


@pytest.fixture(autouse=True)
def _bounded_memory_maps():
    yield
    _count[0] += 1
    if _count[0] % _CHECK_EVERY or not os.path.exists(_MAPS):
        return
    if _map_count() > _MAX_MAPS:
        import jax
        jax.clear_caches()
        gc.collect()


@pytest.fixture(autouse=True)
def _torch_distribution_validation_on():
    """torch._dynamo, once any test has initialised it (torch.export, torch.compile), switches torch's
    default distribution argument validation off for the rest of the process; tests compare against
    torch's documented default (on), so restore it before each test."""
    import sys
    dist = sys.modules.get("torch.distributions")
    if dist is not None:
        dist.Distribution.set_default_validate_args(True)
    yield


def pytest_runtest_logreport(report):
    """With ``MT_FAILURE_LOG=path`` set, append each failure's traceback to that file as it happens, so a
    time-boxed run (benchmarks/device_check.sh) keeps the tracebacks pytest would print only at its end.
    Under xdist only the controller writes: each report reaches it once from the worker."""
    path = os.environ.get("MT_FAILURE_LOG")
    if not path or not report.failed or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    with open(path, "a") as f:
        f.write(f"\n===== {report.nodeid} ({report.when})\n{report.longreprtext}\n")
