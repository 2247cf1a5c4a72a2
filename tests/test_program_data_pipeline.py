"""Same-source program parity: the training-utilities side of a real project.

One program (``build(torch)``) written as ordinary PyTorch code -- datasets, loaders, a small residual
MLP classifier with activation checkpointing, AdamW + LR scheduler, gradient clipping, an EMA of the
weights, a full training-state checkpoint -- runs on real torch and on minitorch_jax; every step's loss,
the final parameters, the EMA weights and evaluation outputs are compared.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import minitorch_jax as mt

from ._program_data_pipeline_data import ArrayPairs, MtPairs
from .nn_oracle import copy_state
from .oracle import torch

D_IN, D, N_CLS = 6, 8, 3


def make_data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D_IN)).astype(np.float32)
    y = rng.integers(0, N_CLS, size=n).astype(np.int64)
    return x, y


class TorchPairs(ArrayPairs, torch.utils.data.Dataset):
    """The worker test's dataset for real torch (MtPairs is its minitorch_jax twin)."""


def build(torch):
    """The program. ``torch`` is the real torch or minitorch_jax."""
    nn, F = torch.nn, torch.nn.functional
    data = torch.utils.data

    class PairDataset(data.Dataset):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"x": torch.from_numpy(self.x[i]), "y": int(self.y[i])}

    class Stream(data.IterableDataset):
        """Yields (features, label) tuples from a numpy stream."""

        def __init__(self, x, y):
            super().__init__()
            self.x, self.y = x, y

        def __iter__(self):
            for row, label in zip(self.x, self.y):
                yield torch.tensor(row), torch.tensor(label)

    def collate(batch):
        return {"x": torch.stack([b["x"] for b in batch]),
                "y": torch.tensor([b["y"] for b in batch], dtype=torch.long)}

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.norm = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 2 * d)
            self.fc2 = nn.Linear(2 * d, d)

        def forward(self, x):
            return x + self.fc2(F.gelu(self.fc1(self.norm(x))))

    class Net(nn.Module):
        def __init__(self, d_in=D_IN, d=D, n_cls=N_CLS, n_blocks=2, use_checkpoint=True):
            super().__init__()
            self.inp = nn.Linear(d_in, d)
            self.blocks = nn.ModuleList([Block(d) for _ in range(n_blocks)])
            self.head = nn.Linear(d, n_cls)
            self.use_checkpoint = use_checkpoint

        def forward(self, x):
            h = self.inp(x)
            for blk in self.blocks:
                if self.use_checkpoint and self.training:
                    h = torch.utils.checkpoint.checkpoint(blk, h, use_reentrant=False)
                else:
                    h = blk(h)
            return self.head(h)

    def make_optim(model):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return opt, sched

    def make_ema(model):
        ema = Net()
        ema.load_state_dict(model.state_dict())
        for p in ema.parameters():
            p.requires_grad_(False)
        return ema

    def make_averaged(model):
        return torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.9))

    @torch.no_grad()
    def ema_update(ema, model, decay=0.9):
        for p_ema, p in zip(ema.parameters(), model.parameters()):
            p_ema.mul_(decay).add_(p.detach(), alpha=1 - decay)

    def train_step(model, opt, batch):
        model.train()
        opt.zero_grad()
        logits = model(batch["x"])
        loss = F.cross_entropy(logits, batch["y"])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        return loss.detach()

    def train_epochs(model, opt, sched, loader, epochs, ema=None, averaged=None, start_epoch=0):
        losses = []
        for _epoch in range(start_epoch, epochs):
            for batch in loader:
                losses.append(train_step(model, opt, batch).item())
                if ema is not None:
                    ema_update(ema, model)
                if averaged is not None:
                    averaged.update_parameters(model)
            sched.step()
        return losses

    def save_training_state(path, model, opt, sched, epoch, save=torch.save):
        save({"model": model.state_dict(), "optimizer": opt.state_dict(),
              "scheduler": sched.state_dict(), "epoch": epoch}, path)

    def load_training_state(path, load=torch.load):
        state = load(path)
        model = Net()
        model.load_state_dict(state["model"])
        opt, sched = make_optim(model)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        return model, opt, sched, state["epoch"]

    @torch.no_grad()
    def evaluate(model, loader):
        model.eval()
        outs, correct, total = [], 0, 0
        for batch in loader:
            logits = model(batch["x"])
            outs.append(logits)
            correct += (logits.argmax(dim=-1) == batch["y"]).sum().item()
            total += batch["y"].numel()
        return torch.cat(outs), correct / total

    def autocast_loss(model, batch):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(batch["x"])
        loss = F.cross_entropy(logits.float(), batch["y"])
        return logits, loss

    return types.SimpleNamespace(**locals())


