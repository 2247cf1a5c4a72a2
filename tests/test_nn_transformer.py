"""Transformer layers and stacks against torch (dropout 0 or eval mode, so results are deterministic)."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .nn_oracle import compare_module
from .oracle import assert_same, torch

RNG = np.random.default_rng(0)
TOL32 = dict(rtol=1e-4, atol=1e-4)


def r(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


ACTS = {
    "relu": ("relu", "relu"),
    "gelu": ("gelu", "gelu"),
    "callable": (lambda x: mt.tanh(x), lambda x: torch.tanh(x)),
}


def _pair(name, *args, act=None, **kw):
    torch.manual_seed(0)
    tkw, mkw = dict(kw), dict(kw)
    if act is not None:
        mkw["activation"], tkw["activation"] = ACTS[act]
    if "dtype" in kw:
        mkw["dtype"] = getattr(mt, kw["dtype"])
        tkw["dtype"] = getattr(torch, kw["dtype"])
    return getattr(mt.nn, name)(*args, **mkw), getattr(torch.nn, name)(*args, **tkw)


@pytest.mark.parametrize(
    "norm_first,act,batch_first,train",
    [
        (False, "relu", False, False),
        (True, "gelu", True, False),
        (False, "callable", True, True),
        (True, "relu", False, True),
    ],
)
def test_encoder_layer(norm_first, act, batch_first, train):
    m, t = _pair(
        "TransformerEncoderLayer",
        8,
        2,
        16,
        dropout=0.0,
        act=act,
        norm_first=norm_first,
        batch_first=batch_first,
    )
    x = r(3, 5, 8)
    compare_module(m, t, x, train=train, **TOL32)
    assert repr(m) == repr(t)


def test_encoder_layer_masks_and_float64():
    m, t = _pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, batch_first=True, dtype="float64")
    L = 5
    causal = np.triu(np.full((L, L), -np.inf), 1)
    kpm = np.zeros((3, L), bool)
    kpm[:, -1] = True
    compare_module(
        m,
        t,
        r(3, L, 8, dtype="float64"),
        kwargs=dict(src_mask=causal, src_key_padding_mask=kpm),
        rtol=1e-9,
        atol=1e-10,
    )
    compare_module(
        m,
        t,
        r(3, L, 8, dtype="float64"),
        kwargs=dict(src_mask=causal, is_causal=True),
        rtol=1e-9,
        atol=1e-10,
    )


def test_encoder_layer_unbatched():
    m, t = _pair("TransformerEncoderLayer", 8, 4, 16, dropout=0.0, batch_first=True)
    compare_module(m, t, r(5, 8), train=False, **TOL32)


@pytest.mark.parametrize("norm_first,act", [(False, "relu"), (True, "gelu")])
def test_decoder_layer(norm_first, act):
    m, t = _pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, act=act, norm_first=norm_first)
    T, S, N = 4, 6, 2
    tgt_mask = np.triu(np.ones((T, T), bool), 1)
    mkpm = np.zeros((N, S), bool)
    mkpm[0, -2:] = True
    compare_module(
        m, t, r(T, N, 8), r(S, N, 8), kwargs=dict(tgt_mask=tgt_mask, memory_key_padding_mask=mkpm), **TOL32
    )
    assert repr(m) == repr(t)


def test_encoder_and_decoder_stacks_with_norm():
    torch.manual_seed(1)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    t = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    m = mt.nn.TransformerEncoder(
        mt.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        2,
        norm=mt.nn.LayerNorm(8),
        enable_nested_tensor=False,
    )
    assert list(m.state_dict()) == list(t.state_dict())
    assert repr(m) == repr(t)
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    compare_module(m, t, r(2, 5, 8), kwargs=dict(src_key_padding_mask=kpm), **TOL32)
    # the clones are independent copies
    assert m.layers[0].linear1.weight is not m.layers[1].linear1.weight

    td = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2, norm=torch.nn.LayerNorm(8)
    )
    md = mt.nn.TransformerDecoder(
        mt.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2, norm=mt.nn.LayerNorm(8)
    )
    assert repr(md) == repr(td)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()
    compare_module(md, td, r(4, 2, 8), r(5, 2, 8), kwargs=dict(tgt_mask=mask, tgt_is_causal=True), **TOL32)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    m, t = _pair("Transformer", 8, 2, 2, 1, 16, dropout=0.0, batch_first=batch_first)
    assert list(m.state_dict()) == list(t.state_dict())
    assert repr(m) == repr(t)
    S, T, N = 5, 4, 2
    src, tgt = (r(N, S, 8), r(N, T, 8)) if batch_first else (r(S, N, 8), r(T, N, 8))
    kw = dict(
        tgt_mask=mt.nn.Transformer.generate_square_subsequent_mask(T).numpy(),
        src_key_padding_mask=np.array([[False] * S, [False] * (S - 2) + [True] * 2]),
    )
    compare_module(m, t, src, tgt, kwargs=kw, **TOL32)


def test_transformer_init_statistics():
    m = mt.nn.Transformer(16, 2, 1, 1, 32, dropout=0.0)
    w = np.asarray(m.encoder.layers[0].linear1.weight._data)  # xavier_uniform_ over (32, 16)
    bound = np.sqrt(6.0 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not np.any(np.asarray(m.encoder.layers[0].self_attn.in_proj_bias._data))


def test_generate_square_subsequent_mask():
    for sz in (0, 1, 4):
        assert_same(
            mt.nn.Transformer.generate_square_subsequent_mask(sz),
            torch.nn.Transformer.generate_square_subsequent_mask(sz),
        )
    assert_same(
        mt.nn.Transformer.generate_square_subsequent_mask(3, dtype=mt.float64),
        torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64),
    )


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        mt.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        mt.nn.TransformerEncoderLayer(8, 3)
    m = mt.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        m(mt.randn(5, 2, 8), mt.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        m(mt.randn(5, 2, 8), mt.randn(4, 2, 6))
    layer = mt.nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        layer(mt.randn(5, 2, 8), src_mask=mt.zeros(4, 4))


def test_dropout_train_mode_reproducible():
    m = mt.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=True)
    x = mt.randn(2, 5, 8)
    m.eval()
    np.testing.assert_array_equal(np.asarray(m(x)._data), np.asarray(m(x)._data))
    m.train()
    mt.manual_seed(5)
    a = np.asarray(m(x)._data)
    mt.manual_seed(5)
    b = np.asarray(m(x)._data)
    c = np.asarray(m(x)._data)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(np.isfinite(a))


def test_fused_kernel_and_module_by_module_paths_agree():
    # a standard layer runs as one fused op; a hook on a submodule makes it run module by module
    m = mt.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.2)
    x, mem = mt.randn(4, 2, 8), mt.randn(5, 2, 8)
    m.eval()
    a = np.asarray(m(x, mem)._data)
    calls = []
    h = m.linear1.register_forward_hook(lambda mod, i, o: calls.append(1))
    b = np.asarray(m(x, mem)._data)
    assert calls
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    m.train()  # the same seed gives the same dropout masks on both paths
    mt.manual_seed(0)
    c = np.asarray(m(x, mem)._data)
    h.remove()
    mt.manual_seed(0)
    d = np.asarray(m(x, mem)._data)
    assert len(calls) == 2
    np.testing.assert_allclose(c, d, rtol=1e-5, atol=1e-6)


def test_no_bias_unbatched_decoder_and_activation_module():
    m, t = _pair(
        "TransformerDecoderLayer", 8, 2, 16, dropout=0.0, bias=False, norm_first=True, batch_first=True
    )
    compare_module(m, t, r(4, 8), r(5, 8), **TOL32)
    torch.manual_seed(0)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=torch.nn.GELU())
    m = mt.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=mt.nn.GELU())
    assert repr(m) == repr(t)
    compare_module(m, t, r(4, 3, 8), **TOL32)
