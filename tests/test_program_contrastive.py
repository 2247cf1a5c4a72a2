"""Same-source program parity: contrastive representation learning.

``build(torch)`` below is ordinary PyTorch code written once: a bag-of-words encoder
(``nn.EmbeddingBag(mode='mean')`` with offsets) plus a dense-feature MLP, a projection head,
SimCLR's NT-Xent loss (normalised embeddings, a cosine-similarity matrix over temperature, the
diagonal masked with ``torch.eye(...).bool()`` and ``masked_fill(-inf)``, ``cross_entropy`` with
``arange``-built positives), an InfoNCE variant written with ``logsumexp``, ``nn.TripletMarginLoss``
and ``nn.CosineEmbeddingLoss`` as auxiliary losses, and a retrieval evaluation with
``F.cosine_similarity``, ``torch.cdist`` and ``topk``. The two augmented views (token dropping and
feature noise) are made in numpy, so both libraries see the same data.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import assert_same, torch

RTOL, ATOL = 1e-4, 1e-5
VOCAB, N_DENSE, EMB, HIDDEN, PROJ = 30, 6, 8, 16, 8


# =============================================================================================
# the program (written once, ``torch`` is either library)
# =============================================================================================
def build(torch, vocab=VOCAB, n_dense=N_DENSE, emb=EMB, hidden=HIDDEN, proj=PROJ):
    nn, F = torch.nn, torch.nn.functional

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(vocab, emb, mode="mean")
            self.dense = nn.Linear(n_dense, emb)
            # no bias before BatchNorm (it would be cancelled by the mean subtraction)
            self.body = nn.Sequential(nn.Linear(2 * emb, hidden, bias=False), nn.BatchNorm1d(hidden),
                                      nn.ReLU())
            self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, proj))
            self.register_buffer("temperature", torch.tensor(0.5))

        def embed(self, tokens, offsets, feats):
            h = torch.cat([self.bag(tokens, offsets), torch.tanh(self.dense(feats))], dim=1)
            return self.body(h)

        def forward(self, tokens, offsets, feats):
            return self.head(self.embed(tokens, offsets, feats))

    def nt_xent(z1, z2, temperature):
        z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
        n = z1.size(0)
        sim = z @ z.t() / temperature
        mask = torch.eye(2 * n, device=z.device).bool()
        sim = sim.masked_fill(mask, float("-inf"))
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
        return F.cross_entropy(sim, targets)

    def info_nce(q, k, temperature):
        """The same objective, one direction, written with logsumexp."""
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        logits = torch.einsum("nd,md->nm", q, k) / temperature
        pos = logits.diagonal()
        return (torch.logsumexp(logits, dim=1) - pos).mean()

    triplet = nn.TripletMarginLoss(margin=0.5, p=2)
    cos_emb = nn.CosineEmbeddingLoss(margin=0.1)

    def make_train_step(model, opt, max_norm=1.0):
        def train_step(v1, v2, neg_perm, cos_target):
            model.train()
            opt.zero_grad()
            z1, z2 = model(*v1), model(*v2)
            t = model.temperature
            loss_main = nt_xent(z1, z2, t)
            loss_nce = 0.5 * (info_nce(z1, z2, t) + info_nce(z2, z1, t))
            loss_tri = triplet(z1, z2, z2[neg_perm])
            loss_cos = cos_emb(z1, z2[neg_perm], cos_target)
            loss = loss_main + 0.5 * loss_nce + 0.1 * loss_tri + 0.1 * loss_cos
            loss.backward()
            gn = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            opt.step()
            return loss, loss_main.detach(), loss_tri.detach(), gn

        return train_step

    @torch.no_grad()
    def retrieval(model, queries, gallery, k=3):
        """Recall@k of each query's own item in the gallery, by cosine and by euclidean distance."""
        model.eval()
        q = model.embed(*queries)
        g = model.embed(*gallery)
        cos = F.cosine_similarity(q.unsqueeze(1), g.unsqueeze(0), dim=-1)
        dist = torch.cdist(q, g, p=2)
        top_cos = cos.topk(k, dim=1).indices
        top_d = dist.topk(k, dim=1, largest=False).indices
        truth = torch.arange(q.size(0)).unsqueeze(1)
        recall_cos = (top_cos == truth).any(dim=1).float().mean().item()
        recall_d = (top_d == truth).any(dim=1).float().mean().item()
        return cos, dist, top_cos, top_d, recall_cos, recall_d

    return dict(Encoder=Encoder, nt_xent=nt_xent, info_nce=info_nce, make_train_step=make_train_step,
                retrieval=retrieval)


