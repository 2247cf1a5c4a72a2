"""The environment for tests that start jobs of several processes (``minitorch_jax.distributed.run``)."""

from __future__ import annotations

import os


def launch_env(**extra) -> dict:
    """This process's environment for a multi-process CPU job: ``JAX_PLATFORMS=cpu`` and the suite's
    quicker XLA compile flags (tests/conftest.py), without a forced host device count (each process
    of a job is one device)."""
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count")]
    env = dict(os.environ, JAX_PLATFORMS="cpu", **extra)
    env["XLA_FLAGS"] = " ".join(flags)
    return env
