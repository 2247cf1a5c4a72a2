"""nn.functional kernels: convolutions (``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``).

Each call is one table op: ``lax.conv_general_dilated`` with the bias added inside the same
jitted kernel. Shape checks run at trace time and raise torch's errors.
"""

from __future__ import annotations

import numpy as np
from jax import lax

from .._errors import DTypeError, OpTypeError, ShapeError
from ._helpers import A, Sample
from ._registry import register

__all__ = ["ntuple", "check_input_dims"]

_DN = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"), 3: ("NCDHW", "OIDHW", "NCDHW")}


def ntuple(v, n: int, op: str, what: str) -> tuple:
    """``v`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints (torch's ``_ntuple``)."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ShapeError(f"{op}(): expected {what} to be a single integer value or a list of {n} "
                             f"values to match the convolution dimensions, but got {what}={list(v)}")
        out = tuple(v)
    else:
        out = (v,) * n
    for e in out:
        if isinstance(e, bool) or not isinstance(e, (int, np.integer)):
            raise OpTypeError(f"{op}(): {what} must be int or tuple of ints, got {v!r}")
    return tuple(int(e) for e in out)


def check_input_dims(x, nd: int, op: str) -> bool:
    """Raise torch's error unless ``x`` is (C, *spatial) or (N, C, *spatial); True when batched."""
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got "
                         f"input of size: {list(x.shape)}")
    return x.ndim == nd + 2


def _tname(dt) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int"}.get(np.dtype(dt).name, np.dtype(dt).name)


def _cname(dt) -> str:
    """A dtype as torch's C++ messages spell it (``float``, ``double``, ``c10::Half`` ...)."""
    name = _tname(dt)
    return name.lower() if name in ("Float", "Double", "Long", "Int") else f"c10::{name}"


def _check_common(op, x, w, bias, nd, stride, dilation, groups):
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}(): expected weight to be {nd + 2}-dimensional, got weight of size "
                         f"{list(w.shape)}")
    if x.dtype != w.dtype or (bias is not None and bias.dtype != x.dtype):
        # torch's words: the bias is checked against the input first, then the weight
        detail = f"input {x.dtype}, weight {w.dtype}{'' if bias is None else ', bias ' + str(bias.dtype)}"
        if bias is not None and bias.dtype != x.dtype:
            msg = (f"Input type ({_cname(x.dtype)}) and bias type ({_cname(bias.dtype)}) should be the same "
                   f"(expected scalar type {_tname(x.dtype)} but found {_tname(bias.dtype)}: {detail})")
        else:
            msg = f"expected scalar type {_tname(x.dtype)} but found {_tname(w.dtype)} ({detail})"
        raise DTypeError(f"{op}(): {msg}")
    if any(s <= 0 for s in stride):
        raise ShapeError(f"{op}(): non-positive stride is not supported (stride={list(stride)})")
    if any(d <= 0 for d in dilation):
        raise ShapeError(f"{op}(): dilation should be greater than zero (dilation={list(dilation)})")
    if groups <= 0:
        raise ShapeError(f"{op}(): non-positive groups is not supported (groups={groups})")


def _check_bias(op, w, bias, cout):
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != cout):
        raise ShapeError(f"{op}(): Given weight of size {list(w.shape)}, expected bias to be 1-dimensional "
                         f"with {cout} elements, but got bias of size {list(bias.shape)} instead")


def _add_bias(out, bias, nd):
    if bias is None:
        return out
    return out + bias.reshape((-1,) + (1,) * nd)


