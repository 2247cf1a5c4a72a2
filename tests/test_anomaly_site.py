"""Anomaly mode names the forward op that produced a NaN gradient and the user's line."""

from __future__ import annotations

import pytest

import minitorch_jax as mt


def test_nan_in_backward_names_the_forward_and_the_line():
    x = mt.tensor([0.0, 1.0], requires_grad=True)
    with mt.autograd.detect_anomaly():
        y = x.sqrt()  # forward-site-marker
        z = (y * 0).sum()
        with pytest.raises(RuntimeError) as e:
            z.backward()
    msg = str(e.value)
    assert "SqrtBackward0" in msg and "returned nan values" in msg
    assert "test_anomaly_site.py" in msg and "forward-site-marker" in msg


def test_without_anomaly_mode_no_nan_check():
    x = mt.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert x.grad is not None
