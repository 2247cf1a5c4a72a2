"""F.linear_cross_entropy / nn.LinearCrossEntropyLoss (plain and chunked paths) against torch: values,
gradients (input, weight, bias), errors, the chunked path's memory, mt.jit; and the small late/legacy
names: NLLLoss2d, Container, factory_kwargs, F.native_channel_shuffle, F.conv_tbc."""

from __future__ import annotations

import warnings
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn._functional_extra import _chunk_rows, _lce_chunked_k
from tests.oracle import assert_same, check_grads, to_mt, to_torch, torch

F = mt.nn.functional
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def _a(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _t(*shape, c=5, ignore=None):
    t = RNG.integers(0, c, shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[0] = ignore
    return t


def _probs(*shape):
    e = np.exp(_a(*shape))
    return (e / e.sum(1 if len(shape) > 1 else 0, keepdims=True)).astype(np.float32)


def _opts(lib, **kw):
    return (mt.nn if lib == "mt" else torch.nn).LinearCrossEntropyOptions(**kw)


def run_both(x, w, t, bias=None, options=None, rtol=None, atol=None, **kw):
    """The same call in both libraries; compare the loss and the gradients of input, weight, bias."""
    mx, mw, mb = to_mt([x, w, bias], grad=True)
    tx, tw, tb = to_torch([x, w, bias], grad=True)
    mkw, tkw = to_mt(kw), to_torch(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the chunked path must not fall back here
        m = F.linear_cross_entropy(mx, mw, to_mt(t), linear_bias=mb, options=None if options is None else
                                   _opts("mt", **options), **mkw)
        r = TF.linear_cross_entropy(tx, tw, to_torch(t), linear_bias=tb, options=None if options is None else
                                    _opts("torch", **options), **tkw)
    assert_same(m, r, rtol, atol)
    assert check_grads(m, r, [mx, mw, mb], [tx, tw, tb], rtol, atol)


# one problem size throughout (7 x 4 inputs, 5 classes): the compiled kernels are shared between tests
CASES = [("mean", None), ("sum", None), ("none", None), ("mean", dict(batch_chunk_size=3)),
         ("sum", dict(batch_chunk_size=3)), ("none", dict(batch_chunk_size=3)), ("mean", dict())]


@pytest.mark.parametrize("reduction,options", CASES, ids=[f"{r}-{o}" for r, o in CASES])
def test_index_targets(reduction, options):
    run_both(_a(7, 4), _a(5, 4), _t(7, ignore=-100), bias=_a(5), options=options, reduction=reduction)


@pytest.mark.parametrize("options", [None, dict(batch_chunk_size=3)], ids=["plain", "chunked"])
def test_class_weight_ignore_index_and_unbatched(options):
    run_both(_a(7, 4), _a(5, 4), _t(7, ignore=2), options=options, weight=_a(5) ** 2, ignore_index=2)
    run_both(_a(4), _a(5, 4), _t(), bias=_a(5), options=options)
    run_both(_a(7, 4, dtype=np.float64), _a(5, 4, dtype=np.float64), _t(7), options=options,
             bias=_a(5, dtype=np.float64), reduction="none")


def test_all_ignored_and_empty_batch_give_nan_mean():
    run_both(_a(7, 4), _a(5, 4), np.full(7, -100))
    # the chunked path too, with the plain path's zero gradient (torch's chunked backward gives NaN)
    x, w = mt.tensor(_a(7, 4), requires_grad=True), mt.tensor(_a(5, 4), requires_grad=True)
    out = F.linear_cross_entropy(x, w, mt.full((7,), -100), options=_opts("mt", batch_chunk_size=3))
    out.backward()
    assert np.isnan(float(out))
    assert not np.any(np.asarray(x.grad._data)) and not np.any(np.asarray(w.grad._data))
    for options in (None, _opts("mt", batch_chunk_size=3)):
        out = F.linear_cross_entropy(mt.zeros(0, 4), mt.ones(5, 4), mt.zeros(0, dtype=mt.int64),
                                     options=options)
        assert np.isnan(float(out))


def test_plain_only_options():
    # label smoothing, probability targets and K-dimensional losses (the reference path)
    run_both(_a(7, 4), _a(5, 4), _t(7, ignore=-100), bias=_a(5), label_smoothing=0.2, weight=_a(5) ** 2)
    run_both(_a(7, 4), _a(5, 4), _probs(7, 5), reduction="none", label_smoothing=0.1)
    run_both(_a(7, 4), _a(5, 2, 3, 4), _t(7, 2, 3), bias=_a(5, 2, 3), reduction="sum")


def test_options_that_need_the_plain_path_warn_like_torch():
    x, w, t = _a(6, 4), _a(5, 4), _t(6)
    with pytest.warns(UserWarning) as rec:
        m = F.linear_cross_entropy(mt.tensor(x), mt.tensor(w), mt.tensor(t), label_smoothing=0.1,
                                   options=_opts("mt"))
    with pytest.warns(UserWarning) as trec:
        r = TF.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t), label_smoothing=0.1,
                                    options=_opts("torch"))
    assert_same(m, r)
    msg, tmsg = str(rec[0].message), str(trec[0].message)
    assert msg.replace("minitorch_jax.", "torch.") == tmsg


def _errors_equal(mcall, tcall, mtype=None):
    with pytest.raises(Exception) as te:
        tcall()
    with pytest.raises(mtype or type(te.value)) as me:
        mcall()
    assert str(me.value).replace("minitorch_jax.", "torch.") == str(te.value)


ERR = [((6, 4), (5, 4), (6,), dict(x3=True)), ((6, 4), (4,), (6,), {}), ((6, 4), (5, 3), (6,), {}),
       ((4,), (5, 2, 4), (2,), {}), ((6, 4), (5, 2, 4), (6, 2), dict(bias=(5,))),
       ((6, 4), (5, 4), (6,), dict(bias=(5, 1))), ((6, 4), (5, 4), (6, 5), dict(ignore_index=1, probs=True)),
       ((6, 4), (5, 4), (6, 5), dict(ignore_index=-100, probs=True))]


@pytest.mark.parametrize("xs,ws,ts,kw", ERR, ids=[str(i) for i in range(len(ERR))])
@pytest.mark.parametrize("chunked", [False, True])
def test_errors_equal_torch(xs, ws, ts, kw, chunked):
    kw = dict(kw)
    x = _a(*xs).reshape(2, 3, 4) if kw.pop("x3", False) else _a(*xs)
    t = _probs(*ts) if kw.pop("probs", False) else _t(*ts)
    b = _a(*kw.pop("bias")) if "bias" in kw else None
    _errors_equal(
        lambda: F.linear_cross_entropy(to_mt(x), to_mt(_a(*ws)), to_mt(t), linear_bias=to_mt(b),
                                       options=_opts("mt") if chunked else None, **kw),
        lambda: TF.linear_cross_entropy(to_torch(x), to_torch(_a(*ws)), to_torch(t), linear_bias=to_torch(b),
                                        options=_opts("torch") if chunked else None, **kw))


def test_chunked_errors():
    x, w, t = _a(6, 4), _a(5, 4), _t(6)
    for dt, acc in (("float64", "float32"), ("float32", "float16"), ("float32", "float64")):
        mt_d, t_d = getattr(mt, dt), getattr(torch, dt)
        _errors_equal(
            partial(F.linear_cross_entropy, mt.tensor(x).to(mt_d), mt.tensor(w).to(mt_d), mt.tensor(t),
                    options=_opts("mt", acc_dtype=getattr(mt, acc))),
            partial(TF.linear_cross_entropy, torch.tensor(x).to(t_d), torch.tensor(w).to(t_d),
                    torch.tensor(t), options=_opts("torch", acc_dtype=getattr(torch, acc))))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(6\) to match target batch_size \(5\)"):
        F.linear_cross_entropy(mt.tensor(x), mt.tensor(w), mt.tensor(t[:5]), options=_opts("mt"))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5 classes"):
        F.linear_cross_entropy(mt.tensor(x), mt.tensor(w), mt.tensor(t), weight=mt.ones(3),
                               options=_opts("mt"))
    with pytest.raises(TypeError, match="options must be a LinearCrossEntropyOptions or None, got int"):
        F.linear_cross_entropy(mt.tensor(x), mt.tensor(w), mt.tensor(t), options=3)


def test_half_precision_accumulates_in_float32():
    x, w, t = _a(16, 4), _a(5, 4), _t(16)
    m = F.linear_cross_entropy(mt.tensor(x).bfloat16(), mt.tensor(w).bfloat16(), mt.tensor(t),
                               options=_opts("mt", batch_chunk_size=4))
    r = TF.linear_cross_entropy(torch.tensor(x).bfloat16(), torch.tensor(w).bfloat16(), torch.tensor(t),
                                options=_opts("torch", batch_chunk_size=4))
    assert m.dtype == mt.bfloat16
    np.testing.assert_allclose(float(m), float(r), rtol=2e-2)


BAD_OPTS = [dict(batch_chunk_size=0), dict(batch_chunk_size=1.5), dict(chunking_method="foo"),
            dict(chunking_method="aspect_ratio:0"), dict(chunking_method="aspect_ratio:x"),
            dict(acc_policy="fast"), dict(acc_policy=None), dict(acc_dtype="int32")]


@pytest.mark.parametrize("kw", BAD_OPTS, ids=[str(k) for k in BAD_OPTS])
def test_options_validation_equals_torch(kw):
    tkw = {k: (getattr(torch, v) if k == "acc_dtype" else v) for k, v in kw.items()}
    mkw = {k: (getattr(mt, v) if k == "acc_dtype" else v) for k, v in kw.items()}
    _errors_equal(partial(mt.nn.LinearCrossEntropyOptions, **mkw),
                  partial(torch.nn.LinearCrossEntropyOptions, **tkw))


def test_chunk_rows():
    O = mt.nn.LinearCrossEntropyOptions
    assert _chunk_rows(O(batch_chunk_size=5, chunking_method=None), 100, 4) == 5
    assert _chunk_rows(O(chunking_method=None), 100, 4) == 100
    assert _chunk_rows(O(), 100, 4) == 8 and _chunk_rows(O(chunking_method="aspect_ratio"), 100, 4) == 4
    assert _chunk_rows(O(chunking_method="aspect_ratio:3"), 100, 4) == 12


def test_options_dataclass():
    O = mt.nn.LinearCrossEntropyOptions
    for kw in ({}, dict(batch_chunk_size=8, chunking_method="aspect_ratio:3", acc_policy="compact"),
               dict(chunking_method=None, allow_retain_graph=True, acc_policy="accurate")):
        assert repr(O(**kw)) == repr(torch.nn.LinearCrossEntropyOptions(**kw))
    assert "acc_dtype=minitorch_jax.float32" in repr(O(acc_dtype=mt.float32))
    o = O(batch_chunk_size=4)
    assert o == O(batch_chunk_size=4) and hash(o) == hash(O(batch_chunk_size=4)) and o != O()
    with pytest.raises(AttributeError):
        o.batch_chunk_size = 5


def _chunked_grad_jaxpr(n, c, k, chunk):
    x, w, t = jnp.ones((n, k), jnp.float32), jnp.ones((c, k), jnp.float32), jnp.zeros((n,), jnp.int32)

    def loss(x, w):
        return _lce_chunked_k(x, w, t, None, None, -100, "mean", chunk, "float32")

    return str(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(x, w))


def test_chunked_path_never_holds_the_full_logits():
    # forward and backward: the largest logits block is (chunk, C), never (N, C)
    text = _chunked_grad_jaxpr(64, 37, 3, 8)
    assert "f32[8,37]" in text and "f32[64,37]" not in text
    plain = str(jax.make_jaxpr(jax.grad(lambda x, w: jax.nn.logsumexp(x @ w.T, axis=1).sum()))(
        jnp.ones((64, 3), jnp.float32), jnp.ones((37, 3), jnp.float32)))
    assert "f32[64,37]" in plain  # (the check can fail)


@pytest.mark.parametrize("kw,chunked", [(dict(bias=True), False), (dict(bias=True, reduction="none"), True),
                                        (dict(out_features=(2, 3), bias=True), False),
                                        (dict(weight=np.linspace(0.5, 2, 5).astype(np.float32),
                                              ignore_index=1, reduction="sum"), True)])
def test_module_parity(kw, chunked):
    if chunked:
        kw = dict(kw, options="chunked")
    mkw = {k: (_opts("mt", batch_chunk_size=3) if k == "options" else v) for k, v in kw.items()}
    tkw = {k: (_opts("torch", batch_chunk_size=3) if k == "options" else v) for k, v in kw.items()}
    m = mt.nn.LinearCrossEntropyLoss(4, 5, **{k: to_mt(v) for k, v in mkw.items()})
    t = torch.nn.LinearCrossEntropyLoss(4, 5, **{k: to_torch(v) for k, v in tkw.items()})
    assert repr(m).replace("minitorch_jax.", "torch.") == repr(t)
    tsd = t.state_dict()
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in tsd.items()}
    m.load_state_dict({k: mt.tensor(v.numpy()) for k, v in tsd.items()})
    x = _a(7, 4)
    tgt = _t(7, *kw.get("out_features", ()))
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mo, to = m(mx, mt.tensor(tgt)), t(tx, torch.tensor(tgt))
    assert_same(mo, to)
    check_grads(mo, to, [mx], [tx])
    for (n, mp), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert_same(mp.grad, tp.grad, what=n)


