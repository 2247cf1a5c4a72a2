"""Creation functions against torch: values, dtypes and shapes; and their bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import assert_same, torch


@pytest.mark.parametrize("data", [
    [1, 2, 3], [1.0, 2.0], [[1, 2], [3, 4]], [True, False], 3, 2.5, True, [1, 2.5], [],
    [[1.0], [2.0]], (1, 2), [1 + 2j, 3], np.arange(6, dtype=np.int32).reshape(2, 3),
    np.ones(3, dtype=np.float64), np.float32(1.5),
])
def test_tensor_infers_dtype_like_torch(data):
    assert_same(mt.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int8", "uint8",
                                   "int16", "int32", "int64", "bool", "complex64"])
def test_tensor_with_dtype(dtype):
    data = [[0, 1, 2], [3, 4, 5]]
    assert_same(mt.tensor(data, dtype=getattr(mt, dtype)),
                torch.tensor(data, dtype=getattr(torch, dtype)))


def test_tensor_of_tensors_and_requires_grad():
    a = mt.tensor([mt.tensor(1.0), mt.tensor(2.0)])
    assert a.tolist() == [1.0, 2.0]
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2], requires_grad=True)


def test_ragged_data_raises():
    with pytest.raises(ValueError):
        mt.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        mt.tensor(["a"])


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([4],), (0,), ((),)])
def test_fill_functions(name, size):
    m = getattr(mt, name)(*size)
    t = getattr(torch, name)(*size)
    assert tuple(m.shape) == tuple(t.shape) and m.dtype == mt.float32
    if name != "empty":
        assert_same(m, t)
    assert getattr(mt, name)(2, dtype=mt.int32).dtype == mt.int32


def test_negative_size_raises():
    with pytest.raises(RuntimeError, match="negative dimension"):
        mt.zeros(2, -1)


@pytest.mark.parametrize("args,kw", [
    (((2, 3), 1.5), {}), (((2,), 7), {}), (((2,), True), {}), (((3,), 2), {"dtype": "float64"}),
])
def test_full(args, kw):
    tkw = {k: getattr(torch, v) for k, v in kw.items()}
    mkw = {k: getattr(mt, v) for k, v in kw.items()}
    assert_same(mt.full(*args, **mkw), torch.full(*args, **tkw))


def test_like_functions():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    for name in ["zeros_like", "ones_like"]:
        assert_same(getattr(mt, name)(mt.tensor(x)), getattr(torch, name)(torch.tensor(x)))
    assert_same(mt.full_like(mt.tensor(x), 3), torch.full_like(torch.tensor(x), 3))
    assert mt.empty_like(mt.tensor(x)).shape == (2, 3)
    assert mt.zeros_like(mt.tensor(x), dtype=mt.int8).dtype == mt.int8


@pytest.mark.parametrize("args", [(5,), (2, 9), (1, 2, 0.25), (0, 1, 0.1), (10, 0, -3), (2.5,),
                                  (-3, 3)])
def test_arange(args):
    assert_same(mt.arange(*args), torch.arange(*args))


def test_arange_errors():
    with pytest.raises(RuntimeError):
        mt.arange(0, 5, 0)
    with pytest.raises(RuntimeError):
        mt.arange(5, 0, 1)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (3, 3, 4), (0, 10, 0), (1, 0, 6)])
def test_linspace_logspace(args):
    assert_same(mt.linspace(*args), torch.linspace(*args))
    assert_same(mt.logspace(*args), torch.logspace(*args), rtol=1e-5)
    assert_same(mt.linspace(*args, dtype=mt.float64), torch.linspace(*args, dtype=torch.float64))


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,)])
def test_eye(args):
    assert_same(mt.eye(*args), torch.eye(*args))
    assert_same(mt.eye(*args, dtype=mt.int64), torch.eye(*args, dtype=torch.int64))


def test_from_numpy_keeps_dtype_and_values():
    a = np.arange(4, dtype=np.int16)
    t = mt.from_numpy(a)
    assert t.dtype == mt.int16 and t.tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError):
        mt.from_numpy([1, 2])


def test_as_tensor_shares_when_possible():
    t = mt.tensor([1.0, 2.0])
    assert mt.as_tensor(t) is t
    assert mt.as_tensor(t, dtype=mt.float64).dtype == mt.float64
    assert mt.as_tensor([1, 2]).dtype == mt.int64


def test_complex_and_scalar_tensor():
    assert_same(mt.scalar_tensor(3), torch.scalar_tensor(3))
    re, im = np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0], np.float32)
    assert_same(mt.complex(mt.tensor(re), mt.tensor(im)),
                torch.complex(torch.tensor(re), torch.tensor(im)))
