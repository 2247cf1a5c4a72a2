"""Hypothesis properties of broadcasting and shape ops.

Broadcasting of binary ops follows numpy/torch rules (checked against both, errors included);
shape ops satisfy their algebra: round trips (view/-1, flatten/unflatten, squeeze/unsqueeze),
inverses (permute, movedim, roll, flip, cat/split, stack/unbind) and agreement with torch.
Sizes stay small so the per-shape compiled kernels are reused across examples.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minitorch_jax as mt

from .oracle import assert_same, torch

# few distinct shapes: each new (op, shape) pair compiles a kernel
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NONEMPTY = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
BSHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)


def data(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def same(m, expected):
    """An mt tensor equals a numpy array exactly (shape and values)."""
    assert tuple(m.shape) == tuple(np.shape(expected))
    np.testing.assert_array_equal(np.asarray(m._data), expected)


# ----- broadcasting ----------------------------------------------------------------------------
def _broadcast_or_none(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_add_broadcasts_like_numpy_and_torch(shapes):
    a, b = data(shapes.input_shapes[0], 1), data(shapes.input_shapes[1], 2)
    out = mt.add(mt.tensor(a), mt.tensor(b))
    assert tuple(out.shape) == shapes.result_shape
    np.testing.assert_allclose(np.asarray(out._data), a + b, rtol=1e-6)
    assert_same(out, torch.add(torch.from_numpy(a), torch.from_numpy(b)))


@given(st.tuples(BSHAPES, BSHAPES), st.sampled_from(["add", "mul", "sub", "maximum"]))
def test_binary_ops_broadcast_or_raise_like_torch(shapes, name):
    a, b = data(shapes[0], 1), data(shapes[1], 2)
    expected = _broadcast_or_none(*shapes)
    t_err = None
    try:
        t_out = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b))
    except RuntimeError as e:
        t_err = e
    assert (t_err is None) == (expected is not None), "numpy and torch disagree on broadcasting"
    if expected is None:
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            getattr(mt, name)(mt.tensor(a), mt.tensor(b))
    else:
        assert_same(getattr(mt, name)(mt.tensor(a), mt.tensor(b)), t_out)


@given(st.lists(SHAPES, min_size=1, max_size=3))
def test_broadcast_tensors_matches_numpy(shapes):
    arrays = [data(s, i) for i, s in enumerate(shapes)]
    expected = _broadcast_or_none(*shapes)
    if expected is None:
        with pytest.raises(RuntimeError):
            mt.broadcast_tensors(*[mt.tensor(a) for a in arrays])
        return
    outs = mt.broadcast_tensors(*[mt.tensor(a) for a in arrays])
    for o, e in zip(outs, np.broadcast_arrays(*arrays)):
        same(o, e)


@given(hnp.mutually_broadcastable_shapes(num_shapes=1, max_dims=4, max_side=4), st.data())
def test_expand_and_broadcast_to_match_numpy(shapes, draw):
    src, target = shapes.input_shapes[0], shapes.result_shape
    x = data(src)
    expected = np.broadcast_to(x, target)
    same(mt.tensor(x).expand(target), expected)
    same(mt.broadcast_to(mt.tensor(x), target), expected)
    # -1 keeps an existing dim's size (only allowed on dims the tensor already has)
    lead = len(target) - len(src)
    keep = draw.draw(st.lists(st.booleans(), min_size=len(src), max_size=len(src)))
    sizes = list(target[:lead]) + [-1 if k else s for k, s in zip(keep, target[lead:])]
    ok = all(k is False or s == d for k, s, d in zip(keep, target[lead:], src))
    if ok:
        same(mt.tensor(x).expand(sizes), expected)


@given(SHAPES, SHAPES)
def test_expand_incompatible_raises_like_torch(src, target):
    assume(len(target) >= len(src))
    x = data(src)
    try:
        t_shape = tuple(torch.from_numpy(x).expand(target).shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="expand"):
            mt.tensor(x).expand(target)
        return
    assert tuple(mt.tensor(x).expand(target).shape) == t_shape


# ----- view / reshape / flatten ------------------------------------------------------------------
@st.composite
def reshape_target(draw, numel_shape=SHAPES):
    """A shape and another shape with the same number of elements (maybe one -1)."""
    shape = draw(numel_shape)
    n = int(np.prod(shape))
    factors = []
    rest = n
    for p in (2, 3, 2, 2, 3):  # split n into a few factors in random order
        if rest % p == 0 and draw(st.booleans()):
            factors.append(p)
            rest //= p
    factors.append(rest)
    factors = draw(st.permutations(factors))
    if draw(st.booleans()):
        factors = list(factors) + [1]
    target = list(factors)
    if n > 0 and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@given(reshape_target())
def test_view_round_trip_with_minus_one(case):
    shape, target = case
    x = data(shape)
    v = mt.tensor(x).view(target)
    expected = x.reshape(target)
    same(v, expected)
    same(v.view(*shape), x)
    same(mt.reshape(v, (-1,)), x.reshape(-1))
    same(v.reshape_as(mt.tensor(x)), x)


@given(SHAPES, st.integers(1, 30))
def test_view_invalid_size_raises_with_shape_and_size(shape, bad):
    n = int(np.prod(shape))
    assume(bad != n)
    with pytest.raises(RuntimeError) as err:
        mt.tensor(data(shape)).view(bad)
    assert f"shape '[{bad}]' is invalid for input of size {n}" in str(err.value)
    with pytest.raises(RuntimeError):
        torch.from_numpy(data(shape)).view(bad)


@given(NONEMPTY, st.data())
def test_flatten_unflatten_round_trip(shape, draw):
    nd = len(shape)
    s = draw.draw(st.integers(0, nd - 1))
    e = draw.draw(st.integers(s, nd - 1))
    x = data(shape)
    f = mt.tensor(x).flatten(s, e)
    assert_same(f, torch.from_numpy(x).flatten(s, e))
    back = f.unflatten(s, shape[s:e + 1])
    same(back, x)
    minus = list(shape[s:e + 1])
    minus[draw.draw(st.integers(0, len(minus) - 1))] = -1
    if 0 not in shape:
        same(f.unflatten(s - nd + (e - s) if draw.draw(st.booleans()) else s, minus), x)
    same(mt.tensor(x).ravel(), x.ravel())


# ----- dim reordering ------------------------------------------------------------------------------
@given(SHAPES, st.data())
def test_permute_inverse(shape, draw):
    nd = len(shape)
    perm = draw.draw(st.permutations(range(nd)))
    neg = [p - nd if draw.draw(st.booleans()) else p for p in perm]
    x = data(shape)
    p = mt.tensor(x).permute(*neg) if nd else mt.tensor(x).permute(())
    same(p, np.transpose(x, perm))
    same(p.permute(tuple(int(i) for i in np.argsort(perm))), x)


@given(NONEMPTY, st.data())
def test_movedim_inverse_and_transpose(shape, draw):
    nd = len(shape)
    k = draw.draw(st.integers(1, nd))
    src = draw.draw(st.permutations(range(nd)))[:k]
    dst = draw.draw(st.permutations(range(nd)))[:k]
    x = data(shape)
    m = mt.tensor(x).movedim(tuple(src), tuple(dst))
    same(m, np.moveaxis(x, src, dst))
    same(m.moveaxis(tuple(dst), tuple(src)), x)
    a, b = draw.draw(st.integers(-nd, nd - 1)), draw.draw(st.integers(-nd, nd - 1))
    same(mt.tensor(x).transpose(a, b), np.swapaxes(x, a, b))
    same(mt.tensor(x).swapdims(a, b).swapaxes(a, b), x)


# ----- squeeze / unsqueeze ------------------------------------------------------------------------
@given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), st.data())
def test_squeeze_unsqueeze(shape, draw):
    x = data(shape)
    nd = len(shape)
    d = draw.draw(st.integers(-nd - 1, nd))
    u = mt.tensor(x).unsqueeze(d)
    same(u, np.expand_dims(x, d))
    same(u.squeeze(d), x)
    same(mt.tensor(x).squeeze(), np.squeeze(x))
    if nd:
        dims = tuple(draw.draw(st.sets(st.integers(0, nd - 1), min_size=1)))
        ones = tuple(i for i in dims if shape[i] == 1)
        same(mt.tensor(x).squeeze(dims), np.squeeze(x, ones) if ones else x)
        assert_same(mt.tensor(x).squeeze(dims), torch.from_numpy(x).squeeze(dims))


# ----- joining and splitting ---------------------------------------------------------------------
@given(NONEMPTY, st.data())
def test_cat_split_inverse(shape, draw):
    nd = len(shape)
    d = draw.draw(st.integers(-nd, nd - 1))
    n = shape[d]
    x = data(shape)
    cuts = sorted(draw.draw(st.lists(st.integers(0, n), max_size=3)))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    parts = mt.tensor(x).split(sizes, d)
    assert [p.shape[d] for p in parts] == sizes
    same(mt.cat(parts, d), x)
    size = draw.draw(st.integers(1, 5))
    parts = mt.split(mt.tensor(x), size, dim=d)
    assert_same(parts, torch.split(torch.from_numpy(x), size, dim=d))
    same(mt.cat(list(parts), dim=d), x)


@given(NONEMPTY, st.integers(1, 5), st.data())
def test_chunk_and_tensor_split_match_torch(shape, k, draw):
    nd = len(shape)
    d = draw.draw(st.integers(-nd, nd - 1))
    x = data(shape)
    assert_same(mt.tensor(x).chunk(k, d), torch.from_numpy(x).chunk(k, d))
    assert_same(mt.tensor(x).tensor_split(k, d), torch.from_numpy(x).tensor_split(k, d))
    idx = draw.draw(st.lists(st.integers(-5, 6), max_size=3))
    assert_same(mt.tensor(x).tensor_split(idx, d), torch.from_numpy(x).tensor_split(idx, d))
    same(mt.cat(mt.tensor(x).chunk(k, d), d), x)


@given(NONEMPTY, st.data())
def test_stack_unbind_inverse(shape, draw):
    nd = len(shape)
    d = draw.draw(st.integers(-nd, nd - 1))
    x = data(shape)
    parts = mt.tensor(x).unbind(d)
    assert len(parts) == shape[d]
    same(mt.stack(parts, d), x)
    e = draw.draw(st.integers(-nd - 1, nd))
    xs = [data(shape, i) for i in range(3)]
    same(mt.stack([mt.tensor(a) for a in xs], e), np.stack(xs, e))


@given(st.lists(NONEMPTY, min_size=1, max_size=3), st.sampled_from(["hstack", "vstack", "dstack"]))
def test_hvd_stack_agree_with_torch(shapes, name):
    arrays = [data(s, i) for i, s in enumerate(shapes)]
    try:
        t_out = getattr(torch, name)([torch.from_numpy(a) for a in arrays])
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(mt, name)([mt.tensor(a) for a in arrays])
        return
    assert_same(getattr(mt, name)([mt.tensor(a) for a in arrays]), t_out)


# ----- repeat, tile, flip, roll, rot90 ------------------------------------------------------------
@given(SHAPES, st.data())
def test_repeat_tile_match_torch(shape, draw):
    nd = len(shape)
    reps = draw.draw(st.lists(st.integers(0, 3), min_size=nd, max_size=nd + 2))
    x = data(shape)
    assert_same(mt.tensor(x).repeat(*reps) if reps else mt.tensor(x).repeat(()),
                torch.from_numpy(x).repeat(*reps) if reps else torch.from_numpy(x).repeat(()))
    few = reps[:max(nd - 1, 0)]
    assert_same(mt.tensor(x).tile(few), torch.from_numpy(x).tile(few))


@given(SHAPES, st.data())
def test_flip_roll_inverses(shape, draw):
    nd = len(shape)
    x = data(shape)
    if nd:
        dims = tuple(draw.draw(st.sets(st.integers(0, nd - 1))))
        f = mt.tensor(x).flip(dims)
        same(f, np.flip(x, dims))
        same(f.flip(dims), x)
        k = draw.draw(st.integers(-6, 6))
        d = draw.draw(st.integers(-nd, nd - 1))
        r = mt.tensor(x).roll(k, d)
        same(r, np.roll(x, k, d))
        same(r.roll(-k, d), x)
    k = draw.draw(st.integers(-6, 6))
    same(mt.tensor(x).roll(k), np.roll(x, k))


@given(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3), st.integers(-5, 5))
def test_rot90_matches_numpy_and_composes(shape, k):
    x = data(shape)
    r = mt.tensor(x).rot90(k, (0, 1))
    same(r, np.rot90(x, k, (0, 1)))
    same(r.rot90(-k, (0, 1)), x)


# ----- triangles and diagonals ----------------------------------------------------------------------
@given(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=3), st.integers(-3, 3))
def test_tril_plus_triu_and_diagonal(shape, k):
    x = data(shape)
    lo, up = mt.tensor(x).tril(k), mt.tensor(x).triu(k + 1)
    same(lo + up, x)
    same(lo, np.tril(x, k))
    d = mt.tensor(x).diagonal(k, -2, -1)
    same(d, np.diagonal(x, k, -2, -1))
    emb = mt.diag_embed(d, k, -2, -1)
    assert_same(emb, torch.diag_embed(torch.from_numpy(np.diagonal(x, k, -2, -1).copy()), k))
    same(emb.diagonal(k, -2, -1), np.diagonal(x, k, -2, -1))


@given(st.integers(0, 3), st.integers(-2, 2))
def test_diag_round_trip(n, k):
    v = data((n,))
    m = mt.diag(mt.tensor(v), k)
    same(m, np.diag(v, k))
    same(m.diag(k), v)
