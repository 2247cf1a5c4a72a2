"""Op family: the torch.special functions that no other family defines (``special_<name>`` entries).

Each entry is named ``special_<name>`` with ``torch_name="special.<name>"`` and is installed
neither as a method nor as an ``mt.`` function: ``mt.special`` (``special.py``) exposes it.
Where ``jax.scipy.special`` has the function it is used; the Bessel functions JAX lacks are
computed here (section "Bessel numerics" below) and the orthogonal polynomials by their three-term recurrences
with an integer degree ``n``, as torch does.

Gradients follow torch: the Bessel functions and polynomials are not differentiable there, and
neither are they here; ``gammainc``/``gammaincc``/``zeta`` are differentiable in torch only in
their second argument, while JAX (used here) also differentiates the first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._errors import OpTypeError
from ._helpers import A, I, P, Sample, broadcast_check
from ._registry import REGISTRY, register

__all__: list[str] = []


def _special(name, *, nin=1, differentiable=True, samples=None, impl=None):
    """``register`` with the naming used by every torch.special entry of this family."""
    return register(f"special_{name}", nin=nin, promote="float", method=False, function=False,
                    torch_name=f"special.{name}", differentiable=differentiable, impl=impl,
                    saves=tuple(range(nin)) if differentiable else (), samples=samples)


def _f64(s):
    """A sample made of float64 arrays (``s`` builds it from a dtype name)."""
    return s("float64")


# ----- Bessel numerics ---------------------------------------------------------------------------
# JAX has no J/Y/K Bessel functions of orders 0 and 1 nor Airy's Ai. They are computed here from
# integral representations evaluated with spectrally accurate rules (trapezoid rule on periodic or
# doubly-decaying integrands, Gauss rules on smooth ones) for moderate arguments and from the
# Hankel asymptotic expansions for large ones. Measured against scipy over dense grids (float64):
# absolute errors below 1e-14 (relative 1e-12 away from the functions' zeros). Everything is
# computed in the input's dtype.
_JY_SWITCH = 25.0     # trapezoid below, Hankel expansion above (its error is ~exp(-2x))
_K_SWITCH = 20.0
_K_SMALL = 1e-4       # below: two terms of the power series of K
_EULER = 0.5772156649015329
_RSQRT2 = float(np.sqrt(0.5))
_SIN60 = float(np.sin(np.pi / 3))

# J_m(x) = (1/2pi) int_0^2pi cos(m t - x sin t) dt: the M-point trapezoid rule is exact up to the
# aliased J_{M-m}(x), negligible for x <= 25. Y_0 and Y_1 come from Neumann series in the even/odd
# J_m (A&S 9.1.88 and its derivative), whose sums over m fold into fixed weights on the nodes.
_M = 128
_TAU = 2 * np.pi * np.arange(_M) / _M
_KK = np.arange(1, 31)[:, None]
_SGN = (-1.0) ** _KK
_Y0C = (_SGN * np.cos(2 * _KK * _TAU) / _KK).sum(0)
_Y0S = (_SGN * np.sin(2 * _KK * _TAU) / _KK).sum(0)
_Y1C = (_SGN * (np.cos((2 * _KK - 1) * _TAU) - np.cos((2 * _KK + 1) * _TAU)) / _KK).sum(0)
_Y1S = (_SGN * (np.sin((2 * _KK - 1) * _TAU) - np.sin((2 * _KK + 1) * _TAU)) / _KK).sum(0)

# e^x K_nu(x) = int_0^inf exp(-2x sinh(t/2)^2) cosh(nu t) dt: even, entire, double-exponentially
# decaying integrand, so the trapezoid rule converges geometrically (step 0.15, t <= 15).
_KH = 0.15
_KT = _KH * np.arange(101)
_KW = np.full(101, _KH)
_KW[0] = _KH / 2

# Gauss-Legendre on [0, pi/2] and Gauss-Laguerre, for Ai on the negative axis
_GL_X, _GL_W = np.polynomial.legendre.leggauss(40)
_GL_X, _GL_W = (_GL_X + 1) * np.pi / 4, _GL_W * np.pi / 4
_LG_X, _LG_W = np.polynomial.laguerre.laggauss(40)


def _c(v, like):
    return jnp.asarray(v, like.dtype)


def _hankel_pq(x, nu, terms=18):
    """The Hankel asymptotic series ``P`` and ``Q`` of order ``nu`` at large ``x``."""
    mu = 4.0 * nu * nu
    p, q, a = jnp.ones_like(x), jnp.zeros_like(x), 1.0
    inv = 1 / (8 * x)
    term = jnp.ones_like(x)
    for k in range(1, 2 * terms):
        a = (mu - (2 * k - 1) ** 2) / k
        term = term * a * inv
        if k % 2:
            q = q + (term if k % 4 == 1 else -term)
        else:
            p = p + (term if k % 4 == 0 else -term)
    return p, q


def _jy_trapezoid(x, nu, second):
    ph = x[..., None] * _c(np.sin(_TAU), x)
    c, s = jnp.cos(ph), jnp.sin(ph)
    j0 = c.mean(-1)
    j1 = (c * _c(np.cos(_TAU), x) + s * _c(np.sin(_TAU), x)).mean(-1)
    if not second:
        return j1 if nu else j0
    lg = jnp.log(x / 2) + _EULER
    if nu == 0:
        return (2 / np.pi) * lg * j0 - (4 / np.pi) * (c * _c(_Y0C, x) + s * _c(_Y0S, x)).mean(-1)
    return (-(2 / np.pi) * j0 / x + (2 / np.pi) * lg * j1
            + (2 / np.pi) * (c * _c(_Y1C, x) + s * _c(_Y1S, x)).mean(-1))


def _jy_asymptotic(x, nu, second):
    p, q = _hankel_pq(x, nu)
    co, si = jnp.cos(x), jnp.sin(x)
    # cos/sin of x - (nu/2 + 1/4) pi, without subtracting from a large x
    if nu == 0:
        cc, ss = (co + si) * _RSQRT2, (si - co) * _RSQRT2
    else:
        cc, ss = (si - co) * _RSQRT2, -(co + si) * _RSQRT2
    amp = jnp.sqrt(2 / (np.pi * x))
    return amp * (p * ss + q * cc) if second else amp * (p * cc - q * ss)


def _bessel_jy(x, nu, second):
    """``J_nu(x)`` or (``second``) ``Y_nu(x)`` for ``nu`` in {0, 1}."""
    ax = jnp.abs(x)
    small = ax <= _JY_SWITCH
    lo = jnp.where(small & (ax > 0), ax, jnp.ones_like(ax))
    hi = jnp.where(small, _c(2 * _JY_SWITCH, x), ax)
    out = jnp.where(small, _jy_trapezoid(lo, nu, second), _jy_asymptotic(hi, nu, second))
    if second:
        out = jnp.where(x == 0, -jnp.inf, out)
        return jnp.where((x < 0) | jnp.isnan(x), jnp.nan, out)
    # tiny |x|: the leading series terms (the trapezoid sum would lose J1's relative accuracy)
    tiny = 1 - ax * ax / 4 if nu == 0 else ax / 2 * (1 - ax * ax / 8)
    out = jnp.where(ax < 1e-3, tiny, out)
    return out * jnp.sign(x) if nu else out


def _k_scaled_quadrature(x, nu):
    t = _c(_KT, x)
    e = jnp.exp(-2 * x[..., None] * jnp.sinh(t / 2) ** 2)
    return (e * _c(np.cosh(nu * _KT) * _KW, x)).sum(-1)


def _k_scaled_asymptotic(x, nu, terms=20):
    mu = 4.0 * nu * nu
    s, term = jnp.ones_like(x), jnp.ones_like(x)
    for k in range(1, terms):
        term = term * ((mu - (2 * k - 1) ** 2) / (k * 8)) / x
        s = s + term
    return jnp.sqrt(np.pi / (2 * x)) * s


def _bessel_k(x, nu, scaled):
    """``K_nu(x)`` (or ``exp(x) K_nu(x)``) for ``nu`` in {0, 1}: inf at 0, NaN below."""
    mid = (x >= _K_SMALL) & (x <= _K_SWITCH)
    xm = jnp.where(mid, x, jnp.ones_like(x))
    xb = jnp.where(x > _K_SWITCH, x, _c(2 * _K_SWITCH, x))
    xs = jnp.where((x > 0) & (x < _K_SMALL), x, _c(_K_SMALL, x))
    lg = jnp.log(xs / 2) + _EULER
    q = xs * xs / 4
    series = -lg * (1 + q) + q if nu == 0 else 1 / xs + xs / 2 * (lg - 0.5)
    out = jnp.where(mid, _k_scaled_quadrature(xm, nu), _k_scaled_asymptotic(xb, nu))
    if scaled:
        out = jnp.where(x < _K_SMALL, series * jnp.exp(xs), out)
    else:
        out = jnp.where(x < _K_SMALL, series, out * jnp.exp(-jnp.where(x > 0, x, 0)))
    out = jnp.where(x == 0, jnp.inf, out)
    return jnp.where((x < 0) | jnp.isnan(x), jnp.nan, out)


_AI0 = 0.3550280538878172    # Ai(0) = 3^(-2/3) / Gamma(2/3)
_AI1 = 0.2588194037928068    # -Ai'(0) = 3^(-1/3) / Gamma(1/3)


def _airy_series(x, terms=40):
    """Maclaurin series ``Ai(x) = Ai(0) f(x) + Ai'(0) g(x)`` (|x| small or moderate)."""
    x3 = x * x * x
    f, g = jnp.ones_like(x), x
    tf, tg = jnp.ones_like(x), x
    for k in range(1, terms):
        tf = tf * x3 / ((3 * k - 1) * (3 * k))
        tg = tg * x3 / ((3 * k) * (3 * k + 1))
        f, g = f + tf, g + tg
    return _AI0 * f - _AI1 * g


