"""Same-source program parity: generative models.

(a) a convolutional VAE: Conv2d encoder, ConvTranspose2d decoder, the reparameterisation trick with
    the noise fed from numpy, ``F.binary_cross_entropy(reduction='sum')`` plus the KL term;
(b) a DCGAN: Generator (ConvTranspose2d + BatchNorm2d + ReLU + Tanh), Discriminator (Conv2d +
    LeakyReLU(0.2) + BatchNorm2d), ``BCEWithLogitsLoss``, two Adam optimizers with betas=(0.5, 0.999),
    ``fake.detach()`` for the D step, ``requires_grad_(False)`` on D during the G step.

The program is written ONCE (``build_vae(torch)``, ``build_gan(torch)``) and run by real PyTorch and
by minitorch_jax; the test compares every step's losses, the final parameters and buffers, evaluation
outputs, the compiled (``mt.jit``) step and checkpoints.
"""

from __future__ import annotations

import logging
import re

import jax
import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import torch

IMG = 16          # VAE: 1 x 16 x 16 images
GIMG = 8          # GAN: 1 x 8 x 8 images
LATENT = 4        # VAE latent size
NZ = 8            # GAN noise size
BATCH = 6
STEPS = 2         # steps compared with torch (the GAN's resumed step is a third, with fused backward)
JIT_STEPS = 3     # eager warm-up, compile, one more call that must not recompile


# =============================================================================================
# (a) the VAE program
# =============================================================================================
def build_vae(torch):
    """A small convolutional VAE and its training / evaluation functions, for either library."""
    nn, F = torch.nn, torch.nn.functional

    class ConvVAE(nn.Module):
        def __init__(self, latent=LATENT, ch=8):
            super().__init__()
            self.latent = latent
            self.encoder = nn.Sequential(
                nn.Conv2d(1, ch, 4, stride=2, padding=1),            # 16 -> 8
                nn.ReLU(inplace=True),
                nn.Conv2d(ch, 2 * ch, 4, stride=2, padding=1),       # 8 -> 4
                nn.ReLU(inplace=True),
                nn.Flatten(),
            )
            self.fc_mu = nn.Linear(2 * ch * 4 * 4, latent)
            self.fc_logvar = nn.Linear(2 * ch * 4 * 4, latent)
            self.fc_dec = nn.Linear(latent, 2 * ch * 4 * 4)
            self.decoder = nn.Sequential(
                nn.ConvTranspose2d(2 * ch, ch, 4, stride=2, padding=1),   # 4 -> 8
                nn.ReLU(inplace=True),
                nn.ConvTranspose2d(ch, 1, 4, stride=2, padding=1),        # 8 -> 16
                nn.Sigmoid(),
            )
            self.ch = ch

        def encode(self, x):
            h = self.encoder(x)
            return self.fc_mu(h), self.fc_logvar(h)

        def reparameterize(self, mu, logvar, eps):
            std = torch.exp(0.5 * logvar)
            return mu + eps * std

        def decode(self, z):
            h = F.relu(self.fc_dec(z))
            h = h.view(-1, 2 * self.ch, 4, 4)
            return self.decoder(h)

        def forward(self, x, eps=None):
            mu, logvar = self.encode(x)
            z = self.reparameterize(mu, logvar, eps) if eps is not None else mu
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        bce = F.binary_cross_entropy(recon_x, x.view(-1, 1, IMG, IMG), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce + kld, bce, kld

    model = ConvVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def train_step(x, eps):
        model.train()
        optimizer.zero_grad()
        recon, mu, logvar = model(x, eps)
        loss, bce, kld = loss_function(recon, x, mu, logvar)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=50.0)
        optimizer.step()
        return loss.detach() / x.size(0), bce.detach(), kld.detach()

    def evaluate(x, z):
        model.eval()
        with torch.no_grad():
            recon, mu, logvar = model(x)
            loss, _, _ = loss_function(recon, x, mu, logvar)
            samples = model.decode(z)
        return loss, recon, samples

    return model, optimizer, train_step, evaluate


