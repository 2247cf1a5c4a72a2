"""``mt.testing``: ``assert_close``, ``make_tensor`` and the deprecated ``assert_allclose``, as
``torch.testing``.

``assert_close`` compares mt Tensors, numpy arrays and JAX arrays ("tensor-likes"), Python and numpy
numbers, ``None``, and sequences/mappings nesting any of them, with torch's default tolerances per
dtype and torch's failure messages (mismatched-element count, greatest absolute and relative
difference with their index, the failing item's path). Values are compared on the host (numpy), so
it cannot run inside ``mt.jit`` (it raises there: tensor values are unknown while tracing).

Differences from torch: mt tensors are always strided and contiguous (``check_layout`` and
``check_stride`` have nothing to compare); ``make_tensor(noncontiguous=True, memory_format=...)`` give
the same values as a plain call (JAX arrays have no strides) and draw from mt's global generator
(``mt.manual_seed``), so the values differ from torch's for the same seed.
"""

from __future__ import annotations

import collections.abc
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtype
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# torch.testing's default (rtol, atol) per dtype; every other dtype compares exactly
_TOLERANCES = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}
# the table of the deprecated assert_allclose
_OLD_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
_PY_TOLERANCES = {int: (0, 0), float: (1e-7, 1e-7), complex: (1e-7, 1e-7)}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise, its message, and the item path."""

    def __init__(self, cls, text, path=""):
        super().__init__(text)
        self.cls, self.text, self.path = cls, text, path


class _NoPair(Exception):
    pass


def _is_tensor_like(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, jax.Array))


def _is_number(x) -> bool:
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool, np.bool_))


def _is_sequence(x) -> bool:
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes, bytearray))


def _fmt_tol(v) -> str:
    return repr(v)


def _number_message(a, b, rtol, atol, kind="Scalars"):
    equal = rtol == 0 and atol == 0
    abs_diff = abs(a - b)
    rel_diff = abs_diff / abs(b) if b != 0 else (math.nan if abs_diff != abs_diff else math.inf)
    lines = [f"{kind} are not {'equal' if equal else 'close'}!", "", f"Expected {b} but got {a}.",
             f"Absolute difference: {abs_diff}" + ("" if equal else f" (up to {_fmt_tol(atol)} allowed)"),
             f"Relative difference: {rel_diff}" + ("" if equal else f" (up to {_fmt_tol(rtol)} allowed)")]
    return "\n".join(lines)


def _numbers_close(a, b, rtol, atol, equal_nan) -> bool:
    if a == b:
        return True
    if equal_nan and _isnan(a) and _isnan(b):
        return True
    if not (_isfinite(a) and _isfinite(b)):
        return False
    return abs(a - b) <= atol + rtol * abs(b)


def _isnan(x) -> bool:
    return x != x


def _isfinite(x) -> bool:
    return math.isfinite(x.real) and math.isfinite(x.imag) if isinstance(x, complex) else math.isfinite(x)


def _tols(rtol, atol, *names):
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(n, (0, 0)) for n in names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare_numbers(a, b, *, rtol, atol, equal_nan, check_dtype):
    a = a.item() if isinstance(a, np.generic) else a
    b = b.item() if isinstance(b, np.generic) else b
    if check_dtype and type(a) is not type(b):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(a)} != {type(b)}.")
    if rtol is None:
        pa, pb = _PY_TOLERANCES[type(a)], _PY_TOLERANCES[type(b)]
        rtol, atol = max(pa[0], pb[0]), max(pa[1], pb[1])
    if not _numbers_close(a, b, rtol, atol, equal_nan):
        raise _Mismatch(AssertionError, _number_message(a, b, rtol, atol))


def _meta(x):
    """(numpy values, mt dtype, mt.Size shape, device) of a tensor-like."""
    from ._device import device as _device_cls
    from ._tensor import Size
    if isinstance(x, Tensor):
        data = x._data
        if isinstance(data, jax.core.Tracer):
            raise RuntimeError("assert_close(): cannot compare tensor values inside mt.jit or a transform "
                               "(they are not known while tracing); compare the outputs outside the "
                               "compiled function")
        return np.asarray(data), x.dtype, x.shape, x.device
    arr = np.asarray(x)
    return arr, _dtype.from_np(arr.dtype), Size(arr.shape), _device_cls("cpu")


def _compare_tensors(a, b, *, allow_subclasses, rtol, atol, equal_nan, check_device, check_dtype):
    if allow_subclasses:
        ok = isinstance(a, type(b)) or isinstance(b, type(a))
    else:
        ok = type(a) is type(b)
    if not ok and not (isinstance(a, jax.Array) and isinstance(b, jax.Array)):
        raise _NoPair()
    va, da, sa, deva = _meta(a)
    vb, db, sb, devb = _meta(b)
    if sa != sb:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: {sa!r} != {sb!r}.")
    if check_device and str(deva) != str(devb):
        raise _Mismatch(AssertionError, f"The values for attribute 'device' do not match: {deva} != {devb}.")
    if check_dtype and da is not db:
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: {da!r} != {db!r}.")
    rtol, atol = _tols(rtol, atol, da.name, db.name)
    if da is not db:
        common = _dtype.promote_types(da, db).np
        va, vb = va.astype(common), vb.astype(common)
    if va.ndim == 0:
        a_s, b_s = va.item(), vb.item()
        if not _numbers_close(a_s, b_s, rtol, atol, equal_nan):
            raise _Mismatch(AssertionError, _number_message(a_s, b_s, rtol, atol))
        return
    exact = va.dtype.kind in "biu"
    if exact:  # integers and bools compare as int64 (no wraparound)
        va, vb = va.astype(np.int64), vb.astype(np.int64)
    with np.errstate(all="ignore"):
        matches = _close_mask(va, vb, rtol, atol, equal_nan)
        if matches.all():
            return
        _raise_mismatch(va, vb, matches, rtol, atol, exact)


def _close_mask(va, vb, rtol, atol, equal_nan):
    same = va == vb
    if va.dtype.kind in "iu" and rtol == 0 and atol == 0:
        return same
    wide = np.complex128 if va.dtype.kind == "c" else np.float64
    fa, fb = va.astype(wide), vb.astype(wide)
    close = np.isfinite(fa) & np.isfinite(fb) & (np.abs(fa - fb) <= atol + rtol * np.abs(fb))
    out = same | close
    if equal_nan:
        out |= np.isnan(fa) & np.isnan(fb)
    return out


def _raise_mismatch(va, vb, matches, rtol, atol, exact):
    equal = rtol == 0 and atol == 0
    abs_diff = np.abs(va - vb)
    if exact:
        rel_diff = abs_diff.astype(np.float32) / np.abs(vb).astype(np.float32)
    else:
        rel_diff = abs_diff / np.abs(vb)
    abs_diff[matches] = 0
    rel_diff[matches] = 0
    n, total = int((~matches).sum()), matches.size
    lines = [f"Tensor-likes are not {'equal' if equal else 'close'}!", "",
             f"Mismatched elements: {n} / {total} ({n / total:.1%})"]
    for what, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        i = int(np.argmax(diff.reshape(-1)))
        value = diff.reshape(-1)[i].item()
        index = tuple(int(j) for j in np.unravel_index(i, diff.shape))
        line = f"Greatest {what} difference: {value} at index {index}"
        lines.append(line + ("" if equal else f" (up to {_fmt_tol(tol)} allowed)"))
    raise _Mismatch(AssertionError, "\n".join(lines))


def _compare(a, b, path, opts):
    try:
        if _is_sequence(a) and _is_sequence(b):
            if len(a) != len(b):
                raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(a)} != {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)):
                _compare(x, y, f"{path}[{i}]", opts)
            return
        if isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping):
            ka, kb = set(a.keys()), set(b.keys())
            if ka != kb:
                missing = [k for k in b if k not in ka]
                extra = [k for k in a if k not in kb]
                raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                                f"Missing keys in the actual mapping: {_sorted(missing)}\n"
                                f"Additional keys in the actual mapping: {_sorted(extra)}")
            for k in _sorted(list(a.keys())):
                _compare(a[k], b[k], f"{path}[{k!r}]", opts)
            return
        if a is None or b is None:
            if a is not b:
                raise _Mismatch(AssertionError, f"None mismatch: {a} is not {b}")
            return
        if isinstance(a, (bool, np.bool_)) and isinstance(b, (bool, np.bool_)):
            if bool(a) is not bool(b):
                raise _Mismatch(AssertionError, f"Booleans mismatch: {bool(a)} is not {bool(b)}")
            return
        if isinstance(a, (bool, np.bool_, int, float, complex, np.number)) and \
                isinstance(b, (bool, np.bool_, int, float, complex, np.number)):
            if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
                raise _Mismatch(AssertionError, f"The (d)types do not match: {type(a)} != {type(b)}.")
            _compare_numbers(a, b, rtol=opts["rtol"], atol=opts["atol"], equal_nan=opts["equal_nan"],
                             check_dtype=opts["check_dtype"])
            return
        if _is_tensor_like(a) and _is_tensor_like(b):
            _compare_tensors(a, b, **opts)
            return
        raise _NoPair()
    except _Mismatch as e:
        if not e.path:
            e.path = path
        raise
    except _NoPair:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} and {type(b)}.") \
            from None


def _sorted(keys):
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg=None) -> None:
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Tensor-likes (mt Tensors, numpy arrays, JAX arrays) must have the same shape, device (with
    ``check_device``) and dtype (with ``check_dtype``; otherwise both are promoted to a common dtype),
    and their values must satisfy ``|actual - expected| <= atol + rtol * |expected|`` elementwise
    (``inf`` equal to itself; NaNs equal only with ``equal_nan``). Python/numpy numbers compare the
    same way; sequences and mappings are compared item by item.

    Args:
        actual, expected: what to compare.
        allow_subclasses: allow a tensor-like and an instance of its subclass (e.g. a Parameter).
        rtol, atol: relative and absolute tolerance; both or neither. Omitted: torch's defaults per
            dtype (float32 1.3e-6/1e-5, float64 1e-7/1e-7, float16 1e-3/1e-5, bfloat16 1.6e-2/1e-5,
            exact for integers and bools).
        equal_nan: treat two NaNs as equal.
        check_device, check_dtype: compare the devices / dtypes.
        check_layout, check_stride: accepted for torch compatibility (mt tensors are always strided
            and contiguous).
        msg: a str replacing the failure message, or a callable receiving it and returning the new one.

    Raises:
        AssertionError: the inputs differ (message in torch's format).
        TypeError: no comparison is defined for the pair of input types (e.g. a Tensor and a list).
        ValueError: only one of ``rtol``/``atol`` was given, or a tolerance is negative.
    """
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None and (rtol < 0 or atol < 0):
        raise ValueError(f"assert_close(): rtol and atol must be non-negative, got rtol={rtol} and "
                         f"atol={atol}")
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype)
    try:
        _compare(actual, expected, "", opts)
    except _Mismatch as e:
        text = e.text + (f"\n\nThe failure occurred for item {e.path}" if e.path else "")
        if callable(msg):
            text = msg(text)
        elif msg is not None:
            text = msg
        raise e.cls(text) from None