def _airy_negative(x):
    """Ai(-|x|) = sqrt|x|/3 (J_{1/3}(z) + J_{-1/3}(z)), z = 2/3 |x|^1.5, for 2.5 <= |x| <= 11."""
    ax = jnp.abs(x)
    z = (2 / 3) * ax * jnp.sqrt(ax)
    # (pi/2) (J_{1/3} + J_{-1/3})(z)
    #     = int_0^pi cos(t/3) cos(z sin t) dt + sin(pi/3) int_0^inf e^{-z sinh t} sinh(t/3) dt
    th = _c(_GL_X, x)
    osc = (jnp.cos(z[..., None] * jnp.sin(th)) * (jnp.cos(th / 3) + jnp.cos((np.pi - th) / 3))
           * _c(_GL_W, x)).sum(-1)
    u = _c(_LG_X, x) / z[..., None]   # u = sinh t, e^{-z u} -> Gauss-Laguerre in z u
    tail = (jnp.sinh(jnp.arcsinh(u) / 3) / jnp.sqrt(1 + u * u) * _c(_LG_W, x)).sum(-1) / z
    return jnp.sqrt(ax) / 3 * (2 / np.pi) * (osc + _SIN60 * tail)


def _airy_neg_asymptotic(x):
    ax = jnp.abs(x)
    z = (2 / 3) * ax * jnp.sqrt(ax)
    total = jnp.zeros_like(x)
    for nu in (1 / 3, -1 / 3):
        p, q = _hankel_pq(z, nu)
        chi = z - (nu / 2 + 0.25) * np.pi
        total = total + jnp.sqrt(2 / (np.pi * z)) * (p * jnp.cos(chi) - q * jnp.sin(chi))
    return jnp.sqrt(ax) / 3 * total


