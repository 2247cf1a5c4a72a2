"""nn.functional activations: one table entry (one fused elementwise kernel) each.

Ops torch only has in ``torch.nn.functional`` are registered ``function=False, method=False``;
``selu``, ``celu``, ``prelu``, ``rrelu``, ``threshold``, ``hardshrink`` are also ``mt.<name>`` as in
torch. Where torch's functional form takes ``inplace=``, the public callable (``impl``) computes
out of place with the one kernel and rebinds the input (as ``Tensor`` in-place ops do); the
``F.<name>_`` forms (``elu_``, ``leaky_relu_`` ...) are entries of their own.
Gradients come from ``jax.vjp`` of the kernels; the piecewise ones use ``jnp.where`` on the
same strict comparisons as torch's backward kernels, so boundary points get torch's gradient.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .. import _dtype
from .._errors import DTypeError, OpValueError, ShapeError
from .._tensor import Tensor
from ._helpers import A, I, Sample, norm_dim
from ._registry import REGISTRY, check_inplace, commit_inplace, register

_TNAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}


def _need_float(x, kernel: str):
    """torch's NotImplementedError-kind error for integer inputs (trace time, free)."""
    if not _dtype.is_inexact(x.dtype):
        raise DTypeError(f'"{kernel}" not implemented for \'{_TNAMES.get(str(x.dtype), x.dtype)}\'')


def _f(name):
    """The dispatching callable of table entry ``name`` (set when the table is installed)."""
    return REGISTRY[name].call


def _finish(name, input, args, inplace):
    """Run entry ``name`` on ``input`` (static ``args``); with ``inplace`` rebind ``input``."""
    if inplace:
        check_inplace(input, name + "_")
        return commit_inplace(input, _f(name)(input, *args), name + "_")
    return _f(name)(input, *args)


# ----- samples ---------------------------------------------------------------------------------
def _s(*extra, ints=False, low=-3.0, high=3.0, **kw):
    """Samples for a unary activation with static ``extra`` args / ``kw`` options."""
    def samples():
        out = [Sample(A(3, 4, low=low, high=high), *extra, **kw),
               Sample(A(2, 3, 5, low=low, high=high), *extra, **kw),
               Sample(A(low=low, high=high), *extra, **kw),
               Sample(A(0, 3), *extra, **kw),
               Sample(A(6, dtype="float64", low=low, high=high), *extra, **kw)]
        if ints:
            out.append(Sample(I(5, low=-4, high=5), *extra, **kw))
        return out
    return samples


def _nn(name, **opts):
    """Register a functional-only activation (torch has it only as ``F.<name>``)."""
    opts.setdefault("function", False)
    opts.setdefault("method", False)
    opts.setdefault("torch_name", "nn.functional." + name)
    return register(name, functional=True, **opts)


# ----- kernels ---------------------------------------------------------------------------------
def _hardtanh_k(input, min_val=-1.0, max_val=1.0):
    """``clamp(input, min_val, max_val)`` with torch's gradient (1 strictly inside the range)."""
    lo = jnp.asarray(min_val).astype(input.dtype)
    hi = jnp.asarray(max_val).astype(input.dtype)
    inside = (input > lo) & (input < hi)
    return jnp.where(inside, input, jax.lax.stop_gradient(jnp.clip(input, lo, hi)))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """HardTanh: ``clamp(input, min_val, max_val)`` elementwise (F.hardtanh).

    Args:
        min_val, max_val: the range (``min_val <= max_val``).
        inplace: write the result into ``input``.
    """
    if min_val > max_val:
        raise OpValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val={min_val}, "
                           f"max_val={max_val})")
    args = () if (min_val == -1.0 and max_val == 1.0) else (min_val, max_val)
    return _finish("hardtanh", input, args, inplace)


_nn("hardtanh", impl=hardtanh, samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), -0.5, 2.0), Sample(A(3, 4), min_val=0.0, max_val=0.5),
    Sample(A(3), 2.0, 1.0)])(_hardtanh_k)


