"""mt.jit: whole training steps compiled with automatic state capture, guards, the switch."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
import warnings
from collections import namedtuple

import jax
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn

F = nn.functional


def _model(seed=0):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def _data(n=12, seed=1):
    rng = np.random.default_rng(seed)
    return mt.tensor(rng.standard_normal((n, 6)).astype("float32")), mt.tensor(rng.integers(0, 3, n))


def _make_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _no_tracers(*objs):
    for o in objs:
        for t in (o.parameters() if isinstance(o, nn.Module) else o):
            assert not isinstance(t._data, jax.core.Tracer)
            if t.grad is not None:
                assert not isinstance(t.grad._data, jax.core.Tracer)


# ----- the main promise: a training step, compiled, equals eager ----------------------------
@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_training_step_matches_eager(opt_name):
    kw = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=1e-2), "AdamW": dict(lr=1e-2),
          "RMSprop": dict(lr=1e-2)}[opt_name]
    m_eager, m_jit = _model(), _model()
    o_eager = getattr(mt.optim, opt_name)(m_eager.parameters(), **kw)
    o_jit = getattr(mt.optim, opt_name)(m_jit.parameters(), **kw)
    eager_step = _make_step(m_eager, o_eager)
    jit_step = mt.jit(_make_step(m_jit, o_jit))
    x, y = _data()
    for _ in range(6):
        le = eager_step(x, y)
        lj = jit_step(x, y)
        np.testing.assert_allclose(float(lj), float(le), rtol=1e-5, atol=1e-6)
    for a, b in zip(_params(m_jit), _params(m_eager)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert jit_step.num_compiles == 1
    # the optimizer's lazily created state is visible and equal
    sj, se = o_jit.state_dict()["state"], o_eager.state_dict()["state"]
    for k in se:
        for name, v in se[k].items():
            np.testing.assert_allclose(np.asarray(sj[k][name]._data), np.asarray(v._data), rtol=1e-5,
                                       atol=1e-6)
    # grads are written back like eager ones
    for pj, pe in zip(m_jit.parameters(), m_eager.parameters()):
        np.testing.assert_allclose(pj.grad.numpy(), pe.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_lr_change_takes_effect_without_recompiling():
    m_eager, m_jit = _model(), _model()
    o_eager = mt.optim.SGD(m_eager.parameters(), lr=0.1)
    o_jit = mt.optim.SGD(m_jit.parameters(), lr=0.1)
    sched = mt.optim.lr_scheduler.StepLR(o_jit, step_size=1, gamma=0.5)
    sched_e = mt.optim.lr_scheduler.StepLR(o_eager, step_size=1, gamma=0.5)
    eager_step, jit_step = _make_step(m_eager, o_eager), mt.jit(_make_step(m_jit, o_jit))
    x, y = _data()
    for _ in range(5):
        np.testing.assert_allclose(float(jit_step(x, y)), float(eager_step(x, y)), rtol=1e-5)
        sched.step()
        sched_e.step()
    for a, b in zip(_params(m_jit), _params(m_eager)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert jit_step.num_compiles == 1


def test_dropout_batchnorm_adam_run_matches_eager():
    """The issue's acceptance test: 20 steps with dropout, BatchNorm and Adam from one seed."""
    def build():
        mt.manual_seed(3)
        # no bias before BatchNorm: its gradient is ~0 and Adam would amplify rounding noise
        model = nn.Sequential(nn.Linear(6, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                              nn.Linear(32, 3))
        return model, mt.optim.Adam(model.parameters(), lr=1e-2)

    x, y = _data(16)
    m1, o1 = build()
    mt.manual_seed(11)
    eager_losses = [float(_make_step(m1, o1)(x, y)) for _ in range(20)]
    m2, o2 = build()
    mt.manual_seed(11)
    step = mt.jit(_make_step(m2, o2))
    jit_losses = [float(step(x, y)) for _ in range(20)]
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5, atol=1e-5)
    for a, b in zip(_params(m2), _params(m1)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m2[1].running_mean.numpy(), m1[1].running_mean.numpy(), rtol=1e-4, atol=1e-6)
    assert int(m2[1].num_batches_tracked) == 20
    # eval mode is another program (a guard on training flags), and equals eager eval
    m1.eval()
    m2.eval()
    fwd = mt.jit(lambda x: m2(x))
    np.testing.assert_allclose(fwd(x).detach().numpy(), m1(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_random_draws_differ_per_call_and_follow_the_seed():
    f = mt.jit(lambda x: x + mt.rand(3))
    mt.manual_seed(5)
    a, b = f(mt.zeros(3)).numpy(), f(mt.zeros(3)).numpy()
    assert not np.allclose(a, b)
    mt.manual_seed(5)
    np.testing.assert_array_equal(f(mt.zeros(3)).numpy(), a)
    mt.manual_seed(5)
    e = (mt.zeros(3) + mt.rand(3)).numpy()
    np.testing.assert_array_equal(e, a)


# ----- forms and arguments -----------------------------------------------------------------
def test_decorator_forms():
    @mt.jit
    def f(x):
        return x * 2

    @mt.jit()
    def g(x):
        return x * 3

    h = mt.jit(lambda x: x * 4, donate=False)
    x = mt.ones(2)
    assert f(x).tolist() == [2, 2] and g(x).tolist() == [3, 3] and h(x).tolist() == [4, 4]
    assert isinstance(f, mt.jit.CompiledFunction) and f.eager(x).tolist() == [2, 2]
    m = nn.Linear(2, 2)
    assert mt.compile(m, disable=True) is m
    assert isinstance(mt.jit(m), mt.jit.OptimizedModule) and isinstance(mt.compile(m), nn.Module)
    assert callable(mt.compile()(lambda x: x))


def test_nested_arguments_and_results():
    Pair = namedtuple("Pair", "a b")

    @mt.jit
    def f(d, pair, scale, mode):
        out = {"sum": d["x"] + d["y"][0], "pair": Pair(pair.a * scale, pair.b), "mode": mode}
        return out, [d["y"][1] * 2]

    x = mt.ones(2)
    out, lst = f({"x": x, "y": [x * 2, x * 3]}, Pair(x, x + 1), 2.0, "train")
    assert out["sum"].tolist() == [3, 3] and out["pair"].a.tolist() == [2, 2]
    assert isinstance(out["pair"], Pair) and out["mode"] == "train" and lst[0].tolist() == [6, 6]
    assert f.num_compiles == 1
    f({"x": x, "y": [x, x]}, Pair(x, x), 3.0, "train")
    assert f.num_compiles == 2  # a Python scalar is static: a new value recompiles
    assert "guard failed" in f.explain()


def test_static_argnums():
    f = mt.jit(lambda x, n: x.sum(n), static_argnums=(1,))
    x = mt.ones(2, 3)
    assert f(x, 0).shape == (3,) and f(x, 1).shape == (2,)
    assert f.num_compiles == 2


def test_new_shapes_recompile_and_explain():
    f = mt.jit(lambda x: x.sin())
    f(mt.ones(3))
    f(mt.ones(3))
    f(mt.ones(4))
    assert f.num_compiles == 2
    assert "argument shapes" in f.explain()


def test_training_flag_is_a_guard():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    f = mt.jit(lambda x: m(x))
    x = mt.ones(4, 3)
    m.eval()
    f(x)  # the first call runs eagerly (the parameters have no gradients yet)
    a = f(x).detach().numpy()
    np.testing.assert_allclose(a, m(x).detach().numpy(), rtol=1e-6)
    m.train()
    f(x)
    assert f.num_compiles == 2 and "training flags" in f.explain()


def _train_eval_loop(compiled):
    """A step that calls model.train() itself, with an eval pass (model.eval()) between steps."""
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.3), nn.BatchNorm1d(8), nn.Linear(8, 2))
    crit = nn.CrossEntropyLoss()
    opt = mt.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        model.train()
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = mt.jit(step) if compiled else step
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.normal(size=(16, 4)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 2, 16))
    losses, evals, flags = [], [], []
    for _ in range(5):
        losses.append(step(x, y).item())
        flags.append((model.training, model[1].training, model[2].training))
        model.eval()
        with mt.no_grad():
            evals.append(model(x).sum().item())
    return losses, evals, flags, step