def _airy_ai(x):
    """Airy's ``Ai(x)``: series near 0, ``K_{1/3}`` for x > 1, ``J_{+-1/3}`` integrals and
    asymptotics for x < -2.5."""
    one = jnp.ones_like(x)
    near = (x >= -2.5) & (x <= 1)
    xs = jnp.where(near, x, 0 * one)
    xp = jnp.where(x > 1, x, 2 * one)
    zp = (2 / 3) * xp * jnp.sqrt(xp)
    kp = jnp.where(zp <= _K_SWITCH, _k_scaled_quadrature(jnp.minimum(zp, _K_SWITCH), 1 / 3),
                   _k_scaled_asymptotic(jnp.maximum(zp, _K_SWITCH), 1 / 3))
    pos = jnp.sqrt(xp / 3) / np.pi * jnp.exp(-zp) * kp
    mid = (x < -2.5) & (x >= -11)
    neg = jnp.where(mid, _airy_negative(jnp.where(mid, x, -5 * one)),
                    _airy_neg_asymptotic(jnp.where(x < -11, x, -20 * one)))
    out = jnp.where(near, _airy_series(xs), jnp.where(x > 1, pos, neg))
    return jnp.where(jnp.isnan(x) | jnp.isinf(x), jnp.nan, out)  # torch: NaN at +-inf


