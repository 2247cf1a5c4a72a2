"""Same-source program parity: a tabular recommender (DeepFM-style CTR model with a multi-class head).

The program lives in ``build(torch)`` and is ordinary PyTorch code: categorical features through an
``nn.ModuleDict`` of embedding tables, log1p/clamp/where-transformed and standardised numeric
features, a factorisation-machine interaction term, a deep MLP with BatchNorm1d and Dropout, a
``BCEWithLogitsLoss(pos_weight=...)`` click loss plus a class-weighted cross entropy, Adagrad for the
embeddings and Adam with weight decay on some parameter groups only, and an argsort/cumsum AUC.
The tests run it on real torch and on minitorch_jax with the same weights and data and compare.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import assert_same, torch

RTOL, ATOL = 1e-4, 1e-5
CARDS = {"user": 13, "item": 17, "genre": 5}
N_NUM, N_CLS, EMB = 4, 3, 4


# --------------------------------------------------------------------------------------------
# the program (ordinary PyTorch code; `torch` is real torch or minitorch_jax)
# --------------------------------------------------------------------------------------------
def build(torch, cards=CARDS, n_num=N_NUM, emb_dim=EMB, hidden=(16, 16), n_classes=N_CLS, p_drop=0.0):
    nn, F = torch.nn, torch.nn.functional
    names = list(cards)

    def transform_numeric(x):
        """Heavy-tailed counts: log1p of the non-negative part, negatives kept (sign-aware)."""
        x = torch.where(x >= 0, torch.log1p(x.clamp(min=0)), -torch.log1p((-x).clamp(min=0)))
        return x.clamp(-5.0, 5.0)

    class DeepFM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = nn.ModuleDict({k: nn.Embedding(n, emb_dim) for k, n in cards.items()})
            self.linear = nn.ModuleDict({k: nn.Embedding(n, 1) for k, n in cards.items()})
            self.num_proj = nn.Linear(n_num, emb_dim, bias=False)
            self.register_buffer("num_mean", torch.zeros(n_num))
            self.register_buffer("num_std", torch.ones(n_num))
            layers, d = [], len(cards) * emb_dim + n_num
            for h in hidden:
                layers += [nn.Linear(d, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(p_drop)]
                d = h
            self.mlp = nn.Sequential(*layers)
            self.click = nn.Linear(d, 1)
            self.category = nn.Linear(d, n_classes)
            self.bias = nn.Parameter(torch.zeros(1))
            for emb in self.embeddings.values():
                nn.init.normal_(emb.weight, std=0.1)

        @torch.no_grad()
        def fit_normalizer(self, x_num):
            x = transform_numeric(x_num)
            self.num_mean.copy_(x.mean(0))
            self.num_std.copy_(x.std(0).clamp(min=1e-6))

        def forward(self, cats, x_num, drop_mask=None):
            """``cats``: dict name -> LongTensor (B,), ``x_num``: (B, n_num) raw numeric features."""
            x = (transform_numeric(x_num) - self.num_mean) / self.num_std
            embs = [self.embeddings[k](cats[k]) for k in names]
            fields = torch.stack(embs + [self.num_proj(x)], dim=1)  # (B, F, D)
            # first-order term
            first = torch.cat([self.linear[k](cats[k]) for k in names], dim=1).sum(1, keepdim=True)
            # FM second-order: 0.5 * ((sum_f v)^2 - sum_f v^2), summed over D
            sum_sq = fields.sum(dim=1).pow(2)
            sq_sum = (fields * fields).sum(dim=1)
            fm = 0.5 * (sum_sq - sq_sum).sum(dim=1, keepdim=True)
            deep_in = torch.cat(embs + [x], dim=1)
            if drop_mask is not None and self.training:  # numpy-fed input dropout
                deep_in = deep_in * drop_mask / 0.8
            h = self.mlp(deep_in)
            click = (self.click(h) + first + fm + self.bias).squeeze(-1)
            return click, self.category(h), (fm.squeeze(-1), fields)

    def pairwise_interactions(fields):
        """The FM term again, from pairwise dot products: bmm + triu, and einsum."""
        gram = torch.bmm(fields, fields.transpose(1, 2))
        pair = torch.triu(gram, diagonal=1).sum(dim=(1, 2))
        both = torch.einsum("bfd,bgd->b", fields, fields)
        pair_e = 0.5 * (both - torch.einsum("bfd,bfd->b", fields, fields))
        return pair, pair_e

    def make_optimizers(model):
        emb_params = [p for n, p in model.named_parameters() if n.startswith(("embeddings.", "linear."))]
        decay, no_decay = [], []
        for n, p in model.named_parameters():
            if n.startswith(("embeddings.", "linear.")):
                continue
            (no_decay if p.ndim < 2 else decay).append(p)
        sparse_opt = torch.optim.Adagrad(emb_params, lr=0.05, initial_accumulator_value=0.1)
        dense_opt = torch.optim.Adam([{"params": decay, "weight_decay": 1e-3},
                                      {"params": no_decay, "weight_decay": 0.0}], lr=5e-3)
        sched = torch.optim.lr_scheduler.StepLR(dense_opt, step_size=2, gamma=0.5)
        return sparse_opt, dense_opt, sched

    def make_train_step(model, sparse_opt, dense_opt, pos_weight, class_weight, alpha=0.5):
        bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)

        def train_step(cats, x_num, y_click, y_cls, drop_mask):
            model.train()
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            click, cls_logits, _ = model(cats, x_num, drop_mask)
            loss_click = bce(click, y_click.float())
            loss_cls = F.cross_entropy(cls_logits, y_cls, weight=class_weight, label_smoothing=0.05)
            loss = loss_click + alpha * loss_cls
            loss.backward()
            gn = nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            sparse_opt.step()
            dense_opt.step()
            return loss, loss_click.detach(), loss_cls.detach(), gn

        return train_step

    def auc(scores, labels):
        """ROC AUC by sorting scores (descending) and cumulating positives/negatives."""
        order = torch.argsort(scores, descending=True)
        y = labels[order].float()
        tps = torch.cumsum(y, dim=0)
        fps = torch.cumsum(1 - y, dim=0)
        tpr = torch.cat([torch.zeros(1), tps / tps[-1]])
        fpr = torch.cat([torch.zeros(1), fps / fps[-1]])
        return torch.trapezoid(tpr, fpr)

    def evaluate(model, cats, x_num, y_click, y_cls):
        model.eval()
        with torch.no_grad():
            click, cls_logits, (fm, fields) = model(cats, x_num)
            inter = (fm, *pairwise_interactions(fields))
            prob = torch.sigmoid(click)
            a = auc(prob, y_click).item()
            logloss = F.binary_cross_entropy(prob, y_click.float()).item()
            acc = (cls_logits.argmax(-1) == y_cls).float().mean().item()
            top2 = cls_logits.topk(2, dim=-1).indices
        return dict(prob=prob, auc=a, logloss=logloss, acc=acc, top2=top2, inter=inter)

    return dict(DeepFM=DeepFM, transform_numeric=transform_numeric, make_optimizers=make_optimizers,
                make_train_step=make_train_step, auc=auc, evaluate=evaluate)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def _data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    cats = {k: rng.integers(0, c, n).astype(np.int64) for k, c in CARDS.items()}
    x = np.concatenate([rng.exponential(20.0, (n, 2)), rng.standard_normal((n, 2)) * 3], 1).astype(np.float32)
    y_click = (rng.random(n) < 0.3).astype(np.int64)
    y_click[:2] = [0, 1]
    y_cls = rng.integers(0, N_CLS, n).astype(np.int64)
    return cats, x, y_click, y_cls


def _masks(n_steps, n=24, seed=5):
    rng = np.random.default_rng(seed)
    d = len(CARDS) * EMB + N_NUM
    return [(rng.random((n, d)) > 0.2).astype(np.float32) for _ in range(n_steps)]


def _to(lib, arr):
    return lib.from_numpy(arr.copy()) if lib is torch else mt.tensor(arr)


def _inputs(lib, cats, x, y_click, y_cls):
    return {k: _to(lib, v) for k, v in cats.items()}, _to(lib, x), _to(lib, y_click), _to(lib, y_cls)


def _pair(**kw):
    t_lib, m_lib = build(torch, **kw), build(mt, **kw)
    torch.manual_seed(0)
    t_model = t_lib["DeepFM"]()
    m_model = copy_state(m_lib["DeepFM"](), t_model)
    return t_lib, m_lib, t_model, m_model


def _weights(lib):
    return _to(lib, np.array([2.5], np.float32)), _to(lib, np.array([1.0, 2.0, 0.5], np.float32))


def _params_close(m_model, t_model, what="parameter"):
    t_params = dict(t_model.named_parameters())
    names = [n for n, _ in m_model.named_parameters()]
    assert names == list(t_params), (names, list(t_params))
    for name, p in m_model.named_parameters():
        assert_same(p, t_params[name], RTOL, ATOL, what=f"{what} {name}")
    t_bufs = dict(t_model.named_buffers())
    for name, b in m_model.named_buffers():
        assert_same(b, t_bufs[name], RTOL, ATOL, what=f"buffer {name}")


# --------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------
def test_recsys_training_matches_torch():
    data = _data()
    t_lib, m_lib, t_model, m_model = _pair()
    t_in, m_in = _inputs(torch, *data), _inputs(mt, *data)
    t_model.fit_normalizer(t_in[1])
    m_model.fit_normalizer(m_in[1])
    assert_same(m_model.num_mean, t_model.num_mean, RTOL, ATOL, what="numeric mean")
    assert_same(m_model.num_std, t_model.num_std, RTOL, ATOL, what="numeric std")
    assert_same(m_lib["transform_numeric"](m_in[1]), t_lib["transform_numeric"](t_in[1]), RTOL, ATOL)
    t_opts, m_opts = t_lib["make_optimizers"](t_model), m_lib["make_optimizers"](m_model)
    t_step = t_lib["make_train_step"](t_model, *t_opts[:2], *_weights(torch))
    m_step = m_lib["make_train_step"](m_model, *m_opts[:2], *_weights(mt))
    for step, mask in enumerate(_masks(4)):
        tr = t_step(*t_in, torch.from_numpy(mask))
        mr = m_step(*m_in, mt.tensor(mask))
        assert_same(list(mr), list(tr), RTOL, ATOL, what=f"step {step} (loss, click, cls, grad norm)")
        t_opts[2].step()
        m_opts[2].step()
        assert m_opts[1].param_groups[0]["lr"] == pytest.approx(t_opts[1].param_groups[0]["lr"])
    _params_close(m_model, t_model)
    # evaluation on fresh data
    ev = _data(seed=1)
    t_ev = t_lib["evaluate"](t_model, *_inputs(torch, *ev))
    m_ev = m_lib["evaluate"](m_model, *_inputs(mt, *ev))
    assert_same(m_ev["prob"], t_ev["prob"], RTOL, ATOL, what="eval click probability")
    assert_same(list(m_ev["inter"]), list(t_ev["inter"]), RTOL, 1e-4, what="FM interactions")
    for k in ("auc", "logloss", "acc"):
        assert isinstance(m_ev[k], float), k
        assert m_ev[k] == pytest.approx(t_ev[k], rel=RTOL, abs=ATOL), k
    assert_same(m_ev["top2"], t_ev["top2"], what="top-2 classes")
    # the three ways of computing the FM interaction agree
    fm, pair, pair_e = m_ev["inter"]
    np.testing.assert_allclose(pair.numpy(), fm.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(pair_e.numpy(), fm.numpy(), rtol=1e-4, atol=1e-4)


def test_auc_matches_sklearn_style_rank_formula():
    m_lib, t_lib = build(mt), build(torch)
    rng = np.random.default_rng(3)
    scores = rng.random(50).astype(np.float32)
    labels = (rng.random(50) < 0.4).astype(np.int64)
    ranks = scores.argsort().argsort() + 1
    npos = labels.sum()
    expected = (ranks[labels == 1].sum() - npos * (npos + 1) / 2) / (npos * (50 - npos))
    m_auc = m_lib["auc"](mt.tensor(scores), mt.tensor(labels))
    t_auc = t_lib["auc"](torch.from_numpy(scores), torch.from_numpy(labels))
    assert_same(m_auc, t_auc, 1e-6, 1e-6)
    assert float(m_auc) == pytest.approx(expected, rel=1e-6)


def test_recsys_train_step_jit_matches_eager():
    data = _data()
    m_lib = build(mt)
    mt.manual_seed(0)
    m_e, m_j = m_lib["DeepFM"](), m_lib["DeepFM"]()
    m_j.load_state_dict(m_e.state_dict())
    m_in = _inputs(mt, *data)
    m_e.fit_normalizer(m_in[1])
    m_j.fit_normalizer(m_in[1])
    o_e, o_j = m_lib["make_optimizers"](m_e), m_lib["make_optimizers"](m_j)
    eager = m_lib["make_train_step"](m_e, *o_e[:2], *_weights(mt))
    jitted = mt.jit(m_lib["make_train_step"](m_j, *o_j[:2], *_weights(mt)))
    for mask in _masks(4):
        re, rj = eager(*m_in, mt.tensor(mask)), jitted(*m_in, mt.tensor(mask))
        for a, b in zip(rj, re):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert jitted.num_compiles == 1, jitted.explain()
    for (n, pj), pe in zip(m_j.named_parameters(), m_e.parameters()):
        np.testing.assert_allclose(pj.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    for (n, bj), be in zip(m_j.named_buffers(), m_e.buffers()):
        np.testing.assert_allclose(bj.numpy(), be.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)


def test_recsys_state_dict_round_trip(tmp_path):
    data = _data()
    t_lib, m_lib, t_model, m_model = _pair()
    m_in, t_in = _inputs(mt, *data), _inputs(torch, *data)
    m_model.fit_normalizer(m_in[1])
    opts = m_lib["make_optimizers"](m_model)
    m_lib["make_train_step"](m_model, *opts[:2], *_weights(mt))(*m_in, mt.tensor(_masks(1)[0]))
    path = tmp_path / "deepfm.pt"
    mt.save({"model": m_model.state_dict(), "sparse": opts[0].state_dict(), "dense": opts[1].state_dict()},
            path)
    ck = mt.load(path)
    fresh = m_lib["DeepFM"]()
    fresh.load_state_dict(ck["model"])
    a = m_lib["evaluate"](m_model, *m_in)
    b = m_lib["evaluate"](fresh, *m_in)
    np.testing.assert_array_equal(a["prob"].numpy(), b["prob"].numpy())
    fresh_opts = m_lib["make_optimizers"](fresh)
    fresh_opts[0].load_state_dict(ck["sparse"])
    fresh_opts[1].load_state_dict(ck["dense"])
    assert fresh_opts[1].param_groups[0]["weight_decay"] == 1e-3
    # the mt checkpoint (BatchNorm running stats and the normaliser buffers included) loads in torch
    t_model.load_state_dict(torch.load(path)["model"])
    t_ev = t_lib["evaluate"](t_model, *t_in)
    assert_same(a["prob"], t_ev["prob"], RTOL, ATOL)
    assert a["auc"] == pytest.approx(t_ev["auc"], rel=RTOL)


def test_recsys_bad_inputs_raise_like_torch():
    data = _data()
    t_lib, m_lib, t_model, m_model = _pair()
    t_in, m_in = list(_inputs(torch, *data)), list(_inputs(mt, *data))
    # an item id past the end of its embedding table
    bad = dict(data[0])
    bad["item"] = bad["item"].copy()
    bad["item"][3] = CARDS["item"] + 2
    with pytest.raises(IndexError) as te:
        t_model({k: torch.from_numpy(v) for k, v in bad.items()}, t_in[1])
    with pytest.raises(IndexError) as me:
        m_model({k: mt.tensor(v) for k, v in bad.items()}, m_in[1])
    assert "index out of range" in str(te.value) and "index out of range" in str(me.value)
    # float category ids
    with pytest.raises(RuntimeError) as te:
        t_model({k: v.float() for k, v in t_in[0].items()}, t_in[1])
    with pytest.raises(RuntimeError) as me:
        m_model({k: v.float() for k, v in m_in[0].items()}, m_in[1])
    assert str(te.value) in str(me.value)
    # a batch of one row in training mode (BatchNorm1d cannot normalise it)
    one = {k: v[:1] for k, v in data[0].items()}
    with pytest.raises(ValueError) as te:
        t_model.train()({k: torch.from_numpy(v) for k, v in one.items()}, t_in[1][:1])
    with pytest.raises(ValueError) as me:
        m_model.train()({k: mt.tensor(v) for k, v in one.items()}, m_in[1][:1])
    assert str(te.value) == str(me.value)
    # click targets of the wrong shape into BCEWithLogitsLoss
    pw = _weights(torch)[0]
    with pytest.raises(ValueError) as te:
        torch.nn.BCEWithLogitsLoss(pos_weight=pw)(torch.zeros(4), torch.zeros(4, 1))
    with pytest.raises(ValueError) as me:
        mt.nn.BCEWithLogitsLoss(pos_weight=_weights(mt)[0])(mt.zeros(4), mt.zeros(4, 1))
    assert str(te.value) in str(me.value)  # regression: mt wrote ([4, 1]) for torch.Size([4, 1])
    # a class weight of the wrong length
    with pytest.raises(RuntimeError) as te:
        torch.nn.functional.cross_entropy(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long),
                                          weight=torch.ones(2))
    with pytest.raises(RuntimeError) as me:
        mt.nn.functional.cross_entropy(mt.zeros(4, 3), mt.zeros(4, dtype=mt.long), weight=mt.ones(2))
    assert "weight" in str(me.value)
