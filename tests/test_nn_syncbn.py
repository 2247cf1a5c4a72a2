"""SyncBatchNorm against torch.nn.SyncBatchNorm in one process (where both are BatchNorm: eval mode, and
training without an initialized process group), convert_sync_batchnorm, errors; and across 2 CPU
processes started by the launcher: each rank equals one process's BatchNorm on the whole batch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.modules.sync_batchnorm import SyncBatchNorm
from tests.launch_env import launch_env

from .nn_oracle import compare_buffers, compare_module
from .oracle import torch

SCRIPTS = Path(__file__).parent / "_dist_scripts"
rng = np.random.default_rng(0)
nn = mt.nn


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


CASES = [((6, 3), {}, "float32"), ((4, 3, 5), {"momentum": None}, "float64"),
         ((2, 3, 4, 4), {"affine": False}, "float32"), ((2, 2, 3, 2, 2, 2), {"bias": False}, "float64"),
         ((5, 4), {"track_running_stats": False}, "float32")]


def test_repr_state_dict_and_defaults_match_torch():
    for kw in ({}, {"eps": 1e-3, "momentum": None}, {"affine": False, "track_running_stats": False},
               {"bias": False}):
        m, t = SyncBatchNorm(4, **kw), torch.nn.SyncBatchNorm(4, **kw)
        assert repr(m) == repr(t)
        assert list(m.state_dict()) == list(t.state_dict())
        assert m.process_group is None
    m = SyncBatchNorm(3, dtype=mt.float64)
    assert m.weight.dtype == mt.float64 and m.running_mean.dtype == mt.float64
    assert m.num_batches_tracked.dtype == mt.int64
    assert SyncBatchNorm(3, process_group="pg").process_group == "pg"


@pytest.mark.parametrize("shape,kwargs,dtype", CASES)
def test_single_process_matches_torch(shape, kwargs, dtype):
    # no process group: torch's SyncBatchNorm is BatchNorm in both modes, and so is ours
    m = SyncBatchNorm(shape[1], **kwargs, dtype=getattr(mt, dtype))
    t = torch.nn.SyncBatchNorm(shape[1], **kwargs, dtype=getattr(torch, dtype))
    for _ in range(2):
        compare_module(m, t, _x(*shape, dtype=dtype), train=True, copy=False)
        compare_buffers(m, t)
    compare_module(m, t, _x(*shape, dtype=dtype), train=False, copy=False)


def test_convert_sync_batchnorm_like_torch():
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(3, 4, 1), n.BatchNorm2d(4, momentum=0.2),
                            n.Sequential(n.Flatten(), n.BatchNorm1d(16, affine=False, eps=1e-3)),
                            n.LayerNorm(16))

    net, tnet = build(mt), build(torch)
    net[1].eval()
    tnet[1].eval()
    w, rm = net[1].weight, net[1].running_mean
    conv = SyncBatchNorm.convert_sync_batchnorm(net, process_group=None)
    tconv = torch.nn.SyncBatchNorm.convert_sync_batchnorm(tnet)
    assert conv is net and repr(conv) == repr(tconv)
    assert type(conv[1]) is SyncBatchNorm and type(conv[2][1]) is SyncBatchNorm
    assert type(conv[3]) is nn.LayerNorm and type(conv[0]) is nn.Conv2d
    assert conv[1].weight is w and conv[1].running_mean is rm  # shared, as torch
    assert not conv[1].training and conv[2][1].training
    assert list(conv.state_dict()) == list(tconv.state_dict())
    # a BatchNorm itself is replaced; its qconfig attribute follows
    bn = nn.BatchNorm1d(3)
    bn.qconfig = "q"
    out = SyncBatchNorm.convert_sync_batchnorm(bn, process_group="group")
    assert type(out) is SyncBatchNorm and out.process_group == "group" and out.qconfig == "q"
    assert out.weight is bn.weight and out.num_batches_tracked is bn.num_batches_tracked
    # the converted model still computes what the BatchNorm model computed
    x = _x(2, 3, 2, 2)
    ref = build(mt)
    ref.load_state_dict(net.state_dict())
    ref[1].eval()
    assert np.allclose(net(mt.tensor(x)).detach().numpy(), ref(mt.tensor(x)).detach().numpy(), atol=1e-5)


def test_errors_like_torch():
    m, t = SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected at least 2D input \(got 1D input"):
        m(mt.randn(3))
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input"):
        t(torch.randn(3))
    with pytest.raises(ValueError, match="SyncBatchNorm number of input channels should be non-zero"):
        m(mt.randn(2, 0, 4))
    with pytest.raises(ValueError, match="SyncBatchNorm number of input channels should be non-zero"):
        t(torch.randn(2, 0, 4))
    with pytest.raises(RuntimeError, match=r"SyncBatchNorm\(3\): expected input with 3 channels \(dim 1\), "
                                           r"got shape \[2, 4\]"):
        m(mt.randn(2, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        m(mt.randn(1, 3))


def test_two_processes_equal_batchnorm_on_the_whole_batch_eager_and_jit():
    env = launch_env()
    cmd = [sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "2",
           str(SCRIPTS / "syncbn.py"), "eager,jit"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=200)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK 0" in r.stdout and "OK 1" in r.stdout
