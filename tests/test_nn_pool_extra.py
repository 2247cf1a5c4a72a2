"""The ``*_with_indices`` pooling aliases, torch's top-level pooling names, fractional max pooling and
CrossMapLRN2d against torch: values, indices, gradients, module state, errors."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.nn.functional as F
from minitorch_jax._ops.nn_pool_extra import fractional_windows, lrn_windows

from .nn_oracle import compare_module
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

TF = torch.nn.functional
rng = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


def _same_call(mt_fn, t_fn, args, kwargs=None, grad=True, rtol=None, atol=None):
    kwargs = kwargs or {}
    t_args, m_args = to_torch(list(args), grad), to_mt(list(args), grad)
    t_out = t_fn(*t_args, **{k: to_torch(v) for k, v in kwargs.items()})
    m_out = mt_fn(*m_args, **{k: to_mt(v) for k, v in kwargs.items()})
    assert_same(m_out, t_out, rtol, atol)
    if grad:
        check_grads(m_out, t_out, m_args, t_args, rtol, atol)
    return m_out


# ----- with_indices aliases and top-level names ------------------------------------------------
def test_with_indices_aliases():  # (op parity covers 1d-3d; this checks the tuple and the ignored flag)
    nd = 2
    x = _x(2, 2, *(6,) * nd)
    name = f"max_pool{nd}d_with_indices"
    out = _same_call(getattr(F, name), getattr(TF, name), [x, 2], dict(return_indices=False), grad=False)
    assert isinstance(out, tuple) and out[1].dtype == mt.int64
    name = f"adaptive_max_pool{nd}d_with_indices"
    out = _same_call(getattr(F, name), getattr(TF, name), [x, 3], grad=False)
    assert isinstance(out, tuple) and len(out) == 2


def test_torch_level_tuple_returning_pools():
    x = _x(2, 3, 9)
    assert mt.max_pool1d_with_indices is F.max_pool1d_with_indices  # (op parity compares it with torch's)
    _same_call(mt.adaptive_max_pool1d, torch.adaptive_max_pool1d, [x, 4])
    assert isinstance(F.adaptive_max_pool1d(mt.tensor(x), 4), mt.Tensor)  # F keeps return_indices=False
    with pytest.raises(RuntimeError, match="max_pool1d"):
        mt.max_pool1d_with_indices(mt.tensor(x), 0)


def test_torch_level_single_output_pools():
    for name, x, args in [("max_pool1d", _x(2, 3, 9), (3, 2)), ("max_pool2d", _x(2, 6, 6), (2,)),
                          ("max_pool3d", _x(1, 2, 4, 4, 4), (2,)), ("avg_pool1d", _x(2, 3, 9), (3,)),
                          ("adaptive_avg_pool1d", _x(2, 3, 9), (4,))]:
        _same_call(getattr(mt, name), getattr(torch, name), [x, *args], rtol=1e-5, atol=1e-6)


# ----- fractional max pooling ------------------------------------------------------------------
def test_fractional_windows_match_torch_bits():
    """Window starts computed in float32 with truncation, as torch: indices of an increasing input
    are each window's last element, so they show the starts."""
    for n, o, k in [(13, 6, 3), (31, 17, 2), (9, 1, 3)]:
        u = np.concatenate([rng.random(50), [0.0, 0.5, 1 / 3, 0.9999999]]).astype("float32")
        x = torch.arange(n, dtype=torch.float32).reshape(1, 1, 1, n).expand(len(u), 1, 1, n)
        s = torch.from_numpy(np.stack([u, np.zeros_like(u)], -1)[:, None])
        _, ind = torch.ops.aten.fractional_max_pool2d(x.contiguous(), [1, k], [1, o], s)
        got = np.asarray(fractional_windows(mt.tensor(u)._data, n, o, k)) + k - 1
        np.testing.assert_array_equal(got, ind[:, 0, 0].numpy())


@pytest.mark.parametrize("nd,shape,k,osize,dtype", [
    (2, (2, 3, 9, 11), 2, (4, 5), "float32"), (2, (3, 8, 8), (3, 2), 3, "float64"),
    (3, (2, 2, 6, 5, 7), (2, 1, 3), (3, 4, 2), "float32")])
