"""Recurrent layers (RNN, LSTM, GRU, cells) and nn.utils.rnn packing against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import compare_module, copy_state
from .oracle import assert_same, torch

T, B, IN, HID = 6, 3, 4, 5
TOL = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


def _x(*shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _t(*shape, dtype="float32", requires_grad=False):
    return mt.tensor(_x(*shape, dtype=dtype), requires_grad=requires_grad)


def _pair(cls, *args, dtype="float32", **kw):
    tdt = getattr(torch, dtype)
    mdt = getattr(mt, dtype)
    return getattr(mt.nn, cls)(*args, dtype=mdt, **kw), getattr(torch.nn, cls)(*args, dtype=tdt, **kw)


CASES = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, batch_first=True, bidirectional=True),
]


def _states(cls, opts, batch, dtype, seed=1, proj=0):
    nl = opts.get("num_layers", 1) * (2 if opts.get("bidirectional") else 1)
    shape = (nl, batch, proj or HID) if batch else (nl, proj or HID)
    h0 = _x(*shape, dtype=dtype, seed=seed)
    if cls != "LSTM":
        return h0
    cshape = shape[:-1] + (HID,)
    return (h0, _x(*cshape, dtype=dtype, seed=seed + 1))


@pytest.mark.parametrize("case,dtype", [(c, "float32") for c in range(len(CASES))] +
                         [(0, "float64"), (1, "float64")])
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_layer_matches_torch(cls, case, dtype):
    opts = CASES[case]
    m, t = _pair(cls, IN, HID, dtype=dtype, **opts)
    shape = (B, T, IN) if opts.get("batch_first") else (T, B, IN)
    inputs = [_x(*shape, dtype=dtype)]
    if case % 2 == (dtype == "float64"):  # half the cases pass initial states
        inputs.append(_states(cls, opts, B, dtype))
    compare_module(m, t, *inputs, rtol=TOL[dtype][0], atol=TOL[dtype][1])


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched(cls, with_h0):
    opts = dict(num_layers=2) if with_h0 else dict(bidirectional=True)
    m, t = _pair(cls, IN, HID, **opts)
    inputs = [_x(T, IN)] + ([_states(cls, opts, 0, "float32")] if with_h0 else [])
    compare_module(m, t, *inputs, rtol=1e-4, atol=1e-5)


def test_rnn_relu_and_eval_mode():
    m, t = _pair("RNN", IN, HID, num_layers=2, nonlinearity="relu", dropout=0.3)
    compare_module(m, t, _x(T, B, IN), train=False, rtol=1e-4, atol=1e-5)
    m, t = _pair("RNN", IN, HID, 2, "relu", dtype="float64")
    compare_module(m, t, _x(T, B, IN, dtype="float64"), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("opts,dtype", [
    (dict(), "float64"), (dict(num_layers=2, bidirectional=True, batch_first=True), "float32")])
def test_lstm_proj(opts, dtype):
    m, t = _pair("LSTM", IN, HID, proj_size=3, dtype=dtype, **opts)
    shape = (B, T, IN) if opts.get("batch_first") else (T, B, IN)
    compare_module(m, t, _x(*shape, dtype=dtype), _states("LSTM", opts, B, dtype, proj=3),
                   rtol=TOL[dtype][0], atol=TOL[dtype][1])
    assert sorted(dict(m.named_parameters())) == sorted(dict(t.named_parameters()))


def test_parameter_names_and_shapes():
    for cls, kw in [("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
                    ("GRU", dict(bias=False, bidirectional=True)), ("RNN", dict(num_layers=3))]:
        m, t = _pair(cls, IN, HID, **kw)
        mp = [(n, tuple(p.shape)) for n, p in m.named_parameters()]
        tp = [(n, tuple(p.shape)) for n, p in t.named_parameters()]
        assert mp == tp
        assert [len(w) for w in m.all_weights] == [len(w) for w in t.all_weights]


# ----- cells -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kw,dtype", [
    ("RNNCell", {}, "float32"), ("RNNCell", dict(nonlinearity="relu"), "float64"),
    ("LSTMCell", {}, "float32"), ("LSTMCell", dict(bias=False), "float64"),
    ("GRUCell", {}, "float64"), ("GRUCell", dict(bias=False), "float32")])
def test_cells(cls, kw, dtype):
    r, a = TOL[dtype]
    m, t = _pair(cls, IN, HID, dtype=dtype, **kw)
    compare_module(m, t, _x(B, IN, dtype=dtype), rtol=r, atol=a)  # hx None
    m.zero_grad()
    t.zero_grad()
    h = _x(B, HID, dtype=dtype, seed=3)
    hx = (h, _x(B, HID, dtype=dtype, seed=4)) if cls == "LSTMCell" else h
    compare_module(m, t, _x(B, IN, dtype=dtype), hx, rtol=r, atol=a)
    m.zero_grad()
    t.zero_grad()
    hx1 = (h[0], h[1]) if cls == "LSTMCell" else h[0]
    compare_module(m, t, _x(IN, dtype=dtype), hx1, rtol=r, atol=a)  # unbatched


def test_cell_errors_and_repr():
    assert repr(mt.nn.RNNCell(4, 5, bias=False, nonlinearity="relu")) == \
        repr(torch.nn.RNNCell(4, 5, bias=False, nonlinearity="relu"))
    assert repr(mt.nn.LSTMCell(4, 5)) == repr(torch.nn.LSTMCell(4, 5))
    cell = mt.nn.GRUCell(4, 5)
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(_t(2, 3, 4))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 3 expected 4"):
        cell(_t(2, 3))
    with pytest.raises(RuntimeError, match="hidden has inconsistent hidden_size: got 6, expected 5"):
        cell(_t(2, 4), _t(2, 6))
    with pytest.raises(ValueError, match=r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D"):
        mt.nn.LSTMCell(4, 5)(_t(2, 4), (_t(2, 5), _t(1, 2, 5)))


# ----- packed sequences --------------------------------------------------------------------------
from torch.nn.utils import rnn as trnn  # noqa: E402

from minitorch_jax.nn.utils import rnn as mrnn  # noqa: E402

LENGTHS = [4, 6, 2]


def test_packing_roundtrip_matches_torch():
    x = _x(T, B, IN)
    for sort in (False, True):
        lens = sorted(LENGTHS, reverse=True) if sort else LENGTHS
        tp = trnn.pack_padded_sequence(torch.from_numpy(x), lens, enforce_sorted=sort)
        mp = mrnn.pack_padded_sequence(mt.tensor(x), lens, enforce_sorted=sort)
        assert_same(mp.data, tp.data)
        assert_same(mp.batch_sizes, tp.batch_sizes)
        for a, b in [(mp.sorted_indices, tp.sorted_indices), (mp.unsorted_indices, tp.unsorted_indices)]:
            assert (a is None) == (b is None)
            if a is not None:
                assert_same(a, b)
        for bf in (False, True):
            tpad, tl = trnn.pad_packed_sequence(tp, batch_first=bf, padding_value=-1.0, total_length=7)
            mpad, ml = mrnn.pad_packed_sequence(mp, batch_first=bf, padding_value=-1.0, total_length=7)
            assert_same(mpad, tpad)
            assert_same(ml, tl)
    xb = np.ascontiguousarray(x.transpose(1, 0, 2))
    tp = trnn.pack_padded_sequence(torch.from_numpy(xb), LENGTHS, batch_first=True, enforce_sorted=False)
    mp = mrnn.pack_padded_sequence(mt.tensor(xb), mt.tensor(LENGTHS), batch_first=True,
                                   enforce_sorted=False)
    assert_same(mp.data, tp.data)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        mrnn.pack_padded_sequence(mt.tensor(x), LENGTHS)
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        mrnn.pad_packed_sequence(mp, total_length=3)


def test_pad_pack_sequence_helpers():
    seqs = [_x(n, 2, seed=n) for n in LENGTHS]
    for side in ("right", "left"):
        for bf in (False, True):
            assert_same(mrnn.pad_sequence([mt.tensor(s) for s in seqs], bf, 0.5, side),
                        trnn.pad_sequence([torch.from_numpy(s) for s in seqs], bf, 0.5, side))
    ms = [mt.tensor(s, requires_grad=True) for s in seqs]
    ts = [torch.from_numpy(s).requires_grad_() for s in seqs]
    mp = mrnn.pack_sequence(ms, enforce_sorted=False)
    tp = trnn.pack_sequence(ts, enforce_sorted=False)
    assert_same(mp.data, tp.data)
    ct = np.arange(sum(LENGTHS) * 2, dtype=np.float32).reshape(-1, 2)
    (mp.data * mt.tensor(ct)).sum().backward()
    (tp.data * torch.from_numpy(ct)).sum().backward()
    for a, b in zip(ms, ts):
        assert_same(a.grad, b.grad)
    for a, b in zip(mrnn.unpack_sequence(mp), trnn.unpack_sequence(tp)):
        assert_same(a, b)
    pad = mrnn.pad_sequence(ms, batch_first=True)
    for a, s in zip(mrnn.unpad_sequence(pad, mt.tensor(LENGTHS), batch_first=True), seqs):
        np.testing.assert_array_equal(np.asarray(a.detach()._data), s)


@pytest.mark.parametrize("cls,opts,with_h0", [
    ("LSTM", dict(num_layers=2, bidirectional=True), True),
    ("GRU", dict(bidirectional=True, batch_first=True), False),
    ("RNN", dict(num_layers=2), True),
    ("LSTM", dict(proj_size=3, bidirectional=True), False),
])
def test_packed_input_matches_torch(cls, opts, with_h0):
    m, t = _pair(cls, IN, HID, **opts)
    copy_state(m, t)
    bf = opts.get("batch_first", False)
    x = _x(*((B, T, IN) if bf else (T, B, IN)))
    tx, mx = torch.from_numpy(x).requires_grad_(), mt.tensor(x, requires_grad=True)
    targs, margs = [], []
    if with_h0:
        hs = _states(cls, opts, B, "float32", proj=opts.get("proj_size", 0))
        hs = hs if isinstance(hs, tuple) else (hs,)
        th = tuple(torch.from_numpy(h).requires_grad_() for h in hs)
        mh = tuple(mt.tensor(h, requires_grad=True) for h in hs)
        targs, margs = [th if cls == "LSTM" else th[0]], [mh if cls == "LSTM" else mh[0]]
    tout, th_n = t(trnn.pack_padded_sequence(tx, LENGTHS, bf, enforce_sorted=False), *targs)
    mout, mh_n = m(mrnn.pack_padded_sequence(mx, LENGTHS, bf, enforce_sorted=False), *margs)
    assert isinstance(mout, mrnn.PackedSequence)
    assert_same(mout.data, tout.data, 1e-4, 1e-5)
    assert_same(mh_n, th_n, 1e-4, 1e-5)
    tpad, _ = trnn.pad_packed_sequence(tout, bf)
    mpad, _ = mrnn.pad_packed_sequence(mout, bf)
    ct = _x(*tpad.shape, seed=9)
    hs_t = th_n if isinstance(th_n, tuple) else (th_n,)
    hs_m = mh_n if isinstance(mh_n, tuple) else (mh_n,)
    tl = (tpad * torch.from_numpy(ct)).sum() + sum((h * h).sum() for h in hs_t)
    ml = (mpad * mt.tensor(ct)).sum() + sum((h * h).sum() for h in hs_m)
    tl.backward()
    ml.backward()
    assert_same(mx.grad, tx.grad, 1e-4, 1e-5, what="grad x")
    if with_h0:
        for a, b in zip(margs[0] if cls == "LSTM" else margs, targs[0] if cls == "LSTM" else targs):
            assert_same(a.grad, b.grad, 1e-4, 1e-5, what="grad h0")
    tparams = dict(t.named_parameters())
    for n, p in m.named_parameters():
        assert_same(p.grad, tparams[n].grad, 1e-4, 1e-5, what=f"grad {n}")


# ----- dropout, init, errors, repr ---------------------------------------------------------------
def test_dropout_between_layers():
    m = mt.nn.LSTM(IN, HID, num_layers=2, dropout=0.5)
    x = _t(T, B, IN)
    m.eval()
    ref = m(x)[0]
    m.train()
    mt.manual_seed(0)
    a = m(x)[0]
    b = m(x)[0]
    mt.manual_seed(0)
    a2 = m(x)[0]
    assert not np.allclose(np.asarray(a._data), np.asarray(ref._data))
    assert not np.allclose(np.asarray(a._data), np.asarray(b._data))
    np.testing.assert_array_equal(np.asarray(a._data), np.asarray(a2._data))
    m2 = mt.nn.GRU(IN, HID, num_layers=2, dropout=1.0)
    out = m2(x)[0]  # layer 2 sees zeros
    m2.eval()
    zero_out = m2.__class__(IN, HID)
    zero_out.weight_ih_l0, zero_out.weight_hh_l0 = m2.weight_ih_l1, m2.weight_hh_l1
    zero_out.bias_ih_l0, zero_out.bias_hh_l0 = m2.bias_ih_l1, m2.bias_hh_l1
    ref2 = zero_out(mt.tensor(np.zeros((T, B, HID), np.float32)))[0]
    np.testing.assert_allclose(np.asarray(out._data), np.asarray(ref2._data), rtol=1e-6)
    y = m(x.requires_grad_())[0].sum()
    y.backward()
    assert np.isfinite(np.asarray(x.grad._data)).all()


def test_init_statistics():
    m = mt.nn.LSTM(16, 64, num_layers=2, bidirectional=True)
    bound = 1 / 8
    for n, p in m.named_parameters():
        v = np.asarray(p.detach()._data)
        assert np.abs(v).max() <= bound, n
        if v.size >= 4096:
            assert abs(v.std() - bound / np.sqrt(3)) < 0.1 * bound, n
    assert abs(np.asarray(mt.nn.GRUCell(8, 100).weight_hh.detach()._data).std() - 0.1 / np.sqrt(3)) < 0.005


def test_dtype_and_device_kwargs():
    m = mt.nn.GRU(IN, HID, dtype=mt.float64)
    assert all(p.dtype == mt.float64 for p in m.parameters())
    out, h = m(_t(T, B, IN, dtype="float64"))
    assert out.dtype == mt.float64 and h.dtype == mt.float64


def test_errors():
    m = mt.nn.RNN(4, 20)
    with pytest.raises(RuntimeError,
                       match=r"input.size\(-1\) must be equal to input_size. Expected 4, got 3"):
        m(_t(5, 3, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 20\), got \[2, 3, 20\]"):
        m(_t(5, 3, 4), _t(2, 3, 20))
    with pytest.raises(ValueError, match="RNN: Expected input to be 2D or 3D, got 4D tensor instead"):
        m(_t(1, 5, 3, 4))
    with pytest.raises(ValueError, match="does not match weight dtype"):
        m(_t(5, 3, 4, dtype="float64"))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D"):
        m(_t(5, 4), _t(1, 1, 20))
    lstm = mt.nn.LSTM(4, 6, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 3, 6\), got \[2, 3, 5\]"):
        lstm(_t(5, 3, 4), (_t(2, 3, 6), _t(2, 3, 5)))
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 1D instead"):
        lstm(_t(4))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        mt.nn.GRU(4, 5, dropout=0.5)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        mt.nn.LSTM(4, 5, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        mt.nn.GRU(4, 5, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        mt.nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        mt.nn.RNN(4, 5, nonlinearity="gelu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.nn.LSTM(4, 5, num_layers=2, dropout=0.5)


@pytest.mark.parametrize("cls,args,kw", [
    ("LSTM", (4, 8), dict(num_layers=2, batch_first=True, bidirectional=True)),
    ("LSTM", (4, 8), dict(proj_size=3, bias=False, dropout=0.2, num_layers=2)),
    ("RNN", (4, 8, 2, "relu"), {}),
    ("GRU", (3, 5), {}),
])
def test_repr(cls, args, kw):
    assert repr(getattr(mt.nn, cls)(*args, **kw)) == repr(getattr(torch.nn, cls)(*args, **kw))


def test_one_dispatch_and_jit():
    """The layer is one table op; it also runs inside mt.jit with dropout (key threaded)."""
    m = mt.nn.LSTM(IN, HID, num_layers=2, bidirectional=True)
    x = _t(T, B, IN, requires_grad=True)
    out, (h, c) = m(x)
    assert type(out.grad_fn).__name__ == "RnnStackBackward0"
    assert out.grad_fn is h.grad_fn is c.grad_fn
    m2 = mt.nn.LSTM(IN, HID, num_layers=2, dropout=0.5)

    @mt.jit
    def f(x):
        return m2(x)[0].sum()

    x = _t(T, B, IN)
    mt.manual_seed(0)
    a, b = float(f(x)), float(f(x))
    mt.manual_seed(0)
    assert a != b and float(f(x)) == pytest.approx(a, rel=1e-5)
