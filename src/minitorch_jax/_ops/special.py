"""More elementwise math and comparisons: isclose/allclose/equal, clamp_min/max, gcd/lcm, polygamma ..."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .. import return_types
from .._errors import DTypeError, OpTypeError
from .._tensor import Tensor
from ._helpers import BIN_SHAPES, A, B, I, P, Sample, broadcast_check
from ._registry import REGISTRY, register

frexp_result = return_types.frexp


class NotImplementedDTypeError(DTypeError, NotImplementedError):
    """An op has no kernel for this dtype (torch raises NotImplementedError, a RuntimeError)."""


def _tname(dt) -> str:
    """torch's capitalised scalar-type name of a numpy dtype (``'Float'``, ``'Long'``)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
             "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
             "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
    return names.get(str(dt), str(dt))


def _need_int(op, *xs):
    for x in xs:
        if not jnp.issubdtype(x.dtype, jnp.integer):
            raise NotImplementedDTypeError(f"{op}(): \"{op}_cpu\" not implemented for '{_tname(x.dtype)}'"
                                           " (needs integer tensors)")


def _need_float(op, *xs):
    for x in xs:
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise NotImplementedDTypeError(f"{op}(): \"{op}_cpu\" not implemented for '{_tname(x.dtype)}'"
                                           " (needs floating point tensors)")


