"""``torch.func``: composable function transforms (grad, vjp, jvp, vmap, jacrev, jacfwd, hessian).

Each transform is the matching JAX transform. Tensors in the arguments are unwrapped to their
jax arrays; inside the transform the traced arrays are wrapped in fresh Tensors and the user's
function runs with autograd recording off (JAX does the differentiation); Tensors in the result
are unwrapped and the transform's output is wrapped back. Non-Tensor arguments pass through
unchanged. Transforms nest (``vmap(grad(f))``), since every op dispatches to a jitted JAX
function that accepts tracers.

If an argument requires grad (and grad mode is on), the transformed call is recorded on the
autograd tape as one node whose backward is ``jax.vjp`` of the whole transform, so results of
``mt.func`` can be backpropagated like any other op result.
"""

from __future__ import annotations

import copy
import functools

import jax

from .. import _grad_mode
from .._autograd_graph import Node, edge_of
from .._tensor import Tensor, _wrap

__all__ = ["debug_unwrap", "functional_call", "functionalize", "grad", "grad_and_value", "hessian",
           "jacfwd", "jacrev", "jvp", "linearize", "rearrange", "replace_all_batch_norm_modules_",
           "stack_module_state", "vjp", "vmap"]


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _flatten(tree):
    """(leaves, treedef, positions of Tensor leaves)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=_is_tensor)
    return leaves, treedef, [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]


def _rebuild(leaves, treedef, positions, arrays):
    leaves = list(leaves)
    for i, a in zip(positions, arrays):
        leaves[i] = _wrap(a)
    return jax.tree_util.tree_unflatten(treedef, leaves)


def _to_arrays(tree):
    return jax.tree_util.tree_map(lambda t: t._data if isinstance(t, Tensor) else t, tree,
                                  is_leaf=_is_tensor)


def _to_tensors(tree):
    return jax.tree_util.tree_map(lambda a: _wrap(a) if isinstance(a, jax.Array) else a, tree)


def _call_plain(func, args, kwargs):
    """Run the user's function with autograd recording off (restored in ``finally``)."""
    state = _grad_mode.STATE
    prev = state.grad
    state.grad = False
    try:
        return func(*args, **kwargs)
    finally:
        state.grad = prev


def _in_order(result, ref):
    """``result`` with every dict's keys in the order of the matching dict in ``ref``.

    JAX rebuilds dicts with sorted keys; torch.func keeps the user's insertion order (a per-sample
    gradient dict iterates like ``named_parameters()``), so the Python structure a transform saw is
    used to restore it.
    """
    if isinstance(result, dict) and isinstance(ref, dict) and set(result) == set(ref):
        items = {k: _in_order(result[k], ref[k]) for k in ref}
        if type(result) is dict:
            return items
        new = copy.copy(result)   # keep an OrderedDict/defaultdict's type
        new.clear()
        new.update(items)
        return new
    if isinstance(result, (tuple, list)) and isinstance(ref, (tuple, list)) and len(result) == len(ref):
        items = [_in_order(a, b) for a, b in zip(result, ref)]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result


