"""Static (non-tensor) arguments select compiled kernels by type as well as value: an integral float
never reuses the kernel built for the equal int (``1.0 == 1`` in Python)."""

from __future__ import annotations

import pytest

import minitorch_jax as mt


def test_integral_float_does_not_reuse_the_int_kernel():
    x = mt.arange(6.0).reshape(2, 3)
    assert mt.narrow(x, 1, 0, 2).shape == (2, 2)
    with pytest.raises(TypeError, match="narrow"):
        mt.narrow(x, 1, 0.0, 2)
    assert mt.narrow(x, 1, 0, 2).shape == (2, 2)  # and the int kernel still serves ints


def test_float_statics_still_share_kernels_by_value():
    x = mt.arange(4.0)
    a = mt.nn.functional.leaky_relu(x - 2, 0.5)
    b = mt.nn.functional.leaky_relu(x - 2, 0.5)
    assert a.tolist() == b.tolist() == [-1.0, -0.5, 0.0, 1.0]
    assert mt.nn.functional.leaky_relu(x - 2, 1.0).tolist() == [-2.0, -1.0, 0.0, 1.0]