# ----- closeness and equality ------------------------------------------------------------------
def _isclose_kernel(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    broadcast_check("isclose", input, other)
    if input.dtype != other.dtype:
        raise DTypeError(f"isclose(): {_tname(input.dtype)} did not match {_tname(other.dtype)} "
                         "(both inputs must have the same dtype)")
    if rtol < 0:
        raise DTypeError(f"isclose(): rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise DTypeError(f"isclose(): atol must be greater than or equal to zero, but got {atol}")
    close = input == other
    if input.dtype == jnp.bool_:
        return close
    if equal_nan and jnp.issubdtype(input.dtype, jnp.inexact):
        close = close | (jnp.isnan(input) & jnp.isnan(other))
    if jnp.issubdtype(input.dtype, jnp.integer):  # torch measures int errors in the default float
        from .._dtype import get_default_dtype
        fdt = get_default_dtype().np
        a, b = input.astype(fdt), other.astype(fdt)
    else:
        a, b = input, other
    err = jnp.abs(a - b)
    allowed = atol + rtol * jnp.abs(b)
    return close | (jnp.isfinite(err) & (err <= allowed))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (torch.isclose); a bool tensor.

    Args:
        input, other: tensors of the same dtype (broadcasting).
        rtol, atol: relative and absolute tolerances (non-negative).
        equal_nan: count two NaNs as close.
    """
    return REGISTRY["isclose"].call(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _close_samples():
    x = A(3, 4)
    return [Sample(x, x + A(3, 4, low=-1e-5, high=1e-5)), Sample(A(3, 4), A(4)),
            Sample(x, x + 0.01, rtol=0.05, atol=0.0), Sample(x, x + 0.01, atol=0.02),
            Sample(A(2, 3, dtype="float64"), A(2, 3, dtype="float64")),
            Sample(I(3, 4), I(4)), Sample(B(3), B(3)), Sample(A(3), A(3, dtype="float64")),
            Sample(A(3) / A(3, low=-0.01, high=0.01).round(2), A(3) / A(3, low=-0.01, high=0.01).round(2),
                   equal_nan=True),
            Sample(A(3), A(3), rtol=-1.0)]


register("isclose", nin=2, differentiable=False, impl=isclose, samples=_close_samples)(_isclose_kernel)


def _allclose_kernel(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _isclose_kernel(input, other, rtol, atol, equal_nan).all()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`); a Python bool."""
    return bool(REGISTRY["isclose"].call(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
                .all().item())


def _bool_samples(make):
    """Samples of an op returning a Python bool: the method form is checked in test_special.py."""
    def samples():
        out = make()
        for s in out:
            s.method = False
        return out
    return samples


register("allclose", nin=2, differentiable=False, impl=allclose,
         samples=_bool_samples(_close_samples))(_allclose_kernel)


def _equal_kernel(input, other):
    return jnp.array_equal(input, other)


def equal(input, other) -> bool:
    """``True`` if both tensors have the same shape and the same values (torch.equal).

    Values are compared after type promotion, so ``equal(int_tensor, float_tensor)`` can be True.
    """
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(REGISTRY["equal"].call(input, other).item())


register("equal", nin=2, promote="common", differentiable=False, impl=equal, samples=_bool_samples(lambda: [
    Sample(A(3, 4), A(3, 4)), Sample(I(3), I(3)), Sample(A(3), A(2)), Sample(A(2, 3), A(3)),
    Sample(I(3).astype("float32"), I(3)), Sample(A(0, 2), A(0, 2)), Sample(B(4), B(4))]))(_equal_kernel)


def _is_nonzero_kernel(input):
    return input.reshape(()) != 0


def is_nonzero(input) -> bool:
    """Whether a one-element tensor is nonzero (torch.is_nonzero); a Python bool.

    Raises RuntimeError for tensors with no elements or more than one element.
    """
    n = input.numel()
    if n == 0:
        raise RuntimeError("is_nonzero(): Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError(f"is_nonzero(): Boolean value of Tensor with more than one value is ambiguous "
                           f"(shape {list(input.shape)})")
    return bool(REGISTRY["is_nonzero"].call(input).item())


register("is_nonzero", differentiable=False, impl=is_nonzero, samples=_bool_samples(lambda: [
    Sample(A(1)), Sample(A(1, 1) * 0), Sample(I()), Sample(A(0)), Sample(A(2)), Sample(B(1, 1))]))(
    _is_nonzero_kernel)


def is_same_size(input, other) -> bool:
    """Whether two tensors have the same shape (torch.is_same_size)."""
    return tuple(input.shape) == tuple(other.shape)


register("is_same_size", nin=2, differentiable=False, impl=is_same_size, samples=_bool_samples(lambda: [
    Sample(A(3, 4), I(3, 4)), Sample(A(3), A(3, 1)), Sample(A(), A())]))(
    lambda input, other: jnp.asarray(input.shape == other.shape))


# ----- clamps, rsub, heaviside -------------------------------------------------------------------
def _clamp_one_samples():
    return [Sample(A(3, 4), 0.1), Sample(A(3, 4), A(4)), Sample(A(3, 1), A(1, 4)),
            Sample(I(5), 1), Sample(I(5), 0.5), Sample(A(3, dtype="float64"), A(3)),
            Sample(A(), -0.3), Sample(A(0, 2), A(2))]


@register("clamp_min", nin=2, promote="common", inplace=True, saves=(0, 1), samples=_clamp_one_samples)
def clamp_min(input, min):  # noqa: A002 - torch's name
    """``max(input, min)`` elementwise; the gradient passes to ``input`` where ``input >= min``."""
    broadcast_check("clamp_min", input, min)
    return jnp.where(input < min, min, input)


@register("clamp_max", nin=2, promote="common", inplace=True, saves=(0, 1), samples=_clamp_one_samples)
def clamp_max(input, max):  # noqa: A002 - torch's name
    """``min(input, max)`` elementwise; the gradient passes to ``input`` where ``input <= max``."""
    broadcast_check("clamp_max", input, max)
    return jnp.where(input > max, max, input)


def _rsub_kernel(input, other, alpha=1):
    broadcast_check("rsub", input, other)
    if input.dtype == jnp.bool_:
        raise DTypeError("rsub(): Subtraction, the `-` operator, with two bool tensors is not supported. "
                         "Use the `^` or `logical_xor()` operator instead.")
    if isinstance(alpha, float) and not jnp.issubdtype(input.dtype, jnp.inexact):
        raise DTypeError(f"rsub(): For integral input tensors, argument alpha must not be a floating point "
                         f"number (got alpha={alpha})")
    return other - input if alpha == 1 else other - alpha * input


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (torch.rsub: subtraction with the operands reversed)."""
    return REGISTRY["rsub"].call(input, other, alpha=alpha)


register("rsub", nin=2, promote="common", method=False, impl=rsub, samples=lambda: [
    Sample(A(3, 4), A(4)), Sample(A(3, 4), 1.5), Sample(A(2, 3), A(2, 3), alpha=2),
    Sample(I(3), A(3), alpha=2), Sample(I(3), 2, alpha=1.5), Sample(I(3), I(3)), Sample(B(3), B(3)),
    Sample(A(3, dtype="float64"), A(3), alpha=0.5)])(_rsub_kernel)


@register("heaviside", nin=2, differentiable=False, inplace=True, samples=lambda: [
    Sample(A(3, 4).round(), A(4), grad=False), Sample(A(3, 4).round(), A(), grad=False),
    Sample(I(5), I(5), grad=False), Sample(A(3), A(3, dtype="float64"), grad=False),
    Sample(A(3, dtype="float64").round(), A(3, 1, dtype="float64"), grad=False)])
def heaviside(input, values):
    """The Heaviside step: 0 where ``input < 0``, 1 where ``> 0``, ``values`` where ``== 0``.

    Both tensors must have the same dtype (as torch). torch has no derivative for it; here the
    result never requires grad.
    """
    broadcast_check("heaviside", input, values)
    if input.dtype != values.dtype:
        raise DTypeError(f"heaviside(): heaviside is not yet implemented for tensors with different "
                         f"dtypes ({_tname(input.dtype)} and {_tname(values.dtype)})")
    zero = jnp.zeros((), input.dtype)
    return jnp.where(input == 0, values, (input > zero).astype(input.dtype))


# ----- integer and float bit ops --------------------------------------------------------------
def _int_pair_samples():
    return [Sample(I(3, 4, low=-12, high=13), I(4, low=-12, high=13)), Sample(I(5, low=0), I(5, low=0)),
            Sample(I(2, 3, dtype="int32"), I(3)), Sample(I(3, dtype="uint8", low=0), I(3, dtype="int8")),
            Sample(A(3), A(3)), Sample(B(3), B(3)), Sample(I(0), I(0))]


@register("gcd", nin=2, promote="common", differentiable=False, inplace=True, samples=_int_pair_samples)
def gcd(input, other):
    """Elementwise greatest common divisor of integer tensors (non-negative; ``gcd(0, 0) = 0``)."""
    broadcast_check("gcd", input, other)
    _need_int("gcd", input)
    return jnp.gcd(input, other)


@register("lcm", nin=2, promote="common", differentiable=False, inplace=True, samples=_int_pair_samples)
def lcm(input, other):
    """Elementwise least common multiple of integer tensors (non-negative; 0 if either is 0)."""
    broadcast_check("lcm", input, other)
    _need_int("lcm", input)
    return jnp.lcm(input, other)


@register("ldexp", nin=2, promote="float", inplace=True, saves=(0, 1), samples=lambda: [
    Sample(A(3, 4), I(4, low=0)), Sample(A(3, 4), A(3, 4)), Sample(I(3), I(3)),
    Sample(A(3), I(3), grad=False),
    Sample(A(3, dtype="float64"), I(3, dtype="int32", low=0)), Sample(A(2, 1), A(3)), Sample(A(3), 2)])
def ldexp(input, other):
    """``input * 2 ** other`` elementwise (torch.ldexp).

    The gradient for ``input`` is ``2 ** other``. (torch computes it with an integer power when
    ``other`` is an integer tensor, so it gives 0 for negative integer exponents; here it is exact.)
    """
    broadcast_check("ldexp", input, other)
    # power (not exp2, which XLA approximates) keeps 2 ** integer exact
    return input * jnp.power(jnp.asarray(2, input.dtype), other)


@jax.custom_jvp
def _frexp(x):
    return jnp.frexp(x)


@_frexp.defjvp
def _frexp_jvp(primals, tangents):
    (x,), (tx,) = primals, tangents
    m, e = jnp.frexp(x)
    # d mantissa / dx = 2 ** -exponent, as torch's; the exponent has no tangent
    scale = jnp.power(jnp.asarray(2, x.dtype), -e.astype(x.dtype))
    return (m, e), (tx * scale, np.zeros(e.shape, jax.dtypes.float0))


def _frexp_kernel(input):
    if not jnp.issubdtype(input.dtype, jnp.floating):
        raise DTypeError(f"frexp(): torch.frexp() only supports floating-point dtypes (got "
                         f"{_tname(input.dtype)})")
    m, e = _frexp(input)
    return m, e.astype(jnp.int32)


def frexp(input):
    """Split ``input`` into ``mantissa * 2 ** exponent`` with ``0.5 <= |mantissa| < 1``.

    Returns ``return_types.frexp(mantissa, exponent)``: mantissa in ``input``'s dtype, exponent
    int32 (both 0 where ``input`` is 0).
    """
    return REGISTRY["frexp"].call(input)


register("frexp", impl=frexp, out_wrap=lambda outs: frexp_result(*outs), samples=lambda: [
    Sample(A(3, 4, low=-100, high=100)), Sample(A(5, dtype="float64")), Sample(A() * 0),
    Sample(A(0, 2)), Sample(I(3))])(_frexp_kernel)


@jax.custom_jvp
def _nextafter(x, y):
    return jnp.nextafter(x, y)


@_nextafter.defjvp
def _nextafter_jvp(primals, tangents):
    x, y = primals
    tx, _ = tangents
    return _nextafter(x, y), jnp.broadcast_to(tx, jnp.broadcast_shapes(x.shape, y.shape)).astype(x.dtype)


@register("nextafter", nin=2, promote="common", inplace=True, saves=(0, 1), samples=lambda: [
    Sample(A(3, 4), A(4)), Sample(A(3), A(3, dtype="float64")), Sample(A(2, 1), A(1, 3)),
    Sample(A(3), 0.0), Sample(I(3), I(3))])
def nextafter(input, other):
    """The next representable float after ``input`` towards ``other`` (torch.nextafter).

    As torch, the gradient is 1 for ``input`` and 0 for ``other``.
    """
    broadcast_check("nextafter", input, other)
    _need_float("nextafter", input)
    return _nextafter(input, other)


@register("logaddexp2", nin=2, promote="common", saves=(0, 1), samples=lambda: [
    Sample(*(A(*a) for a in ab)) for ab in BIN_SHAPES] + [
    Sample(A(3, dtype="float64"), A(3)), Sample(A(3), 1.5), Sample(I(3), I(3))])
def logaddexp2(input, other):
    """``log2(2 ** input + 2 ** other)`` computed stably (torch.logaddexp2)."""
    broadcast_check("logaddexp2", input, other)
    _need_float("logaddexp2", input)
    return jnp.logaddexp2(input, other)


# ----- special functions ----------------------------------------------------------------------
@register("i0", promote="float", inplace=True, saves=(0,), samples=lambda: [
    Sample(A(3, 4, low=-4, high=4)), Sample(A()), Sample(A(0, 3)), Sample(A(5, dtype="float64")),
    Sample(I(4))])
def i0(input):
    """The modified Bessel function of the first kind, order 0 (torch.i0); its derivative is i1."""
    return jsp.i0(input)


def _polygamma_kernel(input, n):
    # jax differentiates polygamma in x (giving polygamma(n + 1, x)); digamma is its n = 0 case
    return jsp.digamma(input) if n == 0 else jsp.polygamma(jnp.asarray(n, jnp.int32), input)


def polygamma(*args, **kwargs):
    """The ``n``-th derivative of the digamma function: ``polygamma(n, input)``.

    Also the method form ``input.polygamma(n)``. ``n`` must be a non-negative int; integer
    inputs give the default float dtype.
    """
    if args and isinstance(args[0], Tensor):  # input.polygamma(n)
        input, n = args[0], (args[1] if len(args) > 1 else kwargs.pop("n"))
    else:
        n = args[0] if args else kwargs.pop("n")
        input = args[1] if len(args) > 1 else kwargs.pop("input")
    if kwargs:
        raise OpTypeError(f"polygamma(): unexpected keyword arguments {sorted(kwargs)}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise OpTypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise DTypeError(f"polygamma(): polygamma(n, x) does not support negative n (got n={n})")
    return REGISTRY["polygamma"].call(input, n)


register("polygamma", promote="float", inplace=True, saves=(0,), impl=polygamma, samples=lambda: [
    Sample(0, P(3, 4, low=0.3, high=4)), Sample(1, A(3, 4, low=-3, high=4)), Sample(2, P(5, dtype="float64")),
    Sample(3, P(2, 3), rtol=1e-4), Sample(1, I(4, low=1, high=6)), Sample(1, P()), Sample(-1, P(3)),
    Sample(1.5, P(3))])(_polygamma_kernel)
