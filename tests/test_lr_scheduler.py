"""mt.optim.lr_scheduler against torch.optim.lr_scheduler: lr (and momentum) sequences over 100 steps,
state_dict round trips (also across the two libraries), warnings and argument errors.

The schedulers only need a torch-shaped optimizer, so they run here on ``FakeOptimizer`` (and on
``mt.optim.SGD``/``Adam`` when those exist), while torch runs on its own SGD/Adam.
"""

from __future__ import annotations

import copy
import math
import warnings

import pytest

import minitorch_jax.optim.lr_scheduler as M

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler

LRS = (0.1, 0.025)
N = 100


class FakeOptimizer:
    """The smallest torch-style optimizer: ``defaults``, ``param_groups`` and ``step``."""

    def __init__(self, kind="sgd", lrs=LRS):
        if kind == "sgd":
            self.defaults = {"lr": lrs[0], "momentum": 0.9, "dampening": 0, "weight_decay": 0.0}
        else:
            self.defaults = {"lr": lrs[0], "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}
        self.param_groups = [dict(self.defaults, params=[], lr=lr) for lr in lrs]
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return None if closure is None else closure()


def torch_optimizer(kind="sgd", lrs=LRS):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    return torch.optim.Adam(groups, lr=lrs[0])


def make_optimizer(lib, kind):
    return torch_optimizer(kind) if lib is T else FakeOptimizer(kind)


def f_exp(e):
    return 0.97 ** e


def f_saw(e):
    return 1.0 / (1 + e % 7)


def f_const(e):
    return 0.95


def f_scale(x):
    return 1.0 / (1.0 + 0.05 * x)


def metric(i):
    """A loss curve: falls, plateaus with small noise, falls again, plateaus."""
    if i < 25:
        return 1.0 / (1 + i)
    if i < 60:
        return 0.04 + 0.001 * ((i * 7) % 5)
    return 0.02 + 0.0005 * ((i * 3) % 4)


# (id, optimizer kind, builder(lib, opt) -> scheduler); the builders name only the public API
CASES = [
    ("lambda", "sgd", lambda L, o: L.LambdaLR(o, f_exp)),
    ("lambda_list", "sgd", lambda L, o: L.LambdaLR(o, [f_exp, f_saw])),
    ("multiplicative", "sgd", lambda L, o: L.MultiplicativeLR(o, f_const)),
    ("multiplicative_list", "sgd", lambda L, o: L.MultiplicativeLR(o, [f_const, f_saw])),
    ("step", "sgd", lambda L, o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("multistep", "sgd", lambda L, o: L.MultiStepLR(o, [10, 30, 30, 80], gamma=0.3)),
    ("constant", "sgd", lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=20)),
    ("constant_default", "sgd", lambda L, o: L.ConstantLR(o)),
    ("linear", "sgd", lambda L, o: L.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40)),
    ("linear_down", "sgd", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=70)),
    ("exponential", "sgd", lambda L, o: L.ExponentialLR(o, gamma=0.96)),
    ("polynomial", "sgd", lambda L, o: L.PolynomialLR(o, total_iters=60, power=2.0)),
    ("polynomial_default", "sgd", lambda L, o: L.PolynomialLR(o)),
    ("cosine", "sgd", lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.001)),
    ("cosine_zero_min", "sgd", lambda L, o: L.CosineAnnealingLR(o, T_max=17)),
    ("warm_restarts", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1e-4)),
    ("warm_restarts_mult", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    ("cyclic", "sgd", lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05],
                                              step_size_up=9, step_size_down=5)),
    ("cyclic_tri2", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="triangular2",
                                                   base_momentum=[0.7, 0.8], max_momentum=0.95)),
    ("cyclic_exp", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=8, mode="exp_range",
                                                  gamma=0.97)),
    ("cyclic_scale_fn", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=f_scale,
                                                       scale_mode="iterations")),
    ("cyclic_scale_fn_cycle", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=f_scale)),
    ("cyclic_betas", "adam", lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=10)),
    ("cyclic_no_momentum", "adam", lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=4,
                                                           cycle_momentum=False)),
    ("onecycle", "sgd", lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=N)),
    ("onecycle_linear", "sgd", lambda L, o: L.OneCycleLR(o, 0.3, total_steps=N + 20, anneal_strategy="linear",
                                                         pct_start=0.25, div_factor=10.0)),
    ("onecycle_three_phase", "sgd", lambda L, o: L.OneCycleLR(o, 0.3, epochs=10, steps_per_epoch=10,
                                                              three_phase=True, final_div_factor=100.0)),
    ("onecycle_betas", "adam", lambda L, o: L.OneCycleLR(o, 0.01, total_steps=N, base_momentum=[0.8, 0.85],
                                                         max_momentum=0.92)),
    ("onecycle_no_momentum", "adam", lambda L, o: L.OneCycleLR(o, 0.01, total_steps=N, cycle_momentum=False)),
    ("plateau", "sgd", lambda L, o: L.ReduceLROnPlateau(o, factor=0.5, patience=3)),
    ("plateau_cooldown_minlr", "sgd", lambda L, o: L.ReduceLROnPlateau(
        o, factor=0.3, patience=2, cooldown=3, min_lr=[0.002, 0.001])),
    ("plateau_max_abs", "sgd", lambda L, o: L.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=1, threshold=1e-3, threshold_mode="abs", min_lr=1e-3)),
    ("plateau_max_rel_eps", "sgd", lambda L, o: L.ReduceLROnPlateau(
        o, mode="max", factor=0.7, patience=0, threshold=0.01, eps=0.005)),
    ("plateau_min_abs", "sgd", lambda L, o: L.ReduceLROnPlateau(o, threshold=0.002, threshold_mode="abs",
                                                                patience=4)),
    ("sequential", "sgd", lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=10), L.CosineAnnealingLR(o, T_max=50)],
        milestones=[10])),
    ("sequential3", "sgd", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5, total_iters=4), L.ExponentialLR(o, 0.9), L.StepLR(o, 5, 0.5)],
        milestones=[8, 40])),
    ("chained", "sgd", lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=10),
                                                        L.ExponentialLR(o, 0.97)])),
    ("chained_opt", "sgd", lambda L, o: L.ChainedScheduler(
        [L.LinearLR(o, 0.3, total_iters=12), L.MultiStepLR(o, [20, 50], 0.5)], optimizer=o)),
    ("sequential_nested", "sgd", lambda L, o: L.SequentialLR(
        o, [L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=6), L.ExponentialLR(o, 0.95)]),
            L.CosineAnnealingLR(o, T_max=20)], milestones=[15])),
]
CASE_IDS = [c[0] for c in CASES]
CASE = {c[0]: c for c in CASES}


