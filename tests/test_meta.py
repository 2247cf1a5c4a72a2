"""The meta device against torch's: building a model without storage, shape inference, ``to_empty`` +
``load_state_dict``, and torch's errors for reading values that a meta tensor does not have.

Every op's shapes and dtypes on meta tensors are checked in test_op_parity.py (``_check_meta``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch


def _msg(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value).replace("torch.", "minitorch_jax.")


def _same_error(mt_fn, torch_fn):
    """mt raises what torch raises: an exception of torch's class (or a subclass) with its message."""
    t_type, t_msg = _msg(torch_fn)
    with pytest.raises(t_type) as e:
        mt_fn()
    assert t_msg in str(e.value), (str(e.value), t_msg)


def test_device_repr_and_factories_match_torch():
    assert str(mt.device("meta")) == "meta" and repr(mt.device("meta")) == "device(type='meta')"
    cases = [lambda lib: lib.empty(2, 3, device="meta"),
             lambda lib: lib.zeros(2, dtype=lib.int64, device="meta"),
             lambda lib: lib.ones(0, device="meta"),
             lambda lib: lib.full((2, 1), 7.0, device="meta"),
             lambda lib: lib.randn(4, device="meta", dtype=lib.float64),
             lambda lib: lib.nn.Parameter(lib.empty(2, device="meta")),
             lambda lib: lib.arange(5, device="meta"),
             lambda lib: lib.empty_like(lib.empty(3, device="meta")),
             lambda lib: lib.randn(3, 2).to("meta")]
    for make in cases:
        m, t = make(mt), make(torch)
        assert m.is_meta and t.is_meta and m.device == mt.device("meta")
        assert repr(m) == repr(t).replace("torch.", "minitorch_jax."), (repr(m), repr(t))


def test_huge_meta_tensor_allocates_nothing_and_keeps_the_rng():
    mt.manual_seed(0)
    expect = mt.rand(3)
    mt.manual_seed(0)
    big = mt.randn(10 ** 6, 10 ** 6, device="meta")  # 4 TB if it were allocated
    y = mt.nn.functional.dropout(big @ big, 0.5)
    mt.nn.init.kaiming_uniform_(big)
    assert y.shape == (10 ** 6, 10 ** 6) and y.is_meta and big.is_meta
    np.testing.assert_array_equal(mt.rand(3).numpy(), expect.numpy())  # nothing drew from the generator


class _Net:
    """The same small model in either library (conv, norm, attention, linear)."""

    @staticmethod
    def build(lib, **kw):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1, **kw)
                self.bn = nn.BatchNorm2d(8, **kw)
                self.attn = nn.MultiheadAttention(8, 2, batch_first=True, **kw)
                self.head = nn.Linear(8, 5, **kw)

            def forward(self, x):
                h = lib.relu(self.bn(self.conv(x)))  # (B, 8, H, W)
                seq = h.flatten(2).transpose(1, 2)  # (B, H*W, 8)
                a, _ = self.attn(seq, seq, seq)
                return self.head(a.mean(1))
        return Net()


