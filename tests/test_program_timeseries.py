"""Same-source program parity: time-series regression (a causal dilated TCN with weight norm and
residual blocks trained with Adam + HuberLoss and early stopping; a GRU forecaster trained with LBFGS
and a closure on sine waves, the classic time_sequence_prediction example, with teacher forcing and
no_grad autoregressive prediction) written once against the torch API and run by both libraries.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import assert_params_same, copy_state, to_numpy
from .oracle import torch


# --------------------------------------------------------------------------------------------
# the program (ordinary PyTorch code; `torch` is real torch or minitorch_jax)
# --------------------------------------------------------------------------------------------
def build(torch):
    nn, F = torch.nn, torch.nn.functional

    class CausalConv1d(nn.Module):
        """Conv1d that only sees the past: left-pad by (k - 1) * dilation."""

        def __init__(self, cin, cout, kernel_size, dilation, wn="parametrizations"):
            super().__init__()
            self.left = (kernel_size - 1) * dilation
            conv = nn.Conv1d(cin, cout, kernel_size, dilation=dilation)
            if wn == "parametrizations":
                conv = nn.utils.parametrizations.weight_norm(conv)
            elif wn == "legacy":
                conv = nn.utils.weight_norm(conv)
            self.conv = conv

        def forward(self, x):
            return self.conv(F.pad(x, (self.left, 0)))

    class TemporalBlock(nn.Module):
        def __init__(self, cin, cout, kernel_size, dilation, wn):
            super().__init__()
            self.conv1 = CausalConv1d(cin, cout, kernel_size, dilation, wn)
            self.conv2 = CausalConv1d(cout, cout, kernel_size, dilation, wn)
            self.downsample = nn.Conv1d(cin, cout, 1) if cin != cout else None

        def forward(self, x):
            out = F.relu(self.conv1(x))
            out = F.relu(self.conv2(out))
            res = x if self.downsample is None else self.downsample(x)
            return F.relu(out + res)

    class TCN(nn.Module):
        def __init__(self, cin=1, channels=(6, 6), kernel_size=3, wn="parametrizations"):
            super().__init__()
            blocks = []
            for i, cout in enumerate(channels):
                c_in = cin if i == 0 else channels[i - 1]
                blocks.append(TemporalBlock(c_in, cout, kernel_size, 2 ** i, wn))
            self.blocks = nn.Sequential(*blocks)
            self.head = nn.Linear(channels[-1], 1)

        def forward(self, x):  # x: (B, T) -> one-step-ahead predictions (B, T)
            h = self.blocks(x.unsqueeze(1))
            return self.head(h.transpose(1, 2)).squeeze(-1)

    class GRUForecaster(nn.Module):
        def __init__(self, hidden=8):
            super().__init__()
            self.hidden = hidden
            self.gru = nn.GRU(1, hidden, batch_first=True)
            self.cell = nn.GRUCell(1, hidden)
            self.linear = nn.Linear(hidden, 1)

        def forward(self, x, future=0, targets=None, teacher_forcing=()):
            """Encode ``x`` (B, T) with the GRU layer, then roll ``future`` steps with the cell,
            feeding the target (teacher forcing, decided per step) or the own prediction."""
            out, h = self.gru(x.unsqueeze(-1))
            preds = self.linear(out).squeeze(-1)  # one-step-ahead over the observed window
            h = h[0]
            y = preds[:, -1:]
            outputs = [preds]
            for t in range(future):
                h = self.cell(y, h)
                y_next = self.linear(h)
                outputs.append(y_next)
                if targets is not None and t < len(teacher_forcing) and teacher_forcing[t]:
                    y = targets[:, t:t + 1]
                else:
                    y = y_next
            return torch.cat(outputs, dim=1)

    def make_lbfgs_training(model, lr=0.2):
        opt = torch.optim.LBFGS(model.parameters(), lr=lr, max_iter=4, history_size=5)
        crit = nn.MSELoss()

        def train_step(x, y, future, targets, teacher_forcing):
            model.train()
            losses = []

            def closure():
                opt.zero_grad()
                out = model(x, future, targets, teacher_forcing)
                loss = crit(out, torch.cat([y, targets], dim=1))
                loss.backward()
                losses.append(loss.item())
                return loss

            final = opt.step(closure)
            return final.item(), losses

        return opt, train_step

    def make_adam_training(model, lr=1e-2, patience=2):
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        crit = nn.HuberLoss(delta=0.5)
        mse = nn.MSELoss(reduction="sum")

        def train_step(x, y):
            model.train()
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
            return loss.detach()

        def evaluate(x, y):
            model.eval()
            with torch.no_grad():
                return (mse(model(x), y) / y.numel()).item()

        def fit(batches, val, epochs, step=None):
            step = step or train_step
            best, best_state, bad, history = float("inf"), None, 0, []
            for _ in range(epochs):
                losses = [step(x, y).item() for x, y in batches]
                val_loss = evaluate(*val)
                history.append((losses, val_loss))
                if val_loss < best:
                    best, bad = val_loss, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    bad += 1
                    if bad >= patience:
                        break
            model.load_state_dict(best_state)
            return best, history

        return opt, train_step, evaluate, fit

    def predict(model, context, steps):
        """Autoregressive multi-step forecast with a one-step model, in a Python loop."""
        model.eval()
        window = context.clone()
        out = []
        with torch.no_grad():
            for _ in range(steps):
                nxt = model(window)[:, -1:]
                out.append(nxt)
                window = torch.cat([window[:, 1:], nxt], dim=1)
        return torch.cat(out, dim=1)

    return dict(TCN=TCN, GRUForecaster=GRUForecaster, make_lbfgs_training=make_lbfgs_training,
                make_adam_training=make_adam_training, predict=predict)


# --------------------------------------------------------------------------------------------
# data (numpy, shared by both libraries)
# --------------------------------------------------------------------------------------------
def sine_waves(n=6, length=24, period=8.0, seed=0):
    """The classic data: sin of shifted ramps, float32 (n, length)."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-4 * int(period), 4 * int(period), size=(n, 1))
    t = np.arange(length)[None, :] + shifts
    noise = 0.02 * rng.standard_normal((n, length))
    return (np.sin(2 * np.pi * t / period) + noise).astype(np.float32)


