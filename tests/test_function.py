"""Custom ``autograd.Function``s and ``gradcheck``, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.autograd as autograd
from tests.oracle import assert_same, torch


def make_functions(lib):
    """The same custom Functions written against ``lib`` (torch or mt)."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class ScaledMul(lib.autograd.Function):
        """``(a * b * scale, a + b)`` in the setup_context style, with a non-tensor argument."""

        @staticmethod
        def forward(a, b, scale):
            return a * b * scale, a + b

        @staticmethod
        def setup_context(ctx, inputs, output):
            a, b, scale = inputs
            ctx.save_for_backward(a, b)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            ga = g_prod * b * ctx.scale + g_sum if ctx.needs_input_grad[0] else None
            gb = g_prod * a * ctx.scale + g_sum if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class Cube(lib.autograd.Function):
        """Backward made of differentiable ops: supports double backward."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    return Exp, ScaledMul, Cube


MT_FNS = make_functions(mt)
TORCH_FNS = make_functions(torch)
RNG = np.random.default_rng(1)


def pair(*shape):
    a = RNG.standard_normal(shape)
    return mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def test_exp_function_parity_and_node_name():
    m, t = pair(2, 3)
    ym, yt = MT_FNS[0].apply(m), TORCH_FNS[0].apply(t)
    assert_same(ym, yt)
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__ == "ExpBackward"
    assert isinstance(ym.grad_fn, autograd.graph.Node)
    v = RNG.standard_normal((2, 3))
    ym.backward(mt.tensor(v))
    yt.backward(torch.tensor(v))
    assert_same(m.grad, t.grad)


def test_setup_context_style_with_two_outputs_and_non_tensor_arg():
    (ma, ta), (mb, tb) = pair(3), pair(3)
    outs = []
    for fn, a, b in ((MT_FNS[1], ma, mb), (TORCH_FNS[1], ta, tb)):
        p, s = fn.apply(a, b, 2.5)
        (p.sin() + s * s).sum().backward()
        outs.append((p, s))
    assert_same(outs[0], outs[1])
    assert_same(ma.grad, ta.grad)
    assert_same(mb.grad, tb.grad)


def test_needs_input_grad_and_unused_output_materialized():
    ma, _ = pair(3)
    mb = mt.tensor(np.ones(3))
    p, s = MT_FNS[1].apply(ma, mb, 1.0)
    assert p.grad_fn.needs_input_grad == (True, False, False)
    p.sum().backward()  # the grad of `s` is None and reaches backward as zeros
    assert_same(ma.grad, torch.tensor(np.ones(3)))


def test_double_backward_through_function():
    m, t = pair(4)
    res = []
    for lib, fn, x in ((mt, MT_FNS[2], m), (torch, TORCH_FNS[2], t)):
        (g,) = lib.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        res.append((g, gg))
    assert_same(res[0], res[1])


def test_double_backward_through_saved_output():
    m, t = pair(3)
    res = []
    for lib, fn, x in ((mt, MT_FNS[0], m), (torch, TORCH_FNS[0], t)):
        (g,) = lib.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        res.append((g, gg))
    assert_same(res[0], res[1])


def test_saved_tensors_freed_after_backward():
    for lib, fn in ((torch, TORCH_FNS[0]), (mt, MT_FNS[0])):
        x = lib.tensor([1.0], requires_grad=True)
        y = fn.apply(x)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="second time"):
            _ = y.grad_fn.saved_tensors
        with pytest.raises(RuntimeError, match="second time"):
            y.sum().backward()


def test_saved_tensor_modified_in_place():
    for lib, fn in ((torch, TORCH_FNS[0]), (mt, MT_FNS[0])):
        y = fn.apply(lib.tensor([1.0], requires_grad=True))
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_function_without_saved_tensors_can_run_twice():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = Twice.apply(x).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_mark_non_differentiable_and_materialize_off():
    class SortLike(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).long()
            ctx.mark_non_differentiable(idx)
            ctx.set_materialize_grads(False)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            assert g_idx is None
            return None if g is None else g * 2

    x = mt.tensor([1.0, -1.0], requires_grad=True)
    y, idx = SortLike.apply(x)
    assert y.requires_grad and not idx.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_wrong_number_of_gradients():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    x = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


def test_gradient_with_wrong_shape():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return mt.ones(5)

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        Bad.apply(x).sum().backward()


def test_broadcast_gradient_is_summed_to_input_shape():
    class Spread(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return mt.ones(4, 2, 3, dtype=g.dtype)  # expandable: reduced like torch

    x = mt.tensor(np.ones((1, 3)), requires_grad=True)
    Spread.apply(x).sum().backward()
    assert x.grad.tolist() == [[8.0, 8.0, 8.0]]


def test_once_differentiable():
    class Sq(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = mt.tensor([3.0], requires_grad=True)
    (g,) = autograd.grad(Sq.apply(x).sum(), x, create_graph=True)
    assert g.item() == 6.0
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_function_apply_without_grad_records_nothing():
    x = mt.tensor([1.0])
    y = MT_FNS[0].apply(x)
    assert y.grad_fn is None and not y.requires_grad
    with mt.no_grad():
        y = MT_FNS[0].apply(mt.tensor([1.0], requires_grad=True))
    assert y.grad_fn is None


# ----- gradcheck -----------------------------------------------------------------------------------
def test_gradcheck_passes_on_correct_ops_and_functions():
    x = mt.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    y = mt.tensor(RNG.uniform(0.5, 2.0, (3,)), requires_grad=True)
    assert autograd.gradcheck(lambda a, b: (a.tanh() * b, (a / b).exp()), (x, y))
    assert autograd.gradcheck(MT_FNS[2].apply, (x,))
    assert autograd.gradgradcheck(MT_FNS[2].apply, (x,))
    assert autograd.gradgradcheck(lambda a, b: a.sin() * b ** 2, (x, y))


class _WrongExp(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * 1.1  # deliberately wrong


def test_gradcheck_fails_with_clear_message():
    x = mt.tensor(RNG.standard_normal(3), requires_grad=True)
    c = mt.tensor(RNG.standard_normal(3))
    with pytest.raises(autograd.GradcheckError) as info:
        autograd.gradcheck(lambda c, x: _WrongExp.apply(x) * c, (c, x))
    msg = str(info.value)
    assert "with respect to input 1" in msg
    assert "max abs difference" in msg
    assert "numerical" in msg and "analytical" in msg
    assert isinstance(info.value, RuntimeError)
    assert autograd.gradcheck(lambda x: _WrongExp.apply(x), (x,), raise_exception=False) is False


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        autograd.gradcheck(lambda x: x * 2, (mt.tensor([1.0], dtype=mt.float64),))


def test_gradcheck_warns_for_float32():
    x = mt.tensor([0.3, 0.7], requires_grad=True)
    with pytest.warns(UserWarning, match="double precision"):
        autograd.gradcheck(lambda x: x * 2, (x,))
