#!/usr/bin/env python
"""A character-level transformer language model on a small text shipped in the repo, then sampling.

What it teaches, written as PyTorch code (``import minitorch_jax as torch``):

* a decoder-only LM from stock layers: ``nn.Embedding`` for characters and positions, an
  ``nn.TransformerEncoder`` of ``nn.TransformerEncoderLayer`` (``batch_first=True``, ``norm_first=True``)
  with the causal mask from ``nn.Transformer.generate_square_subsequent_mask``, and a linear head;
* a training step (AdamW, gradient clipping with ``nn.utils.clip_grad_norm_``, a warm-up schedule with
  ``lr_scheduler.LambdaLR``) compiled as one XLA program with ``torch.jit``;
* generation with ``torch.multinomial`` on temperature-scaled ``softmax`` probabilities, under ``no_grad``
  and in ``eval()`` mode (dropout off), several continuations at once with one fixed context shape.

The text is ``examples/data/tiny_text.txt`` (original, a few KB): the model learns spelling and common
words within a few hundred steps; do not expect literature.

Usage: ``python examples/05_char_transformer.py [--steps N] [--sample-len L] [--jit | --no-jit]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import minitorch_jax as torch
from minitorch_jax import nn

DATA = Path(__file__).resolve().parent / "data" / "tiny_text.txt"


class CharLM(nn.Module):
    """Embeddings -> causal TransformerEncoder -> LayerNorm -> logits over the vocabulary.

    Args:
        vocab: number of distinct characters.
        block: context length (maximum sequence length).
        d_model, nhead, layers: transformer size.

    Shapes: ``forward(idx)`` takes (B, T) int64 with T <= block and returns (B, T, vocab) logits.
    """

    def __init__(self, vocab: int, block: int, d_model: int = 64, nhead: int = 4, layers: int = 2,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block), persistent=False)

    def forward(self, idx):
        t = idx.shape[1]
        h = self.tok(idx) + self.pos(torch.arange(t))
        h = self.encoder(h, mask=self.mask[:t, :t], is_causal=True)
        return self.head(self.norm(h))


def sample(forward, block: int, prompt: list, n: int, batch: int, temperature: float, generator) -> list:
    """Extend ``prompt`` (a list of ids) by ``n`` ids, ``batch`` continuations at once, with ``multinomial``.

    ``forward`` maps (batch, block) ids to logits. The context always has that one shape (the prompt is
    right-padded; the causal mask makes the padding invisible to earlier positions), so a compiled
    forward compiles once and eager ops reuse their kernels.
    """
    rows = [list(prompt) for _ in range(batch)]
    with torch.no_grad():
        for _ in range(n):
            length = len(rows[0])
            window = [r[-block:] + [0] * (block - min(length, block)) for r in rows]
            pos = min(length, block) - 1
            logits = forward(torch.tensor(window))[:, pos] / temperature  # (batch, vocab)
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].tolist()
            for r, i in zip(rows, nxt):
                r.append(i)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train a character-level transformer LM and sample from it.")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--block", type=int, default=32, help="context length")
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--sample-len", type=int, default=200)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    text = DATA.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]

    torch.manual_seed(args.seed)
    model = CharLM(len(chars), args.block, d_model=args.d_model, layers=args.layers, dropout=args.dropout)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(args.steps // 10, 1)

    def lr_factor(s: int) -> float:  # linear warm-up, then cosine decay
        return min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s / args.steps, 1)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"text: {len(text)} chars, vocab {len(chars)}; model: {n_params} parameters, context {args.block}")

    rng = np.random.default_rng(args.seed)

    def batch(source):
        starts = rng.integers(0, len(source) - args.block - 1, args.batch_size)
        x = np.stack([source[s:s + args.block] for s in starts])
        y = np.stack([source[s + 1:s + args.block + 1] for s in starts])
        return torch.tensor(x), torch.tensor(y)

    def train_step(x, y):
        optimizer.zero_grad()
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    def logits_of(x):
        return model(x)

    step = torch.jit(train_step) if args.jit else train_step
    forward = torch.jit(logits_of) if args.jit else logits_of  # used in eval mode only

    def val_loss() -> float:
        model.eval()
        with torch.no_grad():
            x, y = batch(val_data)
            logits = forward(x)
            v = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
        model.train()
        return v

    print(f"uniform-guess loss would be {math.log(len(chars)):.3f}")
    times, t_start = [], time.perf_counter()
    for i in range(args.steps):
        x, y = batch(train_data)
        t0 = time.perf_counter()
        loss = step(x, y).item()
        scheduler.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
        if i % max(args.steps // 6, 1) == 0 or i == args.steps - 1:
            print(f"step {i:4d}  train loss {loss:.3f}  val loss {val_loss():.3f}  "
                  f"lr {scheduler.get_last_lr()[0]:.2e}")
    train_s = time.perf_counter() - t_start
    ms = float(np.median(times)) * 1e3 if times else float("nan")
    mode = "torch.jit" if args.jit else "eager"
    print(f"training: {train_s:.1f} s, {ms:.2f} ms/step ({mode}, median)")

    gen = torch.Generator().manual_seed(args.seed)
    prompt = "The keeper "
    model.eval()
    t0 = time.perf_counter()
    rows = sample(forward, args.block, [stoi[c] for c in prompt], args.sample_len, args.batch_size,
                  args.temperature, gen)
    model.train()
    print(f"\n{args.batch_size} samples of {args.sample_len} characters in {time.perf_counter() - t0:.1f} s "
          f"(temperature {args.temperature}); the first two:")
    for r in rows[:2]:
        print("---\n" + "".join(chars[i] for i in r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