# =============================================================================================
# data: bags of tokens plus dense features, and two augmented views made in numpy
# =============================================================================================
N_ITEMS = 8


def _items(seed=0, n=N_ITEMS):
    rng = np.random.default_rng(seed)
    bags = [rng.integers(0, VOCAB, rng.integers(3, 7)) for _ in range(n)]
    feats = rng.standard_normal((n, N_DENSE)).astype(np.float32)
    return bags, feats


def _pack(bags):
    tokens = np.concatenate(bags).astype(np.int64)
    offsets = np.cumsum([0] + [len(b) for b in bags[:-1]]).astype(np.int64)
    return tokens, offsets


def _view(bags, feats, rng):
    """Replace ~25% of each bag's tokens by random ones and add feature noise (the bags keep their
    sizes, so the shapes stay the same from step to step)."""
    out = []
    for b in bags:
        swap = rng.random(len(b)) < 0.25
        out.append(np.where(swap, rng.integers(0, VOCAB, len(b)), b))
    tokens, offsets = _pack(out)
    noisy = (feats + 0.1 * rng.standard_normal(feats.shape)).astype(np.float32)
    return tokens, offsets, noisy


def _batches(n_steps, seed=1):
    bags, feats = _items()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_steps):
        v1, v2 = _view(bags, feats, rng), _view(bags, feats, rng)
        perm = np.roll(np.arange(N_ITEMS), 1 + rng.integers(N_ITEMS - 1)).astype(np.int64)
        cos_t = np.where(rng.random(N_ITEMS) > 0.5, 1.0, -1.0).astype(np.float32)
        out.append((v1, v2, perm, cos_t))
    return out


def _to(lib_tensor, batch):
    v1, v2, perm, cos_t = batch
    return (tuple(lib_tensor(a) for a in v1), tuple(lib_tensor(a) for a in v2), lib_tensor(perm),
            lib_tensor(cos_t))


def _pair():
    t_lib, m_lib = build(torch), build(mt)
    torch.manual_seed(0)
    t_model = t_lib["Encoder"]()
    m_model = copy_state(m_lib["Encoder"](), t_model)
    return t_lib, m_lib, t_model, m_model


def _optims(lib, model):
    opt = lib.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    return opt, sched


def _retrieval_inputs(lib_tensor, seed=7):
    bags, feats = _items()
    rng = np.random.default_rng(seed)
    q, g = _view(bags, feats, rng), _view(bags, feats, rng)
    return tuple(lib_tensor(a) for a in q), tuple(lib_tensor(a) for a in g)


def _params_close(m_model, t_model):
    t_params = dict(t_model.named_parameters())
    assert [n for n, _ in m_model.named_parameters()] == list(t_params)
    for name, p in m_model.named_parameters():
        assert_same(p, t_params[name], RTOL, ATOL, what=f"parameter {name}")


# =============================================================================================
# tests
# =============================================================================================
def test_contrastive_training_matches_torch():
    t_lib, m_lib, t_model, m_model = _pair()
    t_opt, t_sched = _optims(torch, t_model)
    m_opt, m_sched = _optims(mt, m_model)
    t_step = t_lib["make_train_step"](t_model, t_opt)
    m_step = m_lib["make_train_step"](m_model, m_opt)
    for i, batch in enumerate(_batches(3)):
        tr = t_step(*_to(torch.from_numpy, batch))
        mr = m_step(*_to(mt.tensor, batch))
        t_sched.step()
        m_sched.step()
        assert_same(list(mr), list(tr), RTOL, ATOL, what=f"step {i}")
        assert m_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
    _params_close(m_model, t_model)
    for name, b in m_model.named_buffers():
        assert_same(b, dict(t_model.named_buffers())[name], RTOL, ATOL, what=f"buffer {name}")
    t_res = t_lib["retrieval"](t_model, *_retrieval_inputs(torch.from_numpy))
    m_res = m_lib["retrieval"](m_model, *_retrieval_inputs(mt.tensor))
    assert_same(list(m_res[:2]), list(t_res[:2]), RTOL, ATOL, what="cosine / cdist matrices")
    assert_same(list(m_res[2:4]), list(t_res[2:4]), what="top-k indices")
    assert m_res[4:] == pytest.approx(t_res[4:])
    assert not m_model.training


