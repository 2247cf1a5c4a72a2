"""Spectral ops: torch.fft's transforms (``mt.fft.*``, table entries named ``fft_<name>``), the window
functions (``mt.hann_window`` ...), and ``stft``/``istft`` (functions and Tensor methods).

The transforms follow torch's rules exactly: real inputs promote to the matching complex dtype
(float32 -> complex64, integers -> the default float's complex), ``n``/``s`` pad with zeros or crop
each transformed dim before the transform, ``-1`` in ``s`` keeps a dim's size, and ``norm`` is one of
None/'backward' (scale the inverse by 1/n), 'ortho' (1/sqrt(n) both ways) or 'forward' (scale the
forward by 1/n). Checks happen while JAX traces the op, so they cost nothing per call.

Gradients come from JAX and follow torch's convention for complex tensors (see
``_registry._conj_if_complex``). float16/bfloat16 inputs are refused as on torch's CPU backend
(JAX has no complex32).

Differences from torch: the windows are computed in float64 on the host and then cast (torch
computes in the target dtype, so low-precision windows can differ in the last bit).
"""

from __future__ import annotations

import builtins
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _dtype
from .._creation import _finish
from .._errors import DTypeError, MiniTorchError, OpIndexError, OpTypeError, ShapeError
from .._meta import is_meta_array
from .._tensor import Tensor, _wrap
from ._helpers import A, I, Sample
from ._registry import REGISTRY, _assign_out, register
from .complex_ops import C
from .nn_sampling import _pad_kernel

__all__ = ["SpectralError"]


class SpectralError(MiniTorchError, RuntimeError):
    """An argument value that torch's spectral ops reject with RuntimeError (norm, sizes, dims)."""


