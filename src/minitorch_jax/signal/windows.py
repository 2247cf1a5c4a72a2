"""``mt.signal.windows``: torch.signal.windows' window functions (scipy's definitions).

Each window is computed in float64 on the host for the (static) length ``M`` and returned as a tensor
of ``dtype`` (the default dtype when None) on ``device``; the values are constants, so the functions
work the same eagerly and inside ``mt.jit``. ``sym=False`` gives the periodic window (length ``M + 1``
with the last sample dropped), as for spectral analysis. Only strided (dense) layouts exist here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _check(name: str, M, dtype, layout):
    from .. import _dtype, float32, float64, strided
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout != strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dt = _dtype.get_default_dtype() if dtype is None else dtype
    if dt not in (float32, float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return dt


def _out(values, dtype, device, requires_grad):
    from .. import tensor
    return tensor(np.asarray(values, np.float64), dtype=dtype, device=device, requires_grad=requires_grad)


def _n(M: int, sym: bool) -> int:
    """The denominator length: ``M - 1`` for symmetric windows, ``M`` for periodic ones."""
    return M - 1 if sym else M


def _window(name, M, sym, dtype, layout, device, requires_grad, body, one=True):
    dt = _check(name, M, dtype, layout)
    if M == 0:
        return _out(np.zeros(0), dt, device, requires_grad)
    if M == 1 and one:
        return _out(np.ones(1), dt, device, requires_grad)
    return _out(body(np.arange(M, dtype=np.float64)), dt, device, requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype=None,
                layout=None, device=None, requires_grad: bool = False):
    """Exponential (Poisson) window ``w[k] = exp(-|k - center| / tau)``, shape ``(M,)``.

    Args:
        M: window length.
        center: where the window peaks; only for ``sym=False`` (default: the middle).
        tau: decay; must be positive.
        sym: symmetric window (True) or periodic one for spectral analysis (False).
        dtype, layout, device, requires_grad: as for tensor creation functions.
    """
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    c = (M if not sym and M > 1 else M - 1) / 2.0 if center is None else center
    return _window("exponential", M, sym, dtype, layout, device, requires_grad,
                   lambda k: np.exp(-np.abs(k - c) / tau), one=False)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Cosine (sine) window ``w[k] = sin(pi (k + 1/2) / L)``, ``L = M`` (sym) or ``M + 1``; shape ``(M,)``."""
    L = M if sym else M + 1
    return _window("cosine", M, sym, dtype, layout, device, requires_grad,
                   lambda k: np.sin(math.pi * (k + 0.5) / L))


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False):
    """Gaussian window ``w[k] = exp(-((k - c) / std)^2 / 2)`` centred at the middle; shape ``(M,)``.

    Args:
        std: the standard deviation in samples; must be positive.
    """
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    c = (M if not sym and M > 1 else M - 1) / 2.0
    return _window("gaussian", M, sym, dtype, layout, device, requires_grad,
                   lambda k: np.exp(-((k - c) / std) ** 2 / 2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False):
    """Kaiser window ``I0(beta sqrt(1 - ((k - N/2) / (N/2))^2)) / I0(beta)``; shape ``(M,)``.

    Args:
        beta: shape parameter; must be non-negative.
    """
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    half = _n(M, sym) / 2.0
    return _window("kaiser", M, sym, dtype, layout, device, requires_grad,
                   lambda k: np.i0(beta * np.sqrt(np.clip(1 - ((k - half) / half) ** 2, 0, None)))
                   / np.i0(beta))


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Bartlett (triangular, zero at the ends) window ``1 - |2k / N - 1|``; shape ``(M,)``."""
    N = _n(M, sym)
    return _window("bartlett", M, sym, dtype, layout, device, requires_grad,
                   lambda k: 1 - np.abs(2 * k / N - 1))


def _cosine_sum(name, M, a, sym, dtype, layout, device, requires_grad):
    N = _n(M, sym)
    return _window(name, M, sym, dtype, layout, device, requires_grad,
                   lambda k: sum((-1) ** i * c * np.cos(2 * math.pi * i * k / N) for i, c in enumerate(a)))


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False):
    """Generalized cosine window ``sum_i (-1)^i a[i] cos(2 pi i k / N)``; shape ``(M,)``.

    Args:
        a: the coefficients (a list or tuple of floats).
    """
    if not isinstance(a, list | tuple):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    return _cosine_sum("general_cosine", M, [float(c) for c in a], sym, dtype, layout, device, requires_grad)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None, device=None,
                    requires_grad: bool = False):
    """Generalized Hamming window: :func:`general_cosine` with ``a = [alpha, 1 - alpha]``."""
    return _cosine_sum("general_cosine", M, [alpha, 1.0 - alpha], sym, dtype, layout, device, requires_grad)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Hamming window: :func:`general_hamming` with ``alpha = 0.54``."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Hann window: :func:`general_hamming` with ``alpha = 0.5``."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Blackman window: :func:`general_cosine` with ``a = [0.42, 0.5, 0.08]``."""
    return _cosine_sum("blackman", M, [0.42, 0.5, 0.08], sym, dtype, layout, device, requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Minimum 4-term Blackman-Harris (Nuttall) window: :func:`general_cosine` with Nuttall's coefficients."""
    return _cosine_sum("general_cosine", M, [0.3635819, 0.4891775, 0.1365995, 0.0106411], sym, dtype,
                       layout, device, requires_grad)
