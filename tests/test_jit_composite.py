"""Sparse and masked tensors at mt.jit's boundary: as arguments, results and captured state (the program
sees their part tensors), matching the eager run of the same code."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.jit import JitError


def _coo(values, requires_grad=False):
    idx = mt.tensor([[0, 1, 1, 2], [2, 0, 2, 1]])
    v = mt.tensor(np.asarray(values, np.float32), requires_grad=requires_grad)
    return mt.sparse_coo_tensor(idx, v, (3, 3)), v


def test_sparse_argument_and_result():
    s, _ = _coo([1.0, 2.0, 3.0, 4.0])
    d = mt.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    mm = mt.jit(lambda s, d: mt.sparse.mm(s, d))
    for _ in range(2):
        np.testing.assert_allclose(mm(s, d).numpy(), (s.to_dense() @ d).numpy())
    assert mm.num_compiles == 1
    scale = mt.jit(lambda s: s * 3)
    out = scale(s)
    assert out.layout == mt.sparse_coo
    np.testing.assert_allclose(out.to_dense().numpy(), s.to_dense().numpy() * 3)
    # another nnz is another program (the parts' shapes are guards)
    s5 = mt.sparse_coo_tensor(mt.tensor([[0, 0, 1, 2, 2], [0, 1, 1, 0, 2]]), mt.ones(5), (3, 3))
    np.testing.assert_allclose(mm(s5, d).numpy(), (s5.to_dense() @ d).numpy())
    assert mm.num_compiles == 2


def test_csr_argument():
    dense = mt.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    csr = dense.to_sparse_csr()
    d = mt.tensor(np.ones((3, 2), np.float32))
    f = mt.jit(lambda a, b: a @ b)
    np.testing.assert_allclose(f(csr, d).numpy(), (dense @ d).numpy())


def test_gradient_reaches_the_values_of_a_sparse_argument():
    w = mt.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
    s, v = _coo([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    f = mt.jit(lambda s: (mt.sparse.mm(s, w) ** 2).sum())
    f(s).backward()
    s2, v2 = _coo([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    (mt.sparse.mm(s2, w) ** 2).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), v2.grad.numpy(), rtol=1e-6)


def _gcn_run(compiled):
    mt.manual_seed(0)
    adj, _ = _coo([0.5, 0.5, 1.0, 1.0])  # captured state: a sparse adjacency matrix
    lin = mt.nn.Linear(4, 2)
    opt = mt.optim.Adam(lin.parameters(), lr=0.05)
    x = mt.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
    y = mt.tensor([0, 1, 1])

    def step(x, y):
        opt.zero_grad()
        loss = mt.nn.functional.cross_entropy(lin(mt.sparse.mm(adj, x)), y)
        loss.backward()
        opt.step()
        return loss

    run = mt.jit(step) if compiled else step
    losses = [run(x, y).item() for _ in range(5)]
    return losses, lin.weight.detach().numpy(), run


def test_captured_sparse_state_in_a_training_step_matches_eager():
    eager, w_eager, _ = _gcn_run(False)
    jit, w_jit, run = _gcn_run(True)
    np.testing.assert_allclose(jit, eager, rtol=1e-5)
    np.testing.assert_allclose(w_jit, w_eager, rtol=1e-5, atol=1e-6)
    assert run.num_compiles == 1


def test_masked_tensor_argument():
    data = mt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = mt.tensor([[True, False, True], [False, True, True]])
    m = mt.masked.masked_tensor(data, mask)
    total = mt.jit(lambda m: m.sum())
    assert total(m).get_data().item() == m.sum().get_data().item() == 15.0
    doubled = mt.jit(lambda m: m * 2)(m)
    assert mt.masked.is_masked_tensor(doubled)
    np.testing.assert_array_equal(doubled.get_mask().numpy(), mask.numpy())
    np.testing.assert_allclose(doubled.get_data().numpy()[mask.numpy()], data.numpy()[mask.numpy()] * 2)


def test_trace_rejects_sparse_inputs_and_results():
    s, _ = _coo([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(TypeError, match="example input 0 is a SparseCooTensor"):
        mt.jit.trace(lambda s: s * 2, (s,))

    def build(x):
        return mt.sparse_coo_tensor(mt.tensor([[0], [1]]), x.sum().reshape(1), (2, 2))

    with pytest.raises(JitError, match="returns a sparse or masked tensor"):
        mt.jit.trace(build, (mt.ones(3),))
