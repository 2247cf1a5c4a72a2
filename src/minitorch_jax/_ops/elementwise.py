"""Elementwise ops: arithmetic, comparisons, logic and unary math (one table entry each)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
from jax import lax

from .. import _dtype
from .._errors import DTypeError
from .._tensor import Tensor
from ._helpers import BIN_SHAPES, A, B, I, P, Sample, broadcast_check
from ._registry import REGISTRY, _result_dtype, register


def _bin_samples(low=-2.0, high=2.0, ints=True, rhs_pos=False, **kw):
    def samples():
        out = [Sample(A(*a, low=low, high=high),
                      (P(*b) if rhs_pos else A(*b, low=low, high=high)), **kw)
               for a, b in BIN_SHAPES]
        out.append(Sample(A(3, 2, dtype="float64"), P(2, dtype="float64"), **kw))
        out.append(Sample(A(2, 3), 1.5, **kw))
        if ints:
            out.append(Sample(I(3, 4, low=1), I(4, low=1), **kw))
            out.append(Sample(I(3, 4, low=1, dtype="int32"), P(4), **kw))
        return out
    return samples


def _unary_samples(low=-2.0, high=2.0, ints=True, **kw):
    def samples():
        out = [Sample(A(3, 4, low=low, high=high), **kw), Sample(A(low=low, high=high), **kw),
               Sample(A(2, 0, 3, low=low, high=high), **kw),
               Sample(A(5, dtype="float64", low=low, high=high), **kw)]
        if ints:
            out.append(Sample(I(4, low=max(int(low), 1) if low > 0 else -3, high=4), **kw))
        return out
    return samples


def _b(op):
    return lambda a, b: broadcast_check(op, a, b)


# ----- arithmetic ------------------------------------------------------------------------------
@register("add", nin=2, promote="common", inplace=True, dunder="add",
          samples=_bin_samples(), functional=False)
def add(input, other, *, alpha=1):
    """``input + alpha * other``, broadcasting (torch.add)."""
    broadcast_check("add", input, other)
    return input + other if alpha == 1 else input + alpha * other


@register("sub", nin=2, promote="common", inplace=True, dunder="sub", samples=_bin_samples(),
          aliases=("subtract",))
def sub(input, other, *, alpha=1):
    """``input - alpha * other``, broadcasting (torch.sub)."""
    broadcast_check("sub", input, other)
    return input - other if alpha == 1 else input - alpha * other


@register("mul", nin=2, promote="common", inplace=True, dunder="mul", saves=(0, 1),
          samples=_bin_samples(), aliases=("multiply",))
def mul(input, other):
    """Elementwise product, broadcasting (torch.mul)."""
    broadcast_check("mul", input, other)
    return input * other


def _div_promote(rest, kwargs):
    return "common" if kwargs.get("rounding_mode") is not None else "float"


@register("div", nin=2, promote=_div_promote, inplace=True, dunder="truediv", saves=(0, 1),
          samples=_bin_samples(rhs_pos=True), aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None):
    """``input / other`` (true division; ``rounding_mode`` 'trunc' or 'floor' rounds the result)."""
    broadcast_check("div", input, other)
    if rounding_mode is None:
        return input / other
    if rounding_mode == "floor":
        return jnp.floor_divide(input, other)
    if rounding_mode == "trunc":
        if jnp.issubdtype(input.dtype, jnp.integer):
            q = jnp.floor_divide(input, other)
            return jnp.where((q < 0) & (q * other != input), q + 1, q)
        return jnp.trunc(input / other)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                     f"'{rounding_mode}'")


@register("floor_divide", nin=2, promote="common", inplace=True, dunder="floordiv",
          differentiable=False, samples=_bin_samples(rhs_pos=True))
def floor_divide(input, other):
    """``input // other`` rounded toward minus infinity (torch.floor_divide)."""
    broadcast_check("floor_divide", input, other)
    return jnp.floor_divide(input, other)


@register("remainder", nin=2, promote="common", inplace=True, dunder="mod", saves=(0, 1),
          samples=_bin_samples(rhs_pos=True))
def remainder(input, other):
    """Python-style modulus (the result has the sign of ``other``), as torch.remainder."""
    broadcast_check("remainder", input, other)
    return jnp.remainder(input, other)


@register("fmod", nin=2, promote="common", inplace=True, saves=(0, 1),
          samples=_bin_samples(rhs_pos=True))
def fmod(input, other):
    """C-style modulus (the result has the sign of ``input``), as torch.fmod."""
    broadcast_check("fmod", input, other)
    return jnp.fmod(input, other)


