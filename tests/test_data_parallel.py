"""DataParallel over 4 forced host devices (in a subprocess: XLA_FLAGS must be set before JAX starts)."""

import os
import subprocess
import sys
from pathlib import Path

import minitorch_jax as mt
from minitorch_jax.nn.parallel import DataParallel

SCRIPTS = Path(__file__).parent / "_dist_scripts"


def test_data_parallel_single_device_in_process():
    m = mt.nn.Linear(3, 2)
    dp = DataParallel(m)
    assert dp.module is m
    assert sorted(dp.state_dict()) == ["module.bias", "module.weight"]
    x = mt.randn(4, 3)
    assert mt.allclose(dp(x), m(x))


def test_data_parallel_matches_single_device_eager_and_jit():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    r = subprocess.run([sys.executable, str(SCRIPTS / "data_parallel.py"), "eager,jit"], env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0 and "OK eager,jit" in r.stdout, r.stderr[-3000:]
