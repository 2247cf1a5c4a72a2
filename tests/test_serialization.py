"""mt.save / mt.load: torch zip, legacy and safetensors formats; parity with real torch files;
safety against hostile pickles; robustness against corrupted files; atomic writes."""

from __future__ import annotations

import io
import os
import pickle
import random
import signal
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.serialization import CheckpointError, UnsafeCheckpointError, load, save

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool",
          "complex64", "complex128"]


def _raw(x) -> bytes:
    """The exact bytes of a tensor's values (torch or mt), C order."""
    if isinstance(x, torch.Tensor):
        x = x.detach().contiguous()
        if x.dtype == torch.bfloat16:
            return x.view(torch.int16).numpy().tobytes()
        return x.numpy().tobytes()
    return np.ascontiguousarray(np.asarray(x._data)).tobytes()


def _torch_tensor(name, shape=(3, 4), seed=0):
    g = torch.Generator().manual_seed(seed)
    dt = getattr(torch, name)
    if name == "bool":
        return torch.rand(shape, generator=g) > 0.5
    if dt.is_floating_point or dt.is_complex:
        return (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(dt) if not dt.is_complex else \
            torch.randn(shape, generator=g, dtype=dt)
    return torch.randint(-100 if name != "uint8" else 0, 100, shape, generator=g).to(dt)


def _same(m, t):
    assert isinstance(m, mt.Tensor), type(m)
    assert m.dtype.name == str(t.dtype).rsplit(".", 1)[-1]
    assert tuple(m.shape) == tuple(t.shape)
    assert _raw(m) == _raw(t)


# ---------------------------------------------------------------- round trips ---------------------
def test_roundtrip_nested(tmp_path):
    p = mt.nn.Parameter(mt.randn(2, 3))
    obj = {"a": [1, -7, 2 ** 70, 2.5, None, "s", True, (3, 4)], "t": mt.arange(6).reshape(2, 3),
           "p": p, "again": p, "nested": {"x": [mt.ones(2, dtype=mt.bfloat16)], "e": mt.zeros(0, 3)},
           "b": b"\x00\xff", "set": {1, 2}, "c": 1 + 2j, "dt": mt.float16, "scalar": mt.tensor(3.5)}
    path = tmp_path / "o.pt"
    save(obj, path)
    out = load(path)
    assert out["a"] == obj["a"] and out["b"] == obj["b"] and out["set"] == {1, 2} and out["c"] == 1 + 2j
    assert out["dt"] is mt.float16
    assert isinstance(out["p"], mt.nn.Parameter) and out["p"].requires_grad
    assert not isinstance(out["t"], mt.nn.Parameter)
    assert _raw(out["p"]) == _raw(p) and _raw(out["again"]) == _raw(p)
    assert out["nested"]["x"][0].dtype is mt.bfloat16 and tuple(out["nested"]["e"].shape) == (0, 3)
    assert out["scalar"].shape == () and out["scalar"].item() == 3.5


@pytest.mark.parametrize("name", DTYPES)
def test_dtypes_roundtrip_and_torch_reads_mt(tmp_path, name):
    t = _torch_tensor(name)
    m = mt.tensor(t.numpy()) if name != "bfloat16" else mt.tensor(t.float().numpy()).to(mt.bfloat16)
    path = tmp_path / "x.pt"
    save({"x": m}, path)
    _same(load(path)["x"], t)
    back = torch.load(path, weights_only=True)["x"]
    assert back.dtype == t.dtype and torch.equal(back, t)


def test_file_objects_and_map_location():
    buf = io.BytesIO()
    save({"w": mt.ones(2)}, buf)
    buf.seek(0)
    out = load(buf, map_location="cpu")
    assert out["w"].tolist() == [1.0, 1.0]
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["w"].tolist() == [1.0, 1.0]


def test_unsupported_object_errors(tmp_path):
    with pytest.raises(TypeError, match="cannot save"):
        save({"x": object()}, tmp_path / "a.pt")
    lst = []
    lst.append(lst)
    with pytest.raises(ValueError, match="cycle"):
        save(lst, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="format"):
        save({}, tmp_path / "c.pt", format="hdf5")


# ---------------------------------------------------------------- parity with real torch -------------
class _TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4 * 5 * 5, 6)
        self.lstm = torch.nn.LSTM(6, 5, batch_first=True)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x))).flatten(1)
        return self.lstm(self.fc(h).unsqueeze(1))[0]


