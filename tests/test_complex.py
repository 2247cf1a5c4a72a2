"""Complex tensors: conj/real/imag/angle/view_as_* edge cases, the ``.real``/``.imag`` properties,
and complex autograd against torch (whose gradients follow the conjugate-Wirtinger convention)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops.complex_ops import C

from .oracle import assert_same, torch

# torch reports grads as conj(dL/dz) * 2 (conjugate Wirtinger); a raw jax.vjp gives the conjugate
# of that, which the op table corrects (OpDef.backward_fn / grad_out conjugate complex values).


def _pair(*arrays, grad=False):
    """The same arrays as torch and mt tensors (leaves that require grad if ``grad``)."""
    t = [torch.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
    m = [mt.tensor(a).requires_grad_(grad) for a in arrays]
    return t, m


# ----- properties and functions ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_real_imag_properties_match_torch(dtype):
    (t,), (m,) = _pair(C(3, 4, dtype=dtype))
    assert_same(m.real, t.real)
    assert_same(m.imag, t.imag)
    assert_same(mt.real(m), torch.real(t))
    assert_same(mt.imag(m), torch.imag(t))


def test_real_of_real_tensor_is_the_tensor_and_imag_raises():
    m = mt.tensor([1.0, -2.0])
    assert m.real is m and mt.real(m) is m and m.conj() is m and mt.resolve_conj(m) is m
    for get in (lambda x: x.imag, mt.imag, lambda x: x.imag.sum()):
        with pytest.raises(RuntimeError, match="imag"):
            get(m)
    with pytest.raises(RuntimeError):
        torch.tensor([1.0]).imag  # noqa: B018 - the same kind as torch


def test_part_setters_match_torch():
    z = C(2, 3)
    v = np.float32(0.5) * np.arange(3, dtype="float32")
    (t,), (m,) = _pair(z)
    t.real = torch.from_numpy(v)
    m.real = mt.tensor(v)
    assert_same(m, t)
    t.imag = torch.tensor(2.0)
    before = m._version
    m.imag = 2.0
    assert m._version == before + 1
    assert_same(m, t)
    (tr,), (mr,) = _pair(np.zeros(3, "float32"))
    tr.real = torch.ones(3)
    mr.real = mt.ones(3)
    assert_same(mr, tr)
    with pytest.raises(RuntimeError, match="imag"):
        mr.imag = mt.ones(3)
    with pytest.raises(RuntimeError, match="size of tensor"):
        m.real = mt.ones(4)


def test_setter_on_leaf_requiring_grad_raises():
    m = mt.tensor(C(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        m.real = mt.zeros(3)


def test_setter_is_differentiable():
    (t, tv), (m, mv) = _pair(C(3), np.array([1.0, 2.0, 3.0], "float32"), grad=True)
    tz, mz = t * 1, m * 1
    tz.real = tv * 2
    mz.real = mv * 2
    torch.view_as_real(tz).pow(2).sum().backward()
    mt.view_as_real(mz).pow(2).sum().backward()
    assert_same(mv.grad, tv.grad)


def test_is_conj_is_neg_are_false_flags():
    m = mt.tensor(C(3))
    assert m.is_conj() is False and m.conj().is_conj() is False and mt.is_neg(m) is False
    assert mt.is_complex(m) is True and mt.is_complex(m.real) is False


def test_conj_physical_inplace():
    (t,), (m,) = _pair(C(4))
    assert m.conj_physical_() is m
    t.conj_physical_()
    assert_same(m, t)


# ----- angle, sgn, view_as_* -------------------------------------------------------------------
def test_angle_real_edge_values_and_zero_grad():
    v = np.array([-0.0, 0.0, -1.0, 2.0, np.nan, -np.inf, np.inf], "float32")
    (t,), (m,) = _pair(v, grad=True)
    assert_same(mt.angle(m), torch.angle(t))
    torch.angle(t).sum().backward()
    mt.angle(m).sum().backward()
    assert_same(m.grad, t.grad)
    assert_same(mt.angle(mt.tensor([-3, 0, 4])), torch.angle(torch.tensor([-3, 0, 4])))


def test_angle_complex_axes():
    z = np.array([1, 1j, -1, -1j, 0, -1 - 0j], "complex128")
    (t,), (m,) = _pair(z)
    assert_same(mt.angle(m), torch.angle(t))
    assert mt.angle(m).dtype == mt.float64
    assert abs(mt.angle(m)[2].item() - math.pi) < 1e-12


def test_sgn_complex_including_zero():
    z = np.array([3 + 4j, 0j, -2j, 1e-30 + 0j], "complex64")
    (t,), (m,) = _pair(z)
    assert_same(mt.sgn(m), torch.sgn(t))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_view_as_real_complex_roundtrip(dtype):
    z = C(2, 3, dtype=dtype)
    (t,), (m,) = _pair(z)
    assert_same(mt.view_as_real(m), torch.view_as_real(t))
    assert_same(mt.view_as_complex(mt.view_as_real(m)), t)


@pytest.mark.parametrize("bad", [np.zeros(3, "float32"), np.zeros((2, 3), "float32"),
                                 np.zeros((2, 2), "int64"), np.float32(1.0)])
def test_view_as_complex_errors_match_torch(bad):
    bad = np.asarray(bad)
    with pytest.raises(RuntimeError) as te:
        torch.view_as_complex(torch.from_numpy(bad))
    with pytest.raises(RuntimeError) as me:
        mt.view_as_complex(mt.tensor(bad))
    first = str(te.value).split(",")[0].split(" (")[0][:30]
    assert first.lower() in str(me.value).lower()


def test_view_as_real_of_real_raises():
    with pytest.raises(RuntimeError, match="only supported for complex"):
        mt.view_as_real(mt.ones(3))


# ----- autograd --------------------------------------------------------------------------------
def _grads(fn, *arrays):
    """Run ``fn`` (a real scalar of its tensor arguments) in both libraries; compare leaf grads."""
    ts, ms = _pair(*arrays, grad=True)
    fn(torch, *ts).backward()
    fn(mt, *ms).backward()
    for i, (tl, ml) in enumerate(zip(ts, ms)):
        assert_same(ml.grad, tl.grad, what=f"grad of input {i}")


LOSSES = {
    "abs2": lambda lib, z, w: (z * z.conj()).real.sum(),
    "abs": lambda lib, z, w: z.abs().sum(),
    "prod_real": lambda lib, z, w: (z * w).real.sum(),
    "prod_imag": lambda lib, z, w: (z * w).imag.sum(),
    "angle": lambda lib, z, w: lib.angle(z * w).sum(),
    "view_as_real": lambda lib, z, w: (lib.view_as_real(z) * lib.view_as_real(w)).sum(),
    "sgn": lambda lib, z, w: lib.view_as_real(lib.sgn(z) * w).pow(2).sum(),
    "exp": lambda lib, z, w: lib.exp(z).real.sum(),
    "conj_physical": lambda lib, z, w: (lib.conj_physical(z) * w).imag.sum(),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_grad_complex_leaf(name):
    _grads(LOSSES[name], C(3), C(3))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_grad_real_leaves_through_complex(name):
    # real leaves seen through complex intermediates: the convention cancels out on real inputs
    def fn(lib, a, b):
        return LOSSES[name](lib, lib.view_as_complex(a), lib.view_as_complex(b))
    _grads(fn, np.asarray(np.random.default_rng(0).standard_normal((3, 2)), "float32"),
           np.asarray(np.random.default_rng(1).standard_normal((3, 2)), "float32"))


def test_grad_complex_output_with_explicit_gradient_complex_leaf():
    ts, ms = _pair(C(3), grad=True)
    g = C(3)
    (ts[0] * ts[0]).backward(torch.from_numpy(g))
    (ms[0] * ms[0]).backward(mt.tensor(g))
    assert_same(ms[0].grad, ts[0].grad)


def test_backward_of_complex_scalar_raises():
    m = mt.tensor(C(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="real scalar"):
        (m * m).sum().backward()
