"""mt.export: export / ExportedProgram / Dim / save / load, against eager models and torch.export."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn
from minitorch_jax.export import Dim

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(mt.relu(self.fc1(x)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)
        self.register_buffer("offset", mt.full((2,), 0.5), persistent=False)

    def forward(self, x):
        h = mt.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return self.head(h) + self.offset


class KwNested(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, pair, *, scale=1.0, bias=None):
        y = self.lin(x) * scale + bias
        return y, (pair[0] + y, {"s": y.sum(), "p": [pair[1] * 2]})


def _torch_copy(mt_model, torch_model):
    """Give mt_model torch_model's weights (by state_dict key)."""
    sd = {k: mt.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()}
    mt_model.load_state_dict(sd)
    return mt_model


def _specs(sig):
    return [(s.kind.name, s.arg.name, s.target, s.persistent) for s in sig.input_specs]


# ----- parity with the eager model and with torch.export -------------------------------------------
def test_mlp_parity_with_eager():
    m = MLP()
    x = mt.randn(5, 4)
    ep = mt.export.export(m, (x,))
    assert ep.graph_signature.parameters == ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
    assert ep.graph_signature.inputs_to_parameters["p_fc2_bias"] == "fc2.bias"
    assert ep.graph_signature.user_inputs == ("x",) and ep.graph_signature.user_outputs == ("output_0",)
    assert list(ep.state_dict) == list(m.state_dict())
    mod = ep.module()
    assert list(mod.state_dict()) == list(m.state_dict())
    np.testing.assert_allclose(_np(mod(x)), _np(m(x)), rtol=1e-6, atol=1e-7)
    # the module runs ITS weights: load_state_dict changes the output
    mod.load_state_dict({k: v * 0 for k, v in mod.state_dict().items()})
    assert float(mod(x).abs().sum()) == 0.0
    with pytest.raises(RuntimeError, match=r"Unable to call ExportedProgram directly. You should use "
                                           r"`exported_program.module\(\)` instead."):
        ep(x)