# ----------------------------------------------------------------------------- helpers

def _np(t):
    if isinstance(t, mt.Tensor):
        return np.asarray(t.detach().numpy())
    return t.detach().numpy()


def _dt(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _same_batches(mt_batches, t_batches):
    assert len(mt_batches) == len(t_batches)
    for mb, tb in zip(mt_batches, t_batches):
        if isinstance(tb, dict):
            assert list(mb) == list(tb)
            mb, tb = list(mb.values()), list(tb.values())
        for m, t in zip(mb, tb):
            assert type(m).__name__ == "Tensor"
            assert _dt(m) == _dt(t), (m.dtype, t.dtype)
            assert tuple(m.shape) == tuple(t.shape)
            np.testing.assert_array_equal(_np(m), _np(t))


def _pair():
    T, M = build(torch), build(mt)
    torch.manual_seed(0)
    t_model = T.Net()
    m_model = copy_state(M.Net(), t_model)
    return T, M, t_model, m_model


def _assert_params(m_model, t_model, rtol=1e-4, atol=1e-5):
    t_sd = t_model.state_dict()
    m_sd = m_model.state_dict()
    assert list(m_sd) == list(t_sd)
    for k in t_sd:
        np.testing.assert_allclose(_np(m_sd[k]), _np(t_sd[k]), rtol=rtol, atol=atol, err_msg=k)


# ----------------------------------------------------------------------------- data pipeline

def test_map_style_loader_with_dict_collate():
    x, y = make_data(10)
    res = {}
    for name, lib in (("t", torch), ("m", mt)):
        P = build(lib)
        ds = P.PairDataset(x, y)
        DataLoader = lib.utils.data.DataLoader
        loader = DataLoader(ds, batch_size=4, shuffle=False, drop_last=True, collate_fn=P.collate)
        keep = DataLoader(ds, batch_size=4, shuffle=False, drop_last=False, collate_fn=P.collate)
        bs = lib.utils.data.BatchSampler(lib.utils.data.SequentialSampler(ds), batch_size=3, drop_last=False)
        by_sampler = lib.utils.data.DataLoader(ds, batch_sampler=bs, collate_fn=P.collate)
        res[name] = (len(loader), len(keep), len(bs), list(bs), list(loader), list(keep), list(by_sampler))
    m, t = res["m"], res["t"]
    assert m[:4] == t[:4] == (2, 3, 4, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
    for i in (4, 5, 6):
        _same_batches(m[i], t[i])


def test_tensor_subset_concat_and_iterable_datasets():
    x, y = make_data(9)
    res = {}
    for name, lib in (("t", torch), ("m", mt)):
        data = lib.utils.data
        P = build(lib)
        tds = data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y))
        sub = data.Subset(tds, [1, 3, 5])
        cat = data.ConcatDataset([sub, data.Subset(tds, range(6, 9))])
        items = [cat[i] for i in range(len(cat))] + [cat[-1]]
        from_concat = list(data.DataLoader(cat, batch_size=4))
        stream = list(data.DataLoader(P.Stream(x, y), batch_size=4, drop_last=False))
        res[name] = (len(tds), len(sub), len(cat), cat.cumulative_sizes, items, from_concat, stream)
    m, t = res["m"], res["t"]
    assert m[:4] == t[:4] == (9, 3, 6, [3, 6])
    _same_batches(m[4], t[4])
    _same_batches(m[5], t[5])
    _same_batches(m[6], t[6])
    assert [tuple(b[0].shape) for b in m[6]] == [(4, D_IN), (4, D_IN), (1, D_IN)]