class _MtNet(mt.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = mt.nn.Conv2d(2, 4, 3, padding=1)
        self.bn = mt.nn.BatchNorm2d(4)
        self.fc = mt.nn.Linear(4 * 5 * 5, 6)
        self.lstm = mt.nn.LSTM(6, 5, batch_first=True)

    def forward(self, x):
        h = mt.relu(self.bn(self.conv(x))).flatten(1)
        return self.lstm(self.fc(h).unsqueeze(1))[0]


@pytest.mark.parametrize("legacy", [False, True])
def test_torch_model_state_dict_loads_into_mt_model(tmp_path, legacy):
    torch.manual_seed(0)
    tnet = _TorchNet()
    tnet.train()
    tnet(torch.randn(8, 2, 5, 5))  # give BatchNorm non-trivial running stats
    tnet.eval()
    path = tmp_path / "net.pt"
    torch.save(tnet.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    sd = load(path)
    assert list(sd) == list(tnet.state_dict())
    for k, v in tnet.state_dict().items():
        _same(sd[k], v)
    mnet = _MtNet()
    mnet.load_state_dict(sd)
    mnet.eval()
    x = np.random.default_rng(0).standard_normal((3, 2, 5, 5)).astype(np.float32)
    with torch.no_grad():
        want = tnet(torch.from_numpy(x)).numpy()
    got = mnet(mt.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # and back: what mt saves, torch loads into the torch model with the same outputs
    save(mnet.state_dict(), tmp_path / "back.pt")
    t2 = _TorchNet()
    t2.load_state_dict(torch.load(tmp_path / "back.pt", weights_only=True))
    t2.eval()
    with torch.no_grad():
        np.testing.assert_array_equal(t2(torch.from_numpy(x)).numpy(), want)


def test_torch_views_offsets_shared_storage_and_parameters(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"t": base.t(), "slice": base[1:, 2:5], "step": base[:, ::2], "row": base[2],
           "p": torch.nn.Parameter(torch.randn(3)),
           "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
           "bf": torch.randn(5).to(torch.bfloat16), "f16": torch.randn(2, 2).half(),
           "empty": torch.zeros(0, 2),
           "size": torch.Size([2, 3]), "dtype": torch.float16, "dev": torch.device("cpu"), "expand":
           torch.ones(3, 1).expand(3, 4)}
    for legacy in (False, True):
        path = tmp_path / f"v{legacy}.pt"
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        out = load(path)
        for k in ("t", "slice", "step", "row", "bf", "f16", "empty", "expand"):
            _same(out[k], obj[k])
        assert isinstance(out["p"], mt.nn.Parameter) and out["p"].requires_grad
        assert isinstance(out["frozen"], mt.nn.Parameter) and not out["frozen"].requires_grad
        assert tuple(out["size"]) == (2, 3) and out["dtype"] is mt.float16 and str(out["dev"]) == "cpu"


def test_torch_adam_state_dict_continues_like_torch(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Linear(4, 3)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01, betas=(0.8, 0.95))
    x, y = torch.randn(8, 4), torch.randn(8, 3)

    def tstep():
        topt.zero_grad()
        torch.nn.functional.mse_loss(tmodel(x), y).backward()
        topt.step()

    for _ in range(3):
        tstep()
    torch.save({"model": tmodel.state_dict(), "opt": topt.state_dict()}, tmp_path / "ck.pt")
    ck = load(tmp_path / "ck.pt")
    assert ck["opt"]["param_groups"][0]["betas"] == (0.8, 0.95)
    st = ck["opt"]["state"][0]
    _same(st["exp_avg"], topt.state_dict()["state"][0]["exp_avg"])
    _same(st["step"], topt.state_dict()["state"][0]["step"])
    mmodel = mt.nn.Linear(4, 3)
    mmodel.load_state_dict(ck["model"])
    mopt = mt.optim.Adam(mmodel.parameters(), lr=0.01, betas=(0.8, 0.95))
    mopt.load_state_dict(ck["opt"])
    mx, my = mt.tensor(x.numpy()), mt.tensor(y.numpy())
    for _ in range(3):
        tstep()
        mopt.zero_grad()
        mt.nn.functional.mse_loss(mmodel(mx), my).backward()
        mopt.step()
    np.testing.assert_allclose(mmodel.weight.detach().numpy(), tmodel.weight.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # the mt optimizer state saved by mt is read by torch's weights-only loader
    save(mopt.state_dict(), tmp_path / "mopt.pt")
    tsd = torch.load(tmp_path / "mopt.pt", weights_only=True)
    topt.load_state_dict(tsd)


# ---------------------------------------------------------------- safetensors ------------------------
def test_safetensors_roundtrip_and_errors(tmp_path):
    sd = {"w": mt.randn(3, 2), "b": mt.arange(4, dtype=mt.int64), "h": mt.ones(2, dtype=mt.bfloat16),
          "m": mt.tensor([True, False]), "c": mt.tensor([1 + 2j], dtype=mt.complex64), "z": mt.zeros(0)}
    path = tmp_path / "m.safetensors"
    save(sd, path)
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    assert n % 8 == 0 and data[8:9] == b"{"
    out = load(path)
    assert set(out) == set(sd)
    for k in sd:
        assert out[k].dtype is sd[k].dtype and _raw(out[k]) == _raw(sd[k])
    with pytest.raises(TypeError, match="flat dict"):
        save({"a": {"b": mt.ones(1)}}, tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="flat dict"):
        save([mt.ones(1)], tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_safetensors_handwritten_spec_file(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, 8], dtype=np.int16)
    header = {"__metadata__": {"k": "v"}, "b": {"dtype": "I16", "shape": [2], "data_offsets": [24, 28]},
              "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
    import json
    h = json.dumps(header).encode()
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", len(h)) + h + a.tobytes() + b.tobytes())
    out = load(path)
    np.testing.assert_array_equal(out["a"].numpy(), a)
    assert out["b"].dtype is mt.int16 and out["b"].tolist() == [7, 8]
    header["b"]["data_offsets"] = [20, 24]  # overlapping
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + a.tobytes() + b.tobytes())
    with pytest.raises(CheckpointError):
        load(path)


# ---------------------------------------------------------------- safety ------------------------------
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _zip_with_pickle(pkl: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


@pytest.mark.parametrize("weights_only", [True, False])
def test_hostile_pickles_are_refused_without_running(tmp_path, weights_only):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"x": _Evil(marker)}, protocol=2)
    cases = {
        "zip.pt": _zip_with_pickle(evil),
        "zip4.pt": _zip_with_pickle(pickle.dumps([_Evil(marker)], protocol=4)),
        "legacy.pt": evil,
        "torchsave.pt": None,
    }
    buf = io.BytesIO()
    torch.save({"x": _Evil(marker)}, buf)
    cases["torchsave.pt"] = buf.getvalue()
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UnsafeCheckpointError, match=r"refusing to load '(posix|os|nt)\.system'") as ei:
            load(tmp_path / name, weights_only=weights_only)
        assert isinstance(ei.value, pickle.UnpicklingError) and isinstance(ei.value, RuntimeError)
    eval_pkl = b"\x80\x02cbuiltins\neval\nX\x0b\x00\x00\x00print('hi')\x85R."
    (tmp_path / "eval.pt").write_bytes(_zip_with_pickle(eval_pkl))
    with pytest.raises(UnsafeCheckpointError, match="'builtins.eval'"):
        load(tmp_path / "eval.pt", weights_only=weights_only)
    assert not marker.exists()


def test_huge_memo_index_and_buffer_opcodes_refused():
    huge_put = b"\x80\x02]r\xff\xff\xff\x7f."  # EMPTY_LIST, LONG_BINPUT 2**31-1
    with pytest.raises(CheckpointError, match="memo index"):
        load(io.BytesIO(_zip_with_pickle(huge_put)))
    buf_op = b"\x80\x05\x97."  # NEXT_BUFFER
    with pytest.raises(CheckpointError, match="NEXT_BUFFER"):
        load(io.BytesIO(_zip_with_pickle(buf_op)))


def test_empty_and_wrong_format(tmp_path):
    (tmp_path / "e.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load(tmp_path / "e.pt")
    (tmp_path / "t.pt").write_text("hello, this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a recognized checkpoint"):
        load(tmp_path / "t.pt")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "x")
    (tmp_path / "z.pt").write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError, match="data.pkl"):
        load(tmp_path / "z.pt")


def _valid_files():
    sd = OrderedDict([("w", mt.randn(3, 4)), ("b", mt.arange(3)), ("h", mt.ones(2, dtype=mt.float16))])
    files = {}
    buf = io.BytesIO()
    save({"sd": sd, "meta": [1, 2.0, "x", None]}, buf)
    files["mt_zip"] = buf.getvalue()
    tbuf = io.BytesIO()
    torch.save({"w": torch.randn(3, 4), "p": torch.nn.Parameter(torch.ones(2))}, tbuf,
               _use_new_zipfile_serialization=False)
    files["legacy"] = tbuf.getvalue()
    sbuf = io.BytesIO()
    save(dict(sd), sbuf, format="safetensors")
    files["safetensors"] = sbuf.getvalue()
    with zipfile.ZipFile(io.BytesIO(files["mt_zip"])) as zf:
        files["pickle"] = zf.read("archive/data.pkl")
        files["storages"] = {n: zf.read(n) for n in zf.namelist() if n != "archive/data.pkl"}
    return files


def _rezip(pkl, storages):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        for n, d in storages.items():
            zf.writestr(n, d)
    return buf.getvalue()


def _mutate(rng, data: bytes) -> bytes:
    kind = rng.randrange(3)
    if kind == 0 or len(data) < 2:
        return data[: rng.randrange(len(data))]
    b = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(b))
        b[i] = rng.randrange(256) if kind == 1 else b[i] ^ (1 << rng.randrange(8))
    return bytes(b)


