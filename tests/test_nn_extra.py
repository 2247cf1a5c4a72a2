"""embedding_bag / EmbeddingBag, ctc_loss / CTCLoss, affine_grid and grid_sample against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.nn.functional as F
from minitorch_jax.nn.modules.extra import CTCLoss, EmbeddingBag

from .nn_oracle import compare_module
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

TF = torch.nn.functional
rng = np.random.default_rng(7)


def _both(fn_mt, fn_t, args, kwargs=None, grad=True, rtol=None, atol=None):
    kwargs = kwargs or {}
    t_args, m_args = to_torch(list(args), grad), to_mt(list(args), grad)
    t_out = fn_t(*t_args, **to_torch(kwargs))
    m_out = fn_mt(*m_args, **kwargs)
    assert_same(m_out, t_out, rtol, atol)
    if grad:
        assert check_grads(m_out, t_out, m_args, t_args, rtol, atol)
    return m_out, t_out


# ----- embedding_bag ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode,kw", [
    ("sum", {}), ("mean", {}), ("max", {}),
    ("mean", {"padding_idx": 2}), ("max", {"padding_idx": 0}), ("sum", {"padding_idx": -1}),
    ("sum", {"include_last_offset": True}), ("max", {"include_last_offset": True})])
def test_embedding_bag_1d_values_and_grads(dtype, mode, kw):
    idx = np.array([2, 0, 2, 5, 1, 2, 3, 3, 4, 0])
    off = np.array([0, 3, 3, 7])  # bag 1 is empty
    if kw.get("include_last_offset"):
        off = np.array([0, 3, 3, 10])  # (torch's kernels disagree when offsets[-1] < len(input))
    w = rng.standard_normal((6, 4)).astype(dtype)
    _both(F.embedding_bag, TF.embedding_bag, [idx, w, off], dict(mode=mode, **kw))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_and_per_sample_weights(mode):
    idx = rng.integers(0, 7, (3, 5))
    w = rng.standard_normal((7, 2))
    _both(F.embedding_bag, TF.embedding_bag, [idx, w], dict(mode=mode, padding_idx=1))
    if mode == "sum":
        psw = rng.standard_normal((3, 5))
        _both(F.embedding_bag, TF.embedding_bag, [idx, w], dict(mode=mode, per_sample_weights=psw))
        psw1 = rng.standard_normal(6)
        _both(F.embedding_bag, TF.embedding_bag, [np.array([1, 2, 3, 1, 0, 6]), w, np.array([0, 2])],
              dict(mode="sum", per_sample_weights=psw1, padding_idx=3))


def test_embedding_bag_max_norm_renorms_weight_in_place():
    idx, off = np.array([0, 1, 1, 3]), np.array([0, 2])
    w = rng.standard_normal((5, 3)) * 3
    tw, mw = torch.tensor(w), mt.tensor(w)
    t = TF.embedding_bag(torch.tensor(idx), tw, torch.tensor(off), max_norm=1.0)
    m = F.embedding_bag(mt.tensor(idx), mw, mt.tensor(off), max_norm=1.0)
    assert_same(m, t)
    assert_same(mw, tw)


def test_embedding_bag_aten_form_matches_torch():
    idx, off = mt.tensor([1, 2, 4, 5, 4, 3, 2, 0]), mt.tensor([0, 2, 2, 5])
    w = mt.randn(6, 3)
    tw = torch.tensor(w.numpy())
    for mode in (1, 2):  # mean / max: output, offset2bag, bag_size, max_indices as torch's CPU kernel
        m = mt.embedding_bag(w, idx, off, False, mode)
        t = torch.embedding_bag(tw, torch.tensor(idx.numpy()), torch.tensor(off.numpy()), False, mode)
        assert_same(list(m), list(t))
    m = mt.embedding_bag(w, idx, off, False, 0)
    t = torch.embedding_bag(tw, torch.tensor(idx.numpy()), torch.tensor(off.numpy()), False, 0)
    assert_same(m[0], t[0])


def test_embedding_bag_traces_under_jit():
    w = mt.randn(6, 3, requires_grad=True)
    f = mt.jit(lambda i, o: F.embedding_bag(i, w, o, mode="max").sum())
    for n, off in ((5, [0, 2]), (7, [0, 1, 4])):  # new shapes recompile; values are traced
        i = mt.tensor(rng.integers(0, 6, n))
        o = mt.tensor(off)
        tw = torch.tensor(w.detach().numpy())
        expect = TF.embedding_bag(torch.tensor(i.numpy()), tw, torch.tensor(off),
                                  mode="max").sum().item()
        assert f(i, o).item() == pytest.approx(expect, rel=1e-5)


@pytest.mark.parametrize("call,exc,match", [
    (lambda i, w, o: F.embedding_bag(i, w, mt.tensor([1, 2])), RuntimeError, r"offsets\[0\] has to be "
                                                                              "0.*got 1"),
    (lambda i, w, o: F.embedding_bag(i, w, mt.tensor([0, 9])), RuntimeError, r"input's length 6 .* of 9"),
    (lambda i, w, o: F.embedding_bag(i, w, mt.tensor([0, 4, 2])), RuntimeError, "non-decreasing"),
    (lambda i, w, o: F.embedding_bag(mt.tensor([1, 7]), w, mt.tensor([0])), RuntimeError,
     r"Index 1 of input takes value 7 .*\[0, 5\)"),
    (lambda i, w, o: F.embedding_bag(i, w), ValueError, "offsets has to be a 1D Tensor but got None"),
    (lambda i, w, o: F.embedding_bag(i.view(2, 3), w, o), ValueError, "if input is 2D"),
    (lambda i, w, o: F.embedding_bag(i.view(1, 2, 3), w), ValueError, "dimension 3"),
    (lambda i, w, o: F.embedding_bag(i, w, o, mode="foo"), ValueError, "mode has to be one of"),
    (lambda i, w, o: F.embedding_bag(i, w, o, mode="max", scale_grad_by_freq=True), ValueError, "max mode"),
    (lambda i, w, o: F.embedding_bag(i, w, o, mode="mean", per_sample_weights=mt.ones(6)),
     NotImplementedError, "only supported for mode='sum'"),
    (lambda i, w, o: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=mt.ones(5)), ValueError,
     r"\[5\].*same shape as the input \(\[6\]\)"),
    (lambda i, w, o: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=mt.ones(6, dtype=mt.float64)),
     RuntimeError, "per_sample_weights"),
    (lambda i, w, o: F.embedding_bag(i.float(), w, o), RuntimeError, "Long, Int"),
    (lambda i, w, o: F.embedding_bag(i, w, o, padding_idx=5), RuntimeError, "-5 through 4, but got 5"),
    (lambda i, w, o: F.embedding_bag(i, w.view(-1), o), ValueError, "2D Tensor"),
])
def test_embedding_bag_errors(call, exc, match):
    i, w, o = mt.tensor([0, 1, 2, 3, 4, 0]), mt.randn(5, 3), mt.tensor([0, 2])
    with pytest.raises(exc, match=match):
        call(i, w, o)


@pytest.mark.parametrize("kw", [{}, {"mode": "sum", "padding_idx": -1}, {"mode": "max", "max_norm": 1.0},
                                {"norm_type": 1.0, "scale_grad_by_freq": True, "include_last_offset": True}])
def test_embedding_bag_module_repr_state_and_parity(kw):
    t = torch.nn.EmbeddingBag(6, 3, **kw)
    m = EmbeddingBag(6, 3, **kw)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight"]
    idx = np.array([4, 0, 2, 5, 1])
    off = np.array([0, 2, 5]) if kw.get("include_last_offset") else np.array([0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_module(m, t, idx, off, grad=True)


def test_embedding_bag_module_init_and_from_pretrained():
    m = EmbeddingBag(5, 2, padding_idx=1)
    assert m.weight.shape == (5, 2) and np.all(m.weight.detach().numpy()[1] == 0)
    assert np.all(np.asarray(m(mt.tensor([[1, 1]])).detach().numpy()) == 0)
    emb = mt.randn(4, 3)
    f = EmbeddingBag.from_pretrained(emb, mode="sum")
    assert not f.weight.requires_grad and f.mode == "sum"
    assert EmbeddingBag.from_pretrained(emb, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError):
        EmbeddingBag.from_pretrained(mt.randn(4))
    with pytest.raises(AssertionError):
        EmbeddingBag(4, 2, padding_idx=4)


# ----- ctc_loss --------------------------------------------------------------------------------
def _log_probs(t, n, c, dtype):
    x = rng.standard_normal((t, n, c))
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)


@pytest.mark.parametrize("dtype,reduction", [("float64", "none"), ("float64", "mean"), ("float32", "sum")])
def test_ctc_padded_targets(dtype, reduction):
    lp = _log_probs(8, 3, 5, dtype)
    tg = rng.integers(1, 5, (3, 4))
    tl = np.array([4, 2, 0])
    il = np.array([8, 6, 3])
    rtol = 1e-4 if dtype == "float32" else None
    _both(F.ctc_loss, TF.ctc_loss, [lp, tg, il, tl], dict(reduction=reduction), rtol=rtol, atol=rtol)
    _both(F.ctc_loss, TF.ctc_loss, [lp, tg, (8, 6, 3), (4, 2, 0)], dict(reduction=reduction), rtol=rtol,
          atol=rtol)


@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_concatenated_targets_and_blank(blank):
    lp = _log_probs(7, 2, 5, "float64")
    labels = [c for c in range(5) if c != blank]
    tl = np.array([3, 4])
    tg = rng.choice(labels, int(tl.sum()))
    tg[1] = tg[0]  # a repeated label (needs a blank between)
    _both(F.ctc_loss, TF.ctc_loss, [lp, tg, np.array([7, 7]), tl], dict(blank=blank, reduction="none"))
    _both(F.ctc_loss, TF.ctc_loss, [lp, tg, (7, 5), (3, 4)], dict(blank=blank))


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_impossible_alignment(zero_infinity):
    lp = _log_probs(3, 2, 3, "float64")
    tg = np.array([[1, 1, 1], [1, 2, 0]])  # sample 0 needs 5 frames, has 3
    for red in (("none", "mean") if not zero_infinity else ("sum",)):
        _both(F.ctc_loss, TF.ctc_loss, [lp, tg, (3, 3), (3, 2)],
              dict(reduction=red, zero_infinity=zero_infinity))


def test_ctc_unbatched_and_gradient_through_log_softmax():
    lp = _log_probs(5, 1, 4, "float64")[:, 0]
    _both(F.ctc_loss, TF.ctc_loss, [lp, np.array([1, 3]), np.array(5), np.array(2)], dict(reduction="none"))
    logits = rng.standard_normal((6, 2, 4))
    tg, il, tl = np.array([[1, 2, 2], [3, 1, 0]]), (6, 5), (3, 2)
    _both(lambda x, *a: F.ctc_loss(x.log_softmax(2), *a), lambda x, *a: TF.ctc_loss(x.log_softmax(2), *a),
          [logits, tg, il, tl])


def test_ctc_module_and_jit():
    t, m = torch.nn.CTCLoss(blank=1, zero_infinity=True), CTCLoss(blank=1, zero_infinity=True)
    assert repr(m) == repr(t) == "CTCLoss()"
    lp, tg = _log_probs(6, 2, 4, "float32"), np.array([[2, 3, 2], [3, 0, 0]])
    compare_module(m, t, lp, tg, np.array([6, 4]), np.array([3, 1]), rtol=1e-4, atol=1e-5)
    f = mt.jit(lambda x, y, a, b: F.ctc_loss(x, y, a, b, reduction="sum"))
    got = f(mt.tensor(lp), mt.tensor(tg), mt.tensor([6, 4]), mt.tensor([3, 1])).item()
    want = TF.ctc_loss(torch.tensor(lp), torch.tensor(tg), torch.tensor([6, 4]), torch.tensor([3, 1]),
                       reduction="sum").item()
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("il,tl,kw,exc,match", [
    ((6, 5), (3, 2), {}, RuntimeError, r"input_lengths to have value at most 5.*got value 6"),
    ("tensor", None, {}, RuntimeError, r"input_lengths to have value at most 5.*got value 6"),
    ((5, 5), (4, 2), {}, RuntimeError, r"size at least 4 at dimension 1, but got size 3"),
    ((5, -1), (3, 2), {}, RuntimeError, "input_lengths to have value at least 0, but got value -1"),
    ((5, 5, 5), (3, 2), {}, RuntimeError, "input_lengths must be of size batch_size"),
    ((5, 5), (3, 2), {"blank": 4}, RuntimeError, "blank must be in label range"),
    ((5, 5), (3, 2), {"reduction": "foo"}, ValueError, "foo is not a valid value for reduction"),
    (5, (3, 2), {}, TypeError, "input_lengths must be a Tensor or a tuple of ints"),
])
def test_ctc_errors(il, tl, kw, exc, match):
    lp = mt.tensor(_log_probs(5, 2, 4, "float32"))
    tg = mt.tensor([[1, 2, 3], [1, 1, 0]])
    if il == "tensor":  # lengths as tensors: checked after the (single) dispatch, in eager mode
        il, tl = mt.tensor([6, 5]), mt.tensor([3, 2])
    with pytest.raises(exc, match=match):
        F.ctc_loss(lp, tg, il, tl, **kw)


def test_ctc_concatenated_length_mismatch_and_int_log_probs():
    lp = mt.tensor(_log_probs(5, 2, 4, "float32"))
    with pytest.raises(RuntimeError, match=r"size 6 at dimension 0, but got size 5"):
        F.ctc_loss(lp, mt.tensor([1, 2, 3, 1, 2]), (5, 5), (3, 3))
    with pytest.raises(RuntimeError, match="not implemented for 'Int'"):
        F.ctc_loss(lp.int(), mt.tensor([[1, 2]]).expand(2, 2), (5, 5), (2, 2))


# ----- affine_grid / grid_sample ---------------------------------------------------------------
@pytest.mark.parametrize("mode,padding_mode,dtype", [
    (m, p, "float64") for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection")
] + [("bilinear", "reflection", "float32"), ("bicubic", "border", "float32")])
def test_affine_grid_then_grid_sample_2d(mode, padding_mode, dtype):
    theta = (np.eye(2, 3)[None] + 0.4 * rng.standard_normal((2, 2, 3))).astype(dtype)
    x = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    tol = 1e-4 if dtype == "float32" else None
    for ac in (False, True):
        def run(lib_f, th, inp, ac=ac):
            g = lib_f.affine_grid(th, (2, 3, 4, 6), align_corners=ac)
            return lib_f.grid_sample(inp, g, mode=mode, padding_mode=padding_mode, align_corners=ac)
        _both(lambda th, inp: run(F, th, inp), lambda th, inp: run(TF, th, inp), [theta, x], rtol=tol,
              atol=tol)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(mode):
    x = rng.standard_normal((1, 2, 3, 4, 5))
    theta = np.eye(3, 4)[None] + 0.3 * rng.standard_normal((1, 3, 4))
    for pad in ("zeros", "reflection"):
        def run(lib_f, th, inp, pad=pad):
            g = lib_f.affine_grid(th, (1, 2, 2, 3, 4), align_corners=False)
            return lib_f.grid_sample(inp, g, mode=mode, padding_mode=pad, align_corners=False)
        _both(lambda th, inp: run(F, th, inp), lambda th, inp: run(TF, th, inp), [theta, x])


def test_grid_sample_exact_boundaries_and_jit():
    # grid points exactly on the borders and pixel centres: where torch's clip/reflect gradients switch
    x = rng.standard_normal((1, 1, 3, 3))
    g = np.array([[[[-1.0, -1.0], [1.0, 1.0], [0.0, 1.0]], [[1.0, -1.0], [0.5, 0.5], [-1.0, 0.0]]]])
    for pad in ("zeros", "border", "reflection"):
        for ac in (False, True):
            _both(F.grid_sample, TF.grid_sample, [x, g], dict(padding_mode=pad, align_corners=ac))
    f = mt.jit(lambda a, b: F.grid_sample(a, b, align_corners=True))
    want = TF.grid_sample(torch.tensor(x), torch.tensor(g), align_corners=True)
    assert_same(f(mt.tensor(x), mt.tensor(g)), want)


def test_align_corners_none_warns():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        g = F.affine_grid(mt.tensor(np.eye(2, 3, dtype="float32")[None]), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(mt.zeros(1, 1, 2, 2), g)


@pytest.mark.parametrize("call,exc,match", [
    (lambda x, g: F.grid_sample(x, mt.rand(1, 3, 3, 3), align_corners=False), RuntimeError,
     r"size 2 in last dimension, but got grid with sizes \[1, 3, 3, 3\]"),
    (lambda x, g: F.grid_sample(x, mt.rand(2, 3, 3, 2), align_corners=False), RuntimeError, "same batch "
                                                                                            "size"),
    (lambda x, g: F.grid_sample(x, mt.rand(1, 3, 3, 3, 2), align_corners=False), RuntimeError,
     "same number of dimensions"),
    (lambda x, g: F.grid_sample(x[0], g[0], align_corners=False), RuntimeError, r"4D or 5D"),
    (lambda x, g: F.grid_sample(x, g.double(), align_corners=False), RuntimeError, "same dtype"),
    (lambda x, g: F.grid_sample(x, g, mode="foo", align_corners=False), ValueError, "expected mode"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="foo", align_corners=False), ValueError, "padding_mode"),
    (lambda x, g: F.grid_sample(x.view(1, 2, 4, 4, 1), mt.rand(1, 1, 1, 1, 3), mode="bicubic",
                                align_corners=False), RuntimeError, "bicubic interpolation only supports 4D"),
    (lambda x, g: F.grid_sample(mt.zeros(1, 2, 0, 4), g, align_corners=False), RuntimeError, "non-empty "
                                                                                             "spatial"),
    (lambda x, g: F.affine_grid(mt.rand(1, 3, 3), (1, 1, 4, 4), align_corners=False), ValueError, "Nx2x3"),
    (lambda x, g: F.affine_grid(mt.rand(1, 2, 3), (1, 1, 4, 4, 4), align_corners=False), ValueError, "Nx3x4"),
    (lambda x, g: F.affine_grid(mt.rand(1, 2, 3), (1, 1, 4), align_corners=False), NotImplementedError,
     "only supports 4D and 5D sizes"),
    (lambda x, g: F.affine_grid(mt.rand(2, 2, 3), (1, 1, 4, 4), align_corners=False), RuntimeError,
     "batch of 2 matrices"),
    (lambda x, g: F.affine_grid(mt.ones(1, 2, 3, dtype=mt.int64), (1, 1, 4, 4), align_corners=False),
     ValueError, "floating point"),
    (lambda x, g: F.affine_grid(mt.rand(1, 2, 3), (1, 1, 0, 4), align_corners=False), ValueError,
     "positive output size"),
])
def test_grid_errors(call, exc, match):
    x, g = mt.randn(1, 2, 4, 4), mt.rand(1, 3, 3, 2) * 2 - 1
    with pytest.raises(exc, match=match):
        call(x, g)
