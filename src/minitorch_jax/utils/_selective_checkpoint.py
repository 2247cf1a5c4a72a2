"""Selective activation checkpointing (torch's SAC): choose, per op, what a checkpoint keeps.

``checkpoint(fn, *args, use_reentrant=False,
context_fn=functools.partial(create_selective_checkpoint_contexts, policy_fn))`` calls
``policy_fn(ctx, op, *args, **kwargs)`` for every op that ``fn`` runs (``op`` an object of
``mt.ops.aten``, see :mod:`minitorch_jax.ops` for how minitorch_jax's ops are named); outputs of ops
given ``MUST_SAVE``/``PREFER_SAVE`` are kept for the backward pass, all others are recomputed.

How it works here: while the checkpointed function is traced, a hook in the op dispatch
(``_ops._registry.DISPATCH_HOOK``) asks the policy about each op call and tags the outputs of the
saved ones with ``jax.ad_checkpoint.checkpoint_name``; the function is run as
``jax.vjp(jax.checkpoint(fn, policy=<save exactly those names>))``, so the forward keeps the
inputs and the tagged outputs only and the backward recomputes the rest (eagerly, the tape node
holds the vjp's residuals; inside ``mt.jit`` this is one XLA program, the recomputation behind an
optimization barrier).

Differences from torch, by design:

* The policy is called once per op, during the forward (torch 2.13 does the same:
  ``ctx.is_recompute`` is always False), with ``ctx.op_output`` set. The arguments it gets are the
  minitorch_jax op's (``linear``'s ``input, weight, bias``, not ``addmm``'s ``bias, input, weight.t()``).
* ``PREFER_*`` are the same as ``MUST_*`` (no compiler overrides them), and ``*_CPU_OFFLOAD`` is
  treated as save (the value stays on the device).
* A returned value that is not a ``CheckpointPolicy`` counts as recompute (bools as in torch:
  True is ``MUST_SAVE``, False ``PREFER_RECOMPUTE``); torch behaves the same, without an error.
* JAX arrays are immutable, so a saved value cannot be changed in place afterwards:
  ``allow_cache_entry_mutation`` is accepted and checked, with nothing to do.
* The recomputation is of the traced program, not of Python: the function must be traceable
  (no ``.item()``/data-dependent Python control flow, as under ``mt.jit``).
"""

from __future__ import annotations

import contextlib
import enum
import itertools

import jax
from jax.ad_checkpoint import checkpoint_name

from .. import _dtype
from .._autograd_graph import Node, edge_of
from .._ops import _registry
from .._tensor import Tensor, _wrap
from ..ops import OpOverload, aten, aten_overload