def test_random_split_with_generator():
    ds = list(range(10))
    for lib in (torch, mt):
        g = lib.Generator().manual_seed(42)
        a, b = lib.utils.data.random_split(ds, [7, 3], generator=g)
        assert (len(a), len(b)) == (7, 3)
        assert sorted(list(a.indices) + list(b.indices)) == list(range(10))
        assert sorted(a[i] for i in range(len(a))) == sorted(a.indices)
        # same seed -> same split (within one library)
        a2, _ = lib.utils.data.random_split(ds, [7, 3], generator=lib.Generator().manual_seed(42))
        assert list(a2.indices) == list(a.indices)
        parts = lib.utils.data.random_split(ds, [0.5, 0.3, 0.2], generator=lib.Generator().manual_seed(1))
        assert [len(p) for p in parts] == [5, 3, 2]
        assert isinstance(parts[0].indices[0], int)


def test_workers_give_same_batches_as_main_process():
    x, y = make_data(10)
    res = {}
    for name, lib, cls in (("t", torch, TorchPairs), ("m", mt, MtPairs)):
        ds = cls(x, y)
        # torch's workers are not started here: on Linux torch forks, and forking a process running JAX
        # can deadlock (mt starts its workers from a forkserver instead)
        res[name] = [list(lib.utils.data.DataLoader(ds, batch_size=3, shuffle=False, num_workers=n))
                     for n in ((0, 2) if lib is mt else (0,))]
    _same_batches(res["m"][1], res["m"][0])
    _same_batches(res["m"][0], res["t"][0])
    assert [tuple(b["x"].shape) for b in res["m"][1]] == [(3, D_IN)] * 3 + [(1, D_IN)]


# ----------------------------------------------------------------------------- training

def _loaders(T, M, n=8, batch=4, seed=0):
    x, y = make_data(n, seed)
    tl = torch.utils.data.DataLoader(T.PairDataset(x, y), batch_size=batch, collate_fn=T.collate)
    ml = mt.utils.data.DataLoader(M.PairDataset(x, y), batch_size=batch, collate_fn=M.collate)
    return tl, ml


def test_training_with_checkpoint_ema_and_scheduler_matches_torch():
    T, M, t_model, m_model = _pair()
    t_ema, m_ema = T.make_ema(t_model), M.make_ema(m_model)
    t_avg, m_avg = T.make_averaged(t_model), M.make_averaged(m_model)
    t_opt, t_sched = T.make_optim(t_model)
    m_opt, m_sched = M.make_optim(m_model)
    tl, ml = _loaders(T, M)
    t_losses = T.train_epochs(t_model, t_opt, t_sched, tl, 3, ema=t_ema, averaged=t_avg)
    m_losses = M.train_epochs(m_model, m_opt, m_sched, ml, 3, ema=m_ema, averaged=m_avg)
    assert len(m_losses) == 6
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-6)
    assert m_sched.get_last_lr() == pytest.approx(t_sched.get_last_lr())
    assert m_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
    _assert_params(m_model, t_model)
    _assert_params(m_ema, t_ema)
    _assert_params(m_avg, t_avg)  # AveragedModel: n_averaged + module.* (lerp-based EMA)
    assert m_avg.n_averaged.item() == 6 and m_avg.n_averaged.dtype == mt.int64
    # evaluation (no checkpointing in eval mode) on held-out data
    tv, mv = _loaders(T, M, seed=5)
    t_out, t_acc = T.evaluate(t_ema, tv)
    m_out, m_acc = M.evaluate(m_ema, mv)
    np.testing.assert_allclose(_np(m_out), _np(t_out), rtol=1e-4, atol=1e-5)
    assert m_acc == t_acc
    assert not m_out.requires_grad


