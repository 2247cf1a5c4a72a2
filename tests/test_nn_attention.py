"""scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.nn.functional as F

from .nn_oracle import compare_module, copy_state
from .oracle import assert_same, check_grads, to_mt, to_torch, torch

TF = torch.nn.functional
RNG = np.random.default_rng(0)
TOL = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}


def r(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def bmask(*shape, p=0.7):
    return RNG.random(shape) < p


# ----- scaled_dot_product_attention ------------------------------------------------------------
def _sdpa_case(args, kwargs, dtype="float32"):
    t_args, m_args = to_torch(args, True), to_mt(args, True)
    t_out = TF.scaled_dot_product_attention(*t_args, **to_torch(kwargs))
    m_out = F.scaled_dot_product_attention(*m_args, **to_mt(kwargs))
    rtol, atol = TOL[dtype]
    assert_same(m_out, t_out, rtol, atol)
    check_grads(m_out, t_out, m_args, t_args, rtol, atol)


@pytest.mark.parametrize(
    "case,dtype",
    [
        ("plain", "float32"),
        ("bool_mask", "float64"),
        ("float_mask", "float32"),
        ("float_mask", "float64"),
        ("causal", "float32"),
        ("causal_rect", "float64"),
        ("scale", "float32"),
        ("broadcast", "float64"),
        ("gqa", "float32"),
        ("gqa", "float64"),
        ("unbatched", "float32"),
    ],
)
def test_sdpa_matches_torch(case, dtype):
    q, k, v = r(2, 3, 4, 8, dtype=dtype), r(2, 3, 6, 8, dtype=dtype), r(2, 3, 6, 5, dtype=dtype)
    kw = {}
    if case == "bool_mask":
        kw["attn_mask"] = bmask(4, 6)
    elif case == "float_mask":
        kw["attn_mask"] = r(2, 1, 4, 6, dtype=dtype)
    elif case == "causal":
        q, k, v = q[:, :, :4], k[:, :, :4], v[:, :, :4]
        kw["is_causal"] = True
    elif case == "causal_rect":
        kw["is_causal"] = True
    elif case == "scale":
        kw["scale"] = 0.37
        kw["attn_mask"] = bmask(2, 3, 4, 6)
    elif case == "broadcast":
        q, k, v = r(1, 4, 8, dtype=dtype), r(2, 1, 6, 8, dtype=dtype), r(1, 6, 5, dtype=dtype)
    elif case == "gqa":
        q = r(2, 6, 4, 8, dtype=dtype)
        kw["enable_gqa"] = True
    elif case == "unbatched":
        q, k, v = q[0, 0], k[0, 0], v[0, 0]
        kw["attn_mask"] = bmask(4, 6)
    _sdpa_case((q, k, v), kw, dtype)


def test_sdpa_fully_masked_rows_are_zero_like_torch():
    q, k, v = r(2, 3, 4), r(2, 5, 4), r(2, 5, 4)
    m = np.ones((3, 5), bool)
    m[1] = False
    _sdpa_case((q, k, v), {"attn_mask": m})
    fm = np.zeros((3, 5), "float32")
    fm[2] = -np.inf
    _sdpa_case((q, k, v), {"attn_mask": fm})
    out = F.scaled_dot_product_attention(mt.tensor(q), mt.tensor(k), mt.tensor(v), attn_mask=mt.tensor(m))
    assert np.all(np.asarray(out._data)[:, 1] == 0)


def test_sdpa_errors():
    q, k, v = mt.randn(3, 4), mt.randn(5, 4), mt.randn(5, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mt.ones(3, 5, dtype=mt.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mt.ones(3, 5, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, k, v.double())
    with pytest.raises(RuntimeError, match="attn_mask of shape"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mt.zeros(4, 5))
    with pytest.raises(RuntimeError, match="Number of heads"):
        F.scaled_dot_product_attention(
            mt.randn(1, 3, 2, 4), mt.randn(1, 2, 5, 4), mt.randn(1, 2, 5, 4), enable_gqa=True
        )
    with pytest.raises(RuntimeError, match="at least 2"):
        F.scaled_dot_product_attention(mt.randn(4), mt.randn(4), mt.randn(4))
    with pytest.raises(ValueError, match="dropout"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


def test_sdpa_dropout_statistics_seed_and_backward():
    # uniform weights 1/S; value = identity, so the output is the dropped-out weight matrix itself
    S, p = 16, 0.25
    q, k = mt.zeros(64, 8, 4), mt.zeros(64, S, 4)
    v = mt.eye(S).expand(64, S, S).clone().requires_grad_(True)
    mt.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    w = np.asarray(out._data)
    frac_zero = np.mean(w == 0)
    assert abs(frac_zero - p) < 0.03
    np.testing.assert_allclose(w[w != 0], 1 / S / (1 - p), rtol=1e-6)
    # the same seed gives the same mask; the generator advances between calls
    mt.manual_seed(3)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    np.testing.assert_array_equal(np.asarray(again._data), w)
    other = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
    assert not np.array_equal(np.asarray(other._data), w)
    # backward uses the forward's mask: d(sum(out * g))/dv = W^T g with the dropped W
    g = np.random.default_rng(1).standard_normal(w.shape).astype("float32")
    (out * mt.tensor(g)).sum().backward()
    np.testing.assert_allclose(np.asarray(v.grad._data), np.swapaxes(w, -1, -2) @ g, rtol=1e-5, atol=1e-6)
    # dropout_p=1 gives zeros and finite gradients
    v.grad = None
    z = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    z.sum().backward()
    assert not np.any(np.asarray(z._data)) and np.all(np.isfinite(np.asarray(v.grad._data)))


def test_sdpa_kernel_traces_under_jax_jit():
    import jax

    # the kernel is a plain jax function of arrays: it traces under jax.jit
    from minitorch_jax._ops import REGISTRY

    fn = REGISTRY["scaled_dot_product_attention"].fn
    out = jax.jit(lambda q, k, v: fn(q, k, v, None, None, 0.0, True, None, False, precision=None))(
        r(2, 4, 8), r(2, 4, 8), r(2, 4, 8)
    )
    assert out.shape == (2, 4, 8)


# ----- MultiheadAttention ----------------------------------------------------------------------
def _pair(*args, **kwargs):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(*args, **kwargs)
    kw = dict(kwargs)
    if "dtype" in kw:
        kw["dtype"] = getattr(mt, str(kw["dtype"]).split(".")[-1])
    m = mt.nn.MultiheadAttention(*args, **kw)
    return m, t


class _Self(mt.nn.Module):
    """Self-attention wrapper: query, key and value are one tensor (the fused-projection path)."""

    def __init__(self, attn, **kw):
        super().__init__()
        self.attn, self.kw = attn, kw

    def forward(self, x, *rest):
        return self.attn(x, x, x, **self.kw)


class _TSelf(torch.nn.Module):
    def __init__(self, attn, **kw):
        super().__init__()
        self.attn, self.kw = attn, kw

    def forward(self, x, *rest):
        return self.attn(x, x, x, **self.kw)


class _Cross(mt.nn.Module):
    """query attends to memory (key is value)."""

    def __init__(self, attn, **kw):
        super().__init__()
        self.attn, self.kw = attn, kw

    def forward(self, x, mem):
        return self.attn(x, mem, mem, **self.kw)


class _TCross(torch.nn.Module):
    def __init__(self, attn, **kw):
        super().__init__()
        self.attn, self.kw = attn, kw

    def forward(self, x, mem):
        return self.attn(x, mem, mem, **self.kw)


@pytest.mark.parametrize(
    "batch_first,dtype,train",
    [
        (False, "float32", True),
        (True, "float32", False),
        (False, "float64", False),
        (True, "float64", True),
    ],
)
def test_mha_basic(batch_first, dtype, train):
    m, t = _pair(8, 2, batch_first=batch_first, dtype=getattr(torch, dtype))
    L, S, N = 3, 5, 2
    shp = (lambda n: (N, n, 8)) if batch_first else (lambda n: (n, N, 8))
    rtol, atol = TOL[dtype]
    compare_module(
        m,
        t,
        r(*shp(L), dtype=dtype),
        r(*shp(S), dtype=dtype),
        r(*shp(S), dtype=dtype),
        train=train,
        rtol=rtol,
        atol=atol,
    )


OPTS = {
    "no_bias": dict(bias=False),
    "bias_kv": dict(add_bias_kv=True),
    "zero_attn": dict(add_zero_attn=True),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
    "kdim_vdim": dict(kdim=5, vdim=3),
    "kdim_vdim_bf": dict(kdim=5, vdim=3, batch_first=True),
}


@pytest.mark.parametrize("name", list(OPTS))
def test_mha_options(name):
    opts = OPTS[name]
    m, t = _pair(8, 4, **opts)
    bf = opts.get("batch_first", False)
    kd, vd = opts.get("kdim", 8), opts.get("vdim", 8)
    q = r(2, 3, 8) if bf else r(3, 2, 8)
    k = r(2, 4, kd) if bf else r(4, 2, kd)
    v = r(2, 4, vd) if bf else r(4, 2, vd)
    compare_module(m, t, q, k, v, rtol=1e-4, atol=1e-5)
    assert list(m.state_dict()) == list(t.state_dict())


MASKS = {
    "bool_2d": lambda L, S, N, H: dict(attn_mask=bmask(L, S, p=0.3)),
    "float_3d": lambda L, S, N, H: dict(attn_mask=r(N * H, L, S)),
    "kpm_bool": lambda L, S, N, H: dict(key_padding_mask=bmask(N, S, p=0.3)),
    "kpm_float": lambda L, S, N, H: dict(
        key_padding_mask=np.where(bmask(N, S, p=0.3), -np.inf, 0.0).astype("float32")
    ),
    "both": lambda L, S, N, H: dict(
        attn_mask=np.triu(np.ones((L, S), bool), 1),
        key_padding_mask=np.array([[False] * (S - 1) + [True]] * N),
    ),
    "no_weights": lambda L, S, N, H: dict(attn_mask=bmask(L, S, p=0.3), need_weights=False),
    "per_head": lambda L, S, N, H: dict(key_padding_mask=bmask(N, S, p=0.3), average_attn_weights=False),
}


@pytest.mark.parametrize(
    "name,extra",
    [(n, {}) for n in MASKS]
    + [(n, {"add_bias_kv": True, "add_zero_attn": True}) for n in ("both", "per_head")],
)
def test_mha_masks(name, extra):
    L, S, N, H = 4, 5, 2, 2
    m, t = _pair(8, H, **extra)
    kw = MASKS[name](L, S, N, H)
    if "attn_mask" in kw and kw["attn_mask"].dtype == bool:  # keep every row attendable
        kw["attn_mask"][..., 0] = False
    if "key_padding_mask" in kw:
        kpm = kw["key_padding_mask"]
        if kpm.dtype == bool:
            kpm[..., 0] = False
        else:
            kpm[..., 0] = 0
    compare_module(m, t, r(L, N, 8), r(S, N, 8), r(S, N, 8), kwargs=kw, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("need_weights,batch_first", [(True, False), (False, True)])
def test_mha_self_and_cross_attention_paths(need_weights, batch_first):
    m, t = _pair(8, 2, batch_first=batch_first)
    x, mem = r(3, 4, 8), r(3, 6, 8) if batch_first else r(6, 3, 8)
    if not batch_first:
        x = r(4, 3, 8)
    compare_module(
        _Self(m, need_weights=need_weights), _TSelf(t, need_weights=need_weights), x, rtol=1e-4, atol=1e-5
    )
    compare_module(
        _Cross(m, need_weights=need_weights),
        _TCross(t, need_weights=need_weights),
        x,
        mem,
        rtol=1e-4,
        atol=1e-5,
    )


def test_mha_causal_hint():
    m, t = _pair(8, 2, batch_first=True)
    L = 5
    causal = np.triu(np.full((L, L), -np.inf, "float32"), 1)
    for nw in (True, False):
        kw = dict(attn_mask=causal, is_causal=True, need_weights=nw)
        compare_module(_Self(m, **kw), _TSelf(t, **to_torch(kw)), r(2, L, 8), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(mt.randn(2, L, 8), mt.randn(2, L, 8), mt.randn(2, L, 8), is_causal=True)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"attn_mask": "3d"},
        {"key_padding_mask": True},
        {"average_attn_weights": False},
        {"need_weights": False},
    ],
)
def test_mha_unbatched(kw):
    m, t = _pair(6, 3, batch_first=True)
    L, S, H = 3, 4, 3
    kw = dict(kw)
    if kw.get("attn_mask") == "3d":
        kw["attn_mask"] = r(H, L, S)
    if kw.get("key_padding_mask"):
        kw["key_padding_mask"] = np.array([False, True, False, False])
    compare_module(m, t, r(L, 6), r(S, 6), r(S, 6), kwargs=kw, rtol=1e-4, atol=1e-5)


def test_mha_fully_masked_rows_nan_with_weights_zero_without():
    m, t = _pair(4, 2)
    copy_state(m, t)
    q, kv = r(2, 1, 4), r(3, 1, 4)
    mask = np.zeros((2, 3), bool)
    mask[1] = True
    for nw in (True, False):
        to = t(*to_torch([q, kv, kv]), attn_mask=torch.from_numpy(mask), need_weights=nw)
        mo = m(*to_mt([q, kv, kv]), attn_mask=mt.tensor(mask), need_weights=nw)
        assert_same(mo, to, 1e-4, 1e-5)


def test_mha_functional_matches_torch():
    m, t = _pair(8, 2, add_bias_kv=True)
    copy_state(m, t)
    q, k = r(3, 2, 8), r(4, 2, 8)
    sk = r(4, 4, 4)  # static_k: (N*H, S, head_dim)
    targs = dict(
        embed_dim_to_check=8,
        num_heads=2,
        in_proj_weight=t.in_proj_weight,
        in_proj_bias=t.in_proj_bias,
        bias_k=None,
        bias_v=None,
        add_zero_attn=True,
        dropout_p=0.0,
        out_proj_weight=t.out_proj.weight,
        out_proj_bias=t.out_proj.bias,
    )
    margs = dict(
        targs,
        in_proj_weight=m.in_proj_weight,
        in_proj_bias=m.in_proj_bias,
        out_proj_weight=m.out_proj.weight,
        out_proj_bias=m.out_proj.bias,
    )
    to = TF.multi_head_attention_forward(*to_torch([q, k, k]), **targs, static_k=torch.from_numpy(sk))
    mo = F.multi_head_attention_forward(*to_mt([q, k, k]), **margs, static_k=mt.tensor(sk))
    assert_same(mo, to, 1e-4, 1e-5)
    assert F.multi_head_attention_forward is mt.nn._functional_attention.multi_head_attention_forward


def test_mha_dropout_train_vs_eval():
    m = mt.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = mt.randn(5, 3, 8)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(np.asarray(a._data), np.asarray(b._data))
    m.train()
    mt.manual_seed(7)
    c, w = m(x, x, x)
    mt.manual_seed(7)
    d, w2 = m(x, x, x)
    np.testing.assert_array_equal(np.asarray(c._data), np.asarray(d._data))
    e, _ = m(x, x, x)
    assert not np.array_equal(np.asarray(c._data), np.asarray(e._data))
    # returned weights are the dropped-out ones: a fraction of zeros near p (per head, before averaging)
    _, wh = m(x, x, x, average_attn_weights=False)
    assert 0.4 < float(np.mean(np.asarray(wh._data) == 0)) < 0.6


def test_mha_init_and_repr():
    m = mt.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(m) == repr(t)
    assert list(m.state_dict()) == list(t.state_dict())
    assert list(dict(m.named_parameters())) == list(dict(t.named_parameters()))
    bound = math.sqrt(6.0 / (16 + 48))  # xavier_uniform_ on (3E, E)
    w = np.asarray(m.in_proj_weight._data)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not np.any(np.asarray(m.in_proj_bias._data)) and not np.any(np.asarray(m.out_proj.bias._data))
    # out_proj keeps Linear's default init: U(-1/sqrt(E), 1/sqrt(E))
    assert np.abs(np.asarray(m.out_proj.weight._data)).max() <= 1 / math.sqrt(16)
    big = mt.nn.MultiheadAttention(64, 4, kdim=32, vdim=16, bias=False)
    tb = torch.nn.MultiheadAttention(64, 4, kdim=32, vdim=16, bias=False)
    assert list(big.state_dict()) == list(tb.state_dict())
    assert big.in_proj_weight is None and big.in_proj_bias is None
    kstd = np.asarray(big.k_proj_weight._data).std()
    assert abs(kstd / math.sqrt(2.0 / (64 + 32)) - 1) < 0.1
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, mt.nn.Linear)


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        mt.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        mt.nn.MultiheadAttention(0, 2)
    m = mt.nn.MultiheadAttention(8, 2)
    x = mt.randn(3, 2, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=mt.zeros(3, 4))
    with pytest.raises(RuntimeError, match="3D attn_mask"):
        m(x, x, x, attn_mask=mt.zeros(3, 3, 3))
    with pytest.raises(AssertionError, match="key_padd"):
        m(x, x, x, key_padding_mask=mt.zeros(2, 4, dtype=mt.bool))
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, key_padding_mask=mt.zeros(2, 3, dtype=mt.int64))
    with pytest.raises(AssertionError, match="batched"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="embedding dimension of 8"):
        m(mt.randn(3, 2, 6), mt.randn(3, 2, 6), mt.randn(3, 2, 6))
