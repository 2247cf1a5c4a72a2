"""mt.library (torch.library): custom ops, fake impls, autograd, mutation, opcheck, schemas, the old API.

Every op is defined the same way in minitorch_jax and in torch (the oracle), under unique names (the op
registries are process-global).
"""


import typing

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

L = mt.library
TL = torch.library


@pytest.fixture(autouse=True)
def _cpu_tensors():
    """Kernels here are registered for the CPU dispatch key, as torch's (the oracle runs on the CPU); a
    GPU host's default device is the GPU, so make the tensors on the CPU there too."""
    with mt.device("cpu"):
        yield


def _fns(T, dtype, device):
    """The same annotated prototypes, for mt's classes or torch's."""
    def f1(x: T, y: float) -> T: ...
    def f2(x: T, n: int, flag: bool = False, s: str = "a", z: typing.Optional[T] = None) -> tuple[T, T]: ...  # noqa: UP007, UP045 (torch's spelling)
    def f3(x: T, out: T) -> None: ...
    def f4(xs: list[T], dims: typing.Sequence[int], d: dtype, dev: device, sc: float = 1.5, *,
           kw: int = 3) -> list[T]: ...
    def f5(x: T, a: typing.Optional[int] = None, b: typing.Optional[float] = None,  # noqa: UP007, UP045 (torch's spelling)
           c: typing.Union[int, float, bool] = 2) -> T: ...  # noqa: UP007, UP045 (torch's spelling)
    def f6(x: T, y: float = float("inf"), z: int = -1, dt: dtype = mt.float32 if T is mt.Tensor else
           torch.float32) -> tuple[T, int, float]: ...
    def f7(x: T, y: typing.Optional[T]) -> None: ...  # noqa: UP007, UP045 (torch's spelling)
    return [(f1, ()), (f2, ()), (f3, ("out",)), (f4, ()), (f5, ()), (f6, ()), (f7, ("x", "y")),
            (f3, "unknown")]


def test_infer_schema_matches_torch():
    ours = [L.infer_schema(f, mutates_args=m) for f, m in _fns(mt.Tensor, mt.dtype, mt.device)]
    theirs = [TL.infer_schema(f, mutates_args=m)
              for f, m in _fns(torch.Tensor, torch.dtype, torch.device)]
    assert ours == theirs
    assert ours[2] == "(Tensor x, Tensor(a1!) out) -> ()"
    f1 = _fns(mt.Tensor, mt.dtype, mt.device)[0][0]
    assert L.infer_schema(f1, mutates_args=(), op_name="foo") == "foo(Tensor x, float y) -> Tensor"


def _bad_fns(T):
    def no_ann(x): ...
    def bad_type(x: T, y: dict) -> T: ...
    def mut_float(x: T, y: float) -> T: ...
    def varargs(x: T, *args) -> T: ...
    def no_ret(x: T): ...
    def bad_ret(x: T) -> dict: ...
    def bad_default(x: T, z: list[float] = (1.0, 2.0)) -> T: ...
    return [(no_ann, ()), (bad_type, ()), (mut_float, ("y",)), (varargs, ()), (no_ret, ()), (bad_ret, ()),
            (bad_default, ()), (mut_float, ("q",)), (mut_float, "y")]


def test_infer_schema_errors_match_torch():
    for (f, m), (g, _) in zip(_bad_fns(mt.Tensor), _bad_fns(torch.Tensor)):
        with pytest.raises(ValueError) as ours:
            L.infer_schema(f, mutates_args=m)
        with pytest.raises(ValueError) as theirs:
            TL.infer_schema(g, mutates_args=m)
        # the first sentence (the rest lists valid types / prints the signature with each library's classes)
        def head(e):
            return str(e.value).split(" Got func")[0].split(". ")[0]
        assert head(ours) == head(theirs), f.__name__


def _define_sin(lib, T, ns, autograd=True):
    @lib.custom_op(f"{ns}::mysin", mutates_args=())
    def mysin(x: T, scale: float = 1.0) -> T:
        return x.sin() * scale

    @mysin.register_fake
    def _(x, scale=1.0):
        return x.new_empty(x.shape)

    def setup(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.scale = inputs[1]

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos() * ctx.scale, None

    if autograd:
        lib.register_autograd(mysin, backward, setup_context=setup)
    return mysin


def test_custom_op_values_grads_and_names_match_torch():
    ours, theirs = _define_sin(L, mt.Tensor, "mtlt_a"), _define_sin(TL, torch.Tensor, "mtlt_a")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm, 2.0), theirs(xt, 2.0)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    assert type(ym.grad_fn).__name__ == type(yt.grad_fn).__name__
    assert type(ym.grad_fn).__name__ == "GeneratedBackwardFor_mtlt_a_mysin_defaultBackward"
    (ym * ym).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    # the op objects
    pm, pt = mt.ops.mtlt_a.mysin, torch.ops.mtlt_a.mysin
    assert (repr(ours), repr(pm), repr(pm.default), pm.default.name(), str(pm.default._schema)) == \
        (repr(theirs), repr(pt), repr(pt.default), pt.default.name(), str(pt.default._schema))
    np.testing.assert_allclose(pm.default(xm, scale=2.0).detach().numpy(), ym.detach().numpy())


