"""The Tensor object itself: conversions, Python protocols, metadata and their errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch


def test_metadata():
    x = mt.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == mt.Size([2, 3, 4]) and x.size(-1) == 4
    assert x.dim() == x.ndim == 3 and x.numel() == 24 and len(x) == 2
    assert x.dtype == mt.float32 and x.is_floating_point() and not x.is_complex()
    assert x.element_size() == 4
    assert repr(x.shape) == "minitorch_jax.Size([2, 3, 4])"
    import jax
    default = "cpu" if jax.default_backend() == "cpu" else "cuda:0"
    assert x.device == mt.device(default) and str(x.device) == default
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)


def test_item_tolist_numpy():
    x = mt.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert mt.tensor(3).item() == 3 and isinstance(mt.tensor(3).item(), int)
    assert isinstance(mt.tensor(2.5).item(), float)
    np.testing.assert_array_equal(x.numpy(), np.array([[1.5, 2.0]], np.float32))
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    w = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0]


def test_python_number_protocols():
    assert float(mt.tensor(2.5)) == 2.5 and int(mt.tensor(7)) == 7
    assert bool(mt.tensor([1])) and not bool(mt.tensor(0.0))
    assert [10, 20, 30][mt.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mt.tensor([1, 2]))
    with pytest.raises(TypeError):
        [1, 2][mt.tensor(1.0)]
    assert f"{mt.tensor(3.14159):.2f}" == "3.14"


def test_iteration_and_len():
    x = mt.tensor([[1, 2], [3, 4]])
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        len(mt.tensor(1))
    with pytest.raises(TypeError):
        iter(mt.tensor(1))


def test_hash_by_identity_and_eq_elementwise():
    a, b = mt.tensor([1, 2]), mt.tensor([1, 2])
    assert len({a, b}) == 2
    assert (a == b).tolist() == [True, True]
    assert (a == None) is False  # noqa: E711 - torch returns False for comparisons with None


def test_conversions():
    x = mt.tensor([1.7, -2.2])
    assert x.long().dtype == mt.int64 and x.long().tolist() == [1, -2]
    assert x.double().dtype == mt.float64
    assert x.half().dtype == mt.float16 and x.bfloat16().dtype == mt.bfloat16
    assert x.int().dtype == mt.int32 and x.bool().tolist() == [True, True]
    assert x.to(mt.float64).dtype == mt.float64 and x.to(x) is x
    assert x.to(x.device) is x
    c = x.cpu()
    assert c.device == mt.device("cpu") and c.to("cpu") is c and c.tolist() == x.tolist()
    assert x.to(mt.float32) is x and x.to(mt.float32, copy=True) is not x
    assert x.type() == "minitorch_jax.FloatTensor"
    assert x.type(mt.int64).dtype == mt.int64
    assert x.type_as(mt.tensor([1])).dtype == mt.int64
    t = torch.tensor([1.7, -2.2])
    assert x.long().tolist() == t.long().tolist()


def test_to_keeps_grad_path():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype == mt.float32 and x.grad.tolist() == [3.0, 3.0]


def test_bad_device_lists_available():
    with pytest.raises(RuntimeError, match="not available"):
        mt.tensor([1.0]).to("cuda:7")
    with pytest.raises(RuntimeError):
        mt.device("gpu0")


def test_new_methods():
    x = mt.tensor([1, 2], dtype=mt.int16)
    assert x.new_zeros(3).dtype == mt.int16 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 5).tolist() == [5, 5]
    assert x.new_tensor([1.5]).dtype == mt.int16


def test_pickle_and_deepcopy():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == [1.0, 2.0] and y.requires_grad
    z = copy.deepcopy(x)
    assert z is not x and z.tolist() == [1.0, 2.0] and z.requires_grad
    with pytest.raises(RuntimeError, match="leaves"):
        copy.deepcopy(x * 2)


def test_data_and_detach():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    x.data = mt.tensor([5.0, 6.0])
    assert x.tolist() == [5.0, 6.0] and x.requires_grad


def test_tensor_constructor():
    assert mt.Tensor(2, 3).shape == (2, 3)
    assert mt.Tensor([1, 2]).dtype == mt.float32
    assert mt.is_tensor(mt.Tensor([1]))


def test_jax_interop():
    import jax
    import jax.numpy as jnp
    x = mt.tensor([1.0, 2.0])
    assert isinstance(x.jax(), jax.Array)
    assert jnp.sum(x).item() == 3.0  # __jax_array__
    leaves = jax.tree_util.tree_leaves({"a": x})
    assert len(leaves) == 1 and isinstance(leaves[0], jax.Array)
    out = jax.jit(lambda t: t * 2)(x)
    assert isinstance(out, mt.Tensor) and out.tolist() == [2.0, 4.0]


def test_non_leaf_grad_access_warns_like_torch():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf"):
        assert y.grad is None
    y.retain_grad()
    y.sum().backward()
    assert y.grad.tolist() == [1.0, 1.0]
    t = torch.tensor([1.0], requires_grad=True) * 2
    with pytest.warns(UserWarning, match="not a leaf"):
        assert t.grad is None