def _relu6_k(input):
    """``min(max(0, x), 6)`` elementwise."""
    return _hardtanh_k(input, 0.0, 6.0)


def relu6(input, inplace=False):
    """ReLU6: ``min(max(0, x), 6)`` elementwise (F.relu6)."""
    return _finish("relu6", input, (), inplace)


_nn("relu6", impl=relu6, samples=_s(ints=True, low=-3, high=9))(_relu6_k)


def _leaky_relu_k(input, negative_slope=0.01):
    """``x if x > 0 else negative_slope * x``."""
    _need_float(input, "leaky_relu_cpu")
    return jnp.where(input > 0, input, input * negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """LeakyReLU: ``x`` for positive ``x``, ``negative_slope * x`` otherwise (F.leaky_relu)."""
    return _finish("leaky_relu", input, () if negative_slope == 0.01 else (negative_slope,), inplace)


_nn("leaky_relu", impl=leaky_relu, samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), 0.2), Sample(A(3, 4), negative_slope=-0.5)])(_leaky_relu_k)


def _elu_k(input, alpha=1.0, scale=1.0, input_scale=1.0):
    """``scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1))`` (torch's elu kernel)."""
    _need_float(input, "elu_cpu")
    neg = alpha * jnp.expm1(jnp.minimum(input, 0) * input_scale)
    out = jnp.where(input > 0, input, neg)
    return out * scale if scale != 1.0 else out


def elu(input, alpha=1.0, inplace=False):
    """ELU: ``x`` for positive ``x``, ``alpha * (exp(x) - 1)`` otherwise (F.elu)."""
    return _finish("elu", input, () if alpha == 1.0 else (alpha,), inplace)


_nn("elu", impl=elu, samples=lambda: _s(ints=True)() + [Sample(A(3, 4), 0.5),
                                                        Sample(A(3, 4), alpha=-1.5)])(_elu_k)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_k(input):
    """``scale * elu(x, alpha)`` with SELU's fixed constants."""
    _need_float(input, "elu_cpu")
    return _elu_k(input, _SELU_ALPHA, _SELU_SCALE)


def selu(input, inplace=False):
    """SELU: ``1.0507 * elu(x, alpha=1.6733)`` elementwise (torch.selu / F.selu)."""
    return _finish("selu", input, (), inplace)


register("selu", functional=True, method=False, impl=selu, samples=_s(ints=True))(_selu_k)


def _celu_k(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _need_float(input, "elu_cpu")
    return _elu_k(input, alpha, 1.0, 1.0 / alpha)


def celu(input, alpha=1.0, inplace=False):
    """CELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (torch.celu / F.celu)."""
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _finish("celu", input, () if alpha == 1.0 else (alpha,), inplace)


register("celu", functional=True, method=False, impl=celu, samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), 0.5), Sample(A(3, 4), alpha=2.0), Sample(A(3), 0.0)])(_celu_k)


def _gelu_k(input, approximate="none"):
    """GELU: ``x * Phi(x)`` (exact, erf) or its tanh approximation."""
    _need_float(input, "GeluKernelImpl")
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * input * (1 + jnp.tanh(c * (input + 0.044715 * input ** 3)))
    if approximate != "none":
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh (got "
                           f"{approximate!r}).")
    return 0.5 * input * (1 + jax.scipy.special.erf(input * math.sqrt(0.5)))


_nn("gelu", samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), approximate="tanh"), Sample(A(4, dtype="float64"), approximate="tanh"),
    Sample(A(3), approximate="foo")])(_gelu_k)


def _silu_k(input):
    """SiLU (swish): ``x * sigmoid(x)``."""
    _need_float(input, "silu_cpu")
    return input * jax.nn.sigmoid(input)


def silu(input, inplace=False):
    """SiLU: ``x * sigmoid(x)`` elementwise (F.silu)."""
    return _finish("silu", input, (), inplace)


_nn("silu", impl=silu, samples=_s(ints=True))(_silu_k)


