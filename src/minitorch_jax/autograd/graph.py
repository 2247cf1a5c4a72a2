"""``torch.autograd.graph``: the backward graph's node type, graph helpers and saved-tensor hooks.

``saved_tensors_hooks``/``save_on_cpu`` intercept the tensors minitorch_jax saves explicitly (registry
``saves=`` inputs/outputs and ``ctx.save_for_backward``), not JAX's internal vjp residuals (see the note
above ``saved_tensors_hooks``). ``allow_mutation_on_saved_tensors`` only lifts the in-place check (saved
values are immutable JAX arrays). The ``set_*`` stream switches are recorded, with no effect (no CUDA).
"""

from __future__ import annotations

import threading as _threading
import weakref as _weakref

import jax as _jax

from .. import _autograd_graph as _ag
from .._autograd_graph import AccumulateGrad, Node
from .._ops import _registry as _reg
from .._tensor import Tensor

__all__ = ["Node", "AccumulateGrad", "increment_version", "get_gradient_edge", "GradientEdge",
           "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "register_multi_grad_hook",
           "allow_mutation_on_saved_tensors", "set_warn_on_accumulate_grad_stream_mismatch",
           "set_override_stale_capture_stream"]


class GradientEdge(tuple):
    """``(node, output_nr)``: where a tensor's gradient enters the graph."""

    __slots__ = ()

    def __new__(cls, node, output_nr):
        return super().__new__(cls, (node, output_nr))

    @property
    def node(self):
        """The node receiving the gradient."""
        return self[0]

    @property
    def output_nr(self) -> int:
        """Which output of ``node`` the tensor is."""
        return self[1]


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The graph edge of ``tensor`` (its grad_fn and output number, or its AccumulateGrad node)."""
    from .._autograd_graph import edge_of
    node, nr = edge_of(tensor)
    if node is None:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not "
                           "require gradients")
    return GradientEdge(node, nr)


def increment_version(tensor) -> None:
    """Bump the version counter of ``tensor`` (or of each tensor in a sequence)."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._version += 1


# ----- saved-tensor hooks ----------------------------------------------------------------------------
# What is packed: minitorch_jax's op nodes differentiate with jax.vjp of the op's kernel, so JAX's own
# residuals cannot be intercepted. What mt saves explicitly is: the inputs an op declares in its
# registry entry (``saves=(0, 1)``), the output for ``saves="output"`` ops, and the tensors of
# ``ctx.save_for_backward`` in a custom Function. Those are packed when the node is recorded and
# unpacked when the node runs in backward (or when ``ctx.saved_tensors`` is read). Ops declaring no
# saved tensors (sum, add, reshape ...) pack nothing - as in torch, where those ops save no tensor.
# Differences from torch: mt packs what its registry declares whether or not the other inputs require
# grad (torch's ``mul`` skips ``other`` when ``self`` needs no grad), and ``linear`` packs its weight as
# stored, (out, in), where torch packs ``weight.t()``, (in, out). The node still references its input
# Tensors (needed for ``create_graph``), so save_on_cpu round-trips values through host memory but does
# not free device memory.


class _HookState(_threading.local):
    def __init__(self):
        self.stack = []          # active (pack_hook, unpack_hook) pairs, innermost last
        self.disabled = None     # the error message of an active disable_saved_tensors_hooks
        self.allow_mutation = None  # the active allow_mutation_on_saved_tensors context


_STATE = _HookState()
_PACKED = _weakref.WeakKeyDictionary()   # op node -> (xs with holes, [(pos, unpack, packed)], out slot)
_PACKED_CLS: dict = {}


_ACTIVE = [0]   # hook/allow-mutation contexts open in any thread (the registry hook is process-wide)


def _refresh_registry_hook(delta: int) -> None:
    _ACTIVE[0] += delta
    _reg.SAVED_TENSORS_HOOK = _on_record if _ACTIVE[0] > 0 else None
    if delta > 0:
        _install_function_hooks()