_NORMS = ("backward", "ortho", "forward")
_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_TORCH_DTYPE = {"float16": "Half", "bfloat16": "BFloat16", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble", "float32": "Float", "float64": "Double"}


# ----- argument checks (trace time) ------------------------------------------------------------
def _norm(norm, op):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise SpectralError(f'{op}(): Invalid normalization mode: "{norm}"')
    return norm


def _int_arg(v, what, op):
    if isinstance(v, builtins.bool) or not isinstance(v, (builtins.int, np.integer)):
        raise OpTypeError(f"{op}(): argument '{what}' must be int, not {type(v).__name__}")
    return builtins.int(v)


def _ints(v, what, op):
    if isinstance(v, (list, tuple)):
        return tuple(_int_arg(x, what, op) for x in v)
    return (_int_arg(v, what, op),)


def _wrap_dim(d, ndim, op):
    if ndim == 0:
        raise OpIndexError(f"{op}(): Dimension specified as {d} but tensor has no dimensions")
    if not -ndim <= d < ndim:
        raise OpIndexError(f"{op}(): Dimension out of range (expected to be in range of "
                           f"[{-ndim}, {ndim - 1}], but got {d})")
    return d % ndim


def _axes_sizes(shape, s, dim, op):
    """torch's canonical (dims, sizes) of an n-d transform: ``s``/``dim`` None, an int or a sequence;
    ``-1`` in ``s`` keeps the input size."""
    ndim = len(shape)
    if dim is not None:
        axes = tuple(_wrap_dim(d, ndim, op) for d in _ints(dim, "dim", op))
        if len(set(axes)) != len(axes):
            raise SpectralError(f"{op}(): FFT dims must be unique (got dim={list(axes)})")
    if s is not None:
        s = _ints(s, "s", op)
        if dim is None:
            if len(s) > ndim:
                raise SpectralError(f"{op}(): Got shape with {len(s)} values but input tensor only has "
                                    f"{ndim} dimensions.")
            axes = tuple(range(ndim - len(s), ndim))
        elif len(s) != len(axes):
            raise SpectralError(f"{op}(): When given, dim and shape arguments must have the same length "
                                f"(got s={list(s)}, dim={list(axes)})")
        sizes = [shape[a] if n == -1 else n for a, n in zip(axes, s)]
    else:
        if dim is None:
            axes = tuple(range(ndim))
        sizes = [shape[a] for a in axes]
    return axes, sizes


def _check_sizes(sizes, op):
    for n in sizes:
        if n < 1:
            raise SpectralError(f"{op}(): Invalid number of data points ({n}) specified")


def _resize(x, axes, sizes):
    """Zero-pad or crop ``x`` at the end of each of ``axes`` to ``sizes``."""
    for a, n in zip(axes, sizes):
        m = x.shape[a]
        if n < m:
            x = lax.slice_in_dim(x, 0, n, axis=a)
        elif n > m:
            cfg = [(0, 0, 0)] * x.ndim
            cfg[a] = (0, n - m, 0)
            x = lax.pad(x, jnp.zeros((), x.dtype), cfg)
    return x


def _as_complex(x, op):
    name = jnp.dtype(x.dtype).name
    if name in ("float16", "bfloat16"):
        raise DTypeError(f"{op}(): Unsupported dtype {_TORCH_DTYPE[name]}")
    if jnp.iscomplexobj(x):
        return x
    return x.astype(jnp.complex128 if name == "float64" else jnp.complex64)


def _as_real(x, op, short):
    name = jnp.dtype(x.dtype).name
    if jnp.iscomplexobj(x):
        raise DTypeError(f"{op}(): {short} expects a real input tensor, but got {_TORCH_DTYPE[name]}")
    if name in ("float16", "bfloat16"):
        raise DTypeError(f"{op}(): Unsupported dtype {_TORCH_DTYPE[name]}")
    return x


# ----- the transforms on resized arrays ----------------------------------------------------------
def _c2c(x, axes, forward, norm):
    """Complex-to-complex over ``axes`` (jnp's n-d transforms take at most 3 axes at a time; the
    normalisation factors of the chunks multiply to the whole one)."""
    f = jnp.fft.fftn if forward else jnp.fft.ifftn
    axes = list(axes)
    for i in range(0, len(axes), 3):
        x = f(x, axes=axes[i:i + 3], norm=norm)
    return x


def _r2c(x, axes, norm):
    """Real-to-complex: the one-sided transform of the last axis, then full ones of the others."""
    x = jnp.fft.rfft(x, axis=axes[-1], norm=norm)
    return _c2c(x, axes[:-1], True, norm)


def _c2r(x, axes, last_n, norm):
    """Complex-to-real: inverse full transforms of all but the last axis, then the one-sided
    inverse of the last (giving ``last_n`` real points)."""
    x = _c2c(x, axes[:-1], False, norm)
    return jnp.fft.irfft(x, n=last_n, axis=axes[-1], norm=norm)


_KINDS = {  # name: (kind, torch's short name used in its messages)
    "fft": "c2c", "ifft": "c2c", "rfft": "r2c", "irfft": "c2r", "hfft": "c2r", "ihfft": "r2c",
}
_FORWARD = {"fft", "rfft", "ihfft"}


def _transform(x, base, s, dim, norm, op, nd):
    """Run transform family ``base`` ('fft', 'rfft', ... without the n-d suffix) over canonical dims."""
    norm = _norm(norm, op)
    kind = _KINDS[base]
    axes, sizes = _axes_sizes(x.shape, s, dim, op)
    if kind != "c2c" and not axes:
        raise SpectralError(f"{op}(): {base}{nd} must transform at least one axis")
    if kind == "c2r":
        x = _as_complex(x, op)
        if s is None or _ints(s, "s", op)[-1] == -1:
            sizes[-1] = 2 * (x.shape[axes[-1]] - 1)
        _check_sizes(sizes, op)
        last_n = sizes[-1]
        x = _resize(x, axes, sizes[:-1] + [last_n // 2 + 1])
        if base == "hfft":  # the Hermitian transforms: conjugated input, the dual normalisation
            return _c2r(jnp.conj(x), axes, last_n, _SWAP[norm])
        return _c2r(x, axes, last_n, norm)
    _check_sizes(sizes, op)
    if kind == "r2c":
        x = _resize(_as_real(x, op, base + nd), axes, sizes)
        if base == "ihfft":
            return jnp.conj(_r2c(x, axes, _SWAP[norm]))
        return _r2c(x, axes, norm)
    x = _resize(_as_complex(x, op), axes, sizes)
    return _c2c(x, axes, base == "fft", norm)


def _kernel_1d(base):
    op = f"fft.{base}"

    def kernel(input, n=None, dim=-1, norm=None):
        s = None if n is None else (_int_arg(n, "n", op),)
        return _transform(input, base, s, (_int_arg(dim, "dim", op),), norm, op, "")
    return kernel


def _kernel_nd(base, nd):
    op = f"fft.{base}{nd}"
    default_dim = (-2, -1) if nd == "2" else None

    def kernel(input, s=None, dim=default_dim, norm=None):
        return _transform(input, base, s, dim, norm, op, "n")
    return kernel


_WHAT = {
    "fft": "the discrete Fourier transform", "ifft": "the inverse discrete Fourier transform",
    "rfft": "the one-sided Fourier transform of a real signal (the last transformed dim keeps "
            "``n // 2 + 1`` frequencies)",
    "irfft": "the inverse of :func:`rfft`: a real signal from a one-sided spectrum (the last dim gives "
             "``n`` points, by default ``2 * (size - 1)``)",
    "hfft": "the transform of a Hermitian-symmetric signal given by its one-sided half: a real "
            "spectrum (``n`` points, by default ``2 * (size - 1)``)",
    "ihfft": "the inverse of :func:`hfft`: the one-sided half of the Hermitian spectrum of a real "
             "signal",
}


def _doc(base, nd):
    name = base + nd
    if nd == "":
        args = ("n: the transformed length (pad with zeros or crop); default the input's size.\n"
                "        dim: the dim to transform (default -1).")
        shape = "the input's shape with ``dim`` changed by the transform"
    else:
        over = "the last two dims" if nd == "2" else "all dims (or the last ``len(s)`` dims)"
        args = ("s: the transformed sizes (pad or crop; -1 keeps a size); default the input's.\n"
                f"        dim: the dims to transform (default: {over}).")
        shape = "the input's shape with the transformed dims changed"
    over = "one dim" if nd == "" else "two dims" if nd == "2" else "n dims"
    kind = "real" if base in ("rfft", "ihfft") else "complex (or real)"
    out = "real" if base in ("irfft", "hfft") else "complex"
    return (f"{_WHAT[base][0].upper()}{_WHAT[base][1:]} over {over} (torch.fft.{name}).\n\n"
            f"    Args:\n        input: the {kind} input tensor.\n        {args}\n"
            "        norm: None/'backward', 'ortho' or 'forward' (which direction is scaled by 1/n).\n\n"
            f"    Shapes: {shape}. dtype: {out} (float32 <-> complex64, float64 <-> complex128; integers "
            "use the default float dtype).\n")


def _samples_1d(base):
    real_in = base in ("rfft", "ihfft")
    g = base in ("irfft", "hfft")  # the parity harness backpropagates real results only (tests/test_fft.py)

    def samples():
        return [Sample(A(3, 8) if real_in else C(3, 8), 5, 0, "ortho", grad=g),
                Sample(A(2, 5, dtype="float64") if real_in else C(2, 5, dtype="complex128"), 12, -1,
                       "forward", grad=g),
                Sample(I(6) if real_in else A(6), norm="backward", grad=g)]
    return samples


def _samples_nd(base, nd):
    real_in = base in ("rfft", "ihfft")
    g = base in ("irfft", "hfft")

    def samples():
        x = A(2, 4, 6) if real_in else C(2, 4, 6)
        out = [Sample(x, grad=g), Sample(x, (3, 8), (0, 2), "ortho", grad=g)]
        if nd == "n":
            out.append(Sample(x, (5, -1), norm="forward", grad=g))
        else:
            out.append(Sample(x, (6, 3), norm="forward", grad=g))
        return out
    return samples


for _base in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
    for _nd in ("", "2", "n"):
        _name = _base + _nd
        _k = _kernel_1d(_base) if _nd == "" else _kernel_nd(_base, _nd)
        _k.__name__ = _k.__qualname__ = _name
        _k.__doc__ = _doc(_base, _nd)
        register(f"fft_{_name}", torch_name=f"fft.{_name}", method=False, function=False, promote="float",
                 samples=_samples_1d(_base) if _nd == "" else _samples_nd(_base, _nd))(_k)


# ----- shifts ---------------------------------------------------------------------------------------
def _shift(input, dim, inverse, op):
    if dim is None:
        axes = tuple(range(input.ndim))
    else:
        axes = tuple(_wrap_dim(d, input.ndim, op) for d in _ints(dim, "dim", op))
    if not axes:
        raise SpectralError(f"{op}(): `shifts` required (the input has no dims to shift)")
    shifts = tuple((input.shape[a] + 1) // 2 if inverse else input.shape[a] // 2 for a in axes)
    return jnp.roll(input, shifts, axes)


@register("fft_fftshift", torch_name="fft.fftshift", method=False, function=False,
          samples=lambda: [Sample(A(3, 4)), Sample(I(5, 2), 0), Sample(C(3, 5), (0, 1)), Sample(A(5, 6), -1)])
def fftshift(input, dim=None):
    """Move the zero-frequency term to the centre (torch.fft.fftshift): roll each of ``dim`` (default
    all dims) by ``size // 2``. Any dtype; shape unchanged."""
    return _shift(input, dim, False, "fft.fftshift")


@register("fft_ifftshift", torch_name="fft.ifftshift", method=False, function=False,
          samples=lambda: [Sample(A(3, 5)), Sample(I(5, 2), 0), Sample(C(3, 5), (0, 1))])
def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift` (torch.fft.ifftshift): roll each of ``dim`` (default all dims) by
    ``(size + 1) // 2``. Any dtype; shape unchanged."""
    return _shift(input, dim, True, "fft.ifftshift")


# ----- creation functions: frequencies and windows ----------------------------------------------------
def _no_kernel(*args, **kwargs):
    raise NotImplementedError  # never traced: these entries are answered by their impl


def _float_dtype(dtype, op, complex_ok=False):
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    if not (dt.is_floating_point or (complex_ok and dt.is_complex)):
        kinds = "a floating point or complex dtype" if complex_ok else "floating point dtypes"
        raise DTypeError(f"{op} {'requires' if complex_ok else 'expects'} {kinds}, got: {dt.name}")
    return dt


def _length(n, op, what="window_length"):
    if isinstance(n, Tensor) and n.ndim == 0 and not n.dtype.is_floating_point:
        n = n.item()
    n = _int_arg(n, what, op)
    return n


def _created(values, dt, device, requires_grad, out=None, op=None):
    res = _finish(_wrap(jnp.asarray(np.asarray(values).astype(dt.np))), device, requires_grad)
    if out is None:
        return res
    _assign_out(REGISTRY[op], out, res)
    return out


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of a length-``n`` transform (torch.fft.fftfreq):
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``.

    Args:
        n: the transform length. d: the sample spacing (default 1).
        dtype: a floating (or complex) dtype, default the default float; device, requires_grad as usual.

    Shapes: ``(n,)``.
    """
    n = _length(n, "fft.fftfreq", "n")
    dt = _float_dtype(dtype, "fftfreq", complex_ok=True)
    if n < 0:
        raise ShapeError(f"fft.fftfreq(): Trying to create tensor with negative dimension {n}: [{n}]")
    k = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)]).astype(np.float64)
    return _created(k * (1.0 / (n * float(d))) if n else k, dt, device, requires_grad, out, "fft_fftfreq")


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of :func:`rfft` of a length-``n`` signal (torch.fft.rfftfreq):
    ``[0, 1, ..., n // 2] / (d * n)``.

    Args:
        n: the signal length. d: the sample spacing (default 1).
        dtype: a floating (or complex) dtype, default the default float; device, requires_grad as usual.

    Shapes: ``(n // 2 + 1,)``.
    """
    n = _length(n, "fft.rfftfreq", "n")
    dt = _float_dtype(dtype, "rfftfreq", complex_ok=True)
    if n < 0:
        raise ShapeError(f"fft.rfftfreq(): Trying to create tensor with negative dimension {n // 2 + 1}: "
                         f"[{n // 2 + 1}]")
    k = np.arange(n // 2 + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = k * (1.0 / (n * float(d))) if n else k / 0.0
    return _created(vals, dt, device, requires_grad, out, "fft_rfftfreq")


def _window(name, formula):
    """A window function ``name(window_length, periodic=True, *params, dtype=..., ...)``; ``formula(n,
    m, *params)`` gives the float64 values at positions ``n`` of a symmetric window of length ``m``."""
    def make(window_length, periodic, params, dtype, device, requires_grad):
        length = _length(window_length, name)
        dt = _float_dtype(dtype, name)
        if length < 0:
            raise ShapeError(f"{name} requires non-negative window_length, got window_length={length}")
        if length <= 1:
            vals = np.ones(length)
        else:
            m = length + 1 if periodic else length
            vals = formula(np.arange(length, dtype=np.float64), m, *params)
        return _created(vals, dt, device, requires_grad)
    return make


def _cosine(n, m, *coefs):
    x = 2.0 * math.pi * n / (m - 1)
    return sum(c * np.cos(k * x) for k, c in enumerate(coefs))


_hamming = _window("hamming_window", lambda n, m, alpha, beta: _cosine(n, m, alpha, -beta))
_hann = _window("hann_window", lambda n, m: _cosine(n, m, 0.5, -0.5))
_blackman = _window("blackman_window", lambda n, m: _cosine(n, m, 0.42, -0.5, 0.08))
_bartlett = _window("bartlett_window", lambda n, m: 1.0 - np.abs(2.0 * n / (m - 1) - 1.0))
_kaiser = _window("kaiser_window", lambda n, m, beta: np.i0(
    beta * np.sqrt(np.clip(1.0 - ((n - (m - 1) / 2.0) / ((m - 1) / 2.0)) ** 2, 0.0, None))) / np.i0(beta))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """The Hann window (torch.hann_window): ``0.5 - 0.5 cos(2 pi n / (N - 1))``.

    Args:
        window_length: the window size. periodic: if True (default) the window of length
            ``window_length + 1`` without its last point (for spectral analysis); else symmetric.
        dtype: a floating dtype (default the default float); device, requires_grad as usual.

    Shapes: ``(window_length,)``; a length-1 window is ``[1.]``.
    """
    return _hann(window_length, periodic, (), dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None,
                   device=None, pin_memory=False, requires_grad=False):
    """The generalised Hamming window (torch.hamming_window): ``alpha - beta cos(2 pi n / (N - 1))``.

    Args:
        window_length, periodic: as :func:`hann_window`. alpha, beta: the coefficients (0.54, 0.46).
        dtype: a floating dtype (default the default float); device, requires_grad as usual.

    Shapes: ``(window_length,)``.
    """
    return _hamming(window_length, periodic, (float(alpha), float(beta)), dtype, device, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """The Blackman window (torch.blackman_window):
    ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``.

    Args: as :func:`hann_window`. Shapes: ``(window_length,)``.
    """
    return _blackman(window_length, periodic, (), dtype, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """The Bartlett (triangular) window (torch.bartlett_window): ``1 - |2n / (N - 1) - 1|``.

    Args: as :func:`hann_window`. Shapes: ``(window_length,)``.
    """
    return _bartlett(window_length, periodic, (), dtype, device, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """The Kaiser window (torch.kaiser_window):
    ``I0(beta sqrt(1 - ((n - N/2) / (N/2))^2)) / I0(beta)`` with ``N = window_length - 1``.

    Args:
        window_length, periodic: as :func:`hann_window`. beta: the shape parameter (default 12).
        dtype: a floating dtype (default the default float); device, requires_grad as usual.

    Shapes: ``(window_length,)``.
    """
    return _kaiser(window_length, periodic, (float(beta),), dtype, device, requires_grad)


def _creation_samples(*samples):
    return lambda: [Sample(*s[0], grad=False, method=False, **s[1]) for s in samples]


for _f, _smp in (
        (fftfreq, _creation_samples(((5,), {}), ((4, 0.5), {}), ((7,), {"dtype": _dtype.float64}))),
        (rfftfreq, _creation_samples(((5,), {}), ((8, 0.25), {}), ((6,), {"dtype": _dtype.float64})))):
    register("fft_" + _f.__name__, torch_name="fft." + _f.__name__, impl=_f, method=False, function=False,
             differentiable=False, samples=_smp)(_no_kernel)

_F64 = {"dtype": _dtype.float64}
for _f, _smp in ((hann_window, ((8,), {})), (blackman_window, ((8,), {})),
                 (bartlett_window, ((5, False), {})), (hamming_window, ((6, False, 0.5, 0.3), {})),
                 (kaiser_window, ((9, False, 5.0), {}))):
    register(_f.__name__, impl=_f, method=False, differentiable=False,
             samples=_creation_samples(_smp, ((7, False), _F64), ((-1,), {})))(_no_kernel)


# ----- stft / istft -----------------------------------------------------------------------------------
def _padded_window(window, win_length, n_fft, dtype):
    """The window (ones when None) zero-padded on both sides to ``n_fft``."""
    w = jnp.ones((win_length,), dtype) if window is None else window
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        w = jnp.pad(w, (left, n_fft - win_length - left))
    return w


def _stft_kernel(input, window, n_fft, hop_length, win_length, center, pad_mode, normalized, onesided,
                 return_complex, align_to_window):
    """The short-time Fourier transform kernel (see :func:`stft`)."""
    name = jnp.dtype(input.dtype).name
    if not (jnp.issubdtype(input.dtype, jnp.floating) or jnp.iscomplexobj(input)):
        raise DTypeError(f"stft(): expected a tensor of floating point or complex values (got {name})")
    if name in ("float16", "bfloat16"):
        raise DTypeError(f"stft(): Unsupported dtype {_TORCH_DTYPE[name]}")
    if input.ndim not in (1, 2):
        raise ShapeError(f"stft(): expected a 1D or 2D tensor (got {input.ndim}D, shape {list(input.shape)})")
    x = input[None] if input.ndim == 1 else input
    if center:
        pad = n_fft // 2
        x = _pad_kernel(x[None], (pad, pad), pad_mode)[0]
    length = x.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise ShapeError(f"stft(): expected 0 < n_fft <= {length} (the padded signal length), but got "
                         f"n_fft={n_fft}")
    if hop_length <= 0:
        raise ShapeError(f"stft(): expected hop_length > 0, but got hop_length={hop_length}")
    if win_length <= 0 or win_length > n_fft:
        raise ShapeError(f"stft(): expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise ShapeError(f"stft(): expected a 1D window tensor of size equal to win_length={win_length}, "
                         f"but got window with size {list(window.shape)}")
    if align_to_window:  # frames of win_length start at t * hop_length; the window is centred in n_fft
        left = (n_fft - win_length) // 2
        x = jnp.pad(x, ((0, 0), (left, n_fft - win_length - left)))
        length = x.shape[1]
    w = _padded_window(window, win_length, n_fft, x.dtype)
    n_frames = 1 + (length - n_fft) // hop_length
    idx = np.arange(n_frames)[:, None] * hop_length + np.arange(n_fft)[None, :]
    frames = x[:, idx] * w  # (B, T, n_fft)
    cplx = jnp.iscomplexobj(frames)
    if onesided is None:
        onesided = not cplx
    norm = "ortho" if normalized else "backward"
    if cplx:
        if onesided:
            raise SpectralError("stft(): Cannot have onesided output if window or input is complex")
        out = jnp.fft.fft(frames, axis=-1, norm=norm)
    elif onesided:
        out = jnp.fft.rfft(frames, axis=-1, norm=norm)
    else:
        out = jnp.fft.fft(frames.astype(_as_complex(frames, "stft").dtype), axis=-1, norm=norm)
    out = jnp.swapaxes(out, 1, 2)
    if input.ndim == 1:
        out = out[0]
    if not return_complex:
        out = jnp.stack([jnp.real(out), jnp.imag(out)], -1)
    return out


def _stft_samples():
    w = np.hanning(10)[:8].astype("float32") + 0.1
    return [Sample(A(20), 8, return_complex=True, grad=False),
            Sample(A(2, 17), 8, 2, 6, w[:6], False, normalized=True, return_complex=False),
            Sample(C(16), 6, 2, None, w[:6], pad_mode="constant", grad=False)]


_WINDOW_WARNING = ("A window was not provided. A rectangular window will be applied, which is known to cause "
                   "spectral leakage. Other windows such as mt.hann_window or mt.hamming_window are "
                   "recommended to reduce spectral leakage. To suppress this warning and use a rectangular "
                   "window, explicitly set `window=mt.ones(n_fft)`.")


_WARNED: set = set()


def _warn_once(key, msg):
    """torch's TORCH_WARN_ONCE: the first time per process."""
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(msg, UserWarning, stacklevel=3)


def _is_complex_t(t):
    return isinstance(t, Tensor) and t.dtype.is_complex


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform (torch.stft): Fourier transforms of overlapping windowed frames.

    Args:
        input: ``(L,)`` or ``(B, L)`` real or complex signal.
        n_fft: the size of each transform. hop_length: the frame step (default ``n_fft // 4``).
        win_length: the window size, ``<= n_fft`` (default ``n_fft``); the window is zero-padded on both
            sides to ``n_fft``. window: a ``(win_length,)`` tensor (default all ones, with torch's warning).
        center: pad the signal by ``n_fft // 2`` on both sides (``pad_mode``: 'reflect', 'constant',
            'replicate' or 'circular') so frame ``t`` is centred at ``t * hop_length``.
        normalized: multiply by ``n_fft ** -0.5``. onesided: keep ``n_fft // 2 + 1`` frequencies (default
            True for real input and window; impossible for complex ones).
        return_complex: required for real inputs (torch's rule); False gives the real/imaginary parts
            in a last dim of size 2 (deprecated in torch).
        align_to_window: only with ``center=False``: frames of ``win_length`` start at ``t * hop_length``.

    Shapes: ``(B?, N, T)`` complex (``(B?, N, T, 2)`` real if ``return_complex=False``) with ``N`` the
    frequencies and ``T = 1 + (L' - n_fft) // hop_length`` frames (``L'`` the padded length).
    """
    if center and align_to_window is not None:
        raise SpectralError("stft(): stft align_to_window should only be set when center = false")
    if window is None:
        _warn_once("window", _WINDOW_WARNING)
    rc = return_complex if return_complex is not None else (_is_complex_t(input) or _is_complex_t(window))
    if not rc:
        if return_complex is None:
            raise SpectralError("stft(): stft requires the return_complex parameter be given for real "
                                "inputs, and will further require that return_complex=True in a future "
                                "PyTorch release.")
        _warn_once("real", "stft with return_complex=False is deprecated. In a future pytorch release, stft "
                   "will return complex tensors for all inputs, and return_complex=False will raise an "
                   "error.\nNote: you can still call mt.view_as_real on the complex output to recover the "
                   "old return format.")
    n_fft = _int_arg(n_fft, "n_fft", "stft")
    hop = n_fft // 4 if hop_length is None else _int_arg(hop_length, "hop_length", "stft")
    wl = n_fft if win_length is None else _int_arg(win_length, "win_length", "stft")
    return REGISTRY["stft"].call(input, window, n_fft, hop, wl, builtins.bool(center), pad_mode,
                                 builtins.bool(normalized), onesided, builtins.bool(rc),
                                 builtins.bool(align_to_window))


register("stft", nin=2, impl=stft, grad_name="StftBackward0", samples=_stft_samples)(_stft_kernel)


def _overlap_add(frames, hop_length, total):
    """Sum frames ``(B, T, n)`` placed at ``t * hop_length`` into ``(B, total)``."""
    b, t, n = frames.shape
    idx = (np.arange(t)[:, None] * hop_length + np.arange(n)[None, :]).reshape(-1)
    out = jnp.zeros((b, total), frames.dtype)
    return out.at[:, idx].add(frames.reshape(b, t * n))


def _istft_bounds(n_fft, n_frames, hop_length, center, length):
    expected = n_fft + hop_length * (n_frames - 1)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    return expected, start, end


def _istft_kernel(input, window, n_fft, hop_length, win_length, center, normalized, onesided, length,
                  return_complex):
    """The inverse short-time Fourier transform kernel (see :func:`istft`)."""
    if not jnp.iscomplexobj(input):
        raise DTypeError("istft(): istft requires a complex-valued input tensor matching the output from "
                         f"stft with return_complex=True (got {jnp.dtype(input.dtype).name}).")
    if input.size == 0:
        raise ShapeError(f"istft(): input tensor cannot be empty (got shape {list(input.shape)})")
    if input.ndim not in (2, 3):
        raise ShapeError(f"istft(): expected a 2D or 3D complex tensor (freq, frames), got {input.ndim}D")
    n_freq, n_frames = input.shape[-2], input.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided and n_fft // 2 + 1 != n_freq:
        raise ShapeError("istft(): expected the frequency dimension (3rd to the last) of the input tensor to "
                         f"match n_fft / 2 + 1 when onesided=True, but got {n_freq}")
    if not onesided and n_fft != n_freq:
        raise ShapeError("istft(): expected the frequency dimension (3rd to the last) of the input tensor to "
                         f"match n_fft when onesided=False, but got {n_freq}")
    if not 0 < hop_length <= win_length:
        raise ShapeError(f"istft(): expected 0 < hop_length <= win_length (got hop_length={hop_length}, "
                         f"win_length={win_length})")
    if not 0 < win_length <= n_fft:
        raise ShapeError(f"istft(): expected 0 < win_length <= n_fft (got win_length={win_length}, "
                         f"n_fft={n_fft})")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise ShapeError(f"istft(): expected a 1D window tensor of size equal to win_length={win_length}, "
                         f"but got window with size {list(window.shape)}")
    real_dt = jnp.real(jnp.zeros((), input.dtype)).dtype
    w = _padded_window(window, win_length, n_fft, real_dt)
    x = input[None] if input.ndim == 2 else input
    x = jnp.swapaxes(x, 1, 2)  # (B, T, F)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise SpectralError("istft(): Cannot have onesided output if window or input is complex")
        y = jnp.fft.ifft(x, axis=-1, norm=norm)
    else:
        if window is not None and jnp.iscomplexobj(window):
            raise DTypeError("istft(): Complex windows are incompatible with return_complex=False")
        if not onesided:
            x = x[..., :n_fft // 2 + 1]
        y = jnp.fft.irfft(x, n=n_fft, axis=-1, norm=norm)
    expected, start, end = _istft_bounds(n_fft, n_frames, hop_length, center, length)
    y = _overlap_add(y * w, hop_length, expected)
    env = _overlap_add(jnp.broadcast_to(w * w, (1, n_frames, n_fft)), hop_length, expected)
    stop = min(end, expected)
    y = y[:, start:stop] / env[:, start:stop]
    if input.ndim == 2:
        y = y[0]
    if end > expected:
        cfg = [(0, 0)] * (y.ndim - 1) + [(0, end - expected)]
        y = jnp.pad(y, cfg)
    return y


def _check_envelope(window, n_fft, hop, wl, n_frames, center, length):
    """torch's check that the window overlap-add never vanishes inside the kept range (on the host;
    skipped while tracing, where the window's values are unknown)."""
    if window is None:
        w = np.ones(wl)
    elif isinstance(window, Tensor) and not isinstance(window._data, jax.core.Tracer) and window.ndim == 1 \
            and window.shape[0] == wl and not is_meta_array(window._data):
        w = np.asarray(window._data)
    else:
        return
    left = (n_fft - wl) // 2
    w = np.pad(w, (left, n_fft - wl - left))
    expected, start, end = _istft_bounds(n_fft, n_frames, hop, center, length)
    env = np.zeros(expected, dtype=np.result_type(w.dtype, np.float64))
    for t in range(n_frames):
        env[t * hop:t * hop + n_fft] += w * w
    kept = env[start:min(end, expected)]
    if kept.size and np.abs(kept).min() < 1e-11:
        raise SpectralError(f"istft(): window overlap add min: {np.abs(kept).min():.3g} (below 1e-11: the "
                            "signal cannot be reconstructed with this window and hop_length)")


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The inverse short-time Fourier transform (torch.istft): overlap-add of the inverse transforms of the
    frames, divided by the overlap-added squared window.

    Args:
        input: ``(B?, N, T)`` complex STFT (``N = n_fft // 2 + 1`` one-sided or ``n_fft`` full).
        n_fft, hop_length, win_length, window, center, normalized: as in :func:`stft`.
        onesided: whether ``input`` is one-sided (default: ``N != n_fft``).
        length: trim or zero-pad the result to this many samples.
        return_complex: return the complex signal (needs a full, two-sided ``input``).

    Shapes: ``(B?, L)``, ``L = n_fft + hop_length * (T - 1)`` less ``2 * (n_fft // 2)`` when centred, or
    ``length``. Raises RuntimeError where the window overlap-add vanishes (torch's NOLA check; skipped
    inside ``mt.jit``, where the window's values are unknown).
    """
    n_fft = _int_arg(n_fft, "n_fft", "istft")
    hop = n_fft // 4 if hop_length is None else _int_arg(hop_length, "hop_length", "istft")
    wl = n_fft if win_length is None else _int_arg(win_length, "win_length", "istft")
    if length is not None:
        length = _int_arg(length, "length", "istft")
    if isinstance(input, Tensor) and input.ndim in (2, 3) and 0 < hop <= wl <= n_fft:
        _check_envelope(window, n_fft, hop, wl, input.shape[-1], center, length)
    return REGISTRY["istft"].call(input, window, n_fft, hop, wl, builtins.bool(center),
                                  builtins.bool(normalized), onesided, length, builtins.bool(return_complex))


def _istft_samples():
    w = (np.hanning(10)[:8] + 0.1).astype("float32")
    return [Sample(C(5, 6), 8, 2, 8, w),
            Sample(C(2, 5, 7), 8, 3, 6, w[:6], True, True, length=14),
            Sample(C(8, 5), 8, 2, None, w, True, onesided=False, return_complex=True, grad=False)]


register("istft", nin=2, impl=istft, grad_name="IstftBackward0", samples=_istft_samples)(_istft_kernel)
