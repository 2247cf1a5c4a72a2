"""mt.fft, the window functions and stft/istft against torch: what the op-table parity samples
cannot check (gradients through complex outputs and into complex inputs, dtype promotion, torch's
errors, more than three transformed dims, round trips, Tensor methods, mt.jit)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops.complex_ops import C
from minitorch_jax._ops.spectral import SpectralError

from .oracle import assert_same, torch

_rng = np.random.default_rng(7)


def _real(*shape, dtype="float32"):
    return _rng.standard_normal(shape).astype(dtype)


def _pair(arr, grad=True):
    t = torch.from_numpy(arr.copy()).requires_grad_(grad)
    m = mt.tensor(arr).requires_grad_(grad)
    return t, m


def _loss(out, ct, lib):
    """A real loss of a real or complex result: sum(re * ct[..., 0] + im * ct[..., 1])."""
    if out.is_complex():
        return (lib.view_as_real(out.resolve_conj()) * lib.tensor(ct)).sum()
    return (out * lib.tensor(ct)).sum()


def _cotangent(out):
    real_dt = "float64" if out.dtype in (torch.float64, torch.complex128) else "float32"
    return _real(*out.shape, *((2,) if out.is_complex() else ()), dtype=real_dt)


def _check(name, arr, *args, rtol=None, atol=None, lib_fn=None, **kwargs):
    """Values and gradients (also into complex inputs) of ``torch.fft.<name>`` vs ``mt.fft.<name>``."""
    t, m = _pair(arr)
    tf, mf = lib_fn if lib_fn else (getattr(torch.fft, name), getattr(mt.fft, name))
    t_out, m_out = tf(t, *args, **kwargs), mf(m, *args, **kwargs)
    assert_same(m_out, t_out, rtol, atol)
    ct = _cotangent(t_out)
    _loss(t_out, ct, torch).backward()
    _loss(m_out, ct, mt).backward()
    assert_same(m.grad, t.grad, rtol, atol, what="grad")


# ----- values and gradients through complex tensors -----------------------------------------------
@pytest.mark.parametrize("name,arr,args,kw", [
    ("fft", C(3, 6), (8,), {}),
    ("ifft", C(4, 5, dtype="complex128"), (3, 0), {"norm": "forward"}),
    ("rfft", _real(2, 7), (6,), {"norm": "ortho"}),
    ("irfft", C(2, 5), (), {}),
    ("hfft", C(3, 4), (7,), {}),
    ("ihfft", _real(3, 6), (), {"norm": "ortho"}),
    ("fft2", C(2, 3, 4), ((4, 3),), {}),
    ("rfftn", _real(3, 4, 5), (), {}),
    ("irfft2", C(3, 4), ((4, 6),), {"norm": "forward"}),
    ("hfftn", C(3, 4), ((5, 6),), {}),
    ("ihfft2", _real(4, 6), (), {}),
])
def test_values_and_complex_gradients_match_torch(name, arr, args, kw):
    _check(name, arr, *args, **kw)


def test_more_than_three_dims_and_minus_one_sizes():
    x = C(2, 3, 2, 3)
    _check("irfftn", x, (2, -1, 3, 4), None, "ortho")  # -1 keeps dim 1's size; 4 dims: two chunks
    assert_same(mt.fft.fftn(mt.tensor(x), (-1, 5)), torch.fft.fftn(torch.from_numpy(x), (-1, 5)))  # last dims
    assert mt.fft.irfftn(mt.tensor(x), (2, -1)).shape == (2, 3, 2, 4)  # last dim -1: 2 * (3 - 1)


# ----- dtypes -----------------------------------------------------------------------------------
def test_real_and_integer_inputs_promote_like_torch():
    for arr in (np.arange(4), np.array([True, False, True])):
        for name in ("fft", "irfft"):
            t = getattr(torch.fft, name)(torch.from_numpy(arr))
            assert_same(getattr(mt.fft, name)(mt.tensor(arr)), t)
    assert mt.fft.fft(mt.arange(4)).dtype == mt.complex64
    assert mt.fft.hfft(mt.ones(3)).dtype == mt.float32
    assert mt.fft.ihfft(mt.ones(3, dtype=mt.float64)).dtype == mt.complex128
    mt.set_default_dtype(mt.float64)
    try:
        assert mt.fft.fft(mt.arange(4)).dtype == mt.complex128
        assert mt.fft.irfft(mt.arange(4)).dtype == mt.float64
    finally:
        mt.set_default_dtype(mt.float32)


def test_shift_keeps_dtype_and_matches_torch():
    for arr in (np.arange(10).reshape(2, 5), C(3, 4)):
        for name, dim in (("fftshift", None), ("ifftshift", (0, -1))):
            t = getattr(torch.fft, name)(torch.from_numpy(arr), dim)
            assert_same(getattr(mt.fft, name)(mt.tensor(arr), dim), t)
    x = mt.fft.fftfreq(7)
    assert mt.fft.ifftshift(mt.fft.fftshift(x)).tolist() == x.tolist()


# ----- errors ------------------------------------------------------------------------------------
def _both_raise(call, match):
    with pytest.raises(Exception) as te:
        call(torch, torch.from_numpy)
    kind = type(te.value) if isinstance(te.value, (IndexError, TypeError)) else RuntimeError
    with pytest.raises(kind, match=match):
        call(mt, mt.tensor)


@pytest.mark.parametrize("call,match", [
    (lambda L, T: L.fft.fft(T(_real(4)), norm="bad"), r'fft.fft\(\): Invalid normalization mode: "bad"'),
    (lambda L, T: L.fft.rfft2(T(_real(3, 4)), norm="Ortho"), "Invalid normalization mode"),
    (lambda L, T: L.fft.fft(T(_real(4, 5)), dim=2), r"out of range \(expected to be in range of \[-2, 1\]"),
    (lambda L, T: L.fft.fft2(T(_real(4))), "Dimension out of range"),
    (lambda L, T: L.fft.fft(T(np.array(1.0, "float32"))), "specified as -1 but tensor has no dimensions"),
    (lambda L, T: L.fft.fftn(T(_real(3, 4)), dim=(0, -2)), "FFT dims must be unique"),
    (lambda L, T: L.fft.fftn(T(_real(3, 4)), s=(2, 2, 2)), "Got shape with 3 values but input tensor only"),
    (lambda L, T: L.fft.fft2(T(_real(3, 4)), s=(2,)), "dim and shape arguments must have the same length"),
    (lambda L, T: L.fft.fft(T(_real(4)), n=0), r"Invalid number of data points \(0\) specified"),
    (lambda L, T: L.fft.irfft(T(C(1))), r"Invalid number of data points \(0\) specified"),
    (lambda L, T: L.fft.rfft(T(C(4))), "rfft expects a real input tensor, but got ComplexFloat"),
    (lambda L, T: L.fft.ihfftn(T(C(2, 4))), "ihfftn expects a real input tensor"),
    (lambda L, T: L.fft.rfftn(T(_real(3, 4)), dim=()), "rfftn must transform at least one axis"),
    (lambda L, T: L.fft.fft(T(_real(4).astype("float16"))), "Unsupported dtype Half"),
    (lambda L, T: L.fft.fft(T(_real(3, 4)), dim=(0,)), "argument 'dim' must be int, not tuple"),
    (lambda L, T: L.fft.fft(T(_real(3, 4)), n=(3,)), "argument 'n' must be int, not tuple"),
])
def test_errors_match_torch(call, match):
    _both_raise(call, match)


def test_error_is_a_runtime_error_naming_the_function():
    with pytest.raises(SpectralError, match=r"fft.ihfft2\(\)"):
        mt.fft.ihfft2(mt.ones(3, 4), norm="x")


# ----- out=, frequencies, windows ---------------------------------------------------------------------
def test_out_argument():
    out = mt.empty(3, dtype=mt.complex64)
    res = mt.fft.rfft(mt.tensor([1.0, 2.0, 3.0, 4.0]), out=out)
    assert res is out
    assert_same(out, torch.fft.rfft(torch.tensor([1.0, 2.0, 3.0, 4.0])))


def test_fftfreq_keywords():
    f = mt.fft.fftfreq(6, 0.1, dtype=mt.float64, requires_grad=True)
    assert f.dtype == mt.float64 and f.requires_grad and f.is_leaf
    assert_same(f, torch.fft.fftfreq(6, 0.1, dtype=torch.float64))
    assert_same(mt.fft.rfftfreq(7, 2.0), torch.fft.rfftfreq(7, 2.0))
    out = mt.empty(4, dtype=mt.float64)
    assert mt.fft.rfftfreq(6, 0.5, out=out) is out
    assert_same(out, torch.fft.rfftfreq(6, 0.5, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="fftfreq requires a floating point or complex dtype"):
        mt.fft.fftfreq(4, dtype=mt.int64)
    with pytest.raises(RuntimeError, match="negative dimension"):
        mt.fft.fftfreq(-1)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_match_torch_and_take_creation_keywords(name):
    m, t = getattr(mt, name), getattr(torch, name)
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            assert_same(m(n, periodic), t(n, periodic))
    w = m(6, dtype=mt.float64, requires_grad=True)
    assert w.dtype == mt.float64 and w.requires_grad and w.grad_fn is None
    assert m(4, dtype=mt.float16).dtype == mt.float16
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        m(4, dtype=mt.int64)
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got window_length="):
        m(-2)
    with pytest.raises(TypeError, match="must be int, not float"):
        m(4.0)


def test_window_parameters():
    assert_same(mt.hamming_window(7, False, 0.5, 0.25), torch.hamming_window(7, False, 0.5, 0.25))
    assert_same(mt.kaiser_window(9, True, 3.5), torch.kaiser_window(9, True, 3.5))
    assert_same(mt.kaiser_window(9, False, beta=0.0), torch.kaiser_window(9, False, 0.0))


# ----- stft / istft ----------------------------------------------------------------------------------
def _stft_pair(x, *args, **kw):
    t, m = _pair(x)
    tw = kw.pop("window", None)
    mw = None
    if tw is not None:
        mw = mt.tensor(tw)
        tw = torch.from_numpy(tw)
    return (t, torch.stft(t, *args, window=tw, **kw)), (m, mt.stft(m, *args, window=mw, **kw))


@pytest.mark.parametrize("x,args,kw", [
    (_real(2, 30), (16,), {"hop_length": 4, "pad_mode": "replicate"}),
    (C(30), (8, 3, 5), {"center": False, "normalized": True, "onesided": False}),
    (_real(30), (8, 2, 6), {"center": False, "align_to_window": True, "window": np.hanning(6)}),  # f64 window
])
def test_stft_complex_values_and_gradients(x, args, kw):
    (t, t_out), (m, m_out) = _stft_pair(x, *args, return_complex=True, **dict(kw))
    assert_same(m_out, t_out)
    ct = _cotangent(t_out)
    _loss(t_out, ct, torch).backward()
    _loss(m_out, ct, mt).backward()
    assert_same(m.grad, t.grad, what="grad")


def test_stft_return_complex_rules():
    x = mt.randn(40)
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter be given for real"):
        mt.stft(x, 8, window=mt.hann_window(8))
    with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input is complex"):
        mt.stft(x, 8, window=mt.hann_window(8).to(mt.complex64), onesided=True)
    assert mt.stft(x.to(mt.complex64), 8, window=mt.hann_window(8)).dtype == mt.complex64  # default True
    with pytest.raises(RuntimeError, match="align_to_window should only be set when center = false"):
        mt.stft(x, 8, window=mt.hann_window(8), return_complex=True, align_to_window=True)


@pytest.mark.parametrize("call,match", [
    (lambda L, x, w: L.stft(x, 8, window=w(6), return_complex=True), "window tensor of size equal"),
    (lambda L, x, w: L.stft(x, 50, window=w(50), return_complex=True, center=False), "n_fft"),
    (lambda L, x, w: L.stft(x, 8, 0, window=w(8), return_complex=True), "hop_length > 0"),
    (lambda L, x, w: L.stft(x, 8, 2, 9, window=w(9), return_complex=True), "win_length <= n_fft"),
    (lambda L, x, w: L.stft(x[None, None], 8, window=w(8), return_complex=True, center=False), "1D or 2D"),
    (lambda L, x, w: L.stft(x, 62, window=w(62), return_complex=True), "Padding size should be less than"),
    (lambda L, x, w: L.istft(x, 8, window=w(8)), "complex-valued input"),
    (lambda L, x, w: L.istft(L.stft(x, 8, window=w(8), return_complex=True), 10, window=w(10)),
     "match n_fft / 2 \\+ 1 when onesided=True"),
    (lambda L, x, w: L.istft(L.stft(x, 8, 2, window=w(8), return_complex=True), 8, 2, window=w(8),
                             return_complex=True), "Cannot have onesided output"),
    (lambda L, x, w: L.istft(L.stft(x, 8, 4, 4, window=w(4), return_complex=True), 8, 4, 4, window=w(4),
                             center=False), "window overlap add min"),
])
def test_stft_istft_errors_match_torch(call, match):
    x = _real(30)
    with pytest.raises(RuntimeError):
        call(torch, torch.from_numpy(x), torch.hann_window)
    with pytest.raises(RuntimeError, match=match):
        call(mt, mt.tensor(x), mt.hann_window)


@pytest.mark.parametrize("kw", [
    {},
    {"win_length": 6, "normalized": True, "length": 25},
    {"center": False, "length": 44},  # longer than the frames give: zero-padded (values only)
])
def test_istft_values_gradients_and_round_trip(kw):
    n_fft, hop = 8, 2
    wl = kw.get("win_length", n_fft)
    x = _real(2, 32)
    tw, mw = torch.hann_window(wl) + 0.1, mt.hann_window(wl) + 0.1
    skw = {k: v for k, v in kw.items() if k != "length"}
    spec = torch.stft(torch.from_numpy(x), n_fft, hop, window=tw, return_complex=True, **skw).detach().numpy()
    t, m = _pair(spec)
    t_out = torch.istft(t, n_fft, hop, window=tw, **kw)
    m_out = mt.istft(m, n_fft, hop, window=mw, **kw)
    assert_same(m_out, t_out)
    if "center" in kw:
        return
    ct = _cotangent(t_out)
    _loss(t_out, ct, torch).backward()
    _loss(m_out, ct, mt).backward()
    assert_same(m.grad, t.grad, what="grad")
    if not kw:  # centred with the default length: the signal comes back
        np.testing.assert_allclose(np.asarray(m_out.detach()._data), x, atol=1e-5)


def test_tensor_methods_and_complex_istft():
    x = mt.tensor(C(24))
    w = mt.hann_window(8)
    spec = x.stft(8, 2, window=w, return_complex=True)
    assert spec.shape == (8, 13)
    back = spec.istft(8, 2, window=w, return_complex=True, length=24)
    assert back.dtype == mt.complex64
    np.testing.assert_allclose(np.asarray(back._data), np.asarray(x._data), atol=1e-5)
    tw = torch.hann_window(8)
    t_spec = torch.stft(torch.from_numpy(np.array(x._data)), 8, 2, window=tw, return_complex=True)
    assert_same(back, torch.istft(t_spec, 8, 2, window=tw, return_complex=True, length=24), atol=1e-5)


def test_under_jit():
    w = mt.hann_window(8)

    @mt.jit
    def f(x):
        s = mt.stft(x, 8, 2, window=w, return_complex=True)
        return mt.istft(s * 2, 8, 2, window=w, length=x.shape[-1]), mt.fft.rfft(x, norm="ortho").abs().sum()

    x = mt.randn(2, 32)
    y, e = f(x)
    np.testing.assert_allclose(np.asarray(y._data), 2 * np.asarray(x._data), atol=1e-5)
    assert e.item() == pytest.approx(mt.fft.rfft(x, norm="ortho").abs().sum().item(), rel=1e-5)
