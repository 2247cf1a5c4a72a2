"""Devices: mt.device, placement, the default device, mt.cuda, errors (multi-device cases in a subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_missing_device_lists_available():
    with pytest.raises(RuntimeError, match=r"cuda:0 is not available.*available devices: cpu"):
        mt.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="available devices"):
        mt.ones(2).cuda()
    with pytest.raises(RuntimeError, match="available devices"):
        mt.zeros(2, device="tpu")
    with pytest.raises(RuntimeError, match="cpu:5 is not available"):
        mt.ones(2, device="cpu:5")
    with pytest.raises(RuntimeError, match="available devices"):
        _device.set_default_device("cuda")
    assert _device.get_default_device() == mt.device("cpu")


def test_tensor_device_and_to():
    t = mt.ones(2, 3)
    assert t.device == mt.device("cpu") and not t.is_cuda
    assert t.to("cpu") is t and t.cpu() is t
    u = mt.zeros(2, device="cpu")
    assert u.device.type == "cpu" and not u._data.committed  # the default device stays uncommitted
    v = t.to("cpu", mt.float64)
    assert v.dtype == mt.float64 and v.device == mt.device("cpu")
    m = mt.nn.Linear(2, 2).to("cpu")
    assert m.weight.device == mt.device("cpu")


def test_default_device_context():
    assert _device.get_default_device() == mt.device("cpu")
    with mt.device("cpu"):
        assert _device.get_default_device() == mt.device("cpu")
        assert mt.ones(1).device == mt.device("cpu")
    _device.set_default_device(None)
    assert _device.get_default_device() == mt.device("cpu")


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