def test_cnn_batchnorm_eval_and_train_match_torch():
    from tests.oracle import torch

    class TCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(4)
            self.head = torch.nn.Linear(4, 2)
            self.register_buffer("offset", torch.full((2,), 0.5), persistent=False)

        def forward(self, x):
            h = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
            return self.head(h) + self.offset

    tm = TCNN()
    with torch.no_grad():
        tm.bn.running_mean.uniform_(-1, 1)
        tm.bn.running_var.uniform_(0.5, 2)
    tm.eval()
    m = _torch_copy(CNN(), tm).eval()
    x = RNG.standard_normal((2, 2, 5, 5)).astype(np.float32)
    tep = torch.export.export(tm, (torch.from_numpy(x),))
    ep = mt.export.export(m, (mt.tensor(x),))
    assert _specs(ep.graph_signature) == _specs(tep.graph_signature)
    assert ep.graph_signature.inputs_to_buffers == tep.graph_signature.inputs_to_buffers
    assert ep.graph_signature.user_inputs == tep.graph_signature.user_inputs == ("x",)
    assert list(ep.state_dict) == list(tep.state_dict)
    assert list(ep.module().state_dict()) == list(tep.module().state_dict())
    assert set(ep.constants) == set(tep.constants) == {"offset"}
    assert ep.graph_signature.non_persistent_buffers == ("offset",)
    want = tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(_np(ep.module()(mt.tensor(x))), want, rtol=1e-5, atol=1e-5)
    # training mode: the BatchNorm statistics are updated by the module (as torch's ep.module() does);
    # like torch's training IR they show up as buffer mutations only after run_decompositions()
    tm.train()
    m.train()
    ep = mt.export.export(m, (mt.tensor(x),))
    assert int(m.bn.num_batches_tracked) == 0  # exporting does not run the model's own update
    assert ep.graph_signature.buffers_to_mutate == {}
    assert sorted(ep.run_decompositions().graph_signature.buffers_to_mutate.values()) == \
        ["bn.num_batches_tracked", "bn.running_mean", "bn.running_var"]
    mod = ep.module()
    np.testing.assert_allclose(_np(mod(mt.tensor(x))), tm(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(mod.bn.running_var), tm.bn.running_var.numpy(), rtol=1e-5)
    assert int(mod.bn.num_batches_tracked) == 1


def test_kwargs_and_nested_outputs():
    m = KwNested()
    x, p0, p1, b = (mt.randn(2, 3) for _ in range(4))
    ep = mt.export.export(m, (x, (p0, p1)), {"scale": 2.0, "bias": b})
    sig = ep.graph_signature
    assert sig.user_inputs == ("x", "pair_0", "pair_1", 2.0, "bias")
    assert [s.arg.name for s in sig.input_specs if s.kind.name == "USER_INPUT"] == \
        ["x", "pair_0", "pair_1", "scale", "bias"]
    from tests.oracle import torch

    class TKw(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 3)

        def forward(self, x, pair, *, scale=1.0, bias=None):
            y = self.lin(x) * scale + bias
            return y, (pair[0] + y, {"s": y.sum(), "p": [pair[1] * 2]})

    t = [torch.randn(2, 3) for _ in range(4)]
    tsig = torch.export.export(TKw(), (t[0], (t[1], t[2])), {"scale": 2.0, "bias": t[3]}).graph_signature
    assert _specs(sig) == _specs(tsig) and sig.user_inputs == tsig.user_inputs
    mod = ep.module()
    x2, q0, q1, b2 = (mt.randn(2, 3) for _ in range(4))
    got = mod(x2, (q0, q1), scale=2.0, bias=b2)
    want = m(x2, (q0, q1), scale=2.0, bias=b2)
    assert isinstance(got, tuple) and isinstance(got[1], tuple) and isinstance(got[1][1]["p"], list)
    for g, w in zip([got[0], got[1][0], got[1][1]["s"], got[1][1]["p"][0]],
                    [want[0], want[1][0], want[1][1]["s"], want[1][1]["p"][0]]):
        np.testing.assert_allclose(_np(g), _np(w), rtol=1e-6, atol=1e-6)
    with pytest.raises(AssertionError, match=r"Guard failed: scale == 2.0"):
        mod(x2, (q0, q1), scale=3.0, bias=b2)
    with pytest.raises(ValueError, match=r"kwarg keyword mismatch: Got the following keywords \['scale'\] "
                                         r"but expected \['scale', 'bias'\]"):
        mod(x2, (q0, q1), scale=2.0)
    with pytest.raises(ValueError, match=r"pair must be a tuple of 2"):
        mod(x2, (q0,), scale=2.0, bias=b2)


def test_grad_through_module_and_inside_jit():
    m = MLP()
    x = mt.randn(3, 4)
    ep = mt.export.export(m, (x,), dynamic_shapes=({0: Dim("batch")},))
    mod = ep.module()
    mod(x).sum().backward()
    m(x).sum().backward()
    np.testing.assert_allclose(_np(mod.fc1.weight.grad), _np(m.fc1.weight.grad), rtol=1e-5, atol=1e-6)

    @mt.jit
    def f(a):
        return mod(a) * 2

    np.testing.assert_allclose(_np(f(x)), _np(m(x)) * 2, rtol=1e-5, atol=1e-6)


def test_dropout_in_training_draws_from_global_rng():
    d = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)).train().requires_grad_(False)
    x = mt.randn(4, 3)
    mod = mt.export.export(d, (x,)).module()
    mt.manual_seed(0)
    a, b = _np(mod(x)), _np(mod(x))
    mt.manual_seed(0)
    np.testing.assert_array_equal(_np(d(x)) == 0, a == 0)  # same masks as eager for the same seed
    assert not np.array_equal(a, b)
    assert mt.rand(2).shape == (2,)  # the global generator is still usable
    g = mt.Generator()

    class OwnGen(nn.Module):
        def forward(self, v):
            return v + mt.rand(v.shape, generator=g)

    with pytest.raises(RuntimeError, match="draws from a Generator other than the default one"):
        mt.export.export(OwnGen(), (x,))
    assert mt.rand(2, generator=g).shape == (2,)


# ----- dynamic shapes ---------------------------------------------------------------------------
def test_dynamic_batch_many_sizes_and_guards():
    m = MLP().eval().requires_grad_(False)
    batch = Dim("batch", min=2, max=16)
    ep = mt.export.export(m, (mt.randn(4, 4),), dynamic_shapes={"x": {0: batch}})
    assert {k: (v.lower, v.upper) for k, v in ep.range_constraints.items()} == {"batch": (2, 16)}
    mod = ep.module()
    for n in (2, 5, 16):
        x = mt.randn(n, 4)
        np.testing.assert_allclose(_np(mod(x)), _np(m(x)), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 16"):
        mod(mt.randn(17, 4))
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] >= 2"):
        mod(mt.randn(1, 4))
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[1\] == 4"):
        mod(mt.randn(4, 5))
    with pytest.raises(AssertionError, match=r"Guard failed: x.dtype == float32"):
        mod(mt.randn(4, 4).double())
    static = mt.export.export(m, (mt.randn(4, 4),)).module()
    assert static.forward is not None and static(mt.randn(4, 4)).shape == (4, 3)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] == 4"):
        static(mt.randn(5, 4))


class Add(nn.Module):
    def forward(self, a, b):
        return a + b


