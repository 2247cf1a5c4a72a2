"""Same-source program parity: a tiny DDPM.

A linear beta schedule registered as buffers (``torch.linspace`` betas, ``cumprod`` of the alphas,
their square roots), gathered by a LongTensor of timesteps and viewed as ``(-1, 1, 1, 1)``; a
sinusoidal time embedding (``exp``/``arange``/``sin``/``cos``/``cat``); a small U-Net with
``nn.GroupNorm``, ``nn.SiLU``, stride-2 ``Conv2d`` down-sampling, ``F.interpolate(scale_factor=2,
mode='nearest')`` up-sampling and skip connections concatenated along channels, the time embedding
added through a ``Linear`` and ``[:, :, None, None]``; MSE between predicted and true noise (noise and
timesteps from numpy), AdamW with ``clip_grad_norm_``, and a few reverse-sampling steps under
``torch.no_grad`` with fixed numpy noise.

The program is written ONCE (``build(torch)``) and run by real PyTorch and by minitorch_jax.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import torch

IMG = 8
CH = 1
T = 20
BATCH = 4
STEPS = 3
JIT_STEPS = 3
SAMPLE_STEPS = 3


def build(torch):
    """The DDPM program (schedule, U-Net, train step, sampler) for either library."""
    nn, F = torch.nn, torch.nn.functional

    class SinusoidalEmbedding(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, t):
            half = self.dim // 2
            freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device).float() / half)
            args = t.float()[:, None] * freqs[None, :]
            return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)

    class ResBlock(nn.Module):
        def __init__(self, cin, cout, tdim, groups=4):
            super().__init__()
            self.norm1 = nn.GroupNorm(groups, cin)
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.temb = nn.Linear(tdim, cout)
            self.norm2 = nn.GroupNorm(groups, cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
            self.act = nn.SiLU()
            self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

        def forward(self, x, temb):
            h = self.conv1(self.act(self.norm1(x)))
            h = h + self.temb(temb)[:, :, None, None]
            h = self.conv2(self.act(self.norm2(h)))
            return h + self.skip(x)

    class AttnBlock(nn.Module):
        def __init__(self, ch, heads=2):
            super().__init__()
            self.heads = heads
            self.norm = nn.GroupNorm(4, ch)
            # no bias, as in the reference DDPM code: a key bias shifts every score of a row alike, so
            # its gradient is exactly zero and Adam would turn the rounding noise into updates
            self.qkv = nn.Conv2d(ch, 3 * ch, 1, bias=False)
            self.proj = nn.Conv2d(ch, ch, 1)

        def forward(self, x):
            b, c, h, w = x.shape
            q, k, v = self.qkv(self.norm(x)).chunk(3, dim=1)
            q, k, v = (z.reshape(b, self.heads, c // self.heads, h * w).transpose(-1, -2) for z in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v)
            out = out.transpose(-1, -2).reshape(b, c, h, w)
            return x + self.proj(out)

    class UNet(nn.Module):
        def __init__(self, ch=8, tdim=16):
            super().__init__()
            self.time_mlp = nn.Sequential(SinusoidalEmbedding(tdim), nn.Linear(tdim, tdim), nn.SiLU(),
                                          nn.Linear(tdim, tdim))
            self.inc = nn.Conv2d(CH, ch, 3, padding=1)
            self.down1 = ResBlock(ch, ch, tdim)
            self.pool1 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)            # 8 -> 4
            self.mid = ResBlock(ch, ch, tdim)
            self.mid_attn = AttnBlock(ch)
            self.up1 = ResBlock(2 * ch, ch, tdim)                              # cat with down1's output
            self.out = nn.Sequential(nn.GroupNorm(4, ch), nn.SiLU(), nn.Conv2d(ch, CH, 3, padding=1))

        def forward(self, x, t):
            temb = self.time_mlp(t)
            h0 = self.inc(x)
            h1 = self.down1(h0, temb)
            h = self.mid_attn(self.mid(self.pool1(h1), temb))
            h = F.interpolate(h, scale_factor=2, mode="nearest")            # 4 -> 8
            h = self.up1(torch.cat([h, h1], dim=1), temb)
            return self.out(h)

    class DDPM(nn.Module):
        def __init__(self, timesteps=T):
            super().__init__()
            self.timesteps = timesteps
            self.net = UNet()
            # computed in float64 as the reference implementations do, stored as float32
            betas = torch.linspace(1e-4, 0.2, timesteps, dtype=torch.float64)
            alphas = 1.0 - betas
            alphas_cumprod = torch.cumprod(alphas, dim=0)
            alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
            posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)

            def reg(name, val):
                self.register_buffer(name, val.to(torch.float32))

            reg("betas", betas)
            reg("alphas_cumprod", alphas_cumprod)
            reg("alphas_cumprod_prev", alphas_cumprod_prev)
            reg("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
            reg("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod))
            reg("sqrt_recip_alphas", torch.sqrt(1.0 / alphas))
            reg("posterior_log_variance_clipped",
                torch.log(torch.cat([posterior_variance[1:2], posterior_variance[1:]])))

        @staticmethod
        def extract(a, t):
            return a.gather(-1, t).view(-1, 1, 1, 1)

        def q_sample(self, x0, t, noise):
            return (self.extract(self.sqrt_alphas_cumprod, t) * x0
                    + self.extract(self.sqrt_one_minus_alphas_cumprod, t) * noise)

        def loss(self, x0, t, noise):
            xt = self.q_sample(x0, t, noise)
            return F.mse_loss(self.net(xt, t), noise)

        @torch.no_grad()
        def p_sample(self, x, t_index, noise):
            b = x.shape[0]
            t = torch.full((b,), t_index, dtype=torch.long, device=x.device)
            beta = self.extract(self.betas, t)
            coef = beta / self.extract(self.sqrt_one_minus_alphas_cumprod, t)
            mean = self.extract(self.sqrt_recip_alphas, t) * (x - coef * self.net(x, t))
            log_var = self.extract(self.posterior_log_variance_clipped, t)
            nonzero_mask = (1 - (t == 0).float()).view(b, *((1,) * (len(x.shape) - 1)))
            return mean + nonzero_mask * (0.5 * log_var).exp() * noise

    model = DDPM()
    ema = copy.deepcopy(model)
    ema.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 2))
    ema_decay = 0.9

    def train_step(x0, t, noise):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(x0, t, noise)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters()):
                e.data.mul_(ema_decay).add_(p.data, alpha=1 - ema_decay)
        return loss.detach(), gnorm

    def sample(x, noises, net=None):
        net = model if net is None else net
        net.eval()
        with torch.no_grad():
            for i, t_index in enumerate(reversed(range(len(noises)))):
                x = net.p_sample(x, t_index, noises[i])
                x.clamp_(-1.0, 1.0)
        return x

    return model, optimizer, train_step, sample, ema, scheduler


# =============================================================================================
# helpers
# =============================================================================================
@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def _m(a):
    return mt.from_numpy(np.ascontiguousarray(a))


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.detach().numpy())


def _assert_state(mt_module, torch_module, rtol=1e-4, atol=1e-5):
    t_sd, m_sd = torch_module.state_dict(), mt_module.state_dict()
    assert list(m_sd) == list(t_sd)
    for k, v in t_sd.items():
        assert str(m_sd[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1], k
        np.testing.assert_allclose(_np(m_sd[k]), _np(v), rtol=rtol, atol=atol, err_msg=k)


def _pair():
    torch.manual_seed(0)
    t = build(torch)
    m = build(mt)
    copy_state(m[0], t[0])
    copy_state(m[4], t[4])
    return t, m


def _data(steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:IMG, 0:IMG]
    out = []
    for _ in range(steps):
        c = rng.uniform(2, IMG - 2, (BATCH, 2))
        d = np.sqrt((yy[None] - c[:, 0, None, None]) ** 2 + (xx[None] - c[:, 1, None, None]) ** 2)
        x0 = (2.0 / (1.0 + np.exp(d - 2.0)) - 1.0)[:, None].astype(np.float32)
        t = rng.integers(0, T, BATCH).astype(np.int64)
        noise = rng.standard_normal((BATCH, CH, IMG, IMG)).astype(np.float32)
        out.append((x0, t, noise))
    return out


def _sample_noise(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, CH, IMG, IMG)).astype(np.float32)
    return x, [rng.standard_normal((BATCH, CH, IMG, IMG)).astype(np.float32) for _ in range(SAMPLE_STEPS)]


# =============================================================================================
# tests
# =============================================================================================
def test_schedule_buffers_match_torch():
    (t_model, *_), (m_model, *_) = _pair()
    # the buffers are computed by each library (copy_state overwrote them: rebuild to compare)
    fresh = build(mt)[0]
    t_bufs = dict(t_model.named_buffers())
    m_bufs = dict(fresh.named_buffers())
    assert list(m_bufs) == list(t_bufs)
    for k, v in t_bufs.items():
        assert m_bufs[k].dtype == mt.float32, k
        np.testing.assert_allclose(_np(m_bufs[k]), _np(v), rtol=1e-6, atol=1e-7, err_msg=k)
    t = np.array([0, 5, T - 1], np.int64)
    np.testing.assert_allclose(_np(fresh.extract(fresh.sqrt_alphas_cumprod, _m(t))),
                               _np(t_model.extract(t_model.sqrt_alphas_cumprod, _t(t))), rtol=1e-6)
    assert tuple(fresh.extract(fresh.betas, _m(t)).shape) == (3, 1, 1, 1)
    emb_t = t_model.net.time_mlp[0](_t(t))
    emb_m = fresh.net.time_mlp[0](_m(t))
    np.testing.assert_allclose(_np(emb_m), _np(emb_t), rtol=1e-5, atol=1e-6)


def test_training_and_sampling_match_torch(tmp_path):
    (t_model, t_opt, t_step, t_sample, t_ema, t_sched), m_prog = _pair()
    m_model, m_opt, m_step, m_sample, m_ema, m_sched = m_prog
    for i, (x0, t, noise) in enumerate(_data()):
        tl, tg = t_step(_t(x0), _t(t), _t(noise))
        ml, mg = m_step(_m(x0), _m(t), _m(noise))
        t_sched.step()
        m_sched.step()
        np.testing.assert_allclose([ml.item(), mg.item()], [tl.item(), tg.item()], rtol=1e-4, atol=1e-6,
                                   err_msg=f"step {i}")
    _assert_state(m_model, t_model)
    _assert_state(m_ema, t_ema)
    assert m_opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
    assert all(not p.requires_grad for p in m_ema.parameters())
    ts, ms = t_opt.state_dict()["state"], m_opt.state_dict()["state"]
    assert sorted(ts) == sorted(ms)
    for k in ts:
        np.testing.assert_allclose(_np(ms[k]["exp_avg"]), _np(ts[k]["exp_avg"]), rtol=1e-4, atol=1e-7)

    x, noises = _sample_noise()
    ts_ = t_sample(_t(x), [_t(n) for n in noises])
    ms_ = m_sample(_m(x), [_m(n) for n in noises])
    assert not ms_.requires_grad and not m_model.training
    np.testing.assert_allclose(_np(ms_), _np(ts_), rtol=1e-4, atol=1e-5)
    te_ = t_sample(_t(x), [_t(n) for n in noises], t_ema)
    me_ = m_sample(_m(x), [_m(n) for n in noises], m_ema)
    np.testing.assert_allclose(_np(me_), _np(te_), rtol=1e-4, atol=1e-5)

    # checkpoint round trip, and the mt file read by torch
    path = tmp_path / "ddpm.pt"
    mt.save({"model": m_model.state_dict(), "opt": m_opt.state_dict()}, path)
    f_model, f_opt, _, f_sample, *_ = build(mt)
    ck = mt.load(path)
    f_model.load_state_dict(ck["model"])
    f_opt.load_state_dict(ck["opt"])
    np.testing.assert_array_equal(_np(f_sample(_m(x), [_m(n) for n in noises])), _np(ms_))
    t_fresh, _, _, tf_sample, *_ = build(torch)
    t_fresh.load_state_dict(torch.load(path, weights_only=True)["model"])
    np.testing.assert_allclose(_np(tf_sample(_t(x), [_t(n) for n in noises])), _np(ms_), rtol=1e-4,
                               atol=1e-5)


def test_jit_step_matches_eager():
    (t_model, *_, t_ema, _), (m_model, _, m_step, _, m_ema, m_sched) = _pair()
    j_model, j_opt, j_step, _, j_ema, j_sched = build(mt)
    copy_state(j_model, t_model)
    copy_state(j_ema, t_ema)
    step = mt.jit(j_step)
    for i, (x0, t, noise) in enumerate(_data(JIT_STEPS, seed=3)):
        le = [v.item() for v in m_step(_m(x0), _m(t), _m(noise))]
        lj = [v.item() for v in step(_m(x0), _m(t), _m(noise))]
        m_sched.step()
        j_sched.step()      # a new lr reaches the compiled step without recompiling
        np.testing.assert_allclose(lj, le, rtol=1e-5, atol=1e-6, err_msg=f"step {i}")
    assert step.num_compiles == 1, step.explain()
    _assert_state(j_model, m_model, rtol=1e-5, atol=1e-6)
    _assert_state(j_ema, m_ema, rtol=1e-5, atol=1e-6)
    assert j_opt.param_groups[0]["lr"] == pytest.approx(2e-3)
    assert m_sched.last_epoch == j_sched.last_epoch == JIT_STEPS


def test_bad_inputs():
    t_model, m_model = build(torch)[0], build(mt)[0]
    # float timesteps into gather: index must be int64
    tf = np.array([1.0, 2.0], np.float32)
    with pytest.raises(RuntimeError) as te:
        t_model.extract(t_model.betas, _t(tf))
    with pytest.raises(RuntimeError) as me:
        m_model.extract(m_model.betas, _m(tf))
    assert str(te.value) in str(me.value), (str(me.value), str(te.value))
    # timestep out of range of the schedule
    tb = np.array([1, T], np.int64)
    with pytest.raises(RuntimeError) as te:
        t_model.extract(t_model.betas, _t(tb))
    with pytest.raises(RuntimeError) as me:
        m_model.extract(m_model.betas, _m(tb))
    assert "gather" in str(me.value) and str(te.value) in str(me.value), (str(me.value), str(te.value))
    # 3-channel images into the 1-channel U-Net
    x3 = np.zeros((2, 3, IMG, IMG), np.float32)
    t = np.array([1, 2], np.int64)
    with pytest.raises(RuntimeError) as te:
        t_model.net(_t(x3), _t(t))
    with pytest.raises(RuntimeError) as me:
        m_model.net(_m(x3), _m(t))
    assert "[2, 3, 8, 8]" in str(me.value) and "1 channels" in str(me.value), str(me.value)
    # GroupNorm: channels not divisible by groups
    with pytest.raises(ValueError) as te:
        torch.nn.GroupNorm(3, 8)
    with pytest.raises(ValueError) as me:
        mt.nn.GroupNorm(3, 8)
    assert str(me.value) == str(te.value)


# =============================================================================================
# regression tests for library fixes found by this program
# =============================================================================================
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_loss_size_warning_on_every_call(name):
    """The classic DDPM slip: a (B, 1, H, W) prediction against a (B, H, W) noise target. torch warns
    from Python on every call; mt's warning came from the op's kernel, which is traced once per shape and
    cached, so a second call (another call site, or ``simplefilter('always')``) was silent."""
    import warnings

    pred = np.zeros((BATCH, CH, IMG, IMG), np.float32)
    target = np.ones((BATCH, IMG, IMG), np.float32)
    counts, values = {}, {}
    for lib, conv in ((torch, _t), (mt, _m)):
        fn = getattr(lib.nn.functional, name)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = [fn(conv(pred), conv(target)).item() for _ in range(3)]
        hits = [x for x in w if "Using a target size" in str(x.message)]
        counts[lib.__name__] = len(hits)
        values[lib.__name__] = out
        assert all(x.category is UserWarning and x.filename == __file__ for x in hits), \
            [(x.category, x.filename) for x in hits]
    assert counts["minitorch_jax"] == counts["torch"] == 3, counts
    np.testing.assert_allclose(values["minitorch_jax"], values["torch"], rtol=1e-6)
