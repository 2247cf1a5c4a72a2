"""Control flow that compiles: ``mt.cond``, ``mt.while_loop``, ``mt.scan``.

Eagerly they are plain Python (a branch, a loop), so autograd, pdb and print work as usual.
Inside ``mt.jit`` - when the predicate or the carried values are traced - they become
``jax.lax.cond`` / ``while_loop`` / ``scan``, so data-dependent decisions stay in the program.
``cond`` and ``scan`` are differentiable there too (through ``jax.vjp``), also with respect to
tensors the functions reach through closures (a model's parameters); ``while_loop`` is not
differentiable (as in torch and JAX).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._grad_mode import no_grad
from ._jax_op import apply_jax, tensors_to_arrays
from ._tensor import Tensor, _wrap

__all__ = ["cond", "while_loop", "scan"]

_Tracer = jax.core.Tracer


def _traced(tree) -> bool:
    leaves = jax.tree_util.tree_leaves(tensors_to_arrays(tree))
    return any(isinstance(x, _Tracer) for x in leaves)


def _closure_tensors(*fns):
    """Tensors requiring grad that ``fns`` reach through closures/globals (model parameters ...):
    they become extra operands, so gradients reach them when compiled, as they do eagerly."""
    from .jit._capture import discover, roots_of
    seen, out = set(), []
    for fn in fns:
        for t in discover(roots_of(fn)).tensors:
            if t.requires_grad and id(t) not in seen and jnp.issubdtype(t._data.dtype, jnp.inexact):
                seen.add(id(t))
                out.append(t)
    return out


class _Swapped:
    """Inside a lax body: the closure tensors hold the body's tracers; restored on exit."""

    def __init__(self, tensors, arrays):
        self.tensors, self.arrays = tensors, arrays

    def __enter__(self):
        self.saved = [t._data for t in self.tensors]
        for t, a in zip(self.tensors, self.arrays):
            t._data = a

    def __exit__(self, *exc):
        for t, a in zip(self.tensors, self.saved):
            t._data = a


def _flat_tensors(tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=lambda t: isinstance(t, Tensor))
    return leaves, treedef


def _as_array_fn(fn, treedef):
    """``fn`` on Tensors as a function on the flat list of their arrays (outputs flattened too)."""
    out_def = []

    def f(*arrays):
        args = jax.tree_util.tree_unflatten(treedef, [_wrap(a) for a in arrays])
        with no_grad():
            out = fn(*args)
        leaves, d = jax.tree_util.tree_flatten(tensors_to_arrays(out))
        out_def[:] = [d]
        return tuple(jnp.asarray(x) for x in leaves)
    return f, out_def


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``.

    Args:
        pred: a bool, or a one-element boolean/number tensor.
        true_fn, false_fn: functions of the operands returning tensors (same structure, shapes
            and dtypes in both branches when compiled).
        operands: a tuple of tensors (and nested lists/tuples/dicts of them).
    """
    operands = tuple(operands)
    if not (isinstance(pred, Tensor) and isinstance(pred._data, _Tracer)) and not _traced(operands):
        p = bool(pred.item()) if isinstance(pred, Tensor) else bool(pred)
        return (true_fn if p else false_fn)(*operands)
    leaves, treedef = _flat_tensors(operands)
    extra = _closure_tensors(true_fn, false_fn)
    n = len(leaves)
    t_fn, t_def = _as_array_fn(lambda *a: true_fn(*a), treedef)
    f_fn, _ = _as_array_fn(lambda *a: false_fn(*a), treedef)

    def branch(fn):
        def g(*arrays):
            with _Swapped(extra, arrays[n:]):
                return fn(*arrays[:n])
        return g

    def run(p, *arrays):
        return jax.lax.cond(jnp.reshape(p, ()).astype(bool), branch(t_fn), branch(f_fn), *arrays)

    p = pred if isinstance(pred, Tensor) else _wrap(jnp.asarray(bool(pred)))
    try:
        outs = apply_jax(run, [p, *leaves, *extra], "cond")
    except TypeError as e:
        raise RuntimeError("mt.cond: when compiled, both branches must return the same structure, shapes "
                           f"and dtypes ({str(e).splitlines()[0]})") from None
    return jax.tree_util.tree_unflatten(t_def[0], list(outs))


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` is true; return ``carried``.

    Args:
        cond_fn: returns a bool or a one-element boolean tensor.
        body_fn: returns a tuple with the same structure, shapes and dtypes as its inputs.
        carried_inputs: a tuple of tensors.

    Not differentiable when compiled (its outputs do not require grad there).
    """
    carried = tuple(carried_inputs)
    if not _traced(carried):
        while True:
            c = cond_fn(*carried)
            if not (bool(c.item()) if isinstance(c, Tensor) else bool(c)):
                return carried
            out = body_fn(*carried)
            carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    leaves, treedef = _flat_tensors(carried)

    def c_fn(arrays):
        with no_grad():
            r = cond_fn(*jax.tree_util.tree_unflatten(treedef, [_wrap(a) for a in arrays]))
        return jnp.reshape(r._data if isinstance(r, Tensor) else jnp.asarray(r), ()).astype(bool)

    def b_fn(arrays):
        with no_grad():
            out = body_fn(*jax.tree_util.tree_unflatten(treedef, [_wrap(a) for a in arrays]))
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        new = jax.tree_util.tree_leaves(tensors_to_arrays(out))
        return tuple(jnp.asarray(n).astype(a.dtype) for n, a in zip(new, arrays))

    res = jax.lax.while_loop(c_fn, b_fn, tuple(t._data for t in leaves))
    return tuple(jax.tree_util.tree_unflatten(treedef, [_wrap(a) for a in res]))


