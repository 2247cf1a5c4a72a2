"""``mt.func`` (JAX transforms) and ``mt.autograd.functional`` (tape-based) against torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.autograd.functional as AF
import minitorch_jax.func as mfunc
from tests.oracle import assert_same, torch

RNG = np.random.default_rng(2)


def arrays(*shapes):
    return [RNG.standard_normal(s) for s in shapes]


def mts(*arrs, grad=False):
    return [mt.tensor(a, requires_grad=grad) for a in arrs]


def tts(*arrs, grad=False):
    return [torch.tensor(a, requires_grad=grad) for a in arrs]


def f_scalar(x):
    return (x.tanh() * x.exp()).sum()


def f_vec(x, y):
    return x.sin() * y + x * x


def loss(w, x, y):
    return ((w * x).sum() - y) ** 2


# ----- torch.func -------------------------------------------------------------------------------
def test_grad_and_argnums():
    a, b = arrays(4, 4)
    (mx, my), (tx, ty) = mts(a, b), tts(a, b)
    assert_same(mfunc.grad(f_scalar)(mx), torch.func.grad(f_scalar)(tx))
    g = lambda x, y: f_vec(x, y).sum()  # noqa: E731
    assert_same(mfunc.grad(g, argnums=(0, 1))(mx, my), torch.func.grad(g, argnums=(0, 1))(tx, ty))
    assert_same(mfunc.grad(g, argnums=1)(mx, my), torch.func.grad(g, argnums=1)(tx, ty))


def test_grad_has_aux_and_grad_and_value():
    (a,) = arrays(3)
    (mx,), (tx,) = mts(a), tts(a)

    def f(x):
        return f_scalar(x), {"double": x * 2}

    gm, auxm = mfunc.grad(f, has_aux=True)(mx)
    gt, auxt = torch.func.grad(f, has_aux=True)(tx)
    assert_same(gm, gt)
    assert_same(auxm["double"], auxt["double"])
    assert_same(mfunc.grad_and_value(f_scalar)(mx), torch.func.grad_and_value(f_scalar)(tx))
    gm, (vm, am) = mfunc.grad_and_value(f, has_aux=True)(mx)
    gt, (vt, at) = torch.func.grad_and_value(f, has_aux=True)(tx)
    assert_same((gm, vm, am["double"]), (gt, vt, at["double"]))


def test_grad_of_dict_of_params():
    w, b = arrays(3, ())
    x = arrays(3)[0]

    def f(p, x):
        return ((p["w"] * x).sum() + p["b"]).tanh()

    pm = {"w": mt.tensor(w), "b": mt.tensor(b)}
    pt = {"w": torch.tensor(w), "b": torch.tensor(b)}
    gm, gt = mfunc.grad(f)(pm, mt.tensor(x)), torch.func.grad(f)(pt, torch.tensor(x))
    assert_same(gm["w"], gt["w"])
    assert_same(gm["b"], gt["b"])


def test_grad_needs_scalar_output():
    with pytest.raises(RuntimeError, match="scalar"):
        mfunc.grad(lambda x: x * 2)(mt.tensor([1.0, 2.0]))


def test_vmap_per_sample_grads():
    w, x, y = arrays(3, (5, 3), 5)
    gm = mfunc.vmap(mfunc.grad(loss), in_dims=(None, 0, 0))(*mts(w, x, y))
    gt = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(*tts(w, x, y))
    assert_same(gm, gt)
    # per-sample grads match a loop of eager autograd
    for i in range(5):
        wi = mt.tensor(w, requires_grad=True)
        loss(wi, mt.tensor(x[i]), mt.tensor(y[i])).backward()
        assert_same(gm[i], torch.tensor(np.asarray(wi.grad)))


def test_vmap_dims_and_nesting():
    a, b = arrays((2, 3), (3, 2))
    (ma, mb), (ta, tb) = mts(a, b), tts(a, b)
    f = lambda x, y: x * y + 1  # noqa: E731
    assert_same(mfunc.vmap(f, in_dims=(0, 1))(ma, mb), torch.func.vmap(f, in_dims=(0, 1))(ta, tb))
    assert_same(mfunc.vmap(f, in_dims=(0, 1), out_dims=1)(ma, mb),
                torch.func.vmap(f, in_dims=(0, 1), out_dims=1)(ta, tb))
    outer = lambda x, y: x * y  # noqa: E731
    nested_m = mfunc.vmap(mfunc.vmap(outer, in_dims=(None, 0)), in_dims=(0, None))(ma[:, 0], mb[0])
    nested_t = torch.func.vmap(torch.func.vmap(outer, in_dims=(None, 0)),
                               in_dims=(0, None))(ta[:, 0], tb[0])
    assert_same(nested_m, nested_t)


def test_vmap_tuple_and_scalar_args():
    a, b = arrays((4, 2), (4, 2))
    (ma, mb), (ta, tb) = mts(a, b), tts(a, b)

    def f(pair, scale):
        x, y = pair
        return (x * y).sum() * scale, x - y

    assert_same(mfunc.vmap(f, in_dims=((0, 0), None))((ma, mb), 2.0),
                torch.func.vmap(f, in_dims=((0, 0), None))((ta, tb), 2.0))
    with pytest.raises(ValueError, match="in_dims"):
        mfunc.vmap(f, in_dims=(0,))((ma, mb), 2.0)


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_jacobians(jac):
    a, b = arrays(3, 3)
    (mx, my), (tx, ty) = mts(a, b), tts(a, b)
    mj, tj = getattr(mfunc, jac), getattr(torch.func, jac)
    assert_same(mj(f_vec)(mx, my), tj(f_vec)(tx, ty))
    assert_same(mj(f_vec, argnums=(0, 1))(mx, my), tj(f_vec, argnums=(0, 1))(tx, ty))


def test_hessian():
    (a,) = arrays(4)
    assert_same(mfunc.hessian(f_scalar)(*mts(a)), torch.func.hessian(f_scalar)(*tts(a)))


def test_vjp_and_jvp():
    a, b, v = arrays(3, 3, 3)
    (mx, my), (tx, ty) = mts(a, b), tts(a, b)
    om, fm = mfunc.vjp(f_vec, mx, my)
    ot, ft = torch.func.vjp(f_vec, tx, ty)
    assert_same(om, ot)
    assert_same(fm(mt.tensor(v)), ft(torch.tensor(v)))
    assert_same(mfunc.jvp(f_vec, (mx, my), (mt.tensor(v), mt.tensor(v))),
                torch.func.jvp(f_vec, (tx, ty), (torch.tensor(v), torch.tensor(v))))


def test_transform_result_joins_the_tape():
    (a,) = arrays(3)
    mx, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (mfunc.grad(f_scalar)(mx) ** 2).sum().backward()
    (torch.func.grad(f_scalar)(tx) ** 2).sum().backward()
    assert_same(mx.grad, tx.grad)


def test_user_function_runs_without_recording():
    seen = []

    def f(x):
        seen.append(mt.is_grad_enabled())
        return (x * 2).sum()

    mfunc.grad(f)(mt.tensor([1.0, 2.0]))
    assert seen == [False] and mt.is_grad_enabled()


# ----- functional_call --------------------------------------------------------------------------------
class TinyLinear:
    """A duck-typed module: parameters in ``_parameters``, a buffer in ``_buffers``."""

    def __init__(self, w, b):
        self._parameters = {"weight": w, "bias": b}
        self._buffers = {"scale": mt.tensor(2.0, dtype=mt.float64)}

    def __getattr__(self, name):
        for store in ("_parameters", "_buffers"):
            d = self.__dict__.get(store, {})
            if name in d:
                return d[name]
        raise AttributeError(name)

    def named_parameters(self, prefix="", remove_duplicate=True):
        return [(prefix + k, v) for k, v in self._parameters.items()]

    def named_buffers(self, prefix="", remove_duplicate=True):
        return [(prefix + k, v) for k, v in self._buffers.items()]

    def __call__(self, x):
        return ((x * self.weight).sum(-1) + self.bias) * self.scale


class Outer:
    def __init__(self, inner):
        self.inner = inner

    def named_parameters(self, remove_duplicate=True):
        return self.inner.named_parameters("inner.")

    def named_buffers(self, remove_duplicate=True):
        return self.inner.named_buffers("inner.")

    def __call__(self, x):
        return self.inner(x).tanh()


def test_functional_call_swaps_and_restores():
    w, b, w2, x = arrays(3, (), 3, (4, 3))
    model = Outer(TinyLinear(mt.tensor(w, requires_grad=True), mt.tensor(b, requires_grad=True)))
    orig = model.inner.weight
    out = mfunc.functional_call(model, {"inner.weight": mt.tensor(w2)}, (mt.tensor(x),))
    expect = np.tanh(((x * w2).sum(-1) + b) * 2.0)
    np.testing.assert_allclose(np.asarray(out.detach()), expect, rtol=1e-12)
    assert model.inner.weight is orig

    with pytest.raises(ValueError, match="boom"):
        mfunc.functional_call(model, {"inner.weight": mt.tensor(w2)}, _Raiser())
    assert model.inner.weight is orig
    with pytest.raises(RuntimeError, match="Missing key"):
        mfunc.functional_call(model, {"inner.weight": mt.tensor(w2)}, (mt.tensor(x),), strict=True)


class _Raiser:
    def __rmul__(self, other):
        raise ValueError("boom")

    __mul__ = __rmul__


def test_functional_call_with_grad_and_vmap_per_sample():
    w, b, x, y = arrays(3, (), (5, 3), 5)
    model = TinyLinear(mt.tensor(w), mt.tensor(b))
    orig = model.weight
    params = {"weight": mt.tensor(w), "bias": mt.tensor(b)}

    def sample_loss(p, xi, yi):
        return (mfunc.functional_call(model, p, (xi,)) - yi) ** 2

    g = mfunc.vmap(mfunc.grad(sample_loss), in_dims=(None, 0, 0))(params, mt.tensor(x), mt.tensor(y))

    def torch_loss(p, xi, yi):
        return (((xi * p["weight"]).sum(-1) + p["bias"]) * 2.0 - yi) ** 2

    tp = {"weight": torch.tensor(w), "bias": torch.tensor(b)}
    gt = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))(tp, *tts(x, y))
    assert_same(g["weight"], gt["weight"])
    assert_same(g["bias"], gt["bias"])
    assert model.weight is orig  # no tracer left behind in the module


# ----- torch.autograd.functional ---------------------------------------------------------------------------
def _both(fn_name, func, inputs, *args, **kwargs):
    mi = tuple(mt.tensor(a) for a in inputs) if isinstance(inputs, tuple) else mt.tensor(inputs)
    ti = tuple(torch.tensor(a) for a in inputs) if isinstance(inputs, tuple) else torch.tensor(inputs)
    conv = [(tuple(mt.tensor(x) for x in a) if isinstance(a, tuple) else mt.tensor(a),
             tuple(torch.tensor(x) for x in a) if isinstance(a, tuple) else torch.tensor(a))
            for a in args]
    m = getattr(AF, fn_name)(func, mi, *[c[0] for c in conv], **kwargs)
    t = getattr(torch.autograd.functional, fn_name)(func, ti, *[c[1] for c in conv], **kwargs)
    assert_same(m, t)
    return m


def test_functional_jacobian_shapes():
    a, b = arrays((2, 3), (2, 3))
    _both("jacobian", lambda x: x.exp() * 2, a)
    _both("jacobian", f_vec, (a, b))
    _both("jacobian", lambda x, y: (f_vec(x, y), (x * y).sum()), (a, b))
    _both("jacobian", lambda x: (x.sin(), x.cos()), a)


def test_functional_hessian():
    a, b = arrays(3, 3)
    _both("hessian", f_scalar, a)
    _both("hessian", lambda x, y: (x.sin() * y * y).sum(), (a, b))


def test_functional_vector_products():
    a, b, v = arrays(3, 3, 3)
    _both("vjp", f_vec, (a, b), v)
    _both("jvp", f_vec, (a, b), (v, v))
    _both("jvp", lambda x: x.exp(), a, v)
    _both("vjp", f_scalar, a)
    _both("hvp", f_scalar, a, v)
    _both("vhp", f_scalar, a, v)
    _both("hvp", lambda x, y: (x.sin() * y * y).sum(), (a, b), (v, v))


def test_functional_strict_and_independent_outputs():
    a, b = arrays(3, 3)
    jm = _both("jacobian", lambda x, y: x * 2, (a, b))
    assert np.all(np.asarray(jm[1]) == 0)
    with pytest.raises(RuntimeError, match="independent"):
        AF.jacobian(lambda x, y: x * 2, (mt.tensor(a), mt.tensor(b)), strict=True)


def test_functional_create_graph_is_differentiable():
    (a,) = arrays(3)
    mx, tx = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    jm = AF.jacobian(lambda x: x ** 3, mx, create_graph=True)
    jt = torch.autograd.functional.jacobian(lambda x: x ** 3, tx, create_graph=True)
    assert_same(jm, jt)
    jm.sum().backward()
    jt.sum().backward()
    assert_same(mx.grad, tx.grad)
    out, g = AF.vjp(f_scalar, mx)
    assert not g.requires_grad and not out.requires_grad