def is_plateau(name):
    return name.startswith("plateau")


def snapshot(opt, sched):
    groups = [(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in opt.param_groups]
    return list(sched.get_last_lr()), groups


def advance(opt, sched, name, start, stop, trace):
    for i in range(start, stop):
        opt.step()
        if is_plateau(name):
            sched.step(metric(i))
        else:
            sched.step()
        trace.append(snapshot(opt, sched))


def run(lib, name, n=N, opt=None):
    _, kind, build = CASE[name]
    opt = make_optimizer(lib, kind) if opt is None else opt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = build(lib, opt)
        trace = [snapshot(opt, sched)]
        advance(opt, sched, name, 0, n, trace)
    return trace, [str(w.message)[:50] for w in caught], opt, sched


def assert_same(a, b, rel=1e-12):
    """Nested lists/tuples of floats equal to ``rel`` (exactly equal where not floats)."""
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y, rel)
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=rel, abs_tol=0.0), (a, b)
    else:
        assert a == b, (a, b)


def plain_groups(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def restore_groups(opt, saved):
    """What ``optimizer.load_state_dict`` does to the hyperparameters of the groups."""
    for g, s in zip(opt.param_groups, saved):
        g.update(copy.deepcopy(s))


# ---------------------------------------------------------------------------------------------
# sequences
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASE_IDS)
def test_sequence_matches_torch(name):
    mine, mine_warn, _, _ = run(M, name)
    ref, ref_warn, _, _ = run(T, name)
    assert_same(mine, ref)
    assert mine_warn == ref_warn


