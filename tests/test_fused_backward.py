"""Whole-graph backward replay: the same gradients and errors as the per-node engine.

A graph structure seen for the second time runs its backward as one compiled program; these
tests run each graph several times so the fused path is taken, and compare with the per-node
engine (replay switched off) and with torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import _fused_backward

from .oracle import torch


def _model(x, w, b):
    h = (x @ w + b).tanh()
    h = h * h.sigmoid() + h.exp() * 0.1
    return (h.relu() - h.mean(0)).pow(2).sum()


def _grads(repeats, fused=True):
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    w = mt.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = mt.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    _fused_backward.set_enabled(fused)
    try:
        for _ in range(repeats):
            w.grad = b.grad = None
            _model(x, w, b).backward()
    finally:
        _fused_backward.set_enabled(True)
    return w.grad.numpy(), b.grad.numpy()


def test_fused_replay_matches_per_node_and_torch():
    n_compiled = len(_fused_backward._compiled)
    fw, fb = _grads(3, fused=True)
    assert len(_fused_backward._compiled) > n_compiled, "the fused path was not taken"
    pw, pb = _grads(3, fused=False)
    np.testing.assert_allclose(fw, pw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fb, pb, rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    w = torch.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    _model(x, w, b).backward()
    np.testing.assert_allclose(fw, w.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fb, b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_fused_replay_accumulates_and_frees():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        y = (w * w).exp().sum()
        y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
    expected = 3 * 2 * np.array([1.0, 2.0]) * np.exp(np.array([1.0, 4.0]))
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-5)


def test_fused_replay_keeps_version_errors():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        a = w * 2
        y = a.exp()
        y.sum().backward(retain_graph=True)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_hooks_take_the_per_node_path():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    for _ in range(3):
        h = w * 3
        h.register_hook(lambda g: seen.append(g.tolist()) or g * 2)
        h.sum().backward()
    assert seen == [[1.0, 1.0]] * 3
    assert w.grad.tolist() == [18.0, 18.0]