def _pow_samples():
    return [Sample(P(3, 4), A(3, 4)), Sample(P(2, 3), 2), Sample(P(2, 3), 0.5),
            Sample(A(2, 3), 3), Sample(I(3, low=0), 2), Sample(P(4), A(2, 1, 4)),
            Sample(P(3, dtype="float64"), P(3, dtype="float64"))]


def _pow_impl(input, exponent, *, out=None):
    """``input ** exponent`` elementwise, broadcasting (torch.pow).

    A Python number exponent is a compile-time constant (``x ** 2`` compiles to ``x * x``, not
    a general power); tensor exponents are traced.
    """
    if out is None and isinstance(input, Tensor) and type(exponent) in (int, float):
        if type(exponent) is int and exponent < 0 and not _dtype.is_inexact(input._data.dtype):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        # the type name keeps 2 and 2.0 apart in the kernel cache (they hash equal)
        return REGISTRY["_pow_scalar"].call(input, exponent, type(exponent).__name__)
    f = REGISTRY["pow"].call
    return f(input, exponent) if out is None else f(input, exponent, out=out)


@register("pow", nin=2, promote="common", inplace=True, dunder="pow", saves=(0, 1),
          samples=_pow_samples, impl=_pow_impl)
def pow(input, exponent):  # noqa: A001 - torch's name
    """``input ** exponent`` elementwise, broadcasting (torch.pow)."""
    broadcast_check("pow", input, exponent)
    return jnp.power(input, exponent)


@register("_pow_scalar", method=False, function=False, saves=(0,), grad_name="PowBackward0")
def _pow_scalar(input, exponent, kind):
    """``input ** exponent`` for a Python number ``exponent`` (static; ``kind`` its type name),
    with torch's result dtype."""
    exponent = float(exponent) if kind == "float" else int(exponent)
    dt = _result_dtype([input, exponent])
    x = input if input.dtype == dt else input.astype(dt)
    if type(exponent) is int or (float(exponent).is_integer() and abs(exponent) < 64):
        e = int(exponent)
        if e >= 0 or _dtype.is_inexact(dt):
            return lax.integer_pow(x, e) if e >= 0 else 1 / lax.integer_pow(x, -e)
    return jnp.power(x, jnp.asarray(exponent, dt))


@register("float_power", nin=2, saves=(0, 1),
          samples=lambda: [Sample(P(3, 4), A(3, 4)), Sample(P(3), 2)])
def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (torch.float_power)."""
    broadcast_check("float_power", input, exponent)
    return jnp.power(jnp.asarray(input, jnp.float64), jnp.asarray(exponent, jnp.float64))


@register("maximum", nin=2, promote="common", saves=(0, 1), samples=_bin_samples())
def maximum(input, other):
    """Elementwise maximum (ties split the gradient evenly, as torch)."""
    broadcast_check("maximum", input, other)
    return jnp.maximum(input, other)


@register("minimum", nin=2, promote="common", saves=(0, 1), samples=_bin_samples())
def minimum(input, other):
    """Elementwise minimum (ties split the gradient evenly, as torch)."""
    broadcast_check("minimum", input, other)
    return jnp.minimum(input, other)


@register("fmax", nin=2, promote="common", saves=(0, 1), samples=_bin_samples())
def fmax(input, other):
    """Elementwise maximum ignoring NaN (torch.fmax)."""
    broadcast_check("fmax", input, other)
    return jnp.fmax(input, other)


@register("fmin", nin=2, promote="common", saves=(0, 1), samples=_bin_samples())
def fmin(input, other):
    """Elementwise minimum ignoring NaN (torch.fmin)."""
    broadcast_check("fmin", input, other)
    return jnp.fmin(input, other)


@register("atan2", nin=2, promote="float", saves=(0, 1), inplace=True,
          samples=_bin_samples(ints=False), aliases=("arctan2",))
def atan2(input, other):
    """Elementwise arctangent of ``input / other`` with the quadrant (torch.atan2)."""
    broadcast_check("atan2", input, other)
    return jnp.arctan2(input, other)


@register("hypot", nin=2, promote="common", saves=(0, 1), inplace=True, samples=_bin_samples(ints=False))
def hypot(input, other):
    """``sqrt(input**2 + other**2)`` elementwise (torch.hypot)."""
    broadcast_check("hypot", input, other)
    return jnp.hypot(input, other)


@register("logaddexp", nin=2, promote="common", saves=(0, 1), samples=_bin_samples(ints=False))
def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` computed stably (torch.logaddexp)."""
    broadcast_check("logaddexp", input, other)
    return jnp.logaddexp(input, other)


