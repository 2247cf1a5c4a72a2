"""Matrix products and mt.linalg beyond the per-op samples: torch's error kinds and messages, the
float32 matmul precision switch, sign-ambiguous decompositions (svd, eigh) compared up to sign
with gauge-invariant gradients, and a hypothesis property for matmul's broadcasting rules."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
import minitorch_jax.linalg  # noqa: F401  (mt.linalg)
from minitorch_jax._ops import REGISTRY

from .oracle import assert_same, to_mt, to_torch, torch

rng = np.random.default_rng(7)


def rand(*shape, dtype="float64"):
    return rng.standard_normal(shape).astype(dtype)


def spd(n, batch=(), dtype="float64"):
    x = rand(*batch, n, n, dtype=dtype)
    return (x @ np.swapaxes(x, -1, -2) + n * np.eye(n)).astype(dtype)


@pytest.fixture
def restore_precision():
    before = mt.get_float32_matmul_precision()
    yield
    mt.set_float32_matmul_precision(before)


# ----- float32 matmul precision ------------------------------------------------------------------
def test_precision_default_is_highest():
    assert mt.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"


def _lowered(opname, *arrays, **kwargs):
    """StableHLO of the op's cached forward for the current precision setting."""
    op = REGISTRY[opname]
    before = set(op._fwd)
    getattr(mt, opname)(*to_mt(list(arrays)), **kwargs)
    keys = [k for k in op._fwd if k not in before] or list(op._fwd)
    want = dict(mt._precision.KEY[0])["precision"]
    # (dt None: not a kernel an autocast test left behind, which casts to bfloat16 first)
    key = next(k for k in keys if dict(k[1]).get("precision") == want and k[2] is None)
    return op._fwd[key].lower(*[jax.numpy.asarray(a) for a in arrays]).as_text()


def _precisions(text):
    """The precision names on the dot_general ops of a StableHLO listing."""
    return {p for pair in re.findall(r"precision = \[(\w+), (\w+)\]", text) for p in pair}


@pytest.mark.parametrize("level,expect", [("highest", "HIGHEST"), ("high", "HIGH"),
                                          ("medium", None)])
@pytest.mark.parametrize("opname", ["matmul", "mm", "bmm"])
def test_precision_reaches_xla(restore_precision, level, expect, opname):
    shape = (2, 3, 4) if opname == "bmm" else (3, 4)
    a = rand(*shape, dtype="float32")
    b = np.swapaxes(a, -1, -2).copy()
    mt.set_float32_matmul_precision(level)
    assert mt.get_float32_matmul_precision() == level
    found = _precisions(_lowered(opname, a, b))
    assert found == ({expect} if expect else set()) or (expect is None and found == {"DEFAULT"}), found


def test_precision_not_applied_to_float64(restore_precision):
    mt.set_float32_matmul_precision("highest")
    a = rand(3, 4)
    assert "HIGHEST" not in _precisions(_lowered("matmul", a, a.T.copy()))


def test_precision_keys_cache_separately(restore_precision):
    a, b = to_mt([rand(3, 4, dtype="float32"), rand(4, 2, dtype="float32")])
    for level in ("highest", "medium"):
        mt.set_float32_matmul_precision(level)
        a @ b
    seen = {dict(k[1]).get("precision") for k in REGISTRY["matmul"]._fwd}
    assert {"highest", "default"} <= seen


@pytest.mark.parametrize("level", ["highest", "high", "medium"])
def test_float32_results_match_torch(restore_precision, level):
    a, b = rand(2, 32, 48, dtype="float32"), rand(48, 16, dtype="float32")
    mt.set_float32_matmul_precision(level)
    out = mt.matmul(*to_mt([a, b]))
    ref = torch.matmul(*to_torch([a, b]))
    # full float32 at "highest" everywhere; lower levels may use TF32/bf16 passes on accelerators
    tol = 1e-5 if level == "highest" or jax.default_backend() == "cpu" else 2e-2
    np.testing.assert_allclose(np.asarray(out._data), ref.numpy(), rtol=tol, atol=tol)
    ein = mt.einsum("bij,jk->bik", *to_mt([a, b]))
    np.testing.assert_allclose(np.asarray(ein._data), ref.numpy(), rtol=tol, atol=tol)


