"""nn.Module, Parameter, containers, Linear/Bilinear: behaviour and parity with torch.nn."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn

from .nn_oracle import compare_module, copy_state
from .oracle import torch


def _pair(build):
    """The same architecture in both libraries (``build(lib)``), torch's weights copied over."""
    t = build(torch)
    m = build(mt)
    copy_state(m, t)
    return m, t


def _mlp(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(4, 8)
            self.body = lib.nn.Sequential(lib.nn.Linear(8, 8), lib.nn.Linear(8, 8, bias=False))
            self.heads = lib.nn.ModuleList([lib.nn.Linear(8, 3), lib.nn.Linear(8, 2)])
            self.table = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 2)})
            self.scale = lib.nn.Parameter(lib.ones(3))
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            h = self.body(self.fc1(x).relu())
            return self.heads[0](h) * self.scale, self.heads[1](h)

    return Net()


# ----- registration and traversal -----------------------------------------------------------
def test_names_and_state_dict_keys_match_torch():
    m, t = _pair(_mlp)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(m.state_dict()) == list(t.state_dict())
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in m.named_parameters(prefix="p", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="p", recurse=False)]
    assert len(list(m.parameters())) == len(list(t.parameters()))
    assert len(list(m.buffers(recurse=False))) == 2


def test_forward_backward_matches_torch():
    m, t = _pair(_mlp)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    compare_module(m, t, x, copy=False)