def test_step_calling_model_train_itself_keeps_flags_and_compiles_once():
    le, ee, fe, _ = _train_eval_loop(False)
    lj, ej, fj, step = _train_eval_loop(True)
    np.testing.assert_allclose(lj, le, rtol=1e-5)
    np.testing.assert_allclose(ej, ee, rtol=1e-5)
    assert fj == fe == [(True, True, True)] * 5  # model.train() inside the step is replayed every call
    assert step.num_compiles == 1, step.explain()


def test_training_flag_read_before_it_is_set_stays_a_guard():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))

    def f(x):
        y = m(x)  # reads the flag on entry
        m.train()
        return y
    f = mt.jit(f)
    x = mt.ones(4, 3)
    m.eval()
    f(x)  # runs eagerly (no gradients yet)
    m.eval()
    np.testing.assert_allclose(f(x).detach().numpy(), m[0](x).detach().numpy(), rtol=1e-6)
    assert m.training  # set inside, replayed
    m.eval()
    f(x)
    assert f.num_compiles == 1
    m.train()
    f(x)
    assert f.num_compiles == 2 and "training flags" in f.explain()


def test_cache_size_limit_warns_and_runs_eagerly():
    f = mt.jit(lambda x, k: x * k, cache_size_limit=2)
    x = mt.ones(2)
    f(x, 1)
    f(x, 2)
    with pytest.warns(UserWarning, match="cache_size_limit"):
        assert f(x, 3).tolist() == [3, 3]
    assert f(x, 4).tolist() == [4, 4] and f.num_compiles == 2


# ----- compiled modules: forward compiled, backward through the caller's autograd -------------
def test_compiled_module_gradients_match_eager():
    m = _model()
    cm = mt.compile(m)
    x, y = _data()
    cm(x)  # the first call runs eagerly
    loss = F.cross_entropy(cm(x), y)
    loss.backward()
    g_jit = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    F.cross_entropy(m(x), y).backward()
    for a, p in zip(g_jit, m.parameters()):
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert list(cm.state_dict()) == ["_orig_mod." + k for k in m.state_dict()]
    assert cm.num_compiles == 1 and "forward+backward" in cm.explain()
    xg = mt.ones(2, 6, requires_grad=True)
    cm(xg).sum().backward()
    assert xg.grad is not None and xg.grad.shape == (2, 6)


