"""torch.jit's scripting API and TorchScript annotations on mt.jit, against real torch.jit."""

from __future__ import annotations

import copy
import io
import subprocess
import sys
import textwrap
import typing
import warnings

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import torch

pytestmark = [pytest.mark.skipif(torch is None, reason="torch (the oracle) is not installed"),
              pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:`mt.jit:DeprecationWarning")]


def _pair(in_f=3, out_f=2, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((out_f, in_f)).astype(np.float32)
    b = rng.standard_normal(out_f).astype(np.float32)
    m, t = mt.nn.Linear(in_f, out_f), torch.nn.Linear(in_f, out_f)
    with mt.no_grad():
        m.weight.copy_(mt.tensor(w))
        m.bias.copy_(mt.tensor(b))
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    return m, t


def test_scripted_module_matches_torch_and_shares_parameters():
    m, t = _pair()
    sm, st = mt.jit.script(m), torch.jit.script(t)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(sm(mt.tensor(x)).detach().numpy(), st(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert isinstance(sm, mt.jit.ScriptModule) and isinstance(sm, mt.nn.Module)
    assert isinstance(sm, mt.jit.RecursiveScriptModule)
    assert sm.weight is m.weight and sm.original_name == st.original_name == "Linear"
    assert list(sm.state_dict()) == list(st.state_dict())  # no "_orig_mod." prefix, unlike mt.compile
    assert [n for n, _ in sm.named_parameters()] == [n for n, _ in st.named_parameters()]
    sm(mt.tensor(x))
    assert sm._script_compiled.num_compiles == 1  # a fixed-shape forward is one compiled program
    assert mt.jit.script(sm) is sm and torch.jit.script(st) is st
    # training changes the original's parameters, and a gradient flows to them
    sm(mt.tensor(x)).sum().backward()
    st(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6)


def test_scripted_repr_and_modes_follow_torch():
    class M(torch.nn.Module):
        def forward(self, x):
            return x

    class N(mt.nn.Module):
        def forward(self, x):
            return x

    assert repr(mt.jit.script(N())) == repr(torch.jit.script(M())).replace("=M", "=N")
    seq_t = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
    seq_m = mt.jit.script(mt.nn.Sequential(mt.nn.Linear(2, 2), mt.nn.ReLU()))
    assert repr(seq_m) == repr(seq_t)
    base = mt.nn.Sequential(mt.nn.Linear(2, 2), mt.nn.Dropout(0.5))
    s = mt.jit.script(base)
    assert s.eval() is s
    assert not s.training and not base.training and not base[1].training
    s.train()
    assert s.training and base.training and base[1].training


def test_scripted_function_with_data_dependent_branch_runs_eagerly_and_matches_torch():
    src = textwrap.dedent('''
        def clip_or_double(x):
            if x.sum() > 0:
                return x * 2
            return x - 1
    ''')
    ns_t: dict = {"torch": torch}
    ns_m: dict = {"torch": mt}
    exec(compile(src, "<clip_or_double>", "exec"), ns_t)
    exec(compile(src, "<clip_or_double>", "exec"), ns_m)
    fm = mt.jit.script(ns_m["clip_or_double"])
    assert isinstance(fm, mt.jit.ScriptFunction)
    for v in ([1.0, 2.0], [-3.0, 1.0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fm(mt.tensor(v))
        np.testing.assert_allclose(got.numpy(), (torch.tensor(v) * 2 if sum(v) > 0 else torch.tensor(v) - 1))
    assert fm.num_compiles == 0  # it fell back to eager, as it must

    def affine(x, y):
        return x * 2 + y

    fa = mt.jit.script(affine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fixed-shape function compiles without a warning
        np.testing.assert_allclose(fa(mt.ones(3), mt.ones(3)).numpy(), np.full(3, 3.0))
    assert fa.num_compiles == 1
    assert "def affine(x, y):" in fa.code


def test_script_of_other_objects_like_torch():
    class Plain:
        pass

    assert mt.jit.script(Plain) is Plain
    with pytest.raises(TypeError) as et:
        torch.jit.script(3)
    with pytest.raises(TypeError) as em:
        mt.jit.script(3)
    assert str(em.value) == str(et.value)
    with pytest.raises(RuntimeError, match="is a built-in class"):
        mt.jit.script(int)
    with pytest.raises(RuntimeError, match="cannot script a Plain"):
        mt.jit.script(Plain())


def test_scripted_module_saves_and_loads_without_the_model_code(tmp_path):
    model = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.Tanh(), mt.nn.Linear(4, 2))
    s = mt.jit.script(model)
    with pytest.raises(RuntimeError, match="has not been called yet"):
        s.save(tmp_path / "early.pt")
    x = mt.randn(5, 3)
    want = s(x).detach().numpy()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    path = tmp_path / "model.pt"
    mt.jit.save(s, path)  # torch.jit.save(scripted, f) spelling
    for k, v in model.state_dict().items():
        assert mt.equal(v, before[k])  # saving did not run a step or change a weight
    loaded = mt.jit.load(path)
    np.testing.assert_allclose(loaded(x).numpy(), want, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="expects shape"):
        loaded(mt.randn(5, 4))
    buf = io.BytesIO()
    s.save(buf)
    code = ("import sys, numpy as np, minitorch_jax as mt\n"
            f"f = mt.jit.load({str(path)!r})\n"
            "x = mt.tensor(np.load(sys.argv[1]))\n"
            "np.save(sys.argv[2], f(x).numpy())\n"
            "assert 'torch' not in sys.modules\n")
    np.save(tmp_path / "x.npy", x.numpy())
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")], check=True,
                   timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, rtol=1e-6, atol=1e-6)
    f = mt.jit.script(lambda a: a.exp())
    f(mt.ones(2, 2))
    fbuf = io.BytesIO()
    f.save(fbuf)
    fbuf.seek(0)
    np.testing.assert_allclose(mt.jit.load(fbuf)(mt.zeros(2, 2)).numpy(), np.ones((2, 2)))


def test_freeze_and_optimize_for_inference_match_torch_errors_and_results():
    m, t = _pair()
    for what, fn_m, fn_t in (("freeze", mt.jit.freeze, torch.jit.freeze),
                             ("optimize_for_inference", mt.jit.optimize_for_inference,
                              torch.jit.optimize_for_inference)):
        with pytest.raises(RuntimeError) as et:
            fn_t(t.eval())
        with pytest.raises(RuntimeError) as em:
            fn_m(m.eval())
        assert str(em.value) == str(et.value), what
    with pytest.raises(RuntimeError) as et:
        torch.jit.freeze(torch.jit.script(t.train()))
    with pytest.raises(RuntimeError) as em:
        mt.jit.freeze(mt.jit.script(m.train()))
    assert str(em.value) == str(et.value)
    x = np.ones((2, 3), np.float32)
    fm = mt.jit.freeze(mt.jit.script(m).eval())
    ft = torch.jit.freeze(torch.jit.script(t).eval())
    np.testing.assert_allclose(fm(mt.tensor(x)).numpy(), ft(torch.tensor(x)).numpy(), rtol=1e-6)
    with mt.no_grad():
        m.weight.add_(1.0)  # a frozen module keeps the weights it was frozen with
    np.testing.assert_allclose(fm(mt.tensor(x)).numpy(), ft(torch.tensor(x)).numpy(), rtol=1e-6)
    assert not any(p.requires_grad for p in fm.parameters())
    om = mt.jit.optimize_for_inference(mt.jit.script(m))
    assert isinstance(om, mt.jit.ScriptModule) and not om.training


def test_torchscript_annotations_leave_code_runnable():
    class Attn(mt.nn.Module):
        fused: mt.jit.Final[bool]

        def __init__(self):
            super().__init__()
            self.fused = True
            self.proj = mt.nn.Linear(4, 4)

        @mt.jit.ignore
        def debug(self, x):
            return x.mean().item()

        @mt.jit.unused
        def unused_path(self, x):
            return x

        @mt.jit.export
        def features(self, x):
            return self.proj(x)

        def forward(self, x):
            if not mt.jit.is_scripting() and not mt.jit.is_tracing():
                y = self.features(x)
            else:
                y = self.proj(x)
            return mt.jit.annotate(mt.Tensor, y.relu())

    a = Attn()
    s = mt.jit.script(a)
    x = mt.randn(2, 4)
    np.testing.assert_allclose(s(x).detach().numpy(), a(x).detach().numpy(), rtol=1e-6)
    assert isinstance(s.debug(x), float) and s.features(x).shape == (2, 4)
    assert mt.jit.ignore(drop=True)(len) is len and mt.jit.interface(Attn) is Attn
    assert mt.jit.script_if_tracing(len) is len and mt.jit.Final is typing.Final is torch.jit.Final
    assert not mt.jit.is_scripting() and not torch.jit.is_scripting()


def test_is_tracing_is_true_only_under_trace():
    seen = []

    def f(x):
        seen.append(mt.jit.is_tracing())
        return x + 1

    f(mt.ones(1))
    mt.jit(f)(mt.ones(1))  # like torch.compile: not torch.jit tracing
    mt.jit.trace(f, (mt.ones(1),))
    assert seen[:2] == [False, False] and seen[2:] and all(seen[2:])
    assert not mt.jit.is_tracing()
    traced = mt.jit.trace_module(mt.nn.Linear(2, 2), {"forward": mt.ones(1, 2)})
    assert traced(mt.ones(1, 2)).shape == (1, 2)
    with pytest.raises(ValueError, match="only 'forward'"):
        mt.jit.trace_module(mt.nn.Linear(2, 2), {"forward": mt.ones(1, 2), "other": mt.ones(1, 2)})


@pytest.mark.parametrize("value,tp", [
    ([1, 2], list[int]), ([1, "a"], list[int]), ({"a": 1}, dict[str, int]), ({"a": "b"}, dict[str, int]),
    ((1, "a"), tuple[int, str]), ((1, 2), tuple[int, str]), (None, int | None), (3, int | None),
    ("x", int | None), (None, typing.Optional[int]), ("x", typing.Optional[int]),  # noqa: UP045
    ([[1], [2]], list[list[int]]),
    ([1, 2], typing.List[int]), (3, int), ("a", (int, str)),  # noqa: UP006 - torch accepts typing.List too
])
def test_jit_isinstance_matches_torch(value, tp):
    assert mt.jit.isinstance(value, tp) == torch.jit.isinstance(value, tp)


@pytest.mark.parametrize("tp", [list, dict, tuple, typing.List, typing.Dict, typing.Tuple,  # noqa: UP006
                                typing.Optional])
def test_jit_isinstance_of_a_bare_container_raises_like_torch(tp):
    with pytest.raises(RuntimeError) as et:
        torch.jit.isinstance([1], tp)
    with pytest.raises(RuntimeError) as em:
        mt.jit.isinstance([1], tp)
    assert str(em.value) == str(et.value)


def test_fork_wait_and_knobs_behave_like_torch():
    fm = mt.jit.fork(lambda x, k=1: x + k, mt.ones(2), k=2)
    ft = torch.jit.fork(lambda x, k=1: x + k, torch.ones(2), k=2)
    np.testing.assert_allclose(mt.jit.wait(fm).numpy(), torch.jit.wait(ft).numpy())

    def boom():
        raise ValueError("inside the fork")

    fut = mt.jit.fork(boom)
    with pytest.raises(ValueError, match="inside the fork"):
        mt.jit.wait(fut)
    old_t = torch.jit.set_fusion_strategy([("DYNAMIC", 3)])
    old_m = mt.jit.set_fusion_strategy([("DYNAMIC", 3)])
    assert old_m == old_t
    assert mt.jit.set_fusion_strategy(old_m) == [("DYNAMIC", 3)]
    torch.jit.set_fusion_strategy(old_t)
    with pytest.raises(RuntimeError, match="STATIC"):
        mt.jit.set_fusion_strategy([("FAST", 1)])
    with mt.jit.optimized_execution(False), mt.jit.fuser("fuser2"), mt.jit.strict_fusion():
        assert (mt.ones(1) + 1).item() == 2.0
    with pytest.raises(Exception, match="unrecognized fuser option"):
        with mt.jit.fuser("fuser9"):
            pass
    assert mt.jit.onednn_fusion_enabled() == torch.jit.onednn_fusion_enabled()
    mt.jit.enable_onednn_fusion(True)
    assert mt.jit.onednn_fusion_enabled()
    mt.jit.enable_onednn_fusion(False)
    assert mt.jit.Attribute(3, int) == (3, int) and mt.jit.Attribute(3, int).value == 3
    assert issubclass(mt.jit.TracerWarning, Warning) and issubclass(mt.jit.ScriptWarning, Warning)
    assert issubclass(mt.jit.Error, Exception)
    mt.jit.TracerWarning.ignore_lib_warnings()


@pytest.mark.filterwarnings("default")
def test_deprecated_parts_warn_like_torch():
    m, t = _pair()
    for name, call_m, call_t in (
            ("script", lambda: mt.jit.script(m), lambda: torch.jit.script(t)),
            ("freeze", lambda: mt.jit.freeze(mt.jit.script(m).eval()),
             lambda: torch.jit.freeze(torch.jit.script(t).eval())),
            ("fork", lambda: mt.jit.fork(len, [1]), lambda: torch.jit.fork(len, [1]))):
        with pytest.warns(DeprecationWarning, match=f"`torch.jit.{name}` is deprecated"):
            call_t()
        with pytest.warns(DeprecationWarning, match=f"`mt.jit.{name}` is deprecated") as rec:
            call_m()
        assert rec[0].filename == __file__  # points at the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mt.jit.trace(m, (mt.ones(1, 3),))  # trace/save/load are this library's export path: no warning
        assert not mt.jit.is_scripting()


def test_save_rejects_other_objects():
    with pytest.raises(TypeError, match="mt.jit.trace or mt.jit.script"):
        mt.jit.save(mt.nn.Linear(2, 2), io.BytesIO())


def test_traced_save_method_like_torchs_traced_module(tmp_path):
    model = mt.nn.Sequential(mt.nn.Linear(3, 2), mt.nn.ReLU())
    x = mt.randn(4, 3)
    traced = mt.jit.trace(model, (x,))
    traced.save(tmp_path / "t.pt")
    loaded = mt.jit.load(tmp_path / "t.pt")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).detach().numpy(), rtol=1e-6)
    buf = io.BytesIO()
    loaded.save(buf)  # a loaded program saves again
    buf.seek(0)
    np.testing.assert_allclose(mt.jit.load(buf)(x).numpy(), model(x).detach().numpy(), rtol=1e-6)


def test_scripted_containers_index_and_deepcopy_like_torch():
    m = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.BatchNorm1d(4), mt.nn.ReLU())
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU())
    s, st = mt.jit.script(m), torch.jit.script(t)
    assert len(s) == len(st) == 3 and s[0] is m[0] and [type(c).__name__ for c in s][-1] == "ReLU"
    assert bool(mt.jit.script(mt.nn.Linear(2, 2))) and bool(torch.jit.script(torch.nn.Linear(2, 2)))
    x = mt.randn(5, 3)
    s(x)
    c = copy.deepcopy(s)
    assert isinstance(c, mt.jit.RecursiveScriptModule) and c[0].weight is not m[0].weight
    np.testing.assert_allclose(c(x).detach().numpy(), s(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    with mt.no_grad():
        c[0].weight.zero_()  # the copy has weights of its own
    assert not mt.equal(c[0].weight, m[0].weight)
    assert len(list(s.modules())) == len(list(st.modules()))
