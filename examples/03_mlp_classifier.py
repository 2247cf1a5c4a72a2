#!/usr/bin/env python
"""An MLP classifier on generated two-spirals data, with Dataset/DataLoader and an ``mt.jit`` step.

What it teaches:

* data: numpy-generated points wrapped in ``mt.utils.data.TensorDataset``, batched and shuffled by
  ``DataLoader`` (``drop_last=True`` keeps one batch shape, so the compiled step compiles once);
* a model: ``nn.Sequential`` of ``nn.Linear`` + ``nn.ReLU``, ``nn.CrossEntropyLoss``, ``optim.Adam`` and a
  ``lr_scheduler``;
* ``mt.jit`` on the *whole* training step (forward, backward, optimizer update): parameters, gradients
  and Adam's moments are found and carried automatically. The first call runs eagerly (warm-up: it
  creates the optimizer state), the second compiles. ``--no-jit`` runs the same Python eagerly;
* ``model.train()`` / ``model.eval()`` and ``with mt.no_grad()`` for evaluation, train/test accuracy.

Usage: ``python examples/03_mlp_classifier.py [--epochs N] [--jit | --no-jit] [--batch-size B]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import minitorch_jax as mt
from minitorch_jax import nn
from minitorch_jax.utils.data import DataLoader, TensorDataset


def two_spirals(n: int, noise: float = 0.15, seed: int = 0):
    """``n`` points on two interleaved spirals: features (n, 2) float32 and labels (n,) int64."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    t = rng.uniform(0.25, 1.0, n) * 3 * np.pi
    r = t / (3 * np.pi) * 2.0
    angle = t + np.pi * label
    xy = np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
    xy += noise * r[:, None] * rng.standard_normal((n, 2))
    return xy.astype(np.float32), label.astype(np.int64)


def make_model(hidden: int) -> nn.Module:
    """A 3-layer MLP: 2 inputs, two hidden layers of ``hidden`` units, 2 classes."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 2))


def accuracy(model: nn.Module, x: mt.Tensor, y: mt.Tensor) -> float:
    """Fraction of correctly classified rows, in eval mode and without autograd."""
    model.eval()
    with mt.no_grad():
        acc = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return acc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train an MLP on two spirals with DataLoader and mt.jit.")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--n-train", type=int, default=2048)
    ap.add_argument("--n-test", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                    help="compile the training step with mt.jit (default) or run it eagerly")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    mt.manual_seed(args.seed)
    xtr, ytr = two_spirals(args.n_train, seed=args.seed)
    xte, yte = two_spirals(args.n_test, seed=args.seed + 1)
    train_set = TensorDataset(mt.tensor(xtr), mt.tensor(ytr))
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True)
    x_test, y_test = mt.tensor(xte), mt.tensor(yte)

    model = make_model(args.hidden)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = mt.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = mt.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    def train_step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    step = mt.jit(train_step) if args.jit else train_step
    mode = "mt.jit" if args.jit else "eager"
    print(f"two spirals: {len(train_set)} train / {len(x_test)} test points, MLP 2-{args.hidden}-"
          f"{args.hidden}-2, Adam lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs, step: {mode}")

    n_steps, step_times = 0, []
    for epoch in range(args.epochs):
        total = 0.0
        for x, y in loader:
            t0 = time.perf_counter()
            loss = step(x, y)
            total += loss.item()  # .item() waits for the result, so the clock is honest
            if n_steps >= 2:  # the first two calls are the warm-up and the compilation
                step_times.append(time.perf_counter() - t0)
            n_steps += 1
        scheduler.step()
        if epoch % max(args.epochs // 6, 1) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:3d}  loss {total / len(loader):.4f}  "
                  f"train acc {accuracy(model, mt.tensor(xtr), mt.tensor(ytr)):.3f}  "
                  f"test acc {accuracy(model, x_test, y_test):.3f}  lr {scheduler.get_last_lr()[0]:.5f}")

    train_acc = accuracy(model, mt.tensor(xtr), mt.tensor(ytr))
    test_acc = accuracy(model, x_test, y_test)
    ms = float(np.median(step_times)) * 1e3 if step_times else float("nan")
    print(f"final: train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    extra = f", {step.num_compiles} compilation(s)" if args.jit else ""
    print(f"timing ({mode}): {ms:.3f} ms/step (median of {len(step_times)} steps){extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