# =============================================================================================
# (b) the DCGAN program
# =============================================================================================
def build_gan(torch):
    """A small DCGAN (generator, discriminator, two Adams) and its training step, for either library."""
    nn = torch.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self, nz=NZ, ngf=8):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),        # 1 -> 4
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False),         # 4 -> 8
                nn.Tanh(),
            )

        def forward(self, z):
            return self.main(z)

    class Discriminator(nn.Module):
        def __init__(self, ndf=8):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(1, ndf, 4, 2, 1, bias=False),                      # 8 -> 4
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),                # 4 -> 2
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, 1, 2, 1, 0, bias=False),                  # 2 -> 1
            )

        def forward(self, x):
            return self.main(x).view(-1, 1).squeeze(1)

    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0

    def train_step(real, noise):
        netG.train()
        netD.train()
        b = real.size(0)
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((b,), real_label, dtype=torch.float, device=real.device)
        output = netD(real)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = torch.sigmoid(output).mean()
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = torch.sigmoid(output).mean()
        errD = errD_real + errD_fake
        optD.step()
        # (2) update G: maximize log(D(G(z))); D's parameters are frozen meanwhile
        for p in netD.parameters():
            p.requires_grad_(False)
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = torch.sigmoid(output).mean()
        optG.step()
        for p in netD.parameters():
            p.requires_grad_(True)
        return torch.stack([errD.detach(), errG.detach(), D_x.detach(), D_G_z1.detach(), D_G_z2.detach()])

    def generate(noise):
        netG.eval()
        with torch.no_grad():
            return netG(noise)

    return netG, netD, optD, optG, train_step, generate


# =============================================================================================
# helpers
# =============================================================================================
@pytest.fixture(autouse=True, scope="module")
def _torch_one_thread():
    """The oracle's tiny convolutions run ~40x slower with torch's intra-op threads on a busy 2-core
    box; use one thread here and give the setting back afterwards."""
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


def _images(rng, n, signed=False, size=IMG):
    """Blobby images in [0, 1] (or [-1, 1] when ``signed``)."""
    yy, xx = np.mgrid[0:size, 0:size]
    c = rng.uniform(size / 4, size * 3 / 4, (n, 2))
    r = rng.uniform(size / 8, size / 3, (n, 1, 1))
    d = np.sqrt((yy[None] - c[:, 0, None, None]) ** 2 + (xx[None] - c[:, 1, None, None]) ** 2)
    img = 1.0 / (1.0 + np.exp(2.0 * (d - r)))
    img = img[:, None].astype(np.float32)
    return img * 2 - 1 if signed else img


def _plain_sizes(msg):
    """torch's message with ``torch.Size([..])`` written as ``[..]``, as mt's messages write sizes."""
    return re.sub(r"torch\.Size\((\[[^\]]*\])\)", r"\1", msg)


def _assert_params(mt_module, torch_module, rtol=1e-4, atol=1e-5):
    t_sd = torch_module.state_dict()
    m_sd = mt_module.state_dict()
    assert list(m_sd) == list(t_sd)
    for k, v in t_sd.items():
        np.testing.assert_allclose(_np(m_sd[k]), _np(v), rtol=rtol, atol=atol, err_msg=k)


def _vae_pair():
    torch.manual_seed(0)
    t = build_vae(torch)
    m = build_vae(mt)
    copy_state(m[0], t[0])
    return t, m


def _gan_pair():
    torch.manual_seed(0)
    t = build_gan(torch)
    m = build_gan(mt)
    copy_state(m[0], t[0])
    copy_state(m[1], t[1])
    return t, m


def _vae_data(steps=STEPS):
    rng = np.random.default_rng(0)
    xs = [_images(rng, BATCH) for _ in range(steps)]
    eps = [rng.standard_normal((BATCH, LATENT)).astype(np.float32) for _ in range(steps)]
    return xs, eps, _images(rng, BATCH), rng.standard_normal((BATCH, LATENT)).astype(np.float32)


def _gan_data(steps=STEPS):
    rng = np.random.default_rng(1)
    reals = [_images(rng, BATCH, signed=True, size=GIMG) for _ in range(steps)]
    noise = [rng.standard_normal((BATCH, NZ, 1, 1)).astype(np.float32) for _ in range(steps)]
    return reals, noise, rng.standard_normal((BATCH, NZ, 1, 1)).astype(np.float32)


