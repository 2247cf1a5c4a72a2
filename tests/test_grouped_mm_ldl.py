"""F.grouped_mm / scaled_mm / scaled_grouped_mm and linalg.ldl_factor(_ex) / ldl_solve against torch.

torch's CPU grouped_mm wants 16-byte aligned strides, so K and N are multiples of 8 here; torch has
no CPU scaled_grouped_mm (compared with a float64 numpy reference of the same float8 values).
"""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops import public

from .oracle import needs_torch, torch

F = mt.nn.functional
TF = torch.nn.functional
ST = F.ScalingType


def _linalg(name):
    return getattr(mt.linalg, name, None) or public("linalg_" + name)


ldl_factor, ldl_factor_ex, ldl_solve = (_linalg(n) for n in ("ldl_factor", "ldl_factor_ex", "ldl_solve"))
RNG = np.random.default_rng(0)


def _r(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def _i32(*v):
    return np.array(v, np.int32)


# ----------------------------------------------------------------------------- grouped_mm
def test_grouped_mm_jagged_rows_values_grads_and_zero_tail():
    a, b, offs = _r(9, 8), _r(3, 8, 16), _i32(2, 2, 6)  # an empty group, rows 6..8 unused
    ma, mb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    mo = F.grouped_mm(ma, mb, offs=mt.tensor(offs))
    to = TF.grouped_mm(ta, tb, offs=torch.tensor(offs))
    np.testing.assert_allclose(mo.detach().numpy()[:6], to.detach().numpy()[:6], rtol=1e-5, atol=1e-5)
    assert np.all(mo.detach().numpy()[6:] == 0)  # torch leaves these uninitialised
    g = _r(9, 16)
    g[6:] = 0
    mo.backward(mt.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(ma.grad.numpy()[:6], ta.grad.numpy()[:6], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_grouped_mm_other_layouts_and_bfloat16():
    cases = [(_r(3, 4, 8), _r(8, 16), _i32(4, 8, 16)), (_r(8, 16), _r(16, 8), _i32(4, 12, 16)),
             (_r(3, 4, 8), _r(3, 8, 16), None)]
    for a, b, offs in cases:
        mo = F.grouped_mm(mt.tensor(a), mt.tensor(b), offs=None if offs is None else mt.tensor(offs))
        to = TF.grouped_mm(torch.tensor(a), torch.tensor(b),
                           offs=None if offs is None else torch.tensor(offs))
        assert tuple(mo.shape) == tuple(to.shape)
        np.testing.assert_allclose(mo.numpy(), to.numpy(), rtol=1e-5, atol=1e-5)
    a, b, offs = _r(6, 8), _r(3, 8, 16), _i32(2, 4, 6)
    mo = F.grouped_mm(mt.tensor(a).bfloat16(), mt.tensor(b).bfloat16(), offs=mt.tensor(offs))
    to = TF.grouped_mm(torch.tensor(a).bfloat16(), torch.tensor(b).bfloat16(), offs=torch.tensor(offs))
    assert mo.dtype == mt.bfloat16
    np.testing.assert_allclose(mo.float().numpy(), to.float().numpy(), rtol=2e-2, atol=2e-2)
    # float32 accumulation/output of bfloat16 inputs (torch's CUDA behaviour)
    m32 = F.grouped_mm(mt.tensor(a).bfloat16(), mt.tensor(b).bfloat16(), offs=mt.tensor(offs),
                       out_dtype=mt.float32)
    assert m32.dtype == mt.float32
    np.testing.assert_allclose(m32.numpy(), to.float().numpy(), rtol=2e-2, atol=2e-2)


def test_grouped_mm_jit_with_traced_offs():
    a, b = _r(6, 8), _r(3, 8, 16)

    @mt.jit
    def f(x, w, offs):
        return F.grouped_mm(x, w, offs=offs).sum(0)

    for offs in (_i32(2, 4, 6), _i32(1, 1, 5)):
        got = f(mt.tensor(a), mt.tensor(b), mt.tensor(offs))
        want = F.grouped_mm(mt.tensor(a), mt.tensor(b), offs=mt.tensor(offs)).sum(0)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    assert f.num_compiles == 1


def test_grouped_mm_errors():
    a, b, offs = mt.tensor(_r(6, 8)), mt.tensor(_r(3, 8, 16)), mt.tensor(_i32(2, 4, 6))
    with pytest.raises(RuntimeError, match="Offsets have to be int32"):
        F.grouped_mm(a, b, offs=offs.long())
    with pytest.raises(RuntimeError, match="Have to provide offsets"):
        F.grouped_mm(a, b)
    with pytest.raises(RuntimeError, match="matrix batch sizes have to match"):
        F.grouped_mm(a, b, offs=offs[:2])
    with pytest.raises(RuntimeError, match="Expected mat_a to be Float32, BFloat16 or Float16 matrix"):
        F.grouped_mm(a.double(), b.double(), offs=offs)
    with pytest.raises(RuntimeError, match="contraction dimension"):
        F.grouped_mm(a, b.transpose(1, 2), offs=offs)
    with pytest.raises(NotImplementedError, match="Bias not supported"):
        F.grouped_mm(a, b, offs=offs, bias=mt.zeros(16))
    with pytest.raises(RuntimeError, match="output dtype must match"):
        F.grouped_mm(a, b, offs=offs, out_dtype=mt.bfloat16)


# ----------------------------------------------------------------------------- scaled matmuls
def _f8(x, lib, dt="float8_e4m3fn"):
    return (torch.tensor(x) if lib is torch else mt.tensor(x)).to(getattr(lib, dt))


@pytest.mark.parametrize("recipe", ["TensorWise", "RowWise"])
@needs_torch(2, 13, "torch's scaled_mm on the CPU")
def test_scaled_mm_matches_torch(recipe):
    a, b = _r(16, 32), _r(32, 16)
    if recipe == "TensorWise":
        sa, sb = np.float32(1.5) * np.ones((), "f4"), np.float32(0.25) * np.ones((), "f4")
    else:
        sa, sb = (RNG.random((16, 1)) + 0.5).astype("f4"), (RNG.random((1, 16)) + 0.5).astype("f4")
    bias = _r(16)
    for od, bias_on in (("float32", False), ("bfloat16", True), (None, False)):
        kw = {"bias": None if not bias_on else torch.tensor(bias).bfloat16()}
        t = TF.scaled_mm(_f8(a, torch), _f8(b, torch, "float8_e5m2"), torch.tensor(sa),
                         getattr(TF.ScalingType, recipe),
                         torch.tensor(sb), getattr(TF.ScalingType, recipe),
                         output_dtype=None if od is None else getattr(torch, od), **kw)
        kw = {"bias": None if not bias_on else mt.tensor(bias).bfloat16()}
        m = F.scaled_mm(_f8(a, mt), _f8(b, mt, "float8_e5m2"), mt.tensor(sa), getattr(ST, recipe),
                        mt.tensor(sb), getattr(ST, recipe),
                        output_dtype=None if od is None else getattr(mt, od), **kw)
        assert str(m.dtype).rsplit(".")[-1] == str(t.dtype).rsplit(".")[-1]
        tol = 1e-5 if od == "float32" else 0.07
        np.testing.assert_allclose(m.float().numpy(), t.float().numpy(), rtol=tol, atol=tol)


def test_scaled_mm_errors():
    a, b = _f8(_r(16, 32), mt), _f8(_r(32, 16), mt)
    one = mt.tensor(1.0)
    with pytest.raises(ValueError, match="Invalid scaling configuration"):
        F.scaled_mm(a, b, mt.ones(16), ST.RowWise, mt.ones(1, 16), ST.RowWise)
    with pytest.raises(ValueError, match="Invalid scaling configuration"):
        F.scaled_mm(a, b, one.bfloat16(), ST.TensorWise, one, ST.TensorWise)
    with pytest.raises(ValueError, match="Invalid scaling configuration"):
        F.scaled_mm(a.float(), b.float(), one, ST.TensorWise, one, ST.TensorWise)
    with pytest.raises(ValueError, match="cannot be multiplied"):
        F.scaled_mm(a, b[:16], one, ST.TensorWise, one, ST.TensorWise)
    with pytest.raises(NotImplementedError, match="BlockWise1x32"):
        F.scaled_mm(a, b, one, ST.BlockWise1x32, one, ST.BlockWise1x32)


def test_scaled_grouped_mm_matches_numpy_reference_and_jit():
    a, b, offs = _r(6, 16), _r(3, 16, 8), _i32(2, 3, 6)
    a8, b8 = _f8(a, mt), _f8(b, mt)
    af, bf = a8.double().numpy(), b8.double().numpy()  # the float8 values, exactly
    sa, sb = (RNG.random(6) + 0.5).astype("f4"), (RNG.random((3, 8)) + 0.5).astype("f4")
    out = F.scaled_grouped_mm(a8, b8, mt.tensor(sa), ST.RowWise, mt.tensor(sb), ST.RowWise,
                              offs=mt.tensor(offs), output_dtype=mt.float32)
    ref = np.zeros((6, 8))
    for g, (lo, hi) in enumerate(zip([0, 2, 3], offs)):
        ref[lo:hi] = (af[lo:hi] * sa[lo:hi, None]) @ (bf[g] * sb[g][None, :])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    f = mt.jit(lambda x, w, s1, s2, o: F.scaled_grouped_mm(x, w, s1, ST.RowWise, s2, ST.RowWise, offs=o))
    got = f(a8, b8, mt.tensor(sa), mt.tensor(sb), mt.tensor(offs))
    assert got.dtype == mt.bfloat16
    np.testing.assert_allclose(got.float().numpy(), ref, rtol=2e-2, atol=2e-2)
    # 3d x 3d, TensorWise
    a3 = _f8(_r(3, 4, 16), mt)
    out = F.scaled_grouped_mm(a3, b8, mt.tensor(2.0), ST.TensorWise, mt.tensor(0.5), ST.TensorWise,
                              output_dtype=mt.float32)
    np.testing.assert_allclose(out.numpy(), a3.double().numpy() @ bf, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Invalid scaling configuration"):
        F.scaled_grouped_mm(a8, b8, mt.tensor(sa[:3]), ST.RowWise, mt.tensor(sb), ST.RowWise,
                            offs=mt.tensor(offs))


# ----------------------------------------------------------------------------- LDL
def _sym(n, *batch, dtype="float64", zero_diag=False):
    x = _r(*batch, n, n, dtype=dtype)
    x = x + np.swapaxes(x, -1, -2)
    if zero_diag:  # forces 2x2 pivots
        x = x * (1 - np.eye(n, dtype=dtype))
    return x


def _check_ldl(x, tol):
    LD, piv = ldl_factor(mt.tensor(x))
    tLD, tpiv = torch.linalg.ldl_factor(torch.tensor(x))
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_allclose(LD.numpy(), tLD.numpy(), rtol=tol, atol=tol)
    b = _r(*x.shape[:-1], 2, dtype=x.dtype)
    X = ldl_solve(LD, piv, mt.tensor(b))
    np.testing.assert_allclose(X.numpy(), torch.linalg.ldl_solve(tLD, tpiv, torch.tensor(b)).numpy(),
                               rtol=tol * 10, atol=tol * 10)
    return tpiv


def test_ldl_factor_and_solve_match_torch():
    # one shape per dtype (each new shape compiles the factor and solve loops)
    spd = (lambda x: x @ x.T + np.eye(5))(_r(5, 5, dtype="float64"))
    pivs = [_check_ldl(x, 1e-10) for x in (_sym(5), _sym(5, zero_diag=True), spd)]
    assert bool((pivs[1] < 0).any()) and bool((pivs[2] > 0).all())  # 2x2 blocks / only 1x1 blocks
    # batches (vmap) are checked by test_ldl_factor_ex_info_and_errors and the op-parity samples
    _check_ldl(_sym(5, dtype="float32", zero_diag=True), 1e-4)


def test_ldl_complex_symmetric_hermitian_and_jit():
    x = (_sym(5) + 1j * _sym(5)).astype("complex128")
    LD, piv = ldl_factor(mt.tensor(x))
    tLD, tpiv = torch.linalg.ldl_factor(torch.tensor(x))
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_allclose(LD.numpy(), tLD.numpy(), atol=1e-10)
    h = x + x.conj().T  # Hermitian (LAPACK hetrf/hetrs), with 2x2 blocks
    np.fill_diagonal(h, 0)
    LD, piv = ldl_factor(mt.tensor(h), hermitian=True)
    tLD, tpiv = torch.linalg.ldl_factor(torch.tensor(h), hermitian=True)
    assert bool((tpiv < 0).any())
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_allclose(LD.numpy(), tLD.numpy(), atol=1e-10)
    b = _r(5, 2, dtype="float64").astype("complex128")
    np.testing.assert_allclose(ldl_solve(LD, piv, mt.tensor(b), hermitian=True).numpy(),
                               torch.linalg.ldl_solve(tLD, tpiv, torch.tensor(b), hermitian=True).numpy(),
                               atol=1e-10)
    a, b = _sym(5, zero_diag=True), _r(5, 2, dtype="float64")
    f = mt.jit(lambda m, r: ldl_solve(*ldl_factor(m), r))
    np.testing.assert_allclose(f(mt.tensor(a), mt.tensor(b)).numpy(), np.linalg.solve(a, b), atol=1e-10)


def test_ldl_factor_ex_info_and_errors():
    x = np.stack([_sym(5), np.diag([1.0, 0, 2, 3, 4]), np.zeros((5, 5))])
    LD, piv, info = ldl_factor_ex(mt.tensor(x))
    t = torch.linalg.ldl_factor_ex(torch.tensor(x))
    assert info.tolist() == t.info.tolist() == [0, 2, 1]
    np.testing.assert_array_equal(piv.numpy(), t.pivots.numpy())
    np.testing.assert_allclose(LD.numpy(), t.LD.numpy(), atol=1e-10)
    with pytest.raises(mt.linalg.LinAlgError, match=r"Batch element 1"):
        ldl_factor_ex(mt.tensor(x), check_errors=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ldl_factor(mt.zeros(3))
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        ldl_factor(mt.zeros(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Int"):
        ldl_factor(mt.zeros(3, 3, dtype=mt.int32))
    LD, piv = mt.zeros(4, 4, dtype=mt.float64), mt.ones(4, dtype=mt.int32)
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for torch.linalg.ldl_solve"):
        ldl_solve(LD, piv, mt.zeros(3, 2, dtype=mt.float64))
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype"):
        ldl_solve(LD, piv, mt.zeros(4, 2))
    with pytest.raises(RuntimeError, match=r"pivots.shape to be the same"):
        ldl_solve(LD, piv[:3], mt.zeros(4, 2, dtype=mt.float64))


def test_ldl_solve_grad_wrt_b_and_factor_not_differentiable():
    a, b, g = _sym(5, zero_diag=True), _r(5, 2, dtype="float64"), _r(5, 2, dtype="float64")
    A = mt.tensor(a, requires_grad=True)
    LD, piv = ldl_factor(A)
    assert not LD.requires_grad  # torch: "derivative for aten::linalg_ldl_factor_ex is not implemented"
    B = mt.tensor(b, requires_grad=True)
    X = ldl_solve(LD, piv, B)
    (X * mt.tensor(g)).sum().backward()
    tB = torch.tensor(b, requires_grad=True)  # torch's ldl_solve has no derivative: linalg.solve's
    (torch.linalg.solve(torch.tensor(a), tB) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(X.detach().numpy(), torch.linalg.solve(torch.tensor(a), tB).detach().numpy(),
                               atol=1e-10)
    np.testing.assert_allclose(B.grad.numpy(), tB.grad.numpy(), atol=1e-10)