def test_missing_autograd_formula_raises_like_torch():
    ours = _define_sin(L, mt.Tensor, "mtlt_b", autograd=False)
    theirs = _define_sin(TL, torch.Tensor, "mtlt_b", autograd=False)
    ym, yt = ours(mt.ones(2, requires_grad=True)), theirs(torch.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError) as e1:
        ym.sum().backward()
    with pytest.raises(RuntimeError) as e2:
        yt.sum().backward()
    assert str(e1.value) == str(e2.value)
    assert ours(mt.ones(2)).grad_fn is None  # nothing requires grad: no node, as torch


def _define_numpy_square(lib, T, ns, fake_extra=0):
    @lib.custom_op(f"{ns}::npsq", mutates_args=())
    def npsq(x: T) -> T:
        return lib_from_numpy(T)(np.square(x.numpy()))

    @npsq.register_fake
    def _(x):
        return x.new_empty((x.shape[0] + fake_extra, *x.shape[1:]))

    npsq.register_autograd(lambda ctx, g: g * 2 * ctx.saved_tensors[0],
                           setup_context=lambda ctx, inputs, output: ctx.save_for_backward(inputs[0]))
    return npsq


def lib_from_numpy(T):
    return mt.from_numpy if T is mt.Tensor else torch.from_numpy