def test_fractional_matches_torch_given_samples(nd, shape, k, osize, dtype):
    x = _x(*shape, dtype=dtype)
    if nd == 2 and dtype == "float32":
        x = np.round(x)  # ties: the first maximum wins and takes the gradient
    batch = shape[0] if len(shape) == nd + 2 else 1
    s = rng.random((batch, shape[-nd - 1], nd)).astype(dtype)
    name = f"fractional_max_pool{nd}d"
    _same_call(getattr(F, name), getattr(TF, name), [x, k],
               dict(output_size=osize, return_indices=True, _random_samples=s))
    out = _same_call(getattr(F, name + "_with_indices"), getattr(TF, name + "_with_indices"), [x, k],
                     dict(output_size=osize, _random_samples=s))
    assert out[1].dtype == mt.int64


def test_fractional_output_ratio_nan_and_unpool():
    x = _x(2, 3, 10, 9)
    x[0, 0, :4, :4] = np.nan
    s = rng.random((2, 3, 2)).astype("float32")
    m_out, m_ind = F.fractional_max_pool2d(mt.tensor(x), 2, output_ratio=0.5, return_indices=True,
                                           _random_samples=mt.tensor(s))
    t_out, t_ind = TF.fractional_max_pool2d(torch.tensor(x), 2, output_ratio=(0.5, 0.5), return_indices=True,
                                            _random_samples=torch.tensor(s))
    assert_same(m_out, t_out)
    assert_same(m_ind, t_ind)
    un = F.max_unpool2d(m_out, m_ind, 2, output_size=(10, 9))
    assert tuple(un.shape) == (2, 3, 10, 9)


def test_fractional_draws_from_mt_generator():
    x = mt.tensor(_x(2, 3, 9, 11))  # (shapes as above: the kernels are compiled already)
    mt.manual_seed(3)
    a, ia = F.fractional_max_pool2d(x, 2, output_size=(4, 5), return_indices=True)
    mt.manual_seed(3)
    b, ib = F.fractional_max_pool2d(x, 2, output_size=(4, 5), return_indices=True)
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    mt.manual_seed(3)
    s = mt.rand(2, 3, 2)  # the same draw, given explicitly
    np.testing.assert_array_equal(
        F.fractional_max_pool2d(x, 2, output_size=(4, 5), _random_samples=s).numpy(), a.numpy())
    draws = {F.fractional_max_pool2d_with_indices(x, 2, output_size=(4, 5))[1].numpy().tobytes()
             for _ in range(4)}
    assert len(draws) > 1, "successive calls must draw new samples"


def test_fractional_modules():
    x = _x(2, 3, 9, 11)
    s = rng.random((2, 3, 2)).astype("float32")
    t = torch.nn.FractionalMaxPool2d(2, output_size=(4, 5), _random_samples=torch.tensor(s))
    m = mt.nn.FractionalMaxPool2d(2, output_size=(4, 5), _random_samples=mt.zeros(2, 3, 2))
    compare_module(m, t, x)  # copies the _random_samples buffer from torch
    assert "_random_samples" in m.state_dict() and repr(m) == repr(t) == "FractionalMaxPool2d()"
    x3 = _x(2, 2, 6, 5, 7)
    s3 = rng.random((2, 2, 3)).astype("float32")
    t = torch.nn.FractionalMaxPool3d((2, 1, 3), output_ratio=(0.5, 0.8, 0.3), return_indices=True,
                                     _random_samples=torch.tensor(s3))
    m = mt.nn.FractionalMaxPool3d((2, 1, 3), output_ratio=(0.5, 0.8, 0.3), return_indices=True,
                                  _random_samples=mt.tensor(s3))
    compare_module(m, t, x3, copy=False)
    m = mt.nn.FractionalMaxPool2d(2, output_ratio=(0.5, 0.5))
    assert m._random_samples is None and "_random_samples" not in m.state_dict()
    assert tuple(m(mt.randn(2, 9, 11)).shape) == (2, 4, 5)


def test_fractional_under_jit_draws_each_call():
    m = mt.nn.FractionalMaxPool2d(2, output_size=3, return_indices=True)
    f = mt.jit(m)
    x = mt.tensor(_x(1, 2, 7, 7))
    mt.manual_seed(0)
    a = f(x)[1].numpy()
    b = f(x)[1].numpy()
    mt.manual_seed(0)
    np.testing.assert_array_equal(f(x)[1].numpy(), a)
    assert f.num_compiles == 1 and a.shape == b.shape == (1, 2, 3, 3)


