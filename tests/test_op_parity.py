"""Every op in the table against real PyTorch, driven by the samples beside each table entry.

For each sample: the ``mt.`` function, the Tensor method and the in-place variant give what
torch gives (values, dtypes, shapes), and gradients agree for a random cotangent.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops import REGISTRY
from minitorch_jax._ops._helpers import reseed

from .oracle import assert_same, check_grads, leaves, to_mt, to_torch, torch

PUBLIC = {n: op for n, op in REGISTRY.items() if not n.startswith("_")}


def _cases():
    for name, op in sorted(PUBLIC.items()):
        if op.samples is None:
            continue
        reseed(name)
        for i, s in enumerate(op.samples()):
            yield pytest.param(op, s, id=f"{name}-{i}")


CASES = list(_cases())


def test_every_public_op_has_samples():
    missing = sorted(n for n, op in PUBLIC.items() if op.samples is None)
    assert not missing, f"ops without parity samples: {missing}"


def _resolve(lib, dotted):
    for part in dotted.split("."):
        lib = getattr(lib, part)
    return lib


def _scalar_leniency(e: Exception) -> bool:
    """torch refused a Python scalar where it wants a tensor; mt accepts it (documented leniency)."""
    return isinstance(e, TypeError) and "must be Tensor, not" in str(e)


def _torch_call(op, args, kwargs):
    if "." in op.torch_name:  # e.g. linalg.inv: torch.linalg.inv / mt.linalg.inv
        return _resolve(torch, op.torch_name)(*args, **kwargs)
    if op.function:
        return getattr(torch, op.torch_name)(*args, **kwargs)
    return getattr(args[0], op.torch_name)(*args[1:], **kwargs)


def _mt_call(op, args, kwargs):
    if "." in op.torch_name:
        return _resolve(mt, op.torch_name)(*args, **kwargs)
    if op.function:
        return getattr(mt, op.name)(*args, **kwargs)
    return getattr(args[0], op.name)(*args[1:], **kwargs)


@pytest.mark.parametrize("op,sample", CASES)
def test_forward_and_grad(op, sample):
    grad = sample.grad and op.differentiable
    t_args = to_torch(sample.args, grad)
    m_args = to_mt(sample.args, grad)
    try:
        t_out = _torch_call(op, t_args, to_torch(sample.kwargs))
    except Exception as e:  # torch rejects this input: so must we, with the same kind of error
        if _scalar_leniency(e):
            return
        with pytest.raises(type(e).__mro__[0] if isinstance(e, (TypeError, IndexError,
                                                                 ValueError))
                           else RuntimeError):
            _mt_call(op, m_args, sample.kwargs)
        return
    m_out = _mt_call(op, m_args, sample.kwargs)
    assert_same(m_out, t_out, sample.rtol, sample.atol)
    if op.method and op.function and sample.method and _tensor_first(sample):
        # the Tensor method gives exactly the function's result (same kernel: nothing recompiles)
        _assert_identical(getattr(m_args[0], op.name)(*m_args[1:], **sample.kwargs), m_out)
    _check_meta(op, sample, m_out)
    if grad:
        check_grads(m_out, t_out, m_args, t_args, sample.rtol, sample.atol)


# ops whose result's shape (or a check they must make) depends on their inputs' values: on meta
# tensors they raise a clear error instead (as torch's meta kernels do)
NEEDS_VALUES = {"allclose", "equal", "is_nonzero", "argwhere", "nonzero", "unique", "unique_consecutive",
                "masked_select", "index_put", "repeat_interleave", "bincount", "histogram", "histogramdd",
                "embedding_bag", "ctc_loss", "segment_reduce", "gradient", "one_hot"}


def _meta_args(v):
    if isinstance(v, np.ndarray):
        return mt.tensor(v, device="meta")
    if isinstance(v, (list, tuple)):
        return type(v)(_meta_args(x) for x in v)
    if isinstance(v, dict):
        return {k: _meta_args(x) for k, x in v.items()}
    return v


def _check_meta(op, sample, m_out):
    """On meta tensors the op gives meta results of the shapes and dtypes it gives on real ones, without
    computing anything (``jax.eval_shape`` of its kernel), or a clear error where it needs values."""
    try:
        meta_out = _mt_call(op, _meta_args(sample.args), _meta_args(sample.kwargs))
    except Exception as e:
        assert op.name in NEEDS_VALUES, f"{op.name} on meta tensors raised {type(e).__name__}: {e}"
        assert isinstance(e, RuntimeError) and ("meta" in str(e) or "depends on" in str(e)), e
        return
    real, meta = leaves(m_out, "mt"), leaves(meta_out, "mt")
    assert len(real) == len(meta)
    has_input = any(isinstance(a, np.ndarray) for a in sample.args)
    for r, m in zip(real, meta):
        assert (tuple(m.shape), m.dtype) == (tuple(r.shape), r.dtype), (m, r)
        assert m.is_meta or not has_input, f"{op.name} on meta tensors returned a real tensor"


def _tensor_first(sample):
    return bool(sample.args) and isinstance(sample.args[0], np.ndarray)


def _assert_identical(meth, f):
    if not isinstance(f, (mt.Tensor, tuple, list)):  # Python results (allclose, equal ...)
        assert meth == f
        return
    a = [np.asarray(x._data) for x in (meth if isinstance(meth, (tuple, list)) else [meth])]
    b = [np.asarray(x._data) for x in (f if isinstance(f, (tuple, list)) else [f])]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("op,sample", [c for c in CASES
                                       if c.values[0].inplace and _tensor_first(c.values[1])])
def test_inplace_matches_torch(op, sample):
    t_args = to_torch(sample.args)
    m_args = to_mt(sample.args)
    name = op.torch_name + "_"
    try:
        t_res = getattr(t_args[0], name)(*t_args[1:], **to_torch(sample.kwargs))
    except Exception as e:
        if _scalar_leniency(e):
            return
        with pytest.raises(RuntimeError if isinstance(e, RuntimeError) else type(e)):
            getattr(m_args[0], op.name + "_")(*m_args[1:], **sample.kwargs)
        return
    before = m_args[0]._version
    m_res = getattr(m_args[0], op.name + "_")(*m_args[1:], **sample.kwargs)
    assert m_res is m_args[0], "in-place op must return self"
    assert m_args[0]._version == before + 1, "in-place op must bump the version counter"
    assert_same(m_args[0], t_res)


def test_bool_and_int_static_arguments_do_not_share_kernels():
    x = mt.tensor([1.0, 2.0, 4.0])
    assert mt.var(x, False).item() == pytest.approx(torch.var(torch.tensor([1.0, 2.0, 4.0]), False).item())
    assert mt.var(x, 0).item() == pytest.approx(torch.var(torch.tensor([1.0, 2.0, 4.0]), 0).item())
    a = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert mt.sum(a, 1, True).shape == (2, 1) and mt.sum(a, 1, 1).shape == (2, 1)
    assert mt.sum(a, 0, False).shape == (2,) and mt.sum(a, 0, 0).shape == (2,)