def test_shared_dims_hints_and_bad_specs():
    b = Dim("b")
    args = (mt.randn(3, 2), mt.randn(3, 2))
    ep = mt.export.export(Add(), args, dynamic_shapes=((b, Dim.STATIC), {0: b}))
    assert list(ep.range_constraints) == ["b"]
    out = ep.module()(mt.ones(6, 2), mt.ones(6, 2))
    assert out.shape == (6, 2)
    with pytest.raises(AssertionError, match=r"Guard failed: b.size\(\)\[0\] == a.size\(\)\[0\]"):
        ep.module()(mt.ones(4, 2), mt.ones(5, 2))
    auto = mt.export.export(Add(), args, dynamic_shapes=([Dim.AUTO, 2], [Dim.DYNAMIC, None]))
    assert len(auto.range_constraints) == 1  # the two dims had to be equal: unified, as torch infers
    assert auto.module()(mt.ones(5, 2), mt.ones(5, 2)).shape == (5, 2)
    sc = mt.export.ShapesCollection()
    sc[args[0]] = {0: b}
    sc[args[1]] = {0: b}
    ep_sc = mt.export.export(Add(), args, dynamic_shapes=sc)
    assert ep_sc.module()(mt.ones(7, 2), mt.ones(7, 2)).shape[0] == 7
    with pytest.raises(ValueError, match=r"top-level keys must be the arg names \['a', 'b'\]"):
        mt.export.export(Add(), args, dynamic_shapes={"a": None, "c": None})
    with pytest.raises(ValueError, match=r"a.size\(\)\[0\] = 3 not in range \[4, int_oo\]"):
        mt.export.export(Add(), args, dynamic_shapes=({0: Dim("q", min=4)}, None))
    with pytest.raises(ValueError, match=r"static size 5"):
        mt.export.export(Add(), args, dynamic_shapes=((5, 2), None))
    with pytest.raises(TypeError, match=r"only derived dimensions of the form a \* Dim \+ b"):
        b // 2
    with pytest.raises(AssertionError, match=r"Cannot create Dim with inconsistent min=5, max=2"):
        Dim("x", min=5, max=2)
    with pytest.raises(AssertionError, match=r"Dim name must be a valid identifier, got x y"):
        Dim("x y")
    p, q = mt.export.dims("p", "q", min=1, max=5)
    assert (p.__name__, q.min, q.max) == ("p", 1, 5) and repr(p) == "Dim('p', min=1, max=5)"


class Pair(nn.Module):
    def forward(self, x, y):
        return x.reshape(-1, 2, 3).sum(1) + y


def test_derived_dims():
    b = Dim("b", max=10)
    ds = ({0: 2 * b + 2}, {0: b + 1})
    ep = mt.export.export(Pair(), (mt.randn(8, 3), mt.randn(4, 3)), dynamic_shapes=ds)
    assert {k: (v.lower, v.upper) for k, v in ep.range_constraints.items()} == {"b": (0, 10)}
    mod = ep.module()
    for n in (2, 6):
        x, y = mt.randn(2 * n + 2, 3), mt.randn(n + 1, 3)
        np.testing.assert_allclose(_np(mod(x, y)), _np(Pair()(x, y)), rtol=1e-6)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] == 2\*b \+ 2 \(got 7\)"):
        mod(mt.randn(7, 3), mt.randn(4, 3))
    with pytest.raises(AssertionError, match=r"Guard failed: y.size\(\)\[0\] - 1 == "
                                             r"\(x.size\(\)\[0\] - 2\) // 2"):
        mod(mt.randn(8, 3), mt.randn(6, 3))
    with pytest.raises(AssertionError, match=r"<= 10 \(got 11\)"):
        mod(mt.randn(24, 3), mt.randn(12, 3))
    with pytest.raises(ValueError, match=r"x.size\(\)\[0\] = 7 is not 2\*b \+ 2 for any integer b"):
        mt.export.export(Pair(), (mt.randn(7, 3), mt.randn(4, 3)), dynamic_shapes=ds)


def test_symbolic_dim_that_needs_a_python_int_gives_clear_error():
    class Bad(nn.Module):
        def forward(self, x):
            return x.reshape(int(x.shape[0]) * 2, -1)

    with pytest.raises(RuntimeError, match=r"cannot be traced with the dynamic dimensions \['n'\]"):
        mt.export.export(Bad(), (mt.randn(4, 6),), dynamic_shapes=({0: Dim("n")},))


@dataclasses.dataclass
class Batch:
    x: object
    y: object


def test_register_dataclass_input():
    mt.export.register_dataclass(Batch)

    class UseBatch(nn.Module):
        def forward(self, batch):
            return batch.x * batch.y

    b = Batch(mt.randn(2, 2), mt.randn(2, 2))
    ep = mt.export.export(UseBatch(), (b,))
    assert ep.graph_signature.user_inputs == ("batch_x", "batch_y")
    np.testing.assert_allclose(_np(ep.module()(b)), _np(b.x * b.y))
    with pytest.raises(TypeError, match="not a dataclass"):
        mt.export.register_dataclass(int)


