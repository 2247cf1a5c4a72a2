"""mt.utils.tensorboard: event files written without the tensorboard package, read back with the
package's own reader, checked against protobuf's own encoder (built from a descriptor here) and,
where installed, against tensorboard's EventAccumulator and torch.utils.tensorboard."""

from __future__ import annotations

import glob
import io
import os
import socket
import struct
import time
import wave

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils.tensorboard import RecordCorruptError, SummaryWriter, _read_events
from minitorch_jax.utils.tensorboard._crc32c import _crc32c_py, crc32c, masked_crc32c
from minitorch_jax.utils.tensorboard._proto import parse
from minitorch_jax.utils.tensorboard._record import frame, read_records


def _files(d):
    return sorted(glob.glob(os.path.join(str(d), "events.out.tfevents.*")))


def _events(d):
    (path,) = _files(d)
    return _read_events(path)


def _summaries(d):
    return [(e["step"], v) for e in _events(d) for v in e.get("summary", [])]


# ------------------------------------------------------------------ crc32c and framing

def _crc32c_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_known_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA          # RFC 3720 B.4 test vectors
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    data = np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8).tobytes()
    assert _crc32c_py(data) == _crc32c_bitwise(data) == crc32c(data)
    c = crc32c(data)
    assert masked_crc32c(data) == ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_record_framing_layout(tmp_path):
    rec = frame(b"hello")
    assert len(rec) == 8 + 4 + 5 + 4
    assert struct.unpack("<Q", rec[:8])[0] == 5
    assert struct.unpack("<I", rec[8:12])[0] == masked_crc32c(rec[:8])
    assert rec[12:17] == b"hello" and struct.unpack("<I", rec[17:])[0] == masked_crc32c(b"hello")
    p = tmp_path / "f"
    p.write_bytes(rec + frame(b"") + frame(b"x" * 200))
    assert read_records(str(p)) == [b"hello", b"", b"x" * 200]


def test_corrupted_record_detected(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", 1.0, 0)
        w.add_scalar("loss", 2.0, 1)
    (path,) = _files(tmp_path)
    good = open(path, "rb").read()
    assert len(_read_events(path)) == 3
    n0 = len(read_records(path)[0]) + 16
    bad = bytearray(good)
    bad[n0 + 14] ^= 0x01                      # a data byte of record 1
    open(path, "wb").write(bytes(bad))
    with pytest.raises(RecordCorruptError, match=r"record 1 at byte offset \d+: data checksum mismatch"):
        _read_events(path)
    assert len(_read_events(path, check_crc=False)) == 3
    bad = bytearray(good)
    bad[n0 + 2] ^= 0x40                       # the length field of record 1
    open(path, "wb").write(bytes(bad))
    with pytest.raises(RecordCorruptError, match="record 1 .*length checksum mismatch"):
        _read_events(path)
    open(path, "wb").write(good[:-3])         # truncated last record
    with pytest.raises(RecordCorruptError, match="record 2 .*truncated"):
        _read_events(path)
    assert issubclass(RecordCorruptError, ValueError)


# ------------------------------------------------------------------ protobuf parity

def _pb_classes():
    pb = pytest.importorskip("google.protobuf")
    del pb
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="mt_tb_test.proto", package="mttb", syntax="proto3")
    types = {"d": F.TYPE_DOUBLE, "f": F.TYPE_FLOAT, "i64": F.TYPE_INT64, "i32": F.TYPE_INT32,
             "s": F.TYPE_STRING, "b": F.TYPE_BYTES, "m": F.TYPE_MESSAGE}

    def msg(name, fields, oneof=None):
        d = fdp.message_type.add(name=name)
        if oneof:
            d.oneof_decl.add(name=oneof[0])
        for fname, num, t, *rest in fields:
            rep = "rep" in rest
            f = d.field.add(name=fname, number=num, type=types[t],
                            label=F.LABEL_REPEATED if rep else F.LABEL_OPTIONAL)
            tn = [r for r in rest if r not in ("rep",)]
            if t == "m":
                f.type_name = ".mttb." + tn[0]
            if oneof and fname in oneof[1]:
                f.oneof_index = 0

    msg("HistogramProto", [("min", 1, "d"), ("max", 2, "d"), ("num", 3, "d"), ("sum", 4, "d"),
                           ("sum_squares", 5, "d"), ("bucket_limit", 6, "d", "rep"),
                           ("bucket", 7, "d", "rep")])
    msg("Dim", [("size", 1, "i64")])
    msg("TensorShapeProto", [("dim", 2, "m", "rep", "Dim")])
    msg("TensorProto", [("dtype", 1, "i32"), ("tensor_shape", 2, "m", "TensorShapeProto"),
                        ("float_val", 5, "f", "rep"), ("double_val", 6, "d", "rep"),
                        ("string_val", 8, "b", "rep")])
    msg("PluginData", [("plugin_name", 1, "s"), ("content", 2, "b")])
    msg("SummaryMetadata", [("plugin_data", 1, "m", "PluginData")])
    msg("Image", [("height", 1, "i32"), ("width", 2, "i32"), ("colorspace", 3, "i32"), ("encoded", 4, "b")])
    msg("Value", [("tag", 1, "s"), ("simple_value", 2, "f"), ("image", 4, "m", "Image"),
                  ("histo", 5, "m", "HistogramProto"), ("tensor", 8, "m", "TensorProto"),
                  ("metadata", 9, "m", "SummaryMetadata")],
        oneof=("value", {"simple_value", "image", "histo", "tensor"}))
    msg("Summary", [("value", 1, "m", "rep", "Value")])
    msg("SessionLog", [("status", 1, "i32")])
    msg("Event", [("wall_time", 1, "d"), ("step", 2, "i64"), ("file_version", 3, "s"),
                  ("summary", 5, "m", "Summary"), ("session_log", 7, "m", "SessionLog")],
        oneof=("what", {"file_version", "summary", "session_log"}))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    get = message_factory.GetMessageClass
    return {n: get(pool.FindMessageTypeByName("mttb." + n)) for n in ("Event", "Summary", "Value")}