# =============================================================================================
# the VAE
# =============================================================================================
def test_vae_training_matches_torch(tmp_path):
    (t_model, t_opt, t_step, t_eval), (m_model, m_opt, m_step, m_eval) = _vae_pair()
    xs, eps, x_eval, z_eval = _vae_data()
    for i in range(STEPS):
        tl = [v.item() for v in t_step(_t(xs[i]), _t(eps[i]))]
        ml = [v.item() for v in m_step(_m(xs[i]), _m(eps[i]))]
        np.testing.assert_allclose(ml, tl, rtol=1e-4, atol=1e-5, err_msg=f"step {i}")
    _assert_params(m_model, t_model)
    # evaluation: loss with z = mu, reconstructions, samples from the prior
    t_loss, t_rec, t_smp = t_eval(_t(x_eval), _t(z_eval))
    m_loss, m_rec, m_smp = m_eval(_m(x_eval), _m(z_eval))
    assert not m_rec.requires_grad and not m_model.training
    np.testing.assert_allclose(m_loss.item(), t_loss.item(), rtol=1e-4)
    np.testing.assert_allclose(_np(m_rec), _np(t_rec), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(m_smp), _np(t_smp), rtol=1e-4, atol=1e-5)
    # optimizer state after training
    ts, ms = t_opt.state_dict()["state"], m_opt.state_dict()["state"]
    assert sorted(ts) == sorted(ms)
    for k in ts:
        np.testing.assert_allclose(_np(ms[k]["exp_avg_sq"]), _np(ts[k]["exp_avg_sq"]), rtol=1e-4, atol=1e-9)

    # checkpoint round trip: mt.save -> fresh mt model; and the same file read by real torch
    path = tmp_path / "vae.pt"
    mt.save({"model": m_model.state_dict(), "opt": m_opt.state_dict()}, path)
    fresh, fresh_opt, _, fresh_eval = build_vae(mt)
    ck = mt.load(path)
    fresh.load_state_dict(ck["model"])
    fresh_opt.load_state_dict(ck["opt"])
    f_loss, f_rec, f_smp = fresh_eval(_m(x_eval), _m(z_eval))
    np.testing.assert_array_equal(_np(f_rec), _np(m_rec))
    np.testing.assert_array_equal(_np(f_smp), _np(m_smp))
    t_fresh, _, _, t_fresh_eval = build_vae(torch)
    t_fresh.load_state_dict(torch.load(path, weights_only=True)["model"])
    _, tf_rec, _ = t_fresh_eval(_t(x_eval), _t(z_eval))
    np.testing.assert_allclose(_np(tf_rec), _np(m_rec), rtol=1e-4, atol=1e-5)
    # and the other way round: torch's checkpoint into mt
    tpath = tmp_path / "vae_torch.pt"
    torch.save(t_model.state_dict(), tpath)
    fresh.load_state_dict(mt.load(tpath))
    _, g_rec, _ = fresh_eval(_m(x_eval), _m(z_eval))
    np.testing.assert_allclose(_np(g_rec), _np(t_rec), rtol=1e-4, atol=1e-5)


def test_vae_jit_step_matches_eager():
    (t_model, *_), (m_model, m_opt, m_step, _) = _vae_pair()
    j_model, j_opt, j_step, _ = build_vae(mt)
    copy_state(j_model, t_model)
    step = mt.jit(j_step)
    xs, eps, _, _ = _vae_data(JIT_STEPS)
    for i in range(JIT_STEPS):
        le = [v.item() for v in m_step(_m(xs[i]), _m(eps[i]))]
        lj = [v.item() for v in step(_m(xs[i]), _m(eps[i]))]
        np.testing.assert_allclose(lj, le, rtol=1e-5, atol=1e-5, err_msg=f"step {i}")
    assert step.num_compiles == 1, step.explain()
    _assert_params(j_model, m_model, rtol=1e-5, atol=1e-6)


