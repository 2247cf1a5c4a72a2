"""Sparse COO/CSR tensors (``mt.sparse``): parity with torch for values and gradients, printing,
errors on unsupported ops, and sparse @ dense inside ``mt.jit``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

pytestmark = pytest.mark.filterwarnings("ignore:.*[Ss]parse.*:UserWarning")

IDX = np.array([[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]], np.int64)  # (0, 2) appears twice: uncoalesced
VALS = np.array([1.0, -2.0, 3.0, 4.0, 0.5], np.float32)
DENSE = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def pair(requires_grad=True, size=(3, 3)):
    """The same uncoalesced 3x3 COO tensor in mt and torch: (mt values, mt S, torch values, torch S)."""
    mv = mt.tensor(VALS, requires_grad=requires_grad)
    tv = torch.tensor(VALS, requires_grad=requires_grad)
    return (mv, mt.sparse_coo_tensor(mt.tensor(IDX), mv, size),
            tv, torch.sparse_coo_tensor(torch.tensor(IDX), tv, size))


def close(m, t, atol=1e-5):
    t = t.detach()
    t = t.to_dense() if t.layout != torch.strided else t
    m = m.detach()
    m = m.to_dense() if m.layout != mt.strided else m
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-5, atol=atol)


def torchify(s: str) -> str:
    return s.replace("minitorch_jax.", "torch.")


def test_construct_metadata_and_repr():
    _, S, _, T = pair(requires_grad=False)
    assert S.layout is mt.sparse_coo and S.is_sparse and not S.is_sparse_csr
    assert S.shape == (3, 3) and S.dtype is mt.float32 and S._nnz() == 5
    assert (S.sparse_dim(), S.dense_dim(), S.is_coalesced()) == (2, 0, False)
    assert torchify(repr(S)) == repr(T)
    C, TC = S.coalesce(), T.coalesce()
    assert C.is_coalesced() and torchify(repr(C)) == repr(TC)
    np.testing.assert_array_equal(C.indices().numpy(), TC.indices().numpy())
    close(C.values(), TC.values())
    np.testing.assert_array_equal(S._indices().numpy(), IDX)
    # inferred size, hybrid (dense dims) and float64 repr
    hyb = np.arange(6.0).reshape(3, 2)
    m = mt.sparse_coo_tensor(mt.tensor([[0, 4, 1]]), mt.tensor(hyb))
    t = torch.sparse_coo_tensor(torch.tensor([[0, 4, 1]]), torch.tensor(hyb))
    assert m.shape == (5, 2) and m.dense_dim() == 1 and torchify(repr(m)) == repr(t)
    close(m, t)
    mc = mt.tensor(np.eye(2)).to_sparse_csr()
    assert torchify(repr(mc)) == repr(torch.tensor(np.eye(2)).to_sparse_csr())
    mv, S, tv, T = pair()
    assert torchify(repr(S.detach().requires_grad_())) == repr(T.detach().requires_grad_())


def test_constructor_errors():
    with pytest.raises(RuntimeError, match="indices and values must have same nnz, but got nnz from "
                                           "indices: 2, nnz from values: 3"):
        mt.sparse_coo_tensor(mt.tensor([[0, 1]]), mt.tensor([1.0, 2.0, 3.0]), (3,))
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0, size is 3 but "
                                           "found index 5"):
        mt.sparse_coo_tensor(mt.tensor([[0, 5]]), mt.tensor([1.0, 2.0]), (3,), check_invariants=True)
    with pytest.raises(RuntimeError, match=r"indices must be sparse_dim x nnz, but got: \[2\]"):
        mt.sparse_coo_tensor(mt.tensor([0, 1]), mt.tensor([1.0, 2.0]), (3,))
    with pytest.raises(RuntimeError, match="number of dimensions must be sparse_dim"):
        mt.sparse_coo_tensor(mt.tensor([[0, 1]]), mt.tensor([1.0, 2.0]), (3, 3))
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
        pair()[1].indices()
    with pytest.raises(RuntimeError, match="crow_indices.size"):
        mt.sparse_csr_tensor(mt.tensor([0, 1]), mt.tensor([0]), mt.tensor([1.0]), (2, 2))


def test_unsupported_ops_name_op_and_backend():
    S = pair(requires_grad=False)[1]
    with pytest.raises(NotImplementedError, match="Could not run 'aten::exp' with arguments from the "
                                                  "'SparseCPU' backend"):
        mt.exp(S)
    with pytest.raises(NotImplementedError, match="'aten::view'.*'SparseCPU'"):
        S.view(9)
    with pytest.raises(NotImplementedError, match="'SparseCsrCPU'"):
        mt.sin(S.to_sparse_csr())
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        S.numpy()


def test_to_dense_coalesce_grad():
    mv, S, tv, T = pair()
    close(S.to_dense(), T.to_dense())
    w = np.random.default_rng(1).standard_normal((3, 3)).astype(np.float32)
    (S.coalesce().to_dense() * mt.tensor(w)).sum().backward()
    (T.coalesce().to_dense() * torch.tensor(w)).sum().backward()
    close(mv.grad, tv.grad)
    # a leaf sparse tensor that requires grad: its .grad is sparse with its indices
    L = mt.sparse_coo_tensor(mt.tensor(IDX), mt.tensor(VALS), (3, 3), requires_grad=True).coalesce()
    TL = torch.sparse_coo_tensor(torch.tensor(IDX), torch.tensor(VALS), (3, 3), requires_grad=True)
    TL = TL.coalesce().detach().requires_grad_()
    L = L.detach().requires_grad_()
    assert L.is_leaf and L.requires_grad
    (L.to_dense() * mt.tensor(w)).sum().backward()
    (TL.to_dense() * torch.tensor(w)).sum().backward()
    assert L.grad.layout is mt.sparse_coo
    close(L.grad, TL.grad)


@pytest.mark.parametrize("fn", ["matmul", "mm", "sparse.mm", "sparse.addmm", "spmm", "csr"])
def test_sparse_dense_products(fn):
    mv, S, tv, T = pair()
    md, td = mt.tensor(DENSE[:, :2], requires_grad=True), torch.tensor(DENSE[:, :2], requires_grad=True)
    bias = np.ones((3, 2), np.float32)
    if fn == "matmul":
        mo, to = S @ md, T @ td
    elif fn == "mm":
        mo, to = mt.mm(S, md), torch.mm(T, td)
    elif fn == "sparse.mm":
        mo, to = mt.sparse.mm(S, md), torch.sparse.mm(T, td)
    elif fn == "sparse.addmm":
        mo = mt.sparse.addmm(mt.tensor(bias), S, md, beta=0.5, alpha=2.0)
        to = torch.sparse.addmm(torch.tensor(bias), T, td, beta=0.5, alpha=2.0)
    elif fn == "spmm":
        mo, to = mt.spmm(S, md), torch.spmm(T, td)
    else:
        mo, to = S.coalesce().to_sparse_csr() @ md, T.coalesce().to_sparse_csr() @ td
    assert mo.layout is mt.strided
    close(mo, to)
    w = np.random.default_rng(2).standard_normal((3, 2)).astype(np.float32)
    (mo * mt.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    close(md.grad, td.grad)
    if fn in ("sparse.mm", "sparse.addmm"):  # torch's masked gradient w.r.t. the sparse values
        close(mv.grad, tv.grad)
    else:  # torch gives a dense gradient there: ours is the masked one, equal at the stored indices
        assert mv.grad is not None


def test_dense_at_sparse_and_vector():
    _, S, _, T = pair(requires_grad=False)
    close(mt.mm(mt.tensor(DENSE[:, :3]), S), torch.mm(torch.tensor(DENSE[:, :3]), T))
    close(mt.matmul(S, mt.tensor(DENSE[:, 0])), torch.mv(T, torch.tensor(DENSE[:, 0])))
    close(mt.smm(S, mt.tensor(DENSE)), torch.smm(T, torch.tensor(DENSE)))
    close(mt.hspmm(S, mt.tensor(DENSE)), torch.hspmm(T.coalesce(), torch.tensor(DENSE)))
    close(mt.dsmm(S, mt.tensor(DENSE)), torch.dsmm(T, torch.tensor(DENSE)))
    close(mt.sspaddmm(S, S, mt.tensor(DENSE[:, :3])), torch.sspaddmm(T, T, torch.tensor(DENSE[:, :3])))
    close(mt.mm(mt.tensor(DENSE), mt.tensor(DENSE.T)), torch.mm(torch.tensor(DENSE), torch.tensor(DENSE.T)))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x3 and 4x3\)"):
        S @ mt.tensor(DENSE.T)


def test_elementwise_transpose_dtype():
    mv, S, tv, T = pair()
    close(S * 2.5, T * 2.5)
    close(3 * S, 3 * T)
    close(S / 2, T / 2)
    close(S + S, T + T)
    close(S - S * 2, T - T * 2)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported. Use add\(dense, "):
        S + mt.tensor(DENSE[:, :3])
    close(S * mt.tensor(DENSE[:, :3]), T * torch.tensor(DENSE[:, :3]))
    close(S.t(), T.t())
    close(S.transpose(0, 1), T.transpose(0, 1))
    d = S.to(mt.float64)
    assert d.dtype is mt.float64 and d.layout is mt.sparse_coo
    assert torchify(repr(d.detach())) == repr(T.to(torch.float64).detach())
    assert S.type() == "minitorch_jax.sparse.FloatTensor"
    with pytest.raises(RuntimeError, match="only sparse dimensions can be transposed"):
        mt.sparse_coo_tensor(mt.tensor([[0, 1]]), mt.ones(2, 2)).transpose(0, 1)
    assert not S.detach().requires_grad and S.requires_grad
    ((S * 2 + S).to_dense().sum() + 0).backward()
    ((T * 2 + T).to_dense().sum() + 0).backward()
    close(mv.grad, tv.grad)


def test_sum_softmax():
    mv, S, tv, T = pair()
    ms, ts = mt.sparse.sum(S), torch.sparse.sum(T)
    close(ms, ts)
    for dim in (0, 1, (0, 1)):
        close(mt.sparse.sum(S, dim), torch.sparse.sum(T, dim))
    for f in ("softmax", "log_softmax"):
        for dim in (0, 1):
            mo, to = getattr(mt.sparse, f)(S, dim), getattr(torch.sparse, f)(T, dim)
            close(mo, to)
    (ms * 2 + mt.sparse.sum(S, 1).to_dense().pow(2).sum()).backward()
    (ts * 2 + torch.sparse.sum(T, 1).to_dense().pow(2).sum()).backward()
    close(mv.grad, tv.grad)
    mv, S, tv, T = pair()
    w = np.random.default_rng(3).standard_normal(4).astype(np.float32)
    (mt.sparse.softmax(S, 1).values() * mt.tensor(w)).sum().backward()
    (torch.sparse.softmax(T, 1).coalesce().values() * torch.tensor(w)).sum().backward()
    close(mv.grad, tv.grad)


def test_dense_to_sparse_and_mask():
    x = np.array([[1.0, 0, 2], [0, 0, 0], [0, 3, 0]], np.float32)
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ms, ts = mx.to_sparse(), tx.to_sparse()
    assert torchify(repr(ms.detach())) == repr(ts.detach())
    close(mx.to_sparse(1), tx.to_sparse(1))
    assert torchify(repr(mx.detach().to_sparse_csr())) == repr(tx.detach().to_sparse_csr())
    mc = mx.detach().to_sparse_csr()
    tc = tx.detach().to_sparse_csr()
    np.testing.assert_array_equal(mc.crow_indices().numpy(), tc.crow_indices().numpy())
    np.testing.assert_array_equal(mc.col_indices().numpy(), tc.col_indices().numpy())
    close(mc.to_sparse_coo(), tc.to_sparse_coo())
    mm_ = mx.sparse_mask(pair(False)[1].coalesce())
    tm = tx.sparse_mask(pair(False)[3].coalesce())
    close(mm_, tm)
    (mm_.values() * 2).sum().backward()
    (tm.values() * 2).sum().backward()
    close(mx.grad, tx.grad)
    csr = mt.sparse_csr_tensor(mt.tensor([0, 2, 2, 3]), mt.tensor([0, 2, 1]), mt.tensor([1.0, 2.0, 3.0]))
    tcsr = torch.sparse_csr_tensor(torch.tensor([0, 2, 2, 3]), torch.tensor([0, 2, 1]),
                                   torch.tensor([1.0, 2.0, 3.0]))
    close(csr, tcsr)
    assert csr.is_sparse_csr and csr.layout is mt.sparse_csr


def test_dense_left_operand():
    mv, S, tv, T = pair()
    md = mt.tensor(DENSE[:, :3], requires_grad=True)
    td = torch.tensor(DENSE[:, :3], requires_grad=True)
    outs = [(md + S, td + T), (md - S, td - T), (md @ S, td @ T), (md * S, td * T)]
    for mo, to in outs:
        close(mo, to)
    assert outs[0][0].layout is mt.strided and outs[3][0].layout is mt.sparse_coo
    sum(mo.to_dense().sum() if mo.layout is not mt.strided else mo.sum() for mo, _ in outs).backward()
    sum(to.to_dense().sum() if to.layout is not torch.strided else to.sum() for _, to in outs).backward()
    close(md.grad, td.grad)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        2 + S


def test_op_functions_with_sparse_operand():
    _, S, _, T = pair(requires_grad=False)
    d = DENSE[:, :3]
    close(mt.add(mt.tensor(d), S, alpha=2), torch.add(torch.tensor(d), T, alpha=2))
    close(mt.mul(mt.tensor(d), S), torch.mul(torch.tensor(d), T))
    with pytest.raises(NotImplementedError, match="'aten::exp'"):
        mt.exp(S)


def test_pickle_and_save(tmp_path):
    _, S, _, T = pair(requires_grad=False)
    S2 = pickle.loads(pickle.dumps(S))
    close(S2, S.to_dense().detach())
    csr = S.coalesce().to_sparse_csr()
    close(pickle.loads(pickle.dumps(csr)), S.to_dense())
    p = str(tmp_path / "s.pt")
    mt.save({"coo": S, "csr": csr}, p)
    back, theirs = mt.load(p), torch.load(p)
    close(back["coo"], theirs["coo"])
    close(back["csr"], theirs["csr"])
    assert back["csr"].layout is mt.sparse_csr and theirs["coo"].layout is torch.sparse_coo
    torch.save({"coo": T, "csr": T.coalesce().to_sparse_csr()}, p)
    back = mt.load(p)
    close(back["coo"], T)
    close(back["csr"], T)


def test_jit_sparse_at_dense():
    idx = mt.tensor(IDX)

    @mt.jit
    def f(vals, d):
        return mt.sparse_coo_tensor(idx, vals, (3, 3)) @ d

    vals, d = mt.tensor(VALS), mt.tensor(DENSE)
    ref = mt.sparse_coo_tensor(idx, vals, (3, 3)) @ d
    for _ in range(2):
        np.testing.assert_allclose(f(vals, d).numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert f.num_compiles == 1

    @mt.jit
    def g(vals):
        return mt.sparse_coo_tensor(idx, vals, (3, 3)).coalesce().values()

    with pytest.raises(RuntimeError, match=r"coalesce\(\).*not known inside mt.jit"):
        g(vals)
    # a sparse argument reaches the program as its parts (tests/test_jit_composite.py has more)
    out = mt.jit(lambda s, d: s @ d)(mt.sparse_coo_tensor(idx, vals, (3, 3)), d)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