@pytest.mark.parametrize("call,exc,match", [
    (lambda x: F.fractional_max_pool2d(x, 2), ValueError, "either an output_size or an output_ratio"),
    (lambda x: F.fractional_max_pool2d(x, 3, output_size=(6, 6)), RuntimeError,
     r"pool height 3 too large relative to input height 7"),
    (lambda x: F.fractional_max_pool2d(x, 3, output_size=(5, 7)), RuntimeError, "pool width 3"),
    (lambda x: F.fractional_max_pool2d(x, (2, 3, 4), output_size=3), RuntimeError, "kernel_size must"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=(3, 4, 5)), RuntimeError, "output_size must"),
    (lambda x: F.fractional_max_pool2d(x, 0, output_size=3), RuntimeError, "greater than zero"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5, 0.5)), ValueError, "output_ratio"),
    (lambda x: F.fractional_max_pool2d(x[0, 0], 2, output_size=2), RuntimeError, r"Expected 3D or 4D"),
    (lambda x: F.fractional_max_pool2d(x[:, :0], 2, output_size=2), RuntimeError, "dimension 1 being empty"),
    (lambda x: F.fractional_max_pool2d(x.long(), 2, output_size=2), NotImplementedError, "'Long'"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=mt.rand(2, 3, 3)),
     RuntimeError, r"size\(2\) equals to 2; got 3"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=mt.rand(1, 3, 2)),
     RuntimeError, r"size\(0\) no less then input batch size"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=mt.rand(2, 4, 2)),
     RuntimeError, r"size\(1\) equals to input channel size"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=mt.rand(3, 2)),
     RuntimeError, "3 dimensions, got 2"),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=mt.rand(2, 3, 2).double()),
     RuntimeError, "same dtype as input"),
    (lambda x: F.fractional_max_pool3d(x[0], 2, output_size=2), RuntimeError, r"Expected 4D or 5D"),
    (lambda x: F.fractional_max_pool3d(x[None], 3, output_size=(1, 3, 7)), RuntimeError, "pool width 3"),
    (lambda x: mt.nn.FractionalMaxPool2d(2), ValueError, "output size, or a pooling ratio"),
    (lambda x: mt.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5), ValueError, "only one of"),
    (lambda x: mt.nn.FractionalMaxPool2d(2, output_ratio=1.5), ValueError, r"between 0 and 1 \(got 1.5\)"),
    (lambda x: mt.nn.FractionalMaxPool3d(0, output_size=2), ValueError, "kernel_size must be greater than 0"),
])
def test_fractional_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(mt.randn(2, 3, 7, 8))


# ----- CrossMapLRN2d -------------------------------------------------------------------------------
@pytest.mark.parametrize("size,channels,dtype", [(3, 6, "float32"), (4, 5, "float64")])
def test_cross_map_lrn2d_matches_torch(size, channels, dtype):
    x = _x(2, channels, 3, 4, dtype=dtype) * 2
    t = torch.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.7, k=1.5)
    m = mt.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.7, k=1.5)
    out, _ = compare_module(m, t, x, rtol=1e-5, atol=1e-6)
    assert type(out.grad_fn).__name__ == "CrossMapLRN2dBackward"
    assert repr(m) == repr(t)


def test_cross_map_lrn2d_windows_and_errors():
    fwd, bwd = lrn_windows(6, 3)
    assert fwd[0].tolist() == [1, 1, 0, 0, 0, 0] and fwd[3].tolist() == [1, 0, 1, 1, 1, 0]  # torch's quirk
    assert bwd[2].tolist() == [1, 1, 1, 0, 0, 0]
    assert (lrn_windows(4, 1)[1] == lrn_windows(4, 1)[0].T).all()
    # size=1: torch's backward fails; here it is the exact derivative (central differences)
    m = mt.nn.CrossMapLRN2d(1, alpha=0.5, beta=0.75, k=1.0)
    x0 = _x(1, 3, 1, 2, dtype="float64")
    x = mt.tensor(x0, requires_grad=True)
    m(x).sum().backward()
    num = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[i] = 1e-6
        num[i] = (m(mt.tensor(x0 + d)).sum().item() - m(mt.tensor(x0 - d)).sum().item()) / 2e-6
    np.testing.assert_allclose(x.grad.numpy(), num, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
        mt.nn.CrossMapLRN2d(3)(mt.randn(3, 2, 2))
