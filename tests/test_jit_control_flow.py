"""mt.cond / mt.while_loop / mt.scan: plain Python eagerly, jax.lax inside mt.jit, same results."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt


def _branchy(x, w):
    return mt.cond(x.sum() > 0, lambda a, b: (a * b).sin(), lambda a, b: a - b.exp(), (x, w)).sum()


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_eager_and_compiled_agree_with_gradients(sign):
    x = mt.tensor([1.0, 2.0, 3.0]) * sign
    w = mt.tensor([0.5, -1.0, 2.0], requires_grad=True)
    e = _branchy(x, w)
    e.backward()
    ge = w.grad.numpy().copy()
    f = mt.jit(_branchy)
    w.grad = None
    j = f(x, w)
    j.backward()
    np.testing.assert_allclose(float(j), float(e), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), ge, rtol=1e-6)
    # the other branch runs in the same program: no recompile for a new sign
    f(-x, w)
    assert f.num_compiles == 1


def test_cond_with_python_bool_and_structures():
    out = mt.cond(True, lambda d: {"a": d["a"] + 1}, lambda d: {"a": d["a"] - 1}, ({"a": mt.ones(2)},))
    assert out["a"].tolist() == [2, 2]
    f = mt.jit(lambda x: mt.cond(x[0] > 0, lambda t: (t, t * 2), lambda t: (t * 3, t), (x,)))
    a, b = f(mt.tensor([1.0, 1.0]))
    assert a.tolist() == [1, 1] and b.tolist() == [2, 2]
    a, b = f(mt.tensor([-1.0, 1.0]))
    assert a.tolist() == [-3, 3] and b.tolist() == [-1, 1]


def test_while_loop_eager_and_compiled():
    def collatz_steps(n):
        def body(n, k):
            return mt.where(n % 2 == 0, n // 2, 3 * n + 1), k + 1
        return mt.while_loop(lambda n, k: n != 1, body, (n, mt.tensor(0)))[1]

    assert int(collatz_steps(mt.tensor(27))) == 111
    f = mt.jit(collatz_steps)
    assert int(f(mt.tensor(27))) == 111 and int(f(mt.tensor(6))) == 8
    assert f.num_compiles == 1


def test_scan_matches_python_loop_and_is_differentiable():
    w = mt.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
    xs = mt.tensor(np.random.default_rng(0).standard_normal((5, 2)).astype("float32"))

    def rnn(w, xs):
        def cell(h, x):
            h = (h @ w + x).tanh()
            return h, h.sum()
        h, ys = mt.scan(cell, mt.zeros(2), xs)
        return h.sum() + ys.sum(), ys

    e, ys_e = rnn(w, xs)
    e.backward()
    ge = w.grad.numpy().copy()
    w.grad = None
    f = mt.jit(rnn)
    j, ys_j = f(w, xs)
    j.backward()
    np.testing.assert_allclose(float(j), float(e), rtol=1e-5)
    np.testing.assert_allclose(ys_j.detach().numpy(), ys_e.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), ge, rtol=1e-5)
    c, ys = mt.scan(lambda c, x: (c + x, c), mt.zeros(()), mt.arange(4.0), reverse=True)
    assert float(c) == 6 and ys.tolist() == [6, 5, 3, 0]


def test_cond_traced_with_mismatched_branches_errors():
    f = mt.jit(lambda x: mt.cond(x.sum() > 0, lambda t: t, lambda t: t.sum(), (x,)))
    with pytest.raises(RuntimeError, match="both branches"):
        f(mt.ones(3))
