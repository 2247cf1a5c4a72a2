"""``SyncBatchNorm``: batch normalization whose training statistics span every process of a group.

In training mode, with ``mt.distributed`` initialized and more than one process in the group, each
process computes its local per-channel mean, biased variance and element count; one differentiable
``all_gather`` (through the public :mod:`minitorch_jax.distributed` collectives) gives every process
all of them, and they are combined (Chan's parallel formula) into the statistics of the concatenated
batch. The output and the running statistics therefore equal BatchNorm on the concatenated batch.
The backward of the gather all-reduces its gradient (as torch's SyncBN backward all-reduces the
gradient sums), so each process's input gradient is that of the global loss (the sum of every
process's loss); parameter gradients stay local (DDP averages them).

Otherwise (eval mode, one process, no process group initialized) it is BatchNorm.
Difference from torch: torch only syncs GPU inputs (and raises for CPU ones); here the CPU (gloo)
processes started by ``minitorch_jax.distributed.run`` sync too.
"""

from __future__ import annotations

from ... import _creation
from ..._grad_mode import no_grad
from ..._ops.nn_norm import _store
from ...autograd import Function
from .batchnorm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm"]


class _AllGatherStats(Function):
    """Differentiable all_gather of one 1-D tensor: ``(world, n)``; backward all-reduces (SUM) the
    gradient and returns this process's row."""

    @staticmethod
    def forward(ctx, x, group, world, rank):
        from ... import distributed as dist
        ctx.group, ctx.rank = group, rank
        parts = [_creation.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x, group=group)
        return _stack(parts)

    @staticmethod
    def backward(ctx, grad):
        from ... import distributed as dist
        g = grad.clone()
        dist.all_reduce(g, group=ctx.group)
        return g[ctx.rank], None, None, None


def _stack(parts):
    from ... import stack
    return stack(parts)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over an ``(N, C, *)`` input whose batch statistics, in training mode, are
    those of the batches of all processes of ``process_group`` together.

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: factor of the running-stat update; None for a cumulative average.
        affine: learn a per-channel weight (init 1) and bias (init 0).
        track_running_stats: keep running estimates (used in eval mode).
        process_group: the group to synchronize over (None: every process, ``group.WORLD``).
        bias: learn the bias (with ``affine``).

    Shape: input ``(N, C, *)`` with at least 2 dims; output the same. Eval mode, a group of one
    process, or no initialized ``mt.distributed`` give plain BatchNorm.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.dim() < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.dim()}D input, shape "
                             f"{list(input.shape)})")

    def _check_non_zero_input_channels(self, input) -> None:
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def _sync_group(self):
        """``(group, world, rank)`` to synchronize over, or None when no sync is needed."""
        from ... import distributed as dist
        if not (dist.is_available() and dist.is_initialized()):
            return None
        group = self.process_group  # None: every process (group.WORLD)
        world = dist.get_world_size(group)
        if world <= 1:
            return None
        return group, world, dist.get_rank(group)

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        sync = self._sync_group() if (bn_training and self.training) else None
        if sync is None:
            return super().forward(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"SyncBatchNorm({self.num_features}): expected input with {self.num_features} channels "
                f"(dim 1), got shape {list(input.shape)}")
        return self._sync_forward(input, *sync)

    def _sync_forward(self, x, group, world, rank):
        c = self.num_features
        dims = [0] + list(range(2, x.dim()))
        n = x.numel() // c
        # local statistics (an empty local batch contributes a zero count)
        mean_l = x.sum(dims) / max(n, 1)
        shape = [1, c] + [1] * (x.dim() - 2)
        var_l = ((x - mean_l.reshape(shape)) ** 2).sum(dims) / max(n, 1)
        count = _creation.full((1,), float(n), dtype=x.dtype)
        packed = _cat([mean_l, var_l, count])
        allst = _AllGatherStats.apply(packed, group, world, rank)  # (world, 2C+1)
        means, vars_, counts = allst[:, :c], allst[:, c:2 * c], allst[:, 2 * c:].detach()
        total = counts.sum(0)
        mean = (means * counts).sum(0) / total
        var = ((vars_ + (means - mean) ** 2) * counts).sum(0) / total
        if self.track_running_stats:
            self._update_running(mean.detach(), var.detach(), total)
        out = (x - mean.reshape(shape)) * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _update_running(self, mean, var, total) -> None:
        with no_grad():
            nbt = self.num_batches_tracked
            if nbt is not None:
                _store(nbt, nbt + 1)
            if self.momentum is None:  # cumulative moving average
                f = 1.0 / nbt.to(mean.dtype)
            else:
                f = self.momentum
            unbiased = var * total / (total - 1)
            _store(self.running_mean, self.running_mean * (1 - f) + mean.to(self.running_mean.dtype) * f)
            _store(self.running_var, self.running_var * (1 - f) + unbiased.to(self.running_var.dtype) * f)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Replace every BatchNorm*D layer in ``module`` (itself included) by a :class:`SyncBatchNorm`
        sharing its parameters and buffers (same objects) and training flag.

        Args:
            module: the module (tree) to convert.
            process_group: the group the new layers synchronize over (None: every process).

        Returns:
            The converted module (``module`` itself, changed in place, unless it is a BatchNorm).
        """
        out = module
        if isinstance(module, _BatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out


def _cat(parts):
    from ... import cat
    return cat(parts)
