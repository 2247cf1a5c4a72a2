"""``repr``/``str`` of tensors and the print options, compared character for character with torch."""

from __future__ import annotations

import math

import jax
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax import _repr
from minitorch_jax._tensor import _wrap

torch = pytest.importorskip("torch")
from torch._tensor_str import get_printoptions as torch_get_printoptions  # noqa: E402

NAN, INF = math.nan, math.inf
_CASTS = {  # numpy dtype (by name) -> (torch dtype, mt dtype)
    "float32": (torch.float32, mt.float32), "float64": (torch.float64, mt.float64),
    "float16": (torch.float16, mt.float16), "bfloat16": (torch.bfloat16, mt.bfloat16),
    "complex64": (torch.complex64, mt.complex64), "complex128": (torch.complex128, mt.complex128),
    "int64": (torch.int64, mt.int64), "int32": (torch.int32, mt.int32), "int16": (torch.int16, mt.int16),
    "int8": (torch.int8, mt.int8), "uint8": (torch.uint8, mt.uint8), "bool": (torch.bool, mt.bool),
}


@pytest.fixture(autouse=True)
def _reset_options():
    yield
    torch.set_printoptions(profile="default")
    _repr.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    mt.set_default_dtype(mt.float32)


def both_set(**kw):
    """Apply the same print options to torch and to mt."""
    torch.set_printoptions(**kw)
    _repr.set_printoptions(**kw)


def pair(arr, dtype: str | None = None, requires_grad: bool = False, op: str | None = None):
    """The same values as a torch tensor and as an mt tensor (optionally through x*2 or x+1)."""
    arr = np.asarray(arr)
    name = dtype or arr.dtype.name
    if name == "bfloat16":  # round once, in numpy, so both libraries hold identical bits
        bf = arr.astype(np.float32).astype(ml_dtypes.bfloat16)
        t = torch.from_numpy(bf.astype(np.float32)).to(torch.bfloat16)
        m = mt.tensor(bf, device="cpu")
    else:
        a = arr.astype(name)
        t, m = torch.from_numpy(a.copy()), mt.tensor(a, device="cpu")
    assert m.dtype is _CASTS[name][1]
    if requires_grad:
        t.requires_grad_()
        m.requires_grad_()
    if op == "mul":
        t, m = t * 2, m * 2
    elif op == "add":
        t, m = t + 1, m + 1
    return t, m


def expected(t) -> str:
    return str(t).replace("torch.", "minitorch_jax.")


def assert_prints_like_torch(t, m):
    want = expected(t)
    assert str(m) == want, f"\nmt:\n{m}\ntorch:\n{want}"
    assert repr(m) == want