def _graft(out, leaf_ref):
    """``out``'s structure with every Tensor leaf replaced by ``leaf_ref`` (a Jacobian's shape)."""
    if isinstance(out, Tensor):
        return leaf_ref
    if isinstance(out, dict):
        return {k: _graft(v, leaf_ref) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return [_graft(v, leaf_ref) for v in out]
    return out


def _invoke(transformed, args):
    """Call ``transformed`` (a function of the args with Tensors as arrays, returning an array
    pytree) on ``args``; wrap the result, recording one tape node if an input requires grad."""
    leaves, treedef, pos = _flatten(args)
    tensors = [leaves[i] for i in pos]

    def flat(*arrays):
        out = transformed(*jax.tree_util.tree_unflatten(
            treedef, _replace(leaves, pos, arrays)))
        flat_out, out_def = jax.tree_util.tree_flatten(out)
        flat.out_def = out_def
        return tuple(flat_out)

    arrays = [t._data for t in tensors]
    if not (_grad_mode.STATE.grad and any(t.requires_grad for t in tensors)):
        return _to_tensors(transformed(*_to_arrays(args)))
    outs = _record(flat, tensors, arrays)
    return jax.tree_util.tree_unflatten(flat.out_def, outs)


def _replace(leaves, pos, arrays):
    leaves = [leaf._data if isinstance(leaf, Tensor) else leaf for leaf in leaves]
    for i, a in zip(pos, arrays):
        leaves[i] = a
    return leaves


class FuncTransformBackward(Node):
    """The tape node of a ``mt.func`` transform called on tensors that require grad."""

    __slots__ = ("_fn", "_inputs", "_xs")

    def _apply(self, grads, create_graph):
        fn, xs = self._fn, self._xs
        mask = [g is not None for g in grads]
        given = [g for g in grads if g is not None]

        def bwd(*vals):
            prim, gs = vals[:len(xs)], vals[len(xs):]
            outs, vjp_fn = jax.vjp(fn, *prim)
            full = []
            it = iter(gs)
            for o, present in zip(outs, mask):
                full.append(next(it).astype(o.dtype) if present else jax.numpy.zeros(o.shape, o.dtype))
            return tuple(vjp_fn(tuple(full)))

        if create_graph:
            res = _record(bwd, list(self._inputs) + given, list(xs) + [g._data for g in given])
        else:
            res = [_wrap(r) for r in bwd(*xs, *[g._data for g in given])]
        return [None if e[0] is None else r for r, e in zip(res, self.next_functions)]

    def _release(self) -> None:
        self._freed = True


def _record(fn, tensors, arrays):
    """Run ``fn`` (flat arrays -> tuple of arrays) and record it as one differentiable node."""
    outs = [_wrap(o) for o in fn(*arrays)]
    diff = [o for o in outs if jax.numpy.issubdtype(o._data.dtype, jax.numpy.inexact)]
    if not diff or len(diff) != len(outs):
        return outs if not diff else _record_partial(fn, tensors, arrays, outs)
    node = FuncTransformBackward.__new__(FuncTransformBackward)
    Node.__init__(node, tuple(edge_of(t) for t in tensors),
                  tuple((o._data.shape, o._data.dtype) for o in outs))
    node._fn = fn
    node._inputs = tuple(tensors)
    node._xs = tuple(arrays)
    for i, o in enumerate(outs):
        o.requires_grad = True
        o.grad_fn = node
        o._output_nr = i
    return outs


def _record_partial(fn, tensors, arrays, outs):
    """Record only the inexact outputs (integer outputs get no gradient)."""
    keep = [i for i, o in enumerate(outs) if jax.numpy.issubdtype(o._data.dtype, jax.numpy.inexact)]

    def sub(*xs):
        r = fn(*xs)
        return tuple(r[i] for i in keep)

    diff = _record(sub, tensors, arrays)
    for i, d in zip(keep, diff):
        outs[i] = d
    return outs


# ----- the transforms ------------------------------------------------------------------------------
def _argnums_tuple(argnums, nargs: int, fname: str):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{fname}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f"{fname}: argnums must be int or Tuple[int, ...], got {type(n).__name__}")
        if not -nargs <= n < nargs:
            raise RuntimeError(f"{fname}: Got argnums={argnums}, but only {nargs} positional inputs")
    return single, tuple(n % nargs for n in nums)


