"""``torch.utils.checkpoint``: activation checkpointing (trade compute for memory).

``checkpoint(function, *args)`` returns what ``function(*args)`` returns, but keeps none of the
function's intermediate values for the backward pass: only its inputs (and the parameters it
reads) are kept, and the forward is run again inside the backward.

How it works here: the tensors the function reads (its tensor arguments and every tensor
reachable from its closure, its ``self`` and its non-tensor arguments, found by the same walk as
``mt.jit``'s state capture) are swapped for plain arrays, which turns the call into a pure JAX
function of those arrays. The forward runs that function once with autograd recording off; ONE
tape node (``CheckpointFunctionBackward``) is recorded whose backward is
``jax.vjp(jax.checkpoint(pure), *saved_inputs)``, i.e. the recomputation. Inside ``mt.jit`` the
same node is traced into the compiled program, and ``jax.checkpoint`` stops XLA from merging the
recomputation with the forward, so XLA rematerializes; under JAX transforms with the tape off
(``mt.func``, ``mt.jit``'s differentiated mode) the call becomes ``jax.checkpoint`` directly.

With ``preserve_rng_state=True`` (the default) the random key of every generator the function
uses (the global one included) is set back to its forward-time value for the recomputation, so
dropout draws the same mask.

Differences from torch, by design:

* ``use_reentrant`` only changes the checks and warnings (the two torch variants differ in their
  implementation, which does not exist here): with ``use_reentrant=True`` the outputs require
  grad only if a tensor argument does (torch's reentrant rule), and ``autograd.grad`` through
  the checkpoint works (torch's reentrant variant raises there).
* A buffer the function updates in place (BatchNorm's running statistics) is updated once, by
  the forward; torch updates it a second time during the recomputation.
* ``determinism_check`` and ``debug`` are accepted and checked; the recomputation is the same
  JAX program, so there is nothing to compare.
"""

from __future__ import annotations

import contextlib
import warnings

import jax

from .. import _autocast_state, _dtype, _grad_mode
from .._autograd_graph import Node, edge_of
from .._tensor import Tensor, _wrap
from ..func import FuncTransformBackward

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "check_backward_validity", "detach_variable", "noop_context_fn",
           "set_checkpoint_early_stop", "set_checkpoint_debug_enabled",
           # selective checkpointing and device helpers (_selective_checkpoint*.py)
           "CheckpointPolicy", "SelectiveCheckpointContext", "create_selective_checkpoint_contexts",
           "SAC_IGNORED_OPS", "get_device_states", "set_device_states", "DefaultDeviceType",
           "GraphExecGroup"]

_DETERMINISM_CHECKS = ["default", "none"]


class CheckpointError(RuntimeError):
    """Raised when a recomputation does not match its forward (torch's ``CheckpointError``)."""


