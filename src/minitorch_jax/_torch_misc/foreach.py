"""torch's ``_foreach_*`` functions: one op applied over lists of tensors.

Everyday code calls them directly for EMA weights (``torch._foreach_lerp_(ema, params, 1 - decay)``,
``torch._foreach_mul_`` + ``torch._foreach_add_``) and in hand-written optimizers. Each one here loops
over the list and calls the tensor's own method (``add``/``add_`` ...), so autograd, no_grad, version
counters and ``mt.jit`` behave exactly as for the single-tensor op. The "other" argument may be a
scalar, a 0-d tensor, a list of scalars or a list of tensors, as in torch; in-place forms return the
list they updated and out-of-place forms return a tuple.

Differences from torch: no fused multi-tensor kernels (XLA fuses under ``mt.jit``); ``_foreach_mm``
and ``_foreach_powsum`` are not provided.
"""

from __future__ import annotations

from .._tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor",
          "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid",
          "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min", "clamp_max")
_TERNARY = ("addcmul", "addcdiv", "lerp")

__all__ = (["_foreach_" + n + s for n in _UNARY + _BINARY + _TERNARY for s in ("", "_")]
           + ["_foreach_copy_", "_foreach_zero_", "_foreach_clone", "_foreach_norm", "_foreach_max"])


def _check_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'self' must be tuple of Tensors, not {type(tensors).__name__}")
    if len(tensors) == 0:
        raise RuntimeError("Tensor list must have at least one tensor.")
    return list(tensors)


def _per_item(arg, n):
    """``arg`` spread over ``n`` list entries: lists are checked for length, anything else repeats."""
    if isinstance(arg, (list, tuple)):
        if len(arg) != n and not any(isinstance(a, Tensor) for a in arg):
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")
        if len(arg) != n:
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got {n} and {len(arg)}")
        return list(arg)
    return [arg] * n


def _apply(t, op, inplace, args, kwargs):
    if op in ("maximum", "minimum") and not isinstance(args[0], Tensor):
        op = "clamp_min" if op == "maximum" else "clamp_max"  # torch's foreach form takes scalars too
    if inplace:
        method = getattr(t, op + "_", None)
        if method is not None:
            return method(*args, **kwargs)
        return t.copy_(getattr(t, op)(*args, **kwargs))
    return getattr(t, op)(*args, **kwargs)


def _make(op, inplace, arity):
    name = f"_foreach_{op}{'_' if inplace else ''}"

    def fn(self, *args, **kwargs):
        scalar_base = not isinstance(self, (list, tuple)) and args and isinstance(args[0], (list, tuple))
        if op == "pow" and scalar_base:
            exps = _check_list(args[0], name)  # scalar base: _foreach_pow(2.0, tensors)
            from .. import pow as _pow
            return tuple(_pow(self, e) for e in exps)
        tensors = _check_list(self, name)
        if len(args) + len(kwargs) < arity or len(args) > arity:
            raise TypeError(f"{name}() takes {arity + 1} positional arguments but {len(args) + 1} were given")
        n = len(tensors)
        spread = [_per_item(a, n) for a in args]
        kw = {k: _per_item(v, n) for k, v in kwargs.items()}  # per-tensor weights / scalars may be lists
        out = [_apply(t, op, inplace, [s[i] for s in spread], {k: v[i] for k, v in kw.items()})
               for i, t in enumerate(tensors)]
        return self if inplace else tuple(out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}``: ``Tensor.{op}{'_' if inplace else ''}`` applied to each tensor of a "
                  f"list ({'in place, returning the list' if inplace else 'returning a tuple'}).")
    return fn


for _op in _UNARY:
    globals()["_foreach_" + _op] = _make(_op, False, 0)
    globals()["_foreach_" + _op + "_"] = _make(_op, True, 0)
for _op in _BINARY:
    globals()["_foreach_" + _op] = _make(_op, False, 1)
    globals()["_foreach_" + _op + "_"] = _make(_op, True, 1)
for _op in _TERNARY:
    globals()["_foreach_" + _op] = _make(_op, False, 2)
    globals()["_foreach_" + _op + "_"] = _make(_op, True, 2)


def _foreach_copy_(self, src, non_blocking=False):
    """``torch._foreach_copy_``: ``self[i].copy_(src[i])`` for each pair; returns ``self``."""
    tensors = _check_list(self, "_foreach_copy_")
    for t, s in zip(tensors, _per_item(src, len(tensors))):
        t.copy_(s)
    return self


def _foreach_zero_(self):
    """``torch._foreach_zero_``: zeroes every tensor of the list in place; returns the list."""
    for t in _check_list(self, "_foreach_zero_"):
        t.zero_()
    return self


def _foreach_clone(self):
    """``torch._foreach_clone``: a tuple of clones."""
    return tuple(t.clone() for t in _check_list(self, "_foreach_clone"))


def _foreach_norm(self, ord=2, dtype=None):
    """``torch._foreach_norm``: the vector ``ord``-norm of each tensor (a tuple of 0-d tensors)."""
    from ..linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _check_list(self, "_foreach_norm"))


def _foreach_max(self):
    """``torch._foreach_max``: the maximum of each tensor (a tuple of 0-d tensors)."""
    return tuple(t.max() for t in _check_list(self, "_foreach_max"))
