"""Autograd misuse raises the same kind of error as torch, with a message that says what to do."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.autograd as autograd
from tests.oracle import torch


def both(fn, exc=RuntimeError, match=None):
    """Run ``fn(lib)`` for torch and mt; both must raise ``exc`` (mt's message must match)."""
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc, match=match):
        fn(mt)


def leaf(lib, values=(0.5, 1.5, -2.0)):
    return lib.tensor(np.array(values), requires_grad=True)


def test_second_backward_through_freed_graph():
    def f(lib):
        y = leaf(lib).exp().sum()
        y.backward()
        y.backward()
    both(f, match="backward through the graph a second time")


def test_grad_then_backward_frees_graph():
    def f(lib):
        x = leaf(lib)
        y = (x * x).sum()
        lib.autograd.grad(y, x)
        y.backward()
    both(f, match="second time")


def test_non_scalar_backward_needs_gradient():
    def f(lib):
        (leaf(lib) * 2).backward()
    both(f, match="only for scalar outputs")


def test_backward_on_tensor_without_grad():
    def f(lib):
        lib.tensor([1.0, 2.0]).sum().backward()
    both(f, match="does not require grad")


def test_gradient_shape_mismatch():
    def f(lib):
        (leaf(lib) * 2).backward(lib.ones(2, dtype=lib.float64))
    both(f, match="Mismatch in shape")


def test_inplace_on_saved_output_raises_at_backward():
    def f(lib):
        y = leaf(lib).exp()
        y.add_(1)
        y.sum().backward()
    both(f, match="modified by an inplace operation")


def test_inplace_on_saved_non_leaf_input_raises_at_backward():
    def f(lib):
        a = leaf(lib)
        w = leaf(lib, (1.0, 2.0, 3.0)) * 2  # non-leaf
        b = a * w
        w.add_(1)
        b.sum().backward()
    both(f, match="modified by an inplace operation")


def test_inplace_on_unsaved_input_is_fine():
    res = []
    for lib in (torch, mt):
        a = leaf(lib)
        w = leaf(lib, (1.0, 2.0, 3.0)) * 2
        b = a + w  # add saves nothing
        w.add_(1)
        b.sum().backward()
        res.append(np.asarray(a.grad.detach()))
    np.testing.assert_allclose(res[1], res[0])


def test_inplace_on_leaf_requiring_grad():
    def f(lib):
        leaf(lib).add_(1)
    both(f, match="leaf Variable that requires grad")


def test_inplace_on_leaf_under_no_grad_is_allowed():
    for lib in (torch, mt):
        x = leaf(lib)
        with lib.no_grad():
            x.mul_(2)
        assert x.requires_grad and x.grad_fn is None


def test_requires_grad_on_int_tensor():
    def f(lib):
        lib.tensor([1, 2, 3]).requires_grad_()
    both(f, match="floating point")


def test_grad_wrt_input_not_requiring_grad():
    def f(lib):
        x = leaf(lib)
        z = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        lib.autograd.grad((x * z).sum(), z)
    both(f, match="does not require grad")


def test_materialize_grads_conflicts_with_allow_unused_false():
    def f(lib):
        x = leaf(lib)
        lib.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)
    both(f, ValueError, match="allow_unused")


def test_backward_empty_inputs():
    def f(lib):
        x = leaf(lib)
        (x * 2).sum().backward(inputs=[])
    both(f, match="cannot be empty")


def test_is_grads_batched_points_to_vmap():
    x = leaf(mt)
    with pytest.raises(NotImplementedError, match="vmap"):
        autograd.grad((x * 2).sum(), x, mt.tensor(1.0, dtype=mt.float64), is_grads_batched=True)
