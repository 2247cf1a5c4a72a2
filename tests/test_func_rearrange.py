"""``mt.func.rearrange`` against ``torch.func.rearrange``: values and gradients for splits, merges,
permutations, ellipses and unit axes; a list of tensors; patterns drawn by hypothesis; the errors for
bad patterns and sizes; under ``mt.jit``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitorch_jax as mt
from minitorch_jax.func import rearrange

torch = pytest.importorskip("torch")
trearrange = torch.func.rearrange

CASES = [
    ((32, 6, 8, 3), "b h w c -> b h w c", {}),
    ((32, 6, 8, 3), "b h w c -> (b h) w c", {}),
    ((32, 6, 8, 3), "b h w c -> h (b w) c", {}),
    ((32, 6, 8, 3), "b h w c -> b c h w", {}),
    ((32, 6, 8, 3), "b h w c -> b (c h w)", {}),
    ((32, 6, 8, 3), "b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 2}),
    ((32, 6, 8, 3), "b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}),
    ((2, 6, 4), "... c -> c ...", {}),
    ((2, 6, 4), "a ... -> (a ...)", {}),
    ((2, 6, 4), "a ... -> ... a", {}),
    ((2, 6, 4), "a b c -> a b c 1", {}),
    ((2, 6, 4), "a b c -> a b () c", {}),
    ((2, 1, 4), "a 1 c -> c a", {}),
    ((2, 1, 4), "a () c -> c a", {}),
    ((12, 4), "(a b) c -> a b c", {"a": 3}),
    ((12, 4), "(a b) c -> (b a) c", {"b": 6}),
    ((3, 4), "a b -> (b a)", {}),
    ((5,), "a -> a", {}),
]


@pytest.mark.parametrize("shape,pattern,kw", CASES, ids=[c[1] for c in CASES])
def test_rearrange_values_and_grads_match_torch(shape, pattern, kw):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    xm = mt.tensor(x, requires_grad=True)
    yt, ym = trearrange(xt, pattern, **kw), rearrange(xm, pattern, **kw)
    assert tuple(ym.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())
    ct = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(np.float32)
    (yt * torch.tensor(ct)).sum().backward()
    (ym * mt.tensor(ct)).sum().backward()
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())


def test_rearrange_of_a_list_stacks_it_like_torch():
    xs = [np.full((2, 3), float(i), np.float32) for i in range(4)]
    want = trearrange([torch.tensor(a) for a in xs], "n a b -> a (n b)")
    got = rearrange([mt.tensor(a) for a in xs], "n a b -> a (n b)")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_rearrange_returns_a_view_where_reshape_does():
    for L, f in ((torch, trearrange), (mt, rearrange)):
        x = L.zeros(2, 6)
        f(x, "a (b c) -> a b c", c=2)[0, 0, 0].fill_(1.0)
        assert x[0, 0].item() == 1.0


@st.composite
def permutations(draw):
    """A shape of 1-4 dims and a pattern that permutes them, merging some neighbours on the right."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    names = [f"d{i}" for i in range(len(shape))]
    order = draw(st.permutations(names))
    right, i = [], 0
    while i < len(order):
        k = draw(st.integers(1, len(order) - i))
        grp = order[i:i + k]
        right.append(grp[0] if k == 1 else "(" + " ".join(grp) + ")")
        i += k
    return shape, " ".join(names) + " -> " + " ".join(right)


@given(permutations())
def test_random_permute_and_merge_patterns_match_torch(case):
    shape, pattern = case
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    np.testing.assert_array_equal(rearrange(mt.tensor(x), pattern).numpy(),
                                  trearrange(torch.tensor(x), pattern).numpy())


ERRORS = [
    ((2, 6, 4), "a (b k) c -> a b k c", {}, "cannot infer the sizes of two dimensions at once"),
    ((2, 6, 4), "a b -> a b", {}, "Number of dimensions in pattern"),
    ((2, 6, 4), "a b c -> a b d", {}, "Identifiers only on one side"),
    ((2, 6, 4), "a b c -> a b", {}, "Identifiers only on one side"),
    ((2, 6, 4), "a a c -> a c", {}, "duplicate dimension 'a'"),
    ((2, 6, 4), "a b c -> b a c", {"z": 3}, "Identifiers not found"),
    ((2, 6, 4), "a (b k) c -> a b k c", {"k": 5}, "does not evenly fit"),
    ((2, 6, 4), "a b c -> a (b 2) c", {}, "only supports unnamed axes of size 1"),
    ((2, 6, 4), "a b c -> c b a", {"a": 3}, "Dimension sizes do not match"),
]


@pytest.mark.parametrize("shape,pattern,kw,match", ERRORS, ids=[e[1] + str(e[2]) for e in ERRORS])
def test_rearrange_errors_like_torch(shape, pattern, kw, match):
    torch_match = match.replace("do not", "to do not")  # (torch's wording: "sizes to do not match")
    with pytest.raises(Exception, match=torch_match):
        trearrange(torch.zeros(shape), pattern, **kw)
    with pytest.raises(ValueError, match=match) as e:
        rearrange(mt.zeros(shape), pattern, **kw)
    assert "rearrange()" in str(e.value)


@pytest.mark.parametrize("pattern,match", [
    ("a b c", "the form 'left -> right'"), ("a (b c -> a b c", "unbalanced"),
    ("a b) c -> a b c", "unbalanced"), ("a ((b) c) -> a b c", "nested"), ("... a ... -> a", "more than one"),
    ("(a ...) b -> a ... b", "inside parentheses"),
    ("a b c -> a b c-1", "not a valid axis name"), ("a b c d e -> a b c d e", "Number of dimensions"),
    ("a 1 c -> a c", "Dimension sizes do not match"),
])
def test_bad_patterns_raise_clear_errors(pattern, match):
    with pytest.raises(ValueError, match=match):
        rearrange(mt.zeros(2, 6, 4), pattern)
    with pytest.raises(ValueError, match="Tensor or a sequence"):
        rearrange(np.zeros(3), "a -> a")


def test_rearrange_compiles_under_jit():
    @mt.jit
    def f(x):
        return rearrange(x, "b (h w) -> b w h", h=2) * 2

    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    want = trearrange(torch.tensor(x), "b (h w) -> b w h", h=2) * 2
    np.testing.assert_array_equal(f(mt.tensor(x)).numpy(), want.numpy())
    assert f.num_compiles == 1
