"""Same-source program parity: a decoder-only (GPT-style) token language model.

The program below is ordinary PyTorch code written once inside ``build(torch)``; the tests run it
with real torch and with minitorch_jax (``import minitorch_jax as torch``) and compare every step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import needs_torch, torch

VOCAB, BLOCK, D_MODEL, N_HEAD, N_LAYER = 13, 8, 16, 2, 2
IGNORE = -1
WARMUP, TOTAL = 2, 8


# ----------------------------------------------------------------------------------------------
# The program (written once; ``torch`` is real torch or minitorch_jax)
# ----------------------------------------------------------------------------------------------
def build(torch, variant="sdpa"):
    """Build a tiny GPT: model, AdamW optimizer (two groups), LambdaLR schedule and helpers."""
    nn, F = torch.nn, torch.nn.functional

    class SinusoidalPositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len):
            super().__init__()
            position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, d_model)
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe.unsqueeze(0), persistent=False)

        def forward(self, x):
            return x + self.pe[:, : x.size(1)]

    class CausalSelfAttention(nn.Module):
        def __init__(self, d_model, n_head):
            super().__init__()
            assert d_model % n_head == 0
            self.n_head = n_head
            self.c_attn = nn.Linear(d_model, 3 * d_model)
            self.c_proj = nn.Linear(d_model, d_model)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self, d_model, n_head):
            super().__init__()
            self.ln_1 = nn.LayerNorm(d_model)
            self.attn = CausalSelfAttention(d_model, n_head)
            self.ln_2 = nn.LayerNorm(d_model)
            self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"),
                                     nn.Linear(4 * d_model, d_model))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class TinyGPT(nn.Module):
        def __init__(self, vocab_size, block_size, d_model, n_head, n_layer, variant):
            super().__init__()
            self.block_size = block_size
            self.variant = variant
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            if variant == "sdpa":
                self.pos_emb = nn.Parameter(torch.zeros(1, block_size, d_model))
                self.blocks = nn.ModuleList([Block(d_model, n_head) for _ in range(n_layer)])
            else:
                self.pos_enc = SinusoidalPositionalEncoding(d_model, block_size)
                layer = nn.TransformerEncoderLayer(d_model, n_head, dim_feedforward=4 * d_model, dropout=0.0,
                                                   activation="gelu", batch_first=True, norm_first=True)
                self.encoder = nn.TransformerEncoder(layer, num_layers=n_layer, enable_nested_tensor=False)
            self.ln_f = nn.LayerNorm(d_model)
            self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
            self.lm_head.weight = self.tok_emb.weight  # weight tying
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            B, T = idx.shape
            assert T <= self.block_size, f"sequence length {T} exceeds block size {self.block_size}"
            x = self.tok_emb(idx) * math.sqrt(self.tok_emb.embedding_dim)
            if self.variant == "sdpa":
                x = x + self.pos_emb[:, :T, :]
                for block in self.blocks:
                    x = block(x)
            else:
                x = self.pos_enc(x)
                mask = nn.Transformer.generate_square_subsequent_mask(T, device=idx.device)
                x = self.encoder(x, mask=mask, is_causal=True)
            logits = self.lm_head(self.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                       ignore_index=IGNORE)
            return logits, loss

    model = TinyGPT(VOCAB, BLOCK, D_MODEL, N_HEAD, N_LAYER, variant)

    # AdamW with two parameter groups: no weight decay for biases and LayerNorm weights
    decay, no_decay = [], []
    for _name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.dim() >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95))

    def lr_lambda(step):
        if step < WARMUP:
            return (step + 1) / WARMUP
        progress = (step - WARMUP) / max(1, TOTAL - WARMUP)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

    def make_train_step(model, optimizer):
        def train_step(x, y):
            model.train()
            _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            optimizer.step()
            return loss.detach(), grad_norm
        return train_step

    @torch.no_grad()
    def evaluate(model, x, y):
        model.eval()
        logits, loss = model(x, y)
        model.train()
        return logits, loss.item()

    @torch.no_grad()
    def generate(model, idx, max_new_tokens, top_k=3):
        was_training = model.training
        model.eval()
        probs_seen = []
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= model.block_size else idx[:, -model.block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :]
            v, _ = torch.topk(logits, top_k)
            logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            probs_seen.append(probs)
            idx_next = torch.argmax(probs, dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        model.train(was_training)
        return idx, torch.stack(probs_seen, dim=1)

    return model, optimizer, scheduler, make_train_step, evaluate, generate


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _batches(n, seed=0, B=4):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        seq = rng.integers(0, VOCAB, size=(B, BLOCK + 1))
        x, y = seq[:, :-1].copy(), seq[:, 1:].copy()
        # ragged sequences: padded tail positions are ignored by the loss
        for b in range(B):
            cut = rng.integers(BLOCK - 3, BLOCK + 1)
            y[b, cut:] = IGNORE
        out.append((x.astype(np.int64), y.astype(np.int64)))
    return out


def _copy_into_mt(mt_model, t_model):
    sd = {k: mt.tensor(v.detach().cpu().numpy()) for k, v in t_model.state_dict().items()}
    res = mt_model.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys, res


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else np.asarray(t)


def _assert_params_close(mt_model, ref_model, rtol=1e-4, atol=2e-5):
    """Every parameter of ``mt_model`` equals ``ref_model``'s (a torch model or another mt model)."""
    t_params = dict(ref_model.named_parameters())
    m_params = dict(mt_model.named_parameters())
    assert list(m_params) == list(t_params)
    for name, tp in t_params.items():
        a, b = _np(m_params[name]), _np(tp)
        if name.endswith(("in_proj_bias", "c_attn.bias")):
            # The key bias's true gradient is exactly 0 (softmax is shift invariant): both libraries
            # get rounding noise (~1e-11), which AdamW turns into updates of about lr * g / eps per
            # step. Those entries are only checked against that bound; the rest at rtol/atol.
            key = np.arange(D_MODEL, 2 * D_MODEL)
            np.testing.assert_allclose(a[key], b[key], atol=1e-4, err_msg=name + " (key part)")
            a, b = np.delete(a, key), np.delete(b, key)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