def noop_context_fn():
    """The default ``context_fn``: two null contexts (forward, recomputation)."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def check_backward_validity(inputs) -> None:
    """Warn if no tensor in ``inputs`` requires grad (the reentrant checkpoint's check)."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3)


def detach_variable(inputs):
    """A tuple of ``inputs`` detached, each keeping its ``requires_grad`` flag."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Accepted for torch compatibility (the recomputation always runs the whole function)."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Accepted for torch compatibility (there is no recomputation log to print)."""
    yield


class CheckpointFunctionBackward(FuncTransformBackward):
    """The tape node of one checkpointed call: its backward recomputes the forward."""

    __slots__ = ()
    _saves = True

    def _release(self) -> None:
        self._freed = True
        self._xs = None


class CheckpointFunction:
    """torch's reentrant implementation class; here :func:`checkpoint` with ``use_reentrant=True``."""

    @staticmethod
    def apply(run_function, preserve_rng_state, *args):
        """``checkpoint(run_function, *args, use_reentrant=True, preserve_rng_state=...)``."""
        return _run(run_function, args, {}, preserve_rng_state, True, noop_context_fn)


# ----- the pure function ---------------------------------------------------------------------
def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


class _Pure:
    """``function(*args, **kwargs)`` as a pure function of the arrays of ``diff`` tensors.

    Every other tensor it reads is pinned to its value at construction; generator keys too
    (when preserving the RNG state). One call returns ``(output arrays, mutated arrays, keys)``;
    the first call records the output structure and which tensors the function rebinds.
    """

    def __init__(self, function, args, kwargs, preserve, recompute_ctx):
        from ..jit._capture import discover, roots_of
        self.function, self.args, self.kwargs = function, args, kwargs
        leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=_is_tensor)
        cap = discover(roots_of(function, args, kwargs))
        seen = set()
        tensors = []
        for t in [x for x in leaves if isinstance(x, Tensor)] + cap.tensors:
            if id(t) not in seen:
                seen.add(id(t))
                tensors.append(t)
        self.tensors = tensors
        self.snapshot = [t._data for t in tensors]
        self.gens = cap.generators
        self.keys0 = [g._key for g in self.gens] if preserve else None
        self.recompute_ctx = recompute_ctx
        self.autocast = _autocast_state.STATE[0]  # the recomputation runs under the forward's autocast
        self.diff_idx: list = []
        self.out_def = None
        self.out_pos = None
        self.out_leaves = None
        self.mutated = None
        self.first = True

    def choose_diff(self, pick) -> list:
        """Fix which tensors are the function's arguments (``pick(tensor)`` True); returns them."""
        self.diff_idx = [i for i, t in enumerate(self.tensors) if pick(t)]
        return [self.tensors[i] for i in self.diff_idx]

    def __call__(self, *diff_arrays):
        tensors = self.tensors
        put = list(self.snapshot)
        for i, a in zip(self.diff_idx, diff_arrays):
            put[i] = a
        saved = [t._data for t in tensors]
        saved_keys = [g._key for g in self.gens]
        state = _grad_mode.STATE
        prev = state.grad
        prev_autocast = _autocast_state.STATE[0]
        first = self.first
        try:
            _autocast_state.STATE[0] = self.autocast
            for t, a in zip(tensors, put):
                t._data = a
            if self.keys0 is not None:
                for g, k in zip(self.gens, self.keys0):
                    g._key = k
            state.grad = False
            ctx = contextlib.nullcontext() if first else self.recompute_ctx
            with ctx:
                out = self.function(*self.args, **self.kwargs)
            state.grad = prev
            leaves, out_def = jax.tree_util.tree_flatten(out, is_leaf=_is_tensor)
            pos = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
            arrays = [leaves[i]._data for i in pos]
            if first:
                self.first = False
                self.out_def, self.out_pos, self.out_leaves = out_def, pos, leaves
                self.mutated = [i for i, t in enumerate(tensors) if t._data is not put[i]]
            mutated = [tensors[i]._data for i in self.mutated]
            keys = [g._key for g in self.gens]
            return arrays, mutated, keys
        finally:
            state.grad = prev
            _autocast_state.STATE[0] = prev_autocast
            for t, d in zip(tensors, saved):
                t._data = d
            for g, k in zip(self.gens, saved_keys):
                g._key = k

    def write_back(self, mutated, keys) -> None:
        """Put the forward's updates of captured tensors and generator keys into the objects."""
        for i, a in zip(self.mutated, mutated):
            t = self.tensors[i]
            t._data = a
            t._version += 1
        for g, k in zip(self.gens, keys):
            g._key = k

    def outputs(self, out_tensors):
        """The function's output structure with ``out_tensors`` in place of its tensors."""
        leaves = list(self.out_leaves)
        for i, t in zip(self.out_pos, out_tensors):
            leaves[i] = t
        return jax.tree_util.tree_unflatten(self.out_def, leaves)


def _inexact(t: Tensor) -> bool:
    return _dtype.is_inexact(t._data.dtype)


def _run(function, args, kwargs, preserve, reentrant, context_fn):
    fwd_ctx, recompute_ctx = context_fn()
    selective = isinstance(fwd_ctx, _sac._SACForwardContext)
    if reentrant:
        check_backward_validity(args)
    pure = _Pure(function, args, kwargs, preserve, recompute_ctx)
    grad_on = _grad_mode.STATE.grad
    if reentrant:
        record = grad_on and any(isinstance(a, Tensor) and a.requires_grad for a in args)
    else:
        record = grad_on and any(t.requires_grad and _inexact(t) for t in pure.tensors)
    if record:
        diff = pure.choose_diff(lambda t: t.requires_grad and _inexact(t))
        xs = [t._data for t in diff]
        if selective:
            return _sac.run_recorded(pure, diff, xs, fwd_ctx)
        with fwd_ctx:
            arrays, mutated, keys = pure(*xs)
        pure.write_back(mutated, keys)
        outs = [_wrap(a) for a in arrays]
        keep = [i for i, o in enumerate(outs) if _inexact(o)]
        if keep:
            _connect(pure, diff, xs, outs, keep)
        return pure.outputs(outs)
    traced = [t for t in pure.tensors if isinstance(t._data, jax.core.Tracer)]
    if not traced:  # nothing to differentiate: a plain call
        if selective:  # torch does not enter the contexts then either
            return _plain(function, args, kwargs, reentrant and grad_on)
        with fwd_ctx:
            return _plain(function, args, kwargs, reentrant and grad_on)
    # under a JAX transform with the tape off (mt.func, mt.jit's differentiated mode)
    diff = pure.choose_diff(lambda t: isinstance(t._data, jax.core.Tracer) and _inexact(t))
    if selective:
        return _sac.run_transformed(pure, diff, fwd_ctx)
    with fwd_ctx:
        arrays, mutated, keys = jax.checkpoint(pure)(*[t._data for t in diff])
    pure.write_back(mutated, keys)
    return pure.outputs([_wrap(a) for a in arrays])


