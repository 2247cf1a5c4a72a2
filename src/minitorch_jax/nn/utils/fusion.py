"""Folding an eval-mode BatchNorm into the Linear or convolution before it (``torch.nn.utils.fusion``).

A BatchNorm in eval mode is the affine map ``y = (x - running_mean) * gamma / sqrt(running_var + eps) +
beta`` per channel, so it can be folded into the weight and bias of the layer feeding it: one layer
instead of two at inference, the same outputs up to rounding.
"""

from __future__ import annotations

import copy

from ... import _creation
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _fold(w, b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, channel_dim):
    """Scale ``w`` along ``channel_dim`` and shift ``b`` by the BatchNorm's per-channel affine map."""
    if b is None:
        b = _creation.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = _creation.ones_like(bn_rm)
    if bn_b is None:
        bn_b = _creation.zeros_like(bn_rm)
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    shape = [1] * w.dim()
    shape[channel_dim] = -1
    new_w = (w * scale.reshape(shape)).to(w.dtype)
    new_b = ((b - bn_rm) * scale + bn_b).to(w.dtype)
    return (Parameter(new_w.detach(), w.requires_grad), Parameter(new_b.detach(), b.requires_grad))


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The weight and bias of a convolution with the BatchNorm after it folded in.

    Args:
        conv_w (Tensor): convolution weight, ``(out, in/groups, *k)`` (``(in, out/groups, *k)`` when
            ``transpose``).
        conv_b (Tensor, optional): convolution bias ``(out,)``.
        bn_rm, bn_rv (Tensor): BatchNorm running mean and variance ``(out,)``.
        bn_eps (float): BatchNorm epsilon.
        bn_w, bn_b (Tensor, optional): BatchNorm weight and bias ``(out,)`` (1 and 0 when None).
        transpose (bool): the convolution is a transposed one (output channels on dim 1).

    Returns:
        ``(weight, bias)`` as Parameters (requiring grad as ``conv_w`` / ``conv_b`` do).
    """
    return _fold(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 1 if transpose else 0)


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias of a Linear layer with the BatchNorm after it folded in.

    Args:
        linear_w (Tensor): weight ``(out_features, in_features)``. linear_b (Tensor, optional): bias.
        bn_rm, bn_rv (Tensor): BatchNorm running mean and variance (``(out_features,)`` or ``(1,)``).
        bn_eps (float): BatchNorm epsilon. bn_w, bn_b (Tensor): BatchNorm weight and bias.

    Returns:
        ``(weight, bias)`` as Parameters.
    """
    if bn_rm.numel() == 1 and linear_w.shape[0] != 1:  # one BatchNorm channel scales every output
        n = linear_w.shape[0]
        bn_rm, bn_rv = bn_rm.expand(n), bn_rv.expand(n)
        bn_w = None if bn_w is None else bn_w.expand(n)
        bn_b = None if bn_b is None else bn_b.expand(n)
    return _fold(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 0)


def _check_eval(*modules):
    if any(m.training for m in modules):
        raise AssertionError("Fusion only for eval!")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of the eval-mode convolution ``conv`` with the eval-mode BatchNorm ``bn`` folded in.

    Args:
        conv (Module): a ConvNd or ConvTransposeNd in eval mode. bn (Module): a BatchNorm with running
            statistics, in eval mode. transpose (bool): ``conv`` is a transposed convolution.

    Raises:
        AssertionError: either module is in training mode (torch's "Fusion only for eval!").
    """
    _check_eval(conv, bn)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the BatchNorm has no running statistics "
                             "(track_running_stats=False)")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_eval(linear, bn):
    """A copy of the eval-mode ``linear`` with the eval-mode BatchNorm ``bn`` after it folded in.

    Raises:
        AssertionError: a module is in training mode, or ``bn.num_features`` is neither
            ``linear.out_features`` nor 1 (torch's messages).
    """
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
                             f"got linear.out_features={linear.out_features} and "
                             f"bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_linear_bn_eval: the BatchNorm has no running statistics "
                             "(track_running_stats=False)")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
