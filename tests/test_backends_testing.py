"""mt.backends (switch round trips, their effect on the float32 matmul precision) and mt.testing
(assert_close messages/tolerances and make_tensor ranges against torch.testing)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

NAN, INF = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _restore_flags():
    prec, tprec = mt.get_float32_matmul_precision(), torch.get_float32_matmul_precision()
    cd = mt.backends.cudnn
    saved = (cd.enabled, cd.benchmark, cd.deterministic, cd.benchmark_limit,
             mt.are_deterministic_algorithms_enabled(),
             mt.backends.cuda.flash_sdp_enabled(), mt.backends.cuda.math_sdp_enabled(),
             mt.backends.opt_einsum.strategy)
    tc = torch.backends.cudnn
    tsaved = (tc.deterministic, tc.benchmark, torch.are_deterministic_algorithms_enabled())
    yield
    mt.set_float32_matmul_precision(prec)
    cd.enabled, cd.benchmark, cd.deterministic, cd.benchmark_limit = saved[:4]
    mt.use_deterministic_algorithms(saved[4])
    mt.backends.cuda.enable_flash_sdp(saved[5])
    mt.backends.cuda.enable_math_sdp(saved[6])
    mt.backends.opt_einsum.enabled = True
    mt.backends.opt_einsum.strategy = saved[7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.set_float32_matmul_precision(tprec)
        tc.deterministic, tc.benchmark = tsaved[:2]
        torch.use_deterministic_algorithms(tsaved[2])


# ----- backends ----------------------------------------------------------------------------------
def test_matmul_allow_tf32_is_the_float32_precision_like_torch():
    for m, lib in ((mt, mt), (torch, torch)):
        lib.set_float32_matmul_precision("highest")
        assert m.backends.cuda.matmul.allow_tf32 is False
        m.backends.cuda.matmul.allow_tf32 = True
        assert lib.get_float32_matmul_precision() == "high"
        assert m.backends.cuda.matmul.allow_tf32 is True
        m.backends.cuda.matmul.allow_tf32 = False
        assert lib.get_float32_matmul_precision() == "highest"
    mt.set_float32_matmul_precision("medium")
    assert mt.backends.cuda.matmul.allow_tf32 is True and mt.backends.cudnn.allow_tf32 is True


def test_cudnn_allow_tf32_maps_onto_precision_and_flags_restore():
    mt.backends.cudnn.allow_tf32 = True
    assert mt.get_float32_matmul_precision() == "high"
    mt.backends.cudnn.allow_tf32 = False
    assert mt.get_float32_matmul_precision() == "highest"
    assert mt.backends.cudnn.fp32_precision == "ieee"
    with mt.backends.cudnn.flags(enabled=False, deterministic=True, allow_tf32=True):
        assert (mt.backends.cudnn.enabled, mt.backends.cudnn.deterministic) == (False, True)
        assert mt.get_float32_matmul_precision() == "high"
    assert (mt.backends.cudnn.enabled, mt.backends.cudnn.deterministic) == (True, False)
    assert mt.get_float32_matmul_precision() == "highest"
    # a matmul still runs (and gives float32 results) at each setting
    x = mt.ones(4, 4)
    mt.backends.cuda.matmul.allow_tf32 = True
    assert float((x @ x).sum()) == 64.0


def test_cudnn_deterministic_is_separate_from_use_deterministic_algorithms_as_in_torch():
    for m in (mt, torch):
        m.backends.cudnn.deterministic = True
        assert m.are_deterministic_algorithms_enabled() is False
        m.backends.cudnn.deterministic = False
        m.use_deterministic_algorithms(True)
        assert m.backends.cudnn.deterministic is False
        m.use_deterministic_algorithms(False)


def test_recorded_flags_round_trip_and_reject_non_bools_like_torch():
    mt.backends.cudnn.benchmark = True
    assert mt.backends.cudnn.benchmark is True
    for m in (mt, torch):
        with pytest.raises(RuntimeError, match="set_benchmark_cudnn expects a bool, but got int"):
            m.backends.cudnn.benchmark = 1
        with pytest.raises(RuntimeError, match="set_enabled_cudnn expects a bool, but got str"):
            m.backends.cudnn.enabled = "x"
        with pytest.raises(RuntimeError, match="expects a bool, but got int"):
            m.backends.cuda.matmul.allow_tf32 = 1
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            _ = m.backends.cuda.matmul.foo
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            m.backends.cuda.matmul.foo = 1
        with pytest.raises(TypeError, match="expects a bool or a tuple/list of bools"):
            m.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = "x"
        assert m.backends.cuda.matmul.allow_fp16_reduced_precision_reduction is True
        assert m.backends.cuda.matmul.allow_bf16_reduced_precision_reduction is True


def test_sdp_switches_and_sdp_kernel():
    b = mt.backends.cuda
    b.enable_flash_sdp(False)
    assert b.flash_sdp_enabled() is False
    b.enable_flash_sdp(True)
    with pytest.warns(FutureWarning, match="sdp_kernel"):
        with b.sdp_kernel(enable_flash=False, enable_math=False):
            got = (b.flash_sdp_enabled(), b.math_sdp_enabled(), b.mem_efficient_sdp_enabled())
            assert got == (False, False, True)
    assert b.flash_sdp_enabled() and b.math_sdp_enabled() and b.cudnn_sdp_enabled()
    with pytest.raises(RuntimeError, match="expects a bool"):
        b.enable_math_sdp(1)
    assert b.preferred_linalg_library().name == "Default"
    with pytest.raises(RuntimeError, match="preferred_linalg_library"):
        b.preferred_linalg_library("nope")


def test_availability_and_misc_namespaces():
    b = mt.backends
    assert b.cudnn.is_available() == mt.cuda.is_available() == b.cuda.is_built()
    assert (b.cudnn.version() is None) == (not mt.cuda.is_available())
    assert b.mps.is_available() is False and b.mps.is_built() is False
    assert b.cpu.get_cpu_capability() in ("AVX512", "AVX2", "SVE256", "DEFAULT")
    assert not (b.mkldnn.is_available() or b.openmp.is_available() or b.mkl.is_available())
    assert b.opt_einsum.is_available() and b.opt_einsum.enabled and b.opt_einsum.strategy == "auto"
    b.opt_einsum.strategy = "greedy"
    assert b.opt_einsum.strategy == "greedy"
    with pytest.raises(ValueError, match="strategy"):
        b.opt_einsum.strategy = "bad"
    b.opt_einsum.enabled = False
    assert b.opt_einsum.strategy is None
    import minitorch_jax.backends.cudnn as cudnn_mod
    assert cudnn_mod is b.cudnn


# ----- assert_close --------------------------------------------------------------------------------
def _mt(x):
    if isinstance(x, torch.Tensor):
        name = str(x.dtype).split(".")[1]
        arr = x.float().numpy() if x.dtype == torch.bfloat16 else x.numpy()
        return mt.tensor(arr, dtype=getattr(mt, name))
    if isinstance(x, (list, tuple)):
        return type(x)(_mt(v) for v in x)
    if isinstance(x, dict):
        return {k: _mt(v) for k, v in x.items()}
    return x


def _outcome(fn, a, b, kw):
    try:
        fn(a, b, **kw)
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return type(e).__name__, str(e).replace("minitorch_jax.", "torch.")
    return "OK", ""


T = None if torch is None else torch.tensor
CASES = [
    (lambda: (T([1., 2., 3.]), T([1., 2.5, 3.1]), {})),
    (lambda: (T([1, 2, 3]), T([1, 5, 3]), {})),
    (lambda: (T([True, False]), T([True, True]), {})),
    (lambda: (T(1.), T(1.5), {})),
    (lambda: (T(1), T(2), {})),
    (lambda: (T(True), T(False), {})),
    (lambda: (torch.zeros(2, 3), T([[0, 0, 0], [0, 0, 1.]]), {})),
    (lambda: (1.0, 1.1, {})), (lambda: (1, 2, {})), (lambda: (1, 1.0, {})),
    (lambda: (1, 1.5, {"check_dtype": False})),
    (lambda: (1 + 1j, 1 + 2j, {})), (lambda: (True, False, {})), (lambda: (None, 1, {})),
    (lambda: (np.float32(1.), np.float32(1.1), {})), (lambda: (np.zeros(2), np.ones(2), {})),
    (lambda: (torch.zeros(2), torch.zeros(3), {})),
    (lambda: (torch.zeros(2), torch.zeros(2, dtype=torch.float64), {})),
    (lambda: (T([1.]), T([1.000001], dtype=torch.float64), {"check_dtype": False})),
    (lambda: ([torch.zeros(1), [torch.zeros(2), torch.zeros(1)]],
              [torch.zeros(1), [torch.zeros(2), torch.ones(1)]], {})),
    (lambda: ([1, 2], [1, 2, 3], {})), (lambda: ({"a": [1, 2]}, {"a": [1]}, {})),
    (lambda: ({"a": 1}, {"b": 1}, {})), (lambda: ([[1, 2], {"a": 3}], [[1, 2], {"a": 4}], {})),
    (lambda: (T([NAN, 1.]), T([1., 1.]), {})), (lambda: (T([NAN, 0.]), T([NAN, 1.]), {"equal_nan": True})),
    (lambda: (T([INF, 0.]), T([INF, 1.]), {})), (lambda: (T([100., 0.]), T([100.0001, 1.1e-5]), {})),
    (lambda: (T([1 + 1j]), T([1 + 2j]), {})),
    (lambda: (T([1.], dtype=torch.float16), T([1.01], dtype=torch.float16), {})),
    (lambda: (T([1.], dtype=torch.bfloat16), T([1.02], dtype=torch.bfloat16), {})),
    (lambda: (T([10], dtype=torch.uint8), T([200], dtype=torch.uint8), {})),
    (lambda: (T([1.]), T([1.5]), {"atol": 0, "rtol": 0})), (lambda: (T([1]), T([3]), {"atol": 1, "rtol": 0})),
    (lambda: (torch.zeros(1000), torch.cat([torch.ones(1), torch.zeros(999)]), {})),
    (lambda: (torch.zeros(1), torch.ones(1), {"atol": 0.5, "rtol": 0.1})),
    (lambda: (torch.zeros(1), torch.zeros(1), {"rtol": 1.})),
    (lambda: ([torch.zeros(1)], [torch.ones(1)], {"msg": lambda m: "<" + m + ">"})),
    (lambda: ([torch.zeros(1)], [torch.ones(1)], {"msg": "custom"})),
    (lambda: ("a", "b", {})), (lambda: ({1}, {1}, {})),
    (lambda: (T([True]), T([1]), {})), (lambda: (T([True]), T([1]), {"check_dtype": False})),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_assert_close_matches_torch(case):
    a, b, kw = CASES[case]()
    want = _outcome(torch.testing.assert_close, a, b, kw)
    got = _outcome(mt.testing.assert_close, _mt(a), _mt(b), kw)
    if want[0] == "TypeError":  # the message names the (different) tensor classes
        assert got[0] == "TypeError" and "No comparison pair" in got[1]
    else:
        assert got == want


def test_assert_close_accepts_tensor_subclasses_and_jax_arrays():
    import jax.numpy as jnp
    p = mt.nn.Parameter(mt.zeros(2))
    mt.testing.assert_close(p, mt.zeros(2))
    with pytest.raises(TypeError, match="No comparison pair"):
        mt.testing.assert_close(p, mt.zeros(2), allow_subclasses=False)
    mt.testing.assert_close(jnp.ones(3), jnp.ones(3))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
        mt.testing.assert_close(jnp.ones(3), jnp.array([1., 1., 2.]))
    with pytest.raises(TypeError, match="No comparison pair"):
        mt.testing.assert_close(mt.zeros(2), np.zeros(2))


def test_assert_close_inside_jit_raises_clearly():
    @mt.jit
    def f(x):
        mt.testing.assert_close(x, x)
        return x + 1

    with pytest.raises(Exception, match="assert_close\\(\\): cannot compare tensor values inside mt.jit"):
        f(mt.ones(2))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "bfloat16", "int64"])
def test_assert_allclose_deprecated_and_matches_torch(dtype):
    a, b = torch.zeros(1, dtype=getattr(torch, dtype)), torch.ones(1, dtype=getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _outcome(torch.testing.assert_allclose, a, b, {})
    with pytest.warns(FutureWarning, match="assert_allclose"):
        got = _outcome(mt.testing.assert_allclose, _mt(a), _mt(b), {})
    assert got == want
    with pytest.warns(FutureWarning):
        mt.testing.assert_allclose(mt.tensor([NAN, 1.]), [NAN, 1.])


# ----- make_tensor ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,low,high", [
    ("float32", None, None), ("int64", None, None), ("uint8", None, None), ("int8", -1000, 1000),
    ("bool", None, None), ("float16", -1e6, 1e6), ("int64", 0.5, 2.5), ("float64", 2, 3),
    ("bfloat16", None, None)])
def test_make_tensor_ranges_and_dtypes_match_torch(name, low, high):
    t = torch.testing.make_tensor(2000, dtype=getattr(torch, name), device="cpu", low=low, high=high)
    m = mt.testing.make_tensor(2000, dtype=getattr(mt, name), device="cpu", low=low, high=high)
    assert m.dtype is getattr(mt, name) and tuple(m.shape) == (2000,)
    tv, mv = t.float().numpy(), m.float().numpy()
    # same support: the observed extremes agree (integers exactly, floats within 5% of the range)
    span = float(tv.max() - tv.min()) or 1.0
    tol = 0 if name in ("int64", "uint8", "int8", "bool") else 0.05 * span
    assert abs(mv.min() - tv.min()) <= tol and abs(mv.max() - tv.max()) <= tol
    assert len(np.unique(mv)) > 1


def test_make_tensor_shapes_flags_and_complex():
    assert tuple(mt.testing.make_tensor((2, 3), dtype=mt.float32, device="cpu").shape) == (2, 3)
    assert tuple(mt.testing.make_tensor([2, 3], dtype=mt.float32, device="cpu").shape) == (2, 3)
    assert tuple(mt.testing.make_tensor(dtype=mt.float32, device="cpu").shape) == ()
    c = mt.testing.make_tensor(50, dtype=mt.complex64, device="cpu", low=0, high=1)
    assert c.dtype is mt.complex64 and 0 <= float(c.real.min()) and float(c.imag.max()) < 1
    z = mt.testing.make_tensor(100, dtype=mt.int64, device="cpu", low=0, high=1, exclude_zero=True)
    assert (z == 1).all()
    with pytest.warns(FutureWarning, match="low==high"):
        f = mt.testing.make_tensor(4, dtype=mt.float32, device="cpu", low=0, high=0, exclude_zero=True)
    assert float(f.min()) == pytest.approx(1.1754943508222875e-38)
    g = mt.testing.make_tensor(3, dtype=mt.float32, device="cpu", requires_grad=True, noncontiguous=True)
    assert g.requires_grad and g.is_leaf
    mt.manual_seed(3)
    a = mt.testing.make_tensor(5, dtype=mt.float32, device="cpu")
    mt.manual_seed(3)
    mt.testing.assert_close(a, mt.testing.make_tensor(5, dtype=mt.float32, device="cpu"))


@pytest.mark.parametrize("kw", [dict(low=3, high=2), dict(low=NAN), dict(requires_grad=True, int_dtype=True),
                                dict(noncontiguous=True, memory_format="cf")])
def test_make_tensor_errors_match_torch(kw):
    kw = dict(kw)
    names = ("int64", "int64") if kw.pop("int_dtype", False) else ("float32", "float32")
    mf = kw.pop("memory_format", None)
    outs = []
    for lib, name in zip((torch, mt), names):
        extra = {"memory_format": lib.contiguous_format} if mf else {}
        try:
            lib.testing.make_tensor(3, dtype=getattr(lib, name), device="cpu", **kw, **extra)
            outs.append(("OK", ""))
        except Exception as e:  # noqa: BLE001 - the outcome is compared
            outs.append((type(e).__name__, str(e).replace("minitorch_jax.", "torch.")))
    assert outs[0] == outs[1]
    with pytest.raises(TypeError, match="dtype"):
        mt.testing.make_tensor(3, dtype="float32", device="cpu")