def test_numpy_op_with_fake_runs_under_jit_with_custom_backward():
    npsq = _define_numpy_square(L, mt.Tensor, "mtlt_c")
    tsq = _define_numpy_square(TL, torch.Tensor, "mtlt_c")
    rng = np.random.default_rng(1)
    w, b, inp = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (2,), (4, 3)))

    lin = mt.nn.Linear(3, 2)
    with mt.no_grad():
        lin.weight.copy_(mt.tensor(w))
        lin.bias.copy_(mt.tensor(b))
    opt = mt.optim.SGD(lin.parameters(), lr=0.1)

    @mt.jit
    def step(x):
        opt.zero_grad()
        loss = npsq(lin(x)).sum()
        loss.backward()
        opt.step()
        return loss

    tl = torch.nn.Linear(3, 2)
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(w))
        tl.bias.copy_(torch.tensor(b))
    topt = torch.optim.SGD(tl.parameters(), lr=0.1)
    for _ in range(3):
        lm = step(mt.tensor(inp))
        topt.zero_grad()
        lt = tsq(tl(torch.tensor(inp))).sum()
        lt.backward()
        topt.step()
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(lin.weight.detach().numpy(), tl.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert step.num_compiles >= 1

    @mt.jit
    def fwd(x):
        return npsq(x) + 1
    np.testing.assert_allclose(fwd(mt.tensor(inp)).numpy(), inp ** 2 + 1, rtol=1e-6)


def test_untraceable_op_without_fake_raises_under_jit():
    @L.custom_op("mtlt_d::nofake", mutates_args=())
    def nofake(x: mt.Tensor) -> mt.Tensor:
        return mt.from_numpy(np.cos(x.numpy()))

    np.testing.assert_allclose(nofake(mt.zeros(2)).numpy(), [1.0, 1.0])  # eager: fine

    @mt.jit
    def f(x):
        return nofake(x)
    with pytest.raises(RuntimeError, match="mtlt_d::nofake.*register_fake"):
        f(mt.zeros(2))


def _define_add_(lib, T, ns):
    @lib.custom_op(f"{ns}::add_", mutates_args=("x",))
    def add_(x: T, y: T) -> None:
        x.add_(y)
    return add_


def test_mutating_op_eager_and_under_jit():
    ours, theirs = _define_add_(L, mt.Tensor, "mtlt_e"), _define_add_(TL, torch.Tensor, "mtlt_e")
    assert str(mt.ops.mtlt_e.add_.default._schema) == str(torch.ops.mtlt_e.add_.default._schema)
    xm, xt = mt.zeros(3), torch.zeros(3)
    assert ours(xm, mt.ones(3)) is None and theirs(xt, torch.ones(3)) is None
    np.testing.assert_array_equal(xm.numpy(), xt.numpy())
    assert xm._version == 1

    @mt.jit
    def f(y):
        buf = mt.zeros(3)
        ours(buf, y)
        return buf * 2
    np.testing.assert_array_equal(f(mt.ones(3)).numpy(), [2.0, 2.0, 2.0])

    counter = mt.zeros(2)  # captured state: the in-place update is written back after each call

    @mt.jit
    def g(y):
        ours(counter, y)
        return counter.sum()
    g(mt.ones(2))
    g(mt.ones(2))
    np.testing.assert_array_equal(counter.numpy(), [2.0, 2.0])

    # an untraceable mutating op with a fake: the write goes through the host callback
    @L.custom_op("mtlt_e::np_fill_", mutates_args=("x",))
    def np_fill_(x: mt.Tensor, v: float) -> None:
        x.copy_(mt.from_numpy(np.full(x.shape, v, np.float32)))
    np_fill_.register_fake(lambda x, v: None)

    @mt.jit
    def h(y):
        buf = mt.zeros(2)
        np_fill_(buf, 3.0)
        return buf + y
    np.testing.assert_array_equal(h(mt.ones(2)).numpy(), [4.0, 4.0])


def test_opcheck_good_and_bad_ops_like_torch():
    ours, theirs = _define_sin(L, mt.Tensor, "mtlt_f"), _define_sin(TL, torch.Tensor, "mtlt_f")
    fast = ("test_schema", "test_autograd_registration", "test_faketensor")
    r1 = L.opcheck(ours, (mt.randn(3, requires_grad=True),))
    r2 = TL.opcheck(theirs, (torch.randn(3, requires_grad=True),), test_utils=fast)
    assert r1 == {**r2, "test_aot_dispatch_dynamic": "SUCCESS"}
    assert set(r1.values()) == {"SUCCESS"}

    bad_m = _define_numpy_square(L, mt.Tensor, "mtlt_g", fake_extra=1)
    bad_t = _define_numpy_square(TL, torch.Tensor, "mtlt_g", fake_extra=1)
    r1 = L.opcheck(bad_m, (mt.ones(3),), raise_exception=False)
    r2 = TL.opcheck(bad_t, (torch.ones(3),), raise_exception=False, test_utils=fast)
    assert type(r1["test_faketensor"]).__name__ == type(r2["test_faketensor"]).__name__
    assert type(r1["test_faketensor"]).__name__ == "MetadataMismatchError"
    assert str(r1["test_faketensor"]).replace("minitorch_jax", "torch") == str(r2["test_faketensor"])
    with pytest.raises(L.OpCheckError, match=r"opcheck\(op, \.\.\.\): test_faketensor failed with .*Shapes"):
        L.opcheck(bad_m, (mt.ones(3),))

    @L.custom_op("mtlt_g::sneaky", mutates_args=())
    def sneaky(x: mt.Tensor) -> mt.Tensor:
        x.add_(1)
        return x.clone()
    r = L.opcheck(sneaky, (mt.zeros(3),), raise_exception=False, test_utils="test_schema")
    assert str(r["test_schema"]) == "Argument x is not defined as mutable but was mutated"

    with pytest.raises(ValueError) as e1:
        L.opcheck(ours, (mt.ones(2),), test_utils=("test_bad",))
    with pytest.raises(ValueError) as e2:
        TL.opcheck(theirs, (torch.ones(2),), test_utils=("test_bad",))
    assert str(e1.value) == str(e2.value)


def test_errors_match_torch():
    def f(x: mt.Tensor) -> mt.Tensor:
        return x.clone()
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'mutates_args'"):
        L.custom_op("mtlt_h::f")(f)
    with pytest.raises(ValueError, match='of the form "namespace::name", but got nocolon'):
        L.custom_op("nocolon", f, mutates_args=())
    with pytest.raises(ValueError) as e1:
        L.custom_op("mtlt_h::m", f, mutates_args="x")
    def g(x: torch.Tensor) -> torch.Tensor:
        return x.clone()
    with pytest.raises(ValueError) as e2:
        TL.custom_op("mtlt_h::m", g, mutates_args="x")
    assert str(e1.value) == str(e2.value)

    # redefining with custom_op replaces the op (torch does too); Library.define refuses
    first = L.custom_op("mtlt_h::twice", f, mutates_args=())
    second = L.custom_op("mtlt_h::twice", lambda x: x + 1 if False else x * 2, schema="(Tensor x) -> Tensor",
                         mutates_args=())
    assert first is not second
    np.testing.assert_array_equal(mt.ops.mtlt_h.twice(mt.ones(1)).numpy(), [2.0])
    libs = [L.Library("mtlt_i", "DEF"), TL.Library("mtlt_i", "DEF")]
    errs = []
    for lib in libs:
        lib.define("foo(Tensor x) -> Tensor")
        with pytest.raises(RuntimeError) as e:
            lib.define("foo(Tensor x) -> Tensor")
        errs.append(str(e.value).split(" Duplicate")[0])
    assert errs[0] == errs[1]
    errs = []
    for Lib in (L.Library, TL.Library):
        with pytest.raises(RuntimeError) as e:
            Lib("mtlt_i", "DEF")
        errs.append(str(e.value).split(" Previous")[0].strip())
    assert errs[0] == errs[1]
    for Lib in (L.Library, TL.Library):
        with pytest.raises(ValueError, match="Unsupported kind: BAD"):
            Lib("mtlt_j", "BAD")

    msgs = []
    for lib, T, cast in ((L, mt.Tensor, mt.ones), (TL, torch.Tensor, torch.ones)):
        @lib.custom_op("mtlt_h::alias", mutates_args=())
        def alias(x: T) -> T:
            return x
        with pytest.raises(RuntimeError) as e:
            alias(cast(2))
        msgs.append(str(e.value).split(": The output", 1)[1])
    assert msgs[0] == msgs[1]
    with pytest.raises(RuntimeError, match="operator mtlt_h::nope does not exist"):
        L.register_fake("mtlt_h::nope", lambda x: x)
    with pytest.raises(NotImplementedError, match="no Triton on JAX"):
        L.triton_op("mtlt_h::t", mutates_args=())
    with pytest.raises(NotImplementedError, match="no Triton on JAX"):
        L.wrap_triton(lambda: None)


def test_library_define_impl_old_api_matches_torch():
    outs = []
    for lib_mod, ones in ((L, mt.ones), (TL, torch.ones)):
        lib = lib_mod.Library("mtlt_k", "FRAGMENT")
        lib.define("scale(Tensor x, float s=2.0, *, int n=1) -> Tensor")
        lib.impl("scale", lambda x, s=2.0, n=1: x * s * n, "CompositeImplicitAutograd")
        lib_mod.define("mtlt_k::pair", "(Tensor x) -> (Tensor, Tensor)")
        lib_mod.impl("mtlt_k::pair", "cpu", lambda x: (x + 1, x * 2))
        x = ones(2, requires_grad=True)
        ns = (mt if lib_mod is L else torch).ops.mtlt_k
        y = ns.scale(x, 3.0, n=2)
        y.sum().backward()
        a, b = ns.pair.default(ones(2))
        outs.append([y.detach().numpy(), x.grad.numpy(), a.numpy(), b.numpy(), str(ns.pair.default._schema)])
    for o, t in zip(*outs):
        np.testing.assert_array_equal(o, t) if isinstance(o, np.ndarray) else (assert_eq(o, t))
    with pytest.raises(NotImplementedError, match="Could not run 'mtlt_k::nok' with arguments from the"):
        L.define("mtlt_k::nok", "(Tensor x) -> Tensor")
        mt.ops.mtlt_k.nok(mt.ones(1))


def assert_eq(a, b):
    assert a == b


def test_register_kernel_get_ctx_and_dispatch():
    seen = []

    @L.custom_op("mtlt_l::k", mutates_args=())
    def k(x: mt.Tensor) -> mt.Tensor:
        return x + 1

    @k.register_fake
    def _(x):
        seen.append(L.get_ctx())
        return mt.empty_like(x)

    assert L.get_ctx() is None
    L.register_kernel(k, "cpu", lambda x: x * 10)
    np.testing.assert_array_equal(k(mt.ones(1)).numpy(), [10.0])
    with k.set_kernel_enabled("cpu", False):
        np.testing.assert_array_equal(k(mt.ones(1)).numpy(), [2.0])
    L.opcheck(k, (mt.ones(1),), test_utils="test_faketensor")
    assert seen and seen[0] is not None
    with pytest.raises(NotImplementedError, match="new_dynamic_size"):
        seen[0].new_dynamic_size()

    class Marked(mt.Tensor):
        pass
    k.register_torch_dispatch(Marked, lambda cls, func, types, args, kwargs: "dispatched")
    assert k(mt.ones(1).as_subclass(Marked)) == "dispatched"
    assert isinstance(k(mt.ones(1)), mt.Tensor)