def test_encoding_matches_protobuf(tmp_path):
    pb = _pb_classes()
    with SummaryWriter(tmp_path, purge_step=7) as w:
        w.add_scalar("zero", 0.0, 0, walltime=0.0)
        w.add_scalar("s", mt.tensor(2.5), -3, walltime=12.25)
        w.add_scalar("ns", 1.25, 4, new_style=True)
        w.add_scalar("nd", 1.25, 4, new_style=True, double_precision=True)
        w.add_histogram("h", np.random.default_rng(0).normal(size=50), 2 ** 40)
        w.add_text("t", "héllo *md*", 1)
        w.add_image("i", np.zeros((3, 2, 2), np.uint8), 1)
    records = read_records(_files(tmp_path)[0])
    assert len(records) == 10
    for rec in records:                       # protobuf parses our bytes and re-encodes them identically
        ev = pb["Event"].FromString(rec)
        assert ev.SerializeToString(deterministic=True) == rec
    evs = [pb["Event"].FromString(r) for r in records]
    assert evs[0].file_version == "brain.Event:2"
    assert evs[1].step == 7 and evs[1].file_version == "brain.Event:2"
    assert evs[2].step == 7 and evs[2].session_log.status == 1
    assert evs[3].summary.value[0].WhichOneof("value") == "simple_value"   # 0.0 still written (oneof)
    assert evs[4].step == -3 and evs[4].wall_time == 12.25 and evs[4].summary.value[0].simple_value == 2.5
    assert evs[7].step == 2 ** 40
    # a scalar Event built by protobuf equals ours byte for byte
    ref = pb["Event"](wall_time=12.25, step=-3)
    ref.summary.value.add(tag="s", simple_value=2.5)
    assert ref.SerializeToString() == records[4]
    ref = pb["Summary"]()
    v = ref.value.add(tag="ns")
    v.tensor.dtype = 1
    v.tensor.float_val.append(1.25)
    v.metadata.plugin_data.plugin_name = "scalars"
    assert pb["Event"].FromString(records[5]).summary == ref


# ------------------------------------------------------------------ writer API

