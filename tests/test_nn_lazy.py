"""Lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) and the
UninitializedParameter / UninitializedBuffer placeholders against torch: reprs, state_dict keys, the
switch to ``cls_to_become``, parity after initialization, placeholder errors, load_state_dict,
optimizers built before the dry run, dtype conversion, copies, and mt.jit."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.modules import lazy as L
from minitorch_jax.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

from .nn_oracle import compare_buffers, compare_module
from .oracle import needs_torch, torch

rng = np.random.default_rng(0)
nn = mt.nn


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


# (class name, constructor args, kwargs, input shape)
CASES = [
    ("LazyLinear", (4,), {}, (3, 5)),
    ("LazyLinear", (2,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2, "groups": 2}, (2, 4, 7, 7)),
    ("LazyConv2d", (3, 2), {"bias": False, "padding_mode": "reflect", "padding": 1}, (3, 6, 6)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (2, 4, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {"bias": False}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (6, 3)),
    ("LazyBatchNorm1d", (), {"momentum": None, "affine": False}, (4, 3, 5)),
    ("LazyBatchNorm2d", (), {"bias": False}, (3, 4, 3, 3)),
    ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6)),
    ("LazyInstanceNorm2d", (), {"affine": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 2, 3, 3, 3)),
]


def _pair(name, args, kwargs, dtype="float32"):
    m = getattr(L, name)(*args, **kwargs, dtype=getattr(mt, dtype))
    t = getattr(torch.nn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    return m, t


@pytest.mark.parametrize("name,args,kwargs,shape", CASES)
@needs_torch(2, 13, "the norm layers' bias argument")
def test_lazy_repr_state_dict_and_switch_match_torch(name, args, kwargs, shape):
    m, t = _pair(name, args, kwargs)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in m.state_dict().items():
        tv = t.state_dict()[k]
        assert is_lazy(v) == torch.nn.parameter.is_lazy(tv), k
        if is_lazy(v):
            assert repr(v) == repr(tv)
            assert v is getattr(m, k)  # torch stores the placeholder itself
    assert m.has_uninitialized_params() == t.has_uninitialized_params()
    x = _x(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m(mt.tensor(x))
        t(torch.from_numpy(x))
    assert type(m).__name__ == type(t).__name__ == type(m).__name__  # the non-lazy class
    assert type(m) is getattr(nn, type(t).__name__)
    assert not isinstance(m, L.LazyModuleMixin)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in m.state_dict().items():
        assert tuple(v.shape) == tuple(t.state_dict()[k].shape), k
    for p in m.parameters():
        assert type(p) is nn.Parameter and p.requires_grad
    assert not m._forward_pre_hooks and not m._load_state_dict_pre_hooks
    assert not hasattr(m, "_initialize_hook")


@pytest.mark.parametrize("name,args,kwargs,shape", CASES[::2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_materialized_module_matches_torch(name, args, kwargs, shape, dtype):
    m, t = _pair(name, args, kwargs, dtype)
    x = _x(*shape, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m(mt.tensor(x))
        t(torch.from_numpy(x))
        for train in (True, False):
            compare_module(m, t, _x(*shape, dtype=dtype), train=train)
    compare_buffers(m, t)


def test_default_init_statistics_use_inferred_sizes():
    mt.manual_seed(0)
    fc = L.LazyLinear(256)
    fc(mt.ones(2, 16))
    w, b = fc.weight.detach().numpy(), fc.bias.detach().numpy()
    bound = 1 / math.sqrt(16)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02
    assert np.abs(b).max() <= bound
    conv = L.LazyConv2d(64, 3)
    conv(mt.ones(1, 8, 5, 5))
    fan_in = 8 * 9
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    assert np.abs(conv.bias.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    bn = L.LazyBatchNorm2d()
    bn.eval()
    bn(mt.ones(2, 5, 3, 3))
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == mt.int64


def test_placeholder_behaviour_like_torch():
    p, tp = UninitializedParameter(), torch.nn.parameter.UninitializedParameter()
    b, tb = UninitializedBuffer(), torch.nn.parameter.UninitializedBuffer()
    assert repr(p) == repr(tp) == str(p) and repr(b) == repr(tb)
    assert isinstance(p, nn.Parameter) and isinstance(p, mt.Tensor) and not isinstance(b, nn.Parameter)
    assert is_lazy(p) and is_lazy(b) and not is_lazy(nn.Parameter(mt.ones(1))) and not is_lazy(mt.ones(1))
    assert mt.nn.parameter.is_lazy(p)
    assert p.requires_grad and not b.requires_grad
    # made on the default device (torch's is the CPU; mt's is JAX's default, the accelerator if any)
    assert p.dtype == mt.float32 and p.device == mt.get_default_device()
    assert p.size() == mt.Size([0]) == tp.size()
    assert p.is_floating_point() and not p.is_complex()
    assert UninitializedParameter(dtype=mt.float64).dtype == mt.float64
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        _ = p.shape
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        _ = tp.shape
    for fn, opname in [(lambda q: q + 1, "add"), (lambda q: q.sum(), "sum"), (lambda q: q.numel(), "numel"),
                       (lambda q: mt.nn.functional.linear(mt.ones(2, 3), q), "linear"),
                       (lambda q: q.requires_grad_(False), "requires_grad_")]:
        with pytest.raises(ValueError, match=f"Attempted to use an uninitialized parameter in '{opname}'"):
            fn(p)
    with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
        tp.sum()
    with pytest.raises(ValueError, match="uninitialized parameter in 'mul'.*UninitializedBuffer"):
        b * 2
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        p.share_memory_()
    # dtype conversion: a parameter gives a plain (empty) tensor, a buffer stays a placeholder (as torch)
    q = p.double()
    assert type(q) is mt.Tensor and q.dtype == mt.float64
    assert type(tp.double()) is torch.Tensor
    bd = b.to(mt.float64)
    assert type(bd) is UninitializedBuffer and bd.dtype == mt.float64
    assert type(tb.to(torch.float64)) is type(tb)
    # materialize turns the object itself into a Parameter / Tensor
    p.materialize((2, 3), dtype=mt.float64)
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.dtype == mt.float64 and p.requires_grad
    assert (p + 1).shape == (2, 3)
    b.materialize(4)
    assert type(b) is mt.Tensor and b.shape == (4,)
    c = copy.deepcopy(UninitializedParameter(dtype=mt.float64))
    assert type(c) is UninitializedParameter and c.dtype == mt.float64
    assert type(pickle.loads(pickle.dumps(UninitializedParameter()))) is UninitializedParameter


def test_has_uninitialized_and_initialize_parameters():
    m = L.LazyLinear(3)
    assert m.has_uninitialized_params()
    m.initialize_parameters(mt.ones(2, 5))  # explicit: stays a LazyLinear until forward (as torch)
    assert type(m) is L.LazyLinear and not m.has_uninitialized_params()
    assert m.in_features == 5 and m.weight.shape == (3, 5)
    assert repr(m) == "LazyLinear(in_features=5, out_features=3, bias=True)"
    m(mt.ones(2, 5))
    assert type(m) is nn.Linear

    class Bare(L.LazyModuleMixin, nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented for Bare"):
        Bare()(mt.ones(1))

    class Half(L.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            pass

        def forward(self, x):
            return x

    with pytest.raises(RuntimeError, match="module Half has not been fully initialized"):
        Half()(mt.ones(1))


def test_dtype_and_device_conversion_before_the_dry_run():
    for m, x in [(L.LazyLinear(3).double(), mt.ones(2, 4, dtype=mt.float64)),
                 (L.LazyBatchNorm1d().to(mt.float64), mt.randn(4, 3, dtype=mt.float64)),
                 (L.LazyConv1d(2, 1).to("cpu").half().double(), mt.ones(1, 3, 4, dtype=mt.float64))]:
        assert all(p.dtype == mt.float64 for p in m.parameters())
        assert all(is_lazy(p) for p in m.parameters())
        out = m(x)
        assert out.dtype == mt.float64
        assert all(p.dtype == mt.float64 for p in m.parameters())
        assert all(b.dtype in (mt.float64, mt.int64) for b in m.buffers())
    t = torch.nn.LazyLinear(3).double()
    t(torch.ones(2, 4, dtype=torch.float64))
    assert t.weight.dtype == torch.float64


def test_load_state_dict_into_lazy_module():
    src = nn.Linear(3, 4)
    m = L.LazyLinear(4)
    assert str(m.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    assert type(m) is L.LazyLinear and type(m.weight) is nn.Parameter and not m.has_uninitialized_params()
    assert np.array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
    assert m.in_features == 0  # as torch: set by the next forward
    x = mt.randn(2, 3)
    assert np.allclose(m(x).detach().numpy(), src(x).detach().numpy())
    assert type(m) is nn.Linear and m.in_features == 3
    # the loaded weight, not a re-initialized one, is used; a mismatching input is caught
    m2 = L.LazyLinear(4)
    m2.load_state_dict(src.state_dict())
    with pytest.raises(AssertionError, match="in_features inferred from input: 5 is not equal to in_features "
                                             "from self.weight: 3"):
        m2(mt.ones(2, 5))
    # a partial state_dict: the loaded entry is materialized, the error names the missing key (as torch)
    m3 = L.LazyLinear(4)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        m3.load_state_dict({"weight": mt.randn(4, 3)})
    assert type(m3.weight) is nn.Parameter and is_lazy(m3.bias)
    # lazy into lazy: stays lazy; lazy into initialized: torch's shape error
    m4 = L.LazyLinear(4)
    assert not m4.load_state_dict(L.LazyLinear(4).state_dict()).missing_keys
    assert is_lazy(m4.weight) and is_lazy(m4.bias)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.Linear(3, 4).load_state_dict(L.LazyLinear(4).state_dict())
    # conv and batchnorm: the loaded shapes give in_channels / num_features at the first forward
    conv, bn = L.LazyConv2d(4, 3, groups=2), L.LazyBatchNorm1d()
    conv.load_state_dict(nn.Conv2d(6, 4, 3, groups=2).state_dict())
    bn.load_state_dict(nn.BatchNorm1d(5).state_dict())
    assert conv(mt.ones(1, 6, 5, 5)).shape == (1, 4, 3, 3) and conv.in_channels == 6
    assert bn(mt.randn(4, 5)).shape == (4, 5) and bn.num_features == 5
    assert type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm1d
    # a nested model: keys as torch's
    net = nn.Sequential(L.LazyLinear(3), nn.ReLU(), L.LazyBatchNorm1d())
    tnet = torch.nn.Sequential(torch.nn.LazyLinear(3), torch.nn.ReLU(), torch.nn.LazyBatchNorm1d())
    assert list(net.state_dict()) == list(tnet.state_dict())


def test_optimizer_built_before_the_dry_run():
    # torch builds optimizers over uninitialized parameters without error or warning: so do we
    for make in (lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: mt.optim.Adam(ps, lr=0.1)):
        net = nn.Sequential(L.LazyLinear(5), nn.Tanh(), L.LazyLinear(1))
        params = list(net.parameters())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt = make(net.parameters())
        opt.zero_grad()
        opt.step()  # no gradients yet: nothing happens
        loss = net(mt.randn(8, 3)).pow(2).mean()
        loss.backward()
        before = [p.detach().numpy().copy() for p in net.parameters()]
        opt.step()
        assert [id(p) for p in net.parameters()] == [id(p) for p in params]
        assert all(not np.allclose(a, p.detach().numpy()) for a, p in zip(before, net.parameters()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.optim.Adam(torch.nn.LazyLinear(3).parameters())


def test_errors_like_torch():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
                                           r"LazyConv2d, but got input of size: .*\[3, 5\]"):
        L.LazyConv2d(4, 3)(mt.randn(3, 5))
    with pytest.raises(RuntimeError, match="Expected 3D"):
        torch.nn.LazyConv2d(4, 3)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        L.LazyConv2d(4, 3, groups=2)(mt.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        torch.nn.LazyConv2d(4, 3, groups=2)(torch.randn(1, 3, 5, 5))
    # torch initializes from input.shape[1] and then BatchNorm2d rejects the 2-D input: same here
    m = L.LazyBatchNorm2d()
    with pytest.raises(ValueError, match="expected 4D input \\(got 2D input"):
        m(mt.randn(3, 5))
    assert type(m) is nn.BatchNorm2d and m.num_features == 5
    with pytest.raises(ValueError, match="LazyBatchNorm1d: expected an input with at least 2 dims"):
        L.LazyBatchNorm1d()(mt.randn(3))
    with pytest.raises(RuntimeError, match="LazyLinear: expected an input Tensor with at least 1 dim"):
        L.LazyLinear(3)(mt.tensor(1.0))
    with pytest.raises(RuntimeError, match="DataParallel"):
        L.LazyLinear(3)._replicate_for_data_parallel()
    with pytest.raises(ValueError, match="uninitialized parameter"):
        L.LazyLinear(3).requires_grad_(False)
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in L.LazyLinear(3).parameters())


@needs_torch(2, 13, "the norm layers' bias argument")
def test_lazy_instance_norm_without_parameters_keeps_zero_features_like_torch():
    m = L.LazyInstanceNorm1d(affine=False, track_running_stats=False)
    t = torch.nn.LazyInstanceNorm1d(affine=False, track_running_stats=False)
    assert not m.has_uninitialized_params()
    x = _x(2, 3, 5)
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = m(mt.tensor(x))
    with pytest.warns(UserWarning, match="does not match num_features"):
        tout = t(torch.from_numpy(x))
    assert repr(m) == repr(t)
    assert np.allclose(out.numpy(), tout.numpy(), atol=1e-5)


def test_copies_of_a_lazy_module_initialize_independently():
    m = L.LazyLinear(3)
    c = copy.deepcopy(m)
    c(mt.ones(2, 4))
    assert type(c) is nn.Linear and type(m) is L.LazyLinear and is_lazy(m.weight)
    c(mt.ones(2, 4))  # hooks of the copy were removed
    m(mt.ones(2, 6))
    assert m.in_features == 6
    p = pickle.loads(pickle.dumps(L.LazyConv1d(2, 3)))
    assert type(p) is L.LazyConv1d and is_lazy(p.weight)
    p(mt.ones(1, 5, 7))
    assert type(p) is nn.Conv1d and p.in_channels == 5


def test_lazy_modules_in_mt_jit():
    mt.manual_seed(0)
    net = nn.Sequential(L.LazyLinear(8), nn.ReLU(), L.LazyLinear(2))
    opt = mt.optim.Adam(net.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    x, y = mt.randn(4, 5), mt.randn(4, 2)
    compiled = mt.jit(step)
    mt.manual_seed(1)  # the weights are drawn at the first call
    losses = [float(compiled(x, y)) for _ in range(4)]
    assert type(net[0]) is nn.Linear and net[0].in_features == 5
    assert compiled.num_compiles == 1
    assert losses[-1] < losses[0]
    # same run eagerly from the same weights gives the same losses
    net2 = nn.Sequential(L.LazyLinear(8), nn.ReLU(), L.LazyLinear(2))
    opt2 = mt.optim.Adam(net2.parameters(), lr=0.01)
    mt.manual_seed(1)
    eager = []
    for _ in range(4):
        opt2.zero_grad()
        loss = ((net2(x) - y) ** 2).mean()
        loss.backward()
        opt2.step()
        eager.append(float(loss))
    assert np.allclose(losses, eager, rtol=1e-5, atol=1e-6)
    # an inference-only compiled module
    model = nn.Sequential(L.LazyConv2d(3, 3), L.LazyBatchNorm2d()).eval()
    f = mt.jit(model)
    with mt.no_grad():
        a = f(mt.ones(2, 4, 6, 6))
        b = f(mt.ones(2, 4, 6, 6))
    assert a.shape == b.shape == (2, 3, 4, 4) and np.allclose(a.numpy(), b.numpy())
    assert type(model[0]) is nn.Conv2d and type(model[1]) is nn.BatchNorm2d
