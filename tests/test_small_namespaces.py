"""Small torch namespaces: utils._pytree, flop_counter, module_tracker, types, signal.windows,
accelerator, mps, xpu, futures, hub, nn.utils.stateless; aliases in nn.init / cuda.amp / random / fft."""

from __future__ import annotations

import collections
import threading
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from tests.oracle import torch

P = mt.utils._pytree
NT = collections.namedtuple("NT", "a b")


def _tree(lib):
    return {"b": [lib.ones(2), (1, None)], "a": NT(2, 3), "c": collections.OrderedDict(z=1, y=2),
            "d": collections.defaultdict(list, {"q": 5}), "e": collections.deque([7, 8], maxlen=3), "f": [],
            "g": ((),)}


# ----- pytree -----------------------------------------------------------------------------------
def test_pytree_flatten_matches_torch():
    import torch.utils._pytree as TP
    lt, st = TP.tree_flatten(_tree(torch))
    lm, sm = P.tree_flatten(_tree(mt))
    assert repr(sm) == repr(st)
    assert [type(x).__name__ for x in lm] == [type(x).__name__ for x in lt]
    assert (sm.num_leaves, sm.num_nodes, sm.num_children) == (st.num_leaves, st.num_nodes, st.num_children)
    back_t = TP.tree_unflatten(range(st.num_leaves), st)
    assert repr(P.tree_unflatten(range(sm.num_leaves), sm)) == repr(back_t)
    paths_t = [TP.keystr(k) for k, _ in TP.tree_flatten_with_path(_tree(torch))[0]]
    assert [P.keystr(k) for k, _ in P.tree_flatten_with_path(_tree(mt))[0]] == paths_t
    assert P.tree_flatten(None) == ([None], P.LeafSpec())  # None is a leaf, as in torch
    assert P.tree_flatten({"b": 1, "a": 2})[0] == [1, 2]  # insertion order, not sorted
    assert P.tree_structure({"b": 1, "a": 2}) != P.tree_structure({"a": 1, "b": 2})
    assert P.tree_structure([1, 2]) == P.tree_structure([3, 4]) != P.tree_structure((3, 4))
    s = {"b": [1, (2, None)], "a": {"q": 1}, "o": collections.OrderedDict(a=1),
         "dd": collections.defaultdict(list, {"a": 1})}
    assert P.treespec_dumps(P.tree_structure(s)) == TP.treespec_dumps(TP.tree_structure(s))
    assert P.treespec_loads(P.treespec_dumps(P.tree_structure(s))) == P.tree_structure(s)
    assert P.treespec_pprint(P.tree_structure({"a": [1, 2], "b": (3,)})) == "{'a': [*, *], 'b': (*,)}"


def test_pytree_map_and_predicates():
    x = mt.ones(2)
    assert P.tree_map(lambda a, b: a + b, {"a": 1, "b": 2}, {"b": 10, "a": 20}) == {"a": 21, "b": 12}
    out = P.tree_map_only(mt.Tensor, lambda t: t * 10, [1, 2.0, x])
    assert out[:2] == [1, 2.0] and out[2].tolist() == [10.0, 10.0]
    assert P.tree_map_only((int, float), lambda a: -a, [1, 2.0, None]) == [-1, -2.0, None]
    assert not P.tree_all(lambda a: a is not None, [1, None]) and P.tree_any(lambda a: a is None, [1, None])
    assert not P.tree_any_only(int, lambda a: a > 2, [1, 3.0])
    assert P.tree_all_only(int, lambda a: a > 0, [1, -3.0])
    assert P.tree_leaves([1, [2, {"k": 3}]], is_leaf=lambda t: isinstance(t, dict)) == [1, 2, {"k": 3}]
    assert P.tree_is_leaf(None) and P.tree_is_leaf(x) and not P.tree_is_leaf([])