def test_checkpointed_block_gradients_match_plain_block():
    _, M, _, m_model = _pair()
    plain = M.Net(use_checkpoint=False)
    plain.load_state_dict(m_model.state_dict())
    x = mt.tensor(make_data(4)[0])
    for net in (m_model, plain):
        net.train()
        net(x).square().sum().backward()
    for (name, p), q in zip(m_model.named_parameters(), plain.parameters()):
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-5, atol=1e-6, err_msg=name)


def test_resume_from_full_training_checkpoint(tmp_path):
    T, M, t_model, m_model = _pair()
    tl, ml = _loaders(T, M)
    res = {}
    for name, P, model, loader in (("t", T, t_model, tl), ("m", M, m_model, ml)):
        lib = torch if name == "t" else mt
        straight = P.Net()
        straight.load_state_dict(model.state_dict())
        s_opt, s_sched = P.make_optim(straight)
        full = P.train_epochs(straight, s_opt, s_sched, loader, 4)
        # stop after 2 epochs, checkpoint, resume in fresh objects
        opt, sched = P.make_optim(model)
        first = P.train_epochs(model, opt, sched, loader, 2)
        path = tmp_path / f"{name}.pt"
        P.save_training_state(path, model, opt, sched, 2, save=mt.save if name == "m" else torch.save)
        model2, opt2, sched2, epoch = P.load_training_state(path, load=mt.load if name == "m" else torch.load)
        assert epoch == 2 and isinstance(epoch, int)
        rest = P.train_epochs(model2, opt2, sched2, loader, 4, start_epoch=epoch)
        assert first + rest == pytest.approx(full, rel=1e-6, abs=1e-7), name
        _assert_params(model2, straight, rtol=1e-6, atol=1e-7)
        assert sched2.last_epoch == s_sched.last_epoch == 4
        assert opt2.param_groups[0]["lr"] == s_opt.param_groups[0]["lr"]
        res[name] = (full, model2, lib)
    np.testing.assert_allclose(res["m"][0], res["t"][0], rtol=1e-4, atol=1e-6)
    _assert_params(res["m"][1], res["t"][1])
    # mt.save writes torch's format: torch resumes from the mt checkpoint (weights_only load)
    t_model3, t_opt3, t_sched3, epoch = T.load_training_state(tmp_path / "m.pt",
                                                              load=lambda p: torch.load(p, weights_only=True))
    assert epoch == 2 and t_sched3.last_epoch == 2
    t_rest = T.train_epochs(t_model3, t_opt3, t_sched3, tl, 4, start_epoch=epoch)
    np.testing.assert_allclose(t_rest, res["m"][0][4:], rtol=1e-4, atol=1e-6)
    # and mt resumes from torch's checkpoint
    m_model4, m_opt4, m_sched4, _ = M.load_training_state(tmp_path / "t.pt", load=mt.load)
    m_rest = M.train_epochs(m_model4, m_opt4, m_sched4, ml, 4, start_epoch=2)
    np.testing.assert_allclose(m_rest, res["t"][0][4:], rtol=1e-4, atol=1e-6)


def test_jit_train_step_matches_eager():
    _, M, _, m_model = _pair()
    twin = M.Net()
    twin.load_state_dict(m_model.state_dict())
    _, ml = _loaders(build(torch), M)
    opt, _ = M.make_optim(m_model)
    topt, _ = M.make_optim(twin)
    step = mt.jit(M.train_step)
    eager, compiled = [], []
    for _ in range(2):
        for batch in ml:
            eager.append(M.train_step(m_model, opt, batch).item())
            compiled.append(step(twin, topt, batch).item())
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)
    _assert_params(twin, m_model, rtol=1e-5, atol=1e-6)
    assert step.num_compiles == 1


