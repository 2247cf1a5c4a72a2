"""``mt.utils.tensorboard``: torch.utils.tensorboard's ``SummaryWriter`` with no dependency.

Event files (TFRecord-framed ``Event`` protocol buffers, CRC-32C checked) are written by this
package itself; install ``tensorboard`` only to view them. See :mod:`.writer` for what is supported
(scalars, histograms, text, tensors, images, audio, hparams) and what raises
``NotImplementedError`` (graphs, video, embeddings, meshes, PR curves, custom scalars).
:func:`_read_events` reads an event file back as dicts (tests, quick inspection).
"""

from __future__ import annotations

from ._reader import _read_events as _read_events
from ._record import RecordCorruptError
from .writer import FileWriter, SummaryWriter

__all__ = ["SummaryWriter", "FileWriter", "RecordCorruptError"]  # and the private reader _read_events
