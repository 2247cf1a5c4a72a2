"""mt.jit on CUDA passes undonated the state whose new value is also another output or an input
(jax-ml/jax#39625): which values are shared (``jit._shared_values.value_ids``), and the steps built with
that policy (forced here on any backend) against eager."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax import nn
from minitorch_jax.jit import _compiled
from minitorch_jax.jit._compiled import split_state
from minitorch_jax.jit._shared_values import value_ids


def _ids(fn, *args):
    ins, outs = value_ids(jax.jit(fn).trace(*args).jaxpr)
    return ins, outs


def _groups(ids):
    """Output positions grouped by shared id, as sorted tuples (singletons left out)."""
    by: dict = {}
    for i, v in enumerate(ids):
        by.setdefault(v, []).append(i)
    return sorted(tuple(g) for g in by.values() if len(g) > 1)


def test_one_variable_returned_twice_is_one_value():
    _, outs = _ids(lambda a: (a * 2, a + 1) + ((lambda y: (y, y))(a - 1)), jnp.ones(3))
    assert _groups(outs) == [(2, 3)]


def test_same_primitive_on_same_values_is_one_value_and_different_parameters_are_not():
    def f(a, b):
        return a + b, a + b, b + a, jnp.sum(a, axis=0), jnp.sum(a, axis=0), jnp.sum(a, axis=1)
    _, outs = _ids(f, jnp.ones((2, 3)), jnp.ones((2, 3)))
    assert _groups(outs) == [(0, 1), (3, 4)]  # (b + a: another equation's operand order)


def test_chains_of_equal_computations_merge_through_nested_jit_calls():
    step = jnp.float32(3)

    @jax.jit
    def mu(s):
        return 1 / jnp.maximum(1.0, s - 2.0)

    def f(s, p, q):
        return mu(s), mu(s), p * mu(s), q * mu(s)
    _, outs = _ids(f, step, jnp.ones(2), jnp.ones(2))
    assert _groups(outs) == [(0, 1)]


def test_custom_derivative_calls_are_looked_into():
    @jax.custom_vjp
    def double(x):
        return x * 2
    double.defvjp(lambda x: (x * 2, None), lambda r, g: (g * 2,))

    @jax.custom_jvp
    def sine(x):
        return jnp.sin(x)
    sine.defjvp(lambda p, t: (sine(p[0]), t[0] * jnp.cos(p[0])))
    _, outs = _ids(lambda a: (double(a), a * 2, double(a), sine(a), jnp.sin(a), sine(a)), jnp.ones(3))
    assert _groups(outs) == [(0, 1, 2), (3, 4, 5)]


def test_outputs_equal_to_inputs_and_equal_constants_share_ids():
    def f(a, b):
        return a, jnp.zeros(3), jnp.zeros(3), b * 1.5, 2.0, 2.0
    ins, outs = _ids(f, jnp.ones(3), jnp.ones(3))
    assert outs[0] == ins[0]
    assert _groups(outs) == [(1, 2), (4, 5)]


def test_effects_and_remat_never_merge():
    def f(a):
        b = jax.checkpoint(lambda t: jnp.sin(t))(a)
        c = jax.checkpoint(lambda t: jnp.sin(t))(a)
        d = jax.pure_callback(lambda t: t, jax.ShapeDtypeStruct((3,), jnp.float32), a)
        e = jax.experimental.io_callback(lambda t: t, jax.ShapeDtypeStruct((3,), jnp.float32), a)
        g = jax.experimental.io_callback(lambda t: t, jax.ShapeDtypeStruct((3,), jnp.float32), a)
        return b, c, d, e, g
    import jax.experimental  # noqa: F401  (io_callback)
    _, outs = _ids(f, jnp.ones(3, jnp.float32))
    assert len(set(outs[3:])) == 2  # (side effects: each call is its own value)
    assert outs[0] != outs[1]  # (remat asks XLA not to merge)


def _run(step_of, build, jit, steps=4):
    mt.manual_seed(0)
    objs = build()
    f = step_of(*objs)
    f = mt.jit(f) if jit else f
    outs = [f() for _ in range(steps)]
    return [o.detach().numpy().copy() for o in outs], objs, f


def _kept_and_donated(f):
    """The shapes of the changed state a step passes undonated, and the number of donated arrays (checked
    against the compiled program's own donation flags)."""
    (entry,) = f._cache.values()
    info = entry.fn.trace(*split_state(entry, f._gather(f._cap)), [], f._hp(f._cap)).lower()
    donated, kept = (jax.tree_util.tree_leaves(a) for a in info.args_info[0][:2])
    assert all(a.donated for a in donated) and not any(a.donated for a in kept)
    cap, (keep_data, _, keep_keys), (changed_data, _, changed_keys) = f._cap, entry.split.keep, f._changed
    shapes = [tuple(t.shape) for t, k, c in zip(cap.tensors, keep_data, changed_data) if k and c]
    shapes += [tuple(g._key.shape) for g, k, c in zip(cap.generators, keep_keys, changed_keys) if k and c]
    return sorted(shapes), len(donated)


@pytest.fixture
def cuda_policy(monkeypatch):
    monkeypatch.setattr(_compiled, "_on_cuda", lambda cap: True)


class _TwoCounters(nn.Module):
    """Two buffers given the same new value each call (a value XLA computes once), one of its own, and a
    buffer that takes a copy of the first."""

    def __init__(self):
        super().__init__()
        self.register_buffer("a", mt.zeros(4))
        self.register_buffer("b", mt.zeros(4))
        self.register_buffer("c", mt.zeros(4))
        self.register_buffer("n", mt.zeros(()))

    def forward(self):
        self.n.add_(1)
        self.a.copy_(self.n * mt.arange(4.0))
        self.b.copy_(self.n * mt.arange(4.0))
        self.c.add_(self.n)
        return self.a.sum() + self.c.sum()


def test_state_given_one_value_twice_is_kept_and_matches_eager(cuda_policy):
    def step_of(m):
        return lambda: m()
    want, (m_eager,), _ = _run(step_of, lambda: (_TwoCounters(),), False)
    got, (m_jit,), f = _run(step_of, lambda: (_TwoCounters(),), True)
    np.testing.assert_array_equal(got, want)
    for name in ("a", "b", "c", "n"):
        np.testing.assert_array_equal(getattr(m_jit, name).numpy(), getattr(m_eager, name).numpy(), name)
    # a and b share a value: they and c (same kind) are kept; n (another kind) is donated
    assert _kept_and_donated(f) == ([(4,), (4,), (4,)], 1)


def test_without_the_cuda_policy_everything_changed_is_donated(monkeypatch):
    monkeypatch.setattr(_compiled, "_on_cuda", lambda cap: False)  # (as on a CPU, on any backend)
    got, (m,), f = _run(lambda m: (lambda: m()), lambda: (_TwoCounters(),), True)
    assert _kept_and_donated(f) == ([], 4)


def test_generators_seeded_alike_donate_their_keys_and_draw_like_eager(cuda_policy):
    """Keys equal at run time are distinct values to XLA (separate inputs): donated, as every key."""
    def build():
        return (mt.Generator().manual_seed(3), mt.Generator().manual_seed(3), mt.Generator().manual_seed(4))

    def step_of(g1, g2, g3):
        return lambda: mt.stack([mt.rand(3, generator=g) for g in (g1, g2, g3)])
    want, gens_e, _ = _run(step_of, build, False)
    got, gens_j, f = _run(step_of, build, True)
    np.testing.assert_array_equal(got, want)
    for ge, gj in zip(gens_e, gens_j):
        np.testing.assert_array_equal(mt.rand(2, generator=gj).numpy(), mt.rand(2, generator=ge).numpy())
    assert _kept_and_donated(f) == ([], 3)


def test_asgd_and_adam_under_the_cuda_policy_match_eager(cuda_policy):
    """ASGD keeps its eta and mu (alike for every parameter) and, as 0-d too, its step counter; Adam
    shares nothing, so donates all."""
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((8, 5)).astype("float32"))
    y = mt.tensor(rng.integers(0, 3, 8))
    for opt_cls, n_kept in ((mt.optim.ASGD, 9), (mt.optim.Adam, 0)):
        def build(opt_cls=opt_cls):
            model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
            return model, opt_cls(model.parameters(), lr=0.05)

        def step_of(model, opt):
            def step():
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                return loss
            return step
        want, (m_e, o_e), _ = _run(step_of, build, False, steps=6)
        got, (m_j, o_j), f = _run(step_of, build, True, steps=6)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=opt_cls.__name__)
        for p_j, p_e in zip(m_j.parameters(), m_e.parameters()):
            for k, v in o_e.state[p_e].items():
                np.testing.assert_allclose(o_j.state[p_j][k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7,
                                           err_msg=f"{opt_cls.__name__} {k}")
        assert _kept_and_donated(f)[0] == [()] * n_kept, opt_cls.__name__


def test_a_program_the_analysis_cannot_read_keeps_scalars_and_matches_eager(cuda_policy, monkeypatch):
    """If the analysis fails on some program form, the step falls back to the coarser rule (0-d state and
    keys undonated on CUDA) instead of failing."""
    def unreadable(jaxpr):
        raise TypeError("an unforeseen equation")
    monkeypatch.setattr(_compiled, "value_ids", unreadable)
    want, (m_e,), _ = _run(lambda m: (lambda: m()), lambda: (_TwoCounters(),), False)
    got, (m_j,), f = _run(lambda m: (lambda: m()), lambda: (_TwoCounters(),), True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(m_j.a.numpy(), m_e.a.numpy())
    assert _kept_and_donated(f) == ([()], 3)  # n kept; a, b, c donated