__all__ = ["CheckpointPolicy", "SelectiveCheckpointContext", "create_selective_checkpoint_contexts",
           "SAC_IGNORED_OPS"]


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output.

    ``MUST_SAVE``/``PREFER_SAVE``: kept from the forward, not recomputed in backward.
    ``MUST_RECOMPUTE``/``PREFER_RECOMPUTE``: not kept, recomputed in backward.
    ``MUST_CPU_OFFLOAD``/``PREFER_CPU_OFFLOAD``: torch moves the value to the CPU; here it is saved.
    """

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_SAVE = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE, CheckpointPolicy.MUST_CPU_OFFLOAD,
         CheckpointPolicy.PREFER_CPU_OFFLOAD)

# torch ignores these (metadata/detach); of them, minitorch_jax has aten.detach
SAC_IGNORED_OPS = {aten.detach.default}


class SelectiveCheckpointContext:
    """What a policy function gets as ``ctx``: ``is_recompute`` (always False: the policy runs in
    the forward only, as in torch 2.13) and ``op_output`` (the op's result)."""

    def __init__(self, *, is_recompute, op_output=None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


class _SavePolicy:
    """The ``jax.checkpoint`` policy: save exactly the names chosen while tracing."""

    def __init__(self):
        self.names: list[str] = []
        self._inner = None

    def __call__(self, prim, *avals, **params):
        if self._inner is None:  # the trace is complete when JAX first asks
            self._inner = jax.checkpoint_policies.save_only_these_names(*self.names)
        return self._inner(prim, *avals, **params)


_REGION = itertools.count()
_ACTIVE: list = []  # the recording forward contexts, innermost last


def _tensors_in(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [x for x in out if isinstance(x, Tensor)]
    return []


def _hook(op, targs, rest, kwargs):
    rec = _ACTIVE[-1]
    _registry.DISPATCH_HOOK = None  # neither the op nor the policy function is hooked again
    try:
        out = _registry.dispatch(op, targs, rest, kwargs)
        overload = aten_overload(op, targs, rest, kwargs)
        if overload in SAC_IGNORED_OPS:
            return out
        policy = rec.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=out),
                               overload, *targs, *rest, **kwargs)
    finally:
        _registry.DISPATCH_HOOK = _hook
    if isinstance(policy, bool):
        policy = CheckpointPolicy.MUST_SAVE if policy else CheckpointPolicy.PREFER_RECOMPUTE
    save = policy in _SAVE
    rec.decisions.append((overload, policy))
    if save and rec.jax_policy is not None:
        for t in _tensors_in(out):
            name = f"mt_sac{rec.region}_{len(rec.jax_policy.names)}_{overload}"
            t._data = checkpoint_name(t._data, name)
            rec.jax_policy.names.append(name)
    return out


class _SACForwardContext:
    """The forward half of :func:`create_selective_checkpoint_contexts`: while entered, every op
    call asks the policy and (inside a checkpoint) tags the outputs to save.

    ``decisions`` lists ``(op, policy)`` of the last forward.
    """

    def __init__(self, policy_fn):
        self.policy_fn = policy_fn
        self.decisions: list = []
        self.jax_policy = None
        self.region = None
        self._prev = []

    @contextlib.contextmanager
    def _recording(self, jax_policy):
        prev = self.jax_policy
        self.jax_policy = jax_policy
        self.region = next(_REGION)
        try:
            with self:
                yield
        finally:
            self.jax_policy = prev

    def __enter__(self):
        self.decisions = []
        self._prev.append(_registry.DISPATCH_HOOK)
        _ACTIVE.append(self)
        _registry.DISPATCH_HOOK = _hook
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        _registry.DISPATCH_HOOK = self._prev.pop()
        return False


class _SACRecomputeContext(contextlib.nullcontext):
    """The recomputation half: nothing to do (the recomputation replays the traced program)."""

    def __init__(self, allow_cache_entry_mutation=False):
        super().__init__()
        self.allow_cache_entry_mutation = allow_cache_entry_mutation


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The two contexts for ``checkpoint(..., context_fn=...)`` that make checkpointing selective.

    Args:
        policy_fn_or_list: a function ``policy_fn(ctx, op, *args, **kwargs) -> CheckpointPolicy``
            (``ctx`` a :class:`SelectiveCheckpointContext`, ``op`` an ``mt.ops.aten`` overload such
            as ``mt.ops.aten.mm.default``), or a list of overloads to save (all other ops are
            recomputed).
        allow_cache_entry_mutation: accepted (saved values are immutable JAX arrays).

    Returns:
        ``(forward context, recomputation context)``; use it as
        ``context_fn=functools.partial(create_selective_checkpoint_contexts, policy_fn)``.
    """
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, OpOverload):
                extra = ("Please update the OpOverloadPacket to a specific OpOverload."
                         "For example, if you have `torch.ops.aten.mm`, change it to "
                         "`torch.ops.aten.mm.default`.") if hasattr(op, "overloads") else ""
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} "
                                 f"of type {type(op)}. {extra}")
        ops = list(policy_fn_or_list)

        def policy_fn(ctx, op, *args, **kwargs):
            return CheckpointPolicy.MUST_SAVE if op in ops else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    return _SACForwardContext(policy_fn), _SACRecomputeContext(allow_cache_entry_mutation)


# ----- running a checkpoint selectively (called by checkpoint._run) ---------------------------
def _inexact(a) -> bool:
    return _dtype.is_inexact(a.dtype)


def _split_fn(pure, fwd_ctx, jax_policy, layout):
    """``pure`` as ``xs -> (differentiable outputs, (other outputs, mutated, keys))``, recording."""
    def f(*arrays):
        with fwd_ctx._recording(jax_policy):
            arrays_out, mutated, keys = pure(*arrays)
        keep = [i for i, a in enumerate(arrays_out) if _inexact(a)]
        layout[:] = [keep, len(arrays_out)]
        rest = [a for i, a in enumerate(arrays_out) if i not in keep]
        return tuple(arrays_out[i] for i in keep), (rest, mutated, keys)
    return f


def _merge(layout, diff_out, rest):
    keep, n = layout
    it_d, it_r = iter(diff_out), iter(rest)
    return [next(it_d) if i in keep else next(it_r) for i in range(n)]


def run_recorded(pure, diff, xs, fwd_ctx):
    """The tape-recording path (eager, or traced inside ``mt.jit``): one node holding the vjp."""
    jax_policy = _SavePolicy()
    layout: list = []
    f = jax.checkpoint(_split_fn(pure, fwd_ctx, jax_policy, layout), policy=jax_policy)
    diff_out, vjp_fn, (rest, mutated, keys) = jax.vjp(f, *xs, has_aux=True)
    pure.write_back(mutated, keys)
    outs = [_wrap(a) for a in _merge(layout, diff_out, rest)]
    keep = layout[0]
    if keep:
        node = SelectiveCheckpointFunctionBackward.__new__(SelectiveCheckpointFunctionBackward)
        Node.__init__(node, tuple(edge_of(t) for t in diff),
                      tuple((outs[i]._data.shape, outs[i]._data.dtype) for i in keep))
        again = _SavePolicy()  # create_graph=True differentiates a fresh trace
        node._fn = jax.checkpoint(lambda *a: _split_fn(pure, fwd_ctx, again, [])(*a)[0], policy=again)
        node._inputs = tuple(diff)
        node._xs = tuple(xs)
        node._vjp = vjp_fn
        for nr, i in enumerate(keep):
            o = outs[i]
            o.requires_grad = True
            o.grad_fn = node
            o._output_nr = nr
    return pure.outputs(outs)


def run_transformed(pure, diff, fwd_ctx):
    """Under a JAX transform with the tape off: ``jax.checkpoint`` with the selective policy."""
    jax_policy = _SavePolicy()
    layout: list = []
    f = jax.checkpoint(_split_fn(pure, fwd_ctx, jax_policy, layout), policy=jax_policy)
    diff_out, (rest, mutated, keys) = f(*[t._data for t in diff])
    pure.write_back(mutated, keys)
    return pure.outputs([_wrap(a) for a in _merge(layout, diff_out, rest)])


def _node_base():
    from .checkpoint import CheckpointFunctionBackward
    return CheckpointFunctionBackward


class SelectiveCheckpointFunctionBackward(_node_base()):
    """The tape node of a selectively checkpointed call: holds the saved values (the vjp's
    residuals) and recomputes the rest in backward."""

    __slots__ = ("_vjp",)

    def _apply(self, grads, create_graph):
        if create_graph or self._vjp is None:
            return super()._apply(grads, create_graph)
        cts = tuple(g._data.astype(dt) if g is not None else jax.numpy.zeros(shape, dt)
                    for g, (shape, dt) in zip(grads, self._out_meta))
        res = self._vjp(cts)
        return [None if e[0] is None else _wrap(r) for r, e in zip(res, self.next_functions)]

    def _release(self) -> None:
        self._freed = True
        self._xs = None
        self._vjp = None