@pytest.mark.parametrize("call, msg", [
    (lambda: P.tree_map(lambda a, b: a, [1, 2], [1]), "Node arity mismatch; expected 2, but got 1."),
    (lambda: P.tree_map(lambda a, b: a, [1, 2], (1, 2)), "Node type mismatch; expected <class 'list'>"),
    (lambda: P.tree_map(lambda a, b: a, {"a": 1}, {"b": 1}), "Node keys mismatch; missing key(s): {'a'}"),
    (lambda: P.tree_unflatten([1], P.tree_structure([1, 2])), "`leaves` has length 1 but the spec refers"),
])
def test_pytree_errors(call, msg):
    with pytest.raises(ValueError) as e:
        call()
    assert msg in str(e.value)


def test_pytree_register_custom_node():
    class Pair:
        def __init__(self, x, y):
            self.x, self.y = x, y

    P.register_pytree_node(Pair, lambda p: ([p.x, p.y], None), lambda v, c: Pair(*v),
                           serialized_type_name="test.Pair")
    try:
        leaves, spec = P.tree_flatten([Pair(1, mt.ones(1)), 3])
        assert leaves[0] == 1 and leaves[2] == 3 and spec.num_leaves == 3
        back = P.tree_unflatten([5, 6, 7], spec)
        assert isinstance(back[0], Pair) and (back[0].x, back[0].y, back[1]) == (5, 6, 7)
        assert P.treespec_loads(P.treespec_dumps(spec)) == spec
        with pytest.raises(ValueError, match="already registered"):
            P.register_pytree_node(Pair, lambda p: ([], None), lambda v, c: Pair(0, 0))
    finally:
        del P.SUPPORTED_NODES[Pair], P._SERIALIZED["test.Pair"]


def test_pytree_inside_jit():
    @mt.jit
    def f(tree):
        return P.tree_map(lambda t: t * 2, tree)
    out = f({"a": mt.ones(2), "b": [mt.zeros(1)]})
    assert out["a"].tolist() == [2.0, 2.0] and out["b"][0].tolist() == [0.0]


# ----- flop counter / module tracker ------------------------------------------------------------
def _flops(lib, build, xshape, rg, bw):
    from importlib import import_module
    mode = import_module(lib.__name__ + ".utils.flop_counter").FlopCounterMode
    lib.manual_seed(0)
    m = build(lib.nn)
    x = lib.randn(*xshape, requires_grad=rg)
    with mode(display=False) as f:
        y = m(x)
        if bw:
            y.sum().backward()
    return {k: {str(a): b for a, b in v.items()} for k, v in f.get_flop_counts().items()}, f.get_total_flops()


@pytest.mark.parametrize("build, xshape, rg, bw", [
    (lambda nn: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3, bias=False)), (2, 5, 4), True,
     True),
    (lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
                              nn.Conv2d(4, 2, (2, 3), groups=2)), (2, 3, 9, 9), False, False),
    (lambda nn: nn.Sequential(nn.Conv2d(4, 6, 3, groups=2, padding=1), nn.ConvTranspose2d(6, 4, 3, stride=2)),
     (2, 4, 5, 5), True, True),
])
def test_flop_counter_matches_torch(build, xshape, rg, bw):
    assert _flops(mt, build, xshape, rg, bw) == _flops(torch, build, xshape, rg, bw)


def test_flop_counter_table_and_formulas(capsys):
    from minitorch_jax.utils import flop_counter as fc
    m = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.Sequential(mt.nn.Linear(8, 3)))
    assert "Sequential.0" not in fc.FlopCounterMode(display=False).get_table()
    with fc.FlopCounterMode(depth=2) as f:
        m(mt.randn(5, 4))
    table = capsys.readouterr().out
    assert f.get_total_flops() == 2 * 5 * 4 * 8 + 2 * 5 * 8 * 3
    assert "Global" in table and " - aten.addmm" in table and "Sequential.0" in table
    assert "Sequential.1.0" not in table  # deeper than depth=2
    with fc.FlopCounterMode(display=False, custom_mapping={"aten.addmm": lambda *a, **k: 7}) as f:
        m(mt.randn(5, 4))
    assert f.get_flop_counts()["Global"] == {"aten.addmm": 14}
    assert fc.conv_flop_count((2, 4, 5, 5), (6, 2, 3, 3), (2, 6, 5, 5)) == 10800
    q, k, v = mt.randn(2, 3, 4, 6), mt.randn(2, 3, 5, 6), mt.randn(2, 3, 5, 7)
    assert fc._plan("scaled_dot_product_attention", (q, k, v), (), None)[0][1] == 2 * 6 * 4 * 5 * (6 + 7)