def test_fuzz_corrupted_files_load_or_raise_checkpoint_error():
    files = _valid_files()
    rng = random.Random(1234)

    def on_alarm(signum, frame):
        raise TimeoutError("mt.load hung on a corrupted file")

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        for kind in ("mt_zip", "legacy", "safetensors", "pickle"):
            for _ in range(150):
                if kind == "pickle":  # corrupt the pickle inside a zip whose CRCs are valid
                    data = _rezip(_mutate(rng, files["pickle"]), files["storages"])
                else:
                    data = _mutate(rng, files[kind])
                signal.alarm(5)
                try:
                    load(io.BytesIO(data))
                except CheckpointError:
                    pass
                finally:
                    signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)


def test_truncated_file_message(tmp_path):
    path = tmp_path / "x.pt"
    save({"w": mt.ones(100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="x.pt"):
        load(path)


# ---------------------------------------------------------------- atomic writes -------------------------
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    save({"w": mt.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save({"w": mt.zeros(3), "bad": object()}, path)
    assert path.read_bytes() == before
    from minitorch_jax.serialization import _save
    real = _save._padded
    calls = []

    def flaky(zf, fp, name, data):
        calls.append(name)
        if len(calls) == 5:
            raise KeyboardInterrupt("simulated interruption mid-write")
        real(zf, fp, name, data)

    monkeypatch.setattr(_save, "_padded", flaky)
    with pytest.raises(KeyboardInterrupt):
        save({"w": mt.zeros(3), "v": mt.zeros(4)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ck.pt"]
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("kind", ["mt-zip", "torch-zip", "torch-legacy", "safetensors"])
def test_mmap_loads_the_same(tmp_path, kind):
    rng = np.random.default_rng(3)
    arrays = {"w": rng.standard_normal((4, 5)).astype(np.float32), "b": np.arange(5, dtype=np.int64),
              "h": rng.standard_normal(3).astype(np.float16)}
    path = tmp_path / ("f.safetensors" if kind == "safetensors" else "f.pt")
    if kind in ("mt-zip", "safetensors"):
        save({k: mt.tensor(v) for k, v in arrays.items()}, path)
    else:
        torch.save({k: torch.tensor(v) for k, v in arrays.items()}, path,
                   _use_new_zipfile_serialization=kind == "torch-zip")
    plain = load(path)
    mapped = load(path, mmap=True)
    assert set(mapped) == set(arrays)
    for k, v in arrays.items():
        assert _raw(mapped[k]) == _raw(plain[k]) == v.tobytes()
        assert mapped[k].dtype == plain[k].dtype


def test_mmap_needs_a_path_and_pickle_module_is_checked(tmp_path):
    path = tmp_path / "f.pt"
    save({"a": mt.ones(2)}, path)
    with open(path, "rb") as fh, pytest.raises(ValueError, match="must be a file path .* mmap"):
        load(fh, mmap=True)
    assert load(path, None, pickle)["a"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="pickle_module='json' is not supported"):
        import json
        load(path, None, json)
    with pytest.raises(CheckpointError, match="empty"):
        (tmp_path / "empty.pt").write_bytes(b"")
        load(tmp_path / "empty.pt", mmap=True)
    truncated = tmp_path / "t.pt"
    truncated.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError):
        load(truncated, mmap=True)