def test_state_dict_roundtrip_between_libraries(tmp_path):
    T, M, t_model, m_model = _pair()
    mt.save(m_model.state_dict(), tmp_path / "m.pt")
    fresh = M.Net()
    fresh.load_state_dict(mt.load(tmp_path / "m.pt"))
    t_fresh = T.Net()
    t_fresh.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    x = make_data(4)[0]
    for model in (fresh, m_model):
        model.eval()
    t_fresh.eval()
    np.testing.assert_array_equal(_np(fresh(mt.tensor(x))), _np(m_model(mt.tensor(x))))
    np.testing.assert_allclose(_np(fresh(mt.tensor(x))), _np(t_fresh(torch.from_numpy(x))),
                               rtol=1e-5, atol=1e-6)


def test_parameters_to_vector_roundtrip():
    T, M, t_model, m_model = _pair()
    tv = torch.nn.utils.parameters_to_vector(t_model.parameters())
    mv = mt.nn.utils.parameters_to_vector(m_model.parameters())
    assert tuple(mv.shape) == tuple(tv.shape) and mv.requires_grad == tv.requires_grad
    np.testing.assert_array_equal(_np(mv), _np(tv))
    # perturb the flat vector and write it back (a typical "flat-parameter" update)
    delta = np.linspace(-1, 1, tv.numel()).astype(np.float32)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(tv + torch.from_numpy(delta), t_model.parameters())
    with mt.no_grad():
        mt.nn.utils.vector_to_parameters(mv + mt.tensor(delta), m_model.parameters())
    _assert_params(m_model, t_model, rtol=0, atol=0)
    assert all(isinstance(p, mt.nn.Parameter) for p in m_model.parameters())


def test_autocast_bf16_forward_float32_loss():
    T, M, t_model, m_model = _pair()
    x, y = make_data(4)
    t_logits, t_loss = T.autocast_loss(t_model, {"x": torch.from_numpy(x), "y": torch.from_numpy(y)})
    m_logits, m_loss = M.autocast_loss(m_model, {"x": mt.tensor(x), "y": mt.tensor(y)})
    assert _dt(m_logits) == _dt(t_logits) == "bfloat16"
    assert _dt(m_loss) == _dt(t_loss) == "float32"
    np.testing.assert_allclose(_np(m_logits.float()), _np(t_logits.float()), rtol=5e-2, atol=5e-2)
    np.testing.assert_allclose(m_loss.item(), t_loss.item(), rtol=2e-2)
    t_loss.backward()
    m_loss.backward()
    for (name, p), tp in zip(m_model.named_parameters(), t_model.parameters()):
        assert p.grad.dtype == mt.float32, name
        np.testing.assert_allclose(_np(p.grad), _np(tp.grad), rtol=1e-1, atol=3e-2, err_msg=name)


# ----------------------------------------------------------------------------- bad inputs

def _raises_like(fn_m, fn_t):
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(Exception) as me:
        fn_m()
    assert isinstance(me.value, type(te.value)), (me.value, te.value)
    return str(me.value), str(te.value)


