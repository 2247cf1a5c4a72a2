"""``MaskedTensor``: a data tensor plus a same-shaped boolean mask (True = specified element).

A subclass of :class:`mt.Tensor` that has no dense array of its own: its data tensor (which carries
``requires_grad``/``grad_fn``) and its mask live in attributes. Op-table ops (``mt.exp(m)``,
``m + m``, ``mt.sum(m, 1)``, ``m.amax()`` ...) reach it through the op table's "operand without a
dense array" hand-over (as sparse tensors do) and run a masked kernel: elementwise ops apply to the
data and keep the mask (binary ops require equal masks, as torch); reductions use
``mt.masked.<op>`` and the result's mask is ``mask.any(dim)``; shape ops (reshape, transpose ...)
apply to data and mask alike. ``backward`` flows through the data
tensor; ``.grad`` is a MaskedTensor with the input's mask.

An ``mt.jit`` program sees a MaskedTensor argument, result or captured state as its data and mask
(``_flatten``/``_unflatten``). Differences from torch: ops outside the supported lists raise
``TypeError`` naming the op; the gradient reaching a plain tensor through ``as_masked_tensor`` is a
plain tensor (zeros at masked entries), where torch stores a MaskedTensor in that tensor's ``.grad``.
"""

from __future__ import annotations

import jax.numpy as jnp

import minitorch_jax as mt
from minitorch_jax._ops._registry import REGISTRY, calling_op
from minitorch_jax._tensor import Tensor

from . import _reductions as R

__all__ = ["MaskedTensor", "masked_tensor", "as_masked_tensor", "is_masked_tensor"]

UNARY = frozenset("""abs absolute acos arccos acosh arccosh angle asin arcsin asinh arcsinh atan arctan atanh
arctanh bitwise_not ceil clamp clip conj_physical cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1
fix floor frac lgamma log log10 log1p log2 logit i0 isnan nan_to_num neg negative positive rad2deg
reciprocal round rsqrt sigmoid sign sgn signbit sin sinc sinh sqrt square tan tanh trunc relu
detach clone _pow_scalar""".split())
BINARY = frozenset("""add atan2 arctan2 bitwise_and bitwise_or bitwise_xor bitwise_left_shift
bitwise_right_shift div divide floor_divide fmod logaddexp logaddexp2 mul multiply nextafter remainder
sub subtract true_divide eq ne le ge greater greater_equal gt less_equal lt less maximum minimum fmax
fmin not_equal pow float_power rsub""".split())
REDUCTIONS = ("sum", "mean", "amax", "amin", "prod", "argmax", "argmin", "var", "std", "norm", "logsumexp")
NORMALIZATIONS = ("softmax", "log_softmax", "softmin")
SHAPE = frozenset("reshape view transpose t permute unsqueeze squeeze flatten expand movedim swapaxes"
                  .split())

_MATCH = "Input masks must match. If you need support for this, please open an issue on Github."


class MaskedOperand(NotImplementedError):
    """Raised when an op-table op reads a MaskedTensor's dense array; the op table then calls
    :meth:`dispatch`, which runs the masked kernel for ``opname`` (or raises TypeError)."""

    def __init__(self, opname: str):
        super().__init__(f"{opname}(): MaskedTensor does not support this op (use .get_data()/.to_tensor())")
        self.opname = opname

    def dispatch(self, args, kwargs):
        """Run the masked kernel of ``self.opname`` on the op's arguments."""
        return _run(self.opname, args, kwargs)


def _elementwise(name, args, kwargs):
    masks = [a.get_mask() for a in list(args) + list(kwargs.values()) if isinstance(a, MaskedTensor)]
    mask = masks[0]
    for m in masks[1:]:
        if m.shape != mask.shape or not bool(jnp.array_equal(m._data, mask._data)):
            raise ValueError(_MATCH)
    args = [a.get_data() if isinstance(a, MaskedTensor) else a for a in args]
    kwargs = {k: v.get_data() if isinstance(v, MaskedTensor) else v for k, v in kwargs.items()}
    fn = REGISTRY[name].call if name in REGISTRY else getattr(mt, name)
    out = fn(*args, **kwargs)
    if tuple(out.shape) != tuple(mask.shape):
        mask = mt.broadcast_to(mask, out.shape)
    return _make(out, mask)


def _reduce(name, input, *args, **kwargs):
    fn = getattr(R, name)
    if name in ("var", "std"):
        dim, unbiased, keepdim = (list(args) + [None, None, False])[:3]
        dim = kwargs.pop("dim", dim)
        keepdim = kwargs.pop("keepdim", keepdim)
        data = fn(input, dim, kwargs.pop("unbiased", unbiased), keepdim=keepdim, **kwargs)
    elif name == "norm":
        p, dim, keepdim = (list(args) + [2.0, None, False])[:3]
        p, dim, keepdim = kwargs.pop("p", p), kwargs.pop("dim", dim), kwargs.pop("keepdim", keepdim)
        data = fn(input, p, dim, keepdim=keepdim, **kwargs)
    else:
        dim, keepdim = (list(args) + [None, False])[:2]
        dim, keepdim = kwargs.pop("dim", dim), kwargs.pop("keepdim", keepdim)
        data = fn(input, dim, keepdim=keepdim, **kwargs)
    m = input.get_mask()
    if name in ("argmax", "argmin") and dim is None:
        out_mask = mt.any(m)
    else:
        out_mask = mt.any(m, R._dims(dim, m.ndim), keepdim=keepdim) if m.ndim else m
    return _make(data, out_mask)