@pytest.fixture(scope="module")
def progs():
    return build(torch), build(mt)


def _pair(progs, name, seed=0, **kw):
    torch.manual_seed(seed)
    t_model = progs[0][name](**kw)
    m_model = progs[1][name](**kw)
    copy_state(m_model, t_model)
    return t_model, m_model


# --------------------------------------------------------------------------------------------
# (a) GRU forecaster, LBFGS with a closure, teacher forcing
# --------------------------------------------------------------------------------------------
FUTURE, WINDOW = 3, 10


def _gru_data(lib, seed):
    w = sine_waves(n=4, length=WINDOW + FUTURE + 1, seed=seed)
    x, y, tg = w[:, :WINDOW], w[:, 1:WINDOW + 1], w[:, WINDOW + 1:]
    return lib.from_numpy(x.copy()), lib.from_numpy(y.copy()), lib.from_numpy(tg.copy())


def _run_lbfgs(prog, lib, model, steps=2):
    opt, train_step = prog["make_lbfgs_training"](model)
    # teacher forcing per decoder step, drawn by numpy (once: each pattern is another graph to compile)
    tf = tuple(bool(b) for b in np.random.default_rng(3).random(FUTURE) < 0.5)
    assert any(tf) and not all(tf)
    finals, all_losses = [], []
    for s in range(steps):
        x, y, tg = _gru_data(lib, s)
        final, losses = train_step(x, y, FUTURE, tg, tf)
        finals.append(final)
        all_losses.append(losses)
    x, _, _ = _gru_data(lib, 50)
    model.eval()
    with lib.no_grad():
        forecast = model(x, future=FUTURE)  # free-running: no targets
    return finals, all_losses, to_numpy(forecast), opt


