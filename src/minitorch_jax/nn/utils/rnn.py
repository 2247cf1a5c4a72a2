"""``mt.nn.utils.rnn``: packed variable-length sequences for the recurrent layers (torch's API).

A :class:`PackedSequence` stores the time steps of a batch of sequences, sorted by decreasing
length, one after the other: ``data`` row block ``t`` holds the ``batch_sizes[t]`` sequences still
running at step ``t``. The index arithmetic runs on the host (numpy) from ``batch_sizes``; the
data moves in one gather kernel per call, so gradients flow through ``data`` as in torch.
"""

from __future__ import annotations

from collections import namedtuple
from functools import lru_cache

import numpy as np

from ..._errors import OpValueError, ShapeError
from ..._ops._registry import REGISTRY
from ..._tensor import Tensor, _wrap

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PAD = REGISTRY["_pad_sequence"].call
_PACK = REGISTRY["_pack_rows"].call
_UNPACK = REGISTRY["_unpack_rows"].call


def _long(a) -> Tensor:
    """An int64 index tensor from host values; concrete even inside ``mt.jit`` (torch keeps these on
    the CPU), so ``batch_sizes``/``sorted_indices`` stay readable on the host while a step is traced."""
    import jax
    import jax.numpy as jnp
    with jax.ensure_compile_time_eval():
        return _wrap(jnp.asarray(np.asarray(a, dtype=np.int64)))


def _np(t) -> np.ndarray:
    return np.asarray(t._data if isinstance(t, Tensor) else t)


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    p = _np(permutation)
    out = np.empty_like(p)
    out[p] = np.arange(p.size)
    return _long(out)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                   "unsorted_indices"])):
    """Holds the data and ``batch_sizes`` of a packed batch of sequences (torch's PackedSequence).

    Fields:
        data: (sum of lengths, *) the packed time steps.
        batch_sizes: int64 (max length,) number of sequences running at each step.
        sorted_indices / unsorted_indices: how the batch was sorted by length (or None).

    Build it with :func:`pack_padded_sequence` or :func:`pack_sequence`, not directly.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise OpValueError("PackedSequence: batch_sizes is required (build it with "
                               "pack_padded_sequence or pack_sequence)")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _replace_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)`` (indices stay int64), returning a new PackedSequence."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._replace_data(data)

    def cpu(self, *args, **kwargs):
        """This sequence with ``data`` on the CPU."""
        return self._replace_data(self.data.cpu(*args, **kwargs))

    def cuda(self, *args, **kwargs):
        """This sequence with ``data`` on the accelerator."""
        return self._replace_data(self.data.cuda(*args, **kwargs))

    def double(self):
        """``data`` cast to float64."""
        return self._replace_data(self.data.double())

    def float(self):
        """``data`` cast to float32."""
        return self._replace_data(self.data.float())

    def half(self):
        """``data`` cast to float16."""
        return self._replace_data(self.data.half())

    def long(self):
        """``data`` cast to int64."""
        return self._replace_data(self.data.long())

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` lives on an accelerator."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Always False (no pinned host memory here)."""
        return False


@lru_cache(maxsize=256)
def _layout(batch_sizes: tuple):
    """Host index arrays of a packing: (t, b) of each packed row, and the (T, B) slot -> row map."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    n = int(bs.sum())
    offsets = np.cumsum(bs) - bs
    t_idx = np.repeat(np.arange(bs.size), bs)
    b_idx = np.arange(n) - offsets[t_idx]
    slot_to_row = np.full((bs.size, int(bs[0])), n, dtype=np.int32)
    slot_to_row[t_idx, b_idx] = np.arange(n)
    return t_idx, b_idx, slot_to_row, n


@lru_cache(maxsize=256)
def _rnn_index(batch_sizes: tuple):
    """(gather (T, B), scatter (N,)) device arrays the recurrent kernel uses for a packing."""
    import jax
    import jax.numpy as jnp
    t_idx, b_idx, slot_to_row, _ = _layout(batch_sizes)
    scatter = (t_idx * slot_to_row.shape[1] + b_idx).astype(np.int32)
    with jax.ensure_compile_time_eval():  # cached: must never hold a tracer of an mt.jit trace
        return jnp.asarray(slot_to_row), jnp.asarray(scatter)


def _bs_key(batch_sizes) -> tuple:
    return tuple(int(v) for v in _np(batch_sizes).tolist())


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Pad a list of variable-length tensors (L_i, *) to (T, B, *) (``batch_first``: (B, T, *)).

    Args:
        sequences: list of tensors with equal trailing dims.
        batch_first: put the batch dim first.
        padding_value: value of the padded elements.
        padding_side: 'right' (default) or 'left'.
    """
    if padding_side not in ("left", "right"):
        raise OpValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise ShapeError("pad_sequence: received an empty list of sequences")
    return _PAD(sequences, batch_first=bool(batch_first), padding_value=float(padding_value),
                left=padding_side == "left")


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of ``lengths``.

    Args:
        input: padded batch.
        lengths: list or int64 tensor of sequence lengths (B,).
        batch_first: input is (B, T, *).
        enforce_sorted: require lengths in decreasing order; False sorts them (the order is
            kept in ``sorted_indices``/``unsorted_indices`` and restored on unpacking).
    """
    lens = _np(lengths).astype(np.int64).reshape(-1)
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ShapeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                "sidestep this requirement if you do not need ONNX exportability.")
        order = np.arange(lens.size)
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = _long(order)
    slens = lens[order]
    t_max = input.shape[1 if batch_first else 0]
    if slens.size == 0 or slens[-1] <= 0:
        raise ShapeError("Length of all samples has to be greater than 0, but found an element in "
                         "'lengths' that is <= 0")
    if slens[0] > t_max:
        raise ShapeError(f"pack_padded_sequence: a length ({int(slens[0])}) exceeds the padded "
                         f"sequence length ({t_max})")
    batch_sizes = (np.arange(int(slens[0]))[:, None] < slens[None, :]).sum(1)
    t_idx, b_idx, _, _ = _layout(tuple(batch_sizes.tolist()))
    idx = t_idx * lens.size + order[b_idx]
    data = _PACK(input, _long(idx)._data, batch_first=bool(batch_first))
    return PackedSequence(data, _long(batch_sizes), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """Inverse of :func:`pack_padded_sequence`: returns ``(padded, lengths)``.

    Args:
        sequence: the PackedSequence.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: value for the padded elements.
        total_length: pad to this many steps (at least the longest length).
    Returns the padded tensor and the int64 lengths (B,) in the original batch order.
    """
    key = _bs_key(sequence.batch_sizes)
    _, _, slot_to_row, n = _layout(key)
    t_max = len(key)
    if total_length is not None:
        if total_length < t_max:
            raise OpValueError(
                "Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {t_max}")
        extra = np.full((total_length - t_max, slot_to_row.shape[1]), n, dtype=slot_to_row.dtype)
        slot_to_row = np.concatenate([slot_to_row, extra])
    lens = (slot_to_row < n).sum(0).astype(np.int64)
    if sequence.unsorted_indices is not None:
        unsorted = _np(sequence.unsorted_indices)
        slot_to_row = slot_to_row[:, unsorted]
        lens = lens[unsorted]
    out = _UNPACK(sequence.data, _long(slot_to_row)._data, padding_value=float(padding_value),
                  batch_first=bool(batch_first))
    return out, _long(lens)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length tensors (L_i, *) (pad, then :func:`pack_padded_sequence`)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of tensors of the given ``lengths``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_np(lengths).tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Split a PackedSequence back into the list of its sequences (original order)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

