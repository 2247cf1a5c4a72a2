"""mt.nn.attention (sdpa_kernel, bias) and mt.nn.attention.flex_attention against torch 2.13.

torch's flex_attention runs on CPU only without gradients (and compiles each new score_mod, ~1 s), so
values are checked against torch's flex_attention in a few cases, and values + gradients in the rest
against the same math written densely in torch (torch's own ``create_mask`` builds the masks).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.nn.attention import flex_attention as mf
from tests.oracle import torch

tf = pytest.importorskip("torch.nn.attention.flex_attention")

RNG = np.random.default_rng(0)
# few distinct shapes: every new shape costs XLA compilations (eager ops and their backward)
B_, H_, L_, S_, E_ = 2, 2, 32, 48, 8


def _arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _np(t):
    return t.detach().float().numpy() if isinstance(t, torch.Tensor) else t.detach().float().numpy()


# ----- mods, written once with tensor ops (the same source works in both libraries) ----------------
def causal(b, h, q, kv):
    return q >= kv


def sliding(b, h, q, kv):
    return (q >= kv) & (q - kv <= 24)


def make_doc(doc):
    def doc_mask(b, h, q, kv):
        return (doc[b, q] == doc[b, kv]) & (q >= kv)

    return doc_mask


def make_alibi(slopes):
    def alibi(score, b, h, q, kv):
        return score + slopes[h] * (kv - q)

    return alibi


def softcap(score, b, h, q, kv):
    return 20.0 * (score / 20.0).tanh()


def make_relbias(table, S):
    def relbias(score, b, h, q, kv):
        return score + table[h, q - kv + (S - 1)]

    return relbias


def _grids(lib, B, H, L, S):
    ar = lib.arange
    return (ar(B).reshape(B, 1, 1, 1), ar(H).reshape(1, H, 1, 1), ar(L).reshape(1, 1, L, 1),
            ar(S).reshape(1, 1, 1, S))


def _torch_ref(q, k, v, score_mod=None, mask=None, scale=None, gqa=False):
    """flex_attention's math densely in torch (differentiable): returns (out, lse)."""
    if gqa and q.shape[1] != k.shape[1]:
        g = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
    dt = q.dtype
    q, k, v = q.float(), k.float(), v.float()
    B, H, L, E = q.shape
    S = k.shape[2]
    s = q @ k.transpose(-2, -1) * (1 / math.sqrt(E) if scale is None else scale)
    if score_mod is not None:
        s = score_mod(s, *_grids(torch, B, H, L, S)).expand(B, H, L, S)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(s, -1)
    w = torch.exp(s - lse[..., None]).nan_to_num(0.0)
    return (w @ v).to(dt), lse


def _check(case, q_np, k_np, v_np, *, torch_mods, mt_mods, mask_mod=None, captured=(), gqa=False,
           dtype="float32", scale=None, B_mask=None):
    """Values and gradients (q, k, v and captured tensors) of mt's flex_attention vs the torch reference."""
    tdt = getattr(torch, dtype)
    tq, tk, tv = (torch.tensor(a).to(tdt).requires_grad_() for a in (q_np, k_np, v_np))
    mq, mk, mv = (mt.tensor(a).to(getattr(mt, dtype)).requires_grad_() for a in (q_np, k_np, v_np))
    B, H, L, _ = q_np.shape
    S = k_np.shape[2]
    tmask = None
    bm = None
    if mask_mod is not None:
        tmask = torch_mods["mask"](*_grids(torch, B, H, L, S)).expand(B, H, L, S)
        bm = mf.create_block_mask(mt_mods["mask"], B_mask, None, L, S)
    to, tl = _torch_ref(tq, tk, tv, torch_mods.get("score"), tmask, scale, gqa)
    mo, aux = mf.flex_attention(mq, mk, mv, score_mod=mt_mods.get("score"), block_mask=bm, scale=scale,
                                enable_gqa=gqa, return_aux=mf.AuxRequest(lse=True))
    assert str(mo.dtype).endswith(dtype) and aux.lse.dtype == mt.float32
    tol = 1e-5 if dtype == "float32" else 3e-2
    np.testing.assert_allclose(_np(mo), _np(to), rtol=tol, atol=tol, err_msg=case)
    np.testing.assert_allclose(_np(aux.lse), _np(tl), rtol=tol, atol=tol, err_msg=case)
    cot = _arr(*mo.shape)
    (to.float() * torch.tensor(cot)).sum().backward()
    (mo.float() * mt.tensor(cot)).sum().backward()
    pairs = [(mq, tq), (mk, tk), (mv, tv), *captured]
    gtol = 1e-4 if dtype == "float32" else 1e-1
    for i, (m, t) in enumerate(pairs):
        assert m.grad is not None, f"{case}: no gradient for input {i}"
        np.testing.assert_allclose(_np(m.grad), _np(t.grad), rtol=gtol, atol=gtol, err_msg=f"{case} grad {i}")