def _unpacked(unpack, packed) -> Tensor:
    t = unpack(packed)
    if not isinstance(t, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{type(t).__name__}")
    return t


def _packed_apply(self, grads, create_graph):
    entry = _PACKED.get(self)
    if entry is None:
        return type(self).__mro__[1]._apply(self, grads, create_graph)
    xs, slots = entry
    xs = list(xs)
    for pos, unpack, packed in slots:
        t = _unpacked(unpack, packed)
        if pos is not None:
            xs[pos] = t._data
    self._xs = xs
    try:
        return type(self).__mro__[1]._apply(self, grads, create_graph)
    finally:
        self._xs = None   # keeps the fused whole-graph backward off this node (it reads _xs directly)


def _packed_release(self) -> None:
    self._freed = True
    _PACKED.pop(self, None)


def _packed_check(self) -> None:
    if self._freed and self not in _PACKED:
        _ag.Node._check_not_freed(self)


def _packed_class(cls):
    sub = _PACKED_CLS.get(cls)
    if sub is None:
        sub = _PACKED_CLS[cls] = type(cls.__name__, (cls,), {
            "__slots__": (), "_apply": _packed_apply, "_release": _packed_release,
            "_check_not_freed": _packed_check, "__module__": cls.__module__})
    return sub


def _on_record(node, targs, outs) -> None:
    """The registry's SAVED_TENSORS_HOOK: pack what the op saves / drop its version checks."""
    if _STATE.allow_mutation is not None:
        node._versions = ()   # the node keeps the original (immutable) arrays: mutation is harmless
    if not _STATE.stack:
        return
    pack, unpack = _STATE.stack[-1]
    saves = node._op.saves
    if not saves:
        return
    slots = []
    xs = list(node._xs)
    if saves == "output":
        for o in outs:
            # grad_out ops backpropagate from the output (xs[0]); the others re-run from their inputs
            slots.append((0 if node._from_out else None, unpack, pack(o)))
        if node._from_out:
            xs[0] = None
    else:
        for i in saves:
            if i < len(targs) and isinstance(targs[i], Tensor):
                slots.append((i, unpack, pack(targs[i])))
                xs[i] = None
    _PACKED[node] = (xs, slots)
    node._xs = None
    node.__class__ = _packed_class(type(node))


# custom Functions: ctx.save_for_backward packs, ctx.saved_tensors unpacks (installed on first use)
_FN_INSTALLED = []


def _install_function_hooks() -> None:
    if _FN_INSTALLED:
        return
    from .function import FunctionCtx
    orig_save = FunctionCtx.save_for_backward
    orig_get = FunctionCtx.saved_tensors.fget

    def save_for_backward(self, *tensors):
        orig_save(self, *tensors)
        if _STATE.allow_mutation is not None:   # torch keeps the saved values, not later mutations
            self._to_save = tuple(None if t is None else _snapshot(t) for t in tensors)
        if _STATE.stack and any(getattr(self, "needs_input_grad", ())):
            pack, unpack = _STATE.stack[-1]
            self._mt_packed = tuple(None if t is None else (unpack, pack(t)) for t in tensors)

    save_for_backward.__doc__ = orig_save.__doc__

    def saved_tensors(self):
        saved = orig_get(self)
        packed = self.__dict__.get("_mt_packed")
        if packed is None or not saved:
            return saved
        return tuple(None if p is None else _unpacked(*p) for p in packed)

    saved_tensors.__doc__ = orig_get.__doc__
    FunctionCtx.save_for_backward = save_for_backward
    FunctionCtx.saved_tensors = FunctionCtx.saved_variables = property(saved_tensors)
    _FN_INSTALLED.append(True)


def _snapshot(t: Tensor) -> Tensor:
    from .._tensor import _wrap
    s = _wrap(t._data)
    s.requires_grad = t.requires_grad
    s.grad_fn = t.grad_fn
    s._output_nr = t._output_nr
    return s


class saved_tensors_hooks:
    """Context manager: pack/unpack hooks for the tensors saved for backward.

    ``pack_hook(tensor)`` runs when an op or custom Function saves ``tensor`` for backward and may
    return any object; ``unpack_hook(packed)`` runs when backward needs it and must return a Tensor
    with the original's value. Hooks nest (the innermost pair is used) and are thread-local.

    What minitorch_jax saves (so packs): the inputs an op's registry entry declares (``mul``: both
    operands; ``linear``: input and weight - as stored, ``(out, in)``, where torch packs ``weight.t()``),
    the output of ``saves="output"`` ops (``exp``, ``tanh``, ``relu``), and the tensors given to
    ``ctx.save_for_backward``. Other residuals live inside JAX's vjp and are not seen.

    Example::

        shapes = []
        with mt.autograd.graph.saved_tensors_hooks(lambda t: shapes.append(t.shape) or t, lambda t: t):
            loss = model(x).sum()
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _STATE.disabled is not None:
            raise RuntimeError(_STATE.disabled)
        _STATE.stack.append((self.pack_hook, self.unpack_hook))
        _refresh_registry_hook(1)
        return self

    def __exit__(self, *exc):
        _STATE.stack.pop()
        _refresh_registry_hook(-1)


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are moved to host (CPU) memory when saved and back to their device in backward.

    Args:
        pin_memory: accepted (JAX manages host buffers itself).
        device_type: accepted for compatibility (values go back to the device they came from).

    Inside ``mt.jit`` (traced values) tensors are kept where they are. The graph node still holds
    its input Tensors, so device memory is not actually released (see :class:`saved_tensors_hooks`).
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        cpu = _jax.devices("cpu")[0]

        def pack(t):
            arr = t._data
            if isinstance(arr, _jax.core.Tracer):
                return (None, t)
            return (arr.sharding, _jax.device_put(arr, cpu))

        def unpack(packed):
            from .._tensor import _wrap
            sharding, val = packed
            if sharding is None:
                return val
            return _wrap(_jax.device_put(val, sharding))

        super().__init__(pack, unpack)
        self.pin_memory = pin_memory
        self.device_type = device_type


class disable_saved_tensors_hooks:
    """Context manager (and decorator) under which saved-tensor hooks are disabled: entering
    :class:`saved_tensors_hooks` raises ``RuntimeError(error_message)``, as does entering this
    while hooks are active."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        if _STATE.stack:
            raise RuntimeError(self.error_message)
        self._prev = _STATE.disabled
        _STATE.disabled = self.error_message

    def __exit__(self, *exc):
        _STATE.disabled = self._prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


class _AllowMutationOnSavedContext:
    """The object ``allow_mutation_on_saved_tensors`` yields (kept for API compatibility)."""

    def clear(self) -> None:
        """Nothing to clear: minitorch_jax keeps no cloned copies."""


class allow_mutation_on_saved_tensors:
    """Context manager: tensors saved for backward inside it may be modified in place afterwards.

    torch clones a saved tensor before it is mutated. minitorch_jax's graph nodes already hold the
    saved values as immutable JAX arrays (an in-place op rebinds the tensor to a new array), so this
    only turns off the "modified by an inplace operation" check for nodes recorded inside it, and makes
    ``ctx.save_for_backward`` keep the values as they were. (A ``create_graph=True`` backward re-reads
    the input Tensors and so sees the mutation.)
    """

    def __enter__(self):
        if _STATE.allow_mutation is not None:
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        ctx = _STATE.allow_mutation = _AllowMutationOnSavedContext()
        _refresh_registry_hook(1)
        return ctx

    def __exit__(self, *exc):
        _STATE.allow_mutation = None
        _refresh_registry_hook(-1)


# ----- multi-tensor gradient hooks ------------------------------------------------------------------
class _MultiHandle:
    """Removes every per-tensor hook of one ``register_multi_grad_hook`` call."""

    def __init__(self, handles, state=None):
        self.handles = handles
        self._state = state

    def remove(self) -> None:
        """Unregister the hook."""
        for h in self.handles:
            h.remove()
        if self._state is not None and self._state in _ALL_MODE:
            _ALL_MODE.remove(self._state)
            _refresh_end_hook()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_ALL_MODE: list = []


class _AllState:
    __slots__ = ("fn", "n", "grads", "run")

    def __init__(self, fn, n):
        self.fn = fn
        self.n = n
        self.grads = None
        self.run = -1


def _refresh_end_hook() -> None:
    _ag.BACKWARD_END_HOOK = _on_backward_end if _ALL_MODE else None


def _on_backward_end() -> None:
    for st in list(_ALL_MODE):
        if st.grads is not None and st.run == _ag.BACKWARD_RUNS[0]:
            grads, st.grads = st.grads, None
            st.fn(grads)


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """Call ``fn`` once per backward pass that computes gradients for ``tensors``.

    Args:
        tensors: a sequence of Tensors that require grad.
        fn: with ``mode="all"``, ``fn(grads)`` gets a list with one gradient per tensor (None for
            tensors this pass did not reach), after the pass; with ``mode="any"``, ``fn(grad)`` gets
            the first gradient computed among ``tensors`` in the pass.
        mode: ``"all"`` or ``"any"``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.

    ("all" fires when the backward pass ends, where torch fires as soon as the last of the tensors'
    gradients is ready; a backward run from inside a hook is not told apart from its outer pass.)
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"register_multi_grad_hook: tensors[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"register_multi_grad_hook: cannot register a hook on a tensor that doesn't "
                               f"require gradient (tensors[{i}])")
    if mode == "any":
        last = [-1]

        def any_hook(g):
            run = _ag.BACKWARD_RUNS[0]
            if last[0] != run:
                last[0] = run
                fn(g)

        return _MultiHandle([t.register_hook(any_hook) for t in tensors])
    st = _AllState(fn, len(tensors))

    def make(i):
        def hook(g):
            run = _ag.BACKWARD_RUNS[0]
            if st.grads is None or st.run != run:
                st.grads = [None] * st.n
                st.run = run
            st.grads[i] = g
        return hook

    handles = [t.register_hook(make(i)) for i, t in enumerate(tensors)]
    _ALL_MODE.append(st)
    _refresh_end_hook()
    return _MultiHandle(handles, st)


# ----- recorded switches ----------------------------------------------------------------------------
_SWITCHES = {"warn_on_accumulate_grad_stream_mismatch": True, "override_stale_capture_stream": False}


def set_warn_on_accumulate_grad_stream_mismatch(enabled: bool) -> None:
    """Whether to warn when AccumulateGrad's stream differs from the producer's (recorded only: JAX
    orders device work itself, there are no user streams to mismatch)."""
    _SWITCHES["warn_on_accumulate_grad_stream_mismatch"] = bool(enabled)


def set_override_stale_capture_stream(enabled: bool) -> None:
    """CUDA-graph-capture stream override switch (recorded only: no CUDA graph capture here)."""
    _SWITCHES["override_stale_capture_stream"] = bool(enabled)
