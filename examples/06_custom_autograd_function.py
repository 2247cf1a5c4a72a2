#!/usr/bin/env python
"""Custom ``autograd.Function``s: a hand-written backward, checked with ``gradcheck``, and a
straight-through estimator used to train a model with quantized weights.

What it teaches:

1. ``Swish(x, beta) = x * sigmoid(beta * x)`` as a ``mt.autograd.Function``: ``forward(ctx, ...)`` saves what
   the backward needs with ``ctx.save_for_backward``; ``backward(ctx, grad_out)`` returns one gradient per
   input (``None`` for inputs that need none, see ``ctx.needs_input_grad``). ``mt.autograd.gradcheck``
   compares it with finite differences (in float64) and passes; the gradients also equal those autograd
   finds for the same formula written with ordinary ops;
2. ``QuantizeSTE(w, step, limit)``: rounds to a grid in the forward pass, but its backward pretends the op
   was the identity inside ``[-limit, limit]`` (a *clipped straight-through estimator*). Its gradient is
   deliberately not the true one (which is 0 almost everywhere), and gradcheck says so;
3. yet the STE is what makes training possible: a linear model whose weights are quantized to a 1/4 grid
   in every forward pass learns the target weights, with ``optim.SGD``, eagerly and under ``mt.jit``.

Usage: ``python examples/06_custom_autograd_function.py [--steps N]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import minitorch_jax as mt


class Swish(mt.autograd.Function):
    """``x * sigmoid(beta * x)`` with a hand-written backward. Shapes: x any, beta a scalar tensor."""

    @staticmethod
    def forward(ctx, x, beta):
        s = mt.sigmoid(beta * x)
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_out):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)  # sigmoid'(beta x)
        grad_x = grad_beta = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_out * (s + x * beta * ds)
        if ctx.needs_input_grad[1]:
            grad_beta = (grad_out * x * x * ds).sum()
        return grad_x, grad_beta


class QuantizeSTE(mt.autograd.Function):
    """Round ``w`` to multiples of ``step`` clipped to ``[-limit, limit]``; backward: clipped identity."""

    @staticmethod
    def forward(ctx, w, step: float, limit: float):
        ctx.save_for_backward(w)
        ctx.limit = limit
        return mt.clamp(mt.round(w / step) * step, -limit, limit)

    @staticmethod
    def backward(ctx, grad_out):
        (w,) = ctx.saved_tensors
        inside = (w.abs() <= ctx.limit).to(grad_out.dtype)
        return grad_out * inside, None, None  # no gradients for the two Python numbers


def check_swish() -> None:
    """gradcheck the custom Swish and compare it with plain autograd of the same formula."""
    mt.manual_seed(0)
    x = mt.randn(5, 3, dtype=mt.float64, requires_grad=True)
    beta = mt.tensor(1.3, dtype=mt.float64, requires_grad=True)
    ok = mt.autograd.gradcheck(Swish.apply, (x, beta))
    print(f"gradcheck(Swish.apply, (x, beta)) -> {ok}")

    y = Swish.apply(x, beta)
    print(f"y.grad_fn = {type(y.grad_fn).__name__}")
    gx, gb = mt.autograd.grad(y.sum(), (x, beta))
    rx, rb = mt.autograd.grad((x * mt.sigmoid(beta * x)).sum(), (x, beta))
    err = max((gx - rx).abs().max().item(), (gb - rb).abs().item())
    print(f"custom backward vs autograd of the formula: max difference {err:.2e}")
    assert ok and err < 1e-12


def check_ste() -> None:
    """gradcheck reports that the straight-through gradient is not the true gradient (by design)."""
    w = mt.tensor([0.3, -0.8, 1.7], dtype=mt.float64, requires_grad=True)
    q = QuantizeSTE.apply(w, 0.25, 1.5)
    q.sum().backward()
    print(f"QuantizeSTE(w={w.tolist()}) = {q.tolist()}, STE gradient {w.grad.tolist()}")
    ok = mt.autograd.gradcheck(lambda t: QuantizeSTE.apply(t, 0.25, 1.5), (w,), eps=1e-4,
                               raise_exception=False)
    print(f"gradcheck(QuantizeSTE) -> {ok}  (expected: the STE gradient is an estimate, not the derivative)")
    assert not ok


def train_quantized(steps: int, jit: bool) -> tuple:
    """Fit y = x @ w_true with weights quantized to a 0.25 grid in every forward pass (through the STE)."""
    rng = np.random.default_rng(0)
    w_true = np.array([[0.75], [-1.25], [0.5], [1.0]], np.float32)
    xn = rng.standard_normal((256, 4)).astype(np.float32)
    x, y = mt.tensor(xn), mt.tensor(xn @ w_true + 0.01 * rng.standard_normal((256, 1)).astype(np.float32))
    w = mt.nn.Parameter(mt.tensor(rng.uniform(-0.2, 0.2, (4, 1)).astype(np.float32)))
    opt = mt.optim.SGD([w], lr=0.05, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = ((x @ QuantizeSTE.apply(w, 0.25, 2.0) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    run = mt.jit(step) if jit else step
    first = last = None
    for _ in range(steps):
        loss = run().item()
        first = loss if first is None else first
        last = loss
    wq = QuantizeSTE.apply(w.detach(), 0.25, 2.0)
    compiles = run.num_compiles if jit else 0
    return first, last, wq.flatten().tolist(), w_true.flatten().tolist(), compiles


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Custom autograd.Function: gradcheck and a straight-through op.")
    ap.add_argument("--steps", type=int, default=150, help="training steps of the quantized model")
    args = ap.parse_args(argv)

    print("== 1. Swish with a hand-written backward ==")
    check_swish()
    print("\n== 2. a clipped straight-through estimator ==")
    check_ste()
    print("\n== 3. training weights quantized to a 0.25 grid, through the STE ==")
    for jit in (False, True):
        first, last, wq, wt, compiles = train_quantized(args.steps, jit)
        label = f"mt.jit ({compiles} compilation)" if jit else "eager"
        print(f"{label}: loss {first:.4f} -> {last:.4f}; quantized weights {wq} (target {wt})")
        assert last < first
    return 0


if __name__ == "__main__":
    sys.exit(main())
