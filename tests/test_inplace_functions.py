"""torch's top-level in-place functions (``torch.abs_(t)``) and comparison aliases (``torch.greater``):
the same results as torch, written into the argument."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax._ops import _TOP_LEVEL_INPLACE

torch = pytest.importorskip("torch")

_X = np.array([[0.2, 0.7, 0.45], [0.9, 0.15, 0.6]])
_EXTRA = {  # name -> (input, other args)
    "acosh": (_X + 1.5, ()), "arccosh": (_X + 1.5, ()),
    "clamp": (_X, (0.3, 0.6)), "clip": (_X, (0.3, 0.6)), "clamp_max": (_X, (0.5,)), "clamp_min": (_X, (0.5,)),
    "gcd": (np.array([[4, 6], [9, 10]]), (np.array([[6, 4], [3, 5]]),)),
    "lcm": (np.array([[4, 6], [9, 10]]), (np.array([[6, 4], [3, 5]]),)),
    "ldexp": (_X, (np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]]),)),
    "xlogy": (_X, (_X + 1,)),
    "addmv": (np.array([0.5, -1.0]), (_X, np.array([1.0, 2.0, 3.0]))),
    "nan_to_num": (np.array([[np.nan, np.inf, -np.inf, 1.0]]), ()),
}


def _args(lib, values):
    return [lib.tensor(v) if isinstance(v, np.ndarray) else v for v in values]


@pytest.mark.parametrize("name", sorted(_TOP_LEVEL_INPLACE))
def test_top_level_inplace_function_matches_torch(name):
    x, rest = _EXTRA.get(name, (_X, ()))
    t = torch.tensor(x)
    m = mt.tensor(x)
    t_out = getattr(torch, name + "_")(t, *_args(torch, rest))
    m_out = getattr(mt, name + "_")(m, *_args(mt, rest))
    assert m_out is m and t_out is t
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("alias,name", [("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"),
                                        ("less_equal", "le"), ("not_equal", "ne")])
def test_comparison_aliases(alias, name):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    got = getattr(mt, alias)(mt.tensor(a), mt.tensor(b))
    assert got.tolist() == getattr(torch, alias)(torch.tensor(a), torch.tensor(b)).tolist()
    assert getattr(mt.tensor(a), alias)(2.0).tolist() == getattr(mt, name)(mt.tensor(a), 2.0).tolist()
    with pytest.raises(RuntimeError, match=name):
        getattr(mt, alias)(mt.ones(3), mt.ones(2))


def test_top_level_inplace_names_are_torchs():
    for name in _TOP_LEVEL_INPLACE:
        assert hasattr(torch, name + "_"), name
    assert not hasattr(mt, "add_") and not hasattr(torch, "add_")
