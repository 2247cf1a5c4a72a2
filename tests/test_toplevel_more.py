"""The remaining top-level names (``_torch_misc/extras.py``, ``_torch_misc/storage.py``,
``_ops/toplevel_extra.py``): what the op-table parity samples cannot check - storages and their
write-back, dtypes without a JAX type, removed functions' messages, the CUDA-only SyncBatchNorm
helpers against torch's batch norm autograd, ``slice_inverse`` on a real view, small utilities,
and ``mt.jit``."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch


def _np(t):
    return np.asarray(t.detach()._data)


# ----- storages ----------------------------------------------------------------------------------
def test_untyped_storage_matches_torch_and_writes_back():
    a = np.array([1.5, -2.0, 3.25], "float32")
    x, tx = mt.tensor(a), torch.tensor(a)
    s, ts = x.untyped_storage(), tx.untyped_storage()
    assert s.nbytes() == ts.nbytes() == s.size() == len(s) == 12
    assert s.tolist() == ts.tolist()
    assert s[3] == ts[3] and s.element_size() == 1 and s.device.type == "cpu"
    assert s.data_ptr() == x.data_ptr()
    with pytest.raises(IndexError, match="out of range for storage of size 12"):
        s[12]
    v0 = x._version
    s[0:4] = np.frombuffer(np.float32(7.0).tobytes(), np.uint8)
    assert _np(x).tolist() == [7.0, -2.0, 3.25] and x._version == v0 + 1


def test_typed_storage_and_legacy_classes():
    x = mt.tensor([1.0, 2.0, 3.0])
    t = x.storage()
    assert t.dtype == mt.float32 and t.size() == len(t) == 3 and t.element_size() == 4 and t.nbytes() == 12
    assert t[1] == 2.0 and t.tolist() == [1.0, 2.0, 3.0] and t.data_ptr() == x.data_ptr()
    t[2] = 9.0
    assert _np(x).tolist() == [1.0, 2.0, 9.0]
    t.fill_(4)
    assert _np(x).tolist() == [4.0, 4.0, 4.0]
    assert x.storage_type() is mt.FloatStorage and mt.tensor([1]).storage_type() is mt.LongStorage
    assert mt.Storage is mt.FloatStorage and issubclass(mt.FloatStorage, mt.TypedStorage)
    assert issubclass(mt.UntypedStorage, mt.StorageBase)
    assert mt.FloatStorage([1, 2]).tolist() == torch.FloatStorage([1, 2]).tolist()
    assert mt.BoolStorage.dtype == mt.bool and mt.BoolStorage(2).tolist() == [False, False]
    assert mt.TypedStorage(3, dtype=mt.int16).size() == 3
    assert mt.UntypedStorage(4).tolist() == [0, 0, 0, 0]
    u = mt.UntypedStorage([1, 2, 3])
    assert u.nbytes() == 3 and u[1] == 2
    with pytest.raises(RuntimeError):
        mt.UntypedStorage([1, 300])


def test_set_and_resize_as():
    x = mt.zeros(3)
    src = mt.arange(6.0).reshape(2, 3)
    assert x.set_(src) is x and x.shape == (2, 3) and _np(x).tolist() == _np(src).tolist()
    with pytest.raises(RuntimeError, match="Could not set tensor of type"):
        x.set_(mt.tensor([1, 2]))
    y = mt.zeros(1)
    y.set_(src.untyped_storage(), 1, (2, 2), (2, 1))
    ty = torch.zeros(1)
    ty.set_(torch.arange(6.0).untyped_storage(), 1, (2, 2), (2, 1))
    assert _np(y).tolist() == ty.tolist()
    assert x.set_().shape == (0,)
    z = mt.zeros(3)
    assert mt.resize_as_(z, mt.ones(2, 2)).shape == (2, 2)


# ----- dtypes without a JAX type; removed functions ----------------------------------------------
@pytest.mark.parametrize("name", ["uint1", "uint7", "int1", "int7", "complex32", "float8_e4m3fnuz",
                                  "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2"])
def test_extra_dtypes_like_torch(name):
    d, td = getattr(mt, name), getattr(torch, name)
    assert repr(d) == f"minitorch_jax.{td}".replace("torch.", "")
    assert (d.itemsize, d.is_floating_point, d.is_complex, d.is_signed) == (
        td.itemsize, td.is_floating_point, td.is_complex, td.is_signed)
    assert d == getattr(mt, name) and isinstance(d, mt.dtype)


def test_unusable_dtypes_raise_clearly():
    assert mt.chalf is mt.complex32
    with pytest.raises(TypeError, match="uint3 is not supported"):
        mt.zeros(2, dtype=mt.uint3)
    with pytest.raises(RuntimeError, match="Bits types are undefined"):
        _ = mt.bits8.itemsize
    with pytest.raises(TypeError, match="complex32"):
        mt.ones(2).chalf()


@pytest.mark.parametrize("name", ["solve", "lstsq", "eig", "symeig", "matrix_rank"])
def test_removed_functions_raise_torchs_message(name):
    a = np.eye(3, dtype="float32")
    with pytest.raises(RuntimeError) as te:
        getattr(torch, name)(torch.tensor(a), torch.tensor(a))
    with pytest.raises(RuntimeError) as me:
        getattr(mt, name)(mt.tensor(a), mt.tensor(a))
    assert str(me.value) == str(te.value)
    if name != "matrix_rank":
        with pytest.raises(RuntimeError) as mm:
            getattr(mt.tensor(a), name)(mt.tensor(a))
        assert str(mm.value) == str(te.value)


# ----- SyncBatchNorm helpers against torch's batch norm -------------------------------------------
def test_batch_norm_helpers_reproduce_batch_norm_and_its_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    g = rng.standard_normal((4, 3, 5))
    eps = 1e-5
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.batch_norm(tx, None, None, torch.tensor(w), torch.tensor(b), True, 0.1, eps)
    ty.backward(torch.tensor(g))
    mx = mt.tensor(x)
    mean, invstd = mt.batch_norm_stats(mx, eps)
    y = mt.batch_norm_elemt(mx, mt.tensor(w), mt.tensor(b), mean, invstd, eps)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    sum_dy, sum_dy_xmu, gw, gb = mt.batch_norm_backward_reduce(mt.tensor(g), mx, mean, invstd, mt.tensor(w),
                                                               True, True, True)
    np.testing.assert_allclose(_np(gb), g.sum((0, 2)), rtol=1e-10)
    gx = mt.batch_norm_backward_elemt(mt.tensor(g), mx, mean, invstd, mt.tensor(w), sum_dy, sum_dy_xmu,
                                      mt.tensor([20], dtype=mt.int32))
    np.testing.assert_allclose(_np(gx), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_batch_norm_gather_and_update_stats():
    rng = np.random.default_rng(1)
    parts = [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 3, 4))]
    eps = 1e-5
    stats = [mt.batch_norm_stats(mt.tensor(p), eps) for p in parts]
    rm, rv = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    mean, invstd = mt.batch_norm_gather_stats_with_counts(
        mt.tensor(parts[0]), mt.stack([s[0] for s in stats]), mt.stack([s[1] for s in stats]), rm, rv, 0.1,
        eps, mt.tensor([8.0, 12.0], dtype=mt.float64))
    full = np.concatenate(parts)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.nn.functional.batch_norm(torch.tensor(full), trm, trv, None, None, True, 0.1, eps)
    np.testing.assert_allclose(_np(mean), full.mean((0, 2)), rtol=1e-10)
    np.testing.assert_allclose(_np(invstd), 1 / np.sqrt(full.var((0, 2)) + eps), rtol=1e-8)
    np.testing.assert_allclose(_np(rm), trm.numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(rv), trv.numpy(), rtol=1e-10)
    rm2, rv2 = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    m, v = mt.batch_norm_update_stats(mt.tensor(full), rm2, rv2, 0.1)
    np.testing.assert_allclose(_np(v), full.var((0, 2), ddof=1), rtol=1e-10)
    np.testing.assert_allclose(_np(rv2), trv.numpy(), rtol=1e-10)
    same = mt.batch_norm_gather_stats(mt.tensor(full), mt.stack([stats[0][0]] * 2),
                                      mt.stack([stats[0][1]] * 2), None, None, 0.1, eps, 8)
    np.testing.assert_allclose(_np(same[0]), _np(stats[0][0]), rtol=1e-10)


def test_native_norm_dense_matches_vector_norm():
    a = np.random.default_rng(2).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(_np(mt.native_norm(mt.tensor(a))), torch.linalg.vector_norm(torch.tensor(a)),
                               rtol=1e-6)
    r = mt.native_norm(mt.tensor(a), 3, [1], True, mt.float64)
    t = torch.linalg.vector_norm(torch.tensor(a), 3, [1], True, dtype=torch.float64)
    assert r.dtype == mt.float64
    np.testing.assert_allclose(_np(r), t.numpy(), rtol=1e-6)


# ----- ops with view semantics; in-place forms ----------------------------------------------------
def test_slice_inverse_of_a_view_and_grad():
    base = np.arange(12.0).reshape(6, 2)
    tb = torch.tensor(base)
    expect = torch.slice_inverse(tb[1:5:2], tb, 0, 1, 5, 2)
    mb = mt.tensor(base, requires_grad=True)
    v = (mb[1:5:2] * 2).detach().requires_grad_()
    out = mt.slice_inverse(mb[1:5:2], mb, 0, 1, 5, 2)
    np.testing.assert_array_equal(_np(out), expect.numpy())
    out2 = mt.slice_inverse(v, mb, 0, 1, 5, 2)
    out2.sum().backward()
    assert _np(v.grad).tolist() == [[1.0, 1.0]] * 2
    assert _np(mb.grad).tolist() == [[1.0, 1.0], [0, 0], [1, 1], [0, 0], [1, 1], [1, 1]]


def test_top_level_index_put_and_embedding_renorm():
    x, tx = mt.zeros(4), torch.zeros(4)
    assert mt.index_put_(x, (mt.tensor([1, 3]),), mt.tensor([5.0, 6.0])) is x
    torch.index_put_(tx, (torch.tensor([1, 3]),), torch.tensor([5.0, 6.0]))
    assert _np(x).tolist() == tx.tolist()
    w = np.random.default_rng(3).standard_normal((5, 3)).astype("float32") * 3
    mw, tw = mt.tensor(w), torch.tensor(w)
    mt.embedding_renorm_(mw, mt.tensor([0, 2]), 1.0, 2.0)
    torch.embedding_renorm_(tw, torch.tensor([0, 2]), 1.0, 2.0)
    np.testing.assert_allclose(_np(mw), tw.numpy(), rtol=1e-6)
    leaf = mt.tensor(w, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mt.embedding_renorm_(leaf, mt.tensor([0]), 1.0, 2.0)


def test_rnn_functional_errors_and_dropout():
    x = mt.randn(4, 2, 3)
    ws = [mt.randn(8, 3), mt.randn(8, 2), mt.randn(8, 2), mt.randn(8, 2)]
    with pytest.raises(TypeError, match="packed form"):
        mt.gru(x, mt.zeros(1, 2, 2), mt.tensor([2, 2]), ws, True, 1, 0.0, False, False)
    with pytest.raises(ValueError, match="groups of weights"):
        mt.rnn_tanh(x, mt.zeros(1, 2, 2), ws[:3], True, 1, 0.0, False, False, False)
    ws2 = [mt.randn(2, 3), mt.randn(2, 2), mt.randn(2, 2), mt.randn(2, 2)]
    out, h = mt.rnn_relu(x, mt.zeros(2, 2, 2), ws2, False, 2, 0.5, True, False, False)
    assert out.shape == (4, 2, 2) and h.shape == (2, 2, 2)


# ----- small utilities ---------------------------------------------------------------------------
def test_utilities_like_torch(tmp_path):
    assert mt.vmap(lambda v: v * 2)(mt.ones(3, 2)).shape == (3, 2)
    assert repr(mt.Stream()) == repr(torch.Stream()).replace("torch.", "minitorch_jax.")
    e1, e2 = mt.Event(enable_timing=True), mt.Event(enable_timing=True)
    e1.record()
    e2.record()
    assert e1.elapsed_time(e2) >= 0
    assert mt.get_device_module("cpu") is mt.cpu and mt.get_device_module() is mt.cpu
    assert mt.is_distributed(mt.ones(1)) is False and mt.is_vulkan_available() is False
    assert mt.init_num_threads() is None and mt.thread_safe_generator(5) == 5
    assert mt.legacy_contiguous_format is mt.contiguous_format
    assert mt.sym_constrain_range(3, min=0, max=5) is None and mt.sym_fresh_size(5) == 5
    with pytest.raises(RuntimeError, match=r"Invalid value range for 7 between \[0, 5\]."):
        mt.sym_constrain_range(7, min=0, max=5)
    with pytest.raises(RuntimeError):
        mt.sym_constrain_range_for_size(-1)
    fut = mt.fork(lambda a, b: a + b, 1, 2)
    assert mt.wait(fut) == 3 and fut.done()
    with pytest.raises(ZeroDivisionError):
        mt.wait(mt.fork(lambda: 1 / 0))
    assert mt.is_autocast_ipu_enabled() is False and mt.get_autocast_ipu_dtype() == mt.float16
    assert mt.is_autocast_xla_enabled() is False and mt.get_autocast_xla_dtype() == mt.bfloat16
    assert isinstance(mt.SymInt(3), int) and isinstance(mt.SymFloat(1.5), float) and bool(mt.SymBool(1))
    with mt.DisableTorchFunction(), mt.DisableTorchFunctionSubclass():
        pass
    assert issubclass(mt.FatalError, Exception) and issubclass(mt.JITException, Exception)
    p = tmp_path / "f.bin"
    np.arange(5, dtype="float32").tofile(p)
    np.testing.assert_array_equal(_np(mt.from_file(str(p), False, 5, dtype=mt.float32)),
                                  torch.from_file(str(p), False, 5, dtype=torch.float32).numpy())
    with pytest.raises(RuntimeError, match="unexpected EOF"):
        mt.from_file(str(p), False, 9, dtype=mt.float32)


# ----- inside mt.jit -------------------------------------------------------------------------------
def test_compiled_cell_and_segment_reduce_match_eager():
    rng = np.random.default_rng(4)
    x, h, c = (mt.tensor(rng.standard_normal(s).astype("float32")) for s in ((2, 3), (2, 4), (2, 4)))
    w_ih, w_hh = mt.tensor(rng.standard_normal((16, 3)).astype("float32")), \
        mt.tensor(rng.standard_normal((16, 4)).astype("float32"))
    data = mt.tensor(rng.standard_normal((6, 2)).astype("float32"))
    lengths = mt.tensor([2, 0, 4])

    def f(x, h, c, data, lengths):
        h2, c2 = mt.lstm_cell(x, (h, c), w_ih, w_hh)
        return h2 + c2, mt.segment_reduce(data, "sum", lengths=lengths, unsafe=True), mt.hash_tensor(data)

    eager = f(x, h, c, data, lengths)
    compiled = mt.jit(f)(x, h, c, data, lengths)
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)
