"""Importing the package must not start a JAX backend (data-loader workers fork from processes
that imported it), and must stay reasonably quick."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_initialise_a_backend():
    code = ("import minitorch_jax as mt\n"
            "from jax._src import xla_bridge\n"
            "assert not xla_bridge._backends, 'a JAX backend was initialised at import'\n"
            "mt.manual_seed(3)\n"
            "assert not xla_bridge._backends, 'manual_seed initialised a backend'\n"
            "print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