# ----- error functions and the normal distribution ---------------------------------------------
@_special("entr", samples=lambda: [Sample(P(3, 4, low=0.1, high=3)), _f64(lambda d: Sample(P(5, dtype=d))),
                                   Sample(I(4, low=0, high=4))])
def special_entr(input):
    """Elementwise entropy ``-x * log(x)``: 0 at 0, ``-inf`` for negative ``x``."""
    return jsp.entr(input)


@_special("erfcx", samples=lambda: [Sample(A(3, 4, low=-3, high=10)),
                                    _f64(lambda d: Sample(A(5, dtype=d, low=-2, high=30)))])
def special_erfcx(input):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``."""
    return jsp.erfcx(input)


@_special("ndtr", samples=lambda: [Sample(A(3, 4, low=-4, high=4)), _f64(lambda d: Sample(A(5, dtype=d))),
                                   Sample(I(4))])
def special_ndtr(input):
    """The standard normal cumulative distribution function ``(1 + erf(x / sqrt(2))) / 2``."""
    return jsp.ndtr(input)


@_special("ndtri", samples=lambda: [Sample(A(3, 4, low=0.02, high=0.98)),
                                    _f64(lambda d: Sample(A(5, dtype=d, low=1e-6, high=1 - 1e-6)))])
def special_ndtri(input):
    """The inverse of :func:`ndtr`: the ``p``-quantile of the standard normal, for ``p`` in [0, 1]."""
    return jsp.ndtri(input)


@_special("log_ndtr", samples=lambda: [Sample(A(3, 4, low=-10, high=5)),
                                       _f64(lambda d: Sample(A(5, dtype=d, low=-30, high=8)))])
def special_log_ndtr(input):
    """``log(ndtr(x))``, accurate for very negative ``x``."""
    return jsp.log_ndtr(input)


# ----- two-argument functions --------------------------------------------------------------------
@_special("xlog1py", nin=2, samples=lambda: [Sample(A(3, 4), P(3, 4)), Sample(A(2, 3, dtype="float64"), A(3)),
                                             Sample(I(3), 1.5)])
def special_xlog1py(input, other):
    """``input * log1p(other)``, zero where ``input`` is zero (broadcasting)."""
    broadcast_check("special.xlog1py", input, other)
    return jsp.xlog1py(input, other)


@_special("zeta", nin=2, samples=lambda: [
    Sample(A(3, 4, low=1.5, high=5), P(3, 4), grad=False),
    _f64(lambda d: Sample(A(5, dtype=d, low=1.1, high=8), A(5, dtype=d, low=0.2, high=4), grad=False)),
    Sample(3.0, P(4), grad=False)])
def special_zeta(input, other):
    """The Hurwitz zeta function ``sum_k (k + other) ** -input`` (exponent ``x = input``, ``q = other``).

    As torch: ``inf`` at ``x == 1`` and NaN for ``x < 1``.
    """
    broadcast_check("special.zeta", input, other)
    return jnp.where(input < 1, jnp.nan, jsp.zeta(input, other))


# gammainc / gammaincc are torch's igamma / igammac (``_ops/math_extra.py``): mt.special uses those


def _multigammaln_kernel(input, p):
    return jsp.multigammaln(input, p)


def special_multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p``, elementwise.

    Args:
        input: values greater than ``(p - 1) / 2``.
        p (int): the dimension, at least 1.
    """
    if isinstance(p, bool) or not isinstance(p, int):
        raise OpTypeError(f"special.multigammaln(): argument 'p' (position 2) must be int, "
                          f"not {type(p).__name__}")
    if p < 1:
        raise RuntimeError(f"special.multigammaln(): p has to be greater than or equal to 1 (got p={p})")
    return REGISTRY["special_multigammaln"].call(input, p)