@pytest.mark.parametrize("name", ["step", "multistep", "constant", "linear", "exponential", "polynomial",
                                  "cosine", "lambda", "multiplicative", "cyclic", "onecycle"])
def test_explicit_epoch_matches_torch(name):
    """``step(epoch)`` (deprecated) uses the closed form where torch has one."""
    epochs = [1, 2, 3, 7, 5, 14, 15, 29, 30, 31, 45, 60, 61, 2, 90]
    traces = []
    for lib in (M, T):
        opt = make_optimizer(lib, CASE[name][1])
        sched = CASE[name][2](lib, opt)
        trace = []
        for e in epochs:
            opt.step()
            with pytest.warns(UserWarning, match="epoch parameter"):
                sched.step(e)
            trace.append(snapshot(opt, sched))
        traces.append(trace)
    assert_same(*traces)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs(T_mult):
    traces = []
    for lib in (M, T):
        opt = make_optimizer(lib, "sgd")
        sched = lib.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult, eta_min=0.001)
        trace = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(12):
                for i in range(8):
                    opt.step()
                    sched.step(epoch + i / 8)
                    trace.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        traces.append(trace)
    assert_same(*traces)


def test_get_last_lr_is_group_lr_copy():
    opt = FakeOptimizer()
    sched = M.ExponentialLR(opt, 0.5)
    assert sched.get_last_lr() == list(LRS)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    opt.step()
    sched.step()
    last = sched.get_last_lr()
    assert last == [0.05, 0.0125] == [g["lr"] for g in opt.param_groups]
    last[0] = 123.0  # a copy: changing it does not change the optimizer
    assert opt.param_groups[0]["lr"] == 0.05
    assert sched.base_lrs == list(LRS) and sched.last_epoch == 1


def test_external_lr_change_is_followed():
    """Chainable forms continue from an lr set by hand, like torch's."""
    traces = []
    for lib in (M, T):
        opt = make_optimizer(lib, "sgd")
        sched = lib.CosineAnnealingLR(opt, T_max=20)
        trace = []
        for i in range(30):
            if i == 7:
                opt.param_groups[0]["lr"] = 0.5
            opt.step()
            sched.step()
            trace.append(sched.get_last_lr())
        traces.append(trace)
    assert_same(*traces)


# ---------------------------------------------------------------------------------------------
# state_dict
# ---------------------------------------------------------------------------------------------
K = 37


