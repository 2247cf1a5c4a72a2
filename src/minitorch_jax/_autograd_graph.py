"""The define-by-run tape: graph nodes and the backward engine.

Each recorded op leaves a :class:`Node` (``tensor.grad_fn``) whose ``next_functions`` point at the
nodes of its inputs; leaves that require grad end in an :class:`AccumulateGrad`. ``run_backward``
walks the graph once in dependency order (iteratively: no recursion limit on long graphs).
"""

from __future__ import annotations

import traceback
import warnings
import weakref

import jax
import jax.numpy as jnp

from . import _fused_backward, _grad_mode
from ._tensor import Tensor, _wrap

__all__ = ["Node", "AccumulateGrad", "run_backward", "grad", "ANOMALY"]


class _Anomaly:
    """Anomaly-mode switches (process-wide, as in torch): record forward stacks, check for NaN."""

    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


ANOMALY = _Anomaly()

# how many backward passes have run (mt.jit tells a training step, which calls backward inside,
# from a forward whose outputs must stay differentiable outside)
BACKWARD_RUNS = [0]

# Set by ``autograd/graph.py`` while a register_multi_grad_hook(mode="all") hook exists: called (no
# arguments) when a backward pass of the per-node engine ends. None costs one global check per pass.
BACKWARD_END_HOOK = None


class _Handle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, container, item):
        self._ref = (container, item)

    def remove(self) -> None:
        container, item = self._ref
        if item in container:
            container.remove(item)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A node of the backward graph (what ``tensor.grad_fn`` holds).

    Subclasses implement ``_apply(grads, create_graph)``: given the gradients of this node's
    outputs (Tensors or None), return the gradients for each entry of ``next_functions``.
    """

    __slots__ = ("next_functions", "_n_out", "_out_meta", "_tensor_hooks", "_retained",
                 "_hooks", "_pre_hooks", "metadata", "_freed", "__weakref__")

    _saves = False

    def __init__(self, next_functions, out_meta):
        self.next_functions = next_functions
        self._out_meta = out_meta  # ((shape, np dtype), ...) per output
        self._n_out = len(out_meta)
        self._tensor_hooks = None
        self._retained = None
        self._hooks = None
        self._pre_hooks = None
        self.metadata = {}
        self._freed = False
        if ANOMALY.enabled:
            # torch keeps the forward stack in metadata["traceback_"]; drop this frame and _record's
            self.metadata["traceback_"] = traceback.format_stack()[:-2]

    def name(self) -> str:
        """The node's name, like torch's (``MulBackward0``)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node runs; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return _Handle(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr: int, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        lst = self._tensor_hooks.setdefault(output_nr, [])
        lst.append(fn)
        return _Handle(lst, fn)

    def _retain(self, output_nr: int, tensor: Tensor) -> None:
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)

    def _release(self) -> None:
        """Free saved values after a backward without retain_graph."""
        self._freed = True

    def _check_not_freed(self) -> None:
        if self._freed and self._saves:
            raise RuntimeError(
                f"{self.name()}: Trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed). Saved intermediate values "
                "of the graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")

    def __call__(self, *grads):
        outs = self._apply(list(grads), _grad_mode.STATE.grad)
        return outs[0] if len(outs) == 1 else tuple(outs)