def test_shared_module_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(mt.ones(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'w'"):
        m.w = mt.ones(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.register_buffer("b", mt.zeros(2))
    m.b = mt.ones(2)
    assert "b" in m._buffers and float(m.b.sum()) == 2
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = 3
    m.sub = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("sub", mt.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("q", mt.ones(1))
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope  # noqa: B018
    m.extra = nn.Buffer(mt.ones(3), persistent=False)
    assert "extra" in m._buffers and "extra" not in m.state_dict()


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mt.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_non_leaf_parameter_refused():
    m = nn.Module()
    w = mt.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("w", _nonleaf_param(w))


def _nonleaf_param(w):
    p = nn.Parameter(w.detach())
    p.grad_fn = w.grad_fn
    return p


def test_get_submodule_parameter_buffer():
    m = _mlp(mt)
    assert m.get_submodule("body.1") is m.body[1]
    assert m.get_parameter("heads.0.weight") is m.heads[0].weight
    assert m.get_buffer("steps") is m.steps
    with pytest.raises(AttributeError, match="has no attribute `zzz`"):
        m.get_submodule("body.zzz")
    with pytest.raises(AttributeError, match="is not a buffer"):
        m.get_buffer("scale")


# ----- modes, grads, conversion --------------------------------------------------------------
def test_train_eval_apply_requires_grad():
    m = _mlp(mt)
    assert m.training and m.body[0].training
    m.eval()
    assert not m.training and not m.body[0].training
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 6
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad():
    m = nn.Linear(3, 2)
    m(mt.randn(4, 3)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert float(m.weight.grad.abs().sum()) == 0
    m.zero_grad()
    assert m.weight.grad is None


def test_to_keeps_parameter_identity_and_int_buffers():
    m = _mlp(mt)
    w = m.fc1.weight
    m.to(mt.float64)
    assert m.fc1.weight is w and w.dtype == mt.float64
    assert m.steps.dtype == mt.int64
    m.float()
    assert w.dtype == mt.float32
    m.half()
    assert w.dtype == mt.float16
    m.to("cpu")
    assert w.device.type == "cpu"
    with pytest.raises(TypeError, match="floating point or complex"):
        m.to(mt.int32)


# ----- state dict -----------------------------------------------------------------------------
def test_state_dict_round_trip_and_torch_interchange():
    m, t = _pair(_mlp)
    m2 = _mlp(mt)
    m2.load_state_dict(m.state_dict())
    for (n, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a._data), np.asarray(b._data), err_msg=n)
    # a torch state_dict (torch tensors) loads directly
    m3 = _mlp(mt)
    m3.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(m3.fc1.weight.detach().numpy(), t.fc1.weight.detach().numpy())


def test_load_state_dict_errors_match_torch():
    m, t = _pair(_mlp)
    sd_t = t.state_dict()
    sd_m = m.state_dict()
    for sd_lib in (sd_t, sd_m):
        del sd_lib["fc1.bias"]
        sd_lib["extra.key"] = sd_lib["scale"]
        sd_lib["heads.0.weight"] = sd_lib["heads.0.weight"][:2]
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(sd_t)
    with pytest.raises(RuntimeError) as me:
        m.load_state_dict(sd_m)
    expected = str(te.value).replace("torch.Size", "minitorch_jax.Size")
    assert str(me.value) == expected
    # strict=False returns the key lists (shape mismatches still raise, as in torch)
    sd_m["heads.0.weight"] = m.heads[0].weight.detach()
    sd_t["heads.0.weight"] = t.heads[0].weight.detach()
    r_m = m.load_state_dict(sd_m, strict=False)
    r_t = t.load_state_dict(sd_t, strict=False)
    assert r_m.missing_keys == r_t.missing_keys == ["fc1.bias"]
    assert r_m.unexpected_keys == r_t.unexpected_keys == ["extra.key"]
    assert repr(nn.Linear(2, 2).load_state_dict(nn.Linear(2, 2).state_dict())) == \
        "<All keys matched successfully>"


def test_load_state_dict_rejects_non_dict():
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_state_dict_is_detached_and_keep_vars():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_keeps_dtype_and_identity():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": mt.ones(2, 2, dtype=mt.float64), "bias": mt.zeros(2)})
    assert m.weight is w and w.dtype == mt.float32 and float(w.sum()) == 4


# ----- hooks ---------------------------------------------------------------------------------
def test_forward_hooks_match_torch_order_and_effects():
    def run(lib):
        log = []
        lin = lib.nn.Linear(3, 3)
        h1 = lin.register_forward_pre_hook(lambda mod, args: log.append("pre") or (args[0] * 2,))
        lin.register_forward_pre_hook(lambda mod, args, kw: log.append("pre_kw") or None, with_kwargs=True,
                                      prepend=True)
        lin.register_forward_hook(lambda mod, args, out: log.append("post") or out + 1)
        lin.register_forward_hook(lambda mod, args, kw, out: log.append("post_kw"), with_kwargs=True)
        x = lib.ones(2, 3)
        out = lin(x)
        h1.remove()
        out2 = lin(x)
        return log, lin, out, out2

    tlog, tlin, tout, tout2 = run(torch)
    mlog, mlin, _, _ = run(mt)
    assert mlog == tlog
    copy_state(mlin, tlin)
    x = mt.ones(2, 3)
    np.testing.assert_allclose(mlin(x).detach().numpy(), tout2.detach().numpy(), rtol=1e-6)


def test_forward_hook_always_call_runs_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    b = Boom()
    b.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(mt.ones(1))
    assert seen == [None]


def test_full_backward_hook_matches_torch():
    def run(lib, x):
        lin = lib.nn.Linear(3, 2)
        lin.weight.data = lib.tensor(np.arange(6, dtype="float32").reshape(2, 3) / 10)
        lin.bias.data = lib.zeros(2)
        seen = {}

        def hook(mod, gin, gout):
            seen["gin"] = [None if g is None else g.detach().numpy() for g in gin]
            seen["gout"] = [g.detach().numpy() for g in gout]
            return (gin[0] * 3,)

        def pre(mod, gout):
            seen["pre"] = [g.detach().numpy() for g in gout]

        lin.register_full_backward_hook(hook)
        lin.register_full_backward_pre_hook(pre)
        xt = lib.tensor(x, requires_grad=True)
        (lin(xt) ** 2).sum().backward()
        return seen, xt.grad.numpy()

    x = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    ts, tg = run(torch, x)
    ms, mg = run(mt, x)
    for k in ("gin", "gout", "pre"):
        for a, b in zip(ms[k], ts[k]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mg, tg, rtol=1e-5, atol=1e-6)


def test_backward_hook_without_input_grad_gets_none():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, len(go))))
    lin(mt.ones(2, 3)).sum().backward()
    assert seen and seen[0][0] == (None,) and seen[0][1] == 1
    assert lin.weight.grad is not None


# ----- containers ----------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_ordered_dict():
    s = nn.Sequential(OrderedDict([("a", nn.Linear(2, 3)), ("act", nn.Identity()), ("b", nn.Linear(3, 1))]))
    assert isinstance(s[0], nn.Linear) and s[-1] is s.b
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["act", "b"]
    assert len(s) == 3
    s.append(nn.Identity())
    assert len(s) == 4
    del s[1]
    assert list(s._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError):
        s[10]
    assert (s + nn.Sequential(nn.Identity())).__len__() == 4
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity)
    assert s.pop(0) is not None and len(s) == 3


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.Identity())
    ml.extend([nn.Identity()])
    ml.insert(1, nn.Identity())
    assert len(ml) == 6 and isinstance(ml[1], nn.Identity)
    assert len(list(ml.parameters())) == 6
    with pytest.raises(TypeError, match="iterable"):
        ml.extend(nn.Linear(1, 1))
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.Identity()
    md.update([("z", nn.Identity())])
    assert list(md.keys()) == ["x", "y", "z"] and "y" in md
    assert md.pop("y") is not None and len(md) == 2


