"""Batch normalization layers: ``BatchNorm1d``, ``BatchNorm2d``, ``BatchNorm3d``.

A training call is ONE table-op dispatch that normalizes and also returns the updated
``running_mean``/``running_var``/``num_batches_tracked``, which are rebound in place (no autograd,
version bumped); under ``jax.jit`` the capture threads them as state.
"""

from __future__ import annotations

from ... import _creation
from ... import _dtype as _dt
from ..._ops.nn_norm import batch_norm_module
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """Shared state of batch and instance norm: affine parameters and running statistics."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_creation.empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(_creation.empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _creation.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", _creation.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 _creation.tensor(0, dtype=_dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean to 0, running variance to 1, batch count to 0."""
        if self.track_running_stats:
            for b, v in ((self.running_mean, 0.0), (self.running_var, 1.0), (self.num_batches_tracked, 0)):
                b._data = _creation.full_like(b, v)._data
                b._version += 1

    def reset_parameters(self) -> None:
        """Reset the running stats; weight to 1 and bias to 0 (torch's default init)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed: torch fills it with 0
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   and self.num_batches_tracked.device.type != "meta"
                                   else _creation.tensor(0, dtype=_dt.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        if input.dim() >= 2 and input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{self._get_name()}({self.num_features}): expected input with {self.num_features} channels "
                f"(dim 1), got shape {list(input.shape)}")
        if self.training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        use_running = not self.training or self.track_running_stats
        update = self.training and self.track_running_stats
        # momentum None: cumulative average 1 / num_batches_tracked, computed inside the kernel
        momentum = self.momentum if self.momentum is not None else (None if update else 0.0)
        return batch_norm_module(
            input, self.running_mean if use_running else None, self.running_var if use_running else None,
            self.weight, self.bias, self.num_batches_tracked if update else None, momentum,
            bn_training, self.eps)


def _dims_error(layer, expected, input):
    raise ValueError(f"{layer._get_name()}: expected {expected} input (got {input.dim()}D input, shape "
                     f"{list(input.shape)})")


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: factor of the running-stat update; None for a cumulative average.
        affine: learn a per-channel weight (init 1) and bias (init 0).
        track_running_stats: keep running estimates (used in eval mode); otherwise batch
            statistics are used in both modes and the buffers are None.
    """

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            _dims_error(self, "2D or 3D", input)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over an ``(N, C, H, W)`` input per channel; arguments as
    :class:`BatchNorm1d`."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            _dims_error(self, "4D", input)


class BatchNorm3d(_BatchNorm):
    """Batch normalization over an ``(N, C, D, H, W)`` input per channel; arguments as
    :class:`BatchNorm1d`."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            _dims_error(self, "5D", input)