def _pair(variant):
    torch.manual_seed(0)
    t = build(torch, variant)
    m = build(mt, variant)
    _copy_into_mt(m[0], t[0])
    return t, m


def _train(prog, lib, batches, step_fn=None):
    model, opt, sched, make_step, _, _ = prog
    step = step_fn or make_step(model, opt)
    losses, norms, lrs = [], [], []
    for x, y in batches:
        loss, gn = step(lib.tensor(x), lib.tensor(y))
        losses.append(loss.item())
        norms.append(float(gn))
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return losses, norms, lrs


VARIANTS = ["sdpa", "encoder"]
N_STEPS = 4  # from the 3rd step on, mt replays the whole backward as one fused program


class _Run:
    """Both libraries' programs for one variant, trained ``N_STEPS`` steps on the same batches."""

    def __init__(self, variant):
        self.variant = variant
        self.t, self.m = _pair(variant)
        self.init_state = {k: v.detach().clone() for k, v in self.t[0].state_dict().items()}
        self.batches = _batches(N_STEPS)
        self.t_hist = _train(self.t, torch, self.batches)
        self.m_hist = _train(self.m, mt, self.batches)


@pytest.fixture(scope="module", params=VARIANTS)
def run(request):
    return _Run(request.param)


# ----------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------
def test_structure_and_tied_weights(run):
    tm, topt, mm, mopt = run.t[0], run.t[1], run.m[0], run.m[1]
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert mm.lm_head.weight is mm.tok_emb.weight
    assert sum(p.numel() for p in mm.parameters()) == sum(p.numel() for p in tm.parameters())
    assert [len(g["params"]) for g in mopt.param_groups] == [len(g["params"]) for g in topt.param_groups]
    assert [g["weight_decay"] for g in mopt.param_groups] == [0.1, 0.0]
    assert [b for b, _ in mm.named_buffers()] == [b for b, _ in tm.named_buffers()]
    if run.variant == "encoder":
        np.testing.assert_allclose(_np(mm.pos_enc.pe), _np(tm.pos_enc.pe), rtol=1e-6, atol=1e-6)
        assert "pos_enc.pe" not in mm.state_dict()  # non-persistent buffer