def test_scalars_roundtrip(tmp_path):
    t0 = time.time()
    w = SummaryWriter(tmp_path)
    assert w.get_logdir() == str(tmp_path)
    vals = [mt.tensor(0.5), np.float32(1.5), 2, np.array(3.25), mt.tensor([4.75])]
    for step, v in enumerate(vals):
        w.add_scalar("train/loss", v, step)
    w.add_scalar("lr", 0.1, walltime=1234.5)
    w.add_scalar("lr", 0.2, mt.tensor(9))
    w.close()
    t1 = time.time()
    evs = _events(tmp_path)
    assert evs[0]["file_version"] == "brain.Event:2" and t0 <= evs[0]["wall_time"] <= t1
    got = [(e["step"], e["summary"][0]["tag"], e["summary"][0]["simple_value"]) for e in evs[1:]]
    assert got == [(0, "train/loss", 0.5), (1, "train/loss", 1.5), (2, "train/loss", 2.0),
                   (3, "train/loss", 3.25), (4, "train/loss", 4.75), (0, "lr", np.float32(0.1)),
                   (9, "lr", np.float32(0.2))]
    assert evs[6]["wall_time"] == 1234.5
    assert all(t0 <= e["wall_time"] <= t1 for i, e in enumerate(evs) if i != 6)


