"""Summary builders: each returns the encoded ``Summary`` for one kind of data, in the layout
torch.utils.tensorboard writes (so TensorBoard's plugins read it the same way).

* scalar: ``simple_value``; ``new_style`` a rank-0 ``DT_FLOAT``/``DT_DOUBLE`` tensor with the
  "scalars" plugin.
* histogram: a ``HistogramProto`` from numpy's histogram over the given bins, trimmed to the
  occupied range; ``bins='tensorflow'`` uses TensorBoard's default exponential buckets.
* text: a 1-element ``DT_STRING`` tensor, tag ``<tag>/text_summary``, "text" plugin.
* tensor: the values of a tensor with its shape, "tensor" plugin.
"""

from __future__ import annotations

import numpy as np

from . import _messages as m
from ._convert import make_np

__all__ = ["default_bins", "scalar", "histogram", "histogram_raw", "make_histogram", "text", "tensor"]

_DEFAULT_BINS: list[float] | None = None


def default_bins() -> list[float]:
    """TensorBoard's default histogram bucket edges: ``±1e-12 * 1.1**k`` below 1e20, and 0."""
    global _DEFAULT_BINS
    if _DEFAULT_BINS is None:
        pos, v = [], 1e-12
        while v < 1e20:
            pos.append(v)
            v *= 1.1
        _DEFAULT_BINS = [-b for b in reversed(pos)] + [0] + pos
    return _DEFAULT_BINS


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False,
           fn: str = "add_scalar") -> bytes:
    """Encoded ``Summary`` of one scalar (``value``: a one-element tensor/array or a number)."""
    arr = make_np(value, fn)
    if arr.squeeze().ndim != 0:
        raise AssertionError(f"SummaryWriter.{fn}(): scalar should be 0D, got a value of shape "
                             f"{tuple(arr.shape)} for tag {tag!r}")
    v = float(arr.reshape(-1)[0])
    if not new_style:
        return m.summary([m.summary_value(tag, simple_value=v)])
    if double_precision:
        tp = m.tensor_proto(m.DT["float64"], double_val=[v])
    else:
        tp = m.tensor_proto(m.DT["float32"], float_val=[v])
    return m.summary([m.summary_value(tag, tensor=tp, metadata=m.summary_metadata("scalars"))])


def make_histogram(values: np.ndarray, bins, max_bins=None) -> bytes:
    """Encoded ``HistogramProto`` of ``values`` (any shape, flattened) over ``bins`` (an int, a
    sequence of edges, or a numpy bin-rule name), at most ``max_bins`` buckets when given.

    TensorBoard's bucket ``i`` spans ``(bucket_limit[i-1], bucket_limit[i]]``: the counts kept run
    from one empty bucket before the first occupied one to the last occupied one.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        pad = (-len(counts)) % group
        counts = np.pad(counts, (0, pad)).reshape(-1, group).sum(axis=1)
        edges = np.concatenate([edges[:-1:group], edges[-1:]])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("The histogram is empty: no value falls inside the bins.")
    first, last = int(nonzero[0]), int(nonzero[-1])
    kept = counts[first:last + 1]
    if first > 0:
        kept = np.concatenate([[counts[first - 1]], kept])
    else:
        kept = np.concatenate([[0], kept])
    limits = edges[first:last + 2]
    return m.histogram_proto(values.min(), values.max(), len(values), values.sum(),
                             values.dot(values), limits.tolist(), kept.tolist())


def histogram(tag: str, values, bins, max_bins=None) -> bytes:
    """Encoded ``Summary`` with the histogram of ``values`` (see :func:`make_histogram`)."""
    arr = make_np(values, "add_histogram").astype(float)
    return m.summary([m.summary_value(tag, histo=make_histogram(arr, bins, max_bins))])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts) -> bytes:  # noqa: A002
    """Encoded ``Summary`` of a histogram given by its statistics and buckets."""
    if len(bucket_limits) != len(bucket_counts):
        raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
    hist = m.histogram_proto(min, max, num, sum, sum_squares, list(bucket_limits), list(bucket_counts))
    return m.summary([m.summary_value(tag, histo=hist)])


def text(tag: str, text_string: str) -> bytes:
    """Encoded ``Summary`` of a text (Markdown) string for the text plugin."""
    if not isinstance(text_string, str):
        raise TypeError(f"SummaryWriter.add_text(): text_string must be a str, got {type(text_string)}")
    tp = m.tensor_proto(m.DT["string"], [1], string_val=[text_string.encode("utf-8")])
    return m.summary([m.summary_value(tag + "/text_summary", tensor=tp, metadata=m.summary_metadata("text"))])


def tensor(tag: str, value) -> bytes:
    """Encoded ``Summary`` holding a whole tensor (shape and values) for the "tensor" plugin."""
    arr = make_np(value, "add_tensor") if not isinstance(value, np.ndarray) else value
    shape = list(arr.shape)
    flat = arr.reshape(-1)
    kind = arr.dtype
    if kind == np.float32:
        tp = m.tensor_proto(m.DT["float32"], shape, float_val=flat)
    elif kind == np.float64:
        tp = m.tensor_proto(m.DT["float64"], shape, double_val=flat)
    elif kind == np.float16:
        tp = m.tensor_proto(m.DT["float16"], shape, half_val=flat.view(np.uint16).tolist())
    elif kind in (np.int8, np.int16, np.int32, np.uint8):
        name = {np.dtype(np.int8): "int8", np.dtype(np.int16): "int16", np.dtype(np.int32): "int32",
                np.dtype(np.uint8): "uint8"}[np.dtype(kind)]
        tp = m.tensor_proto(m.DT[name], shape, int_val=flat.tolist())
    elif kind == np.int64:
        tp = m.tensor_proto(m.DT["int64"], shape, int64_val=flat.tolist())
    elif kind == np.bool_:
        tp = m.tensor_proto(m.DT["bool"], shape, bool_val=flat.tolist())
    else:
        raise TypeError(f"SummaryWriter.add_tensor(): unsupported dtype {kind}")
    return m.summary([m.summary_value(tag, tensor=tp, metadata=m.summary_metadata("tensor"))])
