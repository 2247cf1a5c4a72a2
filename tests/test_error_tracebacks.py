"""Errors from ops end at the user's line: no kernel or JAX frames below it, no chained JAX exception,
no JAX traceback note; MINITORCH_JAX_TRACEBACK_FILTERING=off keeps everything."""

import os
import traceback

import jax
import pytest

import minitorch_jax as mt

_PKG = os.path.dirname(mt.__file__)
_JAX = os.path.dirname(jax.__file__)


def _frames(err):
    return traceback.extract_tb(err.__traceback__)


def _after_user_line(err):
    """Frames below the last frame of this test file."""
    frames = _frames(err)
    last = max(i for i, f in enumerate(frames) if f.filename == __file__)
    return frames[last], frames[last + 1:]


CASES = {
    "matmul": (lambda: mt.ones(2, 3) @ mt.ones(4, 5), r"matmul\(\).*2x3 and 4x5"),
    "add-broadcast": (lambda: mt.ones(2, 3) + mt.ones(4, 5), r"add\(\).*\[2, 3\] and \[4, 5\]"),
    "conv2d-ndim": (lambda: mt.nn.functional.conv2d(mt.ones(2, 3), mt.ones(3, 3, 3, 3)), r"conv2d"),
    # einsum's shape check is JAX's own: translated into the op's name, shapes and dtypes
    "einsum-jax": (lambda: mt.einsum("ij,jk->ik", mt.ones(2, 3), mt.ones(4, 5)),
                   r"einsum\(\).*shapes \[\[2, 3\], \[4, 5\]\]"),
    "reshape": (lambda: mt.ones(2, 3).reshape(4, 4), r"reshape\(\).*\[4, 4\].*size 6"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_traceback_ends_at_user_line(case):
    fn, pattern = CASES[case]
    with pytest.raises(Exception, match=pattern) as info:
        fn()
    err = info.value
    user, below = _after_user_line(err)
    assert user.name == "<lambda>"
    # below the user's line: only the op's public entry points, never its kernel or JAX internals
    assert len(below) <= 3, [f"{f.filename}:{f.lineno}" for f in below]
    assert all(f.filename.startswith(_PKG) for f in below)
    assert not any(f.filename.startswith(_JAX) for f in _frames(err))
    assert not any(f.name in ("_conv", "check_input_dims", "_check_matmul") for f in below)
    assert err.__cause__ is None and err.__suppress_context__
    assert not getattr(err, "__notes__", None)


def test_filtering_off_keeps_kernel_frames(monkeypatch):
    monkeypatch.setenv("MINITORCH_JAX_TRACEBACK_FILTERING", "off")
    with pytest.raises(RuntimeError, match="conv2d") as info:
        mt.nn.functional.conv2d(mt.ones(2, 3), mt.ones(3, 3, 3, 3))
    names = [f.name for f in _frames(info.value)]
    assert "check_input_dims" in names


def test_error_in_nested_user_function_names_its_line():
    def model(x):
        h = x * 2
        return h @ mt.ones(7, 2)  # the failing line

    with pytest.raises(RuntimeError, match="matmul") as info:
        model(mt.ones(3, 4))
    frames = _frames(info.value)
    last_user = [f for f in frames if f.filename == __file__][-1]
    assert "the failing line" in last_user.line


def test_tensor_state_unchanged_after_error():
    x = mt.ones(2, 3, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError):
        y @ mt.ones(4, 5)
    y.sum().backward()
    assert x.grad.tolist() == [[3.0] * 3] * 2


def test_error_inside_compiled_function_names_op():
    @mt.jit
    def f(a, b):
        return (a @ b).sum()

    with pytest.raises(RuntimeError, match=r"matmul\(\).*2x3 and 4x5") as info:
        f(mt.ones(2, 3), mt.ones(4, 5))
    assert info.value.__cause__ is None
    assert not getattr(info.value, "__notes__", None)