def test_model_built_on_meta_infers_shapes_like_torch():
    with mt.device("meta"):
        m = _Net.build(mt)
    assert mt.get_default_device() != mt.device("meta")  # the context restored the default
    assert all(p.is_meta for p in m.parameters()) and all(b.is_meta for b in m.buffers())
    t = _Net.build(torch, device="meta")
    for (name, mp), (_, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert tuple(mp.shape) == tuple(tp.shape) and mp.requires_grad, name
    out = m(mt.randn(2, 3, 6, 6, device="meta"))
    t_out = t(torch.randn(2, 3, 6, 6, device="meta"))
    assert out.is_meta and tuple(out.shape) == tuple(t_out.shape) and out.dtype.name == "float32"
    assert out.requires_grad
    with pytest.raises(NotImplementedError, match="backward\\(\\) of a meta tensor"):
        out.sum().backward()


def test_to_empty_then_load_state_dict_matches_torch():
    torch.manual_seed(0)
    ref = _Net.build(torch).eval()
    sd = {k: mt.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    with mt.device("meta"):
        m = _Net.build(mt)
    params = list(m.parameters())
    opt = mt.optim.SGD(params, lr=0.1)
    assert m.to_empty(device="cpu") is m
    assert all(not p.is_meta for p in m.parameters()) and all(not b.is_meta for b in m.buffers())
    assert all(a is b for a, b in zip(params, m.parameters()))  # the optimizer's parameters still
    m.load_state_dict(sd)
    m.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(m(mt.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    loss = m(mt.tensor(x)).sum()
    loss.backward()
    opt.step()  # real parameters train as usual


def test_to_empty_recurse_false_only_moves_own_tensors():
    with mt.device("meta"):
        m = mt.nn.Sequential(mt.nn.Linear(2, 3))
        m.register_buffer("scale", mt.ones(3))
    m.to_empty(device="cpu", recurse=False)
    assert not m.scale.is_meta and m[0].weight.is_meta


def test_load_state_dict_into_meta_warns_like_torch_unless_assign():
    sd = mt.nn.Linear(4, 2).state_dict()
    m = mt.nn.Linear(4, 2, device="meta")
    t = torch.nn.Linear(4, 2, device="meta")
    with warnings.catch_warnings(record=True) as mw:
        warnings.simplefilter("always")
        m.load_state_dict(sd)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        t.load_state_dict(torch.nn.Linear(4, 2).state_dict())
    assert [str(w.message) for w in mw] == [str(w.message) for w in tw] and len(mw) == 2
    assert m.weight.is_meta
    m.load_state_dict(sd, assign=True)
    assert not m.weight.is_meta and isinstance(m.weight, mt.nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), sd["weight"].numpy())


def test_reading_values_raises_like_torch(tmp_path):
    m, t = mt.empty(2, 3, device="meta"), torch.empty(2, 3, device="meta")
    for call in (lambda x: x.sum().item(), lambda x: x.numpy(), lambda x: x.tolist(),
                 lambda x: bool(x.sum()), lambda x: float(x[0, 0]), lambda x: x.to("cpu"), lambda x: x.cpu(),
                 lambda x: x + (mt.ones(2, 3, device="cpu") if isinstance(x, mt.Tensor)
                                else torch.ones(2, 3))):
        _same_error(lambda c=call: c(m), lambda c=call: c(t))
    _same_error(lambda: mt.nn.Linear(2, 3, device="meta").to("cpu"),
                lambda: torch.nn.Linear(2, 3, device="meta").to("cpu"))
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
        mt.save(m, tmp_path / "m.pt")


def test_shape_errors_still_name_the_op():
    a, b = mt.empty(2, 3, device="meta"), mt.empty(2, 3, device="meta")
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"bincount\(\): needs the values"):
        mt.bincount(mt.zeros(3, dtype=mt.int64, device="meta"))
    with pytest.raises(RuntimeError, match="depends on"):
        mt.nonzero(a)


@pytest.mark.parametrize("init", ["uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "xavier_uniform_", "xavier_normal_", "trunc_normal_", "orthogonal_",
                                  "eye_", "zeros_", "ones_", "sparse_"])
def test_nn_init_leaves_meta_tensors_meta(init):
    w = mt.empty(4, 5, device="meta")
    args = (0.5,) if init == "sparse_" else ()
    assert getattr(mt.nn.init, init)(w, *args) is w and w.is_meta


def test_mt_jit_runs_meta_calls_eagerly_and_still_compiles_real_ones():
    f = mt.jit(lambda x: (x @ x.T).relu())
    out = f(mt.empty(3, 4, device="meta"))
    assert out.is_meta and tuple(out.shape) == (3, 3) and f.num_compiles == 0
    np.testing.assert_array_equal(f(mt.ones(3, 4)).numpy(), np.full((3, 3), 4.0, np.float32))
    assert f(mt.empty(3, 4, device="meta")).is_meta and f.num_compiles == 1
    with mt.device("meta"):
        m = mt.nn.Linear(4, 2)
    g = mt.jit(lambda x: m(x).sum())
    assert g(mt.empty(3, 4, device="meta")).is_meta and g.num_compiles == 0


def test_other_tensor_kinds_are_not_meta():
    from minitorch_jax.masked import masked_tensor
    from minitorch_jax.nn.parameter import UninitializedParameter
    kinds = [mt.randn(3, 3).to_sparse(), mt.randn(3, 3).to_sparse_csr(),
             mt.quantize_per_tensor(mt.randn(3), 0.1, 0, mt.qint8),
             masked_tensor(mt.randn(3), mt.tensor([True, False, True])), UninitializedParameter(), mt.ones(2)]
    assert [k.is_meta for k in kinds] == [False] * len(kinds)


_MODULES = {  # constructor, example input (shape and dtype)
    "Embedding(padding_idx)": (lambda nn: nn.Embedding(10, 4, padding_idx=0), ((2, 5), "int64")),
    "LSTM": (lambda nn: nn.LSTM(4, 8, num_layers=2, batch_first=True), ((2, 5, 4), "float32")),
    "LSTM(proj_size)": (lambda nn: nn.LSTM(3, 4, proj_size=2), ((5, 2, 3), "float32")),
    "GRU(bidirectional)": (lambda nn: nn.GRU(4, 8, bidirectional=True), ((5, 2, 4), "float32")),
    "RNNCell": (lambda nn: nn.RNNCell(3, 4), ((2, 3), "float32")),
    "TransformerEncoder": (lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2), ((2, 5, 8), "float32")),
    "Conv3d": (lambda nn: nn.Conv3d(2, 3, 3), ((1, 2, 5, 5, 5), "float32")),
    "ConvTranspose2d": (lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2), ((1, 2, 4, 4), "float32")),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 8), ((2, 8, 3), "float32")),
    "LayerNorm": (lambda nn: nn.LayerNorm(8), ((2, 8), "float32")),
    "PReLU": (lambda nn: nn.PReLU(), ((2, 8), "float32")),
}


@pytest.mark.parametrize("name", list(_MODULES))
def test_layers_build_and_run_on_meta_like_torch(name):
    make, (shape, dtype) = _MODULES[name]
    with mt.device("meta"):
        m = make(mt.nn)
    t = make(torch.nn).to("meta")
    assert [(k, tuple(p.shape)) for k, p in m.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in t.named_parameters()]
    assert all(p.is_meta for p in m.parameters())
    out, t_out = m(mt.empty(shape, dtype=getattr(mt, dtype), device="meta")), \
        t(torch.empty(shape, dtype=getattr(torch, dtype), device="meta"))
    out, t_out = (out[0], t_out[0]) if isinstance(out, tuple) else (out, t_out)
    assert out.is_meta and tuple(out.shape) == tuple(t_out.shape)
    m.to_empty(device="cpu")
    assert not any(p.is_meta for p in m.parameters())
    out = m(mt.zeros(shape, dtype=getattr(mt, dtype)))
    out = out[0] if isinstance(out, tuple) else out
    assert tuple(out.shape) == tuple(t_out.shape) and not out.is_meta