@pytest.mark.parametrize("name", CASE_IDS)
def test_state_dict_round_trip(name):
    _, kind, build = CASE[name]
    full, _, _, _ = run(M, name)
    part, _, opt, sched = run(M, name, n=K)
    state = copy.deepcopy(sched.state_dict())
    assert "optimizer" not in state
    saved_groups = copy.deepcopy(plain_groups(opt))
    opt2 = FakeOptimizer(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched2 = build(M, opt2)
    restore_groups(opt2, saved_groups)
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == sched.get_last_lr()
    trace = [snapshot(opt2, sched2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a restored scheduler does not warn about step order
        advance(opt2, sched2, name, K, N, trace)
    assert_same(trace, full[K:], rel=0.0)


@pytest.mark.parametrize("name", CASE_IDS)
def test_load_torch_state_dict(name):
    """A torch scheduler's state_dict (plus its optimizer's groups) resumes here, and the other way round."""
    _, kind, build = CASE[name]
    ref_full, _, _, _ = run(T, name)
    _, _, topt, tsched = run(T, name, n=K)
    _, _, mopt, msched = run(M, name, n=K)
    for src_opt, src_sched, lib in ((topt, tsched, M), (mopt, msched, T)):
        opt = make_optimizer(lib, kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = build(lib, opt)
        restore_groups(opt, plain_groups(src_opt))
        sched.load_state_dict(copy.deepcopy(src_sched.state_dict()))
        trace = [snapshot(opt, sched)]
        advance(opt, sched, name, K, N, trace)
        assert_same(trace, ref_full[K:])


def test_lambda_state_dict_keeps_callable_object_state():
    class Decay:
        def __init__(self):
            self.rate = 0.9

        def __call__(self, e):
            return self.rate ** e

    opt = FakeOptimizer()
    fn = Decay()
    sched = M.LambdaLR(opt, [fn, f_exp])
    fn.rate = 0.5
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    fn2 = Decay()
    sched2 = M.LambdaLR(FakeOptimizer(), [fn2, f_exp])
    sched2.load_state_dict(state)
    assert fn2.rate == 0.5 and "lr_lambdas" in state


# ---------------------------------------------------------------------------------------------
# resuming with last_epoch >= 0
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["step", "cosine", "exponential", "linear", "warm_restarts", "cyclic"])
def test_resume_with_last_epoch(name):
    builders = {
        "step": lambda L, o, e: L.StepLR(o, 7, 0.5, last_epoch=e),
        "cosine": lambda L, o, e: L.CosineAnnealingLR(o, 30, 0.001, last_epoch=e),
        "exponential": lambda L, o, e: L.ExponentialLR(o, 0.9, last_epoch=e),
        "linear": lambda L, o, e: L.LinearLR(o, 0.2, total_iters=30, last_epoch=e),
        "warm_restarts": lambda L, o, e: L.CosineAnnealingWarmRestarts(o, 7, last_epoch=e),
        "cyclic": lambda L, o, e: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, last_epoch=e),
    }
    traces = []
    for lib in (M, T):
        opt = make_optimizer(lib, "sgd")
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
            g["base_momentum"], g["max_momentum"] = 0.8, 0.9
        sched = builders[name](lib, opt, 12)
        trace = [snapshot(opt, sched)]
        for _ in range(40):
            opt.step()
            sched.step()
            trace.append(snapshot(opt, sched))
        traces.append(trace)
    assert_same(*traces)


def test_resume_without_initial_lr_raises_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        M.StepLR(FakeOptimizer(), 3, last_epoch=4)
    with pytest.raises(KeyError, match="initial_lr"):
        T.StepLR(torch_optimizer(), 3, last_epoch=4)


def test_initial_lr_kept_by_second_scheduler():
    opt = FakeOptimizer()
    M.ExponentialLR(opt, 0.5)
    opt.param_groups[0]["lr"] = 7.0
    s2 = M.StepLR(opt, 2)
    assert s2.base_lrs == list(LRS)  # setdefault: the first scheduler's initial_lr stays


# ---------------------------------------------------------------------------------------------
# warnings and optimizer.step patching
# ---------------------------------------------------------------------------------------------
def test_warns_scheduler_step_before_optimizer_step():
    sched = M.StepLR(FakeOptimizer(), 3)
    msg = r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"
    with pytest.warns(UserWarning, match=msg):
        sched.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # only the first step is checked


def test_no_warning_in_correct_order():
    opt = FakeOptimizer()
    sched = M.OneCycleLR(opt, 0.1, total_steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(10):
            opt.step()
            sched.step()
    assert opt.steps == 10


def test_warns_when_optimizer_step_overridden():
    opt = FakeOptimizer()
    sched = M.ExponentialLR(opt, 0.9)
    opt.step = lambda closure=None: None
    opt.step()
    with pytest.warns(UserWarning, match=r"`optimizer.step\(\)` has been overridden"):
        sched.step()


def test_epoch_argument_deprecated():
    opt = FakeOptimizer()
    sched = M.StepLR(opt, 3)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(3)
    plateau = M.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning, match="epoch parameter"):
        plateau.step(1.0, 5)
    assert plateau.last_epoch == 5


def test_get_lr_outside_step_warns():
    sched = M.CosineAnnealingLR(FakeOptimizer(), 10)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_step_patching_is_transparent():
    """The wrapper returns step's result, passes arguments, is installed once, keeps no strong ref."""
    import gc
    import weakref

    opt = FakeOptimizer()
    s1 = M.StepLR(opt, 3)
    wrapped = opt.step
    M.ExponentialLR(opt, 0.9)
    assert opt.step is wrapped and getattr(opt.step, "_wrapped_by_lr_sched", False)
    assert opt.step(lambda: 42) == 42 and opt.steps == 1 and opt._opt_called
    assert opt.step.__name__ == "step"
    ref = weakref.ref(opt)
    del opt, s1, wrapped
    gc.collect()
    assert ref() is None


def test_step_patching_for_other_step_kinds():
    class Slotted:  # no instance __dict__: step cannot be replaced, scheduling still works
        __slots__ = ("param_groups", "defaults")

        def __init__(self):
            self.param_groups = [{"lr": 0.1}]
            self.defaults = {"lr": 0.1}

        def step(self):
            pass

    opt = Slotted()
    sched = M.ExponentialLR(opt, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    assert sched.get_last_lr() == [0.05]

    class CallableStep:  # step is a plain callable stored on the instance
        def __init__(self):
            self.param_groups = [{"lr": 1.0}]
            self.calls = 0
            self.step = self._do

        def _do(self):
            self.calls += 1

    opt = CallableStep()
    sched = M.StepLR(opt, 1, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
    assert opt.calls == 1 and sched.get_last_lr() == [0.5]

    class Base:
        def __init__(self):
            self.param_groups = [{"lr": 1.0}]

        def step(self, *args, **kwargs):
            return args, kwargs

    class Child(Base):
        pass

    opt = Child()
    sched = M.StepLR(opt, 1, gamma=0.5)
    assert opt.step(1, a=2) == ((1,), {"a": 2})
    sched.step()


# ---------------------------------------------------------------------------------------------
# errors: same exception kinds as torch
# ---------------------------------------------------------------------------------------------
BAD = [
    ("constant_factor_high", "sgd", lambda L, o: L.ConstantLR(o, factor=1.5)),
    ("constant_factor_neg", "sgd", lambda L, o: L.ConstantLR(o, factor=-0.1)),
    ("linear_start_zero", "sgd", lambda L, o: L.LinearLR(o, start_factor=0.0)),
    ("linear_end_high", "sgd", lambda L, o: L.LinearLR(o, end_factor=1.5)),
    ("lambda_list_len", "sgd", lambda L, o: L.LambdaLR(o, [f_exp])),
    ("multiplicative_not_callable", "sgd", lambda L, o: L.MultiplicativeLR(o, [f_exp, 3])),
    ("warm_T0_zero", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0)),
    ("warm_T0_float", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.0)),
    ("warm_Tmult_zero", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0)),
    ("warm_eta_min_str", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0")),
    ("warm_negative_epoch", "sgd", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1)),
    ("cyclic_mode", "sgd", lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="square")),
    ("cyclic_base_lr_len", "sgd", lambda L, o: L.CyclicLR(o, [0.01], 0.1)),
    ("cyclic_no_momentum", "sgd-nomom", lambda L, o: L.CyclicLR(o, 0.01, 0.1)),
    ("onecycle_total_zero", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=0)),
    ("onecycle_total_float", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10.0)),
    ("onecycle_no_length", "sgd", lambda L, o: L.OneCycleLR(o, 0.1)),
    ("onecycle_epochs_zero", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3)),
    ("onecycle_spe_neg", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-3)),
    ("onecycle_pct", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5)),
    ("onecycle_pct_int", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=0)),
    ("onecycle_anneal", "sgd", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp")),
    ("onecycle_max_lr_len", "sgd", lambda L, o: L.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10)),
    ("onecycle_no_momentum", "sgd-nomom", lambda L, o: L.OneCycleLR(o, 0.1, total_steps=10)),
    ("onecycle_past_end", "sgd", lambda L, o: [s.step() for s in [L.OneCycleLR(o, 0.1, total_steps=3)]
                                               for _ in range(4)]),
    ("plateau_factor", "sgd", lambda L, o: L.ReduceLROnPlateau(o, factor=1.0)),
    ("plateau_mode", "sgd", lambda L, o: L.ReduceLROnPlateau(o, mode="avg")),
    ("plateau_threshold_mode", "sgd", lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="pct")),
    ("plateau_min_lr_len", "sgd", lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1])),
    ("sequential_empty", "sgd", lambda L, o: L.SequentialLR(o, [], milestones=[])),
    ("sequential_milestones", "sgd", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [])),
    ("sequential_plateau", "sgd", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)],
                                                              [3])),
    ("sequential_not_scheduler", "sgd", lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), object()], [3])),
    ("sequential_other_optimizer", "sgd", lambda L, o: L.SequentialLR(
        o, [L.StepLR(o, 2), L.StepLR(make_optimizer(L, "sgd"), 3)], [3])),
    ("chained_empty", "sgd", lambda L, o: L.ChainedScheduler([])),
    ("chained_plateau", "sgd", lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)])),
    ("not_an_optimizer", "none", lambda L, o: L.StepLR(object(), 3)),
    ("cyclic_not_an_optimizer", "none", lambda L, o: L.CyclicLR(object(), 0.01, 0.1)),
    ("plateau_not_an_optimizer", "none", lambda L, o: L.ReduceLROnPlateau(object())),
]


