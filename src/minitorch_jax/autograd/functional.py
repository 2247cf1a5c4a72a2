"""``torch.autograd.functional``: Jacobians, Hessians and vector products of Python functions.

Computed on the autograd tape, like torch: the inputs are detached copies that require grad,
``func`` runs once, and ``autograd.grad`` takes the products (one backward per output element
for ``jacobian``). With ``create_graph=True`` the results stay differentiable with respect to
the original inputs. ``vectorize`` and the strategy arguments are accepted; the computation is
always reverse mode. For compiled, vectorised derivatives use :mod:`minitorch_jax.func`.
"""

from __future__ import annotations

import jax.numpy as jnp

from .. import _grad_mode
from .._autograd_graph import grad as _grad
from .._tensor import Tensor, _wrap

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, arg_name: str, fn_name: str):
    """(is_tuple, tuple of Tensors) for a Tensor or a tuple/list of Tensors."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            where = f"{arg_name}[{i}]" if is_tuple else arg_name
            raise TypeError(f"The {where} given to {fn_name} must be either a Tensor or a tuple of "
                            f"Tensors but the value at index {i} has type {type(t).__name__}.")
    return is_tuple, xs


def _prep(inputs, create_graph: bool):
    """Inputs as fresh graph leaves (or, with create_graph, differentiable copies of them)."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.clone())
        else:
            out.append(_wrap(t._data, True))
    return tuple(out)


def _post(xs, create_graph: bool):
    return tuple(None if x is None else (x if create_graph else x.detach()) for x in xs)


def _unpack(is_tuple: bool, xs):
    return xs if is_tuple else xs[0]


def _check_outputs(outputs, fn_name: str):
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise TypeError(f"The outputs of the user-provided function given to {fn_name} must be "
                            f"either a Tensor or a tuple of Tensors but the value at index {i} has "
                            f"type {type(o).__name__}.")


def _run(func, inputs, fn_name):
    with _grad_mode.enable_grad():
        out = func(*inputs)
    is_tuple, outs = (True, tuple(out)) if isinstance(out, (tuple, list)) else (False, (out,))
    _check_outputs(outs, fn_name)
    return is_tuple, outs