def _run(name, args, kwargs):
    kwargs = dict(kwargs)
    kwargs.pop("out", None)
    if name in UNARY or name in BINARY:
        return _elementwise(name, args, kwargs)
    if name in SHAPE and isinstance(args[0], MaskedTensor):
        fn = REGISTRY[name].call if name in REGISTRY else getattr(mt, name)
        x, rest = args[0], args[1:]
        return _make(fn(x.get_data(), *rest, **kwargs), fn(x.get_mask(), *rest, **kwargs))
    if name in REDUCTIONS and isinstance(args[0], MaskedTensor):
        return _reduce(name, *args, **kwargs)
    if name in NORMALIZATIONS and isinstance(args[0], MaskedTensor):
        x, rest = args[0], list(args[1:])
        dim = kwargs.pop("dim", rest[0] if rest else None)
        dtype = kwargs.pop("dtype", rest[1] if len(rest) > 1 else None)
        return _make(getattr(R, name)(x, dim, dtype=dtype), x.get_mask())
    raise TypeError(f"{name}(): MaskedTensor does not support this op (supported: elementwise ops, "
                    f"{', '.join(REDUCTIONS + NORMALIZATIONS)}); use .get_data() or .to_tensor(value)")


def _make(data: Tensor, mask: Tensor) -> MaskedTensor:
    t = object.__new__(MaskedTensor)
    Tensor._version.__set__(t, 0)
    Tensor._output_nr.__set__(t, 0)
    Tensor._retains_grad.__set__(t, False)
    Tensor._hooks.__set__(t, None)
    Tensor._acc.__set__(t, None)
    t.__dict__["_mdata"] = data
    t.__dict__["_mmask"] = mask
    return t


def _fmt(v, floating: bool) -> str:
    if floating:
        return f"{float(v):8.4f}"
    return str(bool(v)) if isinstance(v, (bool, jnp.bool_)) else str(v)


def _lines(data, mask, floating, indent):
    pad = " " * indent
    if data.ndim == 1:
        items = [_fmt(v, floating) if k else "      --" for v, k in zip(data.tolist(), mask.tolist())]
        return [pad + "[" + ", ".join(items) + "]"]
    out = [pad + "["]
    for i in range(data.shape[0]):
        sub = _lines(data[i], mask[i], floating, indent + 2)
        if i < data.shape[0] - 1:
            sub[-1] += ","
        out += sub
    return out + [pad + "]"]