def test_training_matches_torch(run):
    (t_losses, t_norms, t_lrs), (m_losses, m_norms, m_lrs) = run.t_hist, run.m_hist
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    np.testing.assert_allclose(m_norms, t_norms, rtol=1e-4)
    np.testing.assert_allclose(m_lrs, t_lrs, rtol=1e-12)
    _assert_params_close(run.m[0], run.t[0])
    assert run.m[0].lm_head.weight is run.m[0].tok_emb.weight
    # AdamW's state matches too (per parameter, both groups)
    ts, ms = run.t[1].state_dict()["state"], run.m[1].state_dict()["state"]
    assert sorted(ms) == sorted(ts)
    assert float(ms[0]["step"]) == float(ts[0]["step"]) == N_STEPS


def test_eval_and_generation_match_torch(run):
    t, m = run.t, run.m
    x, y = _batches(1, seed=7)[0]
    t_logits, t_loss = t[4](t[0], torch.tensor(x), torch.tensor(y))
    m_logits, m_loss = m[4](m[0], mt.tensor(x), mt.tensor(y))
    assert m[0].training and not m_logits.requires_grad
    np.testing.assert_allclose(m_loss, t_loss, rtol=1e-4)
    np.testing.assert_allclose(_np(m_logits), _np(t_logits), rtol=1e-4, atol=1e-5)
    # greedy generation with a top-k filter, past the block size (context cropping)
    prompt = x[:, : BLOCK - 1]
    t_idx, t_probs = t[5](t[0], torch.tensor(prompt), 3)
    m_idx, m_probs = m[5](m[0], mt.tensor(prompt), 3)
    assert m_idx.dtype == mt.int64 and tuple(m_idx.shape) == (4, BLOCK + 2)
    assert m[0].training
    np.testing.assert_array_equal(_np(m_idx), _np(t_idx))
    np.testing.assert_allclose(_np(m_probs), _np(t_probs), rtol=1e-4, atol=1e-6)