# ----- the rest of the API ----------------------------------------------------------------------
def test_printing_decompositions_unflatten_draft():
    m = MLP()
    x = mt.randn(2, 4)
    ep = mt.export.export(m, (x,))
    text = str(ep)
    assert text.startswith("ExportedProgram:") and "func.func public @main" in text
    assert "p_fc1_weight: PARAMETER target='fc1.weight'" in text and "x: USER_INPUT" in text
    ep2 = ep.run_decompositions()
    assert isinstance(ep2, mt.export.ExportedProgram)
    np.testing.assert_allclose(_np(ep2.module()(x)), _np(m(x)), rtol=1e-6)
    assert isinstance(mt.export.unflatten(ep), nn.Module)
    assert ep.example_inputs[0][0] is x and ep.example_inputs[1] == {}
    dr = mt.export.draft_export(m, (x,))
    assert dr._report.successful() and "No issues" in str(dr._report)
    with pytest.raises(ValueError, match=r"Expected `mod` to be an instance of `torch.nn.Module`"):
        mt.export.export(lambda v: v, (x,))
    with pytest.raises(ValueError, match=r"Expecting `args` to be a tuple"):
        mt.export.export(m, x)


def test_save_load_roundtrip_and_subprocess(tmp_path):
    m = CNN().eval()
    x = mt.randn(3, 2, 5, 5)
    ep = mt.export.export(m, (x,), dynamic_shapes={"x": {0: Dim("batch", max=8)}})
    buf = io.BytesIO()
    mt.export.save(ep, buf, extra_files={"note": "hello"})
    buf.seek(0)
    extra = {"note": ""}
    ep2 = mt.export.load(buf, extra_files=extra)
    assert extra["note"] == "hello"
    assert _specs(ep2.graph_signature) == _specs(ep.graph_signature)
    assert {k: repr(v) for k, v in ep2.range_constraints.items()} == {"batch": "VR[0, 8]"}
    x5 = mt.randn(5, 2, 5, 5)
    np.testing.assert_allclose(_np(ep2.module()(x5)), _np(m(x5)), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 8"):
        ep2.module()(mt.randn(9, 2, 5, 5))
    path = tmp_path / "cnn.pt2"
    mt.export.save(ep, path)
    np.save(tmp_path / "x.npy", x5.numpy())
    code = (
        "import sys, numpy as np, minitorch_jax as mt\n"
        f"ep = mt.export.load({str(path)!r})\n"
        f"x = mt.tensor(np.load({str(tmp_path / 'x.npy')!r}))\n"
        "print(' '.join(repr(float(v)) for v in ep.module()(x).detach().numpy().ravel()))\n"
        "assert 'tests.test_export' not in sys.modules and 'test_export' not in sys.modules\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    got = np.array([float(v) for v in res.stdout.split()])
    np.testing.assert_allclose(got, _np(m(x5)).ravel(), rtol=1e-5, atol=1e-6)


def test_loaded_grad_corrupt_file_and_wrong_kind_errors(tmp_path):
    lin = nn.Linear(2, 2)
    ep = mt.export.export(lin, (mt.ones(1, 2),))
    p = tmp_path / "ok.pt2"
    mt.export.save(ep, p)
    loaded = mt.export.load(p).module()  # differentiable after loading (the file carries the VJP)
    x = mt.tensor([[1.0, 2.0]])
    loaded(x).sum().backward()
    lin(x).sum().backward()
    np.testing.assert_allclose(_np(loaded.weight.grad), _np(lin.weight.grad))
    raw = p.read_bytes()
    cases = [raw[: len(raw) // 2], b"", b"not a zip"]
    rng = np.random.default_rng(1)
    for i in range(4):  # flipped bytes; the last case inside export.json
        b = bytearray(raw)
        for j in rng.integers(0, len(b), 8) if i < 3 else [raw.index(b'"targets"') + 3]:
            b[j] ^= 0xFF
        cases.append(bytes(b))
    for data in cases:
        bad = tmp_path / "bad.pt2"
        bad.write_bytes(data)
        try:
            f = mt.export.load(bad)
        except RuntimeError as e:
            assert "is not a valid exported program file" in str(e)
            continue
        f.module()(mt.ones(1, 2))  # a flip that JAX's or zip's checks cannot see must still load and run
    jit_file = tmp_path / "jit.bin"
    mt.jit.save(mt.jit.trace(nn.Linear(2, 2), mt.ones(1, 2)), jit_file)
    with pytest.raises(RuntimeError, match=r"is an mt.jit program, not an exported program"):
        mt.export.load(jit_file)
    with pytest.raises(TypeError, match=r"must be an instance of 'ExportedProgram'"):
        mt.export.save(nn.Linear(2, 2), io.BytesIO())