def bad_optimizer(lib, kind):
    if kind == "none":
        return None
    if kind == "sgd-nomom":
        if lib is T:
            return torch.optim.Adagrad([torch.zeros(1, requires_grad=True)], lr=0.1)
        opt = FakeOptimizer()
        for d in [opt.defaults, *opt.param_groups]:
            del d["momentum"]
        return opt
    return make_optimizer(lib, kind)


@pytest.mark.parametrize("name,kind,build", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_like_torch(name, kind, build):
    with pytest.raises(Exception) as ref:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(T, bad_optimizer(T, kind))
    with pytest.raises(type(ref.value)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(M, bad_optimizer(M, kind))


def test_base_class_and_alias():
    assert issubclass(M._LRScheduler, M.LRScheduler)
    for name in M.__all__:
        assert issubclass(getattr(M, name), M.LRScheduler), name
        assert getattr(M, name).__doc__
    assert set(M.__all__) == set(T.__all__)

    class Halving(M.LRScheduler):
        def get_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]

    opt = FakeOptimizer()
    sched = Halving(opt)
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.05, 0.0125]
    with pytest.raises(NotImplementedError):
        M.LRScheduler(FakeOptimizer())


# ---------------------------------------------------------------------------------------------
# with the real mt.optim optimizers (when present)
# ---------------------------------------------------------------------------------------------
def _mt_optimizers():
    import importlib

    import minitorch_jax as mt

    found = {}
    for name, module in (("SGD", "sgd"), ("Adam", "adam")):
        cls = getattr(mt.optim, name, None)
        if cls is None:
            try:
                cls = getattr(importlib.import_module(f"minitorch_jax.optim.{module}"), name)
            except (ImportError, AttributeError):
                cls = None
        found[name] = cls
    if None in found.values():
        pytest.skip("mt.optim.SGD/Adam not available yet")
    return mt, found