def test_gru_lbfgs_matches_torch(progs):
    t_model, m_model = _pair(progs, "GRUForecaster")
    t_final, t_losses, t_fc, t_opt = _run_lbfgs(progs[0], torch, t_model)
    m_final, m_losses, m_fc, m_opt = _run_lbfgs(progs[1], mt, m_model)
    assert [len(x) for x in m_losses] == [len(x) for x in t_losses]
    np.testing.assert_allclose(np.concatenate(m_losses), np.concatenate(t_losses), rtol=1e-4)
    np.testing.assert_allclose(m_final, t_final, rtol=1e-4)
    assert t_losses[-1][-1] < t_losses[0][0]
    np.testing.assert_allclose(m_fc, t_fc, rtol=1e-4, atol=1e-5)
    assert_params_same(m_model, t_model)
    t_state = t_opt.state_dict()["state"][0]
    m_state = m_opt.state_dict()["state"][0]
    assert m_state["func_evals"] == t_state["func_evals"]
    assert m_state["n_iter"] == t_state["n_iter"]


# --------------------------------------------------------------------------------------------
# (b) causal dilated TCN, Adam + HuberLoss, early stopping with deepcopy(state_dict)
# --------------------------------------------------------------------------------------------
def _tcn_batches(lib, n=2, seed=0):
    out = []
    for i in range(n):
        w = sine_waves(n=4, length=17, seed=seed + i)
        out.append((lib.from_numpy(w[:, :-1].copy()), lib.from_numpy(w[:, 1:].copy())))
    return out


@pytest.mark.parametrize("wn", ["parametrizations", "legacy"])
def test_tcn_adam_early_stopping_matches_torch(progs, wn):
    t_model, m_model = _pair(progs, "TCN", wn=wn)
    assert set(m_model.state_dict()) == set(t_model.state_dict())
    results = []
    for lib, prog, model in ((torch, progs[0], t_model), (mt, progs[1], m_model)):
        _, _, evaluate, fit = prog["make_adam_training"](model, lr=0.2)
        val = _tcn_batches(lib, 1, seed=40)[0]
        best, history = fit(_tcn_batches(lib), val, epochs=6)
        # stopped early, and the restored weights are the best (not the last) epoch's
        vals = [v for _, v in history]
        assert len(vals) < 6 and vals.index(best) < len(vals) - 1 and vals[-1] > best
        assert evaluate(*val) == pytest.approx(best, rel=1e-6)
        ctx = lib.from_numpy(sine_waves(n=2, length=16, seed=7))
        results.append((best, history, to_numpy(prog["predict"](model, ctx, 5))))
    (t_best, t_hist, t_pred), (m_best, m_hist, m_pred) = results
    assert len(m_hist) == len(t_hist)
    for (ml, mv), (tl, tv) in zip(m_hist, t_hist):
        np.testing.assert_allclose(ml, tl, rtol=1e-4, atol=1e-7)
        assert mv == pytest.approx(tv, rel=1e-4)
    assert m_best == pytest.approx(t_best, rel=1e-4)
    np.testing.assert_allclose(m_pred, t_pred, rtol=1e-4, atol=1e-5)
    assert_params_same(m_model, t_model)


def test_tcn_jit_step_matches_eager(progs):
    mprog = progs[1]
    runs = []
    for wrap in (None, mt.jit):
        _, model = _pair(progs, "TCN")
        _, train_step, _, _ = mprog["make_adam_training"](model, lr=5e-2)
        step = wrap(train_step) if wrap else train_step
        losses = [step(x, y).item() for _ in range(3) for x, y in _tcn_batches(mt)]
        runs.append((losses, model, step))
    (e_losses, e_model, _), (j_losses, j_model, step) = runs
    assert step.num_compiles == 1, step.explain()
    np.testing.assert_allclose(j_losses, e_losses, rtol=1e-4, atol=1e-6)
    assert_params_same(j_model, e_model)


