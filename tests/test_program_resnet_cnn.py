"""Same-source program parity: a small ResNet image classifier trained with mixup, label smoothing,
Nesterov SGD with weight decay and a OneCycleLR / MultiStepLR schedule, written once against the
torch API and run by real PyTorch and by minitorch_jax."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import copy_state
from .oracle import torch

N_CLASSES, BATCH, SIDE, STEPS = 10, 8, 12, 4


# ----- the program: ordinary PyTorch code, `torch` is either library ----------------------------
def build(torch, schedule="onecycle", total_steps=STEPS):
    """A small ResNet, its optimizer/scheduler, a mixup train step, an evaluation function."""
    nn, F = torch.nn, torch.nn.functional

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or in_planes != planes * self.expansion:
                self.downsample = nn.Sequential(
                    nn.Conv2d(in_planes, planes * self.expansion, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * self.expansion),
                )

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, block, layers, widths=(8, 16), stem_width=8, num_classes=N_CLASSES):
            super().__init__()
            self.in_planes = stem_width
            self.stem = nn.Sequential(
                nn.Conv2d(3, stem_width, kernel_size=3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(stem_width),
                nn.ReLU(inplace=True),
            )
            stages = []
            for w, n in zip(widths, layers):  # a stage that widens also halves the resolution
                stages.append(self._make_layer(block, w, n, stride=1 if w == self.in_planes else 2))
            self.layers = nn.ModuleList(stages)
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)

        def _make_layer(self, block, planes, blocks, stride):
            strides = [stride] + [1] * (blocks - 1)
            mods = []
            for s in strides:
                mods.append(block(self.in_planes, planes, s))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*mods)

        def forward(self, x):
            x = self.stem(x)
            for layer in self.layers:
                x = layer(x)
            return self.fc(self.flatten(self.pool(x)))

    def init_weights(m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)

    model = ResNet(BasicBlock, [1], widths=(16,), stem_width=8)
    model.apply(init_weights)
    for m in model.modules():  # zero-init the last BN of each residual branch
        if isinstance(m, BasicBlock):
            nn.init.zeros_(m.bn2.weight)
    if hasattr(torch, "channels_last"):
        model = model.to(memory_format=torch.channels_last)

    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    if schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=total_steps, pct_start=0.5)
    else:
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.1)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    def mixup(x, y, lam, perm):
        index = torch.as_tensor(perm, dtype=torch.long)
        mixed = lam * x + (1 - lam) * x[index, :]
        return mixed, y, y[index]

    def train_step(x, y, lam, perm):
        model.train()
        x = x.to(memory_format=torch.channels_last)
        inputs, y_a, y_b = mixup(x, y, lam, perm)
        opt.zero_grad(set_to_none=True)
        out = model(inputs)
        loss = lam * criterion(out, y_a) + (1 - lam) * F.cross_entropy(out, y_b, label_smoothing=0.1)
        loss.backward()
        opt.step()
        return loss.detach()

    def train_epoch(batches, perm, step_fn=train_step):
        """One pass over ``(x, y, lam)`` batches; the schedule steps once per batch (OneCycleLR style)."""
        losses, lrs = [], []
        for x, y, lam in batches:
            losses.append(step_fn(x, y, lam, perm))
            lrs.append(opt.param_groups[0]["lr"])
            sched.step()
        return losses, lrs

    def accuracy(output, target, topk=(1,)):
        with torch.no_grad():
            maxk = max(topk)
            batch_size = target.size(0)
            _, pred = output.topk(maxk, 1, True, True)
            pred = pred.t()
            correct = pred.eq(target.view(1, -1).expand_as(pred))
            res = []
            for k in topk:
                correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
                res.append(correct_k.mul_(100.0 / batch_size))
            return res

    def evaluate(x, y):
        model.eval()
        with torch.no_grad():
            logits = model(x)
            acc = logits.argmax(dim=1).eq(y).float().mean()
            top1, top3 = accuracy(logits, y, topk=(1, 3))
            loss = F.cross_entropy(logits, y, reduction="sum").item() / y.numel()
        return logits, acc, top1, top3, loss

    return model, opt, sched, train_step, evaluate, train_epoch


# ----- data and helpers ---------------------------------------------------------------------------
def _data(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((steps, BATCH, 3, SIDE, SIDE)).astype(np.float32)
    ys = rng.integers(0, N_CLASSES, (steps, BATCH)).astype(np.int64)
    lams = list(rng.beta(0.4, 0.4, size=steps))                # np.float64 lambdas
    perm = rng.permutation(BATCH)                                # one fixed permutation
    return xs, ys, lams, perm


def _batches(lib, xs, ys, lams):
    return [(lib.from_numpy(x.copy()), lib.from_numpy(y.copy()), lam) for x, y, lam in zip(xs, ys, lams)]


def _run(lib, prog, xs, ys, lams, perm, step_fn=None):
    kw = {} if step_fn is None else {"step_fn": step_fn}
    losses, lrs = prog[5](_batches(lib, xs, ys, lams), perm, **kw)
    assert all(isinstance(v, lib.Tensor) and v.dtype == lib.float32 and v.ndim == 0 for v in losses)
    return [float(v) for v in losses], lrs


def _assert_state_close(m_model, t_model, rtol=1e-4, atol=1e-5):
    t_sd = t_model.state_dict()
    m_sd = m_model.state_dict()
    assert list(m_sd) == list(t_sd)
    for k, tv in t_sd.items():
        mv = m_sd[k]
        assert str(mv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], k
        np.testing.assert_allclose(mv.numpy(), tv.numpy(), rtol=rtol, atol=atol, err_msg=k)


def _pair(schedule="onecycle"):
    torch.manual_seed(0)
    t = build(torch, schedule)
    m = build(mt, schedule)
    copy_state(m[0], t[0])
    return t, m


# ----- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["onecycle", "multistep"])
def test_training_matches_torch(schedule):
    t, m = _pair(schedule)
    xs, ys, lams, perm = _data()
    t_losses, t_lrs = _run(torch, t, xs, ys, lams, perm)
    m_losses, m_lrs = _run(mt, m, xs, ys, lams, perm)
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    np.testing.assert_allclose(m_lrs, t_lrs, rtol=1e-6)
    # momentum follows OneCycleLR's cycle_momentum in both
    assert m[1].param_groups[0]["momentum"] == pytest.approx(t[1].param_groups[0]["momentum"])
    # every parameter and every BatchNorm buffer (running stats, num_batches_tracked) after training
    _assert_state_close(m[0], t[0])
    bn = m[0].layers[0][0].downsample[1]
    assert int(bn.num_batches_tracked) == STEPS and float(bn.running_var.sub(1).abs().max()) > 1e-3
    # evaluation in eval mode: logits, argmax accuracy, top-k accuracy, summed loss
    rng = np.random.default_rng(5)
    xe = rng.standard_normal((BATCH, 3, SIDE, SIDE)).astype(np.float32)
    ye = rng.integers(0, N_CLASSES, BATCH).astype(np.int64)
    t_ev = t[4](torch.from_numpy(xe), torch.from_numpy(ye))
    m_ev = m[4](mt.from_numpy(xe), mt.from_numpy(ye))
    np.testing.assert_allclose(m_ev[0].numpy(), t_ev[0].numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(m_ev[1:4], t_ev[1:4]):
        assert tuple(a.shape) == tuple(b.shape) and a.dtype == mt.float32
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert m_ev[4] == pytest.approx(t_ev[4], rel=1e-4)
    assert not m[0].training and not m_ev[0].requires_grad
    # the optimizer state (momentum buffers) matches too
    t_st, m_st = t[1].state_dict()["state"], m[1].state_dict()["state"]
    assert sorted(t_st) == sorted(m_st)
    for k in t_st:
        np.testing.assert_allclose(m_st[k]["momentum_buffer"].numpy(), t_st[k]["momentum_buffer"].numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_jit_step_matches_eager():
    """The whole train step (mixup, forward, two smoothed CE losses, backward, Nesterov SGD) compiled
    with mt.jit equals the eager mt run, with the OneCycleLR schedule stepping between calls."""
    torch.manual_seed(1)
    t_model = build(torch)[0]
    eager, jitted = build(mt), build(mt)
    copy_state(eager[0], t_model)
    copy_state(jitted[0], t_model)
    xs, ys, lams, perm = _data(1)
    lams = [mt.tensor(lam, dtype=mt.float32) for lam in lams]  # tensor lambdas: new values, no recompiling
    step = mt.jit(jitted[3])
    e_losses, e_lrs = _run(mt, eager, xs, ys, lams, perm)
    j_losses, j_lrs = _run(mt, jitted, xs, ys, lams, perm, step_fn=step)
    np.testing.assert_allclose(j_losses, e_losses, rtol=1e-5, atol=1e-6)
    assert j_lrs == e_lrs and len(set(j_lrs)) == STEPS
    assert step.num_compiles == 1, step.explain()
    _assert_state_close(jitted[0], eager[0], rtol=1e-5, atol=1e-6)
    assert jitted[1].param_groups[0]["momentum"] == eager[1].param_groups[0]["momentum"]


def test_jit_scheduler_inside_step_is_refused():
    """torch.compile replays a scheduler.step() inside the compiled step; mt.jit would run it only while
    tracing (later calls silently keeping one lr), so it refuses loudly instead of training wrongly."""
    mt.manual_seed(0)
    model = mt.nn.Linear(3, 2)
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = mt.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=6)

    @mt.jit
    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        sched.step()
        return loss.detach()

    step(mt.ones(4, 3))  # the first call runs eagerly (creates .grad and the momentum buffers)
    with pytest.raises(mt.jit.JitError, match=r"OneCycleLR.step\(\) was called inside"):
        step(mt.ones(4, 3))


def test_state_dict_round_trip(tmp_path):
    t, m = _pair()
    xs, ys, lams, perm = _data(2, steps=2)
    _run(mt, m, xs, ys, lams, perm)
    path = tmp_path / "resnet.pt"
    mt.save({"model": m[0].state_dict(), "opt": m[1].state_dict()}, path)
    fresh = build(mt)
    ck = mt.load(path)
    fresh[0].load_state_dict(ck["model"])
    fresh[1].load_state_dict(ck["opt"])
    x = mt.from_numpy(xs[0])
    a, b = m[4](x, mt.from_numpy(ys[0])), fresh[4](x, mt.from_numpy(ys[0]))
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    # torch reads the mt checkpoint (torch's format) and gives the same eval logits
    t_ck = torch.load(path, weights_only=True)
    t[0].load_state_dict(t_ck["model"])
    t[1].load_state_dict(t_ck["opt"])
    t_ev = t[4](torch.from_numpy(xs[0]), torch.from_numpy(ys[0]))
    np.testing.assert_allclose(a[0].numpy(), t_ev[0].numpy(), rtol=1e-4, atol=1e-5)
    # and mt reads a torch checkpoint
    tpath = tmp_path / "torch.pt"
    torch.save(t[0].state_dict(), tpath)
    fresh2 = build(mt)
    fresh2[0].load_state_dict(mt.load(tpath))
    np.testing.assert_allclose(fresh2[4](x, mt.from_numpy(ys[0]))[0].numpy(), a[0].numpy(), rtol=1e-6)


def _err(fn):
    with pytest.raises(Exception) as ei:
        fn()
    return ei.value


def test_bad_inputs_raise_like_torch():
    t, m = _pair()
    t[0].eval()
    m[0].eval()
    # grayscale images into an RGB stem
    x1 = np.zeros((2, 1, SIDE, SIDE), np.float32)
    te = _err(lambda: t[0](torch.from_numpy(x1)))
    me = _err(lambda: m[0](mt.from_numpy(x1)))
    assert isinstance(me, type(te)), (me, te)
    assert "3" in str(me) and "1" in str(me)
    # int32 labels (numpy's default int on some platforms) into the label-smoothed loss
    logits_np = np.zeros((4, N_CLASSES), np.float32)
    te = _err(lambda: torch.nn.functional.cross_entropy(
        torch.from_numpy(logits_np), torch.zeros(4, dtype=torch.int32), label_smoothing=0.1))
    me = _err(lambda: mt.nn.functional.cross_entropy(mt.from_numpy(logits_np), mt.zeros(4, dtype=mt.int32),
                                                     label_smoothing=0.1))
    assert isinstance(me, type(te)), (me, te)
    assert "Long" in str(me) and "Int" in str(me)
    # float64 images (numpy's default float) into float32 weights
    x64 = np.zeros((2, 3, SIDE, SIDE), np.float64)
    te = _err(lambda: t[0](torch.from_numpy(x64)))
    me = _err(lambda: m[0](mt.from_numpy(x64)))
    assert isinstance(me, type(te)), (me, te)
    assert "Double" in str(me) and "Float" in str(me)
    # a label outside [0, C): IndexError naming the label, as torch (on the CPU; see _ops/_value_checks.py)
    bad = np.array([0, 1, 2, N_CLASSES])
    te = _err(lambda: torch.nn.functional.cross_entropy(torch.from_numpy(logits_np), torch.from_numpy(bad)))
    me = _err(lambda: mt.nn.functional.cross_entropy(mt.tensor(logits_np, device="cpu"),
                                                     mt.tensor(bad, device="cpu")))
    assert isinstance(me, type(te)) and str(te) in str(me), (me, te)
    # a 3-D (unbatched) image batch of the wrong size reaches BatchNorm/Linear
    x3 = np.zeros((3, SIDE, SIDE), np.float32)
    te = _err(lambda: t[0](torch.from_numpy(x3)))
    me = _err(lambda: m[0](mt.from_numpy(x3)))
    assert isinstance(me, type(te)), (me, te)
    assert "BatchNorm2d" in str(me) and "4D" in str(me) and "3D" in str(me)


# ----- regression tests for library fixes found by this program ----------------------------------
@pytest.mark.parametrize("scalar", [np.float64(0.3), np.float32(0.3), np.int64(3), np.float16(0.5)])
def test_numpy_scalar_operands_act_as_python_numbers(scalar):
    """``lam * x`` with a numpy lambda: torch gives a float32 Tensor with autograd; mt used to hand the
    tensor to numpy (a float64 ndarray, gradient lost) or raise TypeError."""
    for lib in (torch, mt):
        x = lib.ones(2, 3, requires_grad=True)
        outs = [scalar * x, x * scalar, (1 - scalar) * x, scalar - x, scalar / x, x.mul(scalar),
                lib.add(x, scalar), scalar * x.sum()]
        for o in outs:
            assert isinstance(o, lib.Tensor) and o.dtype == lib.float32 and o.requires_grad, (lib, type(o))
        sum(o.sum() for o in outs).backward()
        if lib is torch:
            t_grad = x.grad.numpy()
        else:
            np.testing.assert_allclose(x.grad.numpy(), t_grad, rtol=1e-6)
    i32 = mt.ones(2, dtype=mt.int32)
    assert (i32 * np.float32(2.5)).dtype == mt.float32 and (np.int64(3) * i32).dtype == mt.int32
    assert (mt.ones(2, dtype=mt.float16) * np.float64(2)).dtype == mt.float16
    # numpy arrays on the left still do not mix with tensors (TypeError), as in torch
    with pytest.raises(TypeError):
        np.ones(3) * mt.ones(3)