class MaskedTensor(Tensor):
    """A tensor whose elements are either specified (mask True) or masked out; see
    :func:`masked_tensor`. Reductions skip masked elements; elementwise ops keep the mask."""

    def __init__(self, data, mask, requires_grad=False):
        built = masked_tensor(data, mask, requires_grad)
        self.__dict__.update(built.__dict__)
        for s in ("_version", "_output_nr", "_retains_grad", "_hooks", "_acc"):
            getattr(Tensor, s).__set__(self, getattr(Tensor, s).__get__(built))

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    # -- no dense array: the op table hands the op over -----------------------------------------
    @property
    def _data(self):
        name = calling_op("_maskedtensor.py")
        if name == "<jit>":
            raise TypeError("mt.jit: a MaskedTensor cannot be an input or output of a compiled function; "
                            "pass its data and mask tensors and build it inside")
        raise MaskedOperand(name)

    @_data.setter
    def _data(self, value):
        raise MaskedOperand("set_")

    # -- parts (mt.jit passes a MaskedTensor to a program as its data and mask) --------------------
    def _flatten(self):
        """``((data, mask), aux)``: the part tensors and a static description (see ``_unflatten``)."""
        return (self.__dict__["_mdata"], self.__dict__["_mmask"]), None

    @staticmethod
    def _unflatten(aux, parts):
        """Rebuild a MaskedTensor from ``_flatten``'s parts (data stays differentiable)."""
        return _make(parts[0], parts[1])

    # -- accessors -------------------------------------------------------------------------------
    def get_data(self) -> Tensor:
        """The data tensor (masked-out entries hold arbitrary values); differentiable."""
        return self.__dict__["_mdata"]

    def get_mask(self) -> Tensor:
        """The boolean mask (True = specified)."""
        return self.__dict__["_mmask"]

    def to_tensor(self, value) -> Tensor:
        """A plain tensor: the data where the mask is True, ``value`` elsewhere (differentiable)."""
        d = self.get_data()
        return mt.where(self.get_mask(), d, mt.full((), value, dtype=d.dtype))

    @property
    def shape(self):
        """Shape of the data."""
        return self.get_data().shape

    def size(self, dim=None):
        """Shape of the data, or one dimension's length."""
        return self.get_data().size() if dim is None else self.get_data().size(dim)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.get_data().ndim

    def dim(self) -> int:
        """Number of dimensions."""
        return self.get_data().ndim

    def numel(self) -> int:
        """Number of elements (masked ones included)."""
        return self.get_data().numel()

    def __len__(self) -> int:
        return len(self.get_data())

    @property
    def dtype(self):
        """Element type of the data."""
        return self.get_data().dtype

    @property
    def device(self):
        """Device of the data."""
        return self.get_data().device

    def is_floating_point(self) -> bool:
        """True for floating point data."""
        return self.get_data().is_floating_point()

    def is_complex(self) -> bool:
        """True for complex data."""
        return self.get_data().is_complex()

    # -- autograd: delegated to the data tensor --------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether the data requires grad."""
        return self.get_data().requires_grad

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        self.get_data().requires_grad = bool(flag)

    @property
    def grad_fn(self):
        """The data's ``grad_fn``."""
        return self.get_data().grad_fn

    @grad_fn.setter
    def grad_fn(self, value) -> None:
        self.get_data().grad_fn = value

    @property
    def _grad(self):
        g = self.get_data()._grad
        return None if g is None else _make(g, self.get_mask())

    @_grad.setter
    def _grad(self, value) -> None:
        self.get_data()._grad = value.get_data() if isinstance(value, MaskedTensor) else value

    @property
    def grad(self):
        """The gradient: a MaskedTensor with this tensor's mask."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self.get_data()._grad = None

    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` of the data in place; returns ``self``."""
        self.get_data().requires_grad_(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` of the (non-leaf) data after backward."""
        self.get_data().retain_grad()

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Backpropagate from this MaskedTensor (``gradient`` may be a MaskedTensor; its masked
        entries count as 0)."""
        if isinstance(gradient, MaskedTensor):
            gradient = gradient.to_tensor(0)
        if inputs is not None:
            inputs = [i.get_data() if isinstance(i, MaskedTensor) else i for i in inputs]
        self.get_data().backward(gradient, retain_graph, create_graph, inputs)

    def detach(self):
        """A MaskedTensor with detached data and the same mask."""
        return _make(self.get_data().detach(), self.get_mask())

    def clone(self, *, memory_format=None):
        """A copy of data and mask."""
        return _make(self.get_data().clone(), self.get_mask())

    def to(self, *args, **kwargs):
        """Convert the data (dtype/device); the mask is kept."""
        return _make(self.get_data().to(*args, **kwargs), self.get_mask())

    def __bool__(self):
        raise RuntimeError("bool(): the truth value of a MaskedTensor is ambiguous; use .to_tensor(value)")

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self.get_data().detach(), self.get_mask(), self.requires_grad))

    def __deepcopy__(self, memo):
        return _make(self.get_data().clone().detach().requires_grad_(self.requires_grad), self.get_mask())

    def __repr__(self) -> str:
        d, m = self.get_data().detach(), self.get_mask()
        floating = d.is_floating_point()
        if d.ndim == 0:
            body = f"{_fmt(d.item(), floating)}, True" if bool(m.item()) else "--, False"
            return f"MaskedTensor({body})"
        return "MaskedTensor(\n" + "\n".join(_lines(d, m, floating, 2)) + "\n)"

    __str__ = __repr__


def _rebuild(data, mask, requires_grad):
    return masked_tensor(data, mask, requires_grad)


def _check(data, mask) -> tuple:
    if not isinstance(data, Tensor) or isinstance(data, MaskedTensor):
        raise TypeError(f"data must be a Tensor, got {type(data).__name__}")
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a Tensor, got {type(mask).__name__}")
    if mask.dtype != mt.bool:
        raise TypeError("mask must have dtype bool.")
    if data.dim() != mask.dim():
        raise ValueError("data.dim() must equal mask.dim()")
    if tuple(data.shape) != tuple(mask.shape):
        raise ValueError("data.size() must equal mask.size()")
    return data, mask


def masked_tensor(data, mask, requires_grad=False) -> MaskedTensor:
    """A leaf MaskedTensor from ``data`` (detached) and a boolean ``mask`` of the same shape.

    Args:
        data (Tensor): the values; entries where ``mask`` is False are ignored.
        mask (BoolTensor): same shape as ``data``; True marks a specified element.
        requires_grad (bool): make the new leaf require grad (float/complex data only).
    """
    data, mask = _check(data, mask)
    d = data.detach().clone()
    if requires_grad:
        d.requires_grad_(True)
    return _make(d, mask.detach())


def as_masked_tensor(data, mask) -> MaskedTensor:
    """A MaskedTensor over ``data`` that stays differentiable w.r.t. ``data`` (gradients flow back)."""
    data, mask = _check(data, mask)
    return _make(data, mask.detach())


def is_masked_tensor(obj, /) -> bool:
    """True if ``obj`` is a :class:`MaskedTensor`."""
    return isinstance(obj, MaskedTensor)
