"""Normalization layers and kernels against torch: BatchNorm (running stats over several steps,
eval mode, momentum None, no tracking, no affine), LayerNorm, GroupNorm, RMSNorm, InstanceNorm,
LocalResponseNorm; reprs, errors, state_dict compatibility and jit."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._tensor import _wrap

from .nn_oracle import compare_buffers, compare_module, copy_state
from .oracle import assert_same, needs_torch, torch

F = mt.nn.functional
rng = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


BN_CASES = [
    ("BatchNorm1d", (6, 3), {}, "float32"),
    ("BatchNorm1d", (6, 3), {}, "float64"),
    ("BatchNorm1d", (4, 3, 5), {"momentum": None}, "float64"),
    ("BatchNorm2d", (3, 4, 3, 3), {}, "float32"),
    ("BatchNorm2d", (2, 3, 4, 4), {"affine": False}, "float64"),
    ("BatchNorm2d", (2, 3, 4, 4), {"track_running_stats": False}, "float32"),
    ("BatchNorm2d", (4, 2, 3, 3), {"momentum": None, "eps": 1e-3}, "float32"),
    ("BatchNorm3d", (2, 2, 2, 3, 3), {"bias": False}, "float64"),
]


@pytest.mark.parametrize("name,shape,kw,dtype", BN_CASES)
def test_batchnorm_training_steps_then_eval(name, shape, kw, dtype):
    c = shape[1]
    t_dt = getattr(torch, dtype)
    tm = getattr(torch.nn, name)(c, dtype=t_dt, **kw)
    mm = getattr(mt.nn, name)(c, dtype=getattr(mt, dtype), **kw)
    with torch.no_grad():
        if tm.weight is not None:
            tm.weight.uniform_(0.5, 1.5)
        if tm.bias is not None:
            tm.bias.uniform_(-0.5, 0.5)
    copy_state(mm, tm)
    for step in range(5):
        compare_module(mm, tm, _x(*shape, dtype=dtype) * (step + 1) + step, train=True, copy=False)
        compare_buffers(mm, tm)
    if kw.get("track_running_stats", True):
        assert mm.num_batches_tracked.dtype == mt.int64 and mm.num_batches_tracked.item() == 5
    else:
        assert mm.running_mean is None and mm.num_batches_tracked is None
    compare_module(mm, tm, _x(*shape, dtype=dtype), train=False, copy=False)
    compare_buffers(mm, tm)


def test_batchnorm_one_dispatch_jit_and_functional_update():
    x = mt.tensor(_x(5, 3))
    rm, rv = mt.zeros(3), mt.ones(3)
    v0 = rm._version
    out = F.batch_norm(x, rm, rv, training=True, momentum=0.2)
    tx, trm, trv = torch.from_numpy(np.asarray(x._data)), torch.zeros(3), torch.ones(3)
    tout = torch.nn.functional.batch_norm(tx, trm, trv, training=True, momentum=0.2)
    assert_same(out, tout)
    assert_same(rm, trm)
    assert_same(rv, trv)
    assert rm._version == v0 + 1
    # torch.batch_norm's ATen signature
    out2 = mt.batch_norm(x, None, None, rm, rv, False, 0.1, 1e-5, True)
    assert_same(out2, torch.batch_norm(tx, None, None, trm, trv, False, 0.1, 1e-5, True))

    # under an outer jax.jit the running stats become tracers and come back out
    @jax.jit
    def step(xa, rma, rva):
        r_m, r_v = _wrap(rma), _wrap(rva)
        y = F.batch_norm(_wrap(xa), r_m, r_v, training=True)
        return y._data, r_m._data, r_v._data

    y, new_m, new_v = step(x._data, mt.zeros(3)._data, mt.ones(3)._data)
    trm2, trv2 = torch.zeros(3), torch.ones(3)
    ty = torch.nn.functional.batch_norm(tx, trm2, trv2, training=True)
    np.testing.assert_allclose(np.asarray(y), ty.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(new_m), trm2.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(new_v), trv2.numpy(), rtol=1e-5, atol=1e-6)


@needs_torch(2, 13, "the norm layers' bias argument")
def test_batchnorm_errors_and_repr():
    bn = mt.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(mt.randn(1, 3))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\).*3 channels.*\[2, 4\]"):
        bn(mt.randn(2, 4))
    with pytest.raises(ValueError, match="2D or 3D"):
        bn(mt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="4D"):
        mt.nn.BatchNorm2d(3)(mt.randn(2, 3))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(mt.randn(4, 3), None, None, training=False)
    for args in [(3,), (3, 1e-3, None, False, False)]:
        assert repr(mt.nn.BatchNorm2d(*args)) == repr(torch.nn.BatchNorm2d(*args))
    assert repr(mt.nn.BatchNorm1d(4, bias=False)) == repr(torch.nn.BatchNorm1d(4, bias=False))


def test_batchnorm_state_dict_and_reset():
    tm = torch.nn.BatchNorm1d(3)
    tm(torch.randn(4, 3))
    mm = mt.nn.BatchNorm1d(3)
    copy_state(mm, tm)
    compare_buffers(mm, tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    # an old checkpoint without num_batches_tracked (no version metadata) loads, count filled in
    sd = {k: mt.tensor(v.numpy()) for k, v in tm.state_dict().items() if k != "num_batches_tracked"}
    res = mm.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys
    mm.reset_running_stats()
    assert mm.running_mean.tolist() == [0, 0, 0] and mm.running_var.tolist() == [1, 1, 1]
    assert mm.num_batches_tracked.item() == 0
    mm.reset_parameters()
    assert mm.weight.tolist() == [1, 1, 1] and mm.bias.tolist() == [0, 0, 0]
    assert mm.weight.requires_grad


@pytest.mark.parametrize("ns,shape,kw", [
    (4, (3, 4), {}), ((3, 4), (2, 3, 4), {"eps": 1e-3}), ([5], (2, 2, 5), {"bias": False}),
    ((4,), (2, 4), {"elementwise_affine": False})])
@pytest.mark.parametrize("dtype", ["float64"])
def test_layernorm(ns, shape, kw, dtype):
    tm = torch.nn.LayerNorm(ns, dtype=getattr(torch, dtype), **kw)
    mm = mt.nn.LayerNorm(ns, dtype=getattr(mt, dtype), **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(-1, 1)
    compare_module(mm, tm, _x(*shape, dtype=dtype))
    assert repr(mm) == repr(tm)


@pytest.mark.parametrize("ns,shape,kw", [
    (4, (3, 4), {}), ((3, 4), (2, 3, 4), {"eps": 1e-3}), ((4,), (2, 4), {"elementwise_affine": False})])
@pytest.mark.parametrize("dtype", ["float64"])
def test_rmsnorm(ns, shape, kw, dtype):
    tm = torch.nn.RMSNorm(ns, dtype=getattr(torch, dtype), **kw)
    mm = mt.nn.RMSNorm(ns, dtype=getattr(mt, dtype), **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(-1, 1)
    compare_module(mm, tm, _x(*shape, dtype=dtype))
    assert repr(mm) == repr(tm)


@pytest.mark.parametrize("g,c,shape,kw", [
    (2, 4, (3, 4), {}), (3, 6, (2, 6, 5), {"eps": 1e-3}), (1, 4, (2, 4, 3, 3), {"affine": False}),
    (4, 4, (2, 4, 2, 2), {"bias": False})])
@pytest.mark.parametrize("dtype", ["float64"])
@needs_torch(2, 13, "the norm layers' bias argument")
def test_groupnorm(g, c, shape, kw, dtype):
    tm = torch.nn.GroupNorm(g, c, dtype=getattr(torch, dtype), **kw)
    mm = mt.nn.GroupNorm(g, c, dtype=getattr(mt, dtype), **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(-1, 1)
    compare_module(mm, tm, _x(*shape, dtype=dtype))
    assert repr(mm) == repr(tm)


def test_float32_layers():
    for tm, mm, shape in [(torch.nn.LayerNorm((3, 4)), mt.nn.LayerNorm((3, 4)), (2, 3, 4)),
                          (torch.nn.RMSNorm(4), mt.nn.RMSNorm(4), (3, 4)),
                          (torch.nn.GroupNorm(2, 4), mt.nn.GroupNorm(2, 4), (2, 4, 3))]:
        with torch.no_grad():
            for p in tm.parameters():
                p.uniform_(-1, 1)
        compare_module(mm, tm, _x(*shape))


@pytest.mark.parametrize("name,shape,kw", [
    ("InstanceNorm1d", (2, 3, 5), {}), ("InstanceNorm1d", (3, 6), {"affine": True}),
    ("InstanceNorm2d", (2, 3, 4, 4), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (3, 4, 4), {"track_running_stats": True, "momentum": 0.3}),
    ("InstanceNorm3d", (1, 2, 2, 3, 3), {"affine": True})])
@needs_torch(2, 13, "the norm layers' bias argument")
def test_instancenorm_train_and_eval(name, shape, kw):
    c = shape[-3] if name == "InstanceNorm2d" and len(shape) == 4 else shape[-(int(name[-2]) + 1)]
    tm = getattr(torch.nn, name)(c, dtype=torch.float64, **kw)
    mm = getattr(mt.nn, name)(c, dtype=mt.float64, **kw)
    with torch.no_grad():
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    copy_state(mm, tm)
    for _ in range(3):
        compare_module(mm, tm, _x(*shape, dtype="float64"), copy=False)
        compare_buffers(mm, tm)
    compare_module(mm, tm, _x(*shape, dtype="float64"), train=False, copy=False)
    assert repr(mm) == repr(tm)


def test_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        mt.nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(mt.randn(4, 6), 4)
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4.*4 channels.*\[2, 6\]"):
        mt.nn.GroupNorm(2, 4)(mt.randn(2, 6))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(5,\).*\[5\].*\[4, 6\]"):
        mt.nn.LayerNorm(5)(mt.randn(4, 6))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[5\]"):
        F.layer_norm(mt.randn(4, 6), (5,))
    with pytest.raises(RuntimeError, match=r"RMSNorm"):
        mt.nn.RMSNorm(5)(mt.randn(4, 6))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        mt.nn.InstanceNorm1d(3)(mt.randn(2, 3, 1))
    with pytest.raises(ValueError, match="num_features"):
        mt.nn.InstanceNorm1d(3, affine=True)(mt.randn(2, 4, 5))


def test_local_response_norm_and_instance_norm_aten():
    tm, mm = torch.nn.LocalResponseNorm(3, 0.2, 0.5, 2.0), mt.nn.LocalResponseNorm(3, 0.2, 0.5, 2.0)
    compare_module(mm, tm, _x(2, 5, 3, 3))
    assert repr(mm) == repr(tm)
    x = _x(2, 3, 4)
    assert_same(mt.instance_norm(mt.tensor(x), None, None, None, None, True, 0.1, 1e-5, False),
                torch.instance_norm(torch.from_numpy(x), None, None, None, None, True, 0.1, 1e-5, False))


def test_half_precision_stays_half():
    x = mt.randn(4, 3, dtype=mt.bfloat16)
    assert F.layer_norm(x, (3,)).dtype == mt.bfloat16
    bn = mt.nn.BatchNorm1d(3)
    assert bn(mt.randn(4, 3)).dtype == mt.float32 and bn.running_mean.dtype == mt.float32
    y = F.group_norm(mt.randn(2, 4, dtype=mt.float16), 2)
    assert y.dtype == mt.float16
