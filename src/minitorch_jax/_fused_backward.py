"""Whole-graph backward: replay a backward pass seen before as ONE compiled XLA program.

Eager training loops build the same graph every step. The per-node engine pays one dispatch per
node (and XLA cannot fuse across them); here the graph's structure - the ops, their static
arguments, the edges between nodes and the saved arrays' shapes and dtypes - becomes a cache
key. The first two times a key is seen, the per-node engine runs (compiling a fused program for a
graph that rarely comes back would cost more than it saves, and a graph whose shapes change every
step never comes back); from the third time on, the whole backward runs as a single ``jax.jit``
program built from the same per-op ``jax.vjp`` rules.

Graphs with anything the fused program cannot express (hooks, ``retain_grad``, ops that run
eagerly, custom ``Function`` nodes, ``create_graph``) always take the per-node path, so the
behaviour is the same either way; only the number of dispatches changes.
"""

from __future__ import annotations

import jax

from ._tensor import _wrap

__all__ = ["try_run", "set_enabled", "is_enabled"]

_state = {"enabled": True, "min_repeats": 3}
_seen: dict = {}
_compiled: dict = {}
_MAX_ENTRIES = 4096


def set_enabled(flag: bool) -> None:
    """Turn whole-graph backward replay on or off (on by default); results are the same."""
    _state["enabled"] = bool(flag)


def is_enabled() -> bool:
    """Whether whole-graph backward replay is on."""
    return _state["enabled"]


def _plain(node) -> bool:
    return not (node._tensor_hooks or node._hooks or node._pre_hooks or node._retained)


def _structure(order, op_node_cls, acc_cls):
    """(specs, op nodes, leaf nodes) for a graph the fused program can run, else None."""
    pos = {n: i for i, n in enumerate(order)}
    specs = []
    op_nodes = []
    leaves = []
    for n in order:
        if type(n) is acc_cls or isinstance(n, acc_cls):
            if not _plain(n):
                return None
            specs.append(None)
            leaves.append(n)
            continue
        if not isinstance(n, op_node_cls) or not _plain(n) or not n._op.jit or n._xs is None:
            return None
        specs.append((n._op, n._key, n._mask, n._n_out,
                      tuple((pos[nxt], nr) for nxt, nr in n.next_functions), n._from_out))
        op_nodes.append(n)
    return tuple(specs), op_nodes, leaves, pos


def _build(specs, roots):
    """The fused backward: per-node vjp rules in topological order, inside one trace."""
    def fused(xs, root_gs):
        bufs = [None if s is None else [None] * s[3] for s in specs]
        for s_i, s in enumerate(specs):
            if s is None:
                bufs[s_i] = [None]
        for (i, nr), g in zip(roots, root_gs):
            bufs[i][nr] = g if bufs[i][nr] is None else bufs[i][nr] + g
        leaf_grads = []
        xi = 0
        for i, s in enumerate(specs):
            gs = bufs[i]
            if s is None:
                leaf_grads.append(gs[0])
                continue
            op, key, mask, _, edges, from_out = s
            x = xs[xi]
            xi += 1
            if all(g is None for g in gs):
                continue
            if from_out:  # x holds the op's saved result
                res = (op.grad_out(gs[0].astype(x[0].dtype), x[0]),)
            else:
                res = op.backward_fn(key, mask, jit=False)(x, gs)
            for (j, nr), r in zip(edges, res):
                cur = bufs[j][nr]
                bufs[j][nr] = r if cur is None else cur + r
        return leaf_grads

    return jax.jit(fused, inline=True)


def try_run(order, root_edges, root_grads, retain_graph) -> bool:
    """Run the backward of ``order`` (topologically sorted nodes) fused, if possible and worth it.

    Args:
        order: every reachable node, each before the nodes it points to.
        root_edges: ``(node, output_nr)`` per root gradient.
        root_grads: the root gradients (Tensors).
        retain_graph: keep saved values for another backward.

    Returns True when the pass ran (leaves' ``.grad`` updated), False to use the per-node engine.
    """
    if not _state["enabled"]:
        return False
    from ._autograd_graph import AccumulateGrad
    from ._ops._registry import _OpNode

    st = _structure(order, _OpNode, AccumulateGrad)
    if st is None:
        return False
    specs, op_nodes, leaves, pos = st
    roots = tuple((pos[n], nr) for n, nr in root_edges)
    # the saved arrays' shapes are part of the key: a graph whose shapes change every step
    # (variable-length batches) would otherwise recompile the whole backward on every pass
    shapes = tuple(tuple((getattr(a, "shape", None), getattr(a, "dtype", None)) for a in n._xs)
                   for n in op_nodes)
    skey = (specs, roots, shapes)
    fn = _compiled.get(skey)
    if fn is None:
        count = _seen.get(skey, 0) + 1
        if count < _state["min_repeats"]:
            if len(_seen) > _MAX_ENTRIES:
                _seen.clear()
            _seen[skey] = count
            return False
        _seen.pop(skey, None)
        if len(_compiled) > _MAX_ENTRIES:
            _compiled.clear()
        fn = _compiled[skey] = _build(specs, roots)
    for n in op_nodes:
        n._check_versions()
    leaf_grads = fn([n._xs for n in op_nodes], [g._data for g in root_grads])
    for acc, g in zip(leaves, leaf_grads):
        if g is not None:
            acc._apply([_wrap(g)], False)
    if not retain_graph:
        for n in op_nodes:
            n._release()
    return True
