#!/usr/bin/env python
"""Tensors and autograd: fit a cubic polynomial to sin(x), first by hand, then with nn and optim.

What it teaches (written exactly as PyTorch code, with ``import minitorch_jax as torch``):

The target is ``sin(pi x)`` on ``x`` in [-1, 1] (kept in [-1, 1] so that plain gradient descent is stable).

1. by hand: four scalar tensors with ``requires_grad=True``; ``loss.backward()`` fills their ``.grad``;
   the update runs inside ``with torch.no_grad():`` with in-place ops, then ``.grad.zero_()``;
2. the same model as ``nn.Linear(3, 1)`` on the features ``(x, x**2, x**3)``, with ``nn.MSELoss`` and
   ``optim.SGD``: ``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``.

Both fits reach the same coefficients, which the script compares with the least-squares solution.

Usage: ``python examples/02_autograd_polynomial.py [--steps N] [--lr LR]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import minitorch_jax as torch
from minitorch_jax import nn


def make_data(n: int = 200):
    """``x`` in [-1, 1] and ``y = sin(pi x)``, both float32 tensors of shape (n,)."""
    x = torch.linspace(-1.0, 1.0, n)
    return x, torch.sin(math.pi * x)


def fit_by_hand(x, y, steps: int, lr: float):
    """Gradient descent on ``a + b x + c x^2 + d x^3`` with hand-written updates."""
    a, b, c, d = (torch.zeros((), requires_grad=True) for _ in range(4))
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = ((y_pred - y) ** 2).mean()
        if t % max(steps // 5, 1) == 0:
            print(f"  step {t:5d}  loss {loss.item():.6f}")
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad.zero_()
    return [p.item() for p in (a, b, c, d)], loss.item()


def fit_with_nn(x, y, steps: int, lr: float):
    """The same fit as ``nn.Linear(3, 1)`` on ``(x, x^2, x^3)`` with ``optim.SGD`` and ``nn.MSELoss``."""
    features = torch.stack([x, x ** 2, x ** 3], dim=1)  # (n, 3)
    target = y.unsqueeze(1)  # (n, 1)
    model = nn.Linear(3, 1)
    with torch.no_grad():  # start from zero like the hand-written fit
        model.weight.zero_()
        model.bias.zero_()
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for t in range(steps):
        loss = loss_fn(model(features), target)
        if t % max(steps // 5, 1) == 0:
            print(f"  step {t:5d}  loss {loss.item():.6f}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    w = model.weight.detach().numpy()[0]
    return [model.bias.item(), *map(float, w)], loss.item()


def show(name: str, coef) -> None:
    """Print the polynomial with its coefficients."""
    a, b, c, d = coef
    print(f"{name:<14} y = {a:+.4f} {b:+.4f} x {c:+.4f} x^2 {d:+.4f} x^3")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Fit a cubic to sin(pi x) by hand and with nn/optim.")
    ap.add_argument("--steps", type=int, default=1000, help="gradient-descent steps per fit")
    ap.add_argument("--lr", type=float, default=0.3, help="learning rate")
    args = ap.parse_args(argv)
    x, y = make_data()

    print(f"1) hand-written gradient descent ({args.steps} steps, lr={args.lr})")
    t0 = time.perf_counter()
    hand, hand_loss = fit_by_hand(x, y, args.steps, args.lr)
    hand_s = time.perf_counter() - t0

    print(f"2) nn.Linear(3, 1) + optim.SGD ({args.steps} steps, lr={args.lr})")
    t0 = time.perf_counter()
    net, net_loss = fit_with_nn(x, y, args.steps, args.lr)
    net_s = time.perf_counter() - t0

    xn = x.numpy().astype(np.float64)
    lstsq = np.linalg.lstsq(np.stack([xn ** 0, xn, xn ** 2, xn ** 3], 1), y.numpy(), rcond=None)[0]
    print()
    show("by hand", hand)
    show("nn + optim", net)
    show("least squares", lstsq)
    print(f"final loss: by hand {hand_loss:.6f} ({hand_s * 1e3 / args.steps:.2f} ms/step), "
          f"nn + optim {net_loss:.6f} ({net_s * 1e3 / args.steps:.2f} ms/step)")
    assert np.allclose(hand, net, rtol=1e-3, atol=1e-4), (hand, net)
    assert math.isfinite(hand_loss)
    print("OK: both fits agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