def _conv(op, nd, x, w, bias, stride, padding, dilation, groups, precision):
    batched = check_input_dims(x, nd, op)
    stride = ntuple(stride, nd, op, "stride")
    dilation = ntuple(dilation, nd, op, "dilation")
    _check_common(op, x, w, bias, nd, stride, dilation, groups)
    if not batched:
        x = x[None]
    k = w.shape[2:]
    if w.shape[0] % groups:
        raise ShapeError(f"{op}(): Given groups={groups}, expected weight to be divisible by {groups} at "
                         f"dimension 0, but got weight of size {list(w.shape)} instead")
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(f"{op}(): Given groups={groups}, weight of size {list(w.shape)}, expected "
                         f"input{list(x.shape if batched else x.shape[1:])} to have "
                         f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead")
    _check_bias(op, w, bias, w.shape[0])
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ShapeError(f"{op}(): padding='same' is not supported for strided convolutions "
                                 f"(stride={list(stride)})")
            pads = []
            for d, kk in zip(dilation, k):
                total = d * (kk - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise ShapeError(f"{op}(): Invalid padding string: {padding!r}")
    else:
        p = ntuple(padding, nd, op, "padding")
        if any(e < 0 for e in p):
            raise ShapeError(f"{op}(): negative padding is not supported (padding={list(p)})")
        pads = [(e, e) for e in p]
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    eff = [d * (kk - 1) + 1 for d, kk in zip(dilation, k)]
    if any(a < b for a, b in zip(padded, eff)):
        raise ShapeError(f"{op}(): Calculated padded input size per channel: "
                         f"({' x '.join(map(str, padded))}). Kernel size: ({' x '.join(map(str, eff))}). "
                         f"Kernel size can't be greater than "
                         f"actual input size")
    out = lax.conv_general_dilated(x, w, stride, pads, rhs_dilation=dilation, dimension_numbers=_DN[nd],
                                   feature_group_count=groups, precision=precision)
    out = _add_bias(out, bias, nd)
    return out if batched else out[0]


def _conv_transpose(op, nd, x, w, bias, stride, padding, output_padding, groups, dilation, precision):
    batched = check_input_dims(x, nd, op)
    stride = ntuple(stride, nd, op, "stride")
    dilation = ntuple(dilation, nd, op, "dilation")
    padding = ntuple(padding, nd, op, "padding")
    opad = ntuple(output_padding, nd, op, "output_padding")
    _check_common(op, x, w, bias, nd, stride, dilation, groups)
    if not batched:
        x = x[None]
    if any(e < 0 for e in padding):
        raise ShapeError(f"{op}(): negative padding is not supported (padding={list(padding)})")
    if any(e < 0 for e in opad):
        raise ShapeError(f"{op}(): negative output_padding is not supported "
                         f"(output_padding={list(opad)})")
    if any(o >= s and o >= d for o, s, d in zip(opad, stride, dilation)):
        raise ShapeError(f"{op}(): output padding must be smaller than either stride or dilation, but got "
                         f"output_padding={list(opad)}, stride={list(stride)}, dilation={list(dilation)}")
    cin, cout_g = w.shape[0], w.shape[1]
    k = w.shape[2:]
    if cin % groups:
        raise ShapeError(f"{op}(): Given groups={groups}, expected weight to be divisible by {groups} at "
                         f"dimension 0, but got weight of size {list(w.shape)} instead")
    if x.shape[1] != cin:
        raise ShapeError(f"{op}(): Given transposed=1, weight of size {list(w.shape)}, expected "
                         f"input{list(x.shape if batched else x.shape[1:])} to have {cin} channels, but "
                         f"got {x.shape[1]} channels instead")
    _check_bias(op, w, bias, cout_g * groups)
    sizes = [(n - 1) * s - 2 * p + d * (kk - 1) + o + 1
             for n, s, p, d, kk, o in zip(x.shape[2:], stride, padding, dilation, k, opad)]
    if any(e <= 0 for e in sizes):
        raise ShapeError(f"{op}(): Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). "
                         f"Calculated output size per channel: ({' x '.join(map(str, sizes))}). "
                         f"Output size is too small")
    # (in, out/g, k...) -> (out, in/g, k...), spatially flipped: the transpose as a dilated conv
    wt = w.reshape((groups, cin // groups, cout_g) + k)
    wt = wt.swapaxes(1, 2).reshape((groups * cout_g, cin // groups) + k)
    wt = wt[(slice(None), slice(None)) + (slice(None, None, -1),) * nd]
    pads = [(d * (kk - 1) - p, d * (kk - 1) - p + o) for d, kk, p, o in zip(dilation, k, padding, opad)]
    out = lax.conv_general_dilated(x, wt, (1,) * nd, pads, lhs_dilation=stride, rhs_dilation=dilation,
                                   dimension_numbers=_DN[nd], feature_group_count=groups,
                                   precision=precision)
    out = _add_bias(out, bias, nd)
    return out if batched else out[0]


_TOL = {"rtol": 1e-4, "atol": 1e-4}


def _make_conv(nd):
    name = f"conv{nd}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, precision="highest"):
        return _conv(name, nd, input, weight, bias, stride, padding, dilation, groups, precision)

    conv.__name__ = name
    conv.__doc__ = f"""Applies a {nd}D convolution over an input of several planes (cross-correlation).

    Args:
        input: ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)`` ({nd} spatial dims).
        weight: ``(C_out, C_in / groups, *kernel_size)``.
        bias: optional ``(C_out,)``, added in the same kernel.
        stride, dilation: an int or a tuple of {nd} ints.
        padding: an int, a tuple of {nd} ints, ``'valid'`` (none) or ``'same'`` (output size = input
            size; stride 1 only; an odd total goes to the end, as torch).
        groups: split input and output channels into this many groups.

    Returns: ``(N, C_out, *out)`` with ``out = (n + 2p - d(k-1) - 1) // s + 1`` per dim.
    """
    return conv


def _make_conv_t(nd):
    name = f"conv_transpose{nd}d"

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                       dilation=1, *, precision="highest"):
        return _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups,
                               dilation, precision)

    conv_transpose.__name__ = name
    conv_transpose.__doc__ = f"""Applies a {nd}D transposed convolution ("deconvolution").

    Args:
        input: ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``.
        weight: ``(C_in, C_out / groups, *kernel_size)`` (torch's layout).
        bias: optional ``(C_out,)``.
        stride, padding, output_padding, dilation: an int or a tuple of {nd} ints;
            ``output_padding`` must be smaller than stride or dilation.
        groups: number of blocked connections from input to output channels.

    Returns: ``(N, C_out, *out)``, ``out = (n-1)s - 2p + d(k-1) + output_padding + 1`` per dim.
    """
    return conv_transpose


def _conv1d_samples():
    return [Sample(A(2, 4, 9), A(6, 4, 3), A(6), **_TOL),
            Sample(A(2, 4, 10), A(6, 2, 3), None, 2, 1, 2, 2, **_TOL),
            Sample(A(4, 8), A(3, 4, 2), A(3), padding="same", **_TOL),
            Sample(A(1, 4, 7), A(4, 1, 3), padding="valid", groups=4, **_TOL),
            Sample(A(2, 3, 6, dtype="float64"), A(5, 3, 4, dtype="float64"), A(5, dtype="float64"),
                   padding="same", dilation=2),
            Sample(A(2, 3, 6), A(5, 4, 3)), Sample(A(2, 3, 2), A(5, 3, 3)),
            Sample(A(2, 3, 6), A(5, 3, 3), padding=-1), Sample(A(2, 3, 6), A(5, 3, 3), stride=2,
                                                               padding="same")]


def _conv2d_samples():
    return [Sample(A(2, 3, 7, 6), A(4, 3, 3, 3), A(4), **_TOL),
            Sample(A(2, 4, 9, 8), A(6, 2, 3, 2), A(6), (2, 1), (1, 2), (2, 1), 2, **_TOL),
            Sample(A(1, 6, 8, 8), A(6, 1, 3, 3), None, stride=2, padding=1, groups=6, **_TOL),
            Sample(A(3, 5, 5), A(2, 3, 2, 2), A(2), padding="same", **_TOL),
            Sample(A(2, 2, 6, 5, dtype="float64"), A(3, 2, 4, 3, dtype="float64"), A(3, dtype="float64"),
                   padding="same", dilation=(1, 2)),
            Sample(A(2, 3, 5, 5), A(4, 3, 1, 1), A(4), stride=3, **_TOL),
            Sample(A(2, 4, 8, 8), A(8, 3, 3, 3)), Sample(A(2, 3), A(8, 3, 3, 3)),
            Sample(A(2, 3, 2, 2), A(8, 3, 3, 3)), Sample(A(2, 3, 5, 5), A(8, 3, 3, 3), A(4)),
            Sample(A(2, 4, 5, 5), A(3, 2, 3, 3), groups=2),
            Sample(A(2, 3, 5, 5, dtype="float64"), A(8, 3, 3, 3))]


def _conv3d_samples():
    return [Sample(A(2, 2, 5, 4, 4), A(3, 2, 2, 3, 2), A(3), **_TOL),
            Sample(A(2, 4, 5, 6, 5), A(4, 2, 3, 3, 3), None, 2, 1, 1, 2, **_TOL),
            Sample(A(2, 4, 4, 4, dtype="float64"), A(3, 2, 3, 3, 3, dtype="float64"), padding="same"),
            Sample(A(2, 3, 4, 4, 4), A(3, 2, 3, 3, 3))]


def _conv_t1d_samples():
    return [Sample(A(2, 4, 6), A(4, 3, 3), A(3), **_TOL),
            Sample(A(2, 4, 5), A(4, 2, 3), A(4), 2, 1, 1, 2, 2, **_TOL),
            Sample(A(3, 5), A(3, 2, 4), None, stride=3, padding=2, **_TOL),
            Sample(A(2, 2, 5, dtype="float64"), A(2, 3, 3, dtype="float64"), dilation=2, output_padding=1,
                   stride=2),
            Sample(A(2, 3, 5), A(4, 2, 3)), Sample(A(2, 4, 5), A(4, 2, 3), output_padding=1)]


def _conv_t2d_samples():
    return [Sample(A(2, 3, 4, 5), A(3, 2, 3, 3), A(2), **_TOL),
            Sample(A(2, 4, 4, 3), A(4, 3, 3, 2), A(6), (2, 1), (1, 0), (1, 0), 2, (1, 2), **_TOL),
            Sample(A(1, 4, 5, 5), A(4, 1, 3, 3), None, stride=2, padding=1, output_padding=1, groups=4,
                   **_TOL),
            Sample(A(2, 4, 4, dtype="float64"), A(2, 3, 2, 2, dtype="float64"), A(3, dtype="float64"),
                   stride=2),
            Sample(A(2, 3, 4, 4), A(4, 2, 3, 3)), Sample(A(2, 3, 4, 4), A(3, 2, 3, 3), output_padding=1)]


def _conv_t3d_samples():
    return [Sample(A(2, 2, 3, 4, 3), A(2, 3, 2, 3, 2), A(3), stride=(2, 1, 2), padding=(0, 1, 0), **_TOL),
            Sample(A(2, 4, 3, 3, 3, dtype="float64"), A(4, 1, 3, 3, 3, dtype="float64"), groups=2)]


for _nd, _s, _ts in ((1, _conv1d_samples, _conv_t1d_samples), (2, _conv2d_samples, _conv_t2d_samples),
                     (3, _conv3d_samples, _conv_t3d_samples)):
    register(f"conv{_nd}d", nin=3, precision=True, method=False, functional=True, saves=(0, 1),
             grad_name="ConvolutionBackward0", samples=_s)(_make_conv(_nd))
    register(f"conv_transpose{_nd}d", nin=3, precision=True, method=False, functional=True, saves=(0, 1),
             grad_name="ConvolutionBackward0", samples=_ts)(_make_conv_t(_nd))