@pytest.mark.parametrize("which", ["sgd_onecycle", "adam_cyclic", "sgd_plateau", "adam_sequential"])
def test_with_real_optimizers(which):
    """Schedulers driving mt.optim.SGD/Adam: same lrs, momenta and parameters as torch's."""
    mt, opts = _mt_optimizers()
    import numpy as np

    rng = np.random.default_rng(0)
    init = [rng.standard_normal(3), rng.standard_normal(2)]
    coefs = [rng.standard_normal((12, 3)), rng.standard_normal((12, 2))]

    def build(lib, params):
        groups = [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}]
        L = M if lib is mt else T
        if which.startswith("sgd"):
            opt = (opts["SGD"] if lib is mt else torch.optim.SGD)(groups, lr=0.1, momentum=0.9)
        else:
            opt = (opts["Adam"] if lib is mt else torch.optim.Adam)(groups, lr=0.1)
        sched = {
            "sgd_onecycle": lambda: L.OneCycleLR(opt, [0.2, 0.05], total_steps=12),
            "adam_cyclic": lambda: L.CyclicLR(opt, 0.01, 0.1, step_size_up=3),
            "sgd_plateau": lambda: L.ReduceLROnPlateau(opt, factor=0.5, patience=1),
            "adam_sequential": lambda: L.SequentialLR(
                opt, [L.LinearLR(opt, 0.1, total_iters=4), L.ExponentialLR(opt, 0.8)], milestones=[4]),
        }[which]()
        return opt, sched

    results = []
    for lib in (mt, torch):
        params = [lib.tensor(v.copy(), requires_grad=True) for v in init]
        opt, sched = build(lib, params)
        trace = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            for i in range(12):
                opt.zero_grad()
                loss = sum(((p * lib.tensor(c[i])) ** 2).sum() for p, c in zip(params, coefs))
                loss.backward()
                opt.step()
                if which == "sgd_plateau":
                    sched.step(float(i % 3))
                else:
                    sched.step()
                groups = [(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in opt.param_groups]
                trace.append((list(sched.get_last_lr()), groups,
                              [np.asarray(p.detach().numpy(), dtype=np.float64).tolist() for p in params]))
        results.append(trace)
    for (lr_a, g_a, p_a), (lr_b, g_b, p_b) in zip(*results):
        assert_same(lr_a, lr_b)
        assert_same(g_a, g_b)
        np.testing.assert_allclose(np.array(p_a[0] + p_a[1]), np.array(p_b[0] + p_b[1]),
                                   rtol=1e-9, atol=1e-12)


def test_real_optimizer_order_warning():
    mt, opts = _mt_optimizers()
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    opt = opts["SGD"]([p], lr=0.1)
    sched = M.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        sched.step()
    opt2 = opts["Adam"]([mt.tensor([1.0], requires_grad=True)], lr=0.1)
    sched2 = M.StepLR(opt2, 2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
    assert opt2.state_dict()["param_groups"][0]["initial_lr"] == 0.1


@pytest.mark.parametrize("name", ["cosine", "step", "linear"])
def test_tensor_lr_filled_in_place(name):
    """An lr stored as a 0-d tensor (torch allows it) stays the same tensor and is filled in place."""
    import minitorch_jax as mt

    builders = {"cosine": lambda L, o: L.CosineAnnealingLR(o, 10),
                "step": lambda L, o: L.StepLR(o, 3, 0.5),
                "linear": lambda L, o: L.LinearLR(o, 0.25, total_iters=6)}
    opt = FakeOptimizer()
    for g in opt.param_groups:
        g["lr"] = mt.tensor(g["lr"], dtype=mt.float64)
    lr_tensor = opt.param_groups[0]["lr"]
    ref_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)],
                                "lr": torch.tensor(lr, dtype=torch.float64)} for lr in LRS])
    sched, ref = builders[name](M, opt), builders[name](T, ref_opt)
    for _ in range(15):
        opt.step()
        ref_opt.step()
        sched.step()
        ref.step()
        assert_same([float(v) for v in sched.get_last_lr()], [float(v) for v in ref.get_last_lr()])
    assert opt.param_groups[0]["lr"] is lr_tensor
    assert sched.get_last_lr()[0] is not lr_tensor  # get_last_lr holds clones
