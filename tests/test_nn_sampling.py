"""Padding, resampling, pixel shuffle and fold/unfold layers against torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_jax as mt

from .nn_oracle import compare_module
from .oracle import assert_same, torch

rng = np.random.default_rng(0)
TOL = dict(rtol=1e-5, atol=1e-5)


def _x(*shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


CASES = [
    ("ZeroPad2d", (1,), (2, 3, 4, 5)),
    ("ZeroPad1d", ((1, -1),), (2, 3, 4)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), (1, 2, 3, 2, 2)),
    ("ReflectionPad1d", ((2, 3),), (2, 3, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 2, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3)),
    ("ReplicationPad1d", ((3, 1),), (2, 4)),
    ("ReplicationPad2d", (2,), (2, 2, 3, 4)),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 2)),
    ("CircularPad1d", ((2, 3),), (2, 3, 4)),
    ("CircularPad2d", ((1, 2, 2, 0),), (1, 2, 3, 4)),
    ("CircularPad3d", (1,), (1, 1, 2, 3, 2)),
    ("PixelShuffle", (2,), (2, 8, 3, 2)),
    ("PixelUnshuffle", (3,), (1, 2, 6, 3)),
    ("Upsample", ((5, 7),), (2, 3, 4, 3)),
    ("Upsample", (None, 2.5, "linear"), (2, 3, 4)),
    ("Upsample", (None, (1.5, 0.5), "bilinear", True), (1, 2, 4, 6)),
    ("Upsample", ((3, 5), None, "bicubic"), (1, 2, 4, 4)),
    ("Upsample", (None, 2, "trilinear"), (1, 1, 2, 3, 2)),
    ("Upsample", ((3, 2), None, "area"), (1, 2, 7, 5)),
    ("Upsample", (None, 1.7, "nearest-exact"), (1, 2, 5, 4)),
    ("UpsamplingNearest2d", (None, 3), (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", ((5, 4),), (1, 2, 3, 3)),
    ("Unfold", ((2, 3),), (2, 3, 5, 6)),
    ("Unfold", (3, 2, 1, 2), (2, 7, 7)),
    ("Fold", ((4, 5), 2), (2, 12, 12)),
    ("Fold", (5, 3, 1, 1, 2), (18, 9)),
]


@pytest.mark.parametrize("name,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layers_match_torch(name, args, shape):
    t = getattr(torch.nn, name)(*args)
    m = getattr(mt.nn, name)(*args)
    assert repr(m) == repr(t)
    compare_module(m, t, _x(*shape), train=False, **TOL)


def test_float64_and_modes_keep_dtype():
    x = _x(1, 2, 3, 4, dtype="float64")
    for mode in ["reflect", "replicate", "circular", "constant"]:
        t = torch.nn.functional.pad(torch.from_numpy(x), (1, 2, 2, 1), mode)
        assert_same(mt.nn.functional.pad(mt.tensor(x), (1, 2, 2, 1), mode), t)
    m = mt.nn.functional.interpolate(mt.tensor(x), scale_factor=2, mode="bilinear")
    assert m.dtype == mt.float64


def test_padding_errors():
    F = mt.nn.functional
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(mt.randn(1, 1, 3), (3, 3), "reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(mt.randn(1, 1, 3), (4, 0), "circular")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(mt.randn(1, 1, 3), (1,))
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(mt.randn(3, 2), (-2, -1))
    with pytest.raises(NotImplementedError):
        F.pad(mt.randn(3), (1, 1), "reflect")
    with pytest.raises(NotImplementedError):
        F.pad(mt.randn(1, 3), (1, 1), "mirror")


def test_interpolate_errors():
    F = mt.nn.functional
    x = mt.randn(1, 2, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, 3, 2.0)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, 3, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear"):
        F.interpolate(x, 3, mode="bilinear")
    with pytest.raises(RuntimeError, match="greater than 0"):
        F.interpolate(x, 0)


def test_upsample_functional_warns_like_torch():
    x = _x(1, 1, 3, 3)
    with pytest.warns(UserWarning):
        m = mt.nn.functional.upsample_bilinear(mt.tensor(x), scale_factor=2)
    with pytest.warns(UserWarning):
        t = torch.nn.functional.upsample_bilinear(torch.from_numpy(x), scale_factor=2)
    assert_same(m, t, **TOL)


def test_fold_inverts_unfold_counts():
    x = _x(2, 3, 6, 5)
    cols = mt.nn.functional.unfold(mt.tensor(x), 3, padding=1)
    back = mt.nn.functional.fold(cols, (6, 5), 3, padding=1)
    ones = mt.nn.functional.fold(mt.nn.functional.unfold(mt.ones(2, 3, 6, 5), 3, padding=1), (6, 5), 3,
                                 padding=1)
    np.testing.assert_allclose(np.asarray((back / ones)._data), x, rtol=1e-5, atol=1e-6)
    assert mt.pixel_shuffle is mt.nn.functional.pixel_shuffle


@settings(max_examples=25)
@given(n=st.integers(1, 9), o=st.integers(1, 13), scale=st.sampled_from([None, 0.5, 1.3, 2.0, 2.7]),
       mode=st.sampled_from(["nearest", "nearest-exact", "linear", "linear-ac", "area"]))
def test_interpolate_coordinate_mapping(n, o, scale, mode):
    """torch's exact source-index formulas for random sizes/scales (jax.image.resize differs)."""
    x = _x(1, 2, n)
    kw = {}
    if mode == "linear-ac":
        mode, kw = "linear", {"align_corners": True}
    arg = {"size": o} if scale is None else {"scale_factor": scale}
    try:
        t = torch.nn.functional.interpolate(torch.from_numpy(x), mode=mode, **arg, **kw)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            mt.nn.functional.interpolate(mt.tensor(x), mode=mode, **arg, **kw)
        return
    assert_same(mt.nn.functional.interpolate(mt.tensor(x), mode=mode, **arg, **kw), t, **TOL)