def test_module_constructor_errors_and_attributes():
    for kw in (dict(weight=mt.ones(3)), dict(label_smoothing=2.0)):
        tkw = {k: (torch.ones(3) if k == "weight" else v) for k, v in kw.items()}
        _errors_equal(partial(mt.nn.LinearCrossEntropyLoss, 5, 10, **kw),
                      partial(torch.nn.LinearCrossEntropyLoss, 5, 10, **tkw))
    m = mt.nn.LinearCrossEntropyLoss(5, 10, out_features=(4, 3), bias=True, dtype=mt.float64)
    assert (m.num_classes, m.out_features, m.ignore_index, m.options) == (10, (4, 3), None, None)
    assert m.weight is None
    assert tuple(m.linear.weight.shape) == (120, 5) and m.linear.weight.dtype == mt.float64
    assert tuple(m.linear.bias.shape) == (120,)


def test_mt_jit_step_equals_eager():
    def make():
        mt.manual_seed(0)
        loss = mt.nn.LinearCrossEntropyLoss(4, 6, bias=True, options=mt.nn.LinearCrossEntropyOptions(
            batch_chunk_size=3))
        return loss, mt.optim.SGD(loss.parameters(), lr=0.1)

    def step(loss, opt, x, y):
        opt.zero_grad()
        out = loss(x, y)
        out.backward()
        opt.step()
        return out

    le_, oe = make()
    lc, oc = make()
    compiled = mt.jit(lambda x, y: step(lc, oc, x, y))
    for _ in range(3):
        x, y = mt.tensor(_a(8, 4)), mt.tensor(_t(8, c=6))
        np.testing.assert_allclose(float(compiled(x, y)), float(step(le_, oe, x, y)), rtol=1e-5)
    for a, b in zip(le_.parameters(), lc.parameters()):
        np.testing.assert_allclose(np.asarray(b._data), np.asarray(a._data), rtol=1e-5, atol=1e-6)


