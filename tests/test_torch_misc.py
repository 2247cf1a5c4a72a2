"""torch-level misc names (``_torch_misc/``): constants, finfo/iinfo, memory formats, thread and
determinism switches, legacy tensor types and top-level functional forms, checked against torch."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import minitorch_jax as mt
from minitorch_jax import _torch_misc
from minitorch_jax._torch_misc import switches

FLOATS = ["float16", "bfloat16", "float32", "float64", "float8_e4m3fn", "float8_e5m2"]
INTS = ["uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"]


def _mt_dtype(name):
    if not hasattr(mt, name):  # uint16/32/64 and float8 need a change in _dtype.py
        pytest.skip(f"minitorch_jax has no dtype {name}")
    return getattr(mt, name)


def _mt_repr(s: str) -> str:
    return s.replace("torch.", "minitorch_jax.")


@pytest.fixture
def restore_state():
    """Undo global changes to both libraries' defaults and switches."""
    mt_state = dict(switches._state)
    mt_default = mt.get_default_dtype()
    t_default = torch.get_default_dtype()
    t_warn = torch.is_warn_always_enabled()
    t_threads = torch.get_num_threads()
    yield
    switches._state.clear()
    switches._state.update(mt_state)
    mt.set_default_dtype(mt_default)
    torch.set_default_dtype(t_default)
    torch.set_warn_always(t_warn)
    torch.set_num_threads(t_threads)


