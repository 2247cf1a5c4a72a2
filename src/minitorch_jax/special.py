"""``mt.special``: torch.special's functions, read from the op table.

Functions torch.special shares with the top level are the same callables as ``mt.<name>``
(``expit`` is ``mt.sigmoid``, ``gammaln`` is ``mt.lgamma``, ``psi`` is ``mt.digamma``); the others
are table entries named ``special_<name>`` (see ``_ops/special_extra.py``), so they get autograd
(where torch has a gradient), jit caching and torch's dtype promotion (integer inputs give the
default float dtype) like every other op.

Known differences from torch: ``gammainc``, ``gammaincc`` and ``zeta`` are also differentiable in
their first argument (torch raises there); ``multigammaln`` does not check that every element
exceeds ``(p - 1) / 2`` (that check would force a device sync per call; NaN/inf result instead).
"""

from __future__ import annotations

from ._ops import public

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf",
    "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
    "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
    "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]


_op = public


digamma = _op("digamma")
erf = _op("erf")
erfc = _op("erfc")
erfinv = _op("erfinv")
exp2 = _op("exp2")
expit = _op("sigmoid")
expm1 = _op("expm1")
gammaln = _op("lgamma")
i0 = _op("i0")
log1p = _op("log1p")
log_softmax = _op("log_softmax")
logit = _op("logit")
logsumexp = _op("logsumexp")
polygamma = _op("polygamma")
psi = _op("digamma")
round = _op("round")
sinc = _op("sinc")
softmax = _op("softmax")
xlogy = _op("xlogy")
airy_ai = _op("special_airy_ai")
bessel_j0 = _op("special_bessel_j0")
bessel_j1 = _op("special_bessel_j1")
bessel_y0 = _op("special_bessel_y0")
bessel_y1 = _op("special_bessel_y1")
chebyshev_polynomial_t = _op("special_chebyshev_polynomial_t")
chebyshev_polynomial_u = _op("special_chebyshev_polynomial_u")
chebyshev_polynomial_v = _op("special_chebyshev_polynomial_v")
chebyshev_polynomial_w = _op("special_chebyshev_polynomial_w")
entr = _op("special_entr")
erfcx = _op("special_erfcx")
gammainc = _op("igamma")  # torch.special.gammainc is torch.igamma
gammaincc = _op("igammac")
hermite_polynomial_h = _op("special_hermite_polynomial_h")
hermite_polynomial_he = _op("special_hermite_polynomial_he")
i0e = _op("special_i0e")
i1 = _op("special_i1")
i1e = _op("special_i1e")
laguerre_polynomial_l = _op("special_laguerre_polynomial_l")
legendre_polynomial_p = _op("special_legendre_polynomial_p")
log_ndtr = _op("special_log_ndtr")
modified_bessel_i0 = _op("special_modified_bessel_i0")
modified_bessel_i1 = _op("special_modified_bessel_i1")
modified_bessel_k0 = _op("special_modified_bessel_k0")
modified_bessel_k1 = _op("special_modified_bessel_k1")
multigammaln = _op("special_multigammaln")
ndtr = _op("special_ndtr")
ndtri = _op("special_ndtri")
scaled_modified_bessel_k0 = _op("special_scaled_modified_bessel_k0")
scaled_modified_bessel_k1 = _op("special_scaled_modified_bessel_k1")
shifted_chebyshev_polynomial_t = _op("special_shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _op("special_shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _op("special_shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _op("special_shifted_chebyshev_polynomial_w")
spherical_bessel_j0 = _op("special_spherical_bessel_j0")
xlog1py = _op("special_xlog1py")
zeta = _op("special_zeta")