def _softplus_raw(x, beta=1.0, threshold=20.0):
    bx = x * beta if beta != 1.0 else x
    soft = jnp.log1p(jnp.exp(jnp.minimum(bx, threshold)))
    soft = soft / beta if beta != 1.0 else soft
    return jnp.where(bx > threshold, x, soft)


def _mish_k(input):
    """Mish: ``x * tanh(softplus(x))``."""
    _need_float(input, "mish_cpu")
    return input * jnp.tanh(jax.nn.softplus(input))


def mish(input, inplace=False):
    """Mish: ``x * tanh(softplus(x))`` elementwise (F.mish)."""
    return _finish("mish", input, (), inplace)


_nn("mish", impl=mish, samples=_s(ints=True))(_mish_k)


def _softplus_k(input, beta=1.0, threshold=20.0):
    """Softplus: ``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold``."""
    _need_float(input, "softplus_cpu")
    return _softplus_raw(input, beta, threshold)


_nn("softplus", samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), 2.0), Sample(A(3, 4, low=-30, high=30), beta=0.5, threshold=5.0),
    Sample(A(3, 4, low=15, high=30))])(_softplus_k)


def _softsign_k(input):
    """Softsign: ``x / (1 + |x|)``."""
    return input / (1 + jnp.abs(input))


_nn("softsign", promote="float", samples=_s(ints=True))(_softsign_k)


def _hardsigmoid_k(input):
    """Hardsigmoid: ``relu6(x + 3) / 6`` (gradient 1/6 strictly inside (-3, 3))."""
    _need_float(input, "hardsigmoid_cpu")
    return _hardtanh_k(input / 6 + 0.5, 0.0, 1.0)


def hardsigmoid(input, inplace=False):
    """Hardsigmoid: ``0`` below -3, ``1`` above 3, ``x / 6 + 1/2`` between (F.hardsigmoid)."""
    return _finish("hardsigmoid", input, (), inplace)


_nn("hardsigmoid", impl=hardsigmoid, samples=_s(ints=True, low=-5, high=5))(_hardsigmoid_k)


def _hardswish_k(input):
    """Hardswish: ``x * relu6(x + 3) / 6`` (torch's gradient: ``x / 3 + 1/2`` on [-3, 3])."""
    _need_float(input, "hardswish_cpu")
    mid = input * (input + 3) / 6
    return jnp.where(input < -3, jnp.zeros_like(input), jnp.where(input <= 3, mid, input))


def hardswish(input, inplace=False):
    """Hardswish: ``x * relu6(x + 3) / 6`` elementwise (F.hardswish)."""
    return _finish("hardswish", input, (), inplace)


_nn("hardswish", impl=hardswish, samples=_s(ints=True, low=-5, high=5))(_hardswish_k)


def _logsigmoid_k(input):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    _need_float(input, "log_sigmoid_cpu")
    return jax.nn.log_sigmoid(input)


_nn("logsigmoid", samples=lambda: _s(ints=True)() + [Sample(A(5, low=-60, high=60))])(_logsigmoid_k)


def _tanhshrink_k(input):
    """Tanhshrink: ``x - tanh(x)``."""
    return input - jnp.tanh(input)


_nn("tanhshrink", promote="float", samples=_s(ints=True))(_tanhshrink_k)