def test_constants():
    assert mt.pi == torch.pi and mt.e == torch.e and mt.newaxis is None is torch.newaxis
    assert mt.inf == torch.inf and math.isnan(mt.nan)
    assert mt.ones(3)[:, mt.newaxis].shape == (3, 1)


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    f, t = mt.finfo(_mt_dtype(name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(f, attr) == getattr(t, attr), attr
        assert type(getattr(f, attr)) is type(getattr(t, attr)), attr
    assert repr(f) == repr(t) and str(f) == str(t)


def test_finfo_default_complex_python_types(restore_state):
    assert mt.finfo() == mt.finfo(mt.float32)
    mt.set_default_dtype(mt.float64)
    assert mt.finfo().dtype == "float64"
    assert repr(mt.finfo(mt.complex64)) == repr(torch.finfo(torch.complex64))
    assert mt.finfo(mt.complex128).dtype == torch.finfo(torch.complex128).dtype == "float64"
    assert repr(mt.finfo(float)) == repr(torch.finfo(float))
    assert repr(mt.finfo(complex)) == repr(torch.finfo(complex))
    assert mt.finfo(type=mt.float16).bits == 16


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    i, t = mt.iinfo(_mt_dtype(name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(i, attr) == getattr(t, attr) and type(getattr(i, attr)) is type(getattr(t, attr))
    assert repr(i) == repr(t)
    assert repr(mt.iinfo(int)) == repr(torch.iinfo(int))


@pytest.mark.parametrize("fn, arg", [("finfo", "int32"), ("finfo", "bool"), ("iinfo", "float32"),
                                     ("iinfo", "complex64"), ("iinfo", "bool")])
def test_info_wrong_kind(fn, arg):
    with pytest.raises(TypeError):
        getattr(torch, fn)(getattr(torch, arg))
    with pytest.raises(TypeError, match=fn):
        getattr(mt, fn)(getattr(mt, arg))


@pytest.mark.parametrize("fn", ["finfo", "iinfo"])
@pytest.mark.parametrize("arg", ["float32", 1, None, np.float32])
def test_info_not_a_dtype(fn, arg):
    with pytest.raises(TypeError):
        getattr(torch, fn)(arg)
    with pytest.raises(TypeError, match=rf"{fn}\(\): argument 'type' .* must be minitorch_jax.dtype"):
        getattr(mt, fn)(arg)


def test_info_read_only_and_pickle():
    f = mt.finfo(mt.float16)
    with pytest.raises(AttributeError, match="not writable"):
        f.eps = 1.0
    with pytest.raises(AttributeError, match="not writable"):
        mt.iinfo(mt.int8).max = 3
    assert pickle.loads(pickle.dumps(f)) == f and pickle.loads(pickle.dumps(mt.iinfo(mt.int8))).max == 127
    assert mt.finfo(mt.float16) != mt.finfo(mt.float32)
    with pytest.raises(TypeError):
        mt.iinfo()


def test_memory_format_objects():
    for name in ("contiguous_format", "channels_last", "channels_last_3d", "preserve_format"):
        obj = getattr(mt, name)
        assert isinstance(obj, mt.memory_format)
        assert repr(obj) == str(obj) == _mt_repr(repr(getattr(torch, name)))
        assert pickle.loads(pickle.dumps(obj)) is obj and copy.deepcopy(obj) is obj
    assert mt.channels_last == mt.channels_last and mt.channels_last != mt.contiguous_format
    assert repr(mt.memory_format) == "<class 'minitorch_jax.memory_format'>"
    with pytest.raises(TypeError, match="cannot create 'minitorch_jax.memory_format' instances"):
        mt.memory_format()


def test_memory_format_check_helper():
    check = _torch_misc._check_memory_format
    check(None, "contiguous", 2)
    check(mt.preserve_format, "contiguous", 2)
    check(mt.channels_last, "contiguous", 4)
    check(mt.channels_last_3d, "to", 5)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        check(mt.channels_last, "contiguous", 2)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d format"):
        check(mt.channels_last_3d, "clone", 4)
    with pytest.raises(TypeError, match=r"contiguous\(\): argument 'memory_format' must be "):
        check("channels_last", "contiguous", 4)
    # is_contiguous answers like torch for a freshly made tensor, except channels_last on a 4-D
    # tensor (True here: JAX has no strides, any layout is satisfied).
    for fmt, nd in [(None, 2), (mt.contiguous_format, 3), (mt.channels_last, 2), (mt.channels_last_3d, 4),
                    (mt.preserve_format, 2)]:
        tfmt = torch.contiguous_format if fmt is None else getattr(torch, repr(fmt).split(".")[1])
        expect = torch.ones((2,) * nd).is_contiguous(memory_format=tfmt)
        assert _torch_misc._is_contiguous_as(fmt, nd) == expect
    assert _torch_misc._is_contiguous_as(mt.channels_last, 4)
    with pytest.raises(TypeError, match="is_contiguous"):
        _torch_misc._is_contiguous_as(1, 4)


_WIRED = not mt.ones(2).is_contiguous(memory_format=mt.channels_last)


@pytest.mark.skipif(not _WIRED, reason="Tensor methods do not check memory_format yet (conversion.py)")
def test_tensor_methods_take_memory_formats():
    x, y = mt.ones(2, 3, 1, 2), mt.ones(2, 3)
    tx, ty = torch.ones(2, 3, 1, 2), torch.ones(2, 3)
    assert x.contiguous(memory_format=mt.channels_last) is x
    for fmt in ("contiguous_format", "channels_last", "preserve_format"):
        for name in ("to", "clone", "contiguous", "float"):
            out = getattr(x, name)(memory_format=getattr(mt, fmt))
            np.testing.assert_array_equal(out.numpy(), x.numpy())
    assert x.is_contiguous(memory_format=mt.channels_last)
    assert y.is_contiguous(memory_format=mt.channels_last) == ty.is_contiguous(
        memory_format=torch.channels_last)
    for name in ("to", "clone", "contiguous", "double"):
        with pytest.raises(RuntimeError):
            getattr(ty, name)(memory_format=torch.channels_last)
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
            getattr(y, name)(memory_format=mt.channels_last)
        with pytest.raises(TypeError, match="memory_format"):
            getattr(y, name)(memory_format="channels_last")
    assert isinstance(y.type(mt.DoubleTensor), mt.DoubleTensor)
    assert tx.type(torch.LongTensor).dtype == torch.int64 and x.type(mt.LongTensor).dtype is mt.int64


def test_threads(restore_state):
    assert mt.get_num_threads() >= 1 and mt.get_num_interop_threads() >= 1
    mt.set_num_threads(3)
    assert mt.get_num_threads() == 3
    for bad, msg in [(0, "a positive integer"), (-1, "a positive integer"), (2.5, "an int, but got float"),
                     (True, "an int, but got bool"), ("a", "an int, but got str")]:
        with pytest.raises(RuntimeError):
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError, match=f"set_num_threads expects {msg}"):
            mt.set_num_threads(bad)
        with pytest.raises(RuntimeError, match=f"set_num_interop_threads expects {msg}"):
            mt.set_num_interop_threads(bad)
    switches._state.update(interop=None, interop_set=False)
    mt.set_num_interop_threads(2)
    assert mt.get_num_interop_threads() == 2
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        mt.set_num_interop_threads(4)


def _det_state(lib):
    return (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled(),
            lib.get_deterministic_debug_mode())


# (call, args, state after) as torch 2.13 answers; torch's own switches are not called here: their
# first call imports for seconds.
DET_STEPS = [
    ("use", (True, True), (True, True, 1)), ("use", (True, False), (True, False, 2)),
    ("use", (False, True), (False, True, 0)), ("use", (False, False), (False, False, 0)),
    ("mode", "warn", (True, True, 1)), ("mode", "error", (True, False, 2)),
    ("mode", "default", (False, False, 0)), ("mode", 1, (True, True, 1)), ("mode", 2, (True, False, 2)),
    ("mode", 0, (False, False, 0)), ("mode", True, (True, True, 1)),
]


def test_deterministic_switches(restore_state):
    assert _det_state(mt) == (False, False, 0)
    for kind, arg, expect in DET_STEPS:
        if kind == "use":
            mt.use_deterministic_algorithms(arg[0], warn_only=arg[1])
        else:
            mt.set_deterministic_debug_mode(arg)
        assert _det_state(mt) == expect, (kind, arg)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda lib: lib.set_deterministic_debug_mode(3), RuntimeError, "expected 0, 1, or 2, but got 3"),
    (lambda lib: lib.set_deterministic_debug_mode("foo"), RuntimeError, "expected one of `default`"),
    (lambda lib: lib.set_deterministic_debug_mode(1.0), TypeError, "must be str or int"),
    (lambda lib: lib.set_deterministic_debug_mode(None), TypeError, "must be str or int"),
    (lambda lib: lib.use_deterministic_algorithms(1), TypeError, "'mode' .* must be bool, not int"),
    (lambda lib: lib.use_deterministic_algorithms(True, warn_only=1), TypeError, "'warn_only' must be bool"),
    (lambda lib: lib.use_deterministic_algorithms(True, True), TypeError, "positional"),
    (lambda lib: lib.set_warn_always(1), RuntimeError, "expects a bool, but got int"),
    (lambda lib: lib.set_flush_denormal(1), RuntimeError, "flush_denormal expects a bool, but got int"),
])
def test_switch_errors(restore_state, call, exc, msg):
    # torch raises the same kinds (checked by hand: its first deterministic call is slow to import)
    with pytest.raises(exc, match=msg):
        call(mt)
    assert _det_state(mt) == (False, False, 0) and not mt.is_warn_always_enabled()


