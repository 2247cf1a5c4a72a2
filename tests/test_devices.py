"""Devices: mt.device, placement, the default device, mt.cuda, errors (multi-device cases in a subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

import minitorch_jax as mt
from minitorch_jax import _device, cuda

SCRIPTS = Path(__file__).parent / "_dist_scripts"


def _run(script, *args, devices=4, timeout=120):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_device_names():
    assert str(mt.device("cuda:1")) == "cuda:1"
    assert mt.device("cuda", 1) == mt.device("cuda:1") == "cuda:1"
    assert repr(mt.device("cpu")) == "device(type='cpu')"
    assert mt.device("tpu").type == "tpu"
    assert mt.device(mt.device("cuda:2")).index == 2
    with pytest.raises(RuntimeError, match="Expected one of"):
        mt.device("gpu0")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        mt.device("cuda:x")


def _default_type():
    """The torch name of this host's default platform ('cpu' here, 'cuda' on a GPU machine)."""
    return _device.from_jax(jax.local_devices()[0]).type


def test_missing_device_lists_available():
    default = _default_type()
    missing = "cuda" if default == "cpu" else "tpu"
    listed = _device.available()
    with pytest.raises(RuntimeError, match=rf"{missing}:0 is not available.*available devices: {listed}"):
        mt.ones(2).to(missing)
    if default == "cpu":
        with pytest.raises(RuntimeError, match="available devices"):
            mt.ones(2).cuda()
    with pytest.raises(RuntimeError, match="available devices"):
        mt.zeros(2, device="tpu")
    with pytest.raises(RuntimeError, match=f"{default}:99 is not available"):
        mt.ones(2, device=f"{default}:99")
    with pytest.raises(RuntimeError, match="available devices"):
        _device.set_default_device(missing)
    assert _device.get_default_device().type == default


def test_tensor_device_and_to():
    default = _default_type()
    t = mt.ones(2, 3)
    assert t.device.type == default and t.is_cuda == (default == "cuda")
    assert t.to(default) is t
    u = mt.zeros(2, device=default)
    assert u.device.type == default and not u._data.committed  # the default device stays uncommitted
    v = t.to(default, mt.float64)
    assert v.dtype == mt.float64 and v.device.type == default
    m = mt.nn.Linear(2, 2).to(default)
    assert m.weight.device.type == default
    c = t.cpu()
    assert c.device.type == "cpu" and (c is t) == (default == "cpu")


def test_default_device_context():
    default = _default_type()
    assert _device.get_default_device().type == default
    with mt.device("cpu"):
        assert _device.get_default_device() == mt.device("cpu")
        assert mt.ones(1).device == mt.device("cpu")
    _device.set_default_device(None)
    assert _device.get_default_device().type == default


def test_cuda_module_without_gpu():
    if cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert cuda.device_count() == 0
    cuda.synchronize()
    cuda.empty_cache()
    cuda.manual_seed_all(3)
    a = mt.rand(2)
    mt.manual_seed(3)
    assert mt.equal(a, mt.rand(2))
    with pytest.raises(RuntimeError, match="No CUDA GPUs"):
        cuda.current_device()
    with pytest.raises(RuntimeError, match="No CUDA GPUs"):
        cuda.get_device_name(0)


def test_multi_device_placement_and_mismatch_error():
    r = _run("devices.py")
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr[-3000:]
