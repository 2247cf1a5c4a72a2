"""mt.export with dynamic shapes (``Dim``) on everyday models, written once and run by real torch too.

Each model is ordinary PyTorch code in ``build(torch)``; the mt program is exported with batch and
sequence dims dynamic and compared, at several sizes, with the same model run by real torch (weights
copied) and, where torch.export takes the same model, with torch.export's program. Also: guard errors
for out-of-range sizes (torch's message), save/load of a dynamic program, and regressions for the two
bugs this file was written for: slicing along a dynamic dim and arithmetic with a dynamic size
(``x * x.shape[0]``, ``x.view(x.size(0), -1)``, ``torch.arange(T)``, ``x.new_zeros(B, 3)`` ...).
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.export import Dim

from .nn_oracle import copy_state
from .oracle import torch


def build(torch):
    """The models, as ordinary PyTorch code (``torch`` is real torch or minitorch_jax)."""
    nn, F = torch.nn, torch.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 16)
            self.fc2 = nn.Linear(16, 3)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(4 * 4 * 4, 5)

        def forward(self, x):
            x = self.pool(F.relu(self.conv(x)))
            x = x.view(x.size(0), -1)
            return self.fc(x)

    class CausalSelfAttention(nn.Module):
        def __init__(self, dim=8, n_head=2, max_len=16):
            super().__init__()
            self.n_head, self.head_dim = n_head, dim // n_head
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)
            self.pos = nn.Parameter(torch.zeros(1, max_len, dim))

        def forward(self, x):
            B, T, C = x.shape
            x = x + self.pos[:, :T]
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
            k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
            v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * self.head_dim ** -0.5
            mask = torch.ones(T, T).tril()
            att = att.masked_fill(mask == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.proj(y)

    class TokenLM(nn.Module):
        """Token + positional embeddings (positions sliced / arange'd to the sequence length),
        a shifted next-token loss over a dynamic sequence."""

        def __init__(self, vocab=11, dim=8, max_len=16):
            super().__init__()
            self.tok = nn.Embedding(vocab, dim)
            self.pos = nn.Embedding(max_len, dim)
            self.pos_table = nn.Parameter(torch.zeros(1, max_len, dim))
            self.head = nn.Linear(dim, vocab)

        def forward(self, idx):
            T = idx.size(1)
            h = self.tok(idx) + self.pos(torch.arange(T)) + self.pos_table[:, : idx.size(1)]
            logits = self.head(h)
            loss = F.cross_entropy(logits[:, :-1].transpose(1, 2), idx[:, 1:])
            return logits[:, -1], loss

    class Pooling(nn.Module):
        """Mean / sum over the dynamic sequence dim, and scaling by the dynamic sizes."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x, lengths_scale):
            h = self.fc(x)
            mean = h.mean(dim=1)
            total = h.sum(1) / x.size(1)
            first_half = h[:, : x.shape[1] // 2].sum(1)
            return mean + total * lengths_scale, first_half, h.flatten(1) * x.shape[0]

    class Concat(nn.Module):
        """A class token prepended (cat along the dynamic dim), a shift-right with new_zeros,
        a full() column and a cat of two inputs with different dynamic lengths."""

        def __init__(self, dim=4):
            super().__init__()
            self.cls = nn.Parameter(torch.zeros(1, 1, dim))
            self.fc = nn.Linear(dim, dim)

        def forward(self, x, y):
            B = x.size(0)
            h = torch.cat([self.cls.expand(B, -1, -1), x], dim=1)
            shifted = torch.cat([x.new_zeros(B, 1, x.shape[2]), x[:, :-1]], dim=1)
            flag = torch.full((x.size(0), 1), 1.0)
            both = torch.cat([x, y], dim=1)
            return self.fc(h), shifted + x, torch.cat([flag, h[:, 0]], dim=1), both.mean(1)

    return {"MLP": MLP, "ConvNet": ConvNet, "CausalSelfAttention": CausalSelfAttention, "TokenLM": TokenLM,
            "Pooling": Pooling, "Concat": Concat}


def _specs(lib):
    """Per model: example-input makers (numpy, by sizes), dynamic_shapes and the sizes to check."""
    batch = lib.export.Dim("batch", min=2, max=32)
    seq = lib.export.Dim("seq", min=3, max=16)  # torch.export wants 3: x[:, :-1] must not be size 1
    seq2 = lib.export.Dim("seq2", min=2, max=20)
    rng = np.random.default_rng(0)

    def f(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    return {
        "MLP": (lambda b, t: (f(b, 6),), {"x": {0: batch}}),
        "ConvNet": (lambda b, t: (f(b, 1, 8, 8),), {"x": {0: batch}}),
        "CausalSelfAttention": (lambda b, t: (f(b, t, 8),), {"x": {0: batch, 1: seq}}),
        "TokenLM": (lambda b, t: (rng.integers(0, 11, (b, t)),), {"idx": {0: batch, 1: seq}}),
        "Pooling": (lambda b, t: (f(b, t, 4), f(b, 1)),
                    {"x": {0: batch, 1: seq}, "lengths_scale": {0: batch}}),
        "Concat": (lambda b, t: (f(b, t, 4), f(b, t + 3, 4)),
                   {"x": {0: batch, 1: seq}, "y": {0: batch, 1: seq2}}),
    }


SIZES = [(3, 5), (2, 3), (7, 16)]
MT_MODELS = build(mt)


def _pair(name):
    torch.manual_seed(0)
    t_model = build(torch)[name]().eval()
    with torch.no_grad():
        for p in t_model.parameters():  # zero-initialised tables get values too
            p.add_(0.1 * torch.randn(p.shape))
    m_model = copy_state(MT_MODELS[name]().eval(), t_model)
    return m_model, t_model


def _np(v):
    if isinstance(v, (list, tuple)):
        return [x for y in v for x in _np(y)]
    return [v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)]


def _check(got, want, rtol=1e-5, atol=1e-5):
    got, want = _np(got), _np(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _export(name, m_model):
    make, ds = _specs(mt)[name]
    example = tuple(mt.tensor(a) for a in make(*SIZES[0]))
    return mt.export.export(m_model, example, dynamic_shapes=ds)


@pytest.mark.parametrize("name", list(MT_MODELS))
def test_dynamic_export_matches_torch_at_several_sizes(name):
    m_model, t_model = _pair(name)
    ep = _export(name, m_model)
    make, ds = _specs(mt)[name]
    assert set(ep.range_constraints) == {d.__name__ for spec in ds.values() for d in spec.values()}
    mod = ep.module()
    for b, t in SIZES[1:]:  # sizes other than the example's
        inputs = make(b, t)
        with torch.no_grad():
            want = t_model(*(torch.from_numpy(a) for a in inputs))
        _check(mod(*(mt.tensor(a) for a in inputs)), want)


@pytest.fixture(scope="module")
def attention_programs():
    """The attention block exported by torch.export and by mt.export, same dynamic_shapes (torch.export
    is slow: one model here)."""
    name = "CausalSelfAttention"
    m_model, t_model = _pair(name)
    make, t_ds = _specs(torch)[name]
    t_ep = torch.export.export(t_model, tuple(torch.from_numpy(a) for a in make(*SIZES[0])),
                               dynamic_shapes=t_ds)
    return t_ep.module(), _export(name, m_model).module(), make


def test_same_dynamic_shapes_accepted_by_torch_export(attention_programs):
    t_mod, mod, make = attention_programs
    for b, t in SIZES[1:]:
        inputs = make(b, t)
        _check(mod(*(mt.tensor(a) for a in inputs)), t_mod(*(torch.from_numpy(a) for a in inputs)))


def _guard_message(fn, *args):
    with pytest.raises(AssertionError) as info:
        fn(*args)
    return str(info.value)


def test_guard_errors_match_torch_message(attention_programs):
    t_mod, mod, _ = attention_programs
    for shape in [(3, 17, 8), (40, 5, 8), (3, 5, 6)]:  # seq > max, batch > max, a static dim changed
        x = np.zeros(shape, np.float32)
        want = _guard_message(t_mod, torch.from_numpy(x))
        got = _guard_message(mod, mt.tensor(x))
        assert got.startswith(want), (got, want)  # mt adds "(got N)"
    assert _guard_message(mod, mt.zeros(3, 2, 8)) == "Guard failed: x.size()[1] >= 3 (got 2)"


def test_save_load_dynamic_program(tmp_path):
    m_model, t_model = _pair("TokenLM")
    ep = _export("TokenLM", m_model)
    mt.export.save(ep, tmp_path / "lm.pt2")
    loaded = mt.export.load(tmp_path / "lm.pt2")
    assert {k: (v.lower, v.upper) for k, v in loaded.range_constraints.items()} == {"batch": (2, 32),
                                                                                    "seq": (3, 16)}
    make = _specs(mt)["TokenLM"][0]
    mod = loaded.module()
    for b, t in SIZES[2:]:
        idx = make(b, t)[0]
        with torch.no_grad():
            want = t_model(torch.from_numpy(idx))
        _check(mod(mt.tensor(idx)), want)
    with pytest.raises(AssertionError, match=r"Guard failed: idx.size\(\)\[1\] <= 16"):
        mod(mt.zeros(2, 17, dtype=mt.int64))


# ----- regressions: the two bugs, op by op --------------------------------------------------------
# Each case is ``fn(lib, x, n)`` (x float, n int32, both (b, t) with b and t dynamic), run by real
# torch as the oracle and inside one mt.export program (one trace and compile for all cases).
CASES = {
    "slice_half": lambda lib, x, n: x[:, : x.shape[1] // 2],
    "slice_from_1": lambda lib, x, n: x[1:],
    "slice_to_minus_1": lambda lib, x, n: x[:-1, 1:-1],
    "select_last": lambda lib, x, n: x[:, -1:] + x[0] + x[-1],
    "mul_size": lambda lib, x, n: x * x.shape[0],
    "div_size": lambda lib, x, n: x / x.size(1) - x.size(0),
    "int_mul_size": lambda lib, x, n: n * n.shape[0] + n.size(1),  # stays int32, as in torch
    "arange": lambda lib, x, n: x + lib.arange(x.shape[1]),
    "view": lambda lib, x, n: x.view(x.shape[0], -1).reshape(x.size(0), x.size(1), 1).flatten(1),
    "new_zeros": lambda lib, x, n: lib.cat([x, x.new_zeros(x.shape[0], 3)], 1),
    "full": lambda lib, x, n: x + lib.full((x.size(0),), 1.0)[:, None],
    "ones_tril": lambda lib, x, n: (lib.ones(x.shape[1], x.shape[1]).tril() @ x.T).T,
    "expand": lambda lib, x, n: x[:, :1].expand(x.size(0), x.size(1)) + x[:1].expand(x.size(0), -1),
}


class _Cases(mt.nn.Module):
    def forward(self, x, n):
        return {k: fn(mt, x, n) for k, fn in CASES.items()}


def test_dynamic_size_ops_match_torch():
    rng = np.random.default_rng(1)
    x, n = rng.standard_normal((4, 6)).astype(np.float32), rng.integers(-5, 5, (4, 6)).astype(np.int32)
    dims = {0: Dim("b", max=64), 1: Dim("t", max=64)}
    ep = mt.export.export(_Cases(), (mt.tensor(x), mt.tensor(n)), dynamic_shapes=(dims, dims))
    for b, t in [(5, 9), (1, 2)]:
        x, n = rng.standard_normal((b, t)).astype(np.float32), rng.integers(-5, 5, (b, t)).astype(np.int32)
        out = ep.module()(mt.tensor(x), mt.tensor(n))
        for k, fn in CASES.items():
            want = fn(torch, torch.from_numpy(x), torch.from_numpy(n))
            assert isinstance(out[k], mt.Tensor), (k, type(out[k]))  # not a raw jax value
            _check(out[k], want)


def test_known_limits_give_clear_errors():
    """Known limits, as clear errors: (1) jax's symbolic shapes cannot prove a product with a negative
    term (b * (t - 1)) non-negative, so merging such dims cannot stay dynamic; (2) a dynamic size on
    the left of an operator (jax's size object) treats the Tensor as a jax array."""
    ds = ({0: Dim("b"), 1: Dim("t")},)
    with pytest.raises(RuntimeError, match=r"cannot be traced with the dynamic dimensions \['b', 't'\]"):
        mt.export.export(_Probe(lambda x: x[:, 1:].reshape(-1)), (mt.randn(3, 4),), dynamic_shapes=ds)
    with pytest.raises(RuntimeError, match=r"dynamic size on the left .* write the Tensor first"):
        mt.export.export(_Probe(lambda x: x.shape[0] * x), (mt.randn(3, 4),), dynamic_shapes=ds)


class _Probe(mt.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)
