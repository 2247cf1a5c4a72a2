#!/usr/bin/env python
"""A small CNN with BatchNorm and Dropout on generated 1x16x16 images of squares, crosses and rings.

What it teaches:

* ``nn.Conv2d``, ``nn.BatchNorm2d``, ``nn.MaxPool2d``, ``nn.Dropout``, ``nn.Flatten`` in an ``nn.Sequential``;
* **train vs eval mode**: ``model.train()`` makes BatchNorm use batch statistics (and update its running
  averages) and Dropout zero activations at random; ``model.eval()`` uses the running averages and turns
  Dropout off, so evaluation is deterministic. The script shows both: the same batch gives different
  outputs twice in train mode and identical outputs in eval mode;
* ``mt.jit`` on the training step (``--jit``, the default) and on the evaluation forward: the training
  flag is part of the compiled program's guard, so train and eval are two programs.

Usage: ``python examples/04_cnn_batchnorm_dropout.py [--steps N] [--jit | --no-jit]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import minitorch_jax as mt
from minitorch_jax import nn

CLASSES = ("square", "cross", "ring")


def make_images(n: int, size: int = 16, seed: int = 0):
    """``n`` noisy images (n, 1, size, size) float32 of a random shape class, and labels (n,) int64."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, 1, size, size), np.float32)
    for i, c in enumerate(labels):
        r = rng.integers(3, 6)  # half-size of the shape
        cy, cx = rng.integers(r, size - r, 2)
        dy, dx = np.abs(yy - cy), np.abs(xx - cx)
        if c == 0:  # square outline
            img = (np.maximum(dy, dx) == r)
        elif c == 1:  # cross
            img = ((dy <= 0) & (dx <= r)) | ((dx <= 0) & (dy <= r))
        else:  # ring
            img = np.abs(np.sqrt(dy ** 2 + dx ** 2) - r) < 0.6
        images[i, 0] = img
    images += 0.3 * rng.standard_normal(images.shape).astype(np.float32)
    return images, labels.astype(np.int64)


def make_model(dropout: float) -> nn.Module:
    """conv-bn-relu-pool x2, then dropout and a linear classifier: (N, 1, 16, 16) -> (N, 3)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(16 * 4 * 4, len(CLASSES)),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="A CNN with BatchNorm and Dropout on generated shape images.")
    ap.add_argument("--steps", type=int, default=200, help="training steps")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--n-train", type=int, default=2048)
    ap.add_argument("--n-test", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                    help="compile the training step and the evaluation forward with mt.jit")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    mt.manual_seed(args.seed)
    xtr, ytr = make_images(args.n_train, seed=args.seed)
    xte, yte = make_images(args.n_test, seed=args.seed + 1)
    x_train, y_train = mt.tensor(xtr), mt.tensor(ytr)
    x_test, y_test = mt.tensor(xte), mt.tensor(yte)

    model = make_model(args.dropout)
    optimizer = mt.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{n_params} parameters; {args.n_train} train / {args.n_test} test images of {', '.join(CLASSES)}")

    def train_step(x, y):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def predict(x):
        return model(x).argmax(dim=1)

    step = mt.jit(train_step) if args.jit else train_step
    forward = mt.jit(predict) if args.jit else predict
    mode = "mt.jit" if args.jit else "eager"

    def accuracy(x, y) -> float:
        model.eval()
        with mt.no_grad():
            acc = (forward(x) == y).float().mean().item()
        model.train()
        return acc

    gen = np.random.default_rng(args.seed + 2)
    times = []
    model.train()
    for i in range(args.steps):
        idx = mt.tensor(gen.integers(0, args.n_train, args.batch_size))
        t0 = time.perf_counter()
        loss = step(x_train[idx], y_train[idx]).item()
        if i >= 2:  # warm-up and compilation
            times.append(time.perf_counter() - t0)
        if i % max(args.steps // 5, 1) == 0 or i == args.steps - 1:
            print(f"step {i:4d}  loss {loss:.4f}  test acc {accuracy(x_test, y_test):.3f}")

    print("\ntrain vs eval mode on the test images (logits of class 0 of the first 4):")
    with mt.no_grad():
        model.train()
        a, b = model(x_test)[:4, 0], model(x_test)[:4, 0]
        print(f"  train mode, twice: {np.round(a.numpy(), 3)} / {np.round(b.numpy(), 3)}  "
              "(dropout, batch statistics)")
        model.eval()
        c, d = model(x_test)[:4, 0], model(x_test)[:4, 0]
        print(f"  eval mode,  twice: {np.round(c.numpy(), 3)} / {np.round(d.numpy(), 3)}  (deterministic)")
    assert np.array_equal(c.numpy(), d.numpy())
    bn = model[1]
    print(f"  BatchNorm2d(8) running_mean[:4] = {np.round(bn.running_mean[:4].numpy(), 4)}, "
          f"num_batches_tracked = {int(bn.num_batches_tracked)}")
    model.train()

    train_acc, test_acc = accuracy(x_train, y_train), accuracy(x_test, y_test)
    ms = float(np.median(times)) * 1e3 if times else float("nan")
    print(f"final: train acc {train_acc:.3f}, test acc {test_acc:.3f}")
    print(f"timing ({mode}): {ms:.3f} ms/step (median of {len(times)} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