def _grads(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """autograd.grad over the outputs that require grad; None for unused inputs."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    return _grad(outs, inputs, gos, retain_graph=retain_graph if retain_graph is not None
                 else create_graph, create_graph=create_graph, allow_unused=True)


def _fill(grads, refs, strict: bool, create_graph: bool, stage: str):
    """Replace None gradients by zeros (or raise in strict mode)."""
    out = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {stage} of the user-provided function is independent of "
                                   f"input {i}. This is not allowed in strict mode.")
            g = _wrap(jnp.zeros(r._data.shape, r._data.dtype))
        out.append(g)
    return tuple(out)


def _check_v(v, refs, fn_name: str, what: str):
    if len(v) != len(refs):
        raise RuntimeError(f"{fn_name}: v has {len(v)} tensors but the {what} has {len(refs)}")
    for i, (a, b) in enumerate(zip(v, refs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v[{i}] has shape {list(a.shape)} but the {what}"
                               f"[{i}] has shape {list(b.shape)}")


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: one tensor per output, shaped like it (may be omitted for a single-element output).
        create_graph: keep both results differentiable.
        strict: raise if an output does not depend on an input, instead of giving zeros.

    Returns:
        ``(func_output, vjp)``, each shaped like ``func``'s output / ``inputs``.
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prep(xs, create_graph)
    out_tuple, outs = _run(func, xs, "vjp")
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns "
                               "a single Tensor with a single element.")
        vs = (_wrap(jnp.ones(outs[0]._data.shape, outs[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", "vjp")
        _check_v(vs, outs, "vjp", "output of the user-provided function")
    if strict and not all(o.requires_grad for o in outs):
        raise RuntimeError("Output 0 of the user-provided function does not require gradients. The "
                           "outputs must be computed in a differentiable manner from the input "
                           "when running in strict mode.")
    grads = _fill(_grads(outs, xs, vs, create_graph), xs, strict, create_graph, "output")
    return _unpack(out_tuple, _post(outs, create_graph)), _unpack(in_tuple, _post(grads, create_graph))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-backward trick).

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: one tensor per input, shaped like it (may be omitted for a single-element input).
        create_graph: keep both results differentiable.
        strict: raise if an output does not depend on an input, instead of giving zeros.

    Returns:
        ``(func_output, jvp)``, each shaped like ``func``'s output.
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    xs = _prep(xs, create_graph)
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (_wrap(jnp.ones(xs[0]._data.shape, xs[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", "jvp")
        _check_v(vs, xs, "jvp", "input")
    out_tuple, outs = _run(func, xs, "jvp")
    # u -> J^T u is linear in u; differentiating <J^T u, v> with respect to u gives J v
    us = tuple(_wrap(jnp.zeros(o._data.shape, o._data.dtype), True) for o in outs)
    with _grad_mode.enable_grad():
        g_in = _grads(outs, xs, us, create_graph=True)
    pairs = [(g, w) for g, w in zip(g_in, vs) if g is not None and g.requires_grad]
    if pairs:
        gs, ws = zip(*pairs)
        res = _grad(gs, us, ws, create_graph=create_graph, allow_unused=True)
    else:
        res = (None,) * len(us)
    res = _fill(res, outs, strict, create_graph, "output")
    return _unpack(out_tuple, _post(outs, create_graph)), _unpack(out_tuple, _post(res, create_graph))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: keep the result differentiable (for higher derivatives).
        strict: raise if an output does not depend on an input, instead of giving zeros.
        vectorize, strategy: accepted for compatibility (reverse mode, one backward per row).

    Returns:
        ``J[i][j]`` of shape ``output[i].shape + input[j].shape``: a Tensor when both the input
        and the output are single Tensors, else a tuple (of tuples) following their structure.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prep(xs, create_graph)
    out_tuple, outs = _run(func, xs, "jacobian")
    rows = []  # rows[i][j]: list over output elements of gradient tensors
    for i, o in enumerate(outs):
        n = o.numel()
        per_input = [[] for _ in xs]
        for k in range(n):
            onehot = _wrap(jnp.zeros((n,), o._data.dtype).at[k].set(1).reshape(o._data.shape))
            g = _grads((o,), xs, (onehot,), create_graph, retain_graph=True) if o.requires_grad \
                else (None,) * len(xs)
            for j, (gj, x) in enumerate(zip(g, xs)):
                if gj is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                           f"of input {j}. This is not allowed in strict mode.")
                    gj = _wrap(jnp.zeros(x._data.shape, x._data.dtype))
                per_input[j].append(gj)
        rows.append(tuple(_stack_rows(per_input[j], o, x, create_graph) for j, x in enumerate(xs)))
    if not out_tuple:
        return rows[0] if in_tuple else rows[0][0]
    return tuple(r if in_tuple else r[0] for r in rows)


def _stack_rows(grads, out: Tensor, x: Tensor, create_graph: bool) -> Tensor:
    shape = tuple(out._data.shape) + tuple(x._data.shape)
    if not grads:
        return _wrap(jnp.zeros(shape, x._data.dtype))
    if create_graph and any(g.requires_grad for g in grads):
        from .. import _ops
        stack = _ops.FUNCTIONS.get("stack")
        reshape = getattr(Tensor, "reshape", None)
        if stack is not None and reshape is not None:
            return reshape(stack(grads), shape)
        # without stack/reshape: J = sum_k e_k (x) g_k, by broadcasting a one-hot of shape
        # out.shape + (1,) * x.ndim against each row g_k (shape x.shape)
        n = len(grads)
        ones = (1,) * x._data.ndim
        total = None
        for k, g in enumerate(grads):
            e = jnp.zeros((n,), g._data.dtype).at[k].set(1).reshape(tuple(out._data.shape) + ones)
            term = _wrap(e) * g
            total = term if total is None else total + term
        return total
    return _wrap(jnp.stack([g._data for g in grads]).reshape(shape))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function ``func`` at ``inputs``.

    Args:
        func: a function of Tensors returning a single-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph, strict, vectorize: as in :func:`jacobian`.

    Returns:
        ``H[i][j]`` of shape ``inputs[i].shape + inputs[j].shape`` (a Tensor for a single input).
    """
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def jac_func(*inp):
        out = func(*inp)
        if isinstance(out, (tuple, list)) or not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a "
                               "single element")
        if strict and not out.requires_grad:
            raise RuntimeError("The output of the user-provided function is independent of input "
                               "0. This is not allowed in strict mode.")
        g = _grads((out,), inp, (_wrap(jnp.ones(out._data.shape, out._data.dtype)),), True)
        return _fill(g, inp, strict, True, "output")

    res = jacobian(jac_func, xs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return res if in_tuple else res[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Vector-Hessian product ``v^T H`` of a scalar function ``func`` at ``inputs``.

    Returns:
        ``(func_output, vhp)``, the latter shaped like ``inputs``.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Hessian-vector product ``H v`` of a scalar function ``func`` at ``inputs``.

    Returns:
        ``(func_output, hvp)``, the latter shaped like ``inputs``.
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, name):
    in_tuple, xs = _as_tuple(inputs, "inputs", name)
    xs = _prep(xs, create_graph)
    if v is None:
        if len(xs) != 1 or xs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (_wrap(jnp.ones(xs[0]._data.shape, xs[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", name)
        _check_v(vs, xs, name, "input")
    out_tuple, outs = _run(func, xs, name)
    if out_tuple or len(outs) != 1 or outs[0].numel() != 1:
        raise RuntimeError(f"The function given to {name} should return a single Tensor with a "
                           "single element")
    out = outs[0]
    if strict and not out.requires_grad:
        raise RuntimeError("The output of the user-provided function does not require gradients. "
                           "This is not allowed in strict mode.")
    ones = (_wrap(jnp.ones(out._data.shape, out._data.dtype)),)
    with _grad_mode.enable_grad():
        jac = _fill(_grads((out,), xs, ones, create_graph=True), xs, strict, True, "output")
    if name == "vhp":
        res = _grads(jac, xs, vs, create_graph)
    else:
        # H v = d/du <J^T u ... >: differentiate u -> (d<jac, u>/dx) . v with respect to u
        us = tuple(_wrap(jnp.zeros(x._data.shape, x._data.dtype), True) for x in xs)
        with _grad_mode.enable_grad():
            dbl = _grads(jac, xs, us, create_graph=True)
        pairs = [(d, w) for d, w in zip(dbl, vs) if d is not None and d.requires_grad]
        if pairs:
            ds, ws = zip(*pairs)
            res = _grad(ds, us, ws, create_graph=create_graph, allow_unused=True)
        else:
            res = (None,) * len(us)
    res = _fill(res, xs, strict, create_graph, "jacobian")
    return _post(outs, create_graph)[0], _unpack(in_tuple, _post(res, create_graph))
