"""Late and legacy ``torch.nn`` names: ``LinearCrossEntropyLoss`` (+ ``LinearCrossEntropyOptions``), the
deprecated ``NLLLoss2d`` and ``Container``, and the ``factory_kwargs`` helper.

``LinearCrossEntropyLoss`` owns a ``Linear`` projection to ``num_classes * prod(out_features)`` logits and
applies :func:`~minitorch_jax.nn.functional.linear_cross_entropy`, whose chunked path (``options``) never
holds the whole ``(N, C)`` logits; see there.
"""

from __future__ import annotations

import math
import warnings

from ..._errors import ShapeError
from .._functional_extra import LinearCrossEntropyOptions, linear_cross_entropy
from .linear import Linear
from .loss import NLLLoss, _WeightedLoss
from .module import Module

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions", "NLLLoss2d", "Container", "factory_kwargs"]


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy of ``target`` and the logits of a learnable linear map of ``input``
    (torch.nn.LinearCrossEntropyLoss).

    Args:
        in_features: size of each input sample.
        num_classes: number of classes ``C``.
        out_features: ``(d_1, ..., d_K)`` for a K-dimensional loss (default ``()``).
        bias: give the internal ``Linear`` a bias (default False).
        device, dtype: of the linear weight.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: optional ``(C)`` per-class rescaling (a buffer).
        ignore_index: class index that contributes nothing; None: -100 for index targets.
        label_smoothing: in [0, 1].
        options: None or a :class:`LinearCrossEntropyOptions` (the chunked path).

    Attributes:
        linear: ``Linear(in_features, C * prod(out_features), bias)``; its flat weight is viewed as
            ``(C, *out_features, in_features)`` (and the bias as ``(C, *out_features)``) in ``forward``.

    Shape:
        input ``(in_features)`` or ``(N, in_features)``; target: class indices ``()``, ``(N)`` or
        ``(N, *out_features)``, or class probabilities ``(C)`` / ``(N, C, *out_features)``; output a
        scalar, or with ``reduction='none'`` ``()`` / ``(N)`` / ``(N, *out_features)``.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features=(), bias: bool = False,
                 device=None, dtype=None, reduction: str = "mean", weight=None, ignore_index=None,
                 label_smoothing: float = 0.0, options=None) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise ShapeError(f"expected weight shape to be ({num_classes},), got {tuple(weight.shape)}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ShapeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.options = options
        self.linear = Linear(in_features, num_classes * math.prod(out_features), bias=bias, device=device,
                             dtype=dtype)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")

    def forward(self, input, target):
        """The loss of ``input`` (through ``self.linear``) against ``target``."""
        lead = (self.num_classes,) + tuple(self.out_features)
        w = self.linear.weight.reshape(lead + (self.linear.in_features,))
        b = self.linear.bias
        return linear_cross_entropy(input, w, target, linear_bias=None if b is None else b.reshape(lead),
                                    weight=self.weight, reduction=self.reduction,
                                    ignore_index=self.ignore_index, label_smoothing=self.label_smoothing,
                                    options=self.options)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of :class:`NLLLoss` (same arguments); warns with FutureWarning as torch."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in "
                      "replacement and see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more "
                      "details.",
                      FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class Container(Module):
    """Deprecated: a Module holding the keyword-argument modules as children (use ``Module``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in "
                      "`nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        for name, module in kwargs.items():
            self.add_module(name, module)


_FACTORY_KEYS = ("device", "dtype", "memory_format")


def factory_kwargs(kwargs):
    """A canonical dict of factory keyword arguments (``device``, ``dtype``, ``memory_format``) from
    ``kwargs`` (torch.nn.factory_kwargs).

    ``kwargs`` may hold a ``'factory_kwargs'`` dict, whose entries are used as they are; a key given
    both there and directly raises TypeError, as does any other key.

    Args:
        kwargs: a dict, or None (gives ``{}``).

    Returns:
        a new dict to pass to factory functions (``mt.empty(..., **result)``).
    """
    if kwargs is None:
        return {}
    extra = set(kwargs.keys()) - {*_FACTORY_KEYS, "factory_kwargs"}
    if extra:
        raise TypeError(f"unexpected kwargs {extra}")
    out = dict(kwargs.get("factory_kwargs", {}))
    for k in _FACTORY_KEYS:
        if k in kwargs:
            if k in out:
                raise TypeError(f"{k} specified twice, in **kwargs and in factory_kwargs")
            out[k] = kwargs[k]
    return out