# ----- small late / legacy names ----------------------------------------------------------------------
def test_nllloss2d_is_a_deprecated_nllloss():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        m = mt.nn.NLLLoss2d(ignore_index=1, reduction="sum")
    with pytest.warns(FutureWarning):
        t = torch.nn.NLLLoss2d(ignore_index=1, reduction="sum")
    assert isinstance(m, mt.nn.NLLLoss) and repr(m) == repr(t) == "NLLLoss2d()"
    x, tgt = _a(2, 3, 4, 4), _t(2, 4, 4, c=3, ignore=1)
    assert_same(m(to_mt(x), to_mt(tgt)), t(to_torch(x), to_torch(tgt)))


def test_container_is_deprecated_module_of_children():
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        c = mt.nn.Container(a=mt.nn.Linear(2, 3), b=mt.nn.ReLU())
    with pytest.warns(FutureWarning):
        tc = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU())
    assert repr(c) == repr(tc) and [n for n, _ in c.named_parameters()] == ["a.weight", "a.bias"]
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="int is not a Module subclass"):
        mt.nn.Container(a=3)


def test_factory_kwargs_like_torch():
    cases = [None, {}, {"device": "cpu", "dtype": "float64"}, {"memory_format": None, "device": None},
             {"factory_kwargs": {"dtype": "float16"}, "device": "cpu"}]
    def conv(kw, lib):
        return None if kw is None else {
            k: ({kk: getattr(lib, vv) for kk, vv in v.items()} if k == "factory_kwargs" else
                getattr(lib, v) if k == "dtype" else v) for k, v in kw.items()}

    for kw in cases:
        m, t = mt.nn.factory_kwargs(conv(kw, mt)), torch.nn.factory_kwargs(conv(kw, torch))
        assert {k: str(v).replace("minitorch_jax.", "torch.") for k, v in m.items()} == \
            {k: str(v) for k, v in t.items()}
    for kw in ({"foo": 1}, {"dtype": 1, "factory_kwargs": {"dtype": 2}}, {"factory_kwargs": None}):
        _errors_equal(partial(mt.nn.factory_kwargs, kw), partial(torch.nn.factory_kwargs, kw))
    assert mt.ones(2, **mt.nn.factory_kwargs({"dtype": mt.float64})).dtype == mt.float64