class AccumulateGrad(Node):
    """The end of the graph at a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        super().__init__((), ((variable._data.shape, variable._data.dtype),))
        self.variable = variable

    def _apply(self, grads, create_graph):
        g = grads[0]
        if g is None:
            return ()
        var = self.variable
        if var._grad is None:
            # torch stores a fresh tensor (it never aliases the incoming gradient)
            var._grad = g if create_graph else _wrap(g._data)
        elif create_graph:
            var._grad = var._grad + g
        else:
            # torch accumulates in place when not building a graph: ``x.grad`` keeps its identity
            old = var._grad
            old._data = old._data + g._data
            old._version += 1
        return ()


def current_version(t: Tensor) -> int:
    """``t._version`` as torch would count it for the saved-tensor check: one more for a view whose
    root was written in place since the view last read it (torch's view and base share one version
    counter; a view here catches up only when it is next used)."""
    v = t._version
    info = t._view
    if info is not None:
        arr = info.root._data  # (None once the root is freed)
        if arr is not None and arr is not info.arr:
            return v + 1
    return v


def accumulate_node(t: Tensor) -> AccumulateGrad:
    """The (cached) AccumulateGrad node of a leaf that requires grad."""
    acc = t._acc
    if acc is None:
        acc = t._acc = AccumulateGrad(t)
    return acc


def edge_of(t: Tensor):
    """The graph edge ``(node, output_nr)`` a gradient for ``t`` flows into (None if no grad)."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    if t.requires_grad:
        return (accumulate_node(t), 0)
    return (None, 0)


def _zeros(meta) -> Tensor:
    shape, dt = meta
    return _wrap(jnp.zeros(shape, dt))


def _add(a: Tensor, b: Tensor, create_graph: bool) -> Tensor:
    if create_graph:
        return a + b
    return _wrap(a._data + b._data)


def _check_grad_shape(node: Node, idx: int, g: Tensor) -> None:
    shape, dt = node._out_meta[idx]
    if g._data.shape != shape:
        raise RuntimeError(
            f"{node.name()}: got a gradient of shape {list(g._data.shape)} for an output of shape "
            f"{list(shape)}")


_ONES: dict = {}


def _ones_like(arr):
    """A ones array like a one-element ``arr`` (cached: arrays are immutable, and building one
    eagerly costs more than the rest of a small backward's bookkeeping)."""
    try:
        committed = arr.committed
        key = (arr.shape, arr.dtype, arr.sharding, committed)
    except Exception:  # a tracer has no concrete sharding
        return jnp.ones(arr.shape, arr.dtype)
    one = _ONES.get(key)
    if one is None:
        one = jnp.ones(arr.shape, arr.dtype)
        # placed like arr, committed only if arr is: jax.jit keys its cache on committedness, so a
        # committed gradient would make every kernel it reaches (the optimizer's ...) compile twice
        _ONES[key] = one = jax.device_put(one, arr.sharding) if committed else one
    return one


def _make_root_grads(roots, grads, create_graph):
    out = []
    if len(grads) != len(roots):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got "
                           f"{len(grads)} gradients for {len(roots)} tensors")
    for i, (t, g) in enumerate(zip(roots, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if jnp.iscomplexobj(t._data):
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"(got a {t.dtype} tensor); pass gradient=")
            if t._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got a tensor of "
                    f"shape {list(t._data.shape)}); pass gradient= with that shape")
            g = _wrap(_ones_like(t._data))
        elif not isinstance(g, Tensor):
            g = _wrap(jnp.asarray(g, t._data.dtype))
        if g._data.shape != t._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {list(g._data.shape)} and "
                f"output[{i}] has a shape of {list(t._data.shape)}.")
        out.append(g)
    return out