def test_vae_bad_inputs():
    t_model, m_model = build_vae(torch)[0], build_vae(mt)[0]
    # 3-channel images into a 1-channel encoder
    x = np.zeros((2, 3, IMG, IMG), np.float32)
    with pytest.raises(RuntimeError) as te:
        t_model(_t(x))
    with pytest.raises(RuntimeError) as me:
        m_model(_m(x))
    assert "expected input[2, 3, 16, 16] to have 1 channels" in str(te.value)
    # mt's wording differs (it names the layer) but carries the same values
    msg = str(me.value)
    assert "Conv2d(1, 8" in msg and "1 channels" in msg and "[2, 3, 16, 16]" in msg, msg
    # float64 images straight from numpy into a float32 model
    x64 = np.random.default_rng(0).random((2, 1, IMG, IMG))
    with pytest.raises(RuntimeError):
        t_model(_t(x64))
    with pytest.raises(RuntimeError) as me:
        m_model(_m(x64))
    msg = str(me.value)
    assert "conv2d" in msg and "Double" in msg and "float64" in msg and "float32" in msg, msg
    # BCE with a target of another shape: ValueError in torch, naming both sizes
    F_t, F_m = torch.nn.functional, mt.nn.functional
    p = np.full((4, 1, 4, 4), 0.5, np.float32)
    y = np.zeros((4, 16), np.float32)
    with pytest.raises(ValueError) as te:
        F_t.binary_cross_entropy(_t(p), _t(y), reduction="sum")
    with pytest.raises(ValueError) as me:
        F_m.binary_cross_entropy(_m(p), _m(y), reduction="sum")
    assert str(me.value) == "binary_cross_entropy: " + _plain_sizes(str(te.value))
    # integer targets
    yl = np.ones((4, 1, 4, 4), np.int64)
    with pytest.raises(RuntimeError) as te:
        F_t.binary_cross_entropy(_t(p), _t(yl))
    with pytest.raises(RuntimeError) as me:
        F_m.binary_cross_entropy(_m(p), _m(yl))
    assert str(me.value) == "binary_cross_entropy: " + str(te.value)


# =============================================================================================
# the GAN
# =============================================================================================
def test_gan_training_matches_torch(tmp_path):
    (tG, tD, tOD, tOG, t_step, t_gen), (mG, mD, mOD, mOG, m_step, m_gen) = _gan_pair()
    reals, noise, fixed = _gan_data()
    for i in range(STEPS):
        tl = _np(t_step(_t(reals[i]), _t(noise[i])))
        ml = _np(m_step(_m(reals[i]), _m(noise[i])))
        np.testing.assert_allclose(ml, tl, rtol=1e-4, atol=1e-5, err_msg=f"step {i}")
        # D is trainable again after the G step, and its grads were left from the D step only
        assert all(p.requires_grad for p in mD.parameters())
        for (n, pm), pt in zip(mD.named_parameters(), tD.parameters()):
            np.testing.assert_allclose(_np(pm.grad), _np(pt.grad), rtol=1e-4, atol=1e-6, err_msg=n)
    _assert_params(mG, tG)
    _assert_params(mD, tD)          # includes BatchNorm running stats and num_batches_tracked
    assert mD.main[3].num_batches_tracked.item() == 3 * STEPS    # D ran 3 times a step
    np.testing.assert_allclose(_np(m_gen(_m(fixed))), _np(t_gen(_t(fixed))), rtol=1e-4, atol=1e-5)
    assert not mG.training

    # checkpoint: both nets and both optimizers in one file, resumed training matches torch
    path = tmp_path / "gan.pt"
    mt.save({"G": mG.state_dict(), "D": mD.state_dict(), "optG": mOG.state_dict(),
             "optD": mOD.state_dict()}, path)
    fG, fD, fOD, fOG, f_step, f_gen = build_gan(mt)
    ck = mt.load(path)
    fG.load_state_dict(ck["G"])
    fD.load_state_dict(ck["D"])
    fOG.load_state_dict(ck["optG"])
    fOD.load_state_dict(ck["optD"])
    np.testing.assert_array_equal(_np(f_gen(_m(fixed))), _np(m_gen(_m(fixed))))
    tl = _np(t_step(_t(reals[0]), _t(noise[0])))
    fl = _np(f_step(_m(reals[0]), _m(noise[0])))
    np.testing.assert_allclose(fl, tl, rtol=1e-4, atol=1e-5)
    # torch reads the mt checkpoint
    tck = torch.load(path, weights_only=True)
    assert tck["optD"]["param_groups"][0]["betas"] == (0.5, 0.999) or \
        list(tck["optD"]["param_groups"][0]["betas"]) == [0.5, 0.999]
    tG2 = build_gan(torch)[0]
    tG2.load_state_dict(tck["G"])
    tG2.eval()
    with torch.no_grad():
        np.testing.assert_allclose(_np(tG2(_t(fixed))), _np(m_gen(_m(fixed))), rtol=1e-4, atol=1e-5)


