"""Activation layers and the in-place / random parts of the activation functionals, against torch.

Kernel values and gradients are covered by the op samples (tests/test_op_parity.py); this file
checks the layers (repr, parity incl. parameter grads, train/eval), ``inplace=``, RReLU's
randomness and the layer-level errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.nn.functional as F

from .nn_oracle import compare_module
from .oracle import assert_same, to_mt, to_torch, torch

TF = torch.nn.functional
RNG = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return RNG.uniform(-4, 4, size=shape).astype(dtype)


LAYERS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.5}),
    ("SELU", (), {}), ("CELU", (1.5,), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (2.0, 5.0), {}), ("Softsign", (), {}), ("Tanh", (), {}),
    ("Sigmoid", (), {}), ("Hardtanh", (-2.0, 1.5), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}),
    ("LogSigmoid", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (1.0,), {}), ("Hardshrink", (), {}),
    ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}), ("GLU", (1,), {}), ("Softmax", (1,), {}),
    ("LogSoftmax", (-1,), {}), ("Softmin", (0,), {}), ("Softmax2d", (), {}), ("RReLU", (0.1, 0.3), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(mt.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name,args", [
    ("ReLU", (True,)), ("ReLU6", (True,)), ("LeakyReLU", (0.1, True)), ("ELU", (1.0, True)),
    ("CELU", (2.0, True)), ("SELU", (True,)), ("SiLU", (True,)), ("Hardtanh", (-1.0, 1.0, True)),
    ("Threshold", (0.5, 1.0, True)), ("RReLU", (0.1, 0.2, True)), ("Mish", (True,)),
    ("Hardswish", (True,)), ("Hardsigmoid", (True,)), ("Softmax", ()), ("Softmin", (None,))])
def test_repr_with_options(name, args):
    assert repr(getattr(mt.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


PARITY = [pytest.param(*c, d, id=f"{c[0]}-{i}-{d}") for i, c in enumerate(LAYERS)
          for d in (["float32", "float64"] if i % 4 == 0 else ["float32"])]


@pytest.mark.parametrize("name,args,kwargs,dtype", PARITY)
def test_layer_parity(name, args, kwargs, dtype):
    x = _x(2, 4, 3, 2, dtype=dtype)
    m, t = getattr(mt.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    if dtype == "float64":
        m, t = m.double(), t.double()
    for train in (False,) if name == "RReLU" else (True, False):  # RReLU train draws differ from torch
        compare_module(m, t, x, train=train)


def test_layer_equals_functional():
    x = mt.tensor(_x(3, 6))
    pairs = [(mt.nn.ELU(0.3), F.elu(x, 0.3)), (mt.nn.GELU("tanh"), F.gelu(x, approximate="tanh")),
             (mt.nn.Softplus(2.0), F.softplus(x, 2.0)), (mt.nn.GLU(1), F.glu(x, 1)),
             (mt.nn.Hardtanh(-0.5, 0.5), F.hardtanh(x, -0.5, 0.5)), (mt.nn.Softmin(1), F.softmin(x, 1)),
             (mt.nn.LeakyReLU(0.3), F.leaky_relu(x, 0.3)), (mt.nn.Threshold(0.2, -1.0), F.threshold(x, 0.2,
                                                                                                    -1.0))]
    for layer, expected in pairs:
        np.testing.assert_array_equal(np.asarray(layer(x)._data), np.asarray(expected._data))


def test_prelu_default_init_and_channels():
    p = mt.nn.PReLU(3, init=0.3, dtype=mt.float64)
    assert p.weight.shape == (3,) and p.weight.dtype is mt.float64
    np.testing.assert_allclose(np.asarray(p.weight._data), 0.3)
    assert [n for n, _ in p.named_parameters()] == ["weight"]
    with pytest.raises(RuntimeError, match="channel size"):
        p(mt.randn(2, 4, 5, dtype=mt.float64))
    tp = torch.nn.PReLU(3)
    compare_module(mt.nn.PReLU(3), tp, _x(2, 3, 4, 4))
    compare_module(mt.nn.PReLU(), torch.nn.PReLU(), _x(5))


@pytest.mark.parametrize("name,args", [("elu", ()), ("leaky_relu", (0.2,)), ("hardtanh", (-0.5, 0.5)),
                                       ("relu6", ()), ("selu", ()), ("celu", (2.0,)), ("silu", ()),
                                       ("mish", ()), ("hardswish", ()), ("hardsigmoid", ()),
                                       ("threshold", (0.3, -2.0)), ("rrelu", (0.1, 0.2))])
def test_functional_inplace(name, args):
    x = _x(3, 4)
    m, t = to_mt(x), to_torch(x)
    before = m._version
    out = getattr(F, name)(m, *args, inplace=True)
    t_out = getattr(TF, name)(t, *args, inplace=True)
    assert out is m and m._version == before + 1
    assert_same(m, t_out)
    # on a leaf that requires grad: RuntimeError, as torch
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(F, name)(mt.tensor(x, requires_grad=True), *args, inplace=True)
    # on a non-leaf: gradients flow through the rebound tensor
    ml, tl = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mo, to_ = ml * 2, tl * 2
    getattr(F, name)(mo, *args, inplace=True)
    getattr(TF, name)(to_, *args, inplace=True)
    mo.sum().backward()
    to_.sum().backward()
    assert_same(ml.grad, tl.grad)


@pytest.mark.parametrize("name,args", [("elu_", ()), ("leaky_relu_", (0.2,)), ("hardtanh_", ()), ("relu_",
                                                                                                  ()),
                                       ("selu_", ()), ("celu_", ()), ("threshold_", (0.1, 5.0)), ("rrelu_",
                                                                                                  ())])
def test_underscore_forms(name, args):
    x = _x(3, 4)
    m = to_mt(x)
    assert getattr(F, name)(m, *args) is m
    assert_same(m, getattr(TF, name)(to_torch(x), *args))
    if hasattr(torch, name):
        m2 = to_mt(x)
        assert getattr(mt, name)(m2, *args) is m2


def test_torch_level_names():
    for name in ["selu", "celu", "prelu", "rrelu", "threshold", "hardshrink", "selu_", "celu_", "rrelu_",
                 "threshold_", "relu_"]:
        assert hasattr(mt, name), name
    assert hasattr(mt.Tensor, "prelu") and hasattr(mt.Tensor, "hardshrink")


def test_rrelu_training_is_random_and_seeded():
    x = mt.tensor(-np.ones((200,), "float32"))
    mt.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.3, training=True)
    b = F.rrelu(x, 0.1, 0.3, training=True)
    mt.manual_seed(3)
    c = F.rrelu(x, 0.1, 0.3, training=True)
    av = -np.asarray(a._data)
    assert np.all((av >= 0.1) & (av <= 0.3)) and av.std() > 0.01
    assert not np.array_equal(np.asarray(a._data), np.asarray(b._data))
    np.testing.assert_array_equal(np.asarray(a._data), np.asarray(c._data))
    g = mt.Generator().manual_seed(5)
    d = F.rrelu(x, training=True, generator=g)
    assert d.shape == (200,)
    # positive inputs pass; the gradient is the drawn slope
    xr = mt.tensor(_x(50), requires_grad=True)
    y = F.rrelu(xr, 0.1, 0.3, training=True)
    y.sum().backward()
    xv, yv, gv = np.asarray(xr._data), np.asarray(y._data), np.asarray(xr.grad._data)
    np.testing.assert_allclose(gv[xv >= 0], 1.0)
    np.testing.assert_allclose(yv[xv < 0], xv[xv < 0] * gv[xv < 0], rtol=1e-6)


def test_rrelu_module_train_vs_eval():
    layer = mt.nn.RReLU(0.1, 0.3)
    x = mt.tensor(-np.ones((100,), "float32"))
    assert np.asarray(layer(x)._data).std() > 0.01
    layer.eval()
    np.testing.assert_allclose(np.asarray(layer(x)._data), -0.2, rtol=1e-6)


def test_layer_errors():
    with pytest.raises(ValueError, match="Softmax2d.*3D or 4D"):
        mt.nn.Softmax2d()(mt.randn(2, 3))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        mt.nn.GLU(1)(mt.randn(2, 3))
    with pytest.raises(RuntimeError, match="approximate"):
        mt.nn.GELU("foo")(mt.randn(2))
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        mt.nn.ELU()(mt.tensor([1, 2]))
    with pytest.raises(ValueError, match="min_val cannot be greater"):
        F.hardtanh(mt.randn(2), 1.0, 0.0)
    with pytest.raises(RuntimeError, match="Lower bound"):
        F.rrelu(mt.randn(2), 0.5, 0.1)


def test_one_dispatch_per_layer_and_float32_only():
    """A layer call is one compiled kernel; float32 programs stay float32 (no float64 constants)."""
    import jax

    from minitorch_jax._ops import REGISTRY
    for name, args in [("gelu", ()), ("elu", (0.5,)), ("hardswish", ()), ("softplus", (2.0, 5.0)),
                       ("celu", (2.0,)), ("glu", ())]:
        op = REGISTRY[name]
        text = jax.jit(lambda a, op=op, args=args: op.fn(a, *args)).lower(
            jax.ShapeDtypeStruct((4, 6), "float32")).as_text()
        assert "f64" not in text, name


def test_rrelu_under_jit():
    layer = mt.nn.RReLU()

    @mt.jit
    def f(x):
        return layer(x)

    x = mt.tensor(-np.ones((64,), "float32"))
    a, b = f(x), f(x)
    assert not np.array_equal(np.asarray(a._data), np.asarray(b._data)), "the key must advance across calls"