def test_compiled_forward_refuses_double_backward():
    m = nn.Linear(3, 1)
    cm = mt.jit(m)
    x = mt.ones(2, 3, requires_grad=True)
    cm(x)
    out = cm(x).sum()
    with pytest.raises(RuntimeError, match="double backward"):
        mt.autograd.grad(out, x, create_graph=True)


def test_no_grad_forward_returns_plain_tensors():
    m = nn.Linear(3, 2)
    cm = mt.jit(m)
    with mt.no_grad():
        out = cm(mt.ones(1, 3))
    assert not out.requires_grad


# ----- errors, fallbacks, and never leaking a tracer --------------------------------------------
def test_item_inside_gives_user_location_and_remedy():
    def f(x):
        if x.sum().item() > 0:  # the offending line
            return x
        return -x

    cf = mt.jit(f)
    with pytest.raises(mt.jit.JitError) as e:
        cf(mt.ones(2))
    msg = str(e.value)
    assert "test_jit.py" in msg and "x.sum().item()" in msg
    assert "mt.where" in msg and "fallback='eager'" in msg


def test_bool_of_tensor_inside():
    cf = mt.jit(lambda x: x if x.sum() > 0 else -x)
    with pytest.raises(mt.jit.JitError, match="Python bool"):
        cf(mt.ones(2))


@pytest.mark.parametrize("name,f", [
    ("boolean mask indexing", lambda x, m: x[m].mean()),  # the offending line
    ("masked_select", lambda x, m: x.masked_select(m).sum()),
    ("nonzero", lambda x, m: m.nonzero().float().sum()),
])
def test_data_dependent_shape_inside_names_the_line_and_fixed_shape_remedies(name, f):
    x, m = mt.arange(5.0), mt.tensor([True, False, True, True, False])
    with pytest.raises(mt.jit.JitError) as e:
        mt.jit(f)(x, m)
    msg = str(e.value)
    assert f"{name}" in msg and "depends on the data" in msg and "test_jit.py" in msg
    assert "mt.where(mask, x, 0)" in msg and "(x * mask).sum() / mask.sum()" in msg
    assert "fallback='eager'" in msg
    with pytest.warns(UserWarning, match="eagerly"):  # fallback='eager': the eager result
        assert mt.jit(f, fallback="eager")(x, m).item() == pytest.approx(f(x, m).item())