_special("multigammaln", impl=special_multigammaln, samples=lambda: [
    Sample(A(3, 4, low=2, high=5), 3), _f64(lambda d: Sample(A(5, dtype=d, low=1, high=6), 2)),
    Sample(A(3, low=1, high=3), 0)])(_multigammaln_kernel)


# ----- Bessel functions --------------------------------------------------------------------------
def _pos_samples(low=0.1, high=30.0, neg=False):
    lo = -high if neg else low

    def samples():
        return [Sample(A(3, 4, low=lo, high=high), atol=2e-5),
                _f64(lambda d: Sample(A(12, dtype=d, low=lo, high=high))),
                Sample(I(4, low=1 if not neg else -5, high=8))]
    return samples


@_special("i0e", samples=lambda: [Sample(A(3, 4, low=-10, high=10)), _f64(lambda d: Sample(A(5, dtype=d))),
                                  Sample(I(4))])
def special_i0e(input):
    """The exponentially scaled modified Bessel function of the first kind, order 0: ``exp(-|x|) * i0(x)``."""
    return jsp.i0e(input)


@_special("i1", samples=lambda: [Sample(A(3, 4, low=-6, high=6)), _f64(lambda d: Sample(A(5, dtype=d))),
                                 Sample(I(4))])
def special_i1(input):
    """The modified Bessel function of the first kind, order 1."""
    return jsp.i1(input)


@_special("i1e", samples=lambda: [Sample(A(3, 4, low=-10, high=10)), _f64(lambda d: Sample(A(5, dtype=d))),
                                  Sample(I(4))])
def special_i1e(input):
    """The exponentially scaled modified Bessel function of the first kind, order 1: ``exp(-|x|) * i1(x)``."""
    return jsp.i1e(input)


@_special("modified_bessel_i0", differentiable=False, samples=_pos_samples(high=8, neg=True))
def special_modified_bessel_i0(input):
    """The modified Bessel function of the first kind, order 0 (not differentiable, as torch)."""
    return jsp.i0(input)


@_special("modified_bessel_i1", differentiable=False, samples=_pos_samples(high=8, neg=True))
def special_modified_bessel_i1(input):
    """The modified Bessel function of the first kind, order 1 (not differentiable, as torch)."""
    return jsp.i1(input)


@_special("modified_bessel_k0", differentiable=False, samples=_pos_samples(low=0.01, high=40))
def special_modified_bessel_k0(input):
    """The modified Bessel function of the second kind, order 0: ``inf`` at 0, NaN for ``x < 0``."""
    return _bessel_k(input, 0, scaled=False)


@_special("modified_bessel_k1", differentiable=False, samples=_pos_samples(low=0.01, high=40))
def special_modified_bessel_k1(input):
    """The modified Bessel function of the second kind, order 1: ``inf`` at 0, NaN for ``x < 0``."""
    return _bessel_k(input, 1, scaled=False)


@_special("scaled_modified_bessel_k0", differentiable=False, samples=_pos_samples(low=0.01, high=80))
def special_scaled_modified_bessel_k0(input):
    """``exp(x) * k0(x)``, the exponentially scaled modified Bessel function of the second kind, order 0."""
    return _bessel_k(input, 0, scaled=True)