def _run(roots, root_grads, retain_graph, create_graph, capture=None):
    """Execute the graph backwards from ``roots``.

    If ``capture`` is a dict of edge -> slot, gradients arriving at those edges are stored
    there instead of being accumulated into leaves (``autograd.grad``), and only the nodes on a
    path to a captured edge run; otherwise AccumulateGrad nodes run (``backward``).
    """
    BACKWARD_RUNS[0] += 1
    buffers: dict = {}
    start = []
    root_edges = []
    root_gs = []
    for t, g in zip(roots, root_grads):
        node, nr = edge_of(t)
        if node is None:
            continue
        root_edges.append((node, nr))
        root_gs.append(g)
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_out
            start.append(node)
        buf[nr] = g if buf[nr] is None else _add(buf[nr], g, create_graph)

    capturing = capture is not None
    deps: dict = {}
    if capturing:
        needed = _needed_nodes(_topo_order(start), capture)
        for n in needed:
            for nxt, _ in n.next_functions:
                if nxt is not None:
                    deps[nxt] = deps.get(nxt, 0) + 1
    else:
        needed = None
        order = _topo_order(start)
        if not create_graph and not ANOMALY.enabled and \
                _fused_backward.try_run(order, root_edges, root_gs, retain_graph):
            return
        for n in order:
            for nxt, _ in n.next_functions:
                if nxt is not None:
                    deps[nxt] = deps.get(nxt, 0) + 1
    ready = [n for n in start if deps.get(n, 0) == 0 and (needed is None or n in needed)]
    anomaly = ANOMALY.enabled
    with _grad_mode.set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node._n_out
            if node._tensor_hooks:
                for i, hooks in node._tensor_hooks.items():
                    for h in list(hooks):
                        if grads[i] is not None:
                            r = h(grads[i])
                            if r is not None:
                                grads[i] = r
            if node._retained:
                for i, ref in node._retained.items():
                    t = ref()
                    if t is not None and grads[i] is not None:
                        g = grads[i] if create_graph else _wrap(grads[i]._data)
                        t._grad = g if t._grad is None else _add(t._grad, g, create_graph)
            if capturing:
                for i, g in enumerate(grads):
                    slot = capture.get((node, i))
                    if slot is not None and g is not None:
                        slot[0] = g if slot[0] is None else _add(slot[0], g, create_graph)
                if isinstance(node, AccumulateGrad) or needed[node] is False:
                    continue  # captured only: nothing below it is wanted
            if node._pre_hooks:
                for h in list(node._pre_hooks):
                    r = h(tuple(grads))
                    if r is not None:
                        grads = list(r)
            if all(g is None for g in grads):
                outs = [None] * len(node.next_functions)
            else:
                node._check_not_freed()
                outs = _call_node(node, grads, create_graph) if anomaly else \
                    node._apply(grads, create_graph)
                if node._hooks:
                    for h in list(node._hooks):
                        r = h(tuple(outs), tuple(grads))
                        if r is not None:
                            outs = list(r)
                if not retain_graph:
                    node._release()
            for (nxt, nr), g in zip(node.next_functions, outs):
                if nxt is None or (needed is not None and nxt not in needed):
                    continue
                if g is not None:
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * nxt._n_out
                    buf[nr] = g if buf[nr] is None else _add(buf[nr], g, create_graph)
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    if BACKWARD_END_HOOK is not None:
        BACKWARD_END_HOOK()


def _topo_order(start):
    """Nodes reachable from ``start``, each before every node it points to (iterative DFS)."""
    post = []
    seen = set()
    for root in start:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, it = stack[-1]
            for nxt, _ in it:
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                post.append(node)
    post.reverse()
    return post


def _needed_nodes(order, capture):
    """For ``autograd.grad``: node -> whether it must run (True) or only capture (False).

    Nodes on no path to a captured edge are absent. ``order`` is topological, so walking it
    backwards sees every node's successors first.
    """
    targets = {node for node, _ in capture}
    needed: dict = {}
    for n in reversed(order):
        runs = any(nxt in needed for nxt, _ in n.next_functions if nxt is not None)
        if runs:
            needed[n] = True
        elif n in targets:
            needed[n] = False
    return needed


def _call_node(node, grads, create_graph):
    """``node._apply`` in anomaly mode: name the forward call on error, check outputs for NaN."""
    try:
        outs = node._apply(grads, create_graph)
    except Exception as e:
        stack = "".join(node.metadata.get("traceback_", ())) or \
            "  (not recorded: the node was created before anomaly mode was enabled)\n"
        note = (f"Error detected in {node.name()}. Traceback of forward call that caused the "
                f"error:\n{stack}")
        warnings.warn(note, RuntimeWarning, stacklevel=3)
        raise _with_note(e, note) from e
    if ANOMALY.check_nan:
        for i, g in enumerate(outs):
            if g is not None and _has_nan(g._data):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                                   f"output.{_forward_site(node)}")
    return outs