def test_losses_match_torch_with_gradients():
    """The loss functions alone, on raw embeddings, with their input gradients."""
    t_lib, m_lib = build(torch), build(mt)
    rng = np.random.default_rng(3)
    z1, z2 = (rng.standard_normal((N_ITEMS, PROJ)).astype(np.float32) for _ in range(2))
    tz1, tz2 = torch.tensor(z1, requires_grad=True), torch.tensor(z2, requires_grad=True)
    mz1, mz2 = mt.tensor(z1, requires_grad=True), mt.tensor(z2, requires_grad=True)
    tl = t_lib["nt_xent"](tz1, tz2, 0.2) + t_lib["info_nce"](tz1, tz2, 0.2)
    ml = m_lib["nt_xent"](mz1, mz2, 0.2) + m_lib["info_nce"](mz1, mz2, 0.2)
    assert_same(ml, tl, RTOL, ATOL)
    tl.backward()
    ml.backward()
    assert_same([mz1.grad, mz2.grad], [tz1.grad, tz2.grad], RTOL, ATOL, what="loss gradients")
    # identical views: only the masked diagonal separates the positive from itself
    assert_same(m_lib["nt_xent"](mz1, mz1, 0.05), t_lib["nt_xent"](tz1, tz1, 0.05), RTOL, ATOL)


