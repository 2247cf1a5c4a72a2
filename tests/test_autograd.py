"""The autograd engine and ``mt.autograd``: backward, grad, hooks, higher order, grad modes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.autograd as autograd
from tests.oracle import assert_same, torch

RNG = np.random.default_rng(0)


def pair(*shape, dtype="float64", grad=True):
    """The same random values as an mt and a torch leaf."""
    a = RNG.standard_normal(shape).astype(dtype)
    return mt.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


# ----- backward and .grad --------------------------------------------------------------------------
def test_grad_accumulates_across_backward_calls():
    m, t = pair(3)
    for x in (m, t):
        for _ in range(3):
            (x * x).sum().backward()
    assert_same(m.grad, t.grad)


def test_grad_accumulates_in_place():
    m, _ = pair(3)
    (m * 2).sum().backward()
    g = m.grad
    (m * m).sum().backward()
    assert m.grad is g  # torch keeps the same .grad object when not building a graph


def test_grad_is_none_without_requires_grad():
    x = mt.tensor([1.0, 2.0])
    assert x.grad is None
    y = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * y).sum().backward()
    assert x.grad is None
    assert y.grad is not None


def test_backward_with_gradient_argument():
    m, t = pair(2, 3)
    v = RNG.standard_normal((2, 3))
    (m.exp() * 2).backward(mt.tensor(v))
    (t.exp() * 2).backward(torch.tensor(v))
    assert_same(m.grad, t.grad)


def test_autograd_backward_several_roots():
    m, t = pair(3)
    mb, tb = m.sin(), t.sin()
    mc, tc = (m * 3).sum(), (t * 3).sum()
    v = RNG.standard_normal(3)
    autograd.backward([mb, mc], [mt.tensor(v), None])
    torch.autograd.backward([tb, tc], [torch.tensor(v), None])
    assert_same(m.grad, t.grad)


def test_retain_grad_on_non_leaf():
    results = []
    for x in pair(3):
        y = x * 3
        y.retain_grad()
        z = (y * y).sum()
        z.backward()
        results.append((y.grad, x.grad))
    assert_same(results[0][0], results[1][0])
    assert_same(results[0][1], results[1][1])


def test_backward_inputs_restricts_accumulation():
    (ma, ta), (mb, tb) = pair(3), pair(3)
    for a, b in ((ma, mb), (ta, tb)):
        h = a * b
        (h * h).sum().backward(inputs=[a, h])
        assert b.grad is None
    assert_same(ma.grad, ta.grad)


# ----- hooks ----------------------------------------------------------------------------------------
def test_tensor_hooks_on_leaf_and_non_leaf():
    outs = []
    for x in pair(3):
        seen = []
        x.register_hook(lambda g, seen=seen: seen.append(g.clone()) or g * 2)
        y = x.exp()
        h = y.register_hook(lambda g: g + 1)
        (y * y).sum().backward(retain_graph=True)
        h.remove()
        (y * y).sum().backward()
        outs.append((x.grad, seen[0]))
    assert_same(outs[0][0], outs[1][0])
    assert_same(outs[0][1], outs[1][1])


def test_hook_applies_to_autograd_grad_and_retain_grad():
    outs = []
    for x in pair(2):
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        z = (y * y).sum()
        gx = (mt if isinstance(x, mt.Tensor) else torch).autograd.grad(z, x, retain_graph=True)[0]
        outs.append((gx, y.grad))
    assert_same(outs[0][0], outs[1][0])
    assert_same(outs[0][1], outs[1][1])


def test_node_hook_and_prehook():
    outs = []
    for x in pair(3):
        y = x.sin()
        z = y * 2
        log = []
        z.grad_fn.register_prehook(lambda go, log=log: log.append(("pre", go[0].clone())))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
        z.sum().backward()
        outs.append((x.grad, log[0][1]))
    assert_same(outs[0][0], outs[1][0])
    assert_same(outs[0][1], outs[1][1])


def test_node_structure_names():
    m, t = pair(3)
    ym, yt = (m * 2).exp().sum(), (t * 2).exp().sum()
    names = []
    for y in (ym, yt):
        n, chain = y.grad_fn, []
        while n is not None:
            chain.append(type(n).__name__)
            n = n.next_functions[0][0] if n.next_functions else None
        names.append(chain)
    assert names[0] == names[1]
    assert isinstance(ym.grad_fn, autograd.graph.Node)


# ----- retain_graph ---------------------------------------------------------------------------------
def test_retain_graph_allows_second_backward():
    m, t = pair(3)
    for x in (m, t):
        y = x.exp().sum()
        y.backward(retain_graph=True)
        y.backward()
    assert_same(m.grad, t.grad)


def test_add_only_graph_runs_twice():
    m, t = pair(3)
    for x in (m, t):
        y = (x + 2).sum()
        y.backward()
        y.backward()
    assert_same(m.grad, t.grad)


# ----- autograd.grad ----------------------------------------------------------------------------------
def test_grad_allow_unused_and_materialize():
    (ma, ta), (mb, tb) = pair(3), pair(3)
    for lib, a, b in ((mt, ma, mb), (torch, ta, tb)):
        y = (a * a).sum()
        with pytest.raises(RuntimeError, match="not have been used"):
            lib.autograd.grad(y, [a, b], retain_graph=True)
        ga, gb = lib.autograd.grad(y, [a, b], allow_unused=True, retain_graph=True)
        assert gb is None
        ga2, gb2 = lib.autograd.grad(y, [a, b], materialize_grads=True)
        assert np.all(np.asarray(gb2.detach()) == 0)
        assert a.grad is None


def test_grad_does_not_touch_dot_grad_and_prunes():
    m, _ = pair(3)
    other, _ = pair(3)
    calls = []
    other.register_hook(lambda g: calls.append(1))
    y = (m * 2).sum() + (other * 3).sum()
    (g,) = autograd.grad(y, m)
    assert_same(g, torch.full((3,), 2.0, dtype=torch.float64))
    assert m.grad is None and other.grad is None
    assert not calls  # the branch to `other` is not needed and does not run


@pytest.mark.parametrize("name,fn", [
    ("cube", lambda x: x ** 3),
    ("tanh", lambda x: x.tanh()),
    ("chain", lambda x: (x.sin() * x.exp()).sigmoid() / (1 + x * x)),
])
def test_higher_order_derivatives_match_torch(name, fn):
    m, t = pair(4)
    res = []
    for lib, x in ((mt, m), (torch, t)):
        y = fn(x).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        res.append((g1, g2, g3))
    for a, b in zip(*res):
        assert_same(a, b)


def test_backward_create_graph_then_grad_of_grad():
    m, t = pair(3)
    for x in (m, t):
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.sum().backward()
    assert_same(m.grad, t.grad)


# ----- grad modes ---------------------------------------------------------------------------------------
def test_grad_mode_context_managers_and_decorators():
    x = mt.tensor([1.0], requires_grad=True)
    with mt.no_grad():
        assert not (x * 2).requires_grad
        with mt.enable_grad():
            assert (x * 2).requires_grad
    with mt.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @mt.no_grad()
    def f(v):
        return v * 2

    @autograd.enable_grad()
    def g(v):
        return v * 2

    assert not f(x).requires_grad
    with mt.no_grad():
        assert g(x).requires_grad
    with mt.inference_mode():
        assert not (x * 2).requires_grad
        assert mt.is_inference_mode_enabled()
    assert mt.is_grad_enabled()


def test_grad_mode_is_thread_local():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with mt.no_grad():
            entered.set()
            release.wait(5)
            seen["worker"] = mt.is_grad_enabled()

    th = threading.Thread(target=worker)
    th.start()
    entered.wait(5)
    x = mt.tensor([1.0], requires_grad=True)
    seen["main"] = mt.is_grad_enabled() and (x * 2).requires_grad
    release.set()
    th.join()
    assert seen == {"worker": False, "main": True}


# ----- scale --------------------------------------------------------------------------------
def test_long_chain_has_no_recursion_limit():
    x = mt.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10000, rel=1e-3)
    del y  # freeing the long graph must not recurse either


# ----- anomaly mode --------------------------------------------------------------------------------
class _Boom(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        raise ValueError("boom in backward")


def test_anomaly_mode_names_forward_line():
    x = mt.tensor([1.0], requires_grad=True)
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        y = _Boom.apply(x)  # the line the error must point to
        with pytest.raises(ValueError, match="boom in backward") as info, pytest.warns(RuntimeWarning):
            y.sum().backward()
    assert "_Boom.apply(x)" in str(info.value)
    assert "BoomBackward" in str(info.value)
    assert not autograd.is_anomaly_enabled()


def test_anomaly_mode_detects_nan():
    x = mt.tensor([0.0], requires_grad=True)
    with autograd.detect_anomaly():
        y = x.sqrt() * 0  # d/dx sqrt at 0 is inf; inf * 0 = nan
        with pytest.raises(RuntimeError, match="returned nan values"):
            y.sum().backward()
    autograd.set_detect_anomaly(False)
    y = x.sqrt() * 0
    y.sum().backward()  # off: no check
    assert np.isnan(x.grad.item())


def test_linear_saves_input_and_weight_like_torch():
    # torch's linear (addmm) saves its input and weight: they are freed after backward (a second
    # backward raises) and changing the weight in place before backward is caught
    for lib in (torch, mt):
        x = lib.ones(3, 4, requires_grad=True)
        w = lib.ones(5, 4, requires_grad=True)
        y = lib.nn.functional.linear(x, w)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()
        y = lib.nn.functional.linear(x, w)
        with lib.no_grad():
            w.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