def _diff_transform(jax_transform, func, argnums, has_aux, fname, check_scalar=False):
    """Shared body of grad / grad_and_value / jacrev / jacfwd: differentiate w.r.t. argnums."""
    def wrapper(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), fname)
        seen = {}

        def transformed(*arr_args):
            def pure(*diff):
                full = list(_to_tensors(arr_args))
                for i, d in zip(nums, diff):
                    full[i] = _to_tensors(d)
                out = _call_plain(func, _in_order(full, list(args)), kwargs)
                seen["out"] = out
                if has_aux:
                    if not (isinstance(out, tuple) and len(out) == 2):
                        raise RuntimeError(f"{fname}(f)(*args): output of function f should be a "
                                           "tuple: (output, aux) if has_aux is True")
                    out, aux = out
                if check_scalar:
                    if not isinstance(out, Tensor):
                        raise RuntimeError(f"{fname}(f)(*args): Expected f(*args) to return a Tensor, "
                                           f"got {type(out).__name__}")
                    if out.ndim != 0:
                        raise RuntimeError(f"{fname}(f)(*args): Expected f(*args) to return a scalar "
                                           f"Tensor, got tensor with {out.ndim} dims. Maybe you wanted "
                                           "to use the vjp or jacrev APIs instead?")
                out = _to_arrays(out)
                return (out, _to_arrays(aux)) if has_aux else out

            diff_args = [arr_args[i] for i in nums]
            jnums = 0 if single else tuple(range(len(nums)))
            return jax_transform(pure, argnums=jnums, has_aux=has_aux)(*diff_args)

        result = _invoke(transformed, args)
        if "out" not in seen:
            return result
        gref = args[nums[0]] if single else tuple(args[n] for n in nums)
        out, aux = seen["out"] if has_aux else (seen["out"], None)
        if fname == "grad_and_value":
            ref = (gref, (out, aux) if has_aux else out)
        else:
            ref = gref if check_scalar else _graft(out, gref)
            ref = (ref, aux) if has_aux else ref
        return _in_order(result, ref)

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """``grad(f)(*args)``: the gradient of a scalar-valued ``f`` with respect to ``args[argnums]``.

    Args:
        func: a function returning a 0-d Tensor (or ``(output, aux)`` with ``has_aux``).
        argnums: which positional argument(s) to differentiate (an int or a tuple of ints); each
            may be a Tensor or a pytree (dict, list, tuple) of Tensors.
        has_aux: ``func`` returns ``(output, aux)``; the call then returns ``(grad, aux)``.

    Example::

        per_sample = mt.func.vmap(mt.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    """
    def transform(pure, argnums, has_aux):
        return jax.grad(pure, argnums=argnums, has_aux=has_aux)

    return functools.wraps(func)(_diff_transform(transform, func, argnums, has_aux, "grad", True))


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """Like :func:`grad`, but returns ``(grad, value)`` (``(grad, (value, aux))`` with has_aux)."""
    def transform(pure, argnums, has_aux):
        vg = jax.value_and_grad(pure, argnums=argnums, has_aux=has_aux)

        def swapped(*a):
            value, g = vg(*a)
            return g, value
        return swapped

    return functools.wraps(func)(_diff_transform(transform, func, argnums, has_aux,
                                                 "grad_and_value", True))


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to ``args[argnums]`` by reverse mode.

    The result has the output's structure; each entry has shape ``output.shape + input.shape``
    (a tuple over argnums when argnums is a tuple). ``chunk_size`` is accepted and ignored.
    """
    def transform(pure, argnums, has_aux):
        return jax.jacrev(pure, argnums=argnums, has_aux=has_aux)

    return functools.wraps(func)(_diff_transform(transform, func, argnums, has_aux, "jacrev"))


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian of ``func`` with respect to ``args[argnums]`` by forward mode (see jacrev)."""
    def transform(pure, argnums, has_aux):
        return jax.jacfwd(pure, argnums=argnums, has_aux=has_aux)

    return functools.wraps(func)(_diff_transform(transform, func, argnums, has_aux, "jacfwd"))


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func`` with respect to ``args[argnums]`` (jacfwd of jacrev)."""
    return jacfwd(jacrev(func, argnums), argnums)


def vjp(func, *primals, has_aux: bool = False):
    """Run ``func(*primals)`` and return ``(output, vjp_fn)`` (plus ``aux`` with has_aux).

    ``vjp_fn(cotangents)`` takes cotangents shaped like the output and returns a tuple with one
    gradient per primal.
    """
    def pure(*arrays):
        out = _call_plain(func, _to_tensors(arrays), {})
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: "
                                   "(output, aux) if has_aux is True")
            return _to_arrays(out[0]), _to_arrays(out[1])
        return _to_arrays(out)

    res = jax.vjp(pure, *_to_arrays(primals), has_aux=has_aux)
    out, fn = res[0], res[1]

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        cts = jax.tree_util.tree_map(lambda c, o: c.astype(o.dtype), _to_arrays(cotangents), out)
        return _to_tensors(tuple(fn(cts)))

    result = (_to_tensors(out), vjp_fn)
    return result + (_to_tensors(res[2]),) if has_aux else result


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """Forward-mode product: ``(func(*primals), J @ tangents)`` (plus ``aux`` with has_aux).

    Args:
        primals, tangents: tuples of Tensors of the same shapes.
    """
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples")
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same "
                           f"length, got {len(primals)} and {len(tangents)}")

    def pure(*arrays):
        out = _call_plain(func, _to_tensors(arrays), {})
        if has_aux:
            return _to_arrays(out[0]), _to_arrays(out[1])
        return _to_arrays(out)

    p = _to_arrays(primals)
    t = jax.tree_util.tree_map(lambda a, b: a.astype(b.dtype), _to_arrays(tangents), p)
    res = jax.jvp(pure, p, t, has_aux=has_aux)
    return tuple(_to_tensors(r) for r in res)


def _leaf_dims(dims, arg, where: str):
    """in_dims for each Tensor leaf of ``arg`` (``dims`` is an int/None or a matching prefix)."""
    if dims is None or isinstance(dims, int):
        return [dims if isinstance(x, Tensor) else None for x in _flatten(arg)[0]
                if isinstance(x, Tensor)]
    if isinstance(dims, (tuple, list)) and isinstance(arg, (tuple, list)) and len(dims) == len(arg):
        return [d for sd, sa in zip(dims, arg) for d in _leaf_dims(sd, sa, where)]
    if isinstance(dims, dict) and isinstance(arg, dict) and set(dims) == set(arg):
        return [d for k in sorted(arg) for d in _leaf_dims(dims[k], arg[k], where)]
    raise ValueError(f"vmap: in_dims is not compatible with the structure of inputs ({where}: "
                     f"in_dims {dims!r} for an argument of type {type(arg).__name__})")


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """Vectorise ``func`` over a batch dimension of its inputs.

    Args:
        func: a function of Tensors (or pytrees of Tensors).
        in_dims: the batch dim of each argument: an int for all, or a tuple with one entry per
            argument (an int, None for "not batched", or a nested prefix of that argument).
        out_dims: where the batch dim goes in the outputs (an int or a tuple per output).
        randomness, chunk_size: accepted for compatibility.

    Example::

        batched_dot = mt.func.vmap(lambda a, b: (a * b).sum())
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if isinstance(in_dims, (tuple, list)):
            if len(in_dims) != len(args):
                raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible "
                                 f"with the structure of `inputs`: expected {len(args)} entries")
            dims = [d for i, (d, a) in enumerate(zip(in_dims, args))
                    for d in _leaf_dims(d, a, f"argument {i}")]
        else:
            dims = _leaf_dims(in_dims, args, "inputs")
        leaves, treedef, pos = _flatten(args)
        for d, i in zip(dims, pos):
            nd = leaves[i].ndim
            if d is not None and not -nd <= d < max(nd, 1):
                fname = getattr(func, "__name__", repr(func))
                raise ValueError(f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                                 f"input, but that input is a Tensor of dimensionality {nd} so expected "
                                 f"in_dim to satisfy -{nd} <= in_dim < {nd}.")

        def transformed(*arr_args):
            def pure(dyn_arrays):
                inner = _in_order(_rebuild(leaves, treedef, pos, dyn_arrays), args)
                out = _call_plain(func, inner, kwargs)
                seen["out"] = out
                return _to_arrays(out)

            flat_leaves = jax.tree_util.tree_flatten(arr_args)[0]
            dyn_arrays = [flat_leaves[i] for i in pos]
            return jax.vmap(pure, in_axes=(dims,), out_axes=out_dims)(dyn_arrays)

        seen = {}
        return _in_order(_invoke(transformed, args), seen.get("out"))

    return wrapper