@_special("scaled_modified_bessel_k1", differentiable=False, samples=_pos_samples(low=0.01, high=80))
def special_scaled_modified_bessel_k1(input):
    """``exp(x) * k1(x)``, the exponentially scaled modified Bessel function of the second kind, order 1."""
    return _bessel_k(input, 1, scaled=True)


@_special("bessel_j0", differentiable=False, samples=_pos_samples(high=40, neg=True))
def special_bessel_j0(input):
    """The Bessel function of the first kind, order 0 (not differentiable, as torch)."""
    return _bessel_jy(input, 0, second=False)


@_special("bessel_j1", differentiable=False, samples=_pos_samples(high=40, neg=True))
def special_bessel_j1(input):
    """The Bessel function of the first kind, order 1 (not differentiable, as torch)."""
    return _bessel_jy(input, 1, second=False)


@_special("bessel_y0", differentiable=False, samples=_pos_samples(low=0.01, high=40))
def special_bessel_y0(input):
    """The Bessel function of the second kind, order 0: ``-inf`` at 0, NaN for ``x < 0``."""
    return _bessel_jy(input, 0, second=True)


@_special("bessel_y1", differentiable=False, samples=_pos_samples(low=0.01, high=40))
def special_bessel_y1(input):
    """The Bessel function of the second kind, order 1: ``-inf`` at 0, NaN for ``x < 0``."""
    return _bessel_jy(input, 1, second=True)


@_special("spherical_bessel_j0", differentiable=False, samples=_pos_samples(high=20, neg=True))
def special_spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind, order 0: ``sin(x) / x`` (1 at 0)."""
    zero = input == 0
    safe = jnp.where(zero, jnp.ones_like(input), input)
    out = jnp.where(zero, jnp.ones_like(input), jnp.sin(safe) / safe)
    return jnp.where(jnp.isinf(input), jnp.zeros_like(input), out)


@_special("airy_ai", differentiable=False, samples=_pos_samples(high=10, neg=True))
def special_airy_ai(input):
    """The Airy function ``Ai(x)`` (not differentiable, as torch)."""
    return _airy_ai(input)


# ----- orthogonal polynomials --------------------------------------------------------------------
def _recurrence(x, n, p0, p1, step):
    """``P_n(x)`` for integer degrees ``n`` (a float array, truncated) from ``P_0``, ``P_1`` and
    ``step(k, P_{k-1}, P_k) -> P_{k+1}``; 0 for negative ``n``. Loops up to ``max(n)``."""
    x, n = jnp.broadcast_arrays(x, n)
    n = jnp.trunc(n)
    out = jnp.where(n == 0, p0(x), p1(x))
    nmax = jnp.max(n, initial=1)

    def cond(c):
        return c[0] < nmax

    def body(c):
        k, p, q, out = c
        r = step(k, p, q)
        return k + 1, q, r, jnp.where(n == k + 1, r, out)

    init = (jnp.ones((), x.dtype), p0(x), p1(x), out)
    out = jax.lax.while_loop(cond, body, init)[3]
    return jnp.where(n < 0, jnp.zeros_like(x), out)


def _unit_edge(x, n, out, at_plus, at_minus):
    """torch's exact values at ``x = 1`` / ``x = -1`` (functions of the integer degree ``n``)."""
    n = jnp.trunc(n)
    out = jnp.where(x == 1, at_plus(n), out)
    out = jnp.where(x == -1, at_minus(n), out)
    return jnp.where(n < 0, jnp.zeros_like(out), out)


def _even(n):
    return jnp.fmod(n, 2) == 0


def _cheb_t(x, n):
    out = _recurrence(x, n, jnp.ones_like, lambda v: v, lambda k, p, q: 2 * x * q - p)
    return _unit_edge(x, n, out, jnp.ones_like, lambda m: jnp.where(_even(m), 1.0, -1.0))


def _cheb_u(x, n):
    out = _recurrence(x, n, jnp.ones_like, lambda v: 2 * v, lambda k, p, q: 2 * x * q - p)
    return _unit_edge(x, n, out, lambda m: m + 1, lambda m: jnp.where(_even(m), m + 1, -(m + 1)))