@register("xlogy", nin=2, promote="float", saves=(0, 1), inplace=True,
          samples=_bin_samples(ints=False, rhs_pos=True))
def xlogy(input, other):
    """``input * log(other)``, zero where ``input`` is zero (torch.xlogy)."""
    broadcast_check("xlogy", input, other)
    return jsp.xlogy(input, other)


@register("copysign", nin=2, promote="float", saves=(0, 1), inplace=True, samples=_bin_samples(ints=False))
def copysign(input, other):
    """The magnitude of ``input`` with the sign of ``other`` (torch.copysign)."""
    broadcast_check("copysign", input, other)
    return jnp.copysign(input, other)


def _lerp_samples():
    return [Sample(A(3, 4), A(3, 4), 0.3), Sample(A(3, 4), A(4), A(3, 1, low=0, high=1)),
            Sample(A(2, dtype="float64"), A(2, dtype="float64"), 0.75)]


@register("lerp", nin=3, promote="common", inplace=True, saves=(0, 1, 2), samples=_lerp_samples)
def lerp(input, end, weight):
    """``input + weight * (end - input)`` (torch.lerp)."""
    broadcast_check("lerp", input, end, weight)
    return input + weight * (end - input)


def _addc_samples():
    return [Sample(A(3, 4), A(3, 4), P(3, 4)), Sample(A(3, 4), A(4), P(3, 1), value=0.5)]


@register("addcmul", nin=3, promote="common", inplace=True, saves=(1, 2), samples=_addc_samples)
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (torch.addcmul)."""
    broadcast_check("addcmul", input, tensor1, tensor2)
    return input + value * tensor1 * tensor2


@register("addcdiv", nin=3, promote="common", inplace=True, saves=(1, 2), samples=_addc_samples)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (torch.addcdiv)."""
    broadcast_check("addcdiv", input, tensor1, tensor2)
    return input + value * tensor1 / tensor2


# ----- comparisons and logic (bool results, no gradient) ------------------------------------------
def _compare(name, jfn, dunder, alias=None):
    def fn(input, other):
        broadcast_check(name, input, other)
        return jfn(input, other)
    fn.__doc__ = f"Elementwise ``{name}`` comparison, broadcasting; returns a bool tensor."
    register(name, nin=2, promote="common", differentiable=False, dunder=dunder, inplace=True,
             samples=_bin_samples(), aliases=(alias,) if alias else ())(fn)


_compare("eq", jnp.equal, "eq")
_compare("ne", jnp.not_equal, "ne", "not_equal")
_compare("lt", jnp.less, "lt", "less")
_compare("le", jnp.less_equal, "le", "less_equal")
_compare("gt", jnp.greater, "gt", "greater")
_compare("ge", jnp.greater_equal, "ge", "greater_equal")


def _logic_samples():
    return [Sample(B(3, 4), B(3, 4)), Sample(A(3, 4), B(4)), Sample(I(2, 3), I(2, 3))]


def _logical(name, jfn):
    def fn(input, other):
        broadcast_check(name, input, other)
        return jfn(input != 0, other != 0)
    fn.__doc__ = f"Elementwise ``{name}`` of the truth values; returns a bool tensor."
    register(name, nin=2, differentiable=False, inplace=True, samples=_logic_samples)(fn)


_logical("logical_and", jnp.logical_and)
_logical("logical_or", jnp.logical_or)
_logical("logical_xor", jnp.logical_xor)


@register("logical_not", differentiable=False, inplace=True,
          samples=lambda: [Sample(B(3, 4)), Sample(A(3)), Sample(I(4))])
def logical_not(input):
    """Elementwise logical NOT (zero is False); returns a bool tensor."""
    return input == 0


def _bits_samples():
    return [Sample(B(3, 4), B(3, 4)), Sample(I(3, 4), I(4)), Sample(I(3, dtype="int32"), 3)]


def _bitwise(name, jfn, dunder):
    def fn(input, other):
        if jnp.issubdtype(input.dtype, jnp.inexact):
            raise DTypeError(f"{name}(): \"{name}_cpu\" not implemented for '{input.dtype}' "
                             "(bitwise ops need integer or bool tensors)")
        broadcast_check(name, input, other)
        return jfn(input, other)
    fn.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors."
    register(name, nin=2, promote="common", differentiable=False, dunder=dunder, inplace=True,
             samples=_bits_samples)(fn)


