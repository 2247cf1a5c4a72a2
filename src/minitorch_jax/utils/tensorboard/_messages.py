"""Encoders for the TensorBoard protocol-buffer messages SummaryWriter writes.

Field numbers are those of TensorFlow/TensorBoard's ``event.proto``, ``summary.proto``,
``tensor.proto`` and ``tensor_shape.proto``. Every builder returns the encoded bytes of one message;
:class:`Event` is a small mutable record (like the protobuf class) whose ``SerializeToString()``
gives the bytes of an ``Event``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._proto import (
    f_bytes,
    f_double,
    f_float,
    f_message,
    f_packed_double,
    f_packed_float,
    f_packed_varint,
    f_repeated_bytes,
    f_string,
    f_varint,
)

__all__ = ["Event", "SessionLog", "DT", "summary", "summary_value", "summary_metadata",
           "histogram_proto", "tensor_proto", "tensor_shape", "image_proto", "audio_proto",
           "session_log"]

# tensorflow DataType enum values used here
DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7,
      "int64": 9, "bool": 10, "float16": 19}


class SessionLog:
    """``SessionLog.SessionStatus`` enum values."""
    STATUS_UNSPECIFIED = 0
    START = 1
    STOP = 2
    CHECKPOINT = 3


def session_log(status: int, checkpoint_path: str = "", msg: str = "") -> bytes:
    """Encoded ``SessionLog`` (status=1, checkpoint_path=2, msg=3)."""
    return f_varint(1, status) + f_string(2, checkpoint_path) + f_string(3, msg)


@dataclass
class Event:
    """An ``Event`` record: ``wall_time`` (1, double), ``step`` (2, int64) and one of
    ``file_version`` (3), ``summary`` (5, encoded ``Summary``), ``session_log`` (7, encoded)."""

    wall_time: float = 0.0
    step: int = 0
    file_version: str | None = None
    summary: bytes | None = None
    session_log: bytes | None = None

    def SerializeToString(self) -> bytes:  # noqa: N802 - protobuf's name
        """The encoded ``Event``."""
        out = f_double(1, self.wall_time) + f_varint(2, self.step)
        if self.file_version is not None:
            out += f_string(3, self.file_version, always=True)
        out += f_message(5, self.summary) + f_message(7, self.session_log)
        return out


def summary(values: list[bytes]) -> bytes:
    """Encoded ``Summary`` from encoded ``Summary.Value`` messages (repeated field 1)."""
    return b"".join(f_message(1, v) for v in values)


def summary_value(tag: str, *, simple_value=None, image=None, histo=None, audio=None, tensor=None,
                  metadata=None) -> bytes:
    """Encoded ``Summary.Value``: tag=1, one of simple_value=2 (float), image=4, histo=5, audio=6,
    tensor=8 (sub-messages given encoded), and metadata=9 (an encoded ``SummaryMetadata``)."""
    out = f_string(1, tag)
    if simple_value is not None:
        out += f_float(2, simple_value, always=True)
    out += f_message(4, image) + f_message(5, histo) + f_message(6, audio) + f_message(8, tensor)
    return out + f_message(9, metadata)


def summary_metadata(plugin_name: str, content: bytes = b"", display_name: str = "",
                     description: str = "") -> bytes:
    """Encoded ``SummaryMetadata``: plugin_data=1 (``PluginData``: plugin_name=1, content=2),
    display_name=2, summary_description=3."""
    plugin = f_string(1, plugin_name) + f_bytes(2, content)
    return f_message(1, plugin) + f_string(2, display_name) + f_string(3, description)


def histogram_proto(min, max, num, sum, sum_squares, bucket_limit, bucket) -> bytes:  # noqa: A002
    """Encoded ``HistogramProto``: min=1, max=2, num=3, sum=4, sum_squares=5 (doubles),
    bucket_limit=6 and bucket=7 (packed doubles)."""
    return (f_double(1, min) + f_double(2, max) + f_double(3, num) + f_double(4, sum)
            + f_double(5, sum_squares) + f_packed_double(6, bucket_limit) + f_packed_double(7, bucket))


def tensor_shape(dims) -> bytes:
    """Encoded ``TensorShapeProto``: repeated dim=2 (``Dim``: size=1)."""
    return b"".join(f_message(2, f_varint(1, d)) for d in dims)


def tensor_proto(dtype: int, shape=None, *, float_val=None, double_val=None, int_val=None,
                 int64_val=None, bool_val=None, string_val=None, half_val=None) -> bytes:
    """Encoded ``TensorProto``: dtype=1, tensor_shape=2, float_val=5, double_val=6, int_val=7,
    string_val=8, int64_val=10, bool_val=11, half_val=13 (numeric lists packed)."""
    out = f_varint(1, dtype)
    if shape is not None:
        out += f_message(2, tensor_shape(shape))
    if float_val is not None:
        out += f_packed_float(5, float_val)
    if double_val is not None:
        out += f_packed_double(6, double_val)
    if int_val is not None:
        out += f_packed_varint(7, int_val)
    if string_val is not None:
        out += f_repeated_bytes(8, string_val)
    if int64_val is not None:
        out += f_packed_varint(10, int64_val)
    if bool_val is not None:
        out += f_packed_varint(11, bool_val)
    if half_val is not None:
        out += f_packed_varint(13, half_val)
    return out


def image_proto(height: int, width: int, colorspace: int, encoded: bytes) -> bytes:
    """Encoded ``Summary.Image``: height=1, width=2, colorspace=3, encoded_image_string=4."""
    return f_varint(1, height) + f_varint(2, width) + f_varint(3, colorspace) + f_bytes(4, encoded)


def audio_proto(sample_rate: float, num_channels: int, length_frames: int, encoded: bytes,
                content_type: str = "audio/wav") -> bytes:
    """Encoded ``Summary.Audio``: sample_rate=1 (float), num_channels=2, length_frames=3,
    encoded_audio_string=4, content_type=5."""
    return (f_float(1, sample_rate) + f_varint(2, num_channels) + f_varint(3, length_frames)
            + f_bytes(4, encoded) + f_string(5, content_type))