def scan(f, init, xs, length=None, reverse: bool = False):
    """Loop ``carry, y = f(carry, x)`` over the leading dim of ``xs``; return ``(carry, ys)`` with
    the ``y``'s stacked along a new leading dim (JAX's ``lax.scan`` semantics).

    Args:
        f: ``(carry, x) -> (new_carry, y)``; carry and y may be nested structures of tensors.
        init: the initial carry.
        xs: a tensor (or structure of tensors) scanned along dim 0, or None with ``length``.
        length: the number of steps when ``xs`` is None.
        reverse: scan from the end.
    """
    if not _traced((init, xs)):
        n = length if xs is None else jax.tree_util.tree_leaves(tensors_to_arrays(xs))[0].shape[0]
        carry, ys = init, []
        order = range(n - 1, -1, -1) if reverse else range(n)
        for i in order:
            x = None if xs is None else jax.tree_util.tree_map(lambda t, i=i: t[i], xs,
                                                               is_leaf=lambda t: isinstance(t, Tensor))
            carry, y = f(carry, x)
            ys.append(y)
        if reverse:
            ys = ys[::-1]
        if not ys:
            return carry, None
        from ._ops import FUNCTIONS
        stack = FUNCTIONS["stack"]
        stacked = jax.tree_util.tree_map(lambda *ts: stack(list(ts)), *ys,
                                         is_leaf=lambda t: isinstance(t, Tensor))
        return carry, stacked
    c_leaves, c_def = _flat_tensors(init)
    x_leaves, x_def = _flat_tensors(xs) if xs is not None else ([], None)
    extra = _closure_tensors(f)
    nc, nx = len(c_leaves), len(x_leaves)
    y_def = []

    def run(*arrays):
        consts = arrays[nc + nx:]
        arrays = arrays[:nc + nx]

        def body(carry, x):
            c = jax.tree_util.tree_unflatten(c_def, [_wrap(a) for a in carry])
            xv = None if x_def is None else jax.tree_util.tree_unflatten(x_def, [_wrap(a) for a in x])
            with no_grad(), _Swapped(extra, consts):
                nc_, y = f(c, xv)
            new_c = jax.tree_util.tree_leaves(tensors_to_arrays(nc_))
            y_leaves, d = jax.tree_util.tree_flatten(tensors_to_arrays(y))
            y_def[:] = [d]
            return tuple(jnp.asarray(a).astype(o.dtype) for a, o in zip(new_c, carry)), tuple(y_leaves)
        carry, ys = jax.lax.scan(body, tuple(arrays[:nc]), tuple(arrays[nc:]) if x_def is not None else None,
                                 length=length, reverse=reverse)
        return (*carry, *ys)

    outs = apply_jax(run, [*c_leaves, *x_leaves, *extra], "scan")
    carry = jax.tree_util.tree_unflatten(c_def, list(outs[:nc]))
    ys = jax.tree_util.tree_unflatten(y_def[0], list(outs[nc:]))
    return carry, ys
