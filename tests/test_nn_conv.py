"""Convolution layers against torch: outputs and gradients (compare_module), default init,
errors, reprs, the output-size formula, and the one-dispatch forward."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax._ops import _registry

from .nn_oracle import compare_module
from .oracle import torch

TOL = dict(rtol=1e-4, atol=1e-4)
rng = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


def _pair(cls_name, *args, dtype="float32", **kw):
    t = getattr(torch.nn, cls_name)(*args, **kw)
    m = getattr(mt.nn, cls_name)(*args, **kw)
    if dtype == "float64":
        t = t.double()
        m = m.double()
    return m, t


CONV_CASES = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 2), dict(stride=2, padding=1, dilation=2, groups=2), (2, 4, 11)),
    ("Conv1d", (2, 4, 3), dict(padding=1, padding_mode="circular"), (2, 2, 7)),
    ("Conv1d", (2, 4, 4), dict(padding="same", bias=False), (2, 7)),
    ("Conv2d", (3, 8, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), (2, 4, 8, 9)),
    ("Conv2d", (6, 6, 3), dict(padding=1, groups=6), (1, 6, 5, 5)),  # depthwise
    ("Conv2d", (3, 4, 3), dict(padding="same", dilation=2), (2, 3, 6, 7)),
    ("Conv2d", (3, 4, 3), dict(padding="valid"), (3, 6, 7)),  # unbatched
    ("Conv2d", (2, 4, 3), dict(padding=(1, 2), padding_mode="reflect"), (2, 2, 5, 6)),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="replicate"), (2, 2, 5, 6)),
    ("Conv2d", (2, 4, 4), dict(padding="same", padding_mode="circular"), (2, 2, 5, 6)),
    ("Conv3d", (2, 3, 2), dict(stride=2, padding=1), (2, 2, 5, 4, 5)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 6)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, groups=2, dilation=2, output_padding=1), (2, 4, 4, 5)),
    ("ConvTranspose2d", (3, 2, (2, 3)), dict(padding=(1, 0), bias=False), (3, 4, 4)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=(1, 2, 1)), (1, 2, 3, 4, 3)),
]


# float64 on every third case keeps the file fast
_PARAMS = [pytest.param(*c, dt, id=f"{c[0]}-{i}-{dt}") for i, c in enumerate(CONV_CASES)
           for dt in (("float32", "float64") if i % 3 == 0 else ("float32",))]


@pytest.mark.parametrize("name,args,kw,shape,dtype", _PARAMS)
def test_conv_layers_match_torch(name, args, kw, shape, dtype):
    m, t = _pair(name, *args, dtype=dtype, **kw)
    assert repr(m) == repr(t)
    tol = TOL if dtype == "float32" else {}
    compare_module(m, t, _x(*shape, dtype=dtype), train=dtype == "float32", **tol)


def test_conv_transpose_output_size():
    m, t = _pair("ConvTranspose2d", 2, 3, 3, stride=2, padding=1)
    x = _x(1, 2, 4, 4)
    compare_module(m, t, x, kwargs={"output_size": [8, 8]}, **TOL)
    assert tuple(m(mt.tensor(x), output_size=(1, 3, 7, 8)).shape) == (1, 3, 7, 8)
    with pytest.raises(ValueError):
        m(mt.tensor(x), output_size=(12, 12))


@pytest.mark.parametrize("name,args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 64, 5)),
                                       ("ConvTranspose2d", (16, 32, 3)), ("Conv3d", (4, 8, 3))])
def test_default_init_statistics(name, args):
    mt.manual_seed(0)
    m = getattr(mt.nn, name)(*args)
    w = np.asarray(m.weight._data)
    b = np.asarray(m.bias._data)
    fan_in = w.shape[1] * int(np.prod(w.shape[2:]))
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert np.abs(b).max() <= bound + 1e-7
    assert m.weight.dtype == mt.float32 and m.weight.requires_grad
    m64 = getattr(mt.nn, name)(*args, dtype=mt.float64, bias=False)
    assert m64.weight.dtype == mt.float64 and m64.bias is None


def test_wrong_channels_names_layer_and_shapes():
    m = mt.nn.Conv2d(3, 8, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 8.*3 channels.*\[2, 4, 8, 8\]"):
        m(mt.randn(2, 4, 8, 8))
    with pytest.raises(RuntimeError, match=r"ConvTranspose1d.*4 channels.*\[3, 5\]"):
        mt.nn.ConvTranspose1d(4, 2, 3)(mt.randn(3, 5))


def test_kernel_larger_than_input_and_bad_args():
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        mt.nn.Conv2d(3, 8, 5)(mt.randn(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match="negative padding"):
        mt.nn.functional.conv2d(mt.randn(1, 3, 5, 5), mt.randn(2, 3, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D .batched. input to conv2d"):
        mt.nn.Conv2d(3, 8, 3)(mt.randn(3, 5))
    for kw, match in [(dict(groups=2), "in_channels must be divisible by groups"),
                      (dict(groups=0), "groups must be a positive integer"),
                      (dict(padding="full"), "Invalid padding string"),
                      (dict(padding="same", stride=2), "not supported for strided"),
                      (dict(padding_mode="mirror"), "padding_mode must be one of")]:
        with pytest.raises(ValueError, match=match):
            mt.nn.Conv2d(3, 8, 3, **kw)
    with pytest.raises(ValueError, match="zeros"):
        mt.nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="expected scalar type"):
        mt.conv2d(mt.randn(1, 3, 5, 5, dtype=mt.float64), mt.randn(2, 3, 3, 3))


def test_functional_names():
    assert mt.conv2d is mt.nn.functional.conv2d and mt.conv_transpose1d is mt.nn.functional.conv_transpose1d
    assert not hasattr(mt.Tensor, "conv2d")


def test_conv2d_forward_is_one_dispatch(monkeypatch):
    m = mt.nn.Conv2d(3, 4, 3, padding=1)
    x = mt.randn(2, 3, 6, 6)
    m(x)  # compile
    seen = []
    real = _registry.dispatch

    def counting(op, *a, **k):
        seen.append(op.name)
        return real(op, *a, **k)

    monkeypatch.setattr(_registry, "dispatch", counting)
    with mt.no_grad():
        m(x)
    assert seen == ["conv2d"]
    seen.clear()
    y = m(x)
    assert seen == ["conv2d"] and y.grad_fn is not None
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0"


def _out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@settings(max_examples=15)
@given(n=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), groups=st.sampled_from([1, 2]))
def test_conv_output_shape_formula(n, k, s, p, d, groups):
    x = mt.zeros(1, 2, n, n + 1)
    w = mt.zeros(4, 2 // groups, k, k)
    oh, ow = _out(n, k, s, p, d), _out(n + 1, k, s, p, d)
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(RuntimeError):
            mt.conv2d(x, w, None, s, p, d, groups)
        return
    assert tuple(mt.conv2d(x, w, None, s, p, d, groups).shape) == (1, 4, oh, ow)
    assert tuple(torch.conv2d(torch.zeros(1, 2, n, n + 1), torch.zeros(4, 2 // groups, k, k), None, s, p, d,
                              groups).shape) == (1, 4, oh, ow)
    for op in range(max(s, d)):
        xt = mt.zeros(1, 2, n, n)
        wt = mt.zeros(2, 3, k, k)
        out = mt.conv_transpose2d(xt, wt, None, s, 0, op, 1, d).shape[-1]
        assert out == (n - 1) * s + d * (k - 1) + op + 1