# ----- hand-picked cases -------------------------------------------------------------------
CASES = {
    "int_valued": [1.0, 2.0, -3.0],
    "zeros": [0.0, 0.0],
    "neg_zero": [-0.0],
    "nan_first": [NAN, 1.0],
    "nan_wide": [1.5, NAN],
    "specials": [NAN, INF, -INF],
    "inf_mixed": [-INF, 1.5, 10.0],
    "tiny": [1e-5, 1.0],
    "at_1e-4": [1e-4, 1.0],
    "huge": [1e9, 1.0],
    "big_int": [123456789.0],
    "1e8": [1e8],
    "ratio_1001": [1.0, 1001.0],
    "ratio_999": [1.0, 999.0],
    "half_1000": [0.5, 1000.0],
    "fixed": [0.1, -2.25, 33.125],
    "round_up": [0.99999, 1.0],
    "ints": np.array([1, -100, 7]),
    "bools": np.array([True, False]),
    "scalar_f": np.float32(3.0),
    "scalar_frac": np.float32(-2.5),
    "scalar_sci": np.float32(1e10),
    "scalar_small": np.float32(1.5e-5),
    "scalar_nan": np.float32(NAN),
    "scalar_neg0": np.float32(-0.0),
    "scalar_i": np.int64(3),
    "scalar_b": np.bool_(True),
    "complex": np.array([1 + 2j, 3 - 4j]),
    "complex_frac": np.array([1.5 + 2j, -3 - 4.25j], np.complex64),
    "complex_sci": np.array([1e-5 + 1j, 1 + 1e5j], np.complex64),
    "complex_nan": np.array([complex(NAN, 1), 0j], np.complex64),
    "complex_scalar": np.complex64(1 + 2j),
    "complex_rows": np.array([1.5 + 2j, 3 + 40j, -1 - 1j] * 6, np.complex64),
    "wrap_1d": np.arange(30.0, dtype=np.float32),
    "wrap_2d": (np.arange(30.0, dtype=np.float32) + 0.5).reshape(3, 10),
    "all_zero_wrap": np.zeros(40, np.float32),
    "all_nan_wrap": np.full(40, NAN, np.float32),
    "3d": np.arange(24.0, dtype=np.float32).reshape(2, 3, 4) / 3,
    "4d": np.arange(120.0, dtype=np.float32).reshape(2, 3, 4, 5) - 60,
    "summ_1d": np.arange(2000.0, dtype=np.float32),
    "summ_3d": np.arange(2000.0, dtype=np.float32).reshape(2, 10, 100),
    "summ_ints": np.arange(5000).reshape(50, 100),
    "summ_short_rows": np.arange(2002.0, dtype=np.float32).reshape(2, 1001),
    "summ_4d": np.linspace(-1, 1, 3 * 4 * 10 * 11, dtype=np.float32).reshape(3, 4, 10, 11),
    "summ_complex": (np.arange(1600.0) * (1 - 0.5j)).astype(np.complex64).reshape(40, 40),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases(name):
    arr = np.asarray(CASES[name])
    if arr.dtype == np.float64 and not isinstance(CASES[name], np.ndarray):
        arr = arr.astype(np.float32)
    assert_prints_like_torch(*pair(arr))


@pytest.mark.parametrize("dtype", sorted(_CASTS))
@pytest.mark.parametrize("values", [[1.0, 2.0], [1.1, -2.0], [0.0, 3.0], [1e-3, 5e4], [], 7.0])
def test_dtypes(dtype, values):
    """Dtype suffix shown exactly when torch shows it (float32/int64/bool/complex64 are default)."""
    arr = np.asarray(values)
    if dtype == "uint8":
        arr = np.abs(arr)
    assert_prints_like_torch(*pair(arr, dtype))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (2, 0, 4), (0, 0)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64", "complex64"])
def test_empty(shape, dtype):
    assert_prints_like_torch(*pair(np.zeros(shape), dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("op", [None, "mul", "add"])
@pytest.mark.parametrize("n", [0, 1, 16, 17, 20, 21, 40])
def test_autograd_suffixes(dtype, op, n):
    """requires_grad=True / grad_fn=<...> and the way suffixes wrap to a new line."""
    arr = np.arange(float(n)) if n != 1 else np.float64(1.5)
    assert_prints_like_torch(*pair(arr, dtype, requires_grad=True, op=op))


def test_grad_fn_uses_class_name():
    x = mt.tensor(np.array([1.0, 2.0], np.float32)).requires_grad_()
    y = x + 1
    assert str(y).endswith(f"grad_fn=<{type(y.grad_fn).__name__}>)")
    assert "grad_fn=<AddBackward0>" in str(y)


# ----- print options -----------------------------------------------------------------------
OPTION_SETS = [
    {"precision": 2}, {"precision": 0}, {"precision": 8}, {"sci_mode": True}, {"sci_mode": False},
    {"threshold": 5}, {"threshold": 5, "edgeitems": 1}, {"threshold": 5, "edgeitems": 0},
    {"linewidth": 30}, {"linewidth": 10}, {"linewidth": -5}, {"linewidth": 200},
    {"profile": "short"}, {"profile": "full"}, {"profile": "full", "precision": 6},
    {"profile": "default", "sci_mode": True}, {"edgeitems": 1, "threshold": 20, "linewidth": 40},
]
OPTION_VALUES = [
    np.array([1.0, 2.0], np.float32), np.array([1.12345, -2.0], np.float32),
    np.array([1.5, 2.25, 1e-6, 3e9], np.float32), np.array([1e-8, 2e9], np.float32),
    np.array([1.0, -2.0, NAN], np.float32), np.zeros(3, np.float32), np.float32(3.5),
    np.arange(10), np.arange(12).reshape(3, 4) * 100000, np.arange(2000.0, dtype=np.float32),
    (np.arange(60.0, dtype=np.float32) / 7).reshape(3, 4, 5),
    np.array([1.5 + 2j, 3 - 40j], np.complex64), np.int64(5),
]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("idx", range(len(OPTION_VALUES)))
def test_print_options(opts, idx):
    both_set(**opts)
    assert _repr.get_printoptions() == torch_get_printoptions()
    assert_prints_like_torch(*pair(OPTION_VALUES[idx]))
    t, m = pair(np.arange(12.0).reshape(3, 4), "float64", requires_grad=True, op="mul")
    assert_prints_like_torch(t, m)


def test_option_state_semantics():
    """Explicit arguments override a profile; sci_mode is reset by every call; bad profile ignored."""
    for kw in [dict(sci_mode=True), dict(precision=6), dict(profile="short"),
               dict(profile="full", linewidth=50), dict(threshold=3, edgeitems=2), dict(profile="bogus"),
               dict(profile="default")]:
        both_set(**kw)
        assert _repr.get_printoptions() == torch_get_printoptions()
    opts = _repr.get_printoptions()
    opts["precision"] = 99
    assert _repr.get_printoptions()["precision"] != 99


def test_default_dtype_changes_suffix():
    torch.set_default_dtype(torch.float64)
    mt.set_default_dtype(mt.float64)
    for arr in [np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32), np.array([1j]),
                np.array([1j], np.complex64), np.zeros(0), np.zeros(0, np.float32)]:
        assert_prints_like_torch(*pair(arr))


# ----- devices -----------------------------------------------------------------------------
class _OnCuda(mt.Tensor):
    """A CPU tensor that claims to live on 'cuda:0', to test the device suffix on any machine."""

    __slots__ = ()

    @property
    def device(self):
        return mt.device("cuda", 0)


# torch's own printouts of CUDA tensors (from its documentation and user reports)
_CUDA_PRINTS = [
    (np.array([1.0445], np.float32), "tensor([1.0445], device='cuda:0')"),
    (np.ones((3, 4)), "tensor([[1., 1., 1., 1.],\n        [1., 1., 1., 1.],\n        [1., 1., 1., 1.]],"
                      " device='cuda:0', dtype=torch.float64)"),
    (np.array([[4.0, 100.0, 1.0], [1.0, 1.0, 1.0]]),
     "tensor([[  4., 100.,   1.],\n        [  1.,   1.,   1.]], device='cuda:0', dtype=torch.float64)"),
]


@pytest.mark.parametrize("idx", range(len(_CUDA_PRINTS)))
def test_device_suffix(idx):
    arr, want = _CUDA_PRINTS[idx]
    m = mt.tensor(arr, device="cpu")
    m.__class__ = _OnCuda
    assert repr(m) == expected(want)


def test_device_suffix_orders_and_wraps_like_cpu_suffixes():
    """device= comes first, then size=/dtype=, then autograd."""
    both_set(linewidth=200)
    m = mt.tensor(np.arange(20.0), device="cpu").requires_grad_()
    m.__class__ = _OnCuda
    t = torch.arange(20.0, dtype=torch.float64).requires_grad_()
    cpu = expected(t)
    want = cpu.replace("dtype=", "device='cuda:0', dtype=", 1)
    assert repr(m) == want
    m0 = mt.tensor(np.zeros((0, 2), np.int32), device="cpu")
    m0.__class__ = _OnCuda
    assert repr(m0) == "tensor([], device='cuda:0', size=(0, 2), dtype=minitorch_jax.int32)"


_HAS_GPU = any(d.platform == "gpu" for d in jax.devices())


@pytest.mark.skipif(not _HAS_GPU, reason="needs a GPU")
def test_real_gpu_tensor_shows_device():
    m = mt.tensor(np.array([1.0, 2.0], np.float32)).cuda()
    assert repr(m) == "tensor([1., 2.], device='cuda:0')"
    assert repr(mt.tensor(np.array([1, 2], np.int32)).cuda()) == (
        "tensor([1, 2], device='cuda:0', dtype=minitorch_jax.int32)")


@pytest.mark.skipif(not (_HAS_GPU and torch.cuda.is_available()), reason="needs a GPU and CUDA torch")
@pytest.mark.parametrize("arr", [
    np.arange(20.0), np.arange(16.0), np.float32(2.5), np.zeros((0, 2), np.int32),
    np.arange(12, dtype=np.int32).reshape(3, 4), np.array([1 + 2j], np.complex64)])
@pytest.mark.parametrize("grad", [None, "leaf", "mul"])
def test_gpu_prints_like_cuda_torch(arr, grad):
    if grad is not None and arr.dtype.kind not in "fc":
        grad = None
    t, m = pair(arr, requires_grad=grad is not None)
    rg = grad is not None
    t, m = t.detach().cuda().requires_grad_(rg), m.detach().cuda().requires_grad_(rg)
    if grad == "mul":
        t, m = t * 2, m * 2
    assert_prints_like_torch(t, m)


# ----- __format__ and traced tensors -------------------------------------------------------
@pytest.mark.parametrize("value", [np.float32(2.5), np.float64(-1e-7), np.int64(3), np.bool_(True)])
@pytest.mark.parametrize("spec", ["", ".3f", ">10", "e"])
def test_format_0d(value, spec):
    t, m = pair(value)
    if isinstance(value, np.bool_) and spec in (".3f", "e"):
        spec = ""
    assert format(m, spec) == format(t, spec)
    assert f"{m}" == f"{t}"


def test_format_nd_with_spec_raises_like_torch():
    t, m = pair(np.array([1.0, 2.0], np.float32))
    with pytest.raises(TypeError):
        format(t, ".2f")
    with pytest.raises(TypeError):
        format(m, ".2f")
    assert format(m, "") == str(m)


def test_traced_tensor_prints_without_values():
    seen = []

    def f(x):
        seen.append(repr(_wrap(x, False)))
        return x

    jax.jit(f)(np.ones((2, 3), np.float32))
    assert len(seen) == 1 and seen[0].startswith("tensor(<traced>, ")  # device= on a GPU machine
    assert seen[0].endswith("size=(2, 3), dtype=minitorch_jax.float32)")


# ----- random sweep ------------------------------------------------------------------------
FLOATS = ["float32", "float64", "float16", "bfloat16", "complex64", "complex128"]
INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]


@st.composite
def tensors(draw):
    """A random array (shape up to 4-D, magnitudes 1e-6..1e9, integers, negatives, specials)."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 7 if ndim < 3 else 4), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(FLOATS + INTS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(np.prod(shape))
    if dtype in INTS:
        hi = {"int8": 127, "uint8": 255, "int16": 32767, "bool": 1}.get(
            dtype, 10 ** draw(st.integers(0, 18 if dtype == "int64" else 9)))
        lo = 0 if dtype in ("uint8", "bool") else -hi
        return rng.integers(lo, hi, n, endpoint=True).reshape(shape).astype(dtype), dtype

    def reals():
        lo_exp = draw(st.integers(-6, 9))
        hi_exp = draw(st.integers(lo_exp, 9))
        v = 10.0 ** rng.uniform(lo_exp, hi_exp, n)
        if draw(st.booleans()):
            v = np.round(v)
        if draw(st.booleans()):
            v *= rng.choice([-1.0, 1.0], n)
        if draw(st.booleans()):
            mask = rng.random(n) < 0.2
            v[mask] = rng.choice([NAN, INF, -INF, 0.0, -0.0], int(mask.sum()))
        return v

    v = reals() + 1j * reals() if dtype.startswith("complex") else reals()
    return v.reshape(shape), dtype


OPTIONS = st.fixed_dictionaries({}, optional={
    "precision": st.integers(0, 8), "threshold": st.sampled_from([5, 20, 100, 1000]),
    "edgeitems": st.integers(1, 4), "linewidth": st.integers(20, 120),
    "sci_mode": st.sampled_from([True, False]), "profile": st.sampled_from(["short", "full", "default"]),
})


@given(data=tensors(), opts=OPTIONS, grad=st.sampled_from([None, "leaf", "mul", "add"]))
def test_random_tensors_print_like_torch(data, opts, grad):
    arr, dtype = data
    both_set(**opts)
    requires_grad = grad is not None and dtype in FLOATS
    op = grad if requires_grad and dtype in ("float32", "float64") and grad != "leaf" else None
    assert_prints_like_torch(*pair(arr, dtype, requires_grad=requires_grad, op=op))