def test_compiled_train_step_matches_eager(run):
    jitted = build(mt, run.variant)
    jitted[0].load_state_dict({k: mt.tensor(v.numpy()) for k, v in run.init_state.items()})
    step = mt.jit(jitted[3](jitted[0], jitted[1]))
    j_losses, j_norms, j_lrs = _train(jitted, mt, run.batches, step_fn=step)
    e_losses, e_norms, e_lrs = run.m_hist
    np.testing.assert_allclose(j_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(j_norms, e_norms, rtol=1e-5)
    assert j_lrs == e_lrs
    assert step.num_compiles == 1, step.explain()
    _assert_params_close(jitted[0], run.m[0], rtol=1e-5, atol=1e-6)
    assert jitted[0].lm_head.weight is jitted[0].tok_emb.weight


def test_checkpoint_round_trip_and_resume_in_torch(tmp_path, run):
    t, m = run.t, run.m
    x, y = _batches(1, seed=9)[0]
    m[0].eval()
    ref = m[0](mt.tensor(x))[0]
    m[0].train()
    path = tmp_path / "gpt.pt"
    mt.save({"model": m[0].state_dict(), "optimizer": m[1].state_dict(), "scheduler": m[2].state_dict(),
             "step": N_STEPS}, path)
    fresh = build(mt, run.variant)
    ck = mt.load(path)
    fresh[0].load_state_dict(ck["model"])
    assert fresh[0].lm_head.weight is fresh[0].tok_emb.weight
    np.testing.assert_allclose(_np(fresh[0].eval()(mt.tensor(x))[0]), _np(ref), rtol=1e-6, atol=1e-6)
    # torch reads mt's checkpoint (torch's format) and resumes training exactly where mt is
    resumed = build(torch, run.variant)
    tck = torch.load(path, weights_only=True)
    resumed[0].load_state_dict(tck["model"])
    resumed[1].load_state_dict(tck["optimizer"])
    resumed[2].load_state_dict(tck["scheduler"])
    assert tck["step"] == N_STEPS and resumed[2].last_epoch == N_STEPS
    with torch.no_grad():
        np.testing.assert_allclose(_np(resumed[0].eval()(torch.tensor(x))[0]), _np(ref), rtol=1e-4, atol=1e-5)
    resumed[0].train()
    t_next = _train(resumed, torch, [(x, y)])
    # and the other way: a torch checkpoint (model + optimizer + scheduler) resumes in mt
    tpath = tmp_path / "gpt_torch.pt"
    torch.save({"model": t[0].state_dict(), "optimizer": t[1].state_dict(), "scheduler": t[2].state_dict()},
               tpath)
    ck = mt.load(tpath)
    fresh[0].train()
    fresh[0].load_state_dict(ck["model"])
    fresh[1].load_state_dict(ck["optimizer"])
    fresh[2].load_state_dict(ck["scheduler"])
    m_next = _train(fresh, mt, [(x, y)])
    np.testing.assert_allclose(m_next[0], t_next[0], rtol=1e-4)
    assert m_next[2] == t_next[2]


def _err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return ei.value


@needs_torch(2, 13, "cross_entropy's message for float class targets")
def test_bad_inputs(run):
    t, m = run.t[0], run.m[0]
    x, y = _batches(1)[0]
    # float token ids into the embedding
    te = _err(lambda: t(torch.tensor(x.astype(np.float32))))
    me = _err(lambda: m(mt.tensor(x.astype(np.float32))))
    assert isinstance(me, type(te)) and str(me) == str(te), (me, te)
    # a token id outside the vocabulary: same type, torch's words, plus the range
    bad = x.copy()
    bad[0, 0] = VOCAB + 2
    te = _err(lambda: t(torch.tensor(bad)))
    me = _err(lambda: m(mt.tensor(bad)))
    assert isinstance(me, type(te)) and str(te) in str(me) and "[0, 13)" in str(me), (me, te)
    # float targets (class indices expected)
    te = _err(lambda: t(torch.tensor(x), torch.tensor(y.astype(np.float32))))
    me = _err(lambda: m(mt.tensor(x), mt.tensor(y.astype(np.float32))))
    assert isinstance(me, type(te)) and str(te) in str(me) and "cross_entropy" in str(me), (me, te)
    # targets of the wrong length
    te = _err(lambda: t(torch.tensor(x), torch.tensor(y[:, :5])))
    me = _err(lambda: m(mt.tensor(x), mt.tensor(y[:, :5])))
    assert isinstance(me, type(te)) and str(te) in str(me), (me, te)


# ----- regression: a scheduler stepped inside a compiled step ---------------------------------
def test_scheduler_step_inside_jit_raises_instead_of_freezing_the_lr():
    # Before the fix, LambdaLR.step() inside mt.jit ran once (while tracing): every later call
    # replayed the program with the same lr and last_epoch never advanced (silently wrong training).
    model = mt.nn.Linear(3, 2)
    opt = mt.optim.AdamW(model.parameters(), lr=1e-2)
    sched = mt.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))

    @mt.jit
    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        sched.step()
        return loss

    x = mt.ones(4, 3)
    step(x)  # the first call runs eagerly
    assert sched.last_epoch == 1 and opt.param_groups[0]["lr"] == 5e-3
    with pytest.raises(mt.jit.JitError, match=r"LambdaLR\.step\(\) was called inside a function compiled"):
        step(x)
    assert sched.last_epoch == 1 and opt.param_groups[0]["lr"] == 5e-3
    with mt.jit.disable():
        step(x)
    assert sched.last_epoch == 2 and opt.param_groups[0]["lr"] == pytest.approx(1e-2 / 3)
    plateau = mt.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(mt.jit.JitError, match="ReduceLROnPlateau"):
        mt.jit(lambda v: plateau.step(1.0) or v * 2)(x)
