"""The test oracle: run the same computation through real PyTorch and minitorch_jax and compare.

Inputs are numpy arrays; both libraries get the same values. ``compare`` checks values, shapes,
dtypes (by name) and, for outputs that are tensors, gradients of ``sum(out * cotangent)``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minitorch_jax as mt

torch = pytest.importorskip("torch")

TORCH_VERSION = tuple(int(v) for v in re.match(r"(\d+)\.(\d+)", torch.__version__).groups())


def needs_torch(major: int, minor: int, what: str):
    """Mark a test that checks behaviour torch has only from ``major.minor`` on (``what``): skipped under
    an older torch (a GPU image's), run everywhere the pinned oracle (2.13) is installed."""
    return pytest.mark.skipif(TORCH_VERSION < (major, minor),
                              reason=f"torch {torch.__version__} predates {major}.{minor}: {what}")


TOL = {"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5),
       "float64": (1e-7, 1e-9), "complex64": (1e-5, 1e-5), "complex128": (1e-10, 1e-10)}


def to_torch(v, grad=False):
    """numpy arrays (also inside lists/tuples) become torch tensors."""
    if isinstance(v, np.ndarray):
        t = torch.from_numpy(v.copy())
        if grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(to_torch(x, grad) for x in v)
    if isinstance(v, dict):
        return {k: to_torch(x, grad) for k, x in v.items()}
    if isinstance(v, mt.dtype):
        return getattr(torch, v.name)
    return v


def to_mt(v, grad=False):
    """numpy arrays (also inside lists/tuples) become mt tensors."""
    if isinstance(v, np.ndarray):
        t = mt.tensor(v)
        if grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(to_mt(x, grad) for x in v)
    return v


def leaves(v, kind):
    """The tensors of library ``kind`` ('torch' or 'mt') inside ``v``, in order."""
    cls = torch.Tensor if kind == "torch" else mt.Tensor
    if isinstance(v, cls):
        return [v]
    if isinstance(v, (list, tuple)):
        return [x for y in v for x in leaves(y, kind)]
    return []


def dtype_name(t) -> str:
    return str(t.dtype).rsplit(".", 1)[-1]


def assert_same(m, t, rtol=None, atol=None, what="output"):
    """Assert an mt result equals a torch result: type, shape, dtype and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(m, mt.Tensor), f"{what}: expected a Tensor, got {type(m).__name__}"
        assert tuple(m.shape) == tuple(t.shape), \
            f"{what}: shape {tuple(m.shape)} != torch {tuple(t.shape)}"
        assert dtype_name(m) == dtype_name(t), f"{what}: dtype {m.dtype} != torch {t.dtype}"
        r, a = TOL.get(dtype_name(t), (0, 0))
        mv = np.asarray(m.detach()._data).astype(np.float64 if not t.is_complex() else complex)
        tv = t.detach().to(torch.float64 if not t.is_complex() else torch.complex128) \
            if t.dtype != torch.bool else t.detach()
        tv = tv.numpy(force=True)
        np.testing.assert_allclose(mv, tv, rtol=rtol if rtol is not None else r,
                                   atol=atol if atol is not None else a,
                                   err_msg=f"{what} differs from torch", equal_nan=True)
    elif isinstance(t, (tuple, list)):
        assert isinstance(m, (tuple, list)), f"{what}: expected a sequence, got {type(m).__name__}"
        assert len(m) == len(t), f"{what}: {len(m)} results, torch gave {len(t)}"
        for i, (a, b) in enumerate(zip(m, t)):
            assert_same(a, b, rtol, atol, f"{what}[{i}]")
    elif isinstance(t, (int, float, bool)):
        assert m == pytest.approx(t, rel=rtol or 1e-5, abs=atol or 1e-6), f"{what}: {m} != {t}"
    else:
        assert m == t, f"{what}: {m!r} != {t!r}"


def check_grads(m_out, t_out, m_in, t_in, rtol=None, atol=None, seed=0):
    """Backpropagate the same random cotangent through both results; compare input gradients."""
    t_outs = [o for o in leaves(t_out, "torch") if o.requires_grad]
    m_outs = [o for o in leaves(m_out, "mt") if o.requires_grad]
    assert len(t_outs) == len(m_outs), "a different set of outputs requires grad than in torch"
    if not t_outs:
        return False
    rng = np.random.default_rng(seed)
    t_cts, m_cts = [], []
    for to_ in t_outs:
        name = dtype_name(to_)
        ct = rng.standard_normal(tuple(to_.shape)).astype(name if name != "bfloat16" else "float32")
        t_cts.append(torch.from_numpy(ct).to(to_.dtype))
        m_cts.append(mt.tensor(ct) if name != "bfloat16" else mt.tensor(ct).to(mt.bfloat16))
    # backward with the cotangents directly: the same vector-Jacobian product as backpropagating
    # sum(out * cotangent), without compiling the harness's own mul/sum kernels for every sample
    torch.autograd.backward(t_outs, grad_tensors=t_cts)
    mt.autograd.backward(m_outs, grad_tensors=m_cts)
    t_leaves = [x for x in leaves(t_in, "torch") if x.requires_grad]
    m_leaves = [x for x in leaves(m_in, "mt") if x.requires_grad]
    for i, (tl, ml) in enumerate(zip(t_leaves, m_leaves)):
        if tl.grad is None:
            assert ml.grad is None or np.all(np.asarray(ml.grad._data) == 0), \
                f"input {i}: torch has no grad but mt does"
            continue
        assert ml.grad is not None, f"input {i}: mt produced no gradient"
        assert_same(ml.grad, tl.grad, rtol, atol, what=f"grad of input {i}")
    return True


def host_message(msg: str) -> str:
    """An mt error message as torch, the oracle, words it on the CPU: tensor reprs without the
    ``device='cuda:0'`` that mt's carry on a GPU host (whose default device is the GPU)."""
    return re.sub(r", device='[a-z]+:\d+'", "", msg)