def test_module_tracker_parents():
    from minitorch_jax.utils.module_tracker import ModuleTracker
    m = mt.nn.Sequential(mt.nn.Linear(2, 3), mt.nn.Sequential(mt.nn.ReLU(), mt.nn.Linear(3, 1)))
    log = []
    with ModuleTracker() as t:
        for sub in m.modules():
            sub.register_forward_pre_hook(lambda mod, a: log.append((sorted(t.parents), t.is_bw)))
        out = m(mt.randn(2, 2, requires_grad=True))
        out.register_hook(lambda g: log.append((sorted(t.parents), t.is_bw)))
        out.sum().backward()
        assert t.parents == {"Global"}
    assert log[0] == (["Global", "Sequential"], False)
    assert log[4] == (["Global", "Sequential", "Sequential.1", "Sequential.1.1"], False)
    assert log[5] == (["Global", "Sequential", "Sequential.1", "Sequential.1.1"], True)


# ----- types, signal.windows --------------------------------------------------------------------
def test_types_names():
    import typing
    assert set(mt.types.__all__) == {"Number", "Device", "FileLike", "Storage"}
    assert set(typing.get_args(mt.types.Number)) == {int, float, bool}
    assert mt.device in typing.get_args(mt.types.Device) and type(None) in typing.get_args(mt.types.Device)
    assert mt.Size in typing.get_args(mt.types._size)


@pytest.mark.parametrize("name", ["bartlett", "blackman", "cosine", "exponential", "gaussian",
                                  "general_cosine",
                                  "general_hamming", "hamming", "hann", "kaiser", "nuttall"])
def test_windows_match_torch(name):
    tw, mw = getattr(torch.signal.windows, name), getattr(mt.signal.windows, name)
    for M in (0, 1, 2, 7, 10):
        for sym in (True, False):
            for dt in ("float32", "float64"):
                kw = {"a": [0.5, 0.3, 0.2]} if name == "general_cosine" else {}
                if name == "exponential" and not sym:
                    kw = {"center": 2.0, "tau": 1.5}
                extra = {"std": 2.0} if name == "gaussian" else {"beta": 5.0} if name == "kaiser" else {}
                t = tw(M, sym=sym, dtype=getattr(torch, dt), **kw, **extra)
                m = mw(M, sym=sym, dtype=getattr(mt, dt), **kw, **extra)
                assert str(m.dtype).endswith(dt)
                np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"{M} {sym}")
    assert mw(3, **({"a": [1.0]} if name == "general_cosine" else {}), requires_grad=True).requires_grad


@pytest.mark.parametrize("call, exc, msg", [
    (lambda W, t: W.hann(-1), ValueError, "general_cosine requires non-negative window length, got M=-1"),
    (lambda W, t: W.bartlett(3, dtype=t.int32), ValueError, "bartlett expects float32 or float64 dtypes"),
    (lambda W, t: W.exponential(3, center=1.0), ValueError, "Center must be None for symmetric windows"),
    (lambda W, t: W.gaussian(3, std=0), ValueError, "Standard deviation must be positive, got: 0 instead."),
    (lambda W, t: W.kaiser(3, beta=-1), ValueError, "beta must be non-negative, got: -1 instead."),
    (lambda W, t: W.general_cosine(3, a=[]), ValueError, "Coefficients cannot be empty"),
    (lambda W, t: W.general_cosine(3, a=1.0), TypeError, "Coefficients must be a list/tuple"),
])
def test_window_errors_match_torch(call, exc, msg):
    for W, lib in ((torch.signal.windows, torch), (mt.signal.windows, mt)):
        with pytest.raises(exc, match=msg.replace("(", r"\(")):
            call(W, lib)