def test_no_mods_causal_sliding_lengths():
    q, k, v = _arr(B_, H_, L_, E_), _arr(B_, H_, S_, E_), _arr(B_, H_, S_, E_)
    _check("none", q, k, v, torch_mods={}, mt_mods={})
    _check("causal", q, k, v, torch_mods={"mask": causal}, mt_mods={"mask": causal}, mask_mod=True)
    _check("sliding", q, k, v, torch_mods={"mask": sliding}, mt_mods={"mask": sliding}, mask_mod=True)


def test_document_mask_closes_over_tensor():
    doc = np.repeat(np.array([[0, 1, 2], [0, 0, 1]]), [8, 16, 24], axis=1)  # (2, 48)
    q, k, v = _arr(B_, H_, L_, E_), _arr(B_, H_, S_, E_), _arr(B_, H_, S_, E_)
    _check("doc", q, k, v, torch_mods={"mask": make_doc(torch.tensor(doc))},
           mt_mods={"mask": make_doc(mt.tensor(doc))}, mask_mod=True, B_mask=2)


def test_score_mods_alibi_softcap_relbias_grads_to_captured():
    H = H_
    q, k, v = _arr(B_, H_, L_, E_), _arr(B_, H_, S_, E_), _arr(B_, H_, S_, E_)
    sl = np.array([0.5, 0.125], np.float32)
    ts, ms = torch.tensor(sl, requires_grad=True), mt.tensor(sl, requires_grad=True)
    _check("alibi", q, k, v, torch_mods={"score": make_alibi(ts), "mask": causal},
           mt_mods={"score": make_alibi(ms), "mask": causal}, mask_mod=True, captured=[(ms, ts)])
    _check("softcap", 4 * q, k, v, torch_mods={"score": softcap}, mt_mods={"score": softcap}, scale=0.3)
    tab = _arr(H, L_ + S_ - 1)
    tt, mtab = torch.tensor(tab, requires_grad=True), mt.tensor(tab, requires_grad=True)
    _check("relbias", q, k, v, torch_mods={"score": make_relbias(tt, S_)},
           mt_mods={"score": make_relbias(mtab, S_)}, captured=[(mtab, tt)])


def test_gqa_and_bfloat16():
    q, k, v = _arr(B_, 4, L_, E_), _arr(B_, H_, S_, E_), _arr(B_, H_, S_, 6)
    sl = np.array([1.0, 0.5, 0.25, 0.125], np.float32)
    ts, ms = torch.tensor(sl, requires_grad=True), mt.tensor(sl, requires_grad=True)
    _check("gqa", q, k, v, torch_mods={"mask": sliding, "score": make_alibi(ts)},
           mt_mods={"mask": sliding, "score": make_alibi(ms)}, mask_mod=True, gqa=True, captured=[(ms, ts)])
    _check("bf16", q[:, :2], k, v, torch_mods={"score": softcap}, mt_mods={"score": softcap},
           dtype="bfloat16")


