"""mt.linalg's eig/LU/triangular/Cholesky extras and torch's legacy forms beyond the per-op samples:
gradients of complex-valued decompositions (eig) against torch, the ``*_ex`` info values and
``check_errors``, factor reconstructions, and torch's errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.linalg  # noqa: F401

from .oracle import torch

rng = np.random.default_rng(3)


def rand(*shape, dtype="float64"):
    return rng.standard_normal(shape).astype(dtype)


def both(x, grad=False):
    return (mt.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad))


def test_eig_values_and_gauge_invariant_gradient_match_torch():
    x = rand(2, 3, 3)
    m, t = both(x, True)
    wm, vm = mt.linalg.eig(m)
    wt, vt = torch.linalg.eig(t)
    np.testing.assert_allclose(np.asarray(wm._data), wt.detach().numpy(), rtol=1e-10, atol=1e-10)
    # columns up to phase: compare |v|
    np.testing.assert_allclose(np.abs(np.asarray(vm._data)), vt.detach().abs().numpy(), atol=1e-10)
    c = rand(2, 3, 3)
    lm = (wm.real * mt.tensor(c[..., 0])).sum() + (wm.imag**2).sum() + (vm.abs() ** 2 * mt.tensor(c)).sum()
    lt = (
        (wt.real * torch.tensor(c[..., 0])).sum()
        + (wt.imag**2).sum()
        + (vt.abs() ** 2 * torch.tensor(c)).sum()
    )
    lm.backward()
    lt.backward()
    np.testing.assert_allclose(np.asarray(m.grad._data), t.grad.numpy(), rtol=1e-7, atol=1e-9)


def test_eigvals_gradient_matches_torch():
    m, t = both(rand(3, 3), True)
    mt.linalg.eigvals(m).real.sum().backward()
    torch.linalg.eigvals(t).real.sum().backward()
    np.testing.assert_allclose(np.asarray(m.grad._data), t.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_lu_factor_reconstructs_and_lu_solve_solves():
    x = rand(2, 4, 4)
    LU, piv = mt.linalg.lu_factor(mt.tensor(x))
    assert piv.dtype == mt.int32
    P, L, U = mt.lu_unpack(LU, piv)
    np.testing.assert_allclose(np.asarray((P @ L @ U)._data), x, atol=1e-12)
    b = rand(2, 4, 2)
    X = mt.linalg.lu_solve(LU, piv, mt.tensor(b))
    np.testing.assert_allclose(x @ np.asarray(X._data), b, atol=1e-10)
    Xa = mt.linalg.lu_solve(LU, piv, mt.tensor(b), adjoint=True)
    np.testing.assert_allclose(np.swapaxes(x, -1, -2) @ np.asarray(Xa._data), b, atol=1e-10)


def test_ex_info_and_check_errors():
    bad = mt.tensor(np.stack([np.eye(3), np.diag([1.0, -1.0, 2.0])]))
    L, info = mt.linalg.cholesky_ex(bad)
    assert info.tolist() == [0, 2]
    with pytest.raises(mt.linalg.LinAlgError, match=r"\(Batch element 1\).*leading minor of order 2"):
        mt.linalg.cholesky_ex(bad, check_errors=True)
    sing = mt.tensor([[1.0, 2.0], [2.0, 4.0]])
    assert mt.linalg.inv_ex(sing).info.item() == 2
    assert mt.linalg.lu_factor_ex(sing).info.item() == 2
    with pytest.raises(RuntimeError, match="diagonal element 2 is zero"):
        mt.linalg.inv_ex(sing, check_errors=True)
    with pytest.raises(mt.linalg.LinAlgError, match="singular"):
        mt.linalg.solve_ex(sing, mt.tensor([1.0, 1.0]), check_errors=True)
    assert mt.linalg.solve_ex(mt.eye(2), mt.tensor([1.0, 1.0])).info.item() == 0


def test_geqrf_orgqr_ormqr_reconstruct_qr():
    x = rand(5, 3)
    a, tau = mt.geqrf(mt.tensor(x))
    ta, ttau = torch.geqrf(torch.tensor(x))
    np.testing.assert_allclose(np.asarray(a._data), ta.numpy(), atol=1e-10)
    np.testing.assert_allclose(np.asarray(tau._data), ttau.numpy(), atol=1e-10)
    Q = mt.orgqr(a, tau)
    R = mt.triu(a[:3])
    np.testing.assert_allclose(np.asarray((Q @ R)._data), x, atol=1e-10)
    c = rand(5, 2)
    np.testing.assert_allclose(
        np.asarray(mt.ormqr(a, tau, mt.tensor(c), transpose=True)._data),
        torch.ormqr(ta, ttau, torch.tensor(c), transpose=True).numpy(),
        atol=1e-10,
    )


def test_legacy_svd_returns_v_and_matches_reconstruction():
    x = rand(4, 3)
    U, S, V = mt.svd(mt.tensor(x))
    u, s, v = (np.asarray(t._data) for t in (U, S, V))
    np.testing.assert_allclose(u * s @ v.T, x, atol=1e-10)
    assert type(mt.svd(mt.tensor(x))).__name__ == "svd"
    U0, S0, V0 = mt.svd(mt.tensor(x), compute_uv=False)
    assert U0.shape == (4, 4) and V0.shape == (3, 3) and float(U0.abs().sum()) == 0


def test_vander_gradient_at_zero_is_finite():
    m, t = both(np.array([0.0, 2.0, -1.0]), True)
    mt.linalg.vander(m, N=4).sum().backward()
    torch.linalg.vander(t, N=4).sum().backward()
    np.testing.assert_allclose(np.asarray(m.grad._data), t.grad.numpy())


@pytest.mark.parametrize(
    "call,err,msg",
    [
        (lambda: mt.linalg.eig(mt.zeros(2, 3)), RuntimeError, "linalg.eig: A must be batches of square"),
        (
            lambda: mt.linalg.solve_triangular(mt.eye(3), mt.ones(3), upper=True),
            RuntimeError,
            "B must have at least 2 dimensions",
        ),
        (lambda: mt.linalg.matrix_power(mt.eye(3), 2.0), TypeError, "must be int, not float"),
        (
            lambda: mt.linalg.lu_solve(*mt.linalg.lu_factor(mt.eye(3)), mt.ones(2, 3)),
            RuntimeError,
            r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x3\)",
        ),
        (
            lambda: mt.cholesky_solve(mt.ones(2, 2), mt.eye(3)),
            RuntimeError,
            "each A matrix is 3 by 3 but each b matrix is 2 by 2",
        ),
        (
            lambda: mt.linalg.householder_product(mt.ones(3, 4), mt.ones(2)),
            RuntimeError,
            "input.shape\\[-2\\] must be greater than or equal to input.shape\\[-1\\]",
        ),
        (lambda: mt.linalg.tensorinv(mt.ones(4, 6, 8, 2)), RuntimeError, "but got 16 != 24"),
        (lambda: mt.linalg.vander(mt.ones(3), N=1), RuntimeError, "N must be greater than 1"),
        (lambda: mt.linalg.cond(mt.eye(3), 3), RuntimeError, "invalid norm type: 3"),
        (lambda: mt.lu_unpack(mt.eye(3), mt.tensor([1, 2, 3])), RuntimeError, "int32"),
    ],
)
def test_errors_name_the_function(call, err, msg):
    with pytest.raises(err, match=msg):
        call()