_bitwise("bitwise_and", jnp.bitwise_and, "and")
_bitwise("bitwise_or", jnp.bitwise_or, "or")
_bitwise("bitwise_xor", jnp.bitwise_xor, "xor")


@register("bitwise_not", differentiable=False, inplace=True, dunder="invert",
          samples=lambda: [Sample(B(3, 4)), Sample(I(3, 4))])
def bitwise_not(input):
    """Elementwise bitwise NOT (logical NOT for bool tensors)."""
    if jnp.issubdtype(input.dtype, jnp.inexact):
        raise DTypeError(f"bitwise_not(): not implemented for '{input.dtype}' (needs integer or "
                         "bool)")
    return jnp.invert(input)


# ----- unary -------------------------------------------------------------------------------------
def _unary(name, jfn, *, promote="float", saves=(0,), samples=None, doc=None, aliases=(),
           inplace=True, dunder=None, differentiable=True, functional=False, grad_out=None):
    def fn(input):
        return jfn(input)
    fn.__doc__ = doc or f"Elementwise ``{name}`` (torch.{name})."
    register(name, promote=promote, saves=saves, inplace=inplace, aliases=aliases, dunder=dunder,
             differentiable=differentiable, functional=functional, grad_out=grad_out,
             samples=samples or _unary_samples())(fn)


_unary("exp", jnp.exp, saves="output", grad_out=lambda g, y: g * y)
_unary("exp2", jnp.exp2, saves="output")
_unary("expm1", jnp.expm1, saves="output")
_unary("log", jnp.log, samples=_unary_samples(low=0.1, high=3.0))
_unary("log2", jnp.log2, samples=_unary_samples(low=0.1, high=3.0))
_unary("log10", jnp.log10, samples=_unary_samples(low=0.1, high=3.0))
_unary("log1p", jnp.log1p, samples=_unary_samples(low=-0.5, high=3.0))
_unary("sqrt", jnp.sqrt, saves="output", samples=_unary_samples(low=0.1, high=3.0))
_unary("rsqrt", jax.lax.rsqrt, saves="output", samples=_unary_samples(low=0.1, high=3.0))
_unary("sin", jnp.sin)
_unary("cos", jnp.cos)
_unary("tan", jnp.tan, samples=_unary_samples(low=-1.2, high=1.2))
_unary("asin", jnp.arcsin, samples=_unary_samples(low=-0.9, high=0.9, ints=False),
       aliases=("arcsin",))
_unary("acos", jnp.arccos, samples=_unary_samples(low=-0.9, high=0.9, ints=False),
       aliases=("arccos",))
_unary("atan", jnp.arctan, aliases=("arctan",))
_unary("sinh", jnp.sinh)
_unary("cosh", jnp.cosh)
_unary("tanh", jnp.tanh, saves="output", functional=True, grad_out=lambda g, y: g * (1 - y * y))
_unary("asinh", jnp.arcsinh, aliases=("arcsinh",))
_unary("acosh", jnp.arccosh, samples=_unary_samples(low=1.1, high=3.0), aliases=("arccosh",))
_unary("atanh", jnp.arctanh, samples=_unary_samples(low=-0.9, high=0.9, ints=False),
       aliases=("arctanh",))
_unary("sigmoid", jax.nn.sigmoid, saves="output", functional=True,
       grad_out=lambda g, y: g * (y * (1 - y)))
_unary("erf", jsp.erf)
_unary("erfc", jsp.erfc)
_unary("erfinv", jsp.erfinv, samples=_unary_samples(low=-0.9, high=0.9, ints=False))
_unary("lgamma", jsp.gammaln, samples=_unary_samples(low=0.2, high=4.0))
_unary("digamma", jsp.digamma, samples=_unary_samples(low=0.2, high=4.0))
_unary("reciprocal", jnp.reciprocal, saves="output", samples=_unary_samples(low=0.5, high=3.0))
_unary("sinc", jnp.sinc)
_unary("deg2rad", jnp.deg2rad, saves=())
_unary("rad2deg", jnp.rad2deg, saves=())
_unary("neg", jnp.negative, promote=None, saves=(), dunder="neg", aliases=("negative",))
_unary("positive", lambda x: x, promote=None, saves=(), inplace=False, dunder="pos")
_unary("abs", jnp.abs, promote=None, dunder="abs", aliases=("absolute",))
_unary("square", jnp.square, promote=None)
def _sign(x):
    if jnp.iscomplexobj(x):
        raise DTypeError("sign(): Unlike NumPy, torch.sign is not intended to support complex numbers. "
                         "Please use sgn instead.")
    return jnp.sign(x)