def test_fallback_eager_warns_once():
    def f(x):
        return x * 2 if float(x.sum()) > 0 else x

    cf = mt.jit(f, fallback="eager")
    with pytest.warns(UserWarning, match="eagerly"):
        assert cf(mt.ones(2)).tolist() == [2, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cf(mt.ones(2)).tolist() == [2, 2]
        assert cf(mt.ones(3)).tolist() == [2, 2, 2]  # other guards: no new trace attempt either
    assert cf.num_compiles == 0 and cf.explain().count("cannot be traced") == 1


def test_exception_during_trace_restores_everything():
    model = _model()
    opt = mt.optim.Adam(model.parameters(), lr=1e-2)
    x, y = _data()
    _make_step(model, opt)(x, y)  # create the optimizer state eagerly
    before = _params(model)
    state_before = {k: np.asarray(v._data).copy() for k,
                    v in opt.state[next(iter(model.parameters()))].items()}
    key_before = np.asarray(mt.default_generator._key).copy()

    def bad_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        mt.rand(2)
        raise ValueError("user bug")

    with pytest.raises(ValueError, match="user bug"):
        mt.jit(bad_step)(x, y)
    _no_tracers(model)
    for a, b in zip(_params(model), before):
        np.testing.assert_array_equal(a, b)
    p0 = next(iter(model.parameters()))
    for k, v in state_before.items():
        np.testing.assert_array_equal(np.asarray(opt.state[p0][k]._data), v)
    np.testing.assert_array_equal(np.asarray(mt.default_generator._key), key_before)
    # everything still works eagerly
    _make_step(model, opt)(x, y)
    mt.rand(2)


def test_lazy_state_discovered_on_first_call():
    model = _model()
    opt = mt.optim.Adam(model.parameters(), lr=1e-2)
    step = mt.jit(_make_step(model, opt))
    x, y = _data()
    step(x, y)
    step(x, y)
    assert "first call: ran eagerly" in step.explain() and step.num_compiles == 1
    assert int(opt.state[next(iter(model.parameters()))]["step"]) == 2
    _no_tracers(model)


def test_state_created_inside_a_trace_is_removed_then_created_eagerly():
    model = _model()
    x, y = _data()
    F.cross_entropy(model(x), y).backward()  # gradients exist, the optimizer state does not
    opt = mt.optim.Adam(model.parameters(), lr=1e-2)
    step = mt.jit(_make_step(model, opt))
    step(x, y)
    assert "state was created during the call" in step.explain() and step.num_compiles == 0
    p0 = next(iter(model.parameters()))
    assert not isinstance(opt.state[p0]["exp_avg"]._data, jax.core.Tracer)
    step(x, y)
    assert step.num_compiles == 1 and int(opt.state[p0]["step"]) == 2
    _no_tracers(model)


def test_escaping_tensor_is_removed_and_call_runs_eagerly():
    box = {}
    f = mt.jit(lambda x: box.__setitem__("kept", x * 2) or x + 1)
    out = f(mt.ones(2))
    assert out.tolist() == [2, 2]
    assert not isinstance(box["kept"]._data, jax.core.Tracer) and box["kept"].tolist() == [2, 2]


# ----- the switch ------------------------------------------------------------------------------
def test_switch_runs_python_eagerly():
    calls = []

    @mt.jit
    def f(x):
        calls.append(1)
        return x + 1

    x = mt.ones(2)
    f(x)
    f(x)
    assert len(calls) == 1  # traced once, then the program runs
    with mt.jit.disable():
        f(x)
        f(x)
        assert not mt.jit.is_enabled()
    assert len(calls) == 3
    mt.jit.set_enabled(False)
    try:
        f(x)
    finally:
        mt.jit.set_enabled(True)
    assert len(calls) == 4 and mt.jit.is_enabled()


def test_stances():
    f = mt.jit(lambda x: x * 2)
    f(mt.ones(2))
    with mt.jit.set_stance("fail_on_recompile"):
        f(mt.ones(2))
        with pytest.raises(mt.jit.RecompileError, match="recompile"):
            f(mt.ones(5))
    with mt.jit.set_stance("eager_on_recompile"):
        assert f(mt.ones(6)).tolist() == [2] * 6
    with mt.jit.set_stance("force_eager"):
        assert not mt.jit.is_enabled()
    assert mt.jit.get_stance() == "default"
    with pytest.raises(ValueError, match="stance"):
        mt.jit.set_stance("sometimes")


def test_environment_variable_switch():
    code = ("import minitorch_jax as mt\n"
            "calls=[]\n"
            "f = mt.jit(lambda x: calls.append(1) or x)\n"
            "f(mt.ones(1)); f(mt.ones(1))\n"
            "print(mt.jit.is_enabled(), len(calls))\n")
    env = dict(os.environ, MINITORCH_JAX_JIT="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "2"], out.stderr


def test_check_mode_catches_a_divergence():
    counter = {"n": 0.0}

    def f(x):
        counter["n"] += 1.0  # a Python side effect: baked into the program at trace time
        return x * counter["n"]

    cf = mt.jit(f, check=True)
    with pytest.raises(mt.jit.JitError, match="output differs"):
        cf(mt.ones(2))


def test_check_mode_passes_a_training_step():
    model = _model()
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = mt.jit(_make_step(model, opt), check=True)
    x, y = _data()
    for _ in range(3):
        step(x, y)


# ----- threads, donation, inspection -----------------------------------------------------------
def test_two_threads_share_one_compiled_step():
    model = _model()
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)
    step = mt.jit(_make_step(model, opt))
    x, y = _data()
    errors = []

    def work():
        try:
            for _ in range(5):
                step(x, y)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert int(opt.state[next(iter(model.parameters()))]["step"]) == 10
    _no_tracers(model)


def test_state_dict_snapshot_survives_donation():
    model = _model()
    opt = mt.optim.SGD(model.parameters(), lr=0.5)
    step = mt.jit(_make_step(model, opt))
    x, y = _data()
    step(x, y)
    snap = copy.deepcopy(model.state_dict())
    snap_values = {k: v.numpy().copy() for k, v in snap.items()}
    step(x, y)
    step(x, y)
    for k, v in snap.items():
        np.testing.assert_array_equal(v.numpy(), snap_values[k])  # still readable, unchanged


def test_tensor_sharing_a_parameters_array_survives_donation():
    # a detached view (state_dict() without deepcopy, p.detach()) shares the parameter's values, as in
    # torch: it stays readable (the step never donates an array someone else holds) and follows the
    # parameter's new values
    model = _model()
    opt = mt.optim.SGD(model.parameters(), lr=0.5)
    step = mt.jit(_make_step(model, opt))
    x, y = _data()
    step(x, y)
    step(x, y)
    step(x, y)
    assert "copied before donation" not in step.explain()  # unshared state is donated as it is
    views = {k: v.detach() for k, v in model.state_dict().items()}
    before = {k: v.numpy().copy() for k, v in views.items()}
    step(x, y)
    step(x, y)
    assert step.num_compiles == 1
    assert "array(s) copied before donation" in step.explain()
    for k, v in views.items():
        np.testing.assert_array_equal(v.numpy(), dict(model.named_parameters())[k].detach().numpy())
    assert not np.array_equal(views["0.weight"].numpy(), before["0.weight"])
    held = model[0].weight.detach().numpy()  # an array read before a step (numpy view) stays valid
    step(x, y)
    assert np.isfinite(held).all()


def test_lower_and_cost_analysis():
    f = mt.jit(lambda a, b: (a @ b).relu().sum())
    a, b = mt.ones(8, 8), mt.ones(8, 8)
    text = f.lower(a, b).as_text()
    assert "func" in text and "dot" in text
    cost = f.cost_analysis(a, b)
    assert cost.get("flops", 0) >= 2 * 8 * 8 * 8 * 0.9


def test_method_decorated_with_jit():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        @mt.jit
        def predict(self, x):
            return self.fc(x).argmax(-1)

    a, b = Net(), Net()
    x = mt.randn(4, 3)
    np.testing.assert_array_equal(a.predict(x).numpy(), a.fc(x).argmax(-1).numpy())
    np.testing.assert_array_equal(b.predict(x).numpy(), b.fc(x).argmax(-1).numpy())


def test_module_compile_in_place():
    m = _model()
    ref = copy.deepcopy(m)
    m.compile()
    x, y = _data()
    for _ in range(3):
        out = m(x)
    np.testing.assert_allclose(out.detach().numpy(), ref(x).detach().numpy(), rtol=1e-6)
    assert m._compiled_call_impl.num_compiles == 1
    F.cross_entropy(m(x), y).backward()
    F.cross_entropy(ref(x), y).backward()
    for a, b in zip(m.parameters(), ref.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert list(m.state_dict()) == list(ref.state_dict())  # no _orig_mod prefix: compiled in place
    c = copy.deepcopy(m)  # copies are plain (uncompiled) modules
    assert "_compiled_call_impl" not in c.__dict__
    np.testing.assert_allclose(c(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_step_sets_grad_of_tensor_arguments_like_eager():
    def make():
        mt.manual_seed(0)
        model = mt.nn.Linear(4, 3)
        return model, mt.optim.SGD(model.parameters(), lr=0.1)

    def body(model, opt):
        def step(x, y, scale, raw):
            opt.zero_grad()
            loss = ((model(x * scale) - y) ** 2).mean() + (x * mt.from_jax(raw)).sum()
            loss.backward()
            opt.step()
            return loss
        return step

    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(4)]
    ys = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(4)]
    raw = jax.numpy.full((5, 4), 0.5, np.float32)  # a raw jax array argument between the tensors
    results = []
    for compiled in (False, True):
        model, opt = make()
        step = mt.jit(body(model, opt)) if compiled else body(model, opt)
        x_acc = mt.zeros(5, 4, requires_grad=True)  # accumulates over steps, as torch would
        grads = []
        for x, y in zip(xs, ys):
            xt = mt.tensor(x, requires_grad=True)
            step(xt, mt.tensor(y), 2.0, raw)
            grads.append(xt.grad.numpy())
            step(x_acc, mt.tensor(y), 2.0, raw)
        results.append((grads, x_acc.grad.numpy(), model.weight.detach().numpy()))
    (g0, a0, w0), (g1, a1, w1) = results
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a0, a1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w0, w1, rtol=1e-5, atol=1e-6)


def test_creation_with_device_inside_compiled_function():
    @mt.jit
    def f(x):
        return x + mt.full((3,), 2.0, device="cpu") + mt.zeros(3, device=x.device)

    assert f(mt.ones(3)).tolist() == [3.0, 3.0, 3.0]
    assert f(mt.ones(3)).tolist() == [3.0, 3.0, 3.0]


def test_unrelated_state_changes_do_not_recompile():
    model = mt.nn.Linear(3, 2)
    opt = mt.optim.Adam(model.parameters(), lr=0.1)

    @mt.jit
    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss

    x = mt.ones(4, 3)
    for _ in range(3):
        step(x)
    assert step.num_compiles == 1
    # elsewhere: a new model and its optimizer's first step (both bump the global state version)
    other = mt.nn.Linear(5, 5)
    other_opt = mt.optim.Adam(other.parameters())
    other(mt.ones(1, 5)).sum().backward()
    other_opt.step()
    step(x)
    assert step.num_compiles == 1, step.explain()
    # a real change of what the step captures still recompiles
    model.extra = mt.nn.Parameter(mt.ones(2))
    step(x)
    assert step.num_compiles == 2, step.explain()


def test_compiled_forward_gradient_reaches_tensor_after_raw_array_argument():
    model = mt.nn.Linear(3, 2)
    f = mt.jit(lambda raw, x: model(x * mt.from_jax(raw)))
    raw = jax.numpy.full((4, 3), 2.0, np.float32)
    for _ in range(3):
        x = mt.ones(4, 3, requires_grad=True)
        f(raw, x).sum().backward()
    expect = (2 * model.weight.sum(0)).detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expect, (4, 3)), rtol=1e-6)
    assert f.num_compiles == 1