def test_tcn_state_dict_round_trip(progs, tmp_path):
    t_model, m_model = _pair(progs, "TCN")
    _, train_step, _, _ = progs[1]["make_adam_training"](m_model)
    for x, y in _tcn_batches(mt):
        train_step(x, y)
    path = tmp_path / "tcn.pt"
    mt.save(m_model.state_dict(), path)
    fresh = progs[1]["TCN"]()
    fresh.load_state_dict(mt.load(path))
    x = mt.from_numpy(sine_waves(n=2, length=16, seed=9))
    fresh.eval()
    m_model.eval()
    with mt.no_grad():
        np.testing.assert_array_equal(to_numpy(fresh(x)), to_numpy(m_model(x)))
    t_model.load_state_dict(torch.load(path))
    t_model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(to_numpy(t_model(torch.from_numpy(sine_waves(n=2, length=16, seed=9)))),
                                   to_numpy(m_model(x)), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------
def _raise(exc, fn, *args, **kwargs):
    with pytest.raises(exc) as ei:
        fn(*args, **kwargs)
    return str(ei.value)


def test_bad_inputs_raise_like_torch(progs):
    t_tcn, m_tcn = _pair(progs, "TCN")
    t_gru, m_gru = _pair(progs, "GRUForecaster")
    msgs = {}
    for lib, tcn, gru in ((torch, t_tcn, t_gru), (mt, m_tcn, m_gru)):
        x3 = lib.from_numpy(np.zeros((2, 3, 10), np.float32))  # (B, C, T) instead of (B, T)
        msgs.setdefault("conv", []).append(_raise(RuntimeError, tcn, x3))
        msgs.setdefault("gru4d", []).append(_raise(ValueError, gru, x3))
        x64 = lib.from_numpy(np.zeros((2, 10), np.float64))  # numpy's default float64 fed as is
        msgs.setdefault("gru64", []).append(_raise(ValueError, gru, x64))
    assert msgs["conv"][1] == msgs["conv"][0] and "[2, 1, 3, 12]" in msgs["conv"][1]  # after the left pad
    assert msgs["gru4d"][1] == msgs["gru4d"][0]
    assert msgs["gru64"][1] == msgs["gru64"][0].replace("torch.", "minitorch_jax.")


@pytest.mark.parametrize("name", ["HuberLoss", "MSELoss", "SmoothL1Loss"])
def test_regression_loss_mixed_dtype_targets(name):
    """float32 predictions against float64 numpy targets: torch's huber_loss writes the input's dtype
    (float32), mse/smooth_l1 promote (float64). mt's huber_loss promoted (regression)."""
    out = []
    for lib in (torch, mt):
        pred = lib.from_numpy(np.array([[0.1, 2.0], [-1.5, 0.3]], np.float32))
        target = lib.from_numpy(np.array([[0.0, 0.0], [0.0, 1.0]], np.float64))
        with lib.no_grad():
            out.append([getattr(lib.nn, name)(reduction=r)(pred, target) for r in ("mean", "none")])
    for m, t in zip(*out[::-1]):
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(m), to_numpy(t), rtol=1e-6)


def test_deepcopy_of_legacy_weight_norm_model_raises_like_torch(progs):
    """copy.deepcopy(model) (the other early-stopping idiom) works with parametrizations.weight_norm and
    raises torch's RuntimeError, with its weight_norm hint, for the legacy nn.utils.weight_norm."""
    msgs = []
    for lib, prog in ((torch, progs[0]), (mt, progs[1])):
        lib.manual_seed(0)
        best = copy.deepcopy(prog["TCN"]())
        assert type(best.blocks[0].conv1.conv).__name__ == "ParametrizedConv1d"
        msgs.append(_raise(RuntimeError, copy.deepcopy, prog["TCN"](wn="legacy")))
    assert msgs[1] == msgs[0] and "weight_norm" in msgs[1]