def test_bad_inputs_raise_like_torch():
    T, M, t_model, m_model = _pair()
    # wrong feature size into the model
    m_msg, t_msg = _raises_like(lambda: m_model(mt.zeros(2, D_IN + 1)),
                                lambda: t_model(torch.zeros(2, D_IN + 1)))
    assert "2x7" in t_msg and "Linear(in_features=6" in m_msg and "[2, 7]" in m_msg
    # random_split lengths that do not add up
    _raises_like(lambda: mt.utils.data.random_split(range(5), [2, 2]),
                 lambda: torch.utils.data.random_split(range(5), [2, 2]))
    # BatchSampler with a non-positive batch size
    m_msg, t_msg = _raises_like(lambda: mt.utils.data.BatchSampler(range(3), 0, False),
                                lambda: torch.utils.data.BatchSampler(range(3), 0, False))
    assert m_msg == t_msg
    # samples of different sizes cannot be collated
    m_msg, t_msg = _raises_like(
        lambda: mt.utils.data.default_collate([mt.zeros(2), mt.zeros(3)]),
        lambda: torch.utils.data.default_collate([torch.zeros(2), torch.zeros(3)]))
    assert "stack expects each tensor to be equal size" in m_msg
    # float targets of the wrong shape into the loss
    m_msg, t_msg = _raises_like(
        lambda: mt.nn.functional.cross_entropy(mt.zeros(4, 3), mt.zeros(4)),
        lambda: torch.nn.functional.cross_entropy(torch.zeros(4, 3), torch.zeros(4)))


# ----------------------------------------------------------------------------- regressions

def test_regression_checkpoint_recomputes_under_forward_autocast():
    """The recomputation in backward runs under the autocast state of the forward (it used to run with
    autocast off: linear() then saw a bfloat16 activation and float32 weights and raised)."""
    _, M, _, m_model = _pair()
    plain = M.Net(use_checkpoint=False)
    plain.load_state_dict(m_model.state_dict())
    x, y = make_data(4)
    batch = {"x": mt.tensor(x), "y": mt.tensor(y)}
    for net in (m_model, plain):
        _, loss = M.autocast_loss(net, batch)
        loss.backward()
    assert not mt.is_autocast_enabled("cpu")
    for (name, p), q in zip(m_model.named_parameters(), plain.parameters()):
        # bfloat16 rounding may differ between the per-op forward and the fused recomputation
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=5e-2, atol=5e-3, err_msg=name)


def test_regression_optimizer_state_dict_steps_are_not_aliased(tmp_path):
    """Parameters stepping together share one 'step' Tensor inside mt's optimizer; state_dict() must
    still give each parameter its own (as torch), else a saved checkpoint aliases them and torch, resuming
    from it, bumps one counter once per parameter per step."""
    model = mt.nn.Linear(3, 2)
    opt = mt.optim.Adam(model.parameters())
    model(mt.ones(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["step"] is not sd["state"][1]["step"]
    assert sd["state"][0]["step"].item() == sd["state"][1]["step"].item() == 1
    mt.save(sd, tmp_path / "opt.pt")
    loaded = torch.load(tmp_path / "opt.pt", weights_only=True)["state"]
    loaded[0]["step"] += 1
    assert loaded[1]["step"].item() == 1


def test_regression_swa_utils_exists_and_matches_torch():
    """torch.optim.swa_utils was missing: the default (equal-weight) AveragedModel and SWALR's lrs."""
    res = {}
    for name, lib in (("t", torch), ("m", mt)):
        su = lib.optim.swa_utils
        model = lib.nn.Linear(2, 1)
        with lib.no_grad():
            model.weight.fill_(1.0)
            model.bias.fill_(0.0)
        swa = su.AveragedModel(model)
        opt = lib.optim.SGD(model.parameters(), lr=1.0)
        sched = su.SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
        lrs = []
        for k in range(3):
            with lib.no_grad():
                model.weight.add_(k)
            swa.update_parameters(model)
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        res[name] = (_np(swa.module.weight), swa.n_averaged.item(), lrs, sorted(sched.state_dict()))
    assert res["m"][1:] == res["t"][1:]
    np.testing.assert_allclose(res["m"][0], res["t"][0], rtol=1e-6)
    np.testing.assert_allclose(res["m"][0], [[7 / 3, 7 / 3]], rtol=1e-6)  # mean of 1, 2, 4
    opt = mt.optim.SGD([mt.nn.Parameter(mt.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        mt.optim.swa_utils.SWALR(opt, 0.1, anneal_strategy="x")