def _softshrink_k(input, lambd=0.5):
    """Softshrink: ``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    _need_float(input, "softshrink_check")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) for input dtype "
                           f"{input.dtype}, but found {lambd}")
    zero = jnp.zeros_like(input)
    return jnp.where(input > lambd, input - lambd, jnp.where(input < -lambd, input + lambd, zero))


_nn("softshrink", samples=lambda: _s(ints=True)() + [Sample(A(3, 4), 1.0), Sample(A(3, 4), lambd=0.0),
                                                     Sample(A(3), -1.0)])(_softshrink_k)


def _hardshrink_k(input, lambd=0.5):
    """Hardshrink: ``x`` where ``|x| > lambd``, else 0."""
    _need_float(input, "hardshrink_cpu")
    return jnp.where((input > lambd) | (input < -lambd), input, jnp.zeros_like(input))


register("hardshrink", functional=True, samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), 1.0), Sample(A(3, 4), lambd=0.1), Sample(A(3), -1.0)])(_hardshrink_k)


def _threshold_k(input, threshold, value):
    """``x if x > threshold else value`` (torch.threshold)."""
    thr = jnp.asarray(threshold).astype(input.dtype) if not _dtype.is_inexact(input.dtype) \
        else threshold
    return jnp.where(input > thr, input, jnp.asarray(value).astype(input.dtype))


def threshold(input, threshold, value, inplace=False):
    """Threshold: ``x`` where ``x > threshold``, else ``value`` (torch.threshold / F.threshold)."""
    return _finish("threshold", input, (threshold, value), inplace)


register("threshold", functional=True, method=False, impl=threshold, samples=lambda: [
    Sample(A(3, 4), 0.1, 20.0), Sample(A(2, 3, 4), -0.5, -2.0), Sample(A(), 0.0, 1.0),
    Sample(A(5, dtype="float64"), 0.5, 0.0), Sample(I(6), 1, 5), Sample(I(6), 1.5, 5.5)])(_threshold_k)


def _glu_k(input, dim=-1):
    """GLU: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``input`` along ``dim``."""
    _need_float(input, "glu_cpu")
    if input.ndim == 0:
        raise ShapeError("glu: glu does not support scalars because halving size must be even")
    d = norm_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise ShapeError(f"glu: Halving dimension must be even, but dimension {d} is size {n} "
                         f"(input shape {list(input.shape)})")
    a, b = jnp.split(input, 2, axis=d)
    return a * jax.nn.sigmoid(b)


_nn("glu", samples=lambda: [Sample(A(3, 4)), Sample(A(4, 3), 0), Sample(A(2, 6, 3), dim=1),
                            Sample(A(4, dtype="float64")), Sample(A(3, 3), 1), Sample(A()),
                            Sample(A(2, 4), 2), Sample(A(0, 4))])(_glu_k)


def _softmin_k(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim`` (cast to ``dtype`` first when given)."""
    from .reduction import _softmax_dim
    x, d = _softmax_dim("softmin", input, dim, dtype)
    return jnp.exp(x - x) if x.ndim == 0 else jax.nn.softmax(-x, axis=d)


_nn("softmin", samples=lambda: [Sample(A(3, 4), 1), Sample(A(2, 3, 4), -1), Sample(A(3, 4), dim=0),
                                Sample(A(3, 4, dtype="float64"), 1), Sample(A(3, 4), 1, dtype=_dtype.float64),
                                Sample(A(), 0), Sample(I(3, 4), 1)])(_softmin_k)


# ----- prelu -------------------------------------------------------------------------------------
def _prelu_k(input, weight):
    """``x if x > 0 else w * x``; ``w`` has 1 element or one per channel (dim 1)."""
    _need_float(input, "prelu_cpu")
    if weight.ndim > 1:
        raise ShapeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                         f"{weight.ndim}")
    n = weight.size
    if n != 1:
        c = input.shape[1] if input.ndim >= 2 else 1
        if n != c:
            raise ShapeError(f"prelu: Mismatch of parameter numbers and input channel size. Found "
                             f"parameter numbers = {n} and channel size = {c} (input shape "
                             f"{list(input.shape)}).")
        w = weight.reshape((c,) + (1,) * (input.ndim - 2))
    else:
        w = weight.reshape(())
    w = w.astype(input.dtype)
    return jnp.where(input > 0, input, w * input)


register("prelu", nin=2, functional=True, samples=lambda: [
    Sample(A(3, 4), A(1)), Sample(A(3, 4), A(4)), Sample(A(2, 3, 5, 5), A(3)), Sample(A(2, 3, 4), A()),
    Sample(A(), A(1)), Sample(A(4), A(1)), Sample(A(4), A(4)), Sample(A(3, 4), A(3)),
    Sample(A(3, 4), A(4, 1)), Sample(A(3, 4, dtype="float64"), A(4, dtype="float64")),
    Sample(I(3, 4), I(1))])(_prelu_k)