_unary("sign", _sign, promote=None)
_unary("sgn", jnp.sign, promote=None)
_unary("floor", jnp.floor, promote=None, saves=())
_unary("ceil", jnp.ceil, promote=None, saves=())
_unary("trunc", jnp.trunc, promote=None, saves=(), aliases=("fix",))
_unary("frac", lambda x: x - jnp.trunc(x), promote=None, saves=(),
       samples=_unary_samples(ints=False))
_unary("relu", jax.nn.relu, promote=None, saves="output", functional=True,
       grad_out=lambda g, y: jnp.where(y > 0, g, jnp.zeros_like(g)))


@register("round", inplace=True, samples=lambda: [Sample(A(3, 4, low=-5, high=5)),
                                                    Sample(A(3, 4) * 100, decimals=1),
                                                    Sample(I(4))])
def round(input, *, decimals=0):  # noqa: A001 - torch's name
    """Round half to even, optionally to ``decimals`` places (torch.round)."""
    return jnp.round(input, decimals)


@register("logit", promote="float", saves=(0,), inplace=True,
          samples=lambda: [Sample(A(3, 4, low=0.05, high=0.95)), Sample(A(5, low=0, high=1),
                                                                          eps=1e-3)])
def logit(input, eps=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` if eps is given."""
    if eps is not None:
        input = jnp.clip(input, eps, 1 - eps)
    return jnp.log(input / (1 - input))


def _clamp_samples():
    return [Sample(A(3, 4), -0.5, 0.5), Sample(A(3, 4), min=-0.5), Sample(A(3, 4), max=0.1),
            Sample(A(3, 4), A(3, 4), A(4) + 1.0), Sample(I(5), -1, 2),
            Sample(A(3, 4), A(4, low=-3, high=-1), None)]


@register("clamp", nin=3, promote="common", inplace=True, saves=(0, 1, 2), samples=_clamp_samples,
          aliases=("clip",))
def clamp(input, min=None, max=None):  # noqa: A002 - torch's names
    """Clamp every element into ``[min, max]`` (either bound optional; tensors broadcast).

    The gradient passes through where ``min <= input <= max`` (bounds included), as in torch.
    """
    if min is None and max is None:
        raise ValueError("clamp(): At least one of 'min' or 'max' must not be None")
    broadcast_check("clamp", input, min, max)
    out = input
    if min is not None:
        out = jnp.where(out < min, min, out)
    if max is not None:
        out = jnp.where(out > max, max, out)
    return jnp.broadcast_to(out, jnp.broadcast_shapes(
        *(getattr(a, "shape", ()) for a in (input, min, max) if a is not None)))


def _where_samples():
    return [Sample(B(3, 4), A(3, 4), A(3, 4)), Sample(B(3, 1), A(4), 0.0),
            Sample(B(2, 3), I(2, 3), A(3)), Sample(B(4), 1.0, A(4))]


@register("where", nin=3, promote="common", promote_args=(1, 2), saves=(0,), samples=_where_samples)
def where(condition, input, other):
    """Pick ``input`` where ``condition`` is True and ``other`` elsewhere (broadcasting)."""
    broadcast_check("where", condition, input, other)
    return jnp.where(condition.astype(bool), input, other)


# ----- predicates and cleanup ----------------------------------------------------------------
def _pred(name, jfn):
    def fn(input):
        return jfn(input)
    fn.__doc__ = f"Elementwise ``{name}``; returns a bool tensor."
    register(name, differentiable=False, samples=lambda: [
        Sample(A(3, 4) / A(3, 4, low=-0.01, high=0.01).round(2)), Sample(I(3))])(fn)


_pred("isnan", jnp.isnan)
_pred("isinf", jnp.isinf)
_pred("isfinite", jnp.isfinite)
_pred("isposinf", jnp.isposinf)
_pred("isneginf", jnp.isneginf)
_pred("signbit", jnp.signbit)


@register("nan_to_num", inplace=True, samples=lambda: [
    Sample(A(3, 4) / A(3, 4, low=-0.01, high=0.01).round(2)),
    Sample(A(3, 4) / A(3, 4, low=-0.01, high=0.01).round(2), nan=1.0, posinf=9.0, neginf=-9.0)])
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN with ``nan`` and +-inf with ``posinf``/``neginf`` (default: the dtype's extremes)."""
    return jnp.nan_to_num(input, nan=nan, posinf=posinf, neginf=neginf)