def test_train_step_jit_matches_eager():
    m_lib = build(mt)
    mt.manual_seed(0)
    m_e, m_j = m_lib["Encoder"](), m_lib["Encoder"]()
    m_j.load_state_dict(m_e.state_dict())
    o_e, s_e = _optims(mt, m_e)
    o_j, s_j = _optims(mt, m_j)
    eager = m_lib["make_train_step"](m_e, o_e)
    jitted = mt.jit(m_lib["make_train_step"](m_j, o_j))
    for batch in _batches(3, seed=5):
        re = eager(*_to(mt.tensor, batch))
        rj = jitted(*_to(mt.tensor, batch))
        s_e.step()
        s_j.step()  # outside the compiled step: the new lr is picked up without recompiling
        for a, b in zip(rj, re):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for (n, pj), pe in zip(m_j.named_parameters(), m_e.parameters()):
        np.testing.assert_allclose(pj.detach().numpy(), pe.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    assert o_j.param_groups[0]["lr"] == o_e.param_groups[0]["lr"]
    assert jitted.num_compiles == 1, jitted.explain()
    # the scheduler stepped inside the compiled step is refused with an explanation
    sched_step = mt.jit(lambda: s_j.step())
    with pytest.raises(mt.jit.JitError, match="scheduler.step"):
        sched_step()


def test_state_dict_round_trip(tmp_path):
    t_lib, m_lib, t_model, m_model = _pair()
    m_opt, m_sched = _optims(mt, m_model)
    m_lib["make_train_step"](m_model, m_opt)(*_to(mt.tensor, _batches(1)[0]))
    path = tmp_path / "enc.pt"
    mt.save(m_model.state_dict(), path)
    fresh = m_lib["Encoder"]()
    fresh.load_state_dict(mt.load(path))
    for (k, v), w in zip(m_model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(w.cpu().numpy(), v.cpu().numpy(), err_msg=k)  # bit for bit
    a = m_lib["retrieval"](m_model, *_retrieval_inputs(mt.tensor))
    b = m_lib["retrieval"](fresh, *_retrieval_inputs(mt.tensor))
    # (equal weights; a GPU's matmuls may pick another algorithm for arrays of another origin: 1 ulp)
    np.testing.assert_allclose(a[0].cpu().numpy(), b[0].cpu().numpy(), rtol=1e-6, atol=1e-7)
    # the mt checkpoint loads into the torch model
    t_model.load_state_dict(torch.load(path))
    t_res = t_lib["retrieval"](t_model, *_retrieval_inputs(torch.from_numpy))
    assert_same(list(a[:2]), list(t_res[:2]), RTOL, ATOL)


def test_bad_inputs_raise_like_torch():
    t_lib, m_lib, t_model, m_model = _pair()
    tokens, offsets = _pack(_items()[0])
    feats = _items()[1]
    # offsets that do not start at 0
    with pytest.raises(RuntimeError) as te:
        t_model.bag(torch.from_numpy(tokens), torch.from_numpy(offsets + 1))
    with pytest.raises(RuntimeError) as me:
        m_model.bag(mt.tensor(tokens), mt.tensor(offsets + 1))
    assert str(te.value).split("\n")[0] in str(me.value)
    # float tokens
    with pytest.raises(RuntimeError) as te:
        t_model(torch.from_numpy(tokens).float(), torch.from_numpy(offsets), torch.from_numpy(feats))
    with pytest.raises(RuntimeError) as me:
        m_model(mt.tensor(tokens).float(), mt.tensor(offsets), mt.tensor(feats))
    assert str(te.value) in str(me.value)
    # dense features of the wrong width
    with pytest.raises(RuntimeError) as te:
        t_model(torch.from_numpy(tokens), torch.from_numpy(offsets), torch.zeros(N_ITEMS, 5))
    with pytest.raises(RuntimeError) as me:
        m_model(mt.tensor(tokens), mt.tensor(offsets), mt.zeros(N_ITEMS, 5))
    assert "(8x5 and 6x8)" in str(te.value)
    assert "[8, 5]" in str(me.value)
    # cosine-embedding targets of the wrong length (regression: mt named the sizes the other way round)
    with pytest.raises(RuntimeError) as te:
        torch.nn.CosineEmbeddingLoss()(torch.zeros(4, 3), torch.zeros(4, 3), torch.ones(3))
    with pytest.raises(RuntimeError) as me:
        mt.nn.CosineEmbeddingLoss()(mt.zeros(4, 3), mt.zeros(4, 3), mt.ones(3))
    assert str(te.value) in str(me.value)
    # a multi-column target
    with pytest.raises(RuntimeError) as te:
        torch.nn.CosineEmbeddingLoss()(torch.zeros(4, 3), torch.zeros(4, 3), torch.ones(4, 2))
    with pytest.raises(RuntimeError) as me:
        mt.nn.CosineEmbeddingLoss()(mt.zeros(4, 3), mt.zeros(4, 3), mt.ones(4, 2))
    assert str(te.value) in str(me.value)
    # triplets whose negatives have another width
    with pytest.raises(RuntimeError) as te:
        torch.nn.TripletMarginLoss()(torch.zeros(4, 3), torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(RuntimeError) as me:
        mt.nn.TripletMarginLoss()(mt.zeros(4, 3), mt.zeros(4, 3), mt.zeros(4, 2))
    assert str(te.value) in str(me.value) and "triplet_margin_loss" in str(me.value)


def test_fused_backward_skips_graphs_whose_shapes_change():
    """Regression: the whole-graph backward counted repeats of a graph's structure only, so bags with a
    different number of tokens every step compiled a new fused backward program every step."""
    from minitorch_jax import _fused_backward

    F = mt.nn.functional
    w = mt.randn(VOCAB, 4, requires_grad=True)
    offsets = mt.tensor([0, 2, 5])

    def run(n_tokens):
        tokens = mt.tensor(np.arange(n_tokens, dtype=np.int64) % VOCAB)
        F.embedding_bag(tokens, w, offsets, mode="mean").sum().backward()

    before = len(_fused_backward._compiled)
    for n in (7, 8, 9):  # same structure, new shapes each time
        run(n)
    assert len(_fused_backward._compiled) == before
    for _ in range(2):  # the first shapes twice more: replayed fused from the third pass
        run(7)
    assert len(_fused_backward._compiled) == before + 1


def test_embedding_loss_labels_get_no_gradient_edge():
    """Regression: cosine/hinge embedding losses only compare their labels; torch leaves a float target
    that requires grad out of the graph (``.grad`` stays None), mt gave it a zero gradient."""
    rng = np.random.default_rng(4)
    a, b = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    y = np.array([1, -1, 1, -1], np.float32)
    for lib in (torch, mt):
        F = lib.nn.functional
        x1 = lib.tensor(a, requires_grad=True)
        t = lib.tensor(y, requires_grad=True)
        assert not F.cosine_embedding_loss(lib.tensor(a), lib.tensor(b), t).requires_grad
        assert not F.hinge_embedding_loss(lib.tensor(a[:, 0]), t).requires_grad
        (F.cosine_embedding_loss(x1, lib.tensor(b), t) + F.hinge_embedding_loss(x1[:, 0], t)).backward()
        assert t.grad is None and x1.grad is not None, lib.__name__