def test_values_match_torch_flex_attention():
    """Against torch's own flex_attention (no grad on CPU): causal block mask, lse, ALiBi + GQA, L != S."""
    q, k, v = _arr(B_, 4, L_, E_), _arr(B_, H_, S_, E_), _arr(B_, H_, S_, 6)
    tq, tk, tv = map(torch.tensor, (q, k, v))
    mq, mk, mv = map(mt.tensor, (q, k, v))
    sl = np.array([1.0, 0.5, 0.25, 0.125], np.float32)
    tbm = tf.create_block_mask(sliding, None, None, L_, S_, device="cpu", BLOCK_SIZE=16)
    mbm = mf.create_block_mask(sliding, None, None, L_, S_, BLOCK_SIZE=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to, tl = tf.flex_attention(tq, tk, tv, make_alibi(torch.tensor(sl)), tbm, enable_gqa=True,
                                   return_lse=True)
        mo, ml = mf.flex_attention(mq, mk, mv, make_alibi(mt.tensor(sl)), mbm, enable_gqa=True,
                                   return_lse=True)
    np.testing.assert_allclose(mo.numpy(), to.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ml.numpy(), tl.numpy(), rtol=1e-5, atol=1e-5)


def test_fully_masked_rows_zero_output_and_neg_inf_lse():
    def late(b, h, q, kv):
        return (q >= 8) & (kv <= q)

    q = mt.tensor(_arr(B_, H_, L_, E_), requires_grad=True)
    k, v = (mt.tensor(_arr(B_, H_, S_, E_), requires_grad=True) for _ in range(2))
    bm = mf.create_block_mask(late, None, None, L_, S_, BLOCK_SIZE=16)
    o, aux = mf.flex_attention(q, k, v, block_mask=bm, return_aux=mf.AuxRequest(lse=True, max_scores=True))
    assert (o[0, 0, :8] == 0).all() and (o[0, 0, 8:] != 0).any()
    lse = aux.lse.detach().numpy()
    assert np.isneginf(lse[0, 0, :8]).all() and np.isfinite(lse[0, 0, 8:]).all()
    assert np.isneginf(aux.max_scores.detach().numpy()[0, 0, :8]).all()
    o.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and (q.grad[0, 0, :8] == 0).all()


def test_under_jit_matches_eager_and_trains_captured_bias():
    table = mt.nn.Parameter(mt.tensor(_arr(H_, L_ + S_ - 1)))
    bm = mf.create_block_mask(causal, None, None, L_, S_)
    x = mt.tensor(_arr(B_, H_, L_, E_))
    kv = mt.tensor(_arr(B_, H_, S_, E_))

    def f(x):
        out = mf.flex_attention(x, kv, kv, score_mod=make_relbias(table, S_), block_mask=bm)
        loss = (out ** 2).sum()
        loss.backward()
        return loss

    eager = f(x)
    g_eager = table.grad.clone()
    compiled = mt.jit(f)
    for _ in range(2):  # the first call runs eagerly (creates .grad), the second compiles
        table.grad = None
        got = compiled(x)
    assert compiled.num_compiles == 1
    np.testing.assert_allclose(got.item(), eager.item(), rtol=1e-5)
    np.testing.assert_allclose(table.grad.numpy(), g_eager.numpy(), rtol=1e-4, atol=1e-5)


def test_block_mask_layout_and_helpers_match_torch():
    doc = np.repeat(np.array([[0, 1], [0, 0]]), [96, 96], axis=1)
    cases = [
        (causal, causal, None, None, 256, 256, 128),
        (causal, causal, None, None, 100, 70, 32),
        (sliding, sliding, None, 2, 192, 192, (32, 64)),
        (make_doc(torch.tensor(doc)), make_doc(mt.tensor(doc)), 2, None, 192, 192, 64),
        (tf.noop_mask, mf.noop_mask, None, None, 100, 70, 64),
    ]
    for tm, mm, B, H, L, S, bs in cases:
        t = tf.create_block_mask(tm, B, H, L, S, device="cpu", BLOCK_SIZE=bs)
        m = mf.create_block_mask(mm, B, H, L, S, BLOCK_SIZE=bs)
        assert m.shape == t.shape and m.BLOCK_SIZE == t.BLOCK_SIZE and m.seq_lengths == t.seq_lengths
        for name in ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                     "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices"):
            np.testing.assert_array_equal(getattr(m, name).numpy(), getattr(t, name).numpy(), err_msg=name)
        assert m.kv_indices.dtype == mt.int32
        np.testing.assert_array_equal(m.to_dense().numpy(), t.to_dense().numpy())
        assert m.sparsity() == pytest.approx(t.sparsity())
        assert m.numel() == t.numel()
    both = (tf.and_masks(causal, sliding), mf.and_masks(causal, sliding))
    either = (tf.or_masks(causal, sliding), mf.or_masks(causal, sliding))
    for tm, mm in (both, either, (tf.noop_mask, mf.noop_mask)):
        np.testing.assert_array_equal(mf.create_mask(mm, 1, 2, 20, 30).numpy(),
                                      tf.create_mask(tm, 1, 2, 20, 30, device="cpu").numpy())
    def neg(score, b, h, q, kv):
        return (q >= kv).float().log() + score

    np.testing.assert_array_equal(mf.create_mask(neg, None, None, 4, 5).numpy(),
                                  tf.create_mask(neg, None, None, 4, 5, device="cpu").numpy())
    assert mf.create_mask(causal, None, None, 4, 5).dtype == mt.bool
    m = mf.create_block_mask(causal, None, None, 256, 256)
    assert "sparsity=25.00%" in repr(m) and "mask_mod=causal" in repr(m)
    assert m.to_string().startswith("(0, 0)\n██  \n████\n")
    r = mf.BlockMask.from_kv_blocks(m.kv_num_blocks, m.kv_indices, m.full_kv_num_blocks, m.full_kv_indices,
                                    mask_mod=causal)
    np.testing.assert_array_equal(r.q_indices.numpy(), m.q_indices.numpy())
    assert r.shape == (1, 1, 256, 256)
    tb = tf.create_block_mask(sliding, 2, 2, 64, 64, device="cpu", BLOCK_SIZE=16)
    mb = mf.create_block_mask(sliding, 2, 2, 64, 64, BLOCK_SIZE=16)
    for ix in (1, (0, 1), (slice(None), -1)):
        assert mb[ix].shape == tb[ix].shape
        np.testing.assert_array_equal(mb[ix].to_dense().numpy(), tb[ix].to_dense().numpy())
        np.testing.assert_array_equal(mb[ix].q_indices.numpy(), tb[ix].q_indices.numpy())
    c = m._adjust(128, 128)
    assert c.shape == (1, 1, 128, 128) and c.to_dense().tolist() == [[[[1]]]]