def _forward_site(node) -> str:
    """`` The forward ... ran at file:line: `code`.`` from the stack anomaly mode recorded (the
    innermost frame outside this package and site-packages), or ''."""
    import os
    pkg = os.path.dirname(os.path.abspath(__file__))
    for entry in reversed(node.metadata.get("traceback_", ())):
        head, _, code = entry.strip().partition("\n")
        if not head.startswith('File "'):
            continue
        path = head[6:head.index('"', 6)]
        if path.startswith(pkg) or "site-packages" in path or path.startswith("<"):
            continue
        line = head.split(", line ")[1].split(",")[0]
        return f" The forward of {node.name()[:-9] or node.name()} ran at {path}:{line}: `{code.strip()}`."
    return ""


def _has_nan(arr) -> bool:
    try:
        return bool(jnp.isnan(arr).any())
    except jax.errors.ConcretizationTypeError:  # traced (inside mt.jit): cannot look at values
        return False


def _with_note(e: Exception, note: str) -> Exception:
    """The same kind of exception as ``e`` with ``note`` appended to its message."""
    try:
        new = type(e)(f"{e}\n\n{note}")
    except Exception:
        new = e
        new.add_note(note)
    return new


def run_backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``torch.autograd.backward``: accumulate d(tensors)/d(leaves) into the leaves' ``.grad``."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = _make_root_grads(tensors, grad_tensors, create_graph)
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = (inputs,)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        captured = grad(tensors, tuple(inputs), root_grads, retain_graph, create_graph,
                        allow_unused=True, _checked=True)
        for t, g in zip(inputs, captured):
            if g is None:
                continue
            g = g if create_graph else _wrap(g._data)
            t._grad = g if t._grad is None else _add(t._grad, g, create_graph)
            acc = t._acc  # torch runs an input's AccumulateGrad node: its hooks (post-accumulate ones) too
            if acc is not None and acc._hooks:
                for h in list(acc._hooks):
                    h((), (g,))
        return
    _run(tensors, root_grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False, _checked=False):
    """``torch.autograd.grad``: the gradients of ``outputs`` w.r.t. ``inputs``, without touching ``.grad``.

    Args:
        outputs: a Tensor or sequence of Tensors to differentiate.
        inputs: a Tensor or sequence of Tensors to differentiate with respect to.
        grad_outputs: the vector in the vector-Jacobian product (defaults to ones for scalars).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass, for higher-order derivatives.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.

    Returns:
        A tuple with one gradient (or None) per input.
    """
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True): use mt.func.vmap instead")
    single_out = isinstance(outputs, Tensor)
    outputs = (outputs,) if single_out else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    if _checked:
        root_grads = grad_outputs
    else:
        if grad_outputs is None:
            grad_outputs = (None,) * len(outputs)
        elif isinstance(grad_outputs, Tensor):
            grad_outputs = (grad_outputs,)
        root_grads = _make_root_grads(outputs, grad_outputs, create_graph)
    capture = {}
    slots = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not require "
                               "grad")
        edge = edge_of(t)
        slot = capture.get(edge)
        if slot is None:
            slot = capture[edge] = [None]
        slots.append(slot)
    # a root that is itself an input receives its grad_output directly
    _run(outputs, root_grads, retain_graph, create_graph, capture=capture)
    result = []
    for i, (t, slot) in enumerate(zip(inputs, slots)):
        g = slot[0]
        if g is None:
            if materialize_grads:
                g = _wrap(jnp.zeros(t._data.shape, t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}], shape {list(t.shape)}) "
                    "appears to not have been used in the graph. Set allow_unused=True if this is "
                    "the desired behavior.")
        result.append(g)
    return tuple(result)
