"""Complex-number ops: conj, real/imag, angle, view_as_real/complex.

Differences from torch, by design:

* torch's ``conj()`` sets a lazy conjugate bit and returns a view; here the values are conjugated
  at once (XLA fuses it into the consumer), so ``is_conj()`` and ``is_neg()`` are always False and
  ``resolve_conj``/``resolve_neg`` return their input.
* ``.real``, ``.imag`` and ``view_as_real`` are views in torch: writing into the result changes the
  complex tensor. JAX arrays are immutable, so these are copies; assign through the properties
  (``z.real = v``, ``z.imag = v``) to change ``z``.
* As in torch, the ops that are the identity on real tensors (``real``, ``conj``,
  ``conj_physical``, ``resolve_conj``, ``resolve_neg``) return the input tensor itself.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DTypeError, ShapeError
from .._tensor import Tensor
from ._helpers import A, B, I, Sample, broadcast_check
from ._registry import REGISTRY, check_inplace, commit_inplace, register

__all__ = ["C", "install"]

_TORCH_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "int8": "Char", "uint8": "Byte",
                "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}


def C(*shape, dtype="complex64", low=-2.0, high=2.0):
    """A random complex array of ``shape`` (for samples)."""
    part = "float32" if dtype == "complex64" else "float64"
    return (A(*shape, dtype=part, low=low, high=high)
            + 1j * A(*shape, dtype=part, low=low, high=high)).astype(dtype)


def _is_complex(x) -> bool:
    return jnp.iscomplexobj(x)


def _samples(real=True, ints=True):
    """Complex inputs of both widths and shapes incl. 0-d and empty; optionally real/int ones."""
    def samples():
        out = [Sample(C(3, 4)), Sample(C()), Sample(C(2, 0, 3)), Sample(C(5, dtype="complex128"))]
        if real:
            out += [Sample(A(3, 4)), Sample(A(4, dtype="float64"))]
        if ints:
            out += [Sample(I(4)), Sample(B(3))]
        return out
    return samples


def _self_if_real(name):
    """The public callable of an op that is the identity on non-complex tensors (torch returns
    the input tensor itself then)."""
    def impl(input):
        if input.__class__ is Tensor and not input.dtype.is_complex:
            return input
        return REGISTRY[name].call(input)
    impl.__name__ = impl.__qualname__ = name
    return impl


def _identity_op(name, kernel, doc, **opts):
    kernel.__doc__ = doc
    impl = _self_if_real(name)
    impl.__doc__ = doc
    register(name, impl=impl, **opts)(kernel)


# ----- conjugation -----------------------------------------------------------------------------
def _conj(input):
    return jnp.conj(input) if _is_complex(input) else input


_identity_op("conj", _conj, samples=_samples(), doc=(
    "The complex conjugate (torch.conj). Real tensors are returned unchanged (the same tensor).\n\n"
    "Unlike torch this is not a lazy view: the values are conjugated, and ``is_conj()`` stays False."))
_identity_op("conj_physical", lambda input: _conj(input), inplace=True, samples=_samples(), doc=(
    "The complex conjugate, computed eagerly (torch.conj_physical); identity on real tensors."))
_identity_op("resolve_conj", lambda input: input, samples=_samples(), doc=(
    "Materialise a lazy conjugation (torch.resolve_conj). Conjugation is never lazy here, so this "
    "returns the input."))
_identity_op("resolve_neg", lambda input: input, samples=_samples(), doc=(
    "Materialise a lazy negation (torch.resolve_neg). Negation is never lazy here, so this "
    "returns the input."))


def _false_impl(name, doc):
    def impl(input):
        return False
    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = doc
    return impl


def _flag_samples():
    # method=False: the method/function comparison of the parity test expects tensor results
    return [Sample(C(3), method=False), Sample(A(2, 2), method=False), Sample(I(3), method=False)]


def _no_kernel(input):
    raise NotImplementedError  # never traced: the impl answers without dispatching


for _name, _what in (("is_conj", "conjugate"), ("is_neg", "negative")):
    register(_name, impl=_false_impl(_name, (
        f"Whether the {_what} bit is set (torch.{_name}). Always False: minitorch_jax applies the "
        f"{_what} eagerly.")), differentiable=False,
             samples=_flag_samples)(_no_kernel)


def _is_complex_impl(input):
    """True if ``input`` has a complex dtype (torch.is_complex)."""
    return input.dtype.is_complex


register("is_complex", impl=_is_complex_impl, method=False, differentiable=False,
         samples=_flag_samples)(_no_kernel)


# ----- real and imaginary parts ----------------------------------------------------------------
def _real(input):
    return jnp.real(input) if _is_complex(input) else input


_identity_op("real", _real, method=False, samples=_samples(), doc=(
    "The real part of a complex tensor (torch.real, also the ``Tensor.real`` property); a real "
    "tensor is returned as is.\n\nShapes: same as ``input``; dtype complex64 -> float32, "
    "complex128 -> float64. A copy, not a view (see the module notes)."))


@register("imag", method=False, samples=_samples(ints=False))
def imag(input):
    """The imaginary part of a complex tensor (torch.imag, also the ``Tensor.imag`` property).

    Shapes: same as ``input``; dtype complex64 -> float32. Raises RuntimeError for real tensors,
    as torch does.
    """
    if not _is_complex(input):
        raise DTypeError("imag is not implemented for tensors with non-complex dtypes "
                         f"(got {jnp.dtype(input.dtype).name}).")
    return jnp.imag(input)


@register("angle", promote="float", saves=(0,), samples=_samples())
def angle(input):
    """The elementwise argument (phase) in radians (torch.angle).

    Complex inputs give ``atan2(imag, real)`` in the matching real dtype; real inputs give ``pi``
    where negative, 0 elsewhere (NaN stays NaN), with a zero gradient as in torch. Integer and
    bool inputs give the default float dtype.
    """
    if _is_complex(input):
        return jnp.angle(input)
    dt = input.dtype
    out = jnp.where(input < 0, jnp.asarray(math.pi, dt), jnp.zeros((), dt))
    return jax.lax.stop_gradient(jnp.where(jnp.isnan(input), input, out))


# ----- reinterpreting views --------------------------------------------------------------------
@register("view_as_real", grad_name="ViewAsRealBackward0",
          samples=lambda: [Sample(C(3, 4)), Sample(C()), Sample(C(2, 0)),
                           Sample(C(2, 3, dtype="complex128")), Sample(A(3))])
def view_as_real(input):
    """The complex tensor as real pairs (torch.view_as_real).

    Shapes: ``(*)`` complex -> ``(*, 2)`` real, ``[..., 0]`` the real and ``[..., 1]`` the
    imaginary part. A copy here, not a view.
    """
    if not _is_complex(input):
        raise DTypeError(f"view_as_real is only supported for complex tensors (got "
                         f"{jnp.dtype(input.dtype).name}).")
    return jnp.stack([jnp.real(input), jnp.imag(input)], -1)


@register("view_as_complex", grad_name="ViewAsComplexBackward0",
          samples=lambda: [Sample(A(3, 2), grad=False), Sample(A(2, 4, 2, dtype="float64"), grad=False),
                           Sample(A(1, 2), grad=False), Sample(A(2), grad=False),
                           Sample(A(3)), Sample(A(2, 3)), Sample(I(3, 2)), Sample(A())])
def view_as_complex(input):
    """Real pairs as a complex tensor (torch.view_as_complex): the inverse of view_as_real.

    Shapes: ``(*, 2)`` float32/float64 -> ``(*)`` complex64/complex128.
    """
    if input.ndim == 0:
        raise ShapeError("view_as_complex(): Input tensor must have one or more dimensions")
    name = jnp.dtype(input.dtype).name
    if name not in ("float32", "float64"):
        raise DTypeError(f"view_as_complex is only supported for float and double tensors, but got a "
                         f"tensor of scalar type: {_TORCH_NAMES.get(name, name)}")
    if input.shape[-1] != 2:
        raise ShapeError(f"view_as_complex(): Tensor must have a last dimension of size 2 (got shape "
                         f"{list(input.shape)})")
    return jax.lax.complex(input[..., 0], input[..., 1])


# ----- setters behind ``z.real = v`` / ``z.imag = v`` ------------------------------------------
def _part(value, input):
    dt = jnp.real(jnp.zeros((), input.dtype)).dtype
    value = jnp.asarray(value, dt) if isinstance(value, (int, float, bool, np.generic)) else value
    return jnp.broadcast_to(jnp.real(value).astype(dt), input.shape)


@register("_with_real", nin=2, method=False, function=False)
def _with_real(input, value):
    """``input`` with its real part replaced by ``value`` (broadcast to ``input``'s shape)."""
    broadcast_check("real", input, value)
    if not _is_complex(input):
        return _part(value, input)
    return jax.lax.complex(_part(value, input), jnp.imag(input))


@register("_with_imag", nin=2, method=False, function=False)
def _with_imag(input, value):
    """``input`` with its imaginary part replaced by ``value`` (complex ``input`` only)."""
    broadcast_check("imag", input, value)
    if not _is_complex(input):
        raise DTypeError("imag is not implemented for tensors with non-complex dtypes "
                         f"(got {jnp.dtype(input.dtype).name}).")
    return jax.lax.complex(jnp.real(input), _part(value, input))


def _setter(name):
    op = "_with_" + name

    def set_part(self, value):
        check_inplace(self, name)
        commit_inplace(self, REGISTRY[op].call(self, value), name)
    return set_part


def install() -> None:
    """Put the ``real``/``imag`` properties on Tensor (reading and assigning the parts)."""
    real, imag_ = REGISTRY["real"].impl, REGISTRY["imag"].call
    Tensor.real = property(real, _setter("real"), doc=REGISTRY["real"].doc)
    Tensor.imag = property(imag_, _setter("imag"), doc=REGISTRY["imag"].doc)