def test_gan_jit_step_matches_eager():
    (tG, tD, *_), (mG, mD, _, _, m_step, _) = _gan_pair()
    jG, jD, _, _, j_step, _ = build_gan(mt)
    copy_state(jG, tG)
    copy_state(jD, tD)
    step = mt.jit(j_step)
    reals, noise, _ = _gan_data(JIT_STEPS)
    for i in range(JIT_STEPS):
        le = _np(m_step(_m(reals[i]), _m(noise[i])))
        lj = _np(step(_m(reals[i]), _m(noise[i])))
        np.testing.assert_allclose(lj, le, rtol=1e-5, atol=1e-5, err_msg=f"step {i}")
        assert all(p.requires_grad for p in jD.parameters())
    assert step.num_compiles == 1, step.explain()
    _assert_params(jG, mG, rtol=1e-5, atol=1e-6)
    _assert_params(jD, mD, rtol=1e-5, atol=1e-6)
    for (n, pj), pm in zip(jD.named_parameters(), mD.parameters()):
        np.testing.assert_allclose(_np(pj.grad), _np(pm.grad), rtol=1e-5, atol=1e-6, err_msg=n)


def test_gan_bad_inputs():
    tG, tD = build_gan(torch)[:2]
    mG, mD = build_gan(mt)[:2]
    # noise given as a flat (B, nz) matrix instead of (B, nz, 1, 1): ConvTranspose2d accepts 3-D
    # (unbatched) input, so the shapes go wrong later; a wrong channel count fails at once
    z = np.zeros((2, NZ + 1, 1, 1), np.float32)
    with pytest.raises(RuntimeError) as te:
        tG(_t(z))
    with pytest.raises(RuntimeError) as me:
        mG(_m(z))
    msg = str(me.value)
    assert "expected input[2, 9, 1, 1] to have 8 channels" in str(te.value)
    assert "ConvTranspose2d(8, 16" in msg and "8 channels" in msg and "[2, 9, 1, 1]" in msg, msg
    # BCEWithLogitsLoss with a (B, 1) target for a (B,) output
    crit_t, crit_m = torch.nn.BCEWithLogitsLoss(), mt.nn.BCEWithLogitsLoss()
    o = np.zeros((5,), np.float32)
    y = np.ones((5, 1), np.float32)
    with pytest.raises(ValueError) as te:
        crit_t(_t(o), _t(y))
    with pytest.raises(ValueError) as me:
        crit_m(_m(o), _m(y))
    assert str(me.value) == "binary_cross_entropy_with_logits: " + str(te.value)
    # integer (Long) labels: torch refuses to mix result types in the loss
    yl = np.ones((5,), np.int64)
    with pytest.raises(RuntimeError) as te:
        crit_t(_t(o), _t(yl))
    with pytest.raises(RuntimeError) as me:
        crit_m(_m(o), _m(yl))
    assert str(te.value) in str(me.value) and "binary_cross_entropy_with_logits" in str(me.value)
    # a batch of one through the discriminator in training mode: BatchNorm cannot normalise
    # (4x4 images leave a 1x1 map at the BatchNorm)
    x1 = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError) as te:
        tD(_t(x1))
    with pytest.raises(ValueError) as me:
        mD(_m(x1))
    assert str(me.value) == str(te.value)


# =============================================================================================
# regression tests for library fixes found by these programs
# =============================================================================================
def test_adam_first_step_uses_the_steady_state_compiled_update(caplog):
    """The first ``Adam.step`` creates the state with a small init program and then runs the same
    compiled update as every later step (it used to compile a second, state-creating variant of the
    whole group update: ~0.5 s more on the first two steps of every training loop)."""
    w = mt.nn.Parameter(mt.ones(3, 7, 5))
    b = mt.nn.Parameter(mt.zeros(7, 5))
    opt = mt.optim.Adam([w, b], lr=0.1, betas=(0.5, 0.999))
    prev = jax.config.jax_log_compiles
    jax.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level(logging.WARNING, logger="jax"):
            for _ in range(3):
                opt.zero_grad()
                ((w * 2).sum() + (b ** 2).sum()).backward()
                opt.step()
    finally:
        jax.config.update("jax_log_compiles", prev)
    compiles = [r.getMessage() for r in caplog.records if "Compiling jit(adam_group_step)" in r.getMessage()]
    assert len(compiles) == 1, compiles
    tw = torch.nn.Parameter(torch.ones(3, 7, 5))
    tb = torch.nn.Parameter(torch.zeros(7, 5))
    topt = torch.optim.Adam([tw, tb], lr=0.1, betas=(0.5, 0.999))
    for _ in range(3):
        topt.zero_grad()
        ((tw * 2).sum() + (tb ** 2).sum()).backward()
        topt.step()
    np.testing.assert_allclose(_np(w), _np(tw), rtol=1e-6)
    assert opt.state[w]["step"].item() == 3 and set(opt.state[w]) == set(topt.state[tw])
