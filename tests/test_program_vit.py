"""Same-source program parity: a small Vision Transformer (ViT) classifier.

The program below is ordinary PyTorch code written once inside ``build(torch)``; the tests run it
with real torch and with minitorch_jax (``import minitorch_jax as torch``) and compare every step.
Features: Conv2d patch embedding, class token (torch.cat + expand), learned position embeddings,
pre-LN blocks with nn.MultiheadAttention(batch_first=True), GELU MLP, hand-written DropPath fed
with numpy keep masks, LayerScale, key_padding_mask (second variant), AdamW with parameter groups,
CosineAnnealingWarmRestarts, gradient accumulation over 2 micro-batches and an EMA model copy.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch

IMG, PATCH, CH, DIM, HEADS, DEPTH, CLASSES = 8, 4, 3, 16, 2, 2, 5
N_PATCH = (IMG // PATCH) ** 2
MICRO_B, ACCUM = 3, 2
DROP_PATH = 0.25
EMA_DECAY = 0.9


# ----------------------------------------------------------------------------------------------
# The program (written once; ``torch`` is real torch or minitorch_jax)
# ----------------------------------------------------------------------------------------------
def build(torch, variant="plain"):
    """Build a tiny ViT, its EMA copy, AdamW, a warm-restart cosine schedule and the step helpers."""
    nn, F = torch.nn, torch.nn.functional

    class DropPath(nn.Module):
        """Stochastic depth: drop whole residual branches per sample, with a given keep mask."""

        def __init__(self, drop_prob):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x, keep=None):
            if self.drop_prob == 0.0 or not self.training or keep is None:
                return x
            keep_prob = 1.0 - self.drop_prob
            shape = (x.shape[0],) + (1,) * (x.ndim - 1)
            mask = keep.to(x.dtype).view(shape)
            return x * mask / keep_prob

        def extra_repr(self):
            return f"drop_prob={self.drop_prob}"

    class LayerScale(nn.Module):
        def __init__(self, dim, init_values=1e-1):
            super().__init__()
            self.gamma = nn.Parameter(init_values * torch.ones(dim))

        def forward(self, x):
            return self.gamma * x

    class Block(nn.Module):
        def __init__(self, dim, heads, drop_path):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim, eps=1e-6)
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.ls1 = LayerScale(dim)
            self.drop_path1 = DropPath(drop_path)
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
            self.ls2 = LayerScale(dim)
            self.drop_path2 = DropPath(drop_path)

        def forward(self, x, key_padding_mask=None, keep=None):
            h = self.norm1(x)
            a, _ = self.attn(h, h, h, key_padding_mask=key_padding_mask, need_weights=False)
            k1 = k2 = None
            if keep is not None:
                k1, k2 = keep[:, 0], keep[:, 1]
            x = x + self.drop_path1(self.ls1(a), k1)
            x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))), k2)
            return x

    class PatchEmbed(nn.Module):
        def __init__(self, img, patch, in_ch, dim):
            super().__init__()
            self.num_patches = (img // patch) ** 2
            self.proj = nn.Conv2d(in_ch, dim, kernel_size=patch, stride=patch)

        def forward(self, x):
            x = self.proj(x)  # B, D, H', W'
            return x.flatten(2).transpose(1, 2)  # B, N, D

    class ViT(nn.Module):
        def __init__(self, img, patch, in_ch, dim, depth, heads, classes, drop_path):
            super().__init__()
            self.patch_embed = PatchEmbed(img, patch, in_ch, dim)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches + 1, dim))
            if variant == "plain":
                dpr = [x.item() for x in torch.linspace(0, drop_path, depth)]
            else:  # numpy scalars (np.float64) as drop probabilities
                dpr = np.linspace(0, drop_path, depth)
            self.blocks = nn.ModuleList([Block(dim, heads, dpr[i]) for i in range(depth)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, classes)
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            self.apply(self._init_weights)

        def _init_weights(self, m):
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.LayerNorm):
                nn.init.constant_(m.bias, 0)
                nn.init.constant_(m.weight, 1.0)

        def forward_features(self, x, patch_mask=None, keep=None):
            x = self.patch_embed(x)
            cls = self.cls_token.expand(x.shape[0], -1, -1)
            x = torch.cat((cls, x), dim=1)
            x = x + self.pos_embed
            kpm = None
            if patch_mask is not None:  # True = padded patch; the class token is never masked
                cls_keep = torch.zeros(x.shape[0], 1, dtype=torch.bool, device=x.device)
                kpm = torch.cat([cls_keep, patch_mask], 1)
            for i, blk in enumerate(self.blocks):
                x = blk(x, key_padding_mask=kpm, keep=None if keep is None else keep[:, i])
            return self.norm(x)

        def forward(self, x, patch_mask=None, keep=None):
            x = self.forward_features(x, patch_mask, keep)
            return self.head(x[:, 0])

    model = ViT(IMG, PATCH, CH, DIM, DEPTH, HEADS, CLASSES, DROP_PATH)
    ema = copy.deepcopy(model)
    ema.eval()
    for p in ema.parameters():
        p.requires_grad_(False)

    no_decay_names = ("cls_token", "pos_embed", "gamma")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim <= 1 or name.endswith(no_decay_names):
            no_decay.append(p)
        else:
            decay.append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2, eta_min=1e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    @torch.no_grad()
    def ema_update(ema, model, decay=EMA_DECAY):
        if variant == "plain":
            for e, p in zip(ema.parameters(), model.parameters()):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        else:  # timm's ModelEmaV3 style: one multi-tensor lerp
            torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()],
                                 weight=1.0 - decay)
        for e, b in zip(ema.buffers(), model.buffers()):
            e.copy_(b)

    def make_train_step(model, ema, optimizer):
        def train_step(xs, ys, masks, keeps):
            """One optimizer step over ACCUM micro-batches (gradient accumulation)."""
            model.train()
            total = 0.0
            for i in range(ACCUM):
                logits = model(xs[i], masks[i] if masks is not None else None, keeps[i])
                loss = criterion(logits, ys[i]) / ACCUM
                loss.backward()
                total = total + loss.detach()
                if (i + 1) % ACCUM == 0:
                    gn = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                    optimizer.step()
                    optimizer.zero_grad()
                    ema_update(ema, model)
            return total, gn
        return train_step

    @torch.no_grad()
    def evaluate(net, x, y, patch_mask=None):
        was = net.training
        net.eval()
        logits = net(x, patch_mask)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(dim=-1) == y).float().mean()
        net.train(was)
        return logits, loss.item(), acc.item()

    return model, ema, optimizer, scheduler, make_train_step, evaluate


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _batches(n, variant, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        xs = rng.standard_normal((ACCUM, MICRO_B, CH, IMG, IMG)).astype(np.float32)
        ys = rng.integers(0, CLASSES, size=(ACCUM, MICRO_B)).astype(np.int64)
        keeps = rng.random((ACCUM, MICRO_B, DEPTH, 2)) >= DROP_PATH  # stochastic depth, from numpy
        masks = None
        if variant == "masked":
            masks = np.zeros((ACCUM, MICRO_B, N_PATCH), dtype=bool)
            for a in range(ACCUM):
                for b in range(MICRO_B):
                    masks[a, b, rng.integers(1, N_PATCH):] = True  # padded tail patches
        out.append((xs, ys, masks, keeps))
    return out


def _to(lib, batch):
    xs, ys, masks, keeps = batch
    return (lib.tensor(xs), lib.tensor(ys), None if masks is None else lib.tensor(masks),
            lib.from_numpy(keeps))


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else np.asarray(t)


def _copy_into_mt(mt_model, t_model):
    sd = {k: mt.tensor(v.detach().cpu().numpy()) for k, v in t_model.state_dict().items()}
    res = mt_model.load_state_dict(sd)
    assert not res.missing_keys and not res.unexpected_keys, res


def _assert_params_close(mt_model, ref_model, rtol=1e-4, atol=2e-5):
    t_params = dict(ref_model.named_parameters())
    m_params = dict(mt_model.named_parameters())
    assert list(m_params) == list(t_params)
    for name, tp in t_params.items():
        a, b = _np(m_params[name]), _np(tp)
        if name.endswith("in_proj_bias"):
            # the key bias's true gradient is 0 (softmax is shift invariant): AdamW amplifies rounding
            # noise there to ~lr per step in both libraries; checked only against that bound
            key = np.arange(DIM, 2 * DIM)
            np.testing.assert_allclose(a[key], b[key], atol=3e-3 * N_STEPS, err_msg=name + " (key part)")
            a, b = np.delete(a, key), np.delete(b, key)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


def _train(prog, lib, batches, step_fn=None):
    model, ema, opt, sched, make_step, _ = prog
    step = step_fn or make_step(model, ema, opt)
    losses, norms, lrs = [], [], []
    for batch in batches:
        loss, gn = step(*_to(lib, batch))
        losses.append(loss.item())
        norms.append(float(gn))
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return losses, norms, lrs


VARIANTS = ["plain", "masked"]
N_STEPS = 3  # the warm-restart schedule restarts after step 2


class _Run:
    def __init__(self, variant):
        self.variant = variant
        torch.manual_seed(0)
        self.t = build(torch, variant)
        self.m = build(mt, variant)
        _copy_into_mt(self.m[0], self.t[0])
        _copy_into_mt(self.m[1], self.t[1])
        self.init_state = {k: v.detach().clone() for k, v in self.t[0].state_dict().items()}
        self.batches = _batches(N_STEPS, variant)
        self.t_hist = _train(self.t, torch, self.batches)
        self.m_hist = _train(self.m, mt, self.batches)


_RUNS = {}


def _get_run(variant):
    if variant not in _RUNS:
        _RUNS[variant] = _Run(variant)
    return _RUNS[variant]


@pytest.fixture(scope="module", params=VARIANTS)
def run(request):
    return _get_run(request.param)


# ----------------------------------------------------------------------------------------------
# tests
# ----------------------------------------------------------------------------------------------
def test_structure(run):
    tm, mm = run.t[0], run.m[0]
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [b.drop_path2.drop_prob for b in mm.blocks] == [b.drop_path2.drop_prob for b in tm.blocks]
    assert repr(mm.blocks[1].drop_path1) == repr(tm.blocks[1].drop_path1)
    # the EMA copy is a separate, frozen module in eval mode
    me = run.m[1]
    assert not me.training and all(not p.requires_grad for p in me.parameters())
    assert all(a is not b for a, b in zip(me.parameters(), mm.parameters()))
    assert [len(g["params"]) for g in run.m[2].param_groups] == [len(g["params"])
                                                                 for g in run.t[2].param_groups]


def test_training_matches_torch(run):
    (t_losses, t_norms, t_lrs), (m_losses, m_norms, m_lrs) = run.t_hist, run.m_hist
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    np.testing.assert_allclose(m_norms, t_norms, rtol=1e-4)
    np.testing.assert_allclose(m_lrs, t_lrs, rtol=1e-12)
    _assert_params_close(run.m[0], run.t[0])
    _assert_params_close(run.m[1], run.t[1])  # the EMA weights
    ts, ms = run.t[2].state_dict(), run.m[2].state_dict()
    assert sorted(ms["state"]) == sorted(ts["state"])
    assert float(ms["state"][0]["step"]) == N_STEPS
    assert run.m[3].state_dict()["T_cur"] == run.t[3].state_dict()["T_cur"]
    assert run.m[3].state_dict()["T_i"] == run.t[3].state_dict()["T_i"]


def test_eval_matches_torch(run):
    xs, ys, masks, _ = _batches(1, run.variant, seed=5)[0]
    for k in (0, 1):  # the trained model and its EMA copy
        pm_np = None if masks is None else masks[0]
        t_out = run.t[5](run.t[k], torch.tensor(xs[0]), torch.tensor(ys[0]),
                         None if pm_np is None else torch.tensor(pm_np))
        m_out = run.m[5](run.m[k], mt.tensor(xs[0]), mt.tensor(ys[0]),
                         None if pm_np is None else mt.tensor(pm_np))
        assert not m_out[0].requires_grad
        np.testing.assert_allclose(_np(m_out[0]), _np(t_out[0]), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(m_out[1], t_out[1], rtol=1e-4)
        assert m_out[2] == t_out[2]
    assert run.m[0].training and not run.m[1].training


def test_compiled_train_step_matches_eager():
    run = _get_run("masked")  # compiled on the variant with key_padding_mask + _foreach EMA only (fast file)
    prog = build(mt, run.variant)
    sd = {k: mt.tensor(v.numpy()) for k, v in run.init_state.items()}
    prog[0].load_state_dict(sd)
    prog[1].load_state_dict(sd)
    step = mt.jit(prog[4](prog[0], prog[1], prog[2]))
    j_losses, j_norms, j_lrs = _train(prog, mt, run.batches, step_fn=step)
    e_losses, e_norms, e_lrs = run.m_hist
    np.testing.assert_allclose(j_losses, e_losses, rtol=1e-5)
    np.testing.assert_allclose(j_norms, e_norms, rtol=1e-5)
    assert j_lrs == e_lrs
    assert step.num_compiles == 1, step.explain()
    _assert_params_close(prog[0], run.m[0], rtol=1e-5, atol=1e-6)
    _assert_params_close(prog[1], run.m[1], rtol=1e-5, atol=1e-6)


def test_checkpoint_round_trip(tmp_path, run):
    m, t = run.m, run.t
    xs, _, masks, _ = _batches(1, run.variant, seed=9)[0]
    pm = None if masks is None else masks[0]
    m[0].eval()
    ref = m[0](mt.tensor(xs[0]), None if pm is None else mt.tensor(pm))
    m[0].train()
    path = tmp_path / "vit.pt"
    mt.save({"model": m[0].state_dict(), "ema": m[1].state_dict(), "optimizer": m[2].state_dict(),
             "scheduler": m[3].state_dict()}, path)
    fresh = build(mt, run.variant)
    ck = mt.load(path)
    fresh[0].load_state_dict(ck["model"])
    fresh[1].load_state_dict(ck["ema"])
    fresh[2].load_state_dict(ck["optimizer"])
    fresh[3].load_state_dict(ck["scheduler"])
    out = fresh[0].eval()(mt.tensor(xs[0]), None if pm is None else mt.tensor(pm))
    np.testing.assert_allclose(_np(out), _np(ref), rtol=1e-6, atol=1e-6)
    # torch reads mt's checkpoint and gets the same outputs and schedule position
    tp = build(torch, run.variant)
    tck = torch.load(path, weights_only=True)
    tp[0].load_state_dict(tck["model"])
    tp[1].load_state_dict(tck["ema"])
    tp[2].load_state_dict(tck["optimizer"])
    tp[3].load_state_dict(tck["scheduler"])
    with torch.no_grad():
        t_out = tp[0].eval()(torch.tensor(xs[0]), None if pm is None else torch.tensor(pm))
    np.testing.assert_allclose(_np(t_out), _np(ref), rtol=1e-4, atol=1e-5)
    assert tp[3].T_cur == t[3].T_cur and tp[3].last_epoch == t[3].last_epoch
    # resume one step in both from mt's checkpoint
    fresh[0].train()
    tp[0].train()
    nxt = _batches(1, run.variant, seed=11)
    np.testing.assert_allclose(_train(fresh, mt, nxt)[0], _train(tp, torch, nxt)[0], rtol=1e-4)


def _err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return ei.value


def test_bad_inputs(run):
    t, m = run.t[0], run.m[0]
    xs, ys, _, _ = _batches(1, run.variant)[0]
    # wrong number of channels into the patch embedding
    te = _err(lambda: t(torch.tensor(xs[0, :, :2])))
    me = _err(lambda: m(mt.tensor(xs[0, :, :2])))
    assert isinstance(me, type(te)) and str(te) in str(me) and str(me).startswith("Conv2d(3, 16"), (me, te)
    # float64 images into the float32 model
    te = _err(lambda: t(torch.tensor(xs[0]).double()))
    me = _err(lambda: m(mt.tensor(xs[0]).double()))
    assert isinstance(me, type(te)) and str(te) in str(me) and "conv2d" in str(me), (me, te)
    # wrong image size: the position embeddings do not broadcast
    big = np.zeros((2, CH, IMG + PATCH, IMG), np.float32)
    te = _err(lambda: t(torch.tensor(big)))
    me = _err(lambda: m(mt.tensor(big)))
    assert isinstance(me, type(te)) and str(te) in str(me), (me, te)
    # float targets of the wrong shape into the criterion
    logits_t, logits_m = t(torch.tensor(xs[0])), m(mt.tensor(xs[0]))
    te = _err(lambda: torch.nn.CrossEntropyLoss()(logits_t, torch.tensor(ys[0, :2])))
    me = _err(lambda: mt.nn.CrossEntropyLoss()(logits_m, mt.tensor(ys[0, :2])))
    assert isinstance(me, type(te)) and str(te) in str(me), (me, te)
    # a key_padding_mask of the wrong length
    pm = np.zeros((MICRO_B, N_PATCH - 1), bool)
    te = _err(lambda: t(torch.tensor(xs[0]), torch.tensor(pm)))
    me = _err(lambda: m(mt.tensor(xs[0]), mt.tensor(pm)))
    assert isinstance(me, type(te)) and str(te) in str(me), (me, te)


# ----- regressions for library fixes found by this program -----------------------------------
def test_foreach_ops_match_torch():
    # mt had no torch._foreach_* functions (timm's EMA and hand-written optimizers use them)
    rng = np.random.default_rng(3)
    a = [rng.standard_normal(s).astype(np.float32) for s in ((3,), (2, 2))]
    b = [rng.standard_normal(s).astype(np.float32) for s in ((3,), (2, 2))]

    def prog(lib):
        xs, ys = [lib.tensor(v) for v in a], [lib.tensor(v) for v in b]
        out = list(lib._foreach_add(xs, ys, alpha=0.5)) + list(lib._foreach_mul(xs, [2.0, 4.0]))
        out += list(lib._foreach_maximum(xs, 0.0)) + list(lib._foreach_norm(xs)) + list(lib._foreach_abs(ys))
        out += list(lib._foreach_addcmul(xs, ys, ys, value=0.5)) + list(lib._foreach_sub(xs, lib.tensor(1.0)))
        lib._foreach_mul_(xs, 0.9)
        lib._foreach_add_(xs, ys, alpha=0.1)
        lib._foreach_lerp_(xs, ys, weight=0.25)
        lib._foreach_clamp_max_(xs, 0.3)
        out += xs
        return [o.numpy() for o in out]

    for m, t in zip(prog(mt), prog(torch)):
        np.testing.assert_allclose(m, t, rtol=1e-6, atol=1e-6)
    w = mt.nn.Parameter(mt.ones(2))
    (w * 3).sum().backward()
    with mt.no_grad():
        assert mt._foreach_add_([w], [w.grad], alpha=-0.5)[0] is w
    np.testing.assert_allclose(w.detach().numpy(), [-0.5, -0.5])
    for lib in (torch, mt):
        msg = "Tensor lists must have the same number of tensors, got 1 and 2"
        with pytest.raises(RuntimeError, match=msg):
            lib._foreach_add_([lib.ones(2)], [lib.ones(2), lib.ones(2)])
        with pytest.raises(RuntimeError, match="Tensor list must have at least one tensor"):
            lib._foreach_mul_([], 2.0)
        with pytest.raises(RuntimeError, match="must have same number of elements as scalar list"):
            lib._foreach_div([lib.ones(2)], [2.0, 4.0])


def test_conv_channel_error_carries_torchs_message():
    # the layer's channel check used its own words only; now it names the layer, then torch's message
    for layer, x in (("Conv2d", np.zeros((2, 8, 8), np.float32)),
                     ("ConvTranspose2d", np.zeros((2, 5, 8, 8), np.float32))):
        te = _err(lambda layer=layer, x=x: getattr(torch.nn, layer)(3, 4, 2)(torch.tensor(x)))
        me = _err(lambda layer=layer, x=x: getattr(mt.nn, layer)(3, 4, 2)(mt.tensor(x)))
        assert isinstance(me, type(te)) and str(te) in str(me), (me, te)
        assert str(me).startswith(layer + "(3, 4"), me


def test_conv_dtype_mismatch_uses_torchs_words():
    # mt said "expected scalar type Double but found Float" where torch blames the bias first
    cases = [((1, 3, 4, 4), "float64", "float32", "float32"), ((1, 3, 4, 4), "float32", "float32", "float64"),
             ((1, 3, 4, 4), "float32", "float64", None), ((1, 3, 4, 4), "float16", "float32", "float32")]
    for shape, xd, wd, bd in cases:
        def call(lib, shape=shape, xd=xd, wd=wd, bd=bd):
            x = lib.zeros(shape, dtype=getattr(lib, xd))
            w = lib.zeros((2, 3, 2, 2), dtype=getattr(lib, wd))
            b = None if bd is None else lib.zeros(2, dtype=getattr(lib, bd))
            return lib.nn.functional.conv2d(x, w, b)
        te, me = _err(lambda: call(torch)), _err(lambda: call(mt))
        assert isinstance(me, type(te)) and str(te) in str(me), (me, te)