def _plain(function, args, kwargs, no_grad):
    if not no_grad:
        return function(*args, **kwargs)
    with _grad_mode.no_grad():
        return function(*args, **kwargs)


def _connect(pure, diff, xs, outs, keep):
    """Record the node computing the inexact outputs ``outs[keep]`` from ``diff``."""
    def recompute(*arrays):
        res = pure(*arrays)[0]
        return tuple(res[i] for i in keep)

    node = CheckpointFunctionBackward.__new__(CheckpointFunctionBackward)
    Node.__init__(node, tuple(edge_of(t) for t in diff),
                  tuple((outs[i]._data.shape, outs[i]._data.dtype) for i in keep))
    node._fn = jax.checkpoint(recompute)
    node._inputs = tuple(diff)
    node._xs = tuple(xs)
    for nr, i in enumerate(keep):
        o = outs[i]
        o.requires_grad = True
        o.grad_fn = node
        o._output_nr = nr


# ----- the public functions ------------------------------------------------------------------
def checkpoint(function, *args, use_reentrant: bool | None = None, context_fn=noop_context_fn,
               determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate values for backward.

    The output is the function's; gradients (of the tensor arguments and of every parameter the
    function reads) are the same as without checkpointing. The backward pass runs the function
    again to get the intermediates back.

    Args:
        function: what to run (a Module, a bound method, a function or lambda).
        *args: its positional arguments (tensors, or anything else).
        use_reentrant: pass it explicitly (``False`` is recommended). Not passing it warns, as in
            torch 2.13, and means ``True``. With ``True``, keyword arguments, ``context_fn`` and
            ``debug`` are refused and the outputs require grad only if a tensor argument does.
        context_fn: returns two context managers, entered around the forward and around the
            recomputation (``use_reentrant=False`` only).
        determinism_check: ``"default"`` or ``"none"``.
        debug: accepted (``use_reentrant=False`` only).
        early_stop: accepted.
        preserve_rng_state (keyword, default True): the recomputation draws the same random
            numbers (dropout masks) as the forward.
        **kwargs: keyword arguments for ``function`` (``use_reentrant=False`` only).

    Returns:
        Whatever ``function`` returns (tensors, tuples, dicts, non-tensor values).
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
            "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
            "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    elif determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {_DETERMINISM_CHECKS}, but got "
                         f"{determinism_check}")
    if not callable(function):
        raise TypeError(f"checkpoint(): function must be callable, got {type(function).__name__}")
    return _run(function, args, kwargs, bool(preserve), bool(use_reentrant), context_fn)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Checkpoint a sequential model in ``segments`` chunks.

    All segments but the last are run through :func:`checkpoint`; the last runs normally.

    Args:
        functions: an ``nn.Sequential`` or a list of modules/functions run in order.
        segments: how many chunks to make.
        input: the input of the first function.
        use_reentrant: as in :func:`checkpoint` (not passing it warns and means True).
        preserve_rng_state (keyword, default True): as in :func:`checkpoint`.

    Returns:
        The output of the last function.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
            "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, funcs):
        def forward(x):
            for j in range(start, end + 1):
                x = funcs[j](x)
            return x
        return forward

    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


from . import _selective_checkpoint as _sac  # noqa: E402  (subclasses CheckpointFunctionBackward)
from ._selective_checkpoint import (  # noqa: E402
    SAC_IGNORED_OPS,
    CheckpointPolicy,
    SelectiveCheckpointContext,
    create_selective_checkpoint_contexts,
)
from ._selective_checkpoint_devices import (  # noqa: E402
    DefaultDeviceType,
    GraphExecGroup,
    get_device_states,
    set_device_states,
)
