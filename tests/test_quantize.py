"""Fake quantization (QAT) and quantized tensors against torch: values, straight-through gradients,
qparams, int_repr, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

pytestmark = pytest.mark.filterwarnings("ignore:.*quantized tensor creation functions:UserWarning")

_rng = np.random.default_rng(7)
_S = 0.0137
# values exactly on .5 boundaries of x / scale, far outside the range, random ones, and non-finite ones
_X = np.concatenate([np.arange(-300, 300) * 0.5 * _S, _rng.normal(size=200) * 2,
                     [np.nan, np.inf, -np.inf, 0.0, -0.0]])
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _pair(x, dt, grad=True):
    tx = torch.tensor(x, dtype=getattr(torch, dt), requires_grad=grad)
    mx = mt.tensor(tx.detach().float().numpy() if dt == "bfloat16" else tx.detach().numpy(),
                   dtype=getattr(mt, dt), requires_grad=grad)
    return tx, mx


def _np(t):
    t = t.detach()
    if isinstance(t, mt.Tensor):
        return np.asarray(t.float().numpy() if t.dtype == mt.bfloat16 else t.numpy())
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


def _same(a, b):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def _same_grad(tx, mx, ty, my):
    cot = np.linspace(-1, 1, int(np.prod(ty.shape))).reshape(tuple(ty.shape))
    (ty * torch.tensor(cot, dtype=ty.dtype)).sum().backward()
    (my * mt.tensor(cot, dtype=my.dtype)).sum().backward()
    _same(tx.grad, mx.grad)


def _raises_like(torch_fn, mt_fn, exc=Exception):
    with pytest.raises(exc) as te:
        torch_fn()
    with pytest.raises(exc) as me:
        mt_fn()
    # torch's message (its first 40 characters, whitespace normalised) appears in ours
    want = " ".join(str(te.value).split())[:40]
    assert want in " ".join(str(me.value).split()), (str(te.value), str(me.value))


# ----- fake_quantize_per_tensor_affine -------------------------------------------------------------
_QPS = [(_S, 3, -128, 127), (0.1, 0, 0, 255), (0.25, -1, -8, 7), (-0.1, 2, 0, 15)]


@pytest.mark.parametrize("dt, qp", [("float32", qp) for qp in _QPS]
                         + [(dt, qp) for dt in FLOATS[1:] for qp in (_QPS[0], _QPS[2])])
def test_fake_quant_per_tensor_values_and_grads(dt, qp):
    tx, mx = _pair(_X, dt)
    ty = torch.fake_quantize_per_tensor_affine(tx, *qp)
    my = mt.fake_quantize_per_tensor_affine(mx, *qp)
    _same(ty, my)
    assert type(my.grad_fn).__name__ == type(ty.grad_fn).__name__
    _same_grad(tx, mx, ty, my)


@pytest.mark.parametrize("dt", ["float32", "float64", "bfloat16"])
def test_fake_quant_per_tensor_tensor_qparams(dt):
    tx, mx = _pair(_X[:120].reshape(40, 3), dt)
    for z in (torch.tensor(3, dtype=torch.int32), torch.tensor([2]), torch.tensor(0.6),
              torch.tensor(300, dtype=torch.int32)):
        ty = torch.fake_quantize_per_tensor_affine(tx, torch.tensor([_S]), z, -128, 127)
        my = mt.fake_quantize_per_tensor_affine(mx, mt.tensor([_S]), mt.tensor(z.numpy()), -128, 127)
        _same(ty, my)
        assert type(my.grad_fn).__name__ == type(ty.grad_fn).__name__
    tx.grad = None
    _same_grad(tx, mx, ty, my)


def test_fake_quant_per_tensor_errors():
    x, s, z = torch.ones(3), torch.tensor(0.1), torch.tensor(0, dtype=torch.int32)
    m, ms, mz = mt.ones(3), mt.tensor(0.1), mt.tensor(0, dtype=mt.int32)
    f, g = torch.fake_quantize_per_tensor_affine, mt.fake_quantize_per_tensor_affine
    _raises_like(lambda: f(x, 0.1, 0, 5, 2), lambda: g(m, 0.1, 0, 5, 2), RuntimeError)
    _raises_like(lambda: f(x, 0.1, 300, 0, 255), lambda: g(m, 0.1, 300, 0, 255), RuntimeError)
    _raises_like(lambda: f(x.int(), 0.1, 0, 0, 255), lambda: g(m.int(), 0.1, 0, 0, 255), Exception)
    _raises_like(lambda: f(x, torch.tensor([0.1, 0.2]), z, 0, 255),
                 lambda: g(m, mt.tensor([0.1, 0.2]), mz, 0, 255), RuntimeError)
    _raises_like(lambda: f(x, s.clone().requires_grad_(), z, 0, 255),
                 lambda: g(m, ms.clone().requires_grad_(), mz, 0, 255), RuntimeError)
    with pytest.raises(TypeError):
        f(x, 0.1, 0.5, 0, 255)
    with pytest.raises(TypeError, match="zero_point"):
        g(m, 0.1, 0.5, 0, 255)
    with pytest.raises(TypeError, match="both Tensors or both numbers"):
        g(m, ms, 0, 0, 255)


# ----- fake_quantize_per_channel_affine -------------------------------------------------------------
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("zp", [np.array([0, 3, -2], np.int32), np.array([0.5, 3.25, -2.0], np.float32)])
def test_fake_quant_per_channel(dt, zp):
    sc = np.array([_S, 0.1, 0.031], np.float32)
    base = _X[:600].reshape(3, 2, 100)
    layouts = ((0, base), (2, np.moveaxis(base, 0, 2).copy())) if dt == "float32" else ((0, base),)
    for axis, x in layouts:
        tx, mx = _pair(x, dt)
        ty = torch.fake_quantize_per_channel_affine(tx, torch.tensor(sc), torch.tensor(zp), axis, -128, 127)
        my = mt.fake_quantize_per_channel_affine(mx, mt.tensor(sc), mt.tensor(zp), axis, -128, 127)
        if dt == "float64" and zp.dtype == np.float32:
            # torch's own vectorised and scalar float64 loops round exact ties differently here
            np.testing.assert_allclose(_np(my), _np(ty), rtol=0, atol=0.1 + 1e-6)
            assert (_np(my) == _np(ty)).mean() > 0.95
        else:
            _same(ty, my)
        assert type(my.grad_fn).__name__ == type(ty.grad_fn).__name__
        _same_grad(tx, mx, ty, my)


def test_fake_quant_per_channel_errors():
    x = torch.ones(2, 3, 4)
    s, z = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1, -1], dtype=torch.int32)
    m, ms, mz = mt.ones(2, 3, 4), mt.tensor([0.1, 0.2, 0.3]), mt.tensor([0, 1, -1], dtype=mt.int32)
    f, g = torch.fake_quantize_per_channel_affine, mt.fake_quantize_per_channel_affine
    cases = [((s, z, 0, -128, 127), (ms, mz, 0, -128, 127)),
             ((s, z, 3, -128, 127), (ms, mz, 3, -128, 127)),
             ((s, z, -2, -128, 127), (ms, mz, -2, -128, 127)),
             ((s, z.long(), 1, -128, 127), (ms, mz.long(), 1, -128, 127)),
             ((s.double(), z, 1, -128, 127), (ms.double(), mz, 1, -128, 127)),
             ((s, z, 1, 5, 2), (ms, mz, 1, 5, 2)),
             ((s, z * 200, 1, -128, 127), (ms, mz * 200, 1, -128, 127)),
             ((s[:2], z, 1, -128, 127), (ms[:2], mz, 1, -128, 127)),
             ((s.clone().requires_grad_(), z, 1, -128, 127), (ms.clone().requires_grad_(), mz, 1, -128, 127))]
    for ta, ma in cases:
        _raises_like(lambda ta=ta: f(x, *ta), lambda ma=ma: g(m, *ma), (RuntimeError, IndexError))
    _raises_like(lambda: f(torch.tensor(1.0), s[:1], z[:1], 0, 0, 255),
                 lambda: g(mt.tensor(1.0), ms[:1], mz[:1], 0, 0, 255), IndexError)


# ----- learnable (LSQ) fake quantization ---------------------------------------------------------
def test_fake_quant_learnable_grads():
    x = _X[:-5].reshape(-1, 8)[:50]
    tx, mx = _pair(x, "float32")
    ts, tz = torch.tensor([0.05], requires_grad=True), torch.tensor([2.3], requires_grad=True)
    ms, mz = mt.tensor([0.05], requires_grad=True), mt.tensor([2.3], requires_grad=True)
    ty = torch._fake_quantize_learnable_per_tensor_affine(tx, ts, tz, -16, 15, 0.5)
    my = mt._fake_quantize_learnable_per_tensor_affine(mx, ms, mz, -16, 15, 0.5)
    np.testing.assert_allclose(_np(my), _np(ty), rtol=0, atol=1e-6)
    cot = np.linspace(-1, 1, x.size).reshape(x.shape)
    (ty * torch.tensor(cot, dtype=torch.float32)).sum().backward()
    (my * mt.tensor(cot, dtype=mt.float32)).sum().backward()
    _same(tx.grad, mx.grad)
    np.testing.assert_allclose(_np(ms.grad), _np(ts.grad), rtol=1e-5)
    np.testing.assert_allclose(_np(mz.grad), _np(tz.grad), rtol=1e-5)


# ----- fused observer + fake quant --------------------------------------------------------------------
def _fused_state(lib, n, rmin=None, rmax=None):
    inf = float("inf")
    return [lib.tensor([inf] * n if rmin is None else rmin), lib.tensor([-inf] * n if rmax is None else rmax),
            lib.ones(n), lib.zeros(n, dtype=lib.int32)]


@pytest.mark.parametrize("cfg", [(0, 255, False, False), (-128, 127, False, True), (-8, 7, True, True)])
def test_fused_moving_avg_obs_fake_quant(cfg):
    qmin, qmax, per_row, sym = cfg
    n = 3 if per_row else 1
    tst, mst = _fused_state(torch, n), _fused_state(mt, n)
    flags = [(1, 1), (1, 1), (0, 1), (1, 0), (1, 1)]
    for i, (obs, fq) in enumerate(flags):
        x = _rng.normal(size=(3, 5)) * (i + 1) + 0.5
        x[0, 0] = 0.0 if i else x[0, 0]
        tx, mx = _pair(x.astype(np.float32), "float32")
        targs = (torch.tensor([obs]), torch.tensor([fq]), *tst, 0.01, qmin, qmax, 0, per_row, sym)
        margs = (mt.tensor([obs]), mt.tensor([fq]), *mst, 0.01, qmin, qmax, 0, per_row, sym)
        ty = torch.fused_moving_avg_obs_fake_quant(tx, *targs)
        my = mt.fused_moving_avg_obs_fake_quant(mx, *margs)
        np.testing.assert_allclose(_np(my), _np(ty), rtol=1e-6, atol=1e-6)
        for t, m in zip(tst, mst):
            np.testing.assert_allclose(_np(m), _np(t), rtol=1e-6)
            assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        _same_grad(tx, mx, ty, my)
    with pytest.raises(RuntimeError, match="only supported on axis == 0"):
        mt.fused_moving_avg_obs_fake_quant(mt.ones(2, 3), mt.tensor([1]), mt.tensor([1]),
                                           *_fused_state(mt, 3), 0.01, 0, 255, 1, True, False)


def test_choose_qparams_optimized():
    for n, bins, ratio, bits in ((50, 200, 0.16, 8), (64, 100, 0.5, 4), (40, 50, 0.3, 2)):
        x = (_rng.standard_t(3, size=n)).astype(np.float32)
        tr = torch.choose_qparams_optimized(torch.tensor(x), n - 3, bins, ratio, bits)
        mr = mt.choose_qparams_optimized(mt.tensor(x), n - 3, bins, ratio, bits)
        for t, m in zip(tr, mr):
            assert tuple(m.shape) == tuple(t.shape) and m.dtype == mt.float32
            np.testing.assert_allclose(_np(m), _np(t), rtol=1e-5, atol=1e-6)


# ----- jit: a compiled QAT step --------------------------------------------------------------------
def test_jit_qat_step_matches_eager():
    mt.manual_seed(0)
    lin = mt.nn.Linear(4, 3)
    x = mt.tensor(_rng.normal(size=(8, 4)).astype(np.float32))
    target = mt.tensor(_rng.normal(size=(8, 3)).astype(np.float32))
    scales = mt.tensor([0.02, 0.05, 0.03])
    zps = mt.zeros(3, dtype=mt.int32)

    def step(x, target):
        w = mt.fake_quantize_per_channel_affine(lin.weight, scales, zps, 0, -128, 127)
        xq = mt.fake_quantize_per_tensor_affine(x, 0.05, 3, -128, 127)
        out = mt.nn.functional.linear(xq, w, lin.bias)
        loss = ((out - target) ** 2).mean()
        loss.backward()
        return loss

    eager = step(x, target)
    g_eager = (lin.weight.grad.numpy().copy(), lin.bias.grad.numpy().copy())
    lin.zero_grad()
    compiled = mt.jit(step)
    loss = compiled(x, target)
    np.testing.assert_allclose(loss.item(), eager.item(), rtol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.numpy(), g_eager[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g_eager[1], rtol=1e-6, atol=1e-7)


def test_jit_fused_observer_updates_buffers():
    class FakeQuant(mt.nn.Module):
        def __init__(self):
            super().__init__()
            for name, v in (("rmin", mt.tensor([float("inf")])), ("rmax", mt.tensor([-float("inf")])),
                            ("scale", mt.ones(1)), ("zp", mt.zeros(1, dtype=mt.int32)),
                            ("on", mt.tensor([1]))):
                self.register_buffer(name, v)

        def forward(self, x):
            return mt.fused_moving_avg_obs_fake_quant(x, self.on, self.on, self.rmin, self.rmax, self.scale,
                                                      self.zp, 0.01, 0, 255, 0)

    eager, jitted = FakeQuant(), FakeQuant()
    compiled = mt.jit(jitted)
    for _ in range(3):
        x = mt.tensor(_rng.normal(size=(4, 4)).astype(np.float32))
        np.testing.assert_array_equal(compiled(x).numpy(), eager(x).numpy())
        for name in ("rmin", "rmax", "scale", "zp"):
            np.testing.assert_array_equal(getattr(jitted, name).numpy(), getattr(eager, name).numpy())
    assert compiled.num_compiles == 1


# ----- quantized dtypes, schemes and tensors ------------------------------------------------------
def test_qdtypes_and_schemes():
    for name in ("qint8", "quint8", "qint32", "quint4x2", "quint2x4"):
        td, md = getattr(torch, name), getattr(mt, name)
        assert repr(md) == repr(td).replace("torch.", "minitorch_jax.")
        assert md.is_floating_point is False and md.is_complex is False and md.itemsize == td.itemsize
        assert isinstance(md, mt.dtype)
        with pytest.raises(RuntimeError, match="isSignedType not supported"):
            _ = md.is_signed
    for name in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
                 "per_channel_affine_float_qparams"):
        assert isinstance(getattr(mt, name), mt.qscheme)
        assert repr(getattr(mt, name)) == repr(getattr(torch, name)).replace("torch.", "minitorch_jax.")


def _qcompare(tq, mq):
    assert repr(mq) == repr(tq).replace("torch.", "minitorch_jax."), (repr(mq), repr(tq))
    np.testing.assert_array_equal(np.asarray(mq.int_repr().numpy()), tq.int_repr().numpy())
    assert str(mq.int_repr().dtype).split(".")[-1] == str(tq.int_repr().dtype).split(".")[-1]
    np.testing.assert_array_equal(np.asarray(mq.dequantize().numpy()), tq.dequantize().numpy())
    assert mq.qscheme() is getattr(mt, str(tq.qscheme()).split(".")[-1])
    assert mq.is_quantized and mq.dtype is getattr(mt, str(tq.dtype).split(".")[-1])


@pytest.mark.parametrize("dt", ["qint8", "quint8", "qint32"])
def test_quantize_per_tensor(dt):
    x = _X[:-5].astype(np.float32)
    for s, z in ((_S, 3), (0.1, 0), (0.5, 10)):
        tq = torch.quantize_per_tensor(torch.tensor(x), s, z, getattr(torch, dt))
        mq = mt.quantize_per_tensor(mt.tensor(x), s, z, getattr(mt, dt))
        _qcompare(tq, mq)
        assert mq.q_scale() == tq.q_scale() and mq.q_zero_point() == tq.q_zero_point()
        assert mt.q_scale(mq) == tq.q_scale() and mt.q_zero_point(mq) == tq.q_zero_point()
        np.testing.assert_array_equal(np.asarray(mt.int_repr(mq).numpy()), tq.int_repr().numpy())
    small = torch.tensor([[-1.05, 0.25, 2.0], [100.0, 0.05, -0.15]])
    tq = torch.quantize_per_tensor(small, torch.tensor(0.1), torch.tensor(2), torch.qint8)
    mq = mt.quantize_per_tensor(mt.tensor(small.numpy()), mt.tensor(0.1), mt.tensor(2), mt.qint8)
    _qcompare(tq, mq)
    _qcompare(tq[1], mq[1])
    _qcompare(tq.reshape(3, 2), mq.reshape(3, 2))
    _qcompare(tq.clone(), mq.clone())
    assert mq.shape == tuple(tq.shape) and mq.numel() == 6 and mq.dim() == 2 and mq.element_size() == 1


@pytest.mark.parametrize("dt", ["quint4x2", "quint2x4"])
def test_quantize_sub_byte(dt):
    x = np.concatenate([np.arange(15) * 0.1, [-0.3, 9.0]]).astype(np.float32).reshape(1, 17)
    _qcompare(torch.quantize_per_tensor(torch.tensor(x), 0.1, 1, getattr(torch, dt)),
              mt.quantize_per_tensor(mt.tensor(x), 0.1, 1, getattr(mt, dt)))


def test_quantize_lists_dynamic_empty():
    xs = [np.array([-1.05, 0.25, 2.0], np.float32), np.array([3.0, -0.7], np.float32)]
    tq = torch.quantize_per_tensor([torch.tensor(a) for a in xs], torch.tensor([0.1, 0.2]),
                                   torch.tensor([0, 1]), torch.qint8)
    mq = mt.quantize_per_tensor([mt.tensor(a) for a in xs], mt.tensor([0.1, 0.2]), mt.tensor([0, 1]),
                                mt.qint8)
    assert isinstance(mq, tuple) and len(mq) == 2
    for t, m in zip(tq, mq):
        _qcompare(t, m)
    for t, m in zip(torch.dequantize(list(tq)), mt.dequantize(list(mq))):
        np.testing.assert_array_equal(np.asarray(m.numpy()), t.numpy())
    for d in ("quint8", "qint8"):
        for rr in (False, True):
            x = _rng.normal(size=20).astype(np.float32)
            _qcompare(torch.quantize_per_tensor_dynamic(torch.tensor(x), getattr(torch, d), rr),
                      mt.quantize_per_tensor_dynamic(mt.tensor(x), getattr(mt, d), rr))
    e = mt.empty_quantized([2, 2], mq[0])
    assert e.shape == (2, 2) and e.q_scale() == mq[0].q_scale() and e.dtype is mt.qint8
    plain = mt.ones(2)
    assert mt.dequantize(plain) is plain


@pytest.mark.parametrize("dt", ["qint8", "quint8"])
def test_quantize_per_channel(dt):
    x = _X[:600].reshape(2, 3, 100).astype(np.float32)
    s = np.array([_S, 0.1, 0.031])
    for axis, xx in ((1, x), (2, np.moveaxis(x, 1, 2).copy())):
        for z in (np.array([0, 3, 2]), np.array([0.5, 3.25, 2.0], np.float32)):
            sc = s.astype(np.float32) if z.dtype == np.float32 else s
            tq = torch.quantize_per_channel(torch.tensor(xx), torch.tensor(sc), torch.tensor(z), axis,
                                            getattr(torch, dt))
            mq = mt.quantize_per_channel(mt.tensor(xx), mt.tensor(sc), mt.tensor(z), axis, getattr(mt, dt))
            np.testing.assert_array_equal(np.asarray(mq.int_repr().numpy()), tq.int_repr().numpy())
            np.testing.assert_array_equal(np.asarray(mq.dequantize().numpy()), tq.dequantize().numpy())
            np.testing.assert_array_equal(np.asarray(mq.q_per_channel_scales().numpy()),
                                          tq.q_per_channel_scales().numpy())
            np.testing.assert_array_equal(np.asarray(mq.q_per_channel_zero_points().numpy()),
                                          tq.q_per_channel_zero_points().numpy())
            assert mq.q_per_channel_axis() == tq.q_per_channel_axis() == mt.q_per_channel_axis(mq)
            assert mq.q_per_channel_scales().dtype.name == str(tq.q_per_channel_scales().dtype).split(".")[-1]
    small = torch.tensor([[-1.05, 0.25, 2.0], [100.0, 0.05, -0.15]])
    tq = torch.quantize_per_channel(small, torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64),
                                    torch.tensor([0, 1, 2]), 1, torch.qint8)
    mq = mt.quantize_per_channel(mt.tensor(small.numpy()), mt.tensor([0.1, 0.2, 0.3], dtype=mt.float64),
                                 mt.tensor([0, 1, 2]), 1, mt.qint8)
    _qcompare(tq, mq)


def test_quantized_errors():
    x, m = torch.tensor([1.0, 2.0]), mt.tensor([1.0, 2.0])
    _raises_like(lambda: torch.quantize_per_tensor(x, 0.1, 3, torch.float32),
                 lambda: mt.quantize_per_tensor(m, 0.1, 3, mt.float32), RuntimeError)
    _raises_like(lambda: torch.quantize_per_tensor(x.double(), 0.1, 3, torch.qint8),
                 lambda: mt.quantize_per_tensor(m.double(), 0.1, 3, mt.qint8), RuntimeError)
    _raises_like(lambda: torch.quantize_per_tensor(x, 0.1, 300, torch.qint8),
                 lambda: mt.quantize_per_tensor(m, 0.1, 300, mt.qint8), RuntimeError)
    _raises_like(lambda: torch.quantize_per_tensor(x, 0.1, -300, torch.qint8),
                 lambda: mt.quantize_per_tensor(m, 0.1, -300, mt.qint8), RuntimeError)
    _raises_like(lambda: torch.quantize_per_tensor_dynamic(x, torch.qint32, False),
                 lambda: mt.quantize_per_tensor_dynamic(m, mt.qint32, False), RuntimeError)
    x2, m2 = torch.ones(2, 3), mt.ones(2, 3)
    for ta, ma in (((torch.tensor([.1, .2]), torch.tensor([0, 1]), 1),
                    (mt.tensor([.1, .2]), mt.tensor([0, 1]), 1)),
                   ((torch.tensor([.1, .2, .3]), torch.tensor([0, 1, 2]), 2),
                    (mt.tensor([.1, .2, .3]), mt.tensor([0, 1, 2]), 2)),
                   ((torch.tensor([.1, .2, .3]), torch.tensor([0, 1, 200]), 1),
                    (mt.tensor([.1, .2, .3]), mt.tensor([0, 1, 200]), 1))):
        _raises_like(lambda ta=ta: torch.quantize_per_channel(x2, *ta, torch.qint8),
                     lambda ma=ma: mt.quantize_per_channel(m2, *ma, mt.qint8), RuntimeError)
    tq = torch.quantize_per_tensor(x, 0.1, 3, torch.qint8)
    mq = mt.quantize_per_tensor(m, 0.1, 3, mt.qint8)
    # ordinary ops refuse quantized tensors, naming the op
    for f in (lambda q: q.sum(), lambda q: q.exp(), lambda q: q * 2, lambda q: q + 1):
        with pytest.raises((NotImplementedError, RuntimeError)):
            f(tq)
        with pytest.raises(NotImplementedError, match="QuantizedCPU"):
            f(mq)
    with pytest.raises(NotImplementedError, match="aten::sum"):
        mq.sum()
    with pytest.raises(NotImplementedError, match="QuantizedCPU"):
        mt.exp(mq)
    _raises_like(lambda: tq.q_per_channel_scales(), lambda: mq.q_per_channel_scales(), RuntimeError)
    tqc = torch.quantize_per_channel(x2, torch.tensor([.1, .2, .3]), torch.tensor([0, 1, 2]), 1, torch.qint8)
    mqc = mt.quantize_per_channel(m2, mt.tensor([.1, .2, .3]), mt.tensor([0, 1, 2]), 1, mt.qint8)
    _raises_like(lambda: tqc.q_scale(), lambda: mqc.q_scale(), RuntimeError)
    _raises_like(lambda: x.int_repr(), lambda: m.int_repr(), NotImplementedError)
    _raises_like(lambda: x.q_scale(), lambda: m.q_scale(), NotImplementedError)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        mq.requires_grad_()
    assert not m.is_quantized and mq.is_quantized