@pytest.mark.parametrize("opt_name", ["Adam", "AdamW", "RMSprop"])
def test_float64_training_equals_eager_to_float64_precision(opt_name):
    # hyperparameters enter the program as float64 for float64 state (beta2 = 0.999 in float32 would
    # move Adam's bias correction by ~1e-5 relative)
    runs = []
    for compiled in (False, True):
        model = _model().double()
        opt = getattr(mt.optim, opt_name)(model.parameters(), lr=0.01)
        step = _make_step(model, opt)
        f = mt.jit(step) if compiled else step
        x, y = _data()
        losses = [float(f(x.double(), y)) for _ in range(6)]
        runs.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)
    for a, b in zip(runs[1][1], runs[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


# ----- steps that read, keep or replace the gradients they had before the call -------------------
def _entry(f):
    (entry,) = [e for e in f._cache.values() if not e.eager]
    return entry


def _accumulating_step(model, opt):
    def step(x, y):  # no zero_grad inside: gradients accumulate over calls (zeroed outside every 2nd)
        F.cross_entropy(model(x), y).backward()
        return sum(float(0) + p.grad.abs().sum() for p in model.parameters())
    return step


@pytest.mark.parametrize("kind", ["zero_grad_first", "accumulate", "read_before_zero_grad", "untouched"])
def test_old_gradients_read_kept_or_replaced_match_eager(kind):
    x, y = _data()
    runs = []
    for compiled in (False, True):
        model = _model()
        opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if kind == "zero_grad_first":
            step = _make_step(model, opt)
        elif kind == "accumulate":
            step = _accumulating_step(model, opt)
        elif kind == "read_before_zero_grad":
            def step(x, y, model=model, opt=opt):
                old = next(model.parameters()).grad  # the gradient of the previous call, if any
                return _make_step(model, opt)(x, y) + (0 if old is None else old.sum() * 1e-3)
        else:
            def step(x, y, model=model):  # leaves every .grad as it was
                with mt.no_grad():
                    return model(x).sum()
            F.cross_entropy(model(x), y).backward()
        f = mt.jit(step) if compiled else step
        outs = []
        for i in range(4):
            if kind == "accumulate" and i % 2 == 0:
                opt.zero_grad()
            outs.append(float(f(x, y)))
        runs.append((outs, [p.detach().numpy().copy() for p in model.parameters()],
                     [p.grad.numpy().copy() for p in model.parameters()]))
    (eo, ep, eg), (jo, jp, jg) = runs
    np.testing.assert_allclose(jo, eo, rtol=1e-5)
    for a, b in zip(jp + jg, ep + eg):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_modules_in_default_arguments_are_captured():
    x, y = _data()
    params = []
    for compiled in (False, True):
        model = _model()
        opt = mt.optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, model=model, *, opt=opt):
            return _make_step(model, opt)(x, y)
        f = mt.jit(step) if compiled else step
        for _ in range(3):
            f(x, y)
        params.append([p.detach().numpy().copy() for p in model.parameters()])
    for a, b in zip(*params):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_program_compiles_once_after_an_eager_warm_up_step():
    # the eager first step must not leave committed arrays behind (jax.jit keys its cache on
    # committedness: the program, and every eager kernel the gradients reach, would compile twice)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    opt = mt.optim.Adam(model.parameters())
    f = mt.jit(_make_step(model, opt))
    x, y = _data()
    for _ in range(5):
        f(x, y)
    assert _entry(f).fn._cache_size() == 1
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert not any(p.grad._data.committed or p._data.committed for p in model.parameters())


def test_in_place_changes_to_tensor_arguments_reach_the_caller():
    def step(x, d):
        d["y"].copy_(x * 2)
        x.add_(1)
        x[0] = -1.0
        return x.sum()

    def run(f):
        x, d = mt.ones(3), {"y": mt.zeros(3)}
        outs = [f(x, d).item() for _ in range(3)]
        return outs, x.tolist(), d["y"].tolist(), x._version
    eager = run(step)
    compiled_fn = mt.jit(step)
    compiled = run(compiled_fn)
    assert compiled[:3] == eager[:3] and compiled[3] >= 3
    assert compiled_fn.num_compiles == 1


def test_in_place_relu_on_the_input_of_a_compiled_module():
    mt.manual_seed(0)
    m = mt.nn.Sequential(mt.nn.ReLU(inplace=True), mt.nn.Linear(3, 2))
    cm = mt.jit(m)
    for _ in range(3):
        x = mt.tensor([-1.0, 2.0, -3.0])
        y = cm(x)
        assert x.tolist() == [0.0, 2.0, 0.0]
        np.testing.assert_allclose(y.detach().numpy(), m(mt.tensor([0.0, 2.0, 0.0])).detach().numpy(),
                                   rtol=1e-6)


def test_freezing_a_parameter_between_calls_retraces_and_matches_eager():
    """requires_grad of captured tensors is a guard: a layer frozen (or unfrozen) between calls of a
    compiled step is neither updated nor given a .grad, as eagerly."""

    def run(jit):
        mt.manual_seed(0)
        m = mt.nn.Sequential(mt.nn.Linear(4, 8), mt.nn.ReLU(), mt.nn.Linear(8, 2))
        opt = mt.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = mt.jit(step) if jit else step
        x, y = mt.randn(5, 4), mt.randn(5, 2)
        seen = []
        for i in range(6):
            if i == 2:
                m[0].weight.requires_grad_(False)
            if i == 4:
                m[0].weight.requires_grad_(True)
            loss = f(x, y).item()
            g = m[0].weight.grad
            seen.append((loss, None if g is None else g.sum().item(), m[0].weight.sum().item()))
        return seen, f

    want, _ = run(False)
    got, f = run(True)
    for (lw, gw, ww), (lg, gg, wg) in zip(want, got):
        assert lg == pytest.approx(lw, abs=1e-5) and wg == pytest.approx(ww, abs=1e-5)
        assert (gw is None) == (gg is None) and (gw is None or gg == pytest.approx(gw, abs=1e-5))
    assert "requires_grad of captured tensors changed" in f.explain()


def test_changing_matmul_precision_between_calls_recompiles():
    """The float32 matmul precision is baked into a program's matmuls: changing it is a guard."""
    w = mt.randn(8, 8)

    @mt.jit
    def f(x):
        return x @ w

    x = mt.randn(4, 8)
    before = mt.get_float32_matmul_precision()
    try:
        f(x)
        f(x)
        assert f.num_compiles == 1
        mt.set_float32_matmul_precision("medium")
        f(x)
        assert f.num_compiles == 2
        assert "matmul precision changed" in f.explain()
    finally:
        mt.set_float32_matmul_precision(before)
    f(x)
    assert f.num_compiles == 2  # back to the first program


def _guard_change(kind, model, opt, x):
    """Apply one guard-relevant change between calls (same change to the eager and the compiled run)."""
    if kind == "eval":
        model.eval()
    elif kind == "freeze":
        model[0].weight.requires_grad_(False)
    elif kind == "maximize":
        opt.param_groups[0]["maximize"] = True
    elif kind == "momentum_from_zero":
        opt.param_groups[0]["momentum"] = 0.5
    elif kind == "lr":
        opt.param_groups[0]["lr"] = 0.01
    elif kind == "new_layer":
        model.add_module("extra", nn.Linear(3, 3))
        opt.add_param_group({"params": model.extra.parameters()})
    elif kind == "arg_requires_grad":
        x.requires_grad_(True)
    elif kind == "batch_size":
        return mt.cat([x, x[:3]])
    return x


@pytest.mark.parametrize("kind", ["eval", "freeze", "maximize", "momentum_from_zero", "lr", "new_layer",
                                  "arg_requires_grad", "batch_size"])
def test_every_guard_holds_once_calls_take_the_fast_path(kind):
    """After two cache hits a call checks its guards on a shortcut (plain tensor arguments): each change
    between calls must still retrace (or, for a float hyperparameter, take the new value) and match the
    eager run step for step."""

    def run(jit):
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
        opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.0)
        x, y = _data(8)

        def step(x, y):
            opt.zero_grad()
            out = model(x)
            if "extra" in model._modules:
                out = model.extra(out)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss

        f = mt.jit(step) if jit else step
        seen = []
        for i in range(7):
            if i == 4:
                x = _guard_change(kind, model, opt, x)
                if x.shape[0] != y.shape[0]:
                    y = mt.cat([y, y[:3]])
            seen.append(f(x, y).item())
            g = x.grad
            seen.append(None if g is None else g.sum().item())
        seen += [p.sum().item() for p in model.parameters()]
        seen += [b.sum().item() for b in model.buffers()]
        return seen, f

    want, _ = run(False)
    got, f = run(True)
    assert got == pytest.approx(want, abs=1e-5), f.explain()
    assert f._fast is not None  # the last calls took the shortcut
    if kind == "lr":  # a float hyperparameter is an input of the program, not a guard
        assert f.num_compiles == 1, f.explain()
    else:
        assert f.num_compiles >= 2 and "guard failed" in f.explain(), f.explain()


