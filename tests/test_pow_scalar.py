"""``x ** number``: the exponent is a compile-time constant; values, dtypes, grads and errors as torch."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_jax as mt

from .oracle import assert_same, check_grads, to_mt, to_torch


@pytest.mark.parametrize("data,dtype", [([1.5, -2.0, 0.0], "float32"), ([1.5, 2.0], "float64"),
                                        ([2, 3, -4], "int64"), ([True, False], "bool")])
@pytest.mark.parametrize("exponent", [2, 3, 0, 1, 0.5, 2.0, -1.0, -2, 2.5])
def test_scalar_exponents_match_torch(data, dtype, exponent):
    x = np.array(data, dtype=dtype)
    grad = dtype.startswith("float")
    t_in, m_in = to_torch([x], grad), to_mt([x], grad)
    try:
        t_out = t_in[0] ** exponent
    except RuntimeError:
        with pytest.raises(RuntimeError, match="negative integer powers"):
            m_in[0] ** exponent
        return
    m_out = m_in[0] ** exponent
    assert_same(m_out, t_out)
    if grad and exponent not in (0.5, -1.0, -2, 2.5):  # skip 0 ** negative / sqrt(negative) gradients
        check_grads(m_out, t_out, m_in, t_in)


def test_scalar_exponent_is_a_constant_of_the_kernel():
    from minitorch_jax._ops import REGISTRY
    x = mt.ones(4)
    x ** 2
    kernel = REGISTRY["_pow_scalar"].bound(((2, "int"), (), None, ()))
    text = str(__import__("jax").make_jaxpr(kernel)(x._data))
    assert "integer_pow" in text and "pow " not in text


def test_inplace_and_tensor_exponent_still_work():
    x = mt.tensor([1.0, 2.0])
    x **= 2
    assert x.tolist() == [1.0, 4.0]
    assert (mt.tensor([2.0, 3.0]) ** mt.tensor([2.0, 0.5])).tolist() == pytest.approx([4.0, 3 ** 0.5])
    assert (2 ** mt.tensor([1.0, 3.0])).tolist() == [2.0, 8.0]