def test_errors_match_torch():
    x = mt.tensor(_arr(1, 2, 16, 8))  # errors are raised before any computation

    def err(exc, match, fn):
        with pytest.raises(exc, match=match):
            fn()

    err(ValueError, "same embedding dimension but got E=8 and E=4",
        lambda: mf.flex_attention(x, x[..., :4], x[..., :4]))
    err(ValueError, r"same number of heads but got Hq=2 and Hkv=1. Try setting enable_gqa=True",
        lambda: mf.flex_attention(x, x[:, :1], x[:, :1]))
    err(ValueError, "multiple of kv heads for GQA but got Hq=3 and Hkv=2",
        lambda: mf.flex_attention(mt.tensor(_arr(1, 3, 16, 8)), x, x, enable_gqa=True))
    err(NotImplementedError, "NYI: query, key, and value must be 4D tensors",
        lambda: mf.flex_attention(x[0], x[0], x[0]))
    err(ValueError, r"block_mask was created for block_mask.shape=\(1, 1, 32, 32\) but got q_len=16",
        lambda: mf.flex_attention(x, x, x, block_mask=mf.create_block_mask(causal, 1, 1, 32, 32)))
    err(ValueError, "does not broadcast to the query's batch size 1 and number of heads 2",
        lambda: mf.flex_attention(x, x, x, block_mask=mf.create_block_mask(causal, 1, 3, 16, 16)))
    err(TypeError, "score_mod must take 5 positional arguments",
        lambda: mf.flex_attention(x, x, x, score_mod=lambda s, b, h: s))
    err(AssertionError, "Expected 4 or 5 positional args, got 3",
        lambda: mf.create_block_mask(lambda b, h, q: q, 1, 1, 16, 16))
    err(ValueError, "Cannot specify both return_lse and return_aux",
        lambda: mf.flex_attention(x, x, x, return_lse=True, return_aux=mf.AuxRequest(lse=True)))
    with pytest.warns(FutureWarning, match="return_lse is deprecated"):
        mf.flex_attention(x, x, x, return_lse=True)


def test_sdpa_kernel_and_causal_bias():
    import torch.nn.attention.bias as tb

    from minitorch_jax.nn import attention as ma

    assert set(ma.__all__) == set(torch.nn.attention.__all__)
    assert set(mf.__all__) == set(tf.__all__) and set(ma.bias.__all__) == set(tb.__all__)
    assert all(hasattr(mod, n) for mod in (ma, mf, ma.bias) for n in mod.__all__)
    assert ma.SDPBackend.FLASH_ATTENTION.value == torch.nn.attention.SDPBackend.FLASH_ATTENTION.value
    assert ma.WARN_FOR_UNFUSED_KERNELS is False and ma.list_flash_attention_impls() == ["FA3", "FA4"]
    cuda = mt.backends.cuda
    with ma.sdpa_kernel(ma.SDPBackend.MATH):
        assert cuda.math_sdp_enabled() and not cuda.flash_sdp_enabled()
        both = [ma.SDPBackend.FLASH_ATTENTION, ma.SDPBackend.CUDNN_ATTENTION]
        with ma.sdpa_kernel(both, set_priority=True):
            assert cuda.flash_sdp_enabled() and not cuda.math_sdp_enabled()
        assert not cuda.flash_sdp_enabled()
    assert cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
        with ma.sdpa_kernel("math"):
            pass
    with pytest.raises(ValueError, match="Unknown flash attention impl 'FA9'"):
        ma.activate_flash_attention_impl("FA9")
    q, k, v = _arr(2, 2, 5, 4), _arr(2, 2, 7, 4), _arr(2, 2, 7, 4)
    for tfn, mfn in ((tb.causal_upper_left, ma.bias.causal_upper_left),
                     (tb.causal_lower_right, ma.bias.causal_lower_right)):
        tm, mm = tfn(5, 7), mfn(5, 7)
        np.testing.assert_array_equal(mm._materialize().numpy(), tm._materialize().numpy())
        to = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), attn_mask=tm)
        mo = mt.nn.functional.scaled_dot_product_attention(*map(mt.tensor, (q, k, v)), attn_mask=mm)
        np.testing.assert_allclose(mo.numpy(), to.numpy(), rtol=1e-5, atol=1e-5)
    assert mm.variant is ma.bias.CausalVariant.LOWER_RIGHT