@pytest.mark.parametrize("cuda", [False, True])
def test_step_donates_what_it_changes_and_on_cuda_not_shared_values(cuda, monkeypatch):
    """Parameters, moments, .grad and the generator key are donated. On CUDA, state of a shape and dtype
    that a value repeated among the outputs has is not: XLA there can hand back a stale donated output
    (jax-ml/jax#39625). ASGD's eta and mu, computed alike for every parameter from the shared step
    counter, are such values, so its 0-d state is kept; elsewhere it is donated too (a changed array passed
    undonated makes the CPU wait for the previous call). The run matches eager either way."""
    from minitorch_jax.jit import _compiled
    from minitorch_jax.jit._compiled import split_state

    monkeypatch.setattr(_compiled, "_on_cuda", lambda cap: cuda)

    def run(jit):
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.Dropout(0.2), nn.Linear(16, 3))
        opt = mt.optim.ASGD(model.parameters(), lr=0.05, t0=2)
        step = _make_step(model, opt)
        f = mt.jit(step) if jit else step
        x, y = _data()
        losses = [f(x, y).item() for _ in range(5)]
        return losses, [v.numpy().copy() for p in model.parameters() for v in opt.state[p].values()], f

    want, sw, _ = run(False)
    got, sg, f = run(True)
    if cuda or jax.default_backend() != "gpu":  # (donating scalars on a GPU is the buggy configuration)
        assert got == pytest.approx(want, abs=1e-6)
        for a, b in zip(sg, sw):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    (entry,) = f._cache.values()
    x, y = _data()
    info = entry.fn.trace(*split_state(entry, f._gather(f._cap)), [x._data, y._data], f._hp(f._cap)).lower()
    donated, kept = info.args_info[0][0], info.args_info[0][1]  # (args_info is (positional, keyword))
    flat_donated = jax.tree_util.tree_leaves(donated)
    flat_kept = jax.tree_util.tree_leaves(kept)
    assert flat_donated and all(a.donated for a in flat_donated)
    assert not any(a.donated for a in flat_kept)
    n_shared = 9  # 4 x (eta, mu) and the step counter, also 0-d
    n_own = 3 * 4 + 1  # (parameter, ax, .grad) x 4, the key
    if cuda:
        assert [a.shape for a in flat_kept] == [()] * n_shared
        assert len(flat_donated) == n_own
    else:
        assert not flat_kept and len(flat_donated) == n_own + n_shared


