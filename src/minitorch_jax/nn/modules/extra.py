"""``EmbeddingBag`` (reduced bags of embeddings) and ``CTCLoss``."""

from __future__ import annotations

from ... import _creation
from .. import functional as F
from ..parameter import Parameter
from .loss import _Loss
from .module import Module
from .sparse import _EmbeddingWeight

__all__ = ["EmbeddingBag", "CTCLoss"]


class EmbeddingBag(_EmbeddingWeight, Module):
    """Sums, means or maxima of "bags" of embedding vectors, without the per-index embeddings.

    Args:
        num_embeddings: size of the table.
        embedding_dim: size of each vector.
        max_norm: rows looked up whose norm exceeds it are rescaled in place.
        norm_type: the p of that norm (default 2).
        scale_grad_by_freq: scale gradients by the inverse frequency of each index (not with 'max').
        mode: ``'sum'``, ``'mean'`` (default) or ``'max'``.
        sparse: accepted for compatibility (gradients are dense).
        _weight: an initial weight ``(num_embeddings, embedding_dim)``.
        include_last_offset: ``offsets`` has one more entry (the end of the last bag).
        padding_idx: indices equal to it are left out of their bag; its row is initialised to zeros.

    Shape: ``input`` 2-D ``(B, L)`` (B bags of L indices) or 1-D ``(n,)`` with 1-D ``offsets``
    (the start of each bag); output ``(B, embedding_dim)``. ``per_sample_weights`` (mode 'sum')
    has ``input``'s shape. The weight is initialised from N(0, 1).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        if _weight is None:
            w = _creation.empty((num_embeddings, embedding_dim), device=device, dtype=dtype)
            self.weight = Parameter(w)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset


    def forward(self, input, offsets=None, per_sample_weights=None):
        """Reduce the bags of ``input`` (see the class docstring for the shapes)."""
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is the 2-D ``embeddings`` (frozen unless ``freeze=False``)."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


class CTCLoss(_Loss):
    """Connectionist Temporal Classification loss between unsegmented sequences and their labels.

    Args:
        blank: the blank label (default 0).
        reduction: ``'none'`` | ``'mean'`` (each loss divided by its target length, then the batch
            mean) | ``'sum'``.
        zero_infinity: infinite losses (impossible alignments) and their gradients become zero.

    Shape: ``log_probs`` ``(T, N, C)`` or ``(T, C)``; ``targets`` ``(N, S)`` or the 1-D
    concatenation of all targets; ``input_lengths`` and ``target_lengths`` ``(N,)`` Tensors or
    tuples of ints. Output: a scalar, or ``(N,)`` with ``reduction='none'``.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """The CTC loss of ``log_probs`` against ``targets`` (see the class docstring)."""
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