# ----- rrelu -------------------------------------------------------------------------------------
def _rrelu_train_k(input, key, lower, upper):
    """Training RReLU: negative inputs times a slope drawn from U(lower, upper) per element.

    Returns ``(out, new_key)``; the key is the generator's raw uint32 key data.
    """
    _need_float(input, "leaky_relu_cpu")
    k, sub = jax.random.split(jax.random.wrap_key_data(key, impl="threefry2x32"))
    slope = jax.random.uniform(sub, input.shape, input.dtype, lower, upper)
    return jnp.where(input >= 0, input, input * jax.lax.stop_gradient(slope)), jax.random.key_data(k)


register("_rrelu_train", nin=2, function=False, method=False, samples=None)(_rrelu_train_k)


def _rrelu_eval_k(input, lower=1.0 / 8, upper=1.0 / 3):
    """Eval RReLU: leaky ReLU with slope ``(lower + upper) / 2``."""
    _need_float(input, "leaky_relu_cpu")
    return jnp.where(input >= 0, input, input * ((lower + upper) / 2))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, generator=None):
    """Randomized leaky ReLU (torch.rrelu / F.rrelu).

    In training, each negative element is multiplied by a slope drawn uniformly from
    ``[lower, upper]`` (from ``generator`` or the default one; values differ from torch's);
    in eval, by ``(lower + upper) / 2``.
    """
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound "
                           f"(got lower={lower}, upper={upper})")
    if not training:
        return _finish("rrelu", input, (lower, upper), inplace)
    from .. import _random
    gen = _random.resolve(generator, "rrelu")
    if inplace:
        check_inplace(input, "rrelu_")
    out, key = _f("_rrelu_train")(input, gen._key, lower, upper)
    gen._key = key._data
    return commit_inplace(input, out, "rrelu_") if inplace else out


register("rrelu", functional=True, method=False, impl=rrelu, samples=lambda: _s(ints=True)() + [
    Sample(A(3, 4), 0.1, 0.3), Sample(A(3, 4), 0.5, 0.2)])(_rrelu_eval_k)


# ----- F.<name>_ (in-place forms) and mt.<name>_ -------------------------------------------------
def _inplace_entry(name, public, torch_has_function):
    def impl(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}_(): argument 'input' must be Tensor, not {type(input).__name__}")
        return public(input, *args, inplace=True, **kwargs)
    impl.__name__ = name + "_"
    impl.__doc__ = f"In-place version of :func:`{name}` (rebinds ``input``; returns it)."

    def kernel(input):
        return input
    kernel.__doc__ = impl.__doc__
    register(name + "_", functional=True, function=torch_has_function, method=False, impl=impl,
             torch_name=("nn.functional." + name + "_"), samples=lambda: [
                 Sample(A(3, 4), grad=False), Sample(A(3, 4))])(kernel)


for _name, _pub, _fn in [("elu", elu, False), ("leaky_relu", leaky_relu, False),
                         ("hardtanh", hardtanh, False), ("selu", selu, True), ("celu", celu, True),
                         ("rrelu", rrelu, True)]:
    _inplace_entry(_name, _pub, _fn)

def _relu_inplace(input):
    """In-place ReLU (torch.relu_ / F.relu_): rebinds ``input``; returns it."""
    check_inplace(input, "relu_")
    return commit_inplace(input, _f("relu")(input), "relu_")


register("relu_", functional=True, method=False, impl=_relu_inplace, torch_name="nn.functional.relu_",
         samples=lambda: [Sample(A(3, 4), grad=False), Sample(A(3, 4))])(lambda input: input)

_threshold_public = threshold


def _threshold_inplace(input, threshold, value):
    """In-place version of :func:`threshold` (rebinds ``input``; returns it)."""
    return _threshold_public(input, threshold, value, inplace=True)


register("threshold_", nin=1, functional=True, function=True, method=False, impl=_threshold_inplace,
         torch_name="nn.functional.threshold_",
         samples=lambda: [Sample(A(3, 4), 0.1, 2.0, grad=False), Sample(A(3, 4), 0.1, 2.0)])(
    lambda input, threshold, value: input)
