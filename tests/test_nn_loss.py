"""Loss layers and loss functionals against torch: reprs, layer parity (weights as buffers,
input gradients with class weights), errors, legacy arguments, and shape properties.

Kernel values and gradients for many options come from the op samples (test_op_parity.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt
import minitorch_jax.nn.functional as F

from .nn_oracle import compare_module
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

TF = torch.nn.functional
RNG = np.random.default_rng(0)


def _a(*shape, dtype="float32", low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape).astype(dtype)


def _idx(*shape, c=4):
    return RNG.integers(0, c, size=shape).astype("int64")


def _pm1(*shape, dtype="float32"):
    return (RNG.integers(0, 2, size=shape) * 2 - 1).astype(dtype)


W4 = np.array([0.5, 1.0, 2.0, 0.25], "float32")

REPRS = [("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss",
                                                                                              {}),
         ("CrossEntropyLoss", {"label_smoothing": 0.1}), ("NLLLoss", {"ignore_index": 2}), ("BCELoss", {}),
         ("BCEWithLogitsLoss", {}), ("KLDivLoss", {"log_target": True}), ("CosineEmbeddingLoss",
                                                                          {"margin": 0.2}),
         ("MarginRankingLoss", {}), ("TripletMarginLoss", {"p": 1.0}), ("HingeEmbeddingLoss", {}),
         ("SoftMarginLoss", {}), ("MultiLabelSoftMarginLoss", {}), ("PoissonNLLLoss",
                                                                    {}), ("GaussianNLLLoss", {})]


@pytest.mark.parametrize("name,kw", REPRS, ids=[r[0] for r in REPRS])
def test_repr_and_attributes(name, kw):
    m, t = getattr(mt.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(m) == repr(t)
    assert m.reduction == t.reduction
    for k in kw:
        assert getattr(m, k) == getattr(t, k)


def test_weight_buffers():
    w = mt.tensor(W4)
    ce = mt.nn.CrossEntropyLoss(weight=w)
    assert [n for n, _ in ce.named_buffers()] == ["weight"] and not list(ce.parameters())
    assert list(mt.nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict())
    bce = mt.nn.BCEWithLogitsLoss(weight=w, pos_weight=w)
    assert sorted(bce.state_dict()) == ["pos_weight", "weight"]
    assert ce.double().weight.dtype is mt.float64


def test_legacy_size_average_reduce():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, rd in [(False, None), (None, False), (True, True)]:
            assert mt.nn.MSELoss(sa, rd).reduction == torch.nn.MSELoss(sa, rd).reduction
        x, y = _a(3, 4), _a(3, 4)
        assert_same(F.mse_loss(to_mt(x), to_mt(y), size_average=False),
                    TF.mse_loss(to_torch(x), to_torch(y), size_average=False))
    assert_same(F.l1_loss(to_mt(x), to_mt(y), reduction=2), TF.l1_loss(to_torch(x), to_torch(y),
                                                                       reduction="sum"))


CASES = [
    ("MSELoss", {}, lambda: (_a(3, 4), _a(3, 4))),
    ("L1Loss", {"reduction": "none"}, lambda: (_a(3, 4), _a(3, 4))),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: (_a(3, 4), _a(3, 4))),
    ("HuberLoss", {"delta": 0.7, "reduction": "sum"}, lambda: (_a(3, 4), _a(3, 4))),
    ("CrossEntropyLoss", {}, lambda: (_a(5, 4), _idx(5))),
    ("CrossEntropyLoss", {"weight": W4, "label_smoothing": 0.2}, lambda: (_a(5, 4), _idx(5))),
    ("CrossEntropyLoss", {"weight": W4, "ignore_index": 1, "reduction": "none"}, lambda: (_a(5, 4, 3),
                                                                                          _idx(5, 3))),
    ("CrossEntropyLoss", {"weight": W4}, lambda: (_a(5, 4), RNG.dirichlet(np.ones(4), 5).astype("float32"))),
    ("NLLLoss", {"weight": W4}, lambda: (_a(5, 4, 2, 2), _idx(5, 2, 2))),
    ("BCELoss", {"weight": W4}, lambda: (_a(3, 4, low=0.05, high=0.95), _a(3, 4, low=0, high=1))),
    ("BCEWithLogitsLoss", {"weight": W4, "pos_weight": W4 * 2}, lambda: (_a(3, 4), _a(3, 4, low=0, high=1))),
    ("KLDivLoss", {"reduction": "batchmean"}, lambda: (_a(3, 4), _a(3, 4, low=0.1, high=1))),
    ("CosineEmbeddingLoss", {"margin": 0.1}, lambda: (_a(4, 5), _a(4, 5), _pm1(4, dtype="int64"))),
    ("MarginRankingLoss", {"margin": 0.3}, lambda: (_a(6), _a(6), _pm1(6))),
    ("TripletMarginLoss", {"swap": True}, lambda: (_a(4, 5), _a(4, 5), _a(4, 5))),
    ("HingeEmbeddingLoss", {"margin": 0.5}, lambda: (_a(3, 4), _pm1(3, 4, dtype="int64"))),
    ("SoftMarginLoss", {}, lambda: (_a(3, 4), _pm1(3, 4, dtype="int64"))),
    ("MultiLabelSoftMarginLoss", {"weight": W4}, lambda: (_a(3, 4), _a(3, 4, low=0, high=1))),
    ("PoissonNLLLoss", {"full": True}, lambda: (_a(3, 4), _a(3, 4, low=0, high=4))),
    ("GaussianNLLLoss", {"full": True}, lambda: (_a(3, 4), _a(3, 4), _a(3, 1, low=0.1, high=2))),
]


def _build(lib, name, kw):
    kw = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    return getattr(lib.nn, name)(**kw)


@pytest.mark.parametrize("name,kw,inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_module_parity(name, kw, inputs):
    args = inputs()
    m, t = _build(mt, name, kw), _build(torch, name, kw)
    compare_module(m, t, *args)
    # the module is its functional
    fn = {"MSELoss": F.mse_loss, "CrossEntropyLoss": F.cross_entropy}.get(name)
    if fn is not None:
        margs = to_mt(list(args))
        direct = fn(*margs, **{k: (mt.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()})
        np.testing.assert_array_equal(np.asarray(m(*margs)._data), np.asarray(direct._data))


def test_cross_entropy_float64_and_grad_with_weights():
    x, t = _a(6, 4, 3, dtype="float64"), _idx(6, 3)
    t[0, 0] = -100
    for red in ("mean", "sum", "none"):
        mx, tx = to_mt(x, True), to_torch(x, True)
        mo = F.cross_entropy(mx, to_mt(t), weight=mt.tensor(W4.astype("float64")), reduction=red,
                             label_smoothing=0.15)
        to_ = TF.cross_entropy(tx, to_torch(t), weight=torch.tensor(W4.astype("float64")), reduction=red,
                               label_smoothing=0.15)
        assert_same(mo, to_)
        check_grads(mo, to_, [mx], [tx])


def test_cross_entropy_all_ignored_is_nan_with_zero_grad():
    x = mt.tensor(_a(3, 4), requires_grad=True)
    loss = F.cross_entropy(x, mt.full((3,), -100, dtype=mt.int64), weight=mt.tensor(W4))
    assert np.isnan(loss.item())
    loss.backward()
    assert not np.any(np.asarray(x.grad._data))


_VALUE_ERRORS = [  # (loss, input, target, extra): data-dependent errors torch's CPU kernels raise
    ("cross_entropy", _a(3, 4), np.array([0, 1, 7]), {}),
    ("cross_entropy", _a(3, 4), np.array([0, -3, 1]), {"label_smoothing": 0.1}),
    ("cross_entropy", _a(2, 4, 3), np.array([[0, 1, 2], [3, 9, 0]]), {"reduction": "none"}),
    ("cross_entropy", _a(4), np.array(4), {}),
    ("nll_loss", _a(3, 4), np.array([0, -3, 1]), {}),
    ("nll_loss", _a(3, 4), np.array([0, 5, 1]), {"ignore_index": 1}),
    ("multi_margin_loss", _a(3, 4), np.array([0, 4, 1]), {}),
    ("multi_margin_loss", _a(3, 4), np.array([0, -1, 1]), {}),
    ("multilabel_margin_loss", _a(2, 4), np.array([[0, -2, 1, 0]] * 2), {}),
    ("multilabel_margin_loss", _a(2, 4), np.array([[0, -1, 7, 0]] * 2), {}),
    ("binary_cross_entropy", np.array([1.5, 0.2], "float32"), np.array([1.0, 0.0], "float32"), {}),
    ("binary_cross_entropy", np.array([np.nan, 0.2], "float32"), np.array([1.0, 0.0], "float32"), {}),
    ("binary_cross_entropy", np.array([-1e-3], "float32"), np.array([1.0], "float32"), {}),
]


@pytest.mark.parametrize("name,x,t,kw", _VALUE_ERRORS, ids=[f"{c[0]}-{i}" for i, c in
                                                              enumerate(_VALUE_ERRORS)])
def test_data_dependent_errors_match_torch(name, x, t, kw):
    """Out-of-range class indices and probabilities raise as in torch (same type, torch's message
    inside ours, which also names the op and the valid range); the valid neighbours still work."""
    with pytest.raises(Exception) as te:
        getattr(TF, name)(torch.from_numpy(x), torch.from_numpy(t), **kw)
    with pytest.raises(type(te.value)) as me:  # (on the CPU: accelerators skip these checks)
        getattr(F, name)(mt.tensor(x, device="cpu"), mt.tensor(t, device="cpu"), **kw)
    assert str(te.value).rstrip(".") in str(me.value) and str(me.value).startswith(name + "()"), \
        (str(me.value), str(te.value))


def test_gaussian_nll_negative_var_raises_like_torch():
    x, t, v = _a(3), _a(3), np.array([1.0, -1.0, 1.0], "float32")
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        TF.gaussian_nll_loss(*map(torch.from_numpy, (x, t, v)))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss\(\): var has negative entry/entries"):
        F.gaussian_nll_loss(*(mt.tensor(a, device="cpu") for a in (x, t, v)))
    assert np.isfinite(F.gaussian_nll_loss(*map(mt.tensor, (x, t, np.abs(v)))).item())


def test_cross_entropy_valid_edges_and_jit():
    """ignore_index and the last class pass the check; under mt.jit (no values) an out-of-range
    index gives NaN, as documented, and valid targets match torch."""
    x = _a(3, 4)
    for tgt in ([0, 3, -100], [3, 3, 3]):
        np.testing.assert_allclose(F.cross_entropy(mt.tensor(x), mt.tensor(tgt)).item(),
                                   TF.cross_entropy(torch.from_numpy(x), torch.tensor(tgt)).item(),
                                   rtol=1e-6)
    empty = F.cross_entropy(mt.tensor(x[:0]), mt.tensor(np.zeros(0, np.int64)), reduction="sum")
    assert empty.item() == TF.cross_entropy(torch.from_numpy(x[:0]), torch.zeros(0, dtype=torch.int64),
                                            reduction="sum").item()
    f = mt.jit(lambda a, b: F.cross_entropy(a, b))
    assert np.isnan(f(mt.tensor(x), mt.tensor([0, 1, 4])).item())
    np.testing.assert_allclose(f(mt.tensor(x), mt.tensor([0, 1, 2])).item(),
                               TF.cross_entropy(torch.from_numpy(x), torch.tensor([0, 1, 2])).item(),
                               rtol=1e-6)


def test_errors():
    x = mt.tensor(_a(3, 4))
    with pytest.raises(ValueError,
                       match="Expected input batch_size \\(3\\) to match target batch_size \\(2\\)"):
        F.cross_entropy(x, mt.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(x, mt.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError,
                       match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(x, mt.zeros(3, 4, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="Expected target size \\[3, 5\\], got \\[3, 4\\]"):
        F.cross_entropy(mt.randn(3, 4, 5), mt.zeros(3, 4, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), weight=mt.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.cross_entropy(x, mt.tensor([0, 1, 2]), reduction="foo")
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        mt.nn.MSELoss(reduction="foo")(x, x)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.nll_loss(x, mt.tensor([0, 1, 2]), weight=mt.ones(4, requires_grad=True))
    with pytest.raises(ValueError, match="Using a target size"):
        F.binary_cross_entropy(mt.rand(3), mt.rand(3, 1))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(mt.rand(3), mt.rand(3, 1))
    with pytest.raises(RuntimeError, match="must match the size"):
        F.mse_loss(mt.rand(3), mt.rand(4))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(mt.rand(3, 1), mt.rand(3, 2))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0.0)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, mt.ones(2))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        F.cosine_embedding_loss(mt.rand(3), mt.rand(3), mt.ones(3))


@settings(max_examples=12)  # each new shape compiles a kernel: keep the count small
@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(0, 7),
       st.sampled_from(["mean", "sum", "none"]))
def test_mse_l1_broadcasting_property(shape, mask, reduction):
    """Targets that broadcast to the input (dims dropped or set to 1) give torch's values and grads."""
    tshape = [1 if (mask >> i) & 1 else d for i, d in enumerate(shape)][mask % (len(shape) + 1):]
    x, y = _a(*shape), _a(*tshape)
    for name in ("mse_loss", "smooth_l1_loss"):
        mx, tx = to_mt(x, True), to_torch(x, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mo = getattr(F, name)(mx, to_mt(y), reduction=reduction)
            to_ = getattr(TF, name)(tx, to_torch(y), reduction=reduction)
        assert_same(mo, to_)
        check_grads(mo, to_, [mx], [tx])


@settings(max_examples=12)
@given(st.integers(1, 3), st.integers(2, 4), st.lists(st.integers(1, 3), max_size=2), st.booleans())
def test_cross_entropy_kdim_property(n, c, spatial, probs):
    x = _a(n, c, *spatial)
    if probs:
        t = RNG.dirichlet(np.ones(c), (n, *spatial)).astype("float32")
        t = np.moveaxis(t, -1, 1)
    else:
        t = RNG.integers(0, c, size=(n, *spatial)).astype("int64")
    mx, tx = to_mt(x, True), to_torch(x, True)
    mo = F.cross_entropy(mx, to_mt(t), reduction="none", label_smoothing=0.1)
    to_ = TF.cross_entropy(tx, to_torch(t), reduction="none", label_smoothing=0.1)
    assert_same(mo, to_)
    check_grads(mo, to_, [mx], [tx])
