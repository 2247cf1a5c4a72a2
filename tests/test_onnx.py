"""mt.onnx.export: MLP, CNN and transformer block run in onnxruntime and match mt; names, dynamic
axes, file targets, dtypes, and the errors for bad input / a missing optional package."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.onnx as mto

pytest.importorskip("jax2onnx")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

nn = mt.nn
TOL = {"rtol": 1e-4, "atol": 1e-4}


def _session(proto_or_path):
    src = proto_or_path.SerializeToString() if hasattr(proto_or_path, "SerializeToString") else proto_or_path
    return ort.InferenceSession(src, providers=["CPUExecutionProvider"])


def _ref(model, *xs):
    with mt.no_grad():
        out = model(*[mt.tensor(x) for x in xs])
    return out.numpy()


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _mlp():
    mt.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def _cnn():
    mt.manual_seed(1)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    m.train()
    with mt.no_grad():
        m(mt.randn(8, 3, 8, 8) * 2 + 1)  # non-trivial running statistics
    return m.eval()


def test_mlp_matches_mt_with_names_and_dynamic_batch(tmp_path):
    m = _mlp()
    path = tmp_path / "mlp.onnx"
    ret = mto.export(m, (mt.randn(2, 6),), str(path), input_names=["x"], output_names=["logits"],
                     dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    assert isinstance(ret, onnx.ModelProto) and path.exists()
    sess = _session(str(path))
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("x", ["batch", 6], "tensor(float)")
    assert (out.name, out.shape) == ("logits", ["batch", 3])
    x = _rand(5, 6)  # exported with batch 2, run with batch 5
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], _ref(m, x), **TOL)
    assert m.training  # mode restored (Sequential() starts in training mode)


def test_cnn_conv_batchnorm_maxpool_matches_mt():
    m = _cnn()
    proto = mto.export(m, mt.randn(2, 3, 8, 8), dynamic_axes={"input": [0]})
    ops = [n.op_type for n in proto.graph.node]
    assert "Conv" in ops and "MaxPool" in ops
    sess = _session(proto)
    assert sess.get_inputs()[0].shape == ["input_dynamic_axes_1", 3, 8, 8]
    x = _rand(5, 3, 8, 8, seed=2)
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], _ref(m, x), **TOL)
    assert not m.training


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.MaxPool2d(3), (2, 3, 9, 9)),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1), (3, 9, 9)),  # unbatched
    (lambda: nn.MaxPool1d(2, ceil_mode=True), (2, 3, 9)),
    (lambda: nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
])
def test_max_pool_variants_run_in_onnxruntime(make, shape):
    pool = make()
    x = _rand(*shape, seed=3)
    sess = _session(mto.export(pool, mt.tensor(x)))
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], _ref(pool, x), **TOL)


def test_pooling_norm_activation_layers_and_cond():
    mt.manual_seed(4)
    m = nn.Sequential(nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.LayerNorm(12),
                      nn.SiLU(), nn.Tanh(), nn.Softmax(-1)).eval()
    x = _rand(2, 3, 8, 8, seed=7)
    sess = _session(mto.export(m, mt.tensor(x)))
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], _ref(m, x), **TOL)

    def gate(x):
        return mt.cond(x.sum() > 0, lambda a: a * 2, lambda a: a - 1, (x,))

    sess = _session(mto.export(gate, mt.randn(3)))
    for v in (np.ones(3, np.float32), -np.ones(3, np.float32)):
        np.testing.assert_allclose(sess.run(None, {"x": v})[0], _ref(gate, v), **TOL)


def test_transformer_encoder_layer_matches_mt():
    mt.manual_seed(2)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.1,
                                       activation="gelu", batch_first=True).eval()
    proto = mto.export(layer, (mt.randn(2, 5, 16),), input_names=["src"],
                       dynamic_axes={"src": {0: "batch", 1: "seq"}})
    sess = _session(proto)
    assert sess.get_inputs()[0].shape == ["batch", "seq", 16]
    x = _rand(3, 7, 16, seed=4)  # another batch and sequence length
    np.testing.assert_allclose(sess.run(None, {"src": x})[0], _ref(layer, x), **TOL)


def test_function_kwargs_dict_outputs_int64_and_file_object():
    mt.manual_seed(3)
    emb = nn.Embedding(10, 4)

    def fn(idx, scale, *, bias):
        y = emb(idx) * scale + bias
        return {"y": y, "best": y.argmax(-1)}

    idx = mt.tensor([[1, 2, 3], [4, 5, 9]])
    bias = mt.randn(4)
    buf = io.BytesIO()
    mto.export(fn, (idx, 2.0), buf, kwargs={"bias": bias}, dynamic_axes={"idx": {0: "n"}})
    sess = _session(buf.getvalue())
    assert [(i.name, i.type) for i in sess.get_inputs()] == [("idx", "tensor(int64)"),
                                                             ("bias", "tensor(float)")]
    assert [(o.name, o.type) for o in sess.get_outputs()] == [("output_0", "tensor(float)"),
                                                               ("output_1", "tensor(int64)")]
    ids = np.array([[0, 7, 7], [1, 1, 2], [9, 8, 3]], np.int64)
    y, best = sess.run(None, {"idx": ids, "bias": bias.numpy()})
    with mt.no_grad():
        ref = fn(mt.tensor(ids), 2.0, bias=bias)
    np.testing.assert_allclose(y, ref["y"].numpy(), **TOL)
    assert best.dtype == np.int64 and (best == ref["best"].numpy()).all()


def test_float64_model_and_jit_wrapped_module():
    m = _mlp().double()
    compiled = mt.compile(m)
    x = np.random.default_rng(5).standard_normal((2, 6))
    sess = _session(mto.export(compiled, mt.tensor(x)))
    assert sess.get_inputs()[0].type == "tensor(double)"
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], _ref(m, x), rtol=1e-10, atol=1e-10)


def test_passthrough_outputs_and_64bit_mode_restored():
    import jax

    proto = mto.export(lambda x, y: (x, y * 2, y * 2), (mt.randn(2), mt.randn(3)))
    sess = _session(proto)
    x, y = _rand(2), _rand(3, seed=6)
    a, b, c = sess.run(None, {"x": x, "y": y})
    np.testing.assert_array_equal(a, x)
    np.testing.assert_allclose(b, y * 2, **TOL)
    np.testing.assert_allclose(c, y * 2, **TOL)
    assert jax.config.jax_enable_x64 and mt.arange(3).dtype is mt.int64


def test_missing_jax2onnx_message(monkeypatch):
    assert mto.is_onnx_available()
    monkeypatch.setitem(sys.modules, "jax2onnx", None)
    assert not mto.is_onnx_available()
    with pytest.raises(ImportError, match=r"mt.onnx.export needs the optional `jax2onnx` package: "
                                          r"pip install 'minitorch_jax\[onnx\]'"):
        mto.export(_mlp(), mt.randn(2, 6))


def test_bad_inputs_raise_clear_errors():
    m = _mlp()
    x = mt.randn(2, 6)
    with pytest.raises(TypeError, match=r"mt.onnx.export\(\).*Module or a callable.*int"):
        mto.export(3, (x,))
    with pytest.raises(TypeError, match=r"mt.onnx.export\(\).*args\[0\] is ndarray"):
        mto.export(m, (np.ones((2, 6), np.float32),))
    with pytest.raises(ValueError, match=r"mt.onnx.export\(\).*dynamic_axes names 'y'.*\['x', 'output'\]"):
        mto.export(m, (x,), input_names=["x"], dynamic_axes={"y": [0]})
    with pytest.raises(ValueError, match=r"mt.onnx.export\(\).*axis 2, out of range.*rank 2"):
        mto.export(m, (x,), dynamic_axes={"input": [2]})
    with pytest.raises(ValueError, match=r"mt.onnx.export\(\).*input_names has 2 names"):
        mto.export(m, (x,), input_names=["a", "b"])
    with pytest.raises(ValueError, match=r"mt.onnx.export\(\).*unique.*\['x'\]"):
        mto.export(m, (x,), input_names=["x"], output_names=["x"])
    with pytest.raises(TypeError, match=r"mt.onnx.export\(\).*f must be a path.*int"):
        mto.export(m, (x,), 42)


def test_data_dependent_and_unconvertible_ops_are_named():
    import jax

    def branchy(x):
        return x * 2 if x.sum() > 0 else x

    with pytest.raises(RuntimeError, match=r"mt.onnx.export\(\).*data-dependent"):
        mto.export(branchy, mt.randn(3))

    host = mt.interop.jax_function(
        lambda a: jax.pure_callback(np.negative, jax.ShapeDtypeStruct(a.shape, a.dtype), a))
    with pytest.raises(NotImplementedError, match=r"mt.onnx.export\(\).*primitive 'pure_callback'"):
        mto.export(lambda x: host(x) + 1, mt.randn(3))


def test_export_leaves_jax_functions_as_they_were(tmp_path):
    import jax.numpy as jnp
    before = jnp.cumsum
    mto.export(mt.nn.Linear(3, 2), (mt.randn(4, 3),), str(tmp_path / "m.onnx"))
    assert jnp.cumsum is before  # jax2onnx swaps in its own cumsum (axis keyword-only) and keeps it
    y = mt.tensor([1.0, 2.0, 4.0])
    assert mt.cumulative_trapezoid(y).tolist() == [1.5, 4.5]
    assert mt.cumsum(y, 0).tolist() == [1.0, 3.0, 7.0]