def test_parameter_list_and_dict():
    pl = nn.ParameterList([mt.ones(2), nn.Parameter(mt.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl)
    pl.append(mt.ones(1))
    assert len(list(pl.parameters())) == 3
    pd = nn.ParameterDict({"a": mt.ones(2)})
    pd["b"] = mt.zeros(1)
    assert isinstance(pd["a"], nn.Parameter) and list(pd.keys()) == ["a", "b"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]


@pytest.mark.parametrize("name", ["seq", "mlist", "plist", "pdict", "custom"])
def test_repr_matches_torch(name):
    def build(lib):
        if name == "seq":
            return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.Identity(),
                                                                            lib.nn.Linear(3, 1, bias=False)))
        if name == "mlist":
            return lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.Flatten()])
        if name == "plist":
            return lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.nn.Parameter(lib.ones(4))])
        if name == "pdict":
            return lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(2, 3))})
        return _mlp(lib)

    t = repr(build(torch)).replace("torch.", "minitorch_jax.")
    with mt.device("cpu"):  # torch built them on the CPU (a parameter elsewhere shows its device)
        m = build(mt)
    assert repr(m) == t


# ----- Linear / Bilinear / Flatten layers -----------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(dtype, shape, bias):
    t = torch.nn.Linear(4, 3, bias=bias).to(getattr(torch, dtype))
    m = nn.Linear(4, 3, bias=bias, dtype=getattr(mt, dtype))
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    compare_module(m, t, x)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_parity(bias):
    rng = np.random.default_rng(3)
    t = torch.nn.Bilinear(3, 2, 4, bias=bias)
    m = nn.Bilinear(3, 2, 4, bias=bias)
    compare_module(m, t, rng.standard_normal((5, 3)).astype("float32"),
                   rng.standard_normal((5, 2)).astype("float32"))
    assert repr(m) == repr(t)


def test_flatten_unflatten_identity_parity():
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5)).astype("float32")
    for args in [(), (0, -1), (2, 3)]:
        compare_module(nn.Flatten(*args), torch.nn.Flatten(*args), x)
        assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))
    compare_module(nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1)), x)
    assert repr(nn.Unflatten(1, (3, 1))) == repr(torch.nn.Unflatten(1, (3, 1)))
    compare_module(nn.Identity(5, k=1), torch.nn.Identity(5, k=1), x)


def test_linear_wrong_features_names_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4, out_features=3, bias=True\).*"
                                           r"4 features.*\[2, 5\]"):
        nn.Linear(4, 3)(mt.ones(2, 5))
    with pytest.raises(RuntimeError, match="Bilinear"):
        nn.Bilinear(3, 2, 4)(mt.ones(5, 3), mt.ones(5, 3))


def test_linear_default_init_statistics():
    m = nn.Linear(400, 300)
    w = m.weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    # uniform on [-bound, bound): -bound itself may come out, and float32(-0.05) is below -0.05
    assert np.abs(w).max() <= np.float32(bound) and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.03)
    assert np.abs(m.bias.detach().numpy()).max() <= np.float32(bound)


def test_linear_init_reproducible_with_seed():
    mt.manual_seed(7)
    a = nn.Linear(5, 5).weight.detach().numpy()
    mt.manual_seed(7)
    b = nn.Linear(5, 5).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


# ----- copying and pickling ----------------------------------------------------------------
def test_deepcopy_and_pickle():
    m = _mlp(mt)
    c = copy.deepcopy(m)
    assert c.fc1.weight is not m.fc1.weight
    np.testing.assert_array_equal(c.fc1.weight.detach().numpy(), m.fc1.weight.detach().numpy())
    assert isinstance(c.fc1.weight, nn.Parameter)
    p = pickle.loads(pickle.dumps(nn.Linear(2, 3)))
    assert isinstance(p.weight, nn.Parameter) and p.weight.shape == (3, 2)


def test_parameter_basics():
    p = nn.Parameter(mt.ones(2))
    assert p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is mt.Tensor
    assert not nn.Parameter(mt.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError):
        nn.Parameter([1.0, 2.0])


def test_missing_forward():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(mt.ones(1))