def test_invalid_precision_matches_torch(restore_precision):
    with pytest.warns(UserWarning):
        torch.set_float32_matmul_precision("HIGHEST")
    assert torch.get_float32_matmul_precision() == "highest"
    with pytest.warns(UserWarning):
        mt.set_float32_matmul_precision("HIGHEST")
    assert mt.get_float32_matmul_precision() == "highest"
    with pytest.raises(RuntimeError):
        torch.set_float32_matmul_precision(3)
    with pytest.raises(RuntimeError):
        mt.set_float32_matmul_precision(3)


def test_invalid_precision_rejected_and_state_kept(restore_precision):
    mt.set_float32_matmul_precision("high")
    with pytest.warns(UserWarning, match="fastest"):
        mt.set_float32_matmul_precision("fastest")
    assert mt.get_float32_matmul_precision() == "high"


# ----- errors: same kind as torch, messages naming the op and shapes ---------------------------
ERRORS = [
    ("mm", (rand(2, 3), rand(4, 5)), {}, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("matmul", (rand(2, 3), rand(4, 5)), {}, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("matmul", (rand(3), rand(4, 5)), {}, "(1x3 and 4x5)"),
    ("matmul", (rand(2, 3), rand(4)), {}, "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("matmul", (rand(2, 2, 3), rand(2, 4, 5)), {}, "[2, 3] but got: [2, 4]"),
    ("matmul", (rand(2, 2, 3), rand(3, 3, 5)), {}, "must match"),
    ("matmul", (rand(), rand(3)), {}, "0D and 1D"),
    ("matmul", (rand(2, 3, dtype="float32"), rand(3, 2)), {}, "Float and Double"),
    ("bmm", (rand(2, 3), rand(3, 2)), {}, "batch1 must be a 3D tensor"),
    ("mv", (rand(2, 3), rand(3, 1)), {}, "mv()"),
    ("dot", (rand(3, dtype="float32"), rand(3)), {}, "Float and Double"),
    ("dot", (rand(3, 1), rand(3, 1)), {}, "1D tensors expected, but got 2D and 2D tensors"),
    ("dot", (np.ones(2, bool), np.ones(2, bool)), {}, "Bool"),
    ("outer", (rand(2, 3), rand(3)), {}, "Expected 1-D argument self"),
    ("tensordot", (rand(2, 3), rand(4, 4), 1), {}, "contracted dimensions need to match"),
    ("tensordot", (rand(2, 3), rand(3, 4), -1), {}, "dims >= 0"),
    ("tensordot", (rand(2, 3), rand(3, 4)), {"dims": [1, 0]}, "pair of lists"),
    ("addmm", (rand(3, 2), rand(2, 3), rand(3, 2)), {}, "expanded size"),
    ("cross", (rand(4, 2), rand(4, 2)), {"dim": 1}, "must have length 3"),
    ("trace", (rand(3),), {}, "expected a matrix"),
    ("einsum", ("ij,jk->ik", rand(2, 3), rand(4, 4)), {}, "einsum()"),
    ("linalg.inv", (rand(2, 3),), {}, "square matrices, but they are 2 by 3"),
    ("linalg.inv", (np.ones((2, 2), np.int64),), {}, "Got Long"),
    ("linalg.matrix_norm", (rand(3, 3),), {"ord": 3}, "Order 3 not supported"),
    ("linalg.norm", (rand(2, 3, 4),), {"ord": 2}, "must be 1D or 2D"),
    ("linalg.solve", (rand(3, 3), rand(4)), {}, "(3x3 and 4x1)"),
    ("linalg.eigh", (rand(3, 3),), {"UPLO": "X"}, "'L' or 'U'"),
    ("linalg.qr", (rand(3, 3),), {"mode": "x"}, "unrecognized mode"),
    ("linalg.multi_dot", ([rand(3)],), {}, "at least 2 tensors"),
    ("linalg.lstsq", (rand(3, 2), rand(3, 1)), {"driver": "x"}, "driver"),
]


def _resolve(lib, name):
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


@pytest.mark.parametrize("name,args,kwargs,text", ERRORS, ids=[e[0] + str(i) for i, e in enumerate(ERRORS)])
def test_errors_match_torch_kind(name, args, kwargs, text):
    with pytest.raises(Exception) as t_err:
        _resolve(torch, name)(*to_torch(args), **kwargs)
    kind = t_err.type if issubclass(t_err.type, (TypeError, ValueError, IndexError)) else RuntimeError
    with pytest.raises(kind) as m_err:
        _resolve(mt, name)(*to_mt(args), **kwargs)
    assert text in str(m_err.value), str(m_err.value)
    assert name.split(".")[-1].split("_")[0] in str(m_err.value).replace("linalg.", "").lower() \
        or "mat1" in str(m_err.value), str(m_err.value)


def test_matmul_operator_takes_tensors_only():
    a, b = to_mt([rand(2, 3), rand(3, 4)])
    assert_same(a @ b, torch.from_numpy(np.asarray(a._data) @ np.asarray(b._data)))
    assert_same(b.__rmatmul__(a), torch.from_numpy(np.asarray(a._data) @ np.asarray(b._data)))
    with pytest.raises(TypeError):
        a @ 2
    with pytest.raises(TypeError):
        2 @ a


def test_addmm_beta_zero_ignores_nan_input():
    args = [np.full((2, 2), np.nan), rand(2, 3), rand(3, 2)]
    out = mt.addmm(*to_mt(args), beta=0, alpha=2)
    assert_same(out, torch.addmm(*to_torch(args), beta=0, alpha=2))
    assert not np.isnan(np.asarray(out._data)).any()


def test_einsum_and_tensordot_forms_agree():
    a, b = rand(2, 3), rand(3, 4)
    ma, mb = to_mt([a, b])
    ref = torch.einsum("ij,jk->ik", *to_torch([a, b]))
    assert_same(mt.einsum("ij,jk->ik", [ma, mb]), ref)
    assert_same(mt.tensordot(ma, mb, dims=mt.tensor([[1], [0]])), ref)
    assert_same(mt.tensordot(ma, mb, 1), ref)


def test_tri_indices_dtype():
    assert_same(mt.tril_indices(4, 3, -1, dtype=mt.int32), torch.tril_indices(4, 3, -1, dtype=torch.int32))
    assert_same(mt.triu_indices(3, 5, 2), torch.triu_indices(3, 5, 2))


# ----- matmul broadcasting: a property against torch ---------------------------------------------
_dims = st.lists(st.sampled_from([1, 2, 3]), min_size=0, max_size=2)


@given(batch_a=_dims, batch_b=_dims, n=st.integers(1, 3), k=st.integers(1, 3), k2=st.integers(1, 3),
       m=st.integers(1, 3), vec_a=st.booleans(), vec_b=st.booleans())
def test_matmul_shapes_property(batch_a, batch_b, n, k, k2, m, vec_a, vec_b):
    a = rand(k) if vec_a else rand(*batch_a, n, k)
    b = rand(k2) if vec_b else rand(*batch_b, k2, m)
    try:
        ref = torch.matmul(*to_torch([a, b]))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mt.matmul(*to_mt([a, b]))
        return
    assert_same(mt.matmul(*to_mt([a, b])), ref)


# ----- decompositions: up to sign, gradients of gauge-invariant losses ----------------------------
def _grad_pair(fn_t, fn_m, x):
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    m = mt.tensor(x).requires_grad_(True)
    fn_t(torch, t).backward()
    fn_m(mt, m).backward()
    return m.grad, t.grad


@pytest.mark.parametrize("shape,full", [((3, 3), True), ((4, 3), False), ((2, 3, 5), False)])
def test_svd_up_to_sign_and_grad(shape, full):
    x = rand(*shape)
    U, S, Vh = mt.linalg.svd(mt.tensor(x), full_matrices=full)
    tU, tS, tVh = torch.linalg.svd(torch.from_numpy(x), full_matrices=full)
    assert_same(S, tS)
    assert_same(abs(U), tU.abs(), atol=1e-7)
    assert_same(abs(Vh), tVh.abs(), atol=1e-7)
    k = min(shape[-2:])
    rec = (U[..., :, :k] * S[..., None, :]) @ Vh[..., :k, :]
    np.testing.assert_allclose(np.asarray(rec._data), x, atol=1e-10)
    if full and shape[-1] != shape[-2]:
        return
    w = rand(*U.shape)
    v = rand(*Vh.shape)

    def loss(lib, a):
        u, s, vh = lib.linalg.svd(a, full_matrices=full)
        return (s * lib.arange(1, s.shape[-1] + 1)).sum() + (u * u * lib.tensor(w)).sum() \
            + (vh * vh * lib.tensor(v)).sum()
    assert_same(*_grad_pair(loss, loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("batch", [(), (2,)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_up_to_sign_and_grad(batch, uplo):
    x = spd(4, batch)
    L, V = mt.linalg.eigh(mt.tensor(x), UPLO=uplo)
    tL, tV = torch.linalg.eigh(torch.from_numpy(x), UPLO=uplo)
    assert_same(L, tL)
    assert_same(abs(V), tV.abs(), atol=1e-7)
    w = rand(*V.shape)

    def loss(lib, a):
        lam, vec = lib.linalg.eigh(a, UPLO=uplo)
        return (lam * lib.arange(1, 5)).sum() + (vec * vec * lib.tensor(w)).sum()
    assert_same(*_grad_pair(loss, loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["eigvalsh", "cholesky"])
def test_only_one_triangle_is_read(name):
    x = spd(3)
    x[0, 2] += 5.0  # garbage above the diagonal: torch reads the lower triangle only
    assert_same(getattr(mt.linalg, name)(mt.tensor(x)), getattr(torch.linalg, name)(torch.from_numpy(x)))
    up = x.T.copy()
    assert_same(mt.linalg.eigvalsh(mt.tensor(up), UPLO="U"),
                torch.linalg.eigvalsh(torch.from_numpy(up), UPLO="U"))


def test_cholesky_and_inv_grads_symmetric_input():
    x = spd(3, (2,))

    def loss(lib, a):
        return (lib.linalg.cholesky(a) * lib.arange(9.0, dtype=lib.float64).reshape(3, 3)).sum() \
            + lib.linalg.inv(a).sum() + lib.linalg.slogdet(a).logabsdet.sum()
    assert_same(*_grad_pair(loss, loss, x), rtol=1e-6, atol=1e-8)


def test_named_results():
    x = spd(3)
    m, t = mt.tensor(x), torch.from_numpy(x)
    for name, fields in [("slogdet", ("sign", "logabsdet")), ("qr", ("Q", "R")), ("svd", ("U", "S", "Vh")),
                         ("eigh", ("eigenvalues", "eigenvectors"))]:
        res, ref = getattr(mt.linalg, name)(m), getattr(torch.linalg, name)(t)
        assert res._fields == fields
        for i, f in enumerate(fields):
            assert getattr(res, f) is res[i] and getattr(ref, f) is ref[i]
    lst = mt.linalg.lstsq(m, m, driver="gelsd")
    ref = torch.linalg.lstsq(t, t, driver="gelsd")
    assert lst._fields == ("solution", "residuals", "rank", "singular_values")
    assert all(getattr(ref, f) is ref[i] for i, f in enumerate(lst._fields))
    assert_same(tuple(lst), tuple(ref), rtol=1e-6, atol=1e-8)


def test_vector_norm_grad_at_zero_is_zero():
    def loss(lib, a):
        return lib.linalg.vector_norm(a, dim=1).sum() + lib.linalg.norm(a, 3.0, 1).sum()
    g, tg = _grad_pair(loss, loss, np.zeros((2, 3)))
    assert_same(g, tg)
    assert not np.isnan(np.asarray(g._data)).any()


def test_linalg_namespace():
    names = mt.linalg.__all__
    assert names == sorted(names)
    for n in names:
        assert callable(getattr(mt.linalg, n)) and hasattr(torch.linalg, n), n
    assert mt.linalg.matmul is mt.matmul
    x = [rand(2, 3), rand(3, 3), rand(3)]
    assert_same(mt.linalg.multi_dot(to_mt(x)), torch.linalg.multi_dot(to_torch(x)))
