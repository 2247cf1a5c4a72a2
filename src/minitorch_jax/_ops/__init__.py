"""The op table, assembled: importing this registers every op family and installs the ops on
:class:`Tensor` (methods, in-place variants, operators). ``FUNCTIONS`` maps each public name
(aliases included) to its ``mt.`` callable."""

from __future__ import annotations

import sys

import numpy as np
from jax.export import is_symbolic_dim

from .._tensor import Tensor

# each family registers its ops on import; a family may also define install() for Tensor
# attributes that are not ops (properties such as ``T``, ``__getitem__`` ...)
from . import (  # noqa: F401
    complex_ops,
    conversion,
    elementwise,
    indexing,
    linalg,
    linalg_extra,
    linalg_householder,
    linalg_ldl,
    linalg_legacy,
    math_extra,
    nn_activation,
    nn_attention,
    nn_conv,
    nn_extra,
    nn_grouped_mm,
    nn_linear,
    nn_loss,
    nn_loss_extra,
    nn_misc,
    nn_norm,
    nn_pool,
    nn_pool_extra,
    nn_rnn,
    nn_sampling,
    quantize_ops,
    random,
    reduction,
    shape,
    shape_extra,
    special,
    special_extra,
    spectral,
    stats,
    tensor_extra,
    toplevel_extra,
    toplevel_ops,
    view_copies,
    views,
)
from ._registry import REGISTRY, OpDef, Sample, dispatch, make_function, make_inplace

__all__ = ["REGISTRY", "FUNCTIONS", "FUNCTIONAL", "OpDef", "Sample", "dispatch", "public"]

FUNCTIONS: dict = {}
FUNCTIONAL: dict = {}

_UNARY_DUNDERS = {"neg", "pos", "abs", "invert"}
_COMPARE_DUNDERS = {"eq", "ne", "lt", "le", "gt", "ge"}
_OPERAND = (Tensor, int, float, bool, complex)
_NP_SCALARS = (np.number, np.bool_)  # numpy scalars act as the Python numbers they hold, as in torch


def _binary_dunders(stem, f, inplace):
    def op(self, other):
        if not isinstance(other, _OPERAND) and not is_symbolic_dim(other):  # x * x.shape[0] in mt.export
            if not isinstance(other, _NP_SCALARS):
                return NotImplemented
            other = other.item()
        return f(self, other)

    def rop(self, other):
        if not isinstance(other, _OPERAND) and not is_symbolic_dim(other):
            if not isinstance(other, _NP_SCALARS):
                return NotImplemented
            other = other.item()
        return f(other, self)

    op.__name__ = f"__{stem}__"
    rop.__name__ = f"__r{stem}__"
    out = {f"__{stem}__": op}
    if stem not in _COMPARE_DUNDERS:
        out[f"__r{stem}__"] = rop
        if inplace is not None:
            out[f"__i{stem}__"] = inplace
    return out


def _install() -> None:
    for name, op in REGISTRY.items():
        op.call = make_function(op)
        f = op.impl or op.call
        if op.impl is not None:
            f.__wrapped_op__ = op
        names = (name, *op.aliases)
        inplace = make_inplace(op, f) if op.inplace else None
        for n in names:
            if op.function:
                FUNCTIONS[n] = f
            if op.functional:
                FUNCTIONAL[n] = f
            if op.method:
                setattr(Tensor, n, f)
            if inplace is not None:
                setattr(Tensor, n + "_", inplace)
        if op.dunder:
            if op.dunder in _UNARY_DUNDERS:
                setattr(Tensor, f"__{op.dunder}__", f)
            else:
                for attr, fn in _binary_dunders(op.dunder, f, inplace).items():
                    setattr(Tensor, attr, fn)
    Tensor.__hash__ = object.__hash__  # __eq__ is elementwise; hashing stays by identity


# torch's top-level in-place functions (``torch.abs_(t)``): only these, as torch has no ``torch.add_``
_TOP_LEVEL_INPLACE = frozenset("""
abs acos acosh addmv arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh ceil clamp
clamp_max clamp_min clip conj_physical cos cosh deg2rad erf erfc exp exp2 expm1 fix floor frac gcd i0
lcm ldexp log log10 log1p log2 logit nan_to_num neg negative rad2deg reciprocal relu round rsqrt selu
celu sigmoid sin sinc sinh sqrt square tan tanh trunc xlogy
""".split())

_install()
for _name in _TOP_LEVEL_INPLACE:
    if _name in FUNCTIONS and hasattr(Tensor, _name + "_"):
        FUNCTIONS.setdefault(_name + "_", getattr(Tensor, _name + "_"))
# every family imported above (the submodules of this package, in name order) may install Tensor attributes
for _name, _family in sorted(sys.modules.items()):
    if _name.startswith(__name__ + ".") and hasattr(_family, "install"):
        _family.install()


def public(name: str):
    """The public callable of table entry ``name`` (its ``impl`` where it has one), for namespace
    modules such as ``mt.linalg``, ``mt.fft`` and ``mt.special``."""
    op = REGISTRY[name]
    return op.impl or op.call
