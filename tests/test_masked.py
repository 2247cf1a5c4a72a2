"""mt.masked (torch.masked): masked reductions/normalizations and MaskedTensor, against real torch."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((3, 4)).astype(np.float32)
X3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
M2 = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)  # row 1 fully masked
M3 = RNG.random((2, 3, 4)) > 0.4
M3[0, :, 1] = False  # a fully masked slice along dim 1
BCAST = np.array([[True], [False], [True]])  # (3, 1): broadcast; fully masked rows along dim -1


def _run(lib, name, x, args, kw, mask, grad=True):
    t = (torch.tensor(x, requires_grad=grad) if lib is torch else mt.tensor(x, requires_grad=grad))
    m = None if mask is None else (torch.tensor(mask) if lib is torch else mt.tensor(mask))
    out = getattr(lib.masked, name)(t, *args, **kw, mask=m)
    g = None
    if grad and out.requires_grad:
        cot = np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape)).astype(np.float32)
        c = torch.tensor(cot) if lib is torch else mt.tensor(cot)
        (lib.nan_to_num(out, 0.0, 0.0, 0.0) * c).sum().backward()
        g = t.grad.numpy() if lib is torch else np.asarray(t.grad.numpy())
    return np.asarray(out.detach().numpy()), str(out.dtype).rsplit(".", 1)[-1], g


def _compare(name, x, args=(), kw=None, mask=None, grad=True):
    kw = kw or {}
    ev, edt, eg = _run(torch, name, x, args, kw, mask, grad)
    gv, gdt, gg = _run(mt, name, x, args, kw, mask, grad)
    assert gdt == edt, (name, gdt, edt)
    assert gv.shape == ev.shape, (name, gv.shape, ev.shape)
    np.testing.assert_allclose(gv, ev, rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=name)
    if eg is not None:
        np.testing.assert_allclose(gg, eg, rtol=1e-4, atol=1e-5, equal_nan=True, err_msg=f"{name} grad")


REDUCE = ["sum", "prod", "amax", "amin", "mean", "logsumexp", "var", "std"]
CASES = [(X3, -1, {"keepdim": True}, BCAST), (X3, (0, -1), {}, M3)]


@pytest.mark.parametrize("name", REDUCE)
def test_reductions_match_torch(name):
    for x, dim, kw, mask in CASES:
        _compare(name, x, (dim,), kw, mask)
    if name in ("sum", "mean", "amax"):
        _compare(name, X3, (None,), {}, M3)


@pytest.mark.parametrize("name", ["argmax", "argmin", "median"])
def test_single_dim_reductions(name):
    for x, dim, kw, mask in [(X3, -1, {}, BCAST), (X3, 1, {"keepdim": True}, M3)]:
        _compare(name, x, (dim,), kw, mask)
    if name != "median":
        _compare(name, X3, (None,), {}, M3)


def test_norm_normalize_and_corrections():
    for ord_ in (2.0, float("-inf")):
        _compare("norm", X3, (ord_, -1), {}, BCAST)
    _compare("norm", X3, (2.0, (0, 2)), {"keepdim": True}, M3)
    _compare("normalize", X3, (1.0, -1), {"eps": 1e-3}, BCAST)
    _compare("var", X3, (1,), {"correction": 2}, M3)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin", "cumsum", "cumprod"])
def test_normalizations_and_scans(name):
    for x, dim, mask in [(X3, -1, BCAST), (X3, 1, M3)]:
        _compare(name, x, (dim,), {}, mask)


def test_logaddexp_dtype_and_ints():
    a, b = torch.tensor(X2, requires_grad=True), torch.tensor(X2 * 2, requires_grad=True)
    c, d = mt.tensor(X2, requires_grad=True), mt.tensor(X2 * 2, requires_grad=True)
    e = torch.masked.logaddexp(a, b, input_mask=torch.tensor(M2), other_mask=torch.tensor(~M2))
    g = mt.masked.logaddexp(c, d, input_mask=mt.tensor(M2), other_mask=mt.tensor(~M2))
    np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-6)
    e.sum().backward()
    g.sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), a.grad.numpy())
    np.testing.assert_allclose(d.grad.numpy(), b.grad.numpy())
    xi = (X2 * 10).astype(np.int32)
    for name in ("sum", "amax", "amin", "prod", "argmax", "logsumexp", "cumsum", "cumprod"):
        _compare(name, xi, (1,), {}, M2, grad=False)
    _compare("median", xi, (1,), {}, ~M2, grad=False)  # integer median: no fully masked rows allowed
    with pytest.raises(ValueError, match="no fully masked out rows"):
        mt.masked.median(mt.tensor(xi), 1, mask=mt.tensor(M2))
    with pytest.raises(ValueError, match=r"mean\(\): Could not infer output dtype"):
        mt.masked.mean(mt.tensor(xi), 1, mask=mt.tensor(M2))
    e = torch.masked.sum(torch.tensor(X2), 1, dtype=torch.float64, mask=torch.tensor(M2))
    g = mt.masked.sum(mt.tensor(X2), 1, dtype=mt.float64, mask=mt.tensor(M2))
    assert g.dtype == mt.float64
    np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


def test_masked_reductions_under_jit():
    @mt.jit
    def f(x, m):
        return mt.masked.mean(x, 1, mask=m) + mt.masked.softmax(x, 1, mask=m).sum(1)
    x, m = mt.tensor(X2), mt.tensor(M2)
    np.testing.assert_allclose(f(x, m).numpy(), f.eager(x, m).numpy(), equal_nan=True, rtol=1e-6)


def test_bad_mask_errors():
    with pytest.raises(RuntimeError, match="mask"):
        mt.masked.sum(mt.tensor(X2), 1, mask=mt.ones(3, 3, dtype=mt.bool))
    with pytest.raises(IndexError, match="Dimension out of range"):
        mt.masked.sum(mt.tensor(X2), 2, mask=mt.tensor(M2))


# ----- MaskedTensor ------------------------------------------------------------------------------
D = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
DM = np.array([[True, False, True], [False, False, True]])


def _pair(requires_grad=False, data=D, mask=DM):
    a = torch.masked.masked_tensor(torch.tensor(data), torch.tensor(mask), requires_grad=requires_grad)
    b = mt.masked.masked_tensor(mt.tensor(data), mt.tensor(mask), requires_grad=requires_grad)
    return a, b


def _same(b, a):
    assert mt.masked.is_masked_tensor(b) and repr(b) == repr(a), (repr(b), repr(a))
    assert bool(np.array_equal(b.get_mask().numpy(), a.get_mask().numpy()))
    am = a.get_mask().numpy()
    got, exp = b.get_data().detach().numpy(), a.get_data().detach().numpy()
    np.testing.assert_allclose(got[am], exp[am], rtol=1e-5)


def test_maskedtensor_repr_and_accessors():
    a, b = _pair()
    assert repr(b) == repr(a)
    assert b.shape == (2, 3) and b.dtype == mt.float32 and b.dim() == 2 and not b.requires_grad
    np.testing.assert_array_equal(b.to_tensor(0).numpy(), a.to_tensor(0).numpy())
    np.testing.assert_array_equal(b.get_data().numpy(), D)
    x3 = np.arange(12.0, dtype=np.float32).reshape(2, 3, 2)
    f0 = np.array(3.0, np.float32)
    for data, mask in [(x3, x3 % 3 != 0), (f0, np.array(True)), (f0, np.array(False)),
                       (np.array([1, 2]), np.array([True, False])),
                       (np.array([[1e5, 2.5], [-3.0, 1.0]], np.float32), np.array([[1, 1], [1, 0]], bool))]:
        a, b = _pair(data=data, mask=mask)
        assert repr(b) == repr(a)
    assert not mt.masked.is_masked_tensor(mt.tensor(D))


def test_maskedtensor_construction_errors():
    with pytest.raises(TypeError, match="mask must have dtype bool"):
        mt.masked.masked_tensor(mt.tensor(D), mt.tensor(DM).float())
    with pytest.raises(ValueError, match=r"data.dim\(\) must equal mask.dim\(\)"):
        mt.masked.masked_tensor(mt.tensor(D), mt.tensor(DM[0]))
    with pytest.raises(RuntimeError, match="floating point"):
        mt.masked.masked_tensor(mt.tensor([1, 2]), mt.tensor([True, False]), requires_grad=True)


def test_maskedtensor_elementwise_ops():
    a, b = _pair()
    for f in [lambda t, L: t.exp(), lambda t, L: L.log(t), lambda t, L: t * 2, lambda t, L: t + t,
              lambda t, L: -t, lambda t, L: t - 2, lambda t, L: t > 3,
              lambda t, L: t.clamp(min=3.0), lambda t, L: t.pow(2), lambda t, L: t.reshape(-1),
              lambda t, L: t.transpose(0, 1)]:
        _same(f(b, mt), f(a, torch))
    _same(b + mt.tensor(D), a + torch.tensor(D))
    other_a, other_b = _pair(mask=~DM)
    with pytest.raises(ValueError) as ea:
        a + other_a
    with pytest.raises(ValueError) as eb:
        b + other_b
    assert str(eb.value) == str(ea.value)
    with pytest.raises(TypeError, match="matmul"):
        mt.matmul(b, b.get_data().T)
    # mt.jit sees a MaskedTensor as its data and mask (tests/test_jit_composite.py has more)
    _same(mt.jit(lambda t: t.sum())(b), a.sum())


def test_maskedtensor_reductions():
    x3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    a, b = _pair(data=x3, mask=M3)
    for f in [lambda t, L: t.sum(), lambda t, L: t.sum(1), lambda t, L: L.sum(t, (0, 2)),
              lambda t, L: t.amax(-1, keepdim=True), lambda t, L: t.mean(2), lambda t, L: t.argmax(1),
              lambda t, L: t.var(), lambda t, L: t.std(1), lambda t, L: t.softmax(2),
              lambda t, L: L.masked.sum(t, 1)]:
        ra, rb = f(a, torch), f(b, mt)
        if isinstance(ra, torch.masked.MaskedTensor):
            _same(rb, ra)
        else:
            np.testing.assert_allclose(rb.detach().numpy(), ra.detach().numpy(), rtol=1e-5, equal_nan=True)


def test_maskedtensor_backward():
    x3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    for f in [lambda t: t.sum(), lambda t: (t * t).sum(1).sum(), lambda t: t.exp().amax(),
              lambda t: t.mean(2).sum()]:
        a, b = _pair(True, data=x3, mask=M3)
        f(a).backward()
        f(b).backward()
        assert b.grad_fn is None and b.is_leaf
        _same(b.grad, a.grad)
    src_a = torch.tensor(D, requires_grad=True)
    src_b = mt.tensor(D, requires_grad=True)
    torch.masked.as_masked_tensor(src_a * 2, torch.tensor(DM)).sum().backward()
    mt.masked.as_masked_tensor(src_b * 2, mt.tensor(DM)).sum().backward()
    # torch makes src.grad a MaskedTensor; here it is a plain tensor with zeros at masked entries
    np.testing.assert_allclose(src_b.grad.numpy()[DM], src_a.grad.get_data().numpy()[DM])
    assert not src_b.grad.numpy()[~DM].any()


def test_maskedtensor_pickle():
    _, b = _pair(True)
    c = pickle.loads(pickle.dumps(b))
    assert repr(c) == repr(b) and c.requires_grad


def test_maskedtensor_class_constructor_and_copy():
    import copy
    a = torch.masked.MaskedTensor(torch.tensor(D), torch.tensor(DM), requires_grad=True)
    b = mt.masked.MaskedTensor(mt.tensor(D), mt.tensor(DM), requires_grad=True)
    assert isinstance(b, mt.Tensor) and b.requires_grad and b.is_leaf and repr(b) == repr(a)
    c = copy.deepcopy(b)
    assert repr(c) == repr(b) and c.requires_grad and not b.detach().requires_grad