def test_warn_always_and_flush_denormal(restore_state):
    assert mt.is_warn_always_enabled() is False
    mt.set_warn_always(True)
    assert mt.is_warn_always_enabled() is True
    mt.set_warn_always(False)
    assert mt.is_warn_always_enabled() is False
    assert mt.set_flush_denormal(True) is False and mt.set_flush_denormal(False) is False


def test_typename_matches_torch():
    pairs = [(mt.zeros(2), torch.zeros(2)), (mt.zeros(2, dtype=mt.int64), torch.zeros(2, dtype=torch.int64)),
             (mt.zeros(1, dtype=mt.complex64), torch.zeros(1, dtype=torch.complex64)),
             (mt.nn.Parameter(mt.zeros(1)), torch.nn.Parameter(torch.zeros(1))),
             (mt.FloatTensor, torch.FloatTensor), (mt.nn.ReLU(), torch.nn.ReLU())]
    for a, b in pairs:
        assert mt.typename(a) == _mt_repr(torch.typename(b))
    for obj in (1, "a", None, [1], np.zeros(2), np.float32, len):
        assert mt.typename(obj) == torch.typename(obj)


def test_is_storage():
    assert mt.is_storage(mt.zeros(2)) is False and mt.is_storage(1) is False


LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
          "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_types_construct_like_torch(name):
    M, T = getattr(mt, name), getattr(torch, name)
    assert repr(M) == _mt_repr(repr(T)) and M.__name__ == name
    assert repr(M.dtype) == _mt_repr(repr(T.dtype)) and M.is_cuda is False
    for args in [(2, 3), (mt.Size([2, 1]),), (), (np.int64(2),), (4,)]:
        targs = tuple(torch.Size(a) if isinstance(a, mt.Size) else a for a in args)
        m, t = M(*args), T(*targs)
        assert tuple(m.shape) == tuple(t.shape) and repr(m.dtype) == _mt_repr(repr(t.dtype))
        assert not m.numpy().astype(np.float32).any()  # zero-filled here (torch's are uninitialised)
    for data in [[1, 0], (1, 2, 0), [[1], [0]], np.array([0, 1])]:
        m = M(data)
        np.testing.assert_array_equal(m.numpy().astype(np.float32), T(data).float().numpy())
        assert type(m) is mt.Tensor and m.dtype is M.dtype
    x = mt.zeros(2, dtype=M.dtype)
    assert isinstance(x, M) and M(x) is x
    assert x.type() == _mt_repr(torch.zeros(2, dtype=T.dtype).type()) == f"minitorch_jax.{name}"
    others = [n for n in LEGACY if n != name]
    assert not any(isinstance(x, getattr(mt, n)) for n in others)
    assert not isinstance(x.numpy(), M) and not issubclass(mt.Tensor, M)
    assert pickle.loads(pickle.dumps(M)) is M


