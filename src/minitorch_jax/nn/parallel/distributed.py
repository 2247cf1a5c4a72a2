"""``DistributedDataParallel``: one model replica per process, gradients averaged by ``mt.distributed``.

How the gradients are synchronised: at construction rank 0's parameters and buffers are broadcast
to every process, and a post-hook is registered on each parameter's ``AccumulateGrad`` node. A
forward pass (with grad enabled) arms the reducer with the parameters that will receive a gradient
(all that require grad, or - with ``find_unused_parameters=True`` - those reachable from the
outputs). When the last of them has accumulated its gradient during ``backward()``, all gradients
are averaged across processes in one bucket per dtype (one ``all_reduce(AVG)`` each), in place.

Under ``mt.jit`` the same hooks run while the step is traced. A compiled ``zero_grad / forward /
backward / step`` is one SPMD program over the processes (each runs it on its own data), and the
gradient all-reduce (and the buffer broadcast) are XLA collectives inside that program, scheduled
with the rest of the step, with no host round trip. Only a compiled forward whose ``backward()`` runs
outside the compiled function still averages through the host (eager collectives, or a
``jax.pure_callback`` in the forward program for the buffer broadcast).

Notes: the hooks make autograd take its per-node path (the whole-graph fused backward does not run
graphs with hooks). ``no_sync()`` skips the averaging (gradient accumulation), as in torch.
"""

from __future__ import annotations

import contextlib

import jax.numpy as jnp

from ... import _grad_mode
from ..._autograd_graph import AccumulateGrad, _topo_order, accumulate_node
from ..._tensor import Tensor
from ...distributed import _collectives
from ...distributed import _group as _pg
from ...distributed._group import ReduceOp
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


def _tensors_in(obj, out: list) -> list:
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _tensors_in(v, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _tensors_in(v, out)
    return out


def _bucketed(tensors: list, fn) -> None:
    """Apply ``fn(flat_array) -> flat_array`` to the tensors' arrays concatenated per dtype; write back."""
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for group in by_dtype.values():
        flat = jnp.concatenate([t._data.ravel() for t in group]) if len(group) > 1 else group[0]._data.ravel()
        flat = fn(flat)
        off = 0
        for t in group:
            n = t._data.size
            t._data = flat[off:off + n].reshape(t._data.shape)
            t._version += 1
            off += n


class DistributedDataParallel(Module):
    """Data parallelism across processes (torch's ``nn.parallel.DistributedDataParallel``).

    Call ``mt.distributed.init_process_group`` first; each process then wraps its replica of the
    model and trains on its own shard of the data (``mt.utils.data.DistributedSampler``). A training
    step compiled with ``mt.jit`` averages the gradients with an XLA all-reduce inside the program.

    Args:
        module: the model; available as ``.module`` (state_dict keys gain ``module.``).
        device_ids, output_device, dim, bucket_cap_mb, gradient_as_bucket_view, static_graph:
            accepted for torch compatibility (one device per process; one bucket per dtype).
        broadcast_buffers: broadcast rank 0's buffers (e.g. BatchNorm statistics) before each
            forward (default True).
        process_group: the group whose processes hold the replicas (``mt.distributed.new_group``;
            default: every process). Only its members may construct the wrapper; parameters are
            broadcast from the group's first rank and gradients averaged over the group.
        find_unused_parameters: find the parameters the outputs do not depend on at each forward
            and do not wait for their gradients (default False: every parameter that requires
            grad must receive one, else the next forward raises, as in torch).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        if not _pg.is_initialized():
            raise ValueError("DistributedDataParallel: Default process group has not been initialized, "
                             "please make sure to call init_process_group.")
        self.module = module
        self.device_ids = device_ids
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        object.__setattr__(self, "_expected", None)
        object.__setattr__(self, "_ready", set())
        object.__setattr__(self, "_handles", [])
        group = _pg.resolve(process_group, "DistributedDataParallel")
        if group is _pg.GroupMember.NON_GROUP_MEMBER:
            raise ValueError(f"DistributedDataParallel: global rank {_pg.get_rank()} is not a member of "
                             "process_group (new_group() returned GroupMember.NON_GROUP_MEMBER here); only "
                             "the group's processes may wrap a replica")
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_world", group.size() if group is not None else _pg.get_world_size())
        self._sync_module_states()
        for p in self._grad_params():
            node = accumulate_node(p)
            self._handles.append(node.register_hook(self._make_hook(p)))

    def _grad_params(self) -> list:
        return [p for p in self.module.parameters() if p.requires_grad]

    def _sync_module_states(self) -> None:
        """Broadcast rank 0's parameters and buffers to every process (bucketed per dtype)."""
        if self._world == 1:
            return
        with _grad_mode.no_grad():
            states = list(self.module.parameters()) + list(self.module.buffers())
            _bucketed(states, lambda flat: _collectives.run("bcast", None, flat, 0, group=self._group))

    def _make_hook(self, p: Tensor):
        pid = id(p)

        def hook(grad_inputs, grad_outputs):
            exp = self._expected
            if exp is None or pid not in exp:
                return None
            self._ready.add(pid)
            if len(self._ready) == len(exp):
                self._reduce_grads()
            return None
        return hook

    def _reduce_grads(self) -> None:
        exp = self._expected
        object.__setattr__(self, "_expected", None)
        self._ready.clear()
        if self._world == 1:
            return
        grads = [p._grad for p in self._grad_params() if id(p) in exp and p._grad is not None]
        if grads:
            _bucketed(grads, lambda flat: _collectives.run("reduce", ReduceOp.AVG, flat, group=self._group))

    def _arm(self, outputs) -> None:
        params = self._grad_params()
        if self.find_unused_parameters:
            roots = [t.grad_fn if t.grad_fn is not None else (t._acc if t.requires_grad else None)
                     for t in _tensors_in(outputs, [])]
            roots = [r for r in roots if r is not None]
            nodes = _topo_order(roots) if roots else []
            reach = {id(n.variable) for n in nodes if isinstance(n, AccumulateGrad)}
            exp = {id(p) for p in params if id(p) in reach}
        else:
            exp = {id(p) for p in params}
        self._ready.clear()
        object.__setattr__(self, "_expected", exp or None)

    def forward(self, *inputs, **kwargs):
        """Run ``module``; arm the gradient averaging for the next ``backward()``."""
        if self._expected is not None and self._ready:
            missing = [n for n, p in self.module.named_parameters()
                       if p.requires_grad and id(p) in self._expected and id(p) not in self._ready]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. "
                "This error indicates that your module has parameters that were not used in producing loss "
                f"(parameters that received no gradient: {missing}). Pass find_unused_parameters=True to "
                "DistributedDataParallel, or make sure all forward outputs participate in the loss.")
        if self.broadcast_buffers and self._world > 1:
            bufs = list(self.module.buffers())
            if bufs:
                with _grad_mode.no_grad():
                    _bucketed(bufs, lambda flat: _collectives.run("bcast", None, flat, 0, group=self._group))
        out = self.module(*inputs, **kwargs)
        if _grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
            self._arm(out)
        else:
            object.__setattr__(self, "_expected", None)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward passes only accumulate local gradients (no averaging), as in torch."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