def test_window_inside_jit():
    @mt.jit
    def f(x):
        return x * mt.signal.windows.hann(4, sym=False)
    np.testing.assert_allclose(f(mt.ones(4)).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-6)


# ----- accelerator, mps, xpu --------------------------------------------------------------------
def test_accelerator_cpu_only():
    if mt.cuda.is_available():
        assert mt.accelerator.current_accelerator() == mt.device("cuda")
        assert mt.accelerator.device_count() == mt.cuda.device_count()
        return
    assert mt.accelerator.current_accelerator() is None and not mt.accelerator.is_available()
    assert mt.accelerator.device_count() == 0
    acc = mt.accelerator
    for f in (acc.current_device_index, acc.synchronize, acc.memory_allocated, acc.current_stream,
              acc.empty_cache, lambda: acc.set_device_index(0)):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            f()
    with mt.accelerator.device_index(None):
        pass
    assert set(mt.accelerator.__all__) == set(torch.accelerator.__all__)


def test_mps_and_xpu_absent():
    assert not mt.mps.is_available() and mt.mps.device_count() == 0 and mt.mps.manual_seed(0) is None
    with pytest.raises(RuntimeError, match=r"Cannot execute deviceSynchronize\(\) without MPS backend."):
        mt.mps.synchronize()
    assert not mt.xpu.is_available() and mt.xpu.device_count() == 0 and mt.xpu.memory_allocated() == 0
    assert mt.xpu.get_arch_list() == [] and mt.xpu.memory_stats() == {} and not mt.xpu.is_bf16_supported()
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        mt.xpu.current_device()
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        mt.xpu.Stream()
    assert set(mt.xpu.__all__) == set(torch.xpu.__all__)
    assert set(mt.mps.__all__) == set(torch.mps.__all__)
    for mod in (mt.mps, mt.xpu, mt.accelerator):
        assert all(hasattr(mod, n) for n in mod.__all__)