def test_state_a_call_leaves_alone_is_neither_donated_nor_returned():
    """An inference call changes no state: the parameters keep their very arrays and versions (as a torch
    forward leaves them), the program returns only the output, and the generator key stays put."""
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).eval()
    f = mt.jit(model)
    x = _data()[0]
    with mt.no_grad():
        want = model(x)
        for _ in range(3):
            f(x)
        arrays = [t._data for t in model.state_dict().values()]
        versions = [t._version for t in model.state_dict().values()]
        key = mt.default_generator._key
        got = f(x)
        hlo = f.lower(x).compile().as_text()
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    assert all(a is t._data for a, t in zip(arrays, model.state_dict().values()))
    assert versions == [t._version for t in model.state_dict().values()]
    assert mt.default_generator._key is key
    root = [line for line in hlo[hlo.index("ENTRY"):].split("\n") if "ROOT" in line][0]
    assert "tuple(" not in root, root  # one output: the result


def test_frozen_layer_keeps_its_arrays_while_the_rest_trains_like_eager():
    """A frozen layer inside a compiled step is left alone (same arrays, not donated); the trained layers
    and the optimizer state match the eager run."""
    def run(jit):
        mt.manual_seed(0)
        model = _model()
        model[0].requires_grad_(False)
        opt = mt.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
        step = _make_step(model, opt)
        f = mt.jit(step) if jit else step
        x, y = _data()
        frozen = model[0].weight._data
        losses = [f(x, y).item() for _ in range(4)]
        assert model[0].weight._data is frozen
        return losses, _params(model), f

    want, pw, _ = run(False)
    got, pg, f = run(True)
    assert got == pytest.approx(want, abs=1e-6)
    for a, b in zip(pg, pw):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    (entry,) = f._cache.values()
    keep = entry.split.keep[0]
    assert keep[:2] == (True, True) and not any(keep[2:4])  # frozen weight/bias kept