def _cheb_v(x, n):
    out = _recurrence(x, n, jnp.ones_like, lambda v: 2 * v - 1, lambda k, p, q: 2 * x * q - p)
    return _unit_edge(x, n, out, jnp.ones_like, lambda m: jnp.where(_even(m), 2 * m + 1, -(2 * m + 1)))


def _cheb_w(x, n):
    out = _recurrence(x, n, jnp.ones_like, lambda v: 2 * v + 1, lambda k, p, q: 2 * x * q - p)
    return _unit_edge(x, n, out, lambda m: 2 * m + 1, lambda m: jnp.where(_even(m), 1.0, -1.0))


def _poly_samples(low=-1.0, high=1.0, nmax=12):
    def samples():
        return [Sample(A(3, 4, low=low, high=high), I(3, 4, low=-1, high=nmax)),
                _f64(lambda d: Sample(A(8, dtype=d, low=low, high=high), A(8, dtype=d, low=0, high=nmax))),
                Sample(I(5, low=-2, high=3), I(5, low=0, high=6))]
    return samples


def _poly(name, kernel, low=-1.0, high=1.0, nmax=12, doc=""):
    def fn(input, n):
        broadcast_check(f"special.{name}", input, n)
        return kernel(input, n)

    fn.__name__ = f"special_{name}"
    fn.__doc__ = doc + ("\n\n    Args:\n        input: the points ``x`` (tensor or number).\n"
                        "        n: the degree (tensor or number, broadcasting with ``input``), truncated"
                        "\n            to an integer; negative degrees give 0. Not differentiable, as"
                        " torch.\n    ")
    _special(name, nin=2, differentiable=False, samples=_poly_samples(low, high, nmax))(fn)
    return fn


_CHEB = "the Chebyshev polynomial of the {} kind ``{}_n(x)``"
_poly("chebyshev_polynomial_t", _cheb_t, doc=_CHEB.format("first", "T").capitalize())
_poly("chebyshev_polynomial_u", _cheb_u, doc=_CHEB.format("second", "U").capitalize())
_poly("chebyshev_polynomial_v", _cheb_v, doc=_CHEB.format("third", "V").capitalize())
_poly("chebyshev_polynomial_w", _cheb_w, doc=_CHEB.format("fourth", "W").capitalize())
for _k, _f in (("t", _cheb_t), ("u", _cheb_u), ("v", _cheb_v), ("w", _cheb_w)):
    _poly(f"shifted_chebyshev_polynomial_{_k}", (lambda f: lambda x, n: f(2 * x - 1, n))(_f), low=0.0,
          doc=f"The shifted Chebyshev polynomial ``{_k.upper()}*_n(x) = {_k.upper()}_n(2x - 1)``, on [0, 1]")
_poly("hermite_polynomial_h",
      lambda x, n: _recurrence(x, n, jnp.ones_like, lambda v: 2 * v, lambda k, p, q: 2 * x * q - 2 * k * p),
      low=-3, high=3, doc="The physicists' Hermite polynomial ``H_n(x)``")
_poly("hermite_polynomial_he",
      lambda x, n: _recurrence(x, n, jnp.ones_like, lambda v: v, lambda k, p, q: x * q - k * p),
      low=-3, high=3, doc="The probabilists' Hermite polynomial ``He_n(x)``")
_poly("laguerre_polynomial_l",
      lambda x, n: _recurrence(x, n, jnp.ones_like, lambda v: 1 - v,
                               lambda k, p, q: ((2 * k + 1 - x) * q - k * p) / (k + 1)),
      low=0, high=5, doc="The Laguerre polynomial ``L_n(x)``")
_poly("legendre_polynomial_p",
      lambda x, n: _unit_edge(x, n, _recurrence(x, n, jnp.ones_like, lambda v: v,
                                                lambda k, p, q: ((2 * k + 1) * x * q - k * p) / (k + 1)),
                              jnp.ones_like, lambda m: jnp.where(_even(m), 1.0, -1.0)),
      doc="The Legendre polynomial ``P_n(x)``")