# ----- futures ----------------------------------------------------------------------------------
def test_future_then_wait_value():
    f = mt.futures.Future()
    g = f.then(lambda fut: fut.wait() + 1)
    assert not f.done()
    with pytest.raises(RuntimeError):
        f.value()
    threading.Timer(0.01, f.set_result, (3,)).start()
    assert g.wait() == 4 and f.value() == 3 and f.done()
    with pytest.raises(RuntimeError, match="Attempting to mark a completed Future as complete again"):
        f.set_result(4)
    h = mt.futures.Future()
    h.set_exception(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        h.wait()
    with pytest.raises(AssertionError, match="is of type <class 'int'>, not an Exception"):
        mt.futures.Future().set_exception(5)
    bad = mt.futures.Future()
    chained = bad.then(lambda fut: 1 / 0)
    bad.set_result(1)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        chained.wait()
    seen = []
    u = mt.futures.Future()
    u.add_done_callback(lambda fut: seen.append(fut.value()))
    u.set_result(9)
    assert seen == [9]


def test_collect_and_wait_all():
    a, b = mt.futures.Future(), mt.futures.Future()
    c = mt.futures.collect_all([a, b])
    a.set_result(1)
    assert not c.done()
    b.set_result(2)
    assert [x.wait() for x in c.wait()] == [1, 2] and mt.futures.wait_all([a, b]) == [1, 2]
    e = mt.futures.Future()
    e.set_exception(RuntimeError("x"))
    with pytest.raises(RuntimeError, match="x"):
        mt.futures.wait_all([a, e])


# ----- hub --------------------------------------------------------------------------------------
def test_hub_local(tmp_path):
    (tmp_path / "hubconf.py").write_text(
        "dependencies = ['numpy']\n"
        "def mymodel(scale=1):\n    '''Docstring of mymodel.'''\n    return ('model', scale)\n"
        "def _private():\n    pass\nhelper = 3\n")
    assert mt.hub.load(str(tmp_path), "mymodel", scale=2, source="local") == ("model", 2)
    assert mt.hub.list(str(tmp_path)) == ["mymodel"]
    assert mt.hub.help(str(tmp_path), "mymodel") == "Docstring of mymodel."
    with pytest.raises(RuntimeError, match="Cannot find callable helper in hubconf"):
        mt.hub.load(str(tmp_path), "helper", source="local")
    with pytest.raises(ValueError, match='Unknown source: "bad"'):
        mt.hub.load(str(tmp_path), "mymodel", source="bad")
    with pytest.raises(RuntimeError, match="does not download"):
        mt.hub.load("pytorch/vision", "resnet18")
    with pytest.raises(RuntimeError, match="does not download"):
        mt.hub.download_url_to_file("https://example.com/x.pt", str(tmp_path / "x.pt"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "hubconf.py").write_text("dependencies = ['no_such_pkg_xyz']\n"
                                                  "def m():\n    return 1\n")
    with pytest.raises(RuntimeError, match="Missing dependencies: no_such_pkg_xyz"):
        mt.hub.load(str(tmp_path / "bad"), "m", source="local")


def test_hub_dirs_and_state_dict(tmp_path):
    old = mt.hub._HUB_DIR[0]
    try:
        mt.hub.set_dir(tmp_path / "hub")
        assert mt.hub.get_dir() == str(tmp_path / "hub")
        src = tmp_path / "w.pt"
        mt.save({"w": mt.ones(2)}, str(src))
        sd = mt.hub.load_state_dict_from_url(src.as_uri())
        assert sd["w"].tolist() == [1.0, 1.0]
        assert (tmp_path / "hub" / "checkpoints" / "w.pt").exists()
        sd = mt.hub.load_state_dict_from_url("https://example.com/w.pt")  # cached now: no download
        assert sd["w"].tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="not in the hub cache"):
            mt.hub.load_state_dict_from_url("https://example.com/other.pt")
    finally:
        mt.hub._HUB_DIR[0] = old


# ----- stateless, deprecated aliases ------------------------------------------------------------
def test_stateless_functional_call_warns():
    lin = mt.nn.Linear(2, 2)
    with pytest.warns(FutureWarning, match="torch.nn.utils.stateless.functional_call` is deprecated"):
        out = mt.nn.utils.stateless.functional_call(lin, {"weight": mt.zeros(2, 2), "bias": mt.ones(2)},
                                                    (mt.ones(1, 2),))
    assert out.tolist() == [[1.0, 1.0]]


def test_deprecated_aliases():
    t = mt.empty(3, 3)
    for name in ("eye", "dirac", "sparse", "uniform"):
        assert name in mt.nn.init.__all__
    with pytest.warns(FutureWarning, match="`nn.init.eye` is now deprecated in favor of `nn.init.eye_`."):
        mt.nn.init.eye(t)
    assert t.tolist() == np.eye(3).tolist()
    with pytest.warns(FutureWarning, match="nn.init.dirac_"), pytest.raises(ValueError):
        mt.nn.init.dirac(mt.empty(2))  # the warning comes first, then dirac_'s own check
    with pytest.warns(FutureWarning, match="nn.init.sparse_"), pytest.raises(ValueError):
        mt.nn.init.sparse(mt.empty(2), 0.5)
    assert set(torch.nn.init.__all__) <= set(mt.nn.init.__all__)
    assert mt.random.thread_safe_generator() is None and "thread_safe_generator" in mt.random.__all__
    assert mt.fft.Tensor is mt.Tensor and set(torch.fft.__all__) <= set(mt.fft.__all__)
    assert set(torch.cuda.amp.__all__) <= set(mt.cuda.amp.__all__)
    assert mt.cuda.amp.amp_definitely_not_available() == (not mt.cuda.is_available())
    with pytest.warns(FutureWarning, match="torch.cuda.amp.custom_fwd"):
        fwd = mt.cuda.amp.custom_fwd(lambda ctx, x: x * 2)
    with pytest.warns(FutureWarning, match="torch.cuda.amp.custom_bwd"):
        bwd = mt.cuda.amp.custom_bwd(lambda ctx, g: g)

    class Ctx:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fwd(Ctx(), 3) == 6 and bwd(Ctx(), 5) == 5