def test_legacy_types_details():
    assert isinstance(mt.nn.Parameter(mt.zeros(1)), mt.FloatTensor)
    np.testing.assert_array_equal(mt.LongTensor([1.7, 2]).numpy(), torch.LongTensor([1.7, 2]).numpy())
    assert mt.FloatTensor(mt.Size([])).shape == torch.FloatTensor(torch.Size([])).shape == ()
    assert mt.FloatTensor(2, device="cpu").device.type == "cpu"
    t = mt.zeros(2).type(mt.FloatTensor.__module__ + ".DoubleTensor")
    assert isinstance(t, mt.DoubleTensor)


@pytest.mark.parametrize("args, kwargs, exc, msg", [
    ((mt.tensor([1, 2]),), {}, TypeError, r"FloatTensor\(\): expected minitorch_jax.float32 tensor"),
    ((2.5,), {}, TypeError, r"data must be a sequence \(got float\)"),
    ((True,), {}, TypeError, r"data must be a sequence \(got bool\)"),
    (("a",), {}, TypeError, "invalid data type 'str'"),
    ((2, 3.0), {}, TypeError, "size must be ints, got float at position 1"),
    ((2, [1]), {}, TypeError, "size must be ints, got list"),
    ((-1,), {}, RuntimeError, r"negative dimension -1: \[-1\]"),
    ((2,), {"dtype": mt.float64}, TypeError, "dtype"),
])
def test_legacy_type_errors(args, kwargs, exc, msg):
    targs = tuple(torch.tensor([1, 2]) if isinstance(a, mt.Tensor) else a for a in args)
    tkwargs = {k: torch.float64 for k in kwargs}
    with pytest.raises(exc):
        torch.FloatTensor(*targs, **tkwargs)
    with pytest.raises(exc, match=msg):
        mt.FloatTensor(*args, **kwargs)


def test_set_default_tensor_type(restore_state):
    for arg in [mt.DoubleTensor, "minitorch_jax.HalfTensor", "torch.BFloat16Tensor", mt.FloatTensor]:
        targ = arg if isinstance(arg, str) else getattr(torch, arg.__name__)
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            mt.set_default_tensor_type(arg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.set_default_tensor_type(targ.replace("minitorch_jax", "torch") if isinstance(targ, str)
                                          else targ)
        assert repr(mt.get_default_dtype()) == _mt_repr(repr(torch.get_default_dtype()))
        assert repr(mt.tensor([1.0]).dtype) == _mt_repr(repr(torch.tensor([1.0]).dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for bad, msg in [(mt.LongTensor, "only floating-point types"),
                         ("torch.IntTensor", "only floating-point"), (mt.float64, "invalid type object"),
                         ("FloatTensor", "invalid type: 'FloatTensor'"),
                         ("minitorch_jax.Foo", "invalid type")]:
            with pytest.raises(TypeError, match=msg):
                mt.set_default_tensor_type(bad)
    assert mt.get_default_dtype() is mt.float32


def test_functional_forms_match_torch():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    v, tv = mt.tensor(3.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    out, tout = mt.fill(a, v), torch.fill(ta, tv)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    assert out.requires_grad and a.detach().numpy().tolist() == [1.0, 2.0]
    (out * mt.tensor([1.0, 2.0])).sum().backward()
    (tout * torch.tensor([1.0, 2.0])).sum().backward()
    assert v.grad.item() == tv.grad.item() == 3.0
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    assert mt.fill(mt.ones(2, dtype=mt.int64), 2.7).tolist() == torch.fill(torch.ones(2, dtype=torch.int64),
                                                                           2.7).tolist()
    d = mt.detach(a)
    assert not d.requires_grad and d.tolist() == [1.0, 2.0]
    x = mt.ones(3)
    assert mt.fill_(x, 5) is x and x.tolist() == [5.0] * 3
    assert mt.zero_(x) is x and x.tolist() == [0.0] * 3
    y = a * 2
    assert mt.detach_(y) is y and y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        mt.fill(mt.ones(2), mt.tensor([3.0, 4.0]))
    for fn in (mt.detach, mt.zero_, lambda v: mt.fill(v, 1)):
        with pytest.raises(TypeError, match="must be Tensor, not list"):
            fn([1.0])


def test_dlpack_roundtrip():
    t = torch.arange(4.0)
    m = mt.from_dlpack(t)
    np.testing.assert_array_equal(m.numpy(), t.numpy())
    back = torch.utils.dlpack.from_dlpack(mt.to_dlpack(mt.tensor([1.0, 2.0])))
    assert back.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="to_dlpack"):
        mt.to_dlpack([1.0])


def test_all_names_exported():
    for name in _torch_misc.__all__:
        assert getattr(mt, name) is getattr(_torch_misc, name)
        assert hasattr(torch, name), name