def assert_allclose(actual, expected, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated ``torch.testing.assert_allclose`` (warns ``FutureWarning``; use :func:`assert_close`).

    Non-tensor inputs become tensors (``expected`` with ``actual``'s dtype); dtypes are not checked;
    default tolerances come from the old table (float32 1e-4/1e-5, float64 1e-5/1e-8, float16 1e-3/1e-3,
    exact otherwise); NaNs compare equal by default.
    """
    from ._creation import tensor as _tensor
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
                  "future release. Please use `torch.testing.assert_close()` instead.", FutureWarning,
                  stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _tensor(actual)
    if not isinstance(expected, Tensor):
        expected = _tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_OLD_TOLERANCES.get(t.dtype.name, (0, 0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)



# ----- make_tensor -------------------------------------------------------------------------------
_DEFAULT_RANGES = {"bool": (0, 2), "unsigned": (0, 10), "signed": (-9, 10), "float": (-9, 9)}


def _shape_of(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError("make_tensor(): argument 'size' must be tuple of ints, but found element of "
                            f"type "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return tuple(int(s) for s in shape)


def _float_range(low, high, d):
    info = jnp.finfo(d.np)
    lo = -9 if low is None else low
    hi = 9 if high is None else high
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
    if lo > hi:
        raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
    return max(float(lo), float(info.min)), min(float(hi), float(info.max))


def make_tensor(*shape, dtype, device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """A tensor of the given shape filled with random values, as ``torch.testing.make_tensor``.

    Values are uniform in ``[low, high)``, clamped to the dtype's range. Defaults: bool ``[0, 2)``,
    unsigned ``[0, 10)``, signed integers ``[-9, 10)``, floating and complex (each part) ``[-9, 9)``.
    Integer bounds are rounded up (``ceil``). Drawn from mt's global generator (``mt.manual_seed``).

    Args:
        *shape: ints, or one sequence of ints.
        dtype: the mt dtype (required).
        device: the device (required).
        low, high: the value range (ignored for bool).
        requires_grad: make a leaf that requires grad (floating and complex dtypes only).
        noncontiguous, memory_format: accepted for torch compatibility (mutually exclusive, as in
            torch); JAX arrays have no strides, so the values are the same as without them.
        exclude_zero: replace zeros by 1 (integers, bool) or the dtype's smallest normal (floats;
            both parts for complex).

    Raises:
        TypeError: ``dtype`` is not an mt dtype, or a shape entry is not an int.
        ValueError: ``low``/``high`` are NaN or ``low > high``; ``requires_grad`` with an integral dtype;
            ``noncontiguous`` together with ``memory_format``.
    """
    from . import _random
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"The requested dtype {dtype!r} is not supported by torch.testing.make_tensor(). "
                        "Pass an mt dtype such as mt.float32.")
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype!r}")
    size = _shape_of(shape)
    kw = dict(device=device)
    if dtype is _dtype.bool:
        out = _random.randint(0, 2, size, **kw).to(_dtype.bool)
    elif not (dtype.is_floating_point or dtype.is_complex):
        info = np.iinfo(dtype.np)
        dlo, dhi = _DEFAULT_RANGES["signed" if dtype.is_signed else "unsigned"]
        lo, hi = (dlo if low is None else low), (dhi if high is None else high)
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo > hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        lo, hi = max(math.ceil(lo), int(info.min)), min(math.ceil(hi), int(info.max) + 1)
        if lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi} (after rounding up and "
                             f"clamping to {dtype!r}'s range)")
        out = _random.randint(lo, hi, size, dtype=_dtype.int64, **kw).to(dtype)
    else:
        part = dtype.to_real()
        lo, hi = _float_range(low, high, part)
        if lo == hi:
            warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types "
                          "is deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` "
                          "instead.",
                          FutureWarning, stacklevel=2)

        def uniform():
            u = _random.rand(size, dtype=_dtype.float64, **kw)
            return (u * hi + (1 - u) * lo).to(part)  # no overflow when hi - lo exceeds the dtype's range

        if dtype.is_complex:
            import minitorch_jax as mt
            out = mt.complex(uniform(), uniform())
        else:
            out = uniform()
    if exclude_zero:
        if dtype.is_floating_point or dtype.is_complex:
            tiny = float(jnp.finfo(dtype.to_real().np).tiny)
            fill = complex(tiny, tiny) if dtype.is_complex else tiny
        else:
            fill = True if dtype is _dtype.bool else 1
        out = out.masked_fill(out == 0, fill)
    out = out.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out
