"""Reading event files back (for tests and quick inspection): :func:`_read_events` decodes every
record of an event file into plain dicts with the fields SummaryWriter writes."""

from __future__ import annotations

from ._proto import I32, I64, LEN, VARINT, as_double, as_float, as_signed, parse, unpack_packed
from ._record import read_records

__all__ = ["_read_events", "decode_event", "decode_summary"]


def _packed(wire, raw, kind):
    if wire == LEN:
        return unpack_packed(raw, kind)
    if kind == "double":
        return [as_double(raw)]
    if kind == "float":
        return [as_float(raw)]
    return [as_signed(raw)]


def _histo(buf: bytes) -> dict:
    out = {"min": 0.0, "max": 0.0, "num": 0.0, "sum": 0.0, "sum_squares": 0.0, "bucket_limit": [],
           "bucket": []}
    names = {1: "min", 2: "max", 3: "num", 4: "sum", 5: "sum_squares"}
    for f, w, v in parse(buf):
        if f in names and w == I64:
            out[names[f]] = as_double(v)
        elif f == 6:
            out["bucket_limit"] += _packed(w, v, "double")
        elif f == 7:
            out["bucket"] += _packed(w, v, "double")
    return out


def _tensor(buf: bytes) -> dict:
    out = {"dtype": 0, "shape": [], "float_val": [], "double_val": [], "int_val": [], "string_val": [],
           "int64_val": [], "bool_val": [], "half_val": []}
    packed = {5: ("float_val", "float"), 6: ("double_val", "double"), 7: ("int_val", "varint"),
              10: ("int64_val", "varint"), 11: ("bool_val", "varint"), 13: ("half_val", "varint")}
    for f, w, v in parse(buf):
        if f == 1 and w == VARINT:
            out["dtype"] = v
        elif f == 2 and w == LEN:
            for g, _, dim in parse(v):
                if g == 2:
                    size = [as_signed(s) for h, _, s in parse(dim) if h == 1]
                    out["shape"].append(size[0] if size else 0)
        elif f == 8 and w == LEN:
            out["string_val"].append(v)
        elif f in packed:
            name, kind = packed[f]
            out[name] += _packed(w, v, kind)
    return out


def _metadata(buf: bytes) -> dict:
    out = {"plugin_name": "", "content": b"", "display_name": "", "summary_description": ""}
    for f, w, v in parse(buf):
        if f == 1 and w == LEN:
            for g, _, x in parse(v):
                if g == 1:
                    out["plugin_name"] = x.decode("utf-8")
                elif g == 2:
                    out["content"] = x
        elif f == 2 and w == LEN:
            out["display_name"] = v.decode("utf-8")
        elif f == 3 and w == LEN:
            out["summary_description"] = v.decode("utf-8")
    return out


def _image(buf: bytes) -> dict:
    out = {"height": 0, "width": 0, "colorspace": 0, "encoded_image_string": b""}
    for f, w, v in parse(buf):
        if f in (1, 2, 3) and w == VARINT:
            out[("height", "width", "colorspace")[f - 1]] = v
        elif f == 4:
            out["encoded_image_string"] = v
    return out


def _audio(buf: bytes) -> dict:
    out = {"sample_rate": 0.0, "num_channels": 0, "length_frames": 0, "encoded_audio_string": b"",
           "content_type": ""}
    for f, w, v in parse(buf):
        if f == 1 and w == I32:
            out["sample_rate"] = as_float(v)
        elif f in (2, 3) and w == VARINT:
            out[("num_channels", "length_frames")[f - 2]] = v
        elif f == 4:
            out["encoded_audio_string"] = v
        elif f == 5:
            out["content_type"] = v.decode("utf-8")
    return out


def decode_summary(buf: bytes) -> list[dict]:
    """The ``Summary.Value`` entries of an encoded ``Summary`` as dicts with ``tag`` and whichever of
    ``simple_value``, ``image``, ``histo``, ``audio``, ``tensor``, ``metadata`` are present."""
    values = []
    for f, w, v in parse(buf):
        if f != 1 or w != LEN:
            continue
        d = {"tag": ""}
        for g, x, y in parse(v):
            if g == 1:
                d["tag"] = y.decode("utf-8")
            elif g == 2 and x == I32:
                d["simple_value"] = as_float(y)
            elif g == 4:
                d["image"] = _image(y)
            elif g == 5:
                d["histo"] = _histo(y)
            elif g == 6:
                d["audio"] = _audio(y)
            elif g == 8:
                d["tensor"] = _tensor(y)
            elif g == 9:
                d["metadata"] = _metadata(y)
        values.append(d)
    return values


def decode_event(buf: bytes) -> dict:
    """An encoded ``Event`` as a dict: ``wall_time``, ``step`` and, when present, ``file_version``,
    ``summary`` (see :func:`decode_summary`), ``session_log`` (``{"status": int}``), ``graph_def``."""
    out = {"wall_time": 0.0, "step": 0}
    for f, w, v in parse(buf):
        if f == 1 and w == I64:
            out["wall_time"] = as_double(v)
        elif f == 2 and w == VARINT:
            out["step"] = as_signed(v)
        elif f == 3 and w == LEN:
            out["file_version"] = v.decode("utf-8")
        elif f == 4 and w == LEN:
            out["graph_def"] = v
        elif f == 5 and w == LEN:
            out["summary"] = decode_summary(v)
        elif f == 7 and w == LEN:
            out["session_log"] = {"status": next((s for g, _, s in parse(v) if g == 1), 0)}
    return out


def _read_events(path: str, check_crc: bool = True) -> list[dict]:
    """Every event of the event file at ``path``, decoded (see :func:`decode_event`).

    Raises :class:`~minitorch_jax.utils.tensorboard._record.RecordCorruptError` (a ``ValueError``)
    when a record is truncated or fails its checksum, and ``ValueError`` when a record is not a
    valid ``Event`` message.
    """
    events = []
    for i, rec in enumerate(read_records(path, check_crc)):
        try:
            events.append(decode_event(rec))
        except ValueError as e:
            raise ValueError(f"{path}: record {i} is not a valid Event message: {e}") from None
    return events
