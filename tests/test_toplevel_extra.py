"""torch top-level names: the ``*_copy`` ops (beyond their table samples), predicate function forms,
anomaly/autocast switches, flags, error classes and ``sym_*``, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch

COPY_CASES = [
    ("permute_copy", (2, 3, 4), ((2, 0, 1),)),
    ("transpose_copy", (2, 3), (0, 1)),
    ("t_copy", (2, 3), ()),
    ("slice_copy", (5, 3), (0, 1, None, 2)),
    ("select_copy", (2, 3), (1, -1)),
    ("diagonal_copy", (3, 4), (1,)),
    ("expand_copy", (3, 1), ((2, 3, 4),)),
    ("unsqueeze_copy", (2, 3), (1,)),
    ("squeeze_copy", (2, 1, 3), ()),
    ("unfold_copy", (7,), (0, 3, 2)),
    ("as_strided_copy", (6,), ((2, 2), (1, 2), 1)),
    ("view_copy", (2, 6), ((3, 4),)),
    ("alias_copy", (2, 3), ()),
]


@pytest.mark.parametrize("name,shape,args", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copy_ops_values_grads_and_grad_fn(name, shape, args):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    mx = mt.tensor(x, requires_grad=True)
    ty = getattr(torch, name)(tx, *args)
    my = getattr(mt, name)(mx, *args)
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    assert type(my.grad_fn).__name__ == type(ty.grad_fn).__name__
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    my.backward(mt.tensor(g))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert not hasattr(mt.Tensor, name) and not hasattr(torch.Tensor, name)


def test_copy_ops_multi_output_and_detach():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    for name, args in (("split_copy", (3,)), ("split_with_sizes_copy", ([1, 3],)), ("unbind_copy", (1,))):
        t_out, m_out = getattr(torch, name)(torch.tensor(x), *args), getattr(mt, name)(mt.tensor(x), *args)
        assert isinstance(m_out, tuple) and len(m_out) == len(t_out)
        for a, b in zip(m_out, t_out):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    y = mt.detach_copy(mt.tensor(x, requires_grad=True))
    assert not y.requires_grad and y.grad_fn is None
    assert mt.view_copy(mt.tensor(x), mt.int32).dtype == mt.int32


def test_copy_ops_errors():
    x = mt.ones(2, 3)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        mt.slice_copy(x, 1, 0, 3, 0)
    with pytest.raises(TypeError, match="split_size"):
        mt.split_copy(x, [1, 1])
    with pytest.raises(IndexError):
        mt.select_copy(x, 0, 5)
    with pytest.raises(RuntimeError):
        mt.permute_copy(x, (0,))


def test_copy_ops_under_jit():
    @mt.jit
    def f(x):
        return mt.permute_copy(x, (1, 0)).sum(0) + mt.slice_copy(x, 1, 0, 2).sum()

    x = mt.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(x).numpy(), f.eager(x).numpy())


def test_predicate_function_forms():
    for dt in ("uint8", "int8", "float32", "bool"):
        assert mt.is_signed(mt.ones(2, dtype=getattr(mt, dt))) == torch.is_signed(
            torch.ones(2, dtype=getattr(torch, dt)))
    assert mt.get_device(mt.ones(2)) == torch.get_device(torch.ones(2)) == -1
    assert mt.is_inference(mt.ones(2)) is False
    with mt.inference_mode():
        y = mt.ones(2)
    assert mt.is_inference(y) is False  # documented: inference tensors are not tracked
    with pytest.raises(TypeError, match="is_signed"):
        mt.is_signed(3)


def test_aliases_and_flags():
    assert mt.GradScaler is mt.amp.GradScaler
    for cls in (mt.OutOfMemoryError, mt.AcceleratorError):
        assert issubclass(cls, RuntimeError)
    assert mt.has_lapack is True and mt.has_spectral is True
    assert isinstance(mt.has_mkl, bool) and isinstance(mt.has_openmp, bool)


def test_anomaly_switches():
    assert mt.is_anomaly_enabled() is False
    try:
        mt.set_anomaly_enabled(True, check_nan=False)
        assert mt.is_anomaly_enabled() and not mt.is_anomaly_check_nan_enabled()
        assert mt.autograd.is_anomaly_enabled()
    finally:
        mt.set_anomaly_enabled(False)
    assert not mt.is_anomaly_enabled() and mt.is_anomaly_check_nan_enabled()
    with pytest.raises(TypeError):
        mt.set_anomaly_enabled("yes")


def test_autocast_switches():
    dev = mt.get_default_device().type
    a = mt.ones(2, 2)
    old = mt.get_autocast_dtype(dev)
    try:
        mt.set_autocast_dtype(dev, mt.float16)
        assert mt.get_autocast_dtype(dev) == mt.float16
        with mt.autocast(dev) as ac:
            assert ac.fast_dtype == mt.float16
        mt.set_autocast_enabled(dev, True)
        assert mt.is_autocast_enabled(dev)
        assert (a @ a).dtype == mt.float16
        mt.set_autocast_enabled(dev, False)
        assert not mt.is_autocast_enabled(dev) and (a @ a).dtype == mt.float32
    finally:
        mt.set_autocast_enabled(dev, False)
        mt.set_autocast_dtype(dev, old)
    mt.set_autocast_enabled(True)  # legacy form: cuda
    assert mt.is_autocast_enabled("cuda")
    mt.set_autocast_enabled(False)
    assert not mt.is_autocast_enabled("cuda")
    with pytest.raises(RuntimeError, match="device type"):
        mt.set_autocast_dtype("foo", mt.float16)
    with pytest.raises(TypeError):
        mt.set_autocast_enabled("cpu", 1)
    assert mt.is_autocast_cache_enabled() is True
    mt.set_autocast_cache_enabled(False)
    assert mt.is_autocast_cache_enabled() is False
    mt.set_autocast_cache_enabled(True)
    mt.clear_autocast_cache()
    n = mt.autocast_increment_nesting()
    assert mt.autocast_decrement_nesting() == n - 1


def test_sym_functions_match_torch():
    cases = [("sym_int", (3.7,)), ("sym_int", (-3.7,)), ("sym_float", (3,)), ("sym_max", (2, 3.0)),
             ("sym_max", (3, 2)), ("sym_min", (2, 3.0)), ("sym_not", (0,)), ("sym_sqrt", (4,)),
             ("sym_sum", ([1, 2, 3.5],)), ("sym_sum", ([],)), ("sym_ite", (True, 1, 2)),
             ("sym_ite", (False, 1, 2))]
    for name, args in cases:
        m, t = getattr(mt, name)(*args), getattr(torch, name)(*args)
        assert m == t and type(m) is type(t), (name, args, m, t)
    with pytest.raises(AssertionError):
        mt.sym_ite(1, 1, 2)
    with pytest.raises(ValueError):
        mt.sym_int("a")