def test_new_style_scalar(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("a", 1 / 3, 1, new_style=True)
        w.add_scalar("b", 1 / 3, 2, new_style=True, double_precision=True)
    (_, a), (_, b) = _summaries(tmp_path)
    assert a["tensor"]["dtype"] == 1 and a["tensor"]["float_val"] == [np.float32(1 / 3)]
    assert a["tensor"]["shape"] == [] and a["metadata"]["plugin_name"] == "scalars"
    assert b["tensor"]["dtype"] == 2 and b["tensor"]["double_val"] == [1 / 3]


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("run/loss", {"train": 1.0, "val": mt.tensor(2.0)}, 3, walltime=50.0)
        w.add_scalars("run/loss", {"train": 0.5, "val": 1.5}, 4)
    for sub, first in (("run_loss_train", 1.0), ("run_loss_val", 2.0)):
        evs = _events(tmp_path / sub)
        assert [e["step"] for e in evs[1:]] == [3, 4]
        assert evs[1]["summary"][0]["tag"] == "run/loss" and evs[1]["summary"][0]["simple_value"] == first
        assert evs[1]["wall_time"] == 50.0
    assert _events(tmp_path)[1:] == []


def test_histogram_buckets(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", np.array([0.5, 1.5, 1.5, 3.5]), 0, bins=[0, 1, 2, 3, 4])
        w.add_histogram("h", mt.tensor([[2.5]]), 1, bins=[0, 1, 2, 3, 4])
        w.add_histogram("h", np.arange(8.0), 2, bins=8, max_bins=3)
        x = np.random.default_rng(0).normal(size=(10, 10)).astype(np.float32)
        w.add_histogram("d", mt.tensor(x), 3)
    (_, a), (_, b), (_, c), (_, d) = _summaries(tmp_path)
    assert a["histo"]["bucket_limit"] == [0, 1, 2, 3, 4] and a["histo"]["bucket"] == [0, 1, 2, 0, 1]
    assert (a["histo"]["min"], a["histo"]["max"], a["histo"]["num"]) == (0.5, 3.5, 4)
    assert a["histo"]["sum"] == 7.0 and a["histo"]["sum_squares"] == 0.25 + 2.25 * 2 + 12.25
    assert b["histo"]["bucket_limit"] == [2, 3] and b["histo"]["bucket"] == [0, 1]
    assert sum(c["histo"]["bucket"]) == 8 and c["histo"]["bucket_limit"][-1] == 7.0
    h = d["histo"]
    assert sum(h["bucket"]) == 100 and h["num"] == 100 and len(h["bucket"]) == len(h["bucket_limit"])
    assert np.isclose(h["sum"], x.astype(np.float64).sum()) and h["min"] == float(x.min())
    lim = np.array(h["bucket_limit"])
    assert np.all(np.diff(lim) > 0) and set(lim.tolist()) <= set(w.default_bins)   # TensorBoard's buckets
    # bucket i counts the values between limit i-1 and limit i; bucket 0 is the empty one before
    assert h["bucket"][0] == 0
    assert np.array_equal(np.histogram(x, bins=lim)[0], np.array(h["bucket"][1:]))


def test_histogram_raw_and_tensor(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram_raw("r", 0, 2, 3, 3, 5, [1, 2], [1, 2], 5)
        w.add_tensor("t", mt.tensor([[1, 2], [3, 4]], dtype=mt.float32), 6)
        with pytest.raises(ValueError, match="len\\(bucket_limits\\) != len\\(bucket_counts\\)"):
            w.add_histogram_raw("r", 0, 2, 3, 3, 5, [1, 2], [1])
    (s1, r), (s2, t) = _summaries(tmp_path)
    assert s1 == 5 and r["histo"]["bucket"] == [1, 2] and r["histo"]["sum_squares"] == 5
    assert s2 == 6 and t["tensor"]["shape"] == [2, 2] and t["tensor"]["float_val"] == [1, 2, 3, 4]


def test_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "**bold** é", 2, walltime=3.0)
    ((step, v),) = _summaries(tmp_path)
    assert step == 2 and v["tag"] == "notes/text_summary"
    assert v["tensor"]["dtype"] == 7 and v["tensor"]["shape"] == [1]
    assert v["tensor"]["string_val"] == ["**bold** é".encode()]
    assert v["metadata"]["plugin_name"] == "text" and v["metadata"]["content"] == b""


def test_image_png(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    chw = rng.random((3, 4, 5)).astype(np.float32)
    hw = rng.integers(0, 256, (4, 6)).astype(np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_image("c", mt.tensor(chw), 0)
        w.add_image("g", hw, 1, dataformats="HW")
        w.add_images("b", rng.random((10, 1, 2, 3)), 2)
        with pytest.raises(ValueError, match="size of input tensor and input format are different"):
            w.add_image("x", chw, dataformats="HW")
    (_, c), (_, g), (_, b) = _summaries(tmp_path)
    img = np.asarray(Image.open(io.BytesIO(c["image"]["encoded_image_string"])))
    assert (c["image"]["height"], c["image"]["width"], c["image"]["colorspace"]) == (4, 5, 3)
    assert np.array_equal(img, (chw.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8))
    img = np.asarray(Image.open(io.BytesIO(g["image"]["encoded_image_string"])))
    assert np.array_equal(img, np.stack([hw] * 3, 2))
    assert (b["image"]["height"], b["image"]["width"]) == (4, 24)   # 10 images, 8 per row


def test_audio(tmp_path):
    snd = np.sin(np.linspace(0, 20, 100)) * 0.5
    with SummaryWriter(tmp_path) as w:
        w.add_audio("a", mt.tensor(snd[None]), 0, sample_rate=8000)
    ((_, a),) = _summaries(tmp_path)
    assert a["audio"]["sample_rate"] == 8000 and a["audio"]["length_frames"] == 100
    with wave.open(io.BytesIO(a["audio"]["encoded_audio_string"])) as wav:
        pcm = np.frombuffer(wav.readframes(100), "<i2")
    assert np.allclose(pcm / 32767, snd, atol=1e-4)


def test_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "opt": "adam", "bs": mt.tensor(32), "skip": None},
                      {"acc": 0.9}, hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="r1",
                      global_step=3)
        with pytest.raises(TypeError, match="should be dictionary"):
            w.add_hparams([1], {})
        with pytest.raises(TypeError, match=r"hparam_domain_discrete\[opt\] should be a list"):
            w.add_hparams({"opt": "adam"}, {}, hparam_domain_discrete={"opt": [1]})
        with pytest.raises(ValueError, match="value should be one of"):
            w.add_hparams({"f": [1, 2]}, {})
    evs = _events(tmp_path / "r1")
    tags = [e["summary"][0]["tag"] for e in evs[1:]]
    assert tags == ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info",
                    "acc"]
    assert all(e["step"] == 3 for e in evs[1:])
    md = [e["summary"][0]["metadata"] for e in evs[1:4]]
    assert all(m["plugin_name"] == "hparams" for m in md)
    ((f, _, exp),) = parse(md[0]["content"])
    assert f == 2
    fields = parse(exp)
    names = [parse(v)[0][2] for k, _, v in fields if k == 4]
    assert names == [b"lr", b"opt", b"bs"]
    metric = [v for k, _, v in fields if k == 5]
    assert parse(parse(metric[0])[0][2]) == [(2, 2, b"acc")]
    ((f, _, ssi),) = parse(md[1]["content"])
    assert f == 3 and len(parse(ssi)) == 3
    assert parse(md[2]["content"]) == [(4, 2, b"\x08\x01")]          # STATUS_SUCCESS
    assert evs[4]["summary"][0]["simple_value"] == np.float32(0.9)


def test_buffering_and_flush(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3, flush_secs=1000)
    (path,) = _files(tmp_path)
    assert len(_read_events(path)) == 1                    # the file_version header is written at once
    w.add_scalar("a", 1, 0)
    w.add_scalar("a", 2, 1)
    assert len(_read_events(path)) == 1                    # queued
    w.add_scalar("a", 3, 2)
    assert len(_read_events(path)) == 4                    # max_queue reached: written
    w.add_scalar("a", 4, 3)
    w.flush()
    assert len(_read_events(path)) == 5
    w.close()
    w.close()                                              # idempotent
    w.add_scalar("a", 5, 4)                                # reopens a new file, as torch
    w.close()
    assert len(_files(tmp_path)) == 2


def test_background_flush(tmp_path):
    w = SummaryWriter(tmp_path, flush_secs=0.05)
    w.add_scalar("a", 1, 0)
    (path,) = _files(tmp_path)
    for _ in range(100):
        if len(_read_events(path)) == 2:
            break
        time.sleep(0.02)
    assert len(_read_events(path)) == 2
    w.close()


def test_filename_and_default_logdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", filename_suffix=".v2")
    d = w.get_logdir()
    assert d.startswith("runs" + os.sep) and d.endswith("_" + socket.gethostname() + "_lr0.1")
    (path,) = _files(d)
    name = os.path.basename(path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
    assert f".{socket.gethostname()}.{os.getpid()}." in name
    w.close()


def test_bad_values_and_unsupported(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(AssertionError, match=r"add_scalar\(\): scalar should be 0D"):
            w.add_scalar("a", mt.ones(3))
        with pytest.raises(NotImplementedError, match="add_scalar.*got <class 'list'>"):
            w.add_scalar("a", [1.0])
        with pytest.raises(ValueError, match="The input has no element"):
            w.add_histogram("h", np.array([]))
        with pytest.raises(NotImplementedError, match=r"add_graph\(\) is not supported.*mt.jit.trace"):
            w.add_graph(mt.nn.Linear(2, 2), mt.ones(1, 2))
        with pytest.raises(TypeError, match="add_text"):
            w.add_text("t", 3)


def test_inside_jit_raises_clear_error(tmp_path):
    w = SummaryWriter(tmp_path)

    @mt.jit
    def step(x):
        y = (x * 2).sum()
        w.add_scalar("y", y, 0)
        return y

    with pytest.raises(mt.jit.JitError, match=r"SummaryWriter.add_scalar\(\) needs the tensor's value"):
        step(mt.ones(3))
    with mt.jit.disable():
        assert step(mt.ones(3)).item() == 6.0
    w.close()
    assert [v["simple_value"] for _, v in _summaries(tmp_path)] == [6.0]


def test_read_with_tensorboard_event_accumulator(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(tmp_path) as w:
        for i in range(3):
            w.add_scalar("loss", 1.0 / (i + 1), i)
        w.add_histogram("h", np.arange(10.0), 0)
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(s.step, s.value) for s in acc.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, np.float32(1 / 3))]
    assert acc.Histograms("h")[0].histogram_value.num == 10


def test_scalar_summary_bytes_match_torch():
    pytest.importorskip("tensorboard")
    tsum = pytest.importorskip("torch.utils.tensorboard.summary")
    from minitorch_jax.utils.tensorboard import _summary
    assert _summary.scalar("x", 0.25) == tsum.scalar("x", 0.25).SerializeToString()
    ours = _summary.scalar("x", 0.25, new_style=True)
    assert ours == tsum.scalar("x", 0.25, new_style=True).SerializeToString()
    assert _summary.text("t", "hi") == tsum.text("t", "hi").SerializeToString()


def test_pending_events_written_when_writer_is_collected(tmp_path):
    import gc
    w = SummaryWriter(tmp_path, max_queue=100)
    w.add_scalar("a", 1.0, 0)
    (path,) = _files(tmp_path)
    assert len(_read_events(path)) == 1
    del w                                     # the same finalizer runs at interpreter exit
    gc.collect()
    assert len(_read_events(path)) == 2