def test_step_with_zero_grad_last_returns_no_gradients_and_matches_eager():
    """``loss.backward(); opt.step(); opt.zero_grad()``: every .grad is None after a call, as eagerly, so
    the program returns no gradient arrays (a step with zero_grad first must return them all)."""
    from minitorch_jax.jit._compiled import split_state

    def run(jit, last):
        mt.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = mt.optim.Adam(model.parameters(), lr=0.05)

        def step(x, y):
            if not last:
                opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if last:
                opt.zero_grad()
            return loss
        f = mt.jit(step) if jit else step
        x, y = _data()
        losses = [f(x, y).item() for _ in range(4)]
        return losses, model, f, (x, y)

    want, m_eager, _, _ = run(False, True)
    got, m_jit, f, (x, y) = run(True, True)
    assert got == pytest.approx(want, abs=1e-6)
    assert all(p.grad is None for p in m_jit.parameters())
    for a, b in zip(_params(m_jit), _params(m_eager)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for last, n_grads in ((True, 0), (False, 4)):
        _, _, f, (x, y) = run(True, last)
        (entry,) = f._cache.values()
        traced = entry.fn.trace(*split_state(entry, f._gather(f._cap)), [x._data, y._data], f._hp(f._cap))
        assert len(jax.tree_util.tree_leaves(traced.out_info[0][1])) == n_grads, last


def test_gradient_only_step_donates_grads_but_not_parameters():
    """A compiled forward+backward (the optimizer steps eagerly outside) changes .grad alone: the
    parameters are not donated and keep their arrays; the gradients match eager ones."""
    mt.manual_seed(0)
    model = _model()
    x, y = _data()

    def grads_of(x, y):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss

    want = []
    for _ in range(2):
        grads_of(x, y)
        want.append([p.grad.numpy().copy() for p in model.parameters()])
    f = mt.jit(grads_of)
    for _ in range(3):
        w = model[0].weight._data
        f(x, y)
        assert model[0].weight._data is w
        for p, g in zip(model.parameters(), want[-1]):
            np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6, atol=1e-7)
    (entry,) = f._cache.values()
    assert all(entry.split.keep[0]) and not any(entry.split.keep[1])


def test_training_step_is_traced_once():
    """Deciding what to donate costs no second trace for a training step (its Python runs once eagerly,
    to create gradients and moments, then once under the trace)."""
    model = _model()
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    inner = _make_step(model, opt)
    runs = []

    def step(x, y):
        runs.append(1)
        return inner(x, y)

    f = mt.jit(step)
    x, y = _data()
    for _ in range(4):
        f(x, y)
    assert len(runs) == 2 and f.num_compiles == 1, f.explain()


def test_differentiable_forward_copies_nothing_for_donation():
    """A compiled forward whose outputs require grad donates nothing, so arrays shared with a state_dict
    snapshot are passed as they are (no copies; explain() reports none)."""
    model = _model()
    f = mt.jit(model)
    x = _data()[0]
    snapshot = model.state_dict()
    for _ in range(3):
        f(x).sum().backward()
    assert f._compiled._n_copies == 0 and "copied before donation" not in f.explain()
    assert all(a._data is b._data for a, b in zip(snapshot.values(), model.state_dict().values()))
