"""nn.AdaptiveLogSoftmaxWithLoss (Grave et al., "Efficient softmax approximation for GPUs").

torch evaluates a tail cluster only on the rows whose target falls in it (``nonzero`` and
``index_select``: data-dependent shapes). Here every cluster runs on the whole batch and a mask keeps
the rows that belong to it, so shapes stay static and the module runs under ``mt.jit``; the values
and gradients are torch's (rows outside a cluster get an exactly zero gradient from it), at the cost of
computing the (small) tail projections for every row.
"""

from __future__ import annotations

from collections import namedtuple

import jax

from ... import _ops
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])

_FN = _ops.FUNCTIONS


def _concrete_bool(t):
    """``bool(t)`` for a 0-d bool tensor, or None while jax traces (no value yet)."""
    try:
        return bool(t._data)
    except jax.errors.ConcretizationTypeError:
        return None


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: a head over the ``cutoffs[0]`` most frequent classes plus one entry per tail
    cluster, and per cluster a low-rank projection (``in_features // div_value**i`` wide) to its classes.

    Args:
        in_features: the number of input features.
        n_classes: the number of classes (sorted by frequency, the most frequent first).
        cutoffs: increasing, unique ints in ``[1, n_classes - 1]`` splitting the classes into the head
            shortlist ``[0, cutoffs[0])`` and the clusters ``[cutoffs[i], cutoffs[i + 1])``.
        div_value: the base of the cluster widths. Default: 4.0.
        head_bias: give the head a bias. Default: False.
        device, dtype: of the parameters.

    Attributes (as torch's, so state dicts interchange): ``head`` (Linear), ``tail`` (ModuleList of
    ``Sequential(Linear(in, hsz, bias=False), Linear(hsz, osz, bias=False))``).

    ``forward(input, target)`` returns the namedtuple ``(output, loss)``: ``output`` the target's
    log-probability per row (``(N,)``, or ``()`` for a 1-D input and 0-D target), ``loss`` the mean
    negative log-likelihood. :meth:`log_prob` gives every class's log-probability, :meth:`predict`
    the most likely class.

    Shape: input ``(N, in_features)`` or ``(in_features,)``; target ``(N,)`` or ``()`` (int64, in
    ``[0, n_classes)``).
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None,
                 dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1 "
                             f"(got cutoffs={cutoffs}, n_classes={n_classes})")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self) -> None:
        """Re-initialize every Linear as at construction."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        """``(output, loss)`` for ``input_`` ``(N, in_features)`` / ``(in_features,)`` and class
        indices ``target_`` ``(N,)`` / ``()``."""
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch dimension "
                                   f"(input {list(input_.shape)}, target {list(target_.shape)}).")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported "
                               f"(got target of size {list(target_.shape)})")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)

        bad = ((target < 0) | (target >= self.n_classes)).any()
        if _concrete_bool(bad):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{target.min().item()}, {target.max().item()}] were found. ")

        output = input.new_zeros(target.size(0))
        gather_inds = target
        for i in range(1, len(self.cutoffs)):
            low, high = self.cutoffs[i - 1], self.cutoffs[i]
            mask = (target >= low) & (target < high)
            rel = (target - low).clamp(0, high - low - 1)
            cluster_logprob = F.log_softmax(self.tail[i - 1](input), dim=1)
            local = cluster_logprob.gather(1, rel.unsqueeze(1)).squeeze(1)
            output = _FN["where"](mask, local, output)
            gather_inds = _FN["where"](mask, self.shortlist_size + i - 1, gather_inds)
        gather_inds = gather_inds.clamp(0, self.head_size - 1)  # (out-of-range targets under mt.jit)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, gather_inds.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            idx = self.shortlist_size + i
            parts.append(cluster_logprob + head_logprob[:, idx:idx + 1])
        return _FN["cat"](parts, dim=1)

    def log_prob(self, input):
        """Log-probabilities of all ``n_classes`` classes: ``(N, in_features) -> (N, n_classes)``."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class per row, ``(N, in_features) -> (N,)`` int64: equal to
        ``log_prob(input).argmax(dim=1)``, but the tails are evaluated only when some row's head
        argmax is a cluster (always under ``mt.jit``)."""
        head_output = self.head(input)
        output = _FN["argmax"](head_output, dim=1)
        not_in_shortlist = output >= self.shortlist_size
        if _concrete_bool(not_in_shortlist.any()) is False:
            return output
        full = _FN["argmax"](self._get_full_log_prob(input, head_output), dim=1)
        return _FN["where"](not_in_shortlist, full, output)