# ----- functional_call ---------------------------------------------------------------------------
def _owner(module, path: str):
    *parents, attr = path.split(".")
    obj = module
    for p in parents:
        obj = getattr(obj, p)
    return obj, attr


_MISSING = object()


def _get(owner, attr):
    for store in ("_parameters", "_buffers"):
        d = getattr(owner, store, None)
        if isinstance(d, dict) and attr in d:
            return d[attr]
    return getattr(owner, attr, _MISSING)


def _set(owner, attr, value) -> None:
    for store in ("_parameters", "_buffers"):
        d = getattr(owner, store, None)
        if isinstance(d, dict) and attr in d:
            d[attr] = value
            return
    if value is _MISSING:
        delattr(owner, attr)
    else:
        setattr(owner, attr, value)


def _named(module, kind: str):
    fn = getattr(module, f"named_{kind}", None)
    if fn is None:
        return []
    try:
        return list(fn(remove_duplicate=False))
    except TypeError:
        return list(fn())


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module`` with some parameters/buffers replaced by the given tensors.

    The module's own tensors are put back afterwards (also when the call raises).

    Args:
        module: the module (anything with ``named_parameters``/``named_buffers``, or plain
            attributes reachable by the dotted names).
        parameter_and_buffer_dicts: a dict ``{"layer.weight": tensor, ...}`` or a tuple of dicts.
        args: a single argument or a tuple of positional arguments for the call.
        kwargs: keyword arguments for the call.
        tie_weights: a tensor shared by several names is replaced under all of them.
        strict: require the names to match the module's parameters and buffers exactly.

    Returns:
        Whatever ``module(*args, **kwargs)`` returns.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    else:
        values, seen = {}, {}
        for d in parameter_and_buffer_dicts:
            for k, v in d.items():
                seen[k] = seen.get(k, 0) + 1
                values.setdefault(k, v)
        dups = [k for k, n in seen.items() if n > 1]
        if dups:
            raise ValueError(f"{dups} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
    args = () if args is None else (args if isinstance(args, tuple) else (args,))
    kwargs = {} if kwargs is None else kwargs
    named = _named(module, "parameters") + _named(module, "buffers")
    if strict:
        known = {n for n, _ in named}
        missing = sorted(known - set(values))
        unexpected = sorted(set(values) - known)
        if missing or unexpected:
            lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
            for what, keys in (("Unexpected", unexpected), ("Missing", missing)):
                if keys:
                    lines.append(f"\t{what} key(s): " + ", ".join(f"'{k}'" for k in keys) + ".")
            raise RuntimeError("\n".join(lines))
    if tie_weights:
        by_id = {}
        for n, t in named:
            by_id.setdefault(id(t), []).append(n)
        for n, t in named:
            if n in values:
                for twin in by_id[id(t)]:
                    if twin not in values:
                        values[twin] = values[n]
    saved = []
    try:
        for name, value in values.items():
            owner, attr = _owner(module, name)
            saved.append((owner, attr, _get(owner, attr)))
            _set(owner, attr, value)
        return module(*args, **kwargs)
    finally:
        for owner, attr, old in reversed(saved):
            _set(owner, attr, old)


from ._extra import (  # noqa: E402 - uses the helpers above
    debug_unwrap,
    functionalize,
    linearize,
    replace_all_batch_norm_modules_,
    stack_module_state,
)
from ._rearrange import rearrange  # noqa: E402