def test_native_channel_shuffle():
    assert F.native_channel_shuffle is mt.native_channel_shuffle
    x = _a(2, 6, 3)
    assert_same(F.native_channel_shuffle(to_mt(x), 3), TF.native_channel_shuffle(to_torch(x), 3))


@pytest.mark.parametrize("pad", [1, -1])
def test_conv_tbc_parity(pad):
    x, w, b = _a(5, 2, 3), _a(2, 3, 4), _a(4)
    mi, ti = to_mt([x, w, b], grad=True), to_torch([x, w, b], grad=True)
    m, t = F.conv_tbc(*mi, pad), TF.conv_tbc(*ti, pad)
    assert_same(m, t)
    assert check_grads(m, t, mi, ti)


def test_conv_tbc_dtypes_and_errors():
    x, w, b = _a(5, 2, 3, dtype=np.float64), _a(3, 3, 2, dtype=np.float64), _a(2, dtype=np.float64)
    assert_same(F.conv_tbc(to_mt(x), to_mt(w), to_mt(b), pad=1), TF.conv_tbc(to_torch(x), to_torch(w),
                                                                              to_torch(b), pad=1))
    xi, wi, bi = (RNG.integers(-3, 3, s).astype(np.int32) for s in ((5, 2, 3), (2, 3, 4), (4,)))
    assert_same(F.conv_tbc(*to_mt([xi, wi, bi])), TF.conv_tbc(*to_torch([xi, wi, bi])))
    x, w, b = _a(5, 2, 3), _a(2, 3, 4), _a(4)
    bad = [(x[0], w, b, 0), (x, w[0], b, 0), (x, w, b[:3], 0), (x, w[:, :2], b, 0), (x, _a(8, 3, 4), b, 0),
           (x, w, b.reshape(1, 4), 0), (x, w, b, 1.5), (x, w, None, 0)]
    for xx, ww, bb, pad in bad:
        _errors_equal(partial(F.conv_tbc, *to_mt([xx, ww, bb]), pad),
                      partial(TF.conv_tbc, *to_torch([xx, ww, bb]), pad))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv_tbc(mt.tensor(x).double(), mt.tensor(w), mt.tensor(b))
