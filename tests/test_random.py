"""The generator, random creation functions and in-place fills.

Values cannot match torch's (a different bit generator), so torch is the oracle only for dtypes,
shapes, error kinds and the deterministic ops (``fill_``, ``copy_``, their gradients). Values are
checked by reproducibility and by statistics on ~10**5 samples.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt
import minitorch_jax.random as mtr
from minitorch_jax import _random as R

from .oracle import assert_same, dtype_name, torch

N = 100_000


def npy(t):
    return np.asarray(t._data)


@pytest.fixture(autouse=True)
def _restore_default_generator():
    with mtr.fork_rng():
        yield


# ----- reproducibility ---------------------------------------------------------------------------
DRAWS = {
    "rand": lambda g: mt.rand(2, 3, generator=g),
    "randn": lambda g: mt.randn(2, 3, generator=g),
    "randint": lambda g: mt.randint(-3, 9, (2, 3), generator=g),
    "randperm": lambda g: mt.randperm(6, generator=g),
    "normal": lambda g: mt.normal(1.0, 2.0, (2, 3), generator=g),
    "normal_t": lambda g: mt.normal(mt.zeros(2, 3), mt.ones(3), generator=g),
    "bernoulli": lambda g: mt.bernoulli(mt.full((2, 3), 0.5), generator=g),
    "multinomial": lambda g: mt.multinomial(mt.ones(2, 4), 3, generator=g),
    "poisson": lambda g: mt.poisson(mt.full((2, 3), 3.0), generator=g),
    "rand_like": lambda g: mt.rand_like(mt.zeros(2, 3), generator=g),
    "uniform_": lambda g: mt.zeros(2, 3).uniform_(-2, 3, generator=g),
    "normal_": lambda g: mt.zeros(2, 3).normal_(1, 3, generator=g),
    "random_": lambda g: mt.zeros(2, 3).random_(0, 100, generator=g),
    "bernoulli_": lambda g: mt.zeros(2, 3).bernoulli_(0.4, generator=g),
    "exponential_": lambda g: mt.zeros(2, 3).exponential_(2.0, generator=g),
    "geometric_": lambda g: mt.zeros(2, 3).geometric_(0.3, generator=g),
    "cauchy_": lambda g: mt.zeros(2, 3).cauchy_(generator=g),
    "log_normal_": lambda g: mt.zeros(2, 3).log_normal_(generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_same_seed_same_values(name):
    draw = DRAWS[name]
    mt.manual_seed(123)
    a = npy(draw(None))
    mt.manual_seed(123)
    b = npy(draw(None))
    np.testing.assert_array_equal(a, b)
    g1, g2 = mt.Generator().manual_seed(7), mt.Generator().manual_seed(7)
    np.testing.assert_array_equal(npy(draw(g1)), npy(draw(g2)))
    # a second draw moves the state on
    mt.manual_seed(123)
    first, second = npy(draw(None)), npy(draw(None))
    if name not in ("multinomial",) and first.size > 3:
        assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", ["rand", "randn", "randint", "randperm", "normal_"])
def test_different_seeds_differ(name):
    draw = DRAWS[name]
    mt.manual_seed(1)
    a = npy(draw(None))
    mt.manual_seed(2)
    b = npy(draw(None))
    assert not np.array_equal(a, b)


def test_generators_are_independent_of_the_default():
    mt.manual_seed(5)
    expected = npy(mt.rand(4))
    mt.manual_seed(5)
    g = mt.Generator().manual_seed(99)
    mt.rand(10, generator=g)
    np.testing.assert_array_equal(npy(mt.rand(4)), expected)


def test_state_round_trip_is_exact():
    g = mt.Generator().manual_seed(2024)
    mt.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == mt.uint8 and state.ndim == 1
    a = npy(mt.randn(6, generator=g))
    g.set_state(state)
    np.testing.assert_array_equal(npy(mt.randn(6, generator=g)), a)
    np.testing.assert_array_equal(npy(g.get_state()), npy(mt.Generator().set_state(g.get_state())
                                                           .get_state()))
    h = mt.Generator().set_state(state)
    assert h.initial_seed() == 2024
    np.testing.assert_array_equal(npy(mt.randn(6, generator=h)), a)
    # the global functions
    mt.manual_seed(3)
    s = mt.get_rng_state()
    a = npy(mt.rand(5))
    mt.set_rng_state(s)
    np.testing.assert_array_equal(npy(mt.rand(5)), a)


def test_set_state_errors_match_torch_kinds():
    g, tg = mt.Generator(), torch.Generator()
    with pytest.raises(TypeError):
        tg.set_state([1, 2])
    with pytest.raises(TypeError):
        g.set_state([1, 2])
    with pytest.raises(TypeError):
        tg.set_state(torch.zeros(5056))
    with pytest.raises(TypeError):
        g.set_state(mt.zeros(16))
    with pytest.raises(RuntimeError):
        tg.set_state(torch.zeros(5, dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="size"):
        g.set_state(mt.zeros(5, dtype=mt.uint8))


def test_seeding_api_like_torch():
    assert mt.manual_seed(7) is mt.default_generator
    assert mt.initial_seed() == 7
    assert isinstance(mt.Generator().manual_seed(1), mt.Generator)
    assert mt.Generator().initial_seed() == torch.Generator().initial_seed()
    for s in (-1, -(2 ** 63), 2 ** 64 - 1, 0):
        assert mt.Generator().manual_seed(s).initial_seed() == \
            torch.Generator().manual_seed(s).initial_seed()
    with pytest.raises(ValueError):
        mt.manual_seed(2 ** 64)
    s = mt.seed()
    assert isinstance(s, int) and mt.initial_seed() == s and 0 <= s < 2 ** 64
    assert mt.random.initial_seed() == s
    assert mt.Generator("cpu").device == mt.device("cpu")
    assert mt.random.default_generator is mt.default_generator
    with pytest.raises(TypeError):
        mt.rand(3, generator=3)


def test_fork_rng_restores_the_default_state():
    mt.manual_seed(11)
    before = npy(mt.get_rng_state())
    with mtr.fork_rng():
        mt.manual_seed(0)
        mt.rand(100)
    np.testing.assert_array_equal(npy(mt.get_rng_state()), before)
    assert mt.initial_seed() == 11
    with mtr.fork_rng(enabled=False):
        mt.rand(3)
    assert not np.array_equal(npy(mt.get_rng_state()), before)
    with pytest.raises(KeyError), mtr.fork_rng():  # restored on error too
        mt.manual_seed(1)
        raise KeyError
    assert mt.initial_seed() == 11


# ----- statistics --------------------------------------------------------------------------------
def test_uniform_statistics():
    for x in (npy(mt.rand(N)), (npy(mt.zeros(N).uniform_(-2, 6)) + 2) / 8):
        assert x.min() >= 0 and x.max() < 1
        assert abs(x.mean() - 0.5) < 0.01 and abs(x.std() - 12 ** -0.5) < 0.01
        assert np.histogram(x, 10, (0, 1))[0].min() > 0.09 * N


def test_normal_statistics():
    cases = [(npy(mt.randn(N)), 0, 1), (npy(mt.normal(3.0, 2.0, (N,))), 3, 2),
             (npy(mt.zeros(N).normal_(-1, 0.5)), -1, 0.5),
             (npy(mt.normal(mt.full((N,), 2.0), 3.0)), 2, 3),
             (npy(mt.normal(1.0, mt.full((N,), 0.1))), 1, 0.1)]
    for x, m, s in cases:
        assert abs(x.mean() - m) < 0.02 * s + 1e-3, (m, s, x.mean())
        assert abs(x.std() - s) < 0.02 * s, (m, s, x.std())
    z = npy(mt.randn(N, dtype=mt.complex64))
    assert abs(np.var(z.real) - 0.5) < 0.02 and abs(np.var(z.imag) - 0.5) < 0.02


def test_randint_bounds_and_coverage():
    x = npy(mt.randint(-3, 4, (N,)))
    assert x.min() == -3 and x.max() == 3
    counts = np.bincount(x + 3)
    assert counts.min() > N / 7 * 0.9
    y = npy(mt.zeros(N, dtype=mt.uint8).random_())
    assert y.min() == 0 and y.max() == 255
    z = npy(mt.zeros(N).random_(5))
    assert set(np.unique(z)) == {0, 1, 2, 3, 4}
    w = npy(mt.zeros(N, dtype=mt.bool).random_())
    assert set(np.unique(w)) == {False, True}
    f = npy(mt.zeros(N).random_())
    assert f.min() >= 0 and f.max() <= 2 ** 24 and f.max() > 2 ** 23


def test_randperm_is_a_permutation():
    for n in (0, 1, 6, 1000):
        p = npy(mt.randperm(n))
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    assert not np.array_equal(npy(mt.randperm(1000)), np.arange(1000))


def test_multinomial():
    rows = npy(mt.multinomial(mt.ones(50, 10), 10))
    for r in rows:
        assert sorted(r) == list(range(10))  # without replacement: all distinct
    w = mt.tensor([1.0, 0.0, 3.0, 6.0])
    x = npy(mt.multinomial(w, N, replacement=True))
    freq = np.bincount(x, minlength=4) / N
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.3, 0.6], atol=0.01)
    # without replacement, the first pick follows the weights
    firsts = npy(mt.multinomial(mt.tensor(np.tile(np.float32([1, 0, 3, 6]), (20_000, 1))), 2))[:, 0]
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 20_000, [0.1, 0, 0.3, 0.6],
                               atol=0.015)
    # zero-weight categories come last when more samples than positive weights are asked for
    assert sorted(npy(mt.multinomial(mt.tensor([0.0, 1.0, 1.0]), 3))[:2]) == [1, 2]


def test_discrete_distributions():
    b = npy(mt.bernoulli(mt.full((N,), 0.3)))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    assert abs(npy(mt.zeros(N).bernoulli_(0.8)).mean() - 0.8) < 0.01
    assert abs(npy(mt.bernoulli(mt.zeros(N), 0.25)).mean() - 0.25) < 0.01
    assert npy(mt.bernoulli(mt.ones(N))).min() == 1
    assert npy(mt.bernoulli(mt.zeros(N))).max() == 0
    t = npy(mt.zeros(2, N).bernoulli_(mt.tensor(np.array([[0.1], [0.9]], np.float32))))
    np.testing.assert_allclose(t.mean(1), [0.1, 0.9], atol=0.01)
    g = npy(mt.zeros(N).geometric_(0.25))
    assert g.min() == 1 and abs(g.mean() - 4) < 0.1
    po = npy(mt.poisson(mt.full((N,), 4.0)))
    assert np.all(po == np.round(po)) and abs(po.mean() - 4) < 0.05 and abs(po.var() - 4) < 0.15


def test_continuous_fills():
    e = npy(mt.zeros(N).exponential_(2.0))
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    c = npy(mt.zeros(N).cauchy_(1.0, 2.0))
    assert abs(np.median(c) - 1.0) < 0.05
    assert abs(np.median(np.abs(c - 1.0)) - 2.0) < 0.1  # the half-width is sigma
    ln = npy(mt.zeros(N).log_normal_(0.5, 0.25))
    assert ln.min() > 0 and abs(np.log(ln).mean() - 0.5) < 0.01
    assert abs(np.log(ln).std() - 0.25) < 0.01


# ----- dtypes and shapes against torch -----------------------------------------------------------
def _lib(lib):
    return torch if lib == "torch" else mt


SHAPE_CASES = {
    "rand": lambda L: L.rand(2, 3), "rand_tuple": lambda L: L.rand((2, 3)),
    "rand_list": lambda L: L.rand([2, 3]), "rand_scalar": lambda L: L.rand(()),
    "rand_kw": lambda L: L.rand(size=(3,)), "rand_empty": lambda L: L.rand(0, 3),
    "rand_f64": lambda L: L.rand(3, dtype=L.float64), "rand_f16": lambda L: L.rand(3, dtype=L.float16),
    "rand_bf16": lambda L: L.rand(3, dtype=L.bfloat16),
    "rand_c64": lambda L: L.rand(3, dtype=L.complex64),
    "randn": lambda L: L.randn(2, 3), "randn_c128": lambda L: L.randn(3, dtype=L.complex128),
    "randint": lambda L: L.randint(5, (3,)), "randint2": lambda L: L.randint(2, 5, (2, 3)),
    "randint_kw": lambda L: L.randint(low=2, high=5, size=(3,)),
    "randint_size_kw": lambda L: L.randint(5, size=(3,)),
    "randint_f32": lambda L: L.randint(0, 5, (3,), dtype=L.float32),
    "randint_i32": lambda L: L.randint(0, 5, (3,), dtype=L.int32),
    "randint_u8": lambda L: L.randint(0, 256, (3,), dtype=L.uint8),
    "randint_bool": lambda L: L.randint(0, 2, (3,), dtype=L.bool),
    "randperm": lambda L: L.randperm(6), "randperm0": lambda L: L.randperm(0),
    "randperm_f": lambda L: L.randperm(6, dtype=L.float32),
    "normal": lambda L: L.normal(0.0, 1.0, (2, 3)), "normal_int": lambda L: L.normal(0, 1, (3,)),
    "normal_f64": lambda L: L.normal(0.0, 1.0, (3,), dtype=L.float64),
    "normal_t": lambda L: L.normal(L.zeros(3), 1.0),
    "normal_t1": lambda L: L.normal(L.zeros(3)),
    "normal_t2": lambda L: L.normal(0.0, L.ones(2, 3)),
    "normal_tt": lambda L: L.normal(L.zeros(2, 3), L.ones(3)),
    "normal_mixed": lambda L: L.normal(L.zeros(3, dtype=L.float64), L.ones(3)),
    "bernoulli": lambda L: L.bernoulli(L.full((2, 3), 0.5)),
    "bernoulli_f64": lambda L: L.bernoulli(L.full((3,), 0.5, dtype=L.float64)),
    "bernoulli_p": lambda L: L.bernoulli(L.zeros(2, 3), 0.3),
    "bernoulli_method": lambda L: L.full((2, 3), 0.5).bernoulli(),
    "multinomial": lambda L: L.multinomial(L.ones(4), 3),
    "multinomial2": lambda L: L.multinomial(L.ones(2, 4), 3),
    "multinomial_rep": lambda L: L.multinomial(L.ones(4), 6, True),
    "multinomial_empty": lambda L: L.multinomial(L.ones(0, 4), 3),
    "multinomial_f64": lambda L: L.multinomial(L.ones(4, dtype=L.float64), 3),
    "multinomial_method": lambda L: L.ones(4).multinomial(6, replacement=True),
    "poisson": lambda L: L.poisson(L.ones(2, 3)),
    "poisson_f64": lambda L: L.poisson(L.ones(3, dtype=L.float64)),
    "rand_like": lambda L: L.rand_like(L.ones(3, dtype=L.float64)),
    "rand_like_dt": lambda L: L.rand_like(L.ones(3), dtype=L.float16),
    "randn_like": lambda L: L.randn_like(L.ones(2, 3)),
    "randint_like": lambda L: L.randint_like(L.ones(3), 5),
    "randint_like2": lambda L: L.randint_like(L.ones(3, dtype=L.int32), 3, 5),
    "uniform_": lambda L: L.zeros(2, 3).uniform_(),
    "uniform_c": lambda L: L.zeros(3, dtype=L.complex64).uniform_(),
    "normal__f64": lambda L: L.zeros(3, dtype=L.float64).normal_(),
    "random_i": lambda L: L.zeros(3, dtype=L.int64).random_(5),
    "random_b": lambda L: L.zeros(3, dtype=L.bool).random_(),
    "bernoulli_i": lambda L: L.zeros(3, dtype=L.int64).bernoulli_(0.5),
    "geometric_i": lambda L: L.zeros(3, dtype=L.int32).geometric_(0.5),
    "exponential_h": lambda L: L.zeros(3, dtype=L.float16).exponential_(),
    "requires_grad": lambda L: L.rand(2, 3, requires_grad=True),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_dtype_and_shape_match_torch(name):
    t = SHAPE_CASES[name](torch)
    m = SHAPE_CASES[name](mt)
    assert tuple(m.shape) == tuple(t.shape)
    assert dtype_name(m) == dtype_name(t)
    assert m.requires_grad == t.requires_grad
    assert m.is_leaf


def test_default_dtype_is_followed():
    mt.set_default_dtype(mt.float64)
    try:
        assert mt.rand(2).dtype == mt.float64 and mt.normal(0.0, 1.0, (2,)).dtype == mt.float64
    finally:
        mt.set_default_dtype(mt.float32)
    assert mt.rand(2).dtype == mt.float32


def test_float32_never_becomes_float64():
    x = mt.zeros(2, 3)
    f64 = np.float64(0.5)
    for out in (x.uniform_(-f64, f64), x.normal_(f64, f64), x.exponential_(f64),
                x.cauchy_(f64, f64), x.log_normal_(f64, f64), x.bernoulli_(f64), x.geometric_(f64),
                x.random_(np.int64(3)), x.fill_(f64), x.copy_(mt.ones(3, dtype=mt.float64)),
                mt.normal(mt.zeros(3), f64), mt.normal(f64, mt.ones(3)),
                mt.normal(f64, f64, (2, 3)), mt.bernoulli(mt.zeros(2, 3), f64),
                mt.rand(2, 3), mt.randn(2, 3), mt.poisson(mt.ones(2, 3)),
                mt.bernoulli(mt.ones(2, 3), mt.tensor(0.5, dtype=mt.float64))):
        assert out.dtype == mt.float32 and out._data.dtype == jnp.float32


@settings(max_examples=6)
@given(st.lists(st.integers(0, 3), max_size=2), st.lists(st.integers(0, 3), max_size=2))
def test_normal_broadcast_shapes_property(a, b):
    mean, std = mt.zeros(*a), mt.ones(*b)
    try:
        expected = torch.broadcast_shapes(tuple(a), tuple(b))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mt.normal(mean, std)
        return
    out = mt.normal(mean, std)
    assert tuple(out.shape) == tuple(expected) and out.dtype == mt.float32


# ----- bad arguments: the same error kinds as torch ----------------------------------------------
ERROR_CASES = {
    "rand_neg": lambda L: L.rand(-1, 2), "rand_float_size": lambda L: L.rand(2.5),
    "rand_int_dtype": lambda L: L.rand(2, dtype=L.int64),
    "rand_bool_dtype": lambda L: L.rand(2, dtype=L.bool),
    "randn_int_dtype": lambda L: L.randn(2, dtype=L.int32),
    "randint_equal": lambda L: L.randint(5, 5, (3,)), "randint_lt": lambda L: L.randint(6, 5, (3,)),
    "randint_zero_high": lambda L: L.randint(0, (3,)),
    "randint_size_int": lambda L: L.randint(5, 3),
    "randint_neg": lambda L: L.randint(5, (-1,)),
    "randint_u8_over": lambda L: L.randint(0, 300, (3,), dtype=L.uint8),
    "randint_u8_under": lambda L: L.randint(-1, 3, (3,), dtype=L.uint8),
    "randint_bool_over": lambda L: L.randint(0, 5, (3,), dtype=L.bool),
    "randint_grad": lambda L: L.randint(0, 5, (3,), requires_grad=True),
    "randperm_neg": lambda L: L.randperm(-1),
    "normal_neg_std": lambda L: L.normal(0.0, -1.0, (2,)),
    "normal_t_neg_std": lambda L: L.normal(L.zeros(3), -1.0),
    "normal_tt_neg_std": lambda L: L.normal(L.zeros(3), -L.ones(3)),
    "normal_int_mean": lambda L: L.normal(L.zeros(3, dtype=L.int64), 1.0),
    "normal_bad_shapes": lambda L: L.normal(L.zeros(3), L.ones(2)),
    "bernoulli_over": lambda L: L.bernoulli(L.full((2, 3), 1.5)),
    "bernoulli_under": lambda L: L.bernoulli(L.full((2, 3), -0.1)),
    "bernoulli_nan": lambda L: L.bernoulli(L.full((2, 3), float("nan"))),
    "bernoulli_p_over": lambda L: L.bernoulli(L.zeros(3), 1.3),
    "bernoulli_int": lambda L: L.bernoulli(L.ones(3, dtype=L.int64)),
    "bernoulli_bool": lambda L: L.bernoulli(L.ones(3, dtype=L.bool)),
    "multinomial_too_many": lambda L: L.multinomial(L.ones(4), 5),
    "multinomial_3d": lambda L: L.multinomial(L.ones(2, 2, 4), 3),
    "multinomial_zero": lambda L: L.multinomial(L.ones(4), 0),
    "multinomial_int": lambda L: L.multinomial(L.ones(4, dtype=L.int64), 2),
    "multinomial_negative": lambda L: L.multinomial(-L.ones(4), 3),
    "multinomial_inf": lambda L: L.multinomial(L.full((4,), float("inf")), 3),
    "multinomial_zero_sum": lambda L: L.multinomial(L.zeros(4), 3),
    "poisson_neg": lambda L: L.poisson(-L.ones(2, 3)),
    "poisson_int": lambda L: L.poisson(L.ones(4, dtype=L.int64)),
    "rand_like_int": lambda L: L.rand_like(L.ones(2, dtype=L.int64)),
    "randn_like_int": lambda L: L.randn_like(L.ones(2, dtype=L.int64)),
    "uniform_reversed": lambda L: L.zeros(3).uniform_(2, 1),
    "uniform_int": lambda L: L.zeros(3, dtype=L.int64).uniform_(),
    "normal_neg": lambda L: L.zeros(3).normal_(0, -1),
    "normal_int": lambda L: L.zeros(3, dtype=L.int64).normal_(),
    "random_reversed": lambda L: L.zeros(3).random_(5, 2),
    "random_neg_to": lambda L: L.zeros(3, dtype=L.int64).random_(-3),
    "random_u8_from": lambda L: L.zeros(3, dtype=L.uint8).random_(-5, 5),
    "bernoulli__over": lambda L: L.zeros(3).bernoulli_(1.2),
    "bernoulli__tensor_over": lambda L: L.zeros(2, 3).bernoulli_(L.full((2, 3), 2.0)),
    "bernoulli__bad_shape": lambda L: L.zeros(3).bernoulli_(L.zeros(2)),
    "bernoulli__bigger_p": lambda L: L.zeros(3).bernoulli_(L.zeros(2, 3)),
    "exponential_neg": lambda L: L.zeros(3).exponential_(-1),
    "exponential_zero": lambda L: L.zeros(3).exponential_(0),
    "exponential_int": lambda L: L.zeros(3, dtype=L.int64).exponential_(),
    "geometric_zero": lambda L: L.zeros(3).geometric_(0),
    "geometric_over": lambda L: L.zeros(3).geometric_(1.5),
    "cauchy_neg": lambda L: L.zeros(3).cauchy_(0, -1),
    "cauchy_int": lambda L: L.zeros(3, dtype=L.int64).cauchy_(),
    "log_normal_neg": lambda L: L.zeros(3).log_normal_(1, -2),
    "log_normal_int": lambda L: L.zeros(3, dtype=L.int64).log_normal_(),
    "fill_1d": lambda L: L.zeros(3).fill_(L.tensor([2.0])),
    "fill_complex": lambda L: L.zeros(3).fill_(1 + 2j),
    "copy_bigger": lambda L: L.zeros(3).copy_(L.ones(2, 3)),
    "copy_mismatch": lambda L: L.zeros(3).copy_(L.ones(2)),
    "leaf_uniform_": lambda L: L.zeros(3, requires_grad=True).uniform_(),
    "leaf_normal_": lambda L: L.zeros(3, requires_grad=True).normal_(),
    "leaf_bernoulli_": lambda L: L.zeros(3, requires_grad=True).bernoulli_(),
    "leaf_fill_": lambda L: L.zeros(3, requires_grad=True).fill_(1),
    "leaf_zero_": lambda L: L.zeros(3, requires_grad=True).zero_(),
    "leaf_copy_": lambda L: L.zeros(3, requires_grad=True).copy_(L.ones(3)),
}


def _kind(e: BaseException) -> type:
    for k in (NotImplementedError, TypeError, ValueError, IndexError, RuntimeError):
        if isinstance(e, k):
            return k
    return type(e)


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_torch_kind(name):
    with pytest.raises(Exception) as te:  # noqa: PT011 - torch's kind decides
        ERROR_CASES[name](torch)
    kind = _kind(te.value)
    with pytest.raises(kind) as me:
        ERROR_CASES[name](mt)
    assert _kind(me.value) is kind, (me.value, te.value)
    assert str(me.value), "errors must say what went wrong"


def test_error_messages_name_the_op_and_values():
    with pytest.raises(RuntimeError, match=r"randint.*from=5 >= to=5"):
        mt.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match=r"multinomial.*n_sample=5.*categories=4"):
        mt.multinomial(mt.ones(4), 5)
    with pytest.raises(RuntimeError, match=r"bernoulli.*p=1.3"):
        mt.bernoulli(mt.zeros(3), 1.3)
    with pytest.raises(NotImplementedError, match=r"rand.*Long"):
        mt.rand(2, dtype=mt.int64)
    with pytest.raises(RuntimeError, match=r"rand.*negative dimension -1"):
        mt.rand(-1, 2)


# ----- in-place semantics and autograd ----------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in DRAWS if n.endswith("_")])
def test_fills_are_in_place(name):
    x = mt.zeros(5)
    v = x._version
    meth = {"uniform_": lambda t: t.uniform_(), "normal_": lambda t: t.normal_(),
            "random_": lambda t: t.random_(10), "bernoulli_": lambda t: t.bernoulli_(),
            "exponential_": lambda t: t.exponential_(), "geometric_": lambda t: t.geometric_(0.5),
            "cauchy_": lambda t: t.cauchy_(), "log_normal_": lambda t: t.log_normal_()}[name]
    assert meth(x) is x and x._version == v + 1 and x.shape == (5,)
    # leaves that require grad may be filled under no_grad (what nn.init does)
    p = mt.zeros(5, requires_grad=True)
    with mt.no_grad():
        meth(p)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_fill_on_a_non_leaf_blocks_the_gradient_like_torch():
    for lib in (torch, mt):
        a = lib.ones(3, requires_grad=True)
        y = a * 2
        y.uniform_()
        assert y.grad_fn is not None and y.requires_grad
        (y * 3).sum().backward()
        np.testing.assert_array_equal(np.asarray(a.grad.tolist()), np.zeros(3))


@pytest.mark.parametrize("which", ["normal_mean", "normal_std", "bernoulli", "poisson"])
def test_sampling_ops_give_zero_gradients_like_torch(which):
    def run(L):
        a = L.full((2, 3), 0.5, requires_grad=True)
        out = {"normal_mean": lambda: L.normal(a, 1.0), "normal_std": lambda: L.normal(0.0, a),
               "bernoulli": lambda: L.bernoulli(a), "poisson": lambda: L.poisson(a)}[which]()
        assert out.requires_grad and out.grad_fn is not None
        out.sum().backward()
        return a.grad
    tg, mg = run(torch), run(mt)
    assert_same(mg, tg)


def test_copy_and_fill_values_match_torch():
    cases = [
        lambda L: L.zeros(2, 3).copy_(L.arange(3.0)),
        lambda L: L.zeros(3, dtype=L.int64).copy_(L.tensor([1.7, -2.2, 3.9])),
        lambda L: L.zeros(3).copy_(L.tensor([1, 2, 3])),
        lambda L: L.zeros(2, dtype=L.float64).copy_(L.tensor(2.5)),
        lambda L: L.zeros(3).copy_(2.0),
        lambda L: L.zeros(3).copy_(L.tensor([1 + 2j, 3j, 4.0])),
        lambda L: L.zeros(3).fill_(2),
        lambda L: L.zeros(3, dtype=L.int64).fill_(2.7),
        lambda L: L.zeros(3, dtype=L.int64).fill_(L.tensor(-2.5)),
        lambda L: L.zeros(2, dtype=L.bool).fill_(1),
        lambda L: L.zeros(3).fill_(1 + 0j),
        lambda L: L.zeros(2, dtype=L.complex64).fill_(1 + 2j),
        lambda L: L.ones(2, 2).zero_(),
        lambda L: L.zeros(0).fill_(3),
    ]
    import warnings
    for f in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = f(torch)
        m = f(mt)
        assert_same(m, t)


def test_copy_and_fill_gradients_match_torch():
    def run(L):
        src = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        val = L.tensor(2.0, requires_grad=True)
        base = L.ones(2, 3, requires_grad=True)
        y = base * 1
        y.copy_(src * 2)
        z = base * 1
        z.fill_(val)
        w = L.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
        ((y * w).sum() + (z * w).sum()).backward()
        return src.grad, val.grad, base.grad
    for m, t in zip(run(mt), run(torch)):
        assert_same(m, t)


def test_copy_into_a_parameter_under_no_grad():
    p = mt.zeros(3, requires_grad=True)
    with mt.no_grad():
        p.copy_(mt.tensor([1.0, 2.0, 3.0]))
        p.zero_()
        p.fill_(4.0)
    assert p.is_leaf and p.requires_grad and p.tolist() == [4.0, 4.0, 4.0]


def test_out_argument():
    out = mt.zeros(3)
    r = mt.rand(3, out=out)
    assert r is out and out._version == 1 and npy(out).min() >= 0


# ----- jit friendliness and caching --------------------------------------------------------------
def test_draws_trace_with_a_swapped_key():
    """The generator's key can be swapped for a traced value (what mt.jit's state capture does)."""
    g = mt.default_generator

    def step(key):
        old = g._key
        g._key = key
        try:
            x = mt.zeros(4)
            x.uniform_(-2, 2)
            outs = (mt.rand(3)._data, x._data, mt.multinomial(mt.ones(5), 2)._data,
                    mt.bernoulli(mt.full((3,), 0.5))._data, mt.normal(mt.zeros(3), mt.ones(3))._data)
            return g._key, outs
        finally:
            g._key = old

    mt.manual_seed(0)
    new_key, traced = jax.jit(step)(jnp.asarray(g._key))
    mt.manual_seed(0)
    eager_key, eager = step(g._key)
    np.testing.assert_array_equal(np.asarray(new_key), np.asarray(eager_key))
    for a, b in zip(traced, eager):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_one_compiled_sampler_per_distribution_and_dtype(monkeypatch):
    """Samples come in fixed-size chunks: one compiled sampler serves every shape and every
    parameter value (no retrace per shape while a model is built)."""
    calls = []
    orig = R._SAMPLERS["uniform"]

    def counting(*args):
        calls.append(1)
        return orig(*args)

    monkeypatch.setitem(R._SAMPLERS, "uniform", counting)
    R._CHUNKERS.pop(("uniform", np.dtype("float32")), None)
    for shape in ((7, 13), (20, 30), (5000,)):
        x = mt.zeros(*shape)
        for lo in (-1.0, -2.0, -3.5, 0.25, -7):
            x.uniform_(lo, 1.5)
            assert float(x.min()) >= lo and float(x.max()) < 1.5
    assert len(calls) == 1, "new shapes or parameter values must not retrace"
    R._CHUNKERS.pop(("uniform", np.dtype("float32")), None)
