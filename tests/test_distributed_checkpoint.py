"""mt.distributed.checkpoint (DCP) and its state_dict helpers: round trips, torch key parity, errors,
one 2-process save/load."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
import minitorch_jax.distributed.checkpoint as dcp
from minitorch_jax.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
    set_state_dict,
)
from tests.launch_env import launch_env


def _mlp(seed=0):
    mt.manual_seed(seed)
    return mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.ReLU(), mt.nn.Linear(4, 2))


X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)


def _step(m, opt):
    opt.zero_grad()
    m(mt.tensor(X)).pow(2).sum().backward()
    opt.step()


def _save(sd, path):
    dcp.save(sd, checkpoint_id=path, no_dist=True)


def _load(sd, path, **kw):
    dcp.load(sd, checkpoint_id=path, no_dist=True, **kw)


def test_key_structure_matches_torch_mlp_adam():
    from tests.oracle import torch

    tsd = pytest.importorskip("torch.distributed.checkpoint.state_dict")

    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    topt = torch.optim.Adam(tm.parameters())
    tm(torch.tensor(X)).pow(2).sum().backward()
    topt.step()
    m = _mlp()
    opt = mt.optim.Adam(m.parameters())
    _step(m, opt)
    for opts in [None, tsd.StateDictOptions(flatten_optimizer_state_dict=True)]:
        mine = None if opts is None else StateDictOptions(flatten_optimizer_state_dict=True)
        tmsd, tosd = tsd.get_state_dict(tm, topt, options=opts)
        msd, osd = get_state_dict(m, opt, options=mine)
        assert list(msd) == list(tmsd)
        if opts is None:
            assert list(osd) == ["state", "param_groups"]
            assert list(osd["state"]) == list(tosd["state"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
            assert all(set(osd["state"][k]) == set(tosd["state"][k]) for k in tosd["state"])
            assert [g["params"] for g in osd["param_groups"]] == [g["params"] for g in tosd["param_groups"]]
            assert set(osd["param_groups"][0]) == set(tosd["param_groups"][0])
        else:
            assert set(osd) == set(tosd)


def test_roundtrip_into_fresh_model_continues_identically(tmp_path):
    m = _mlp(0)
    opt = mt.optim.Adam(m.parameters(), lr=0.05)
    _step(m, opt)
    msd, osd = get_state_dict(m, opt)
    _save({"model": msd, "optim": osd, "epoch": 1}, tmp_path)
    assert sorted(os.listdir(tmp_path)) == [".metadata", "__0_0.distcp"]

    m2 = _mlp(1)
    opt2 = mt.optim.Adam(m2.parameters(), lr=0.05)
    assert not opt2.state
    msd2, osd2 = get_state_dict(m2, opt2)  # fresh optimizer: state created so load has targets
    w = msd2["0.weight"]
    sd = {"model": msd2, "optim": osd2, "epoch": 0}
    _load(sd, tmp_path)
    assert sd["epoch"] == 1 and sd["model"]["0.weight"] is w  # in place; non-tensors replaced
    set_state_dict(m2, opt2, model_state_dict=msd2, optim_state_dict=osd2)
    for _ in range(2):
        _step(m, opt)
        _step(m2, opt2)
    for a, b in zip(m.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_inside_jit_training_uses_loaded_weights(tmp_path):
    m = _mlp(0)
    opt = mt.optim.SGD(m.parameters(), lr=0.1)

    @mt.jit
    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    x = mt.tensor(X)
    step(x)
    _save({"model": get_model_state_dict(m)}, tmp_path)
    want = [step(x).item() for _ in range(2)]
    _load({"model": get_model_state_dict(m)}, tmp_path)  # live tensors: rewinds in place
    got = [step(x).item() for _ in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_nested_structure_stateful_and_flat_keys(tmp_path):
    class Counter:
        def __init__(self, n):
            self.n = n

        def state_dict(self):
            return {"n": self.n}

        def load_state_dict(self, sd):
            self.n = sd["n"]

    t = mt.arange(6.0).reshape(2, 3)
    md = dcp.save({"a": {"b": t, "lst": [mt.ones(2), 7]}, "c": Counter(5), "s": "x", "tup": (1, 2)},
                  checkpoint_id=tmp_path, no_dist=True)
    assert set(md.state_dict_metadata) == {"a.b", "a.lst.0", "a.lst.1", "c.n", "s", "tup"}
    assert md.state_dict_metadata["a.b"].size == mt.Size([2, 3])
    assert isinstance(md.state_dict_metadata["s"], dcp.BytesStorageMetadata)
    reread = dcp.FileSystemReader(tmp_path).read_metadata()
    assert set(reread.state_dict_metadata) == set(md.state_dict_metadata)
    tgt = mt.zeros(2, 3, dtype=mt.float64)
    c = Counter(0)
    sd = {"a": {"b": tgt, "lst": [mt.zeros(2), 0]}, "c": c, "tup": None}
    _load(sd, tmp_path)
    assert sd["a"]["b"] is tgt and tgt.dtype == mt.float64 and tgt.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert sd["a"]["lst"][0].tolist() == [1, 1] and sd["a"]["lst"][1] == 7
    assert c.n == 5 and sd["c"] is c and sd["tup"] == (1, 2)
    # partial load: only asked-for keys are read; allow_partial_load skips missing ones
    part = {"s": None, "zzz": 1}
    dcp.load(part, storage_reader=dcp.FileSystemReader(tmp_path), no_dist=True,
             planner=dcp.DefaultLoadPlanner(allow_partial_load=True))
    assert part == {"s": "x", "zzz": 1}


def test_warns_without_process_group_and_torch_reads_data_file(tmp_path):
    with pytest.warns(UserWarning, match="assuming the intent is to save in a single process"):
        dcp.save({"w": mt.tensor([1.0, 2.0])}, checkpoint_id=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load({"w": mt.zeros(2)}, tmp_path)
    from tests.oracle import torch

    data = torch.load(os.path.join(tmp_path, "__0_0.distcp"), weights_only=True)
    assert data["w"].tolist() == [1.0, 2.0]


def test_async_save_snapshots(tmp_path):
    t = mt.tensor([1.0, 2.0])
    fut = dcp.async_save({"t": t}, checkpoint_id=tmp_path, no_dist=True)
    t.add_(10)
    md = fut.result(timeout=30)
    assert "t" in md.state_dict_metadata
    out = {"t": mt.zeros(2)}
    _load(out, tmp_path)
    assert out["t"].tolist() == [1.0, 2.0]


def test_set_helpers_options():
    m = _mlp(0)
    m[0].weight.requires_grad_(False)
    sd = get_model_state_dict(m, options=StateDictOptions(ignore_frozen_params=True))
    assert "0.weight" not in sd and "0.bias" in sd
    sub = get_model_state_dict(m, submodules={m[2]}, options=StateDictOptions(keep_submodule_prefixes=False))
    assert list(sub) == ["weight", "bias"]
    m2 = _mlp(1)
    res = set_model_state_dict(m2, {"0.bias": sd["0.bias"]}, options=StateDictOptions(strict=False))
    assert "0.weight" in res.missing_keys
    with pytest.raises(RuntimeError, match="Missing key"):
        set_model_state_dict(m2, {"0.bias": sd["0.bias"]})
    with pytest.raises(ValueError, match="broadcast_from_rank0"):
        get_model_state_dict(m, options=StateDictOptions(broadcast_from_rank0=True))
    opt = mt.optim.SGD(m.parameters(), lr=0.3, momentum=0.9)
    _step(m, opt)
    flat = get_optimizer_state_dict(m, opt, options=StateDictOptions(flatten_optimizer_state_dict=True))
    assert flat["param_groups.2.bias.lr"] == 0.3
    opt2 = mt.optim.SGD(_mlp(2).parameters(), lr=0.01, momentum=0.9)
    with pytest.raises(ValueError, match="not a parameter of the model"):
        get_optimizer_state_dict(m, opt2)
    opt3 = mt.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    set_optimizer_state_dict(m, opt3, flat)
    assert opt3.param_groups[0]["lr"] == 0.3
    np.testing.assert_array_equal(opt3.state_dict()["state"][3]["momentum_buffer"].numpy(),
                                  opt.state_dict()["state"][3]["momentum_buffer"].numpy())


def test_bad_input_errors(tmp_path):
    _save({"model": {"w": mt.ones(2, 3)}, "n": 1}, tmp_path)
    with pytest.raises(dcp.CheckpointException, match=r"Missing key in checkpoint state_dict: model\.nope\."):
        _load({"model": {"nope": mt.ones(1)}}, tmp_path)
    with pytest.raises(dcp.CheckpointException, match=r"Size mismatch .*\[2, 3\].*\[3, 3\].* model\.w"):
        _load({"model": {"w": mt.ones(3, 3)}}, tmp_path)
    with pytest.raises(dcp.CheckpointException, match="expected BytesStorageMetadata"):
        _load({"model": {"w": 5}}, tmp_path)
    with pytest.raises(RuntimeError, match="checkpoint_id"):
        dcp.save({"a": mt.ones(1)}, no_dist=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        _load({"a": mt.ones(1)}, tmp_path / "absent")
    with pytest.raises(dcp.CheckpointException, match="overwrite=False"):
        dcp.save({"a": mt.ones(1)}, storage_writer=dcp.FileSystemWriter(tmp_path, overwrite=False),
                 no_dist=True)
    data = tmp_path / "__0_0.distcp"
    data.write_bytes(data.read_bytes()[:-40])  # truncated data file
    w = mt.zeros(2, 3)
    with pytest.raises(dcp.CheckpointException, match=r"__0_0\.distcp.*corrupt or truncated"):
        _load({"model": {"w": w}}, tmp_path)
    assert w.tolist() == [[0.0] * 3] * 2  # nothing half-loaded
    (tmp_path / ".metadata").write_bytes(b'{"format": "minitorch_jax.distributed.chec')
    with pytest.raises(dcp.CheckpointException, match=r"\.metadata.*corrupt or truncated"):
        _load({"n": 0}, tmp_path)


_SCRIPT = """
import os
import sys
import minitorch_jax as mt
import minitorch_jax.distributed as dist
import minitorch_jax.distributed.checkpoint as dcp
from minitorch_jax.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                              set_model_state_dict)
dist.init_process_group("gloo")
r = dist.get_rank()
path = sys.argv[1]
mt.manual_seed(0)
m = mt.nn.Linear(3, 2)
dcp.save({"model": m.state_dict(), "only_on": {f"rank{r}": mt.full((2,), float(r))}}, checkpoint_id=path)
files = sorted(__import__("os").listdir(path))
assert files == [".metadata", "__0_0.distcp", "__1_0.distcp"], files
m2 = mt.nn.Linear(3, 2)
sd = {"model": get_model_state_dict(m2), "only_on": {"rank1": mt.zeros(2)}}
dcp.load(sd, checkpoint_id=path)
assert mt.equal(m2.weight, m.weight), (m2.weight, m.weight)
assert sd["only_on"]["rank1"].tolist() == [1.0, 1.0], sd
m3 = mt.nn.Linear(3, 2)
full = get_model_state_dict(m) if r == 0 else {}
set_model_state_dict(m3, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
assert mt.equal(m3.bias, m.bias), (m3.bias, m.bias)
os.write(1, f"OK {r}\\n".encode())  # one write: both ranks share the launcher's pipe
"""


def test_two_process_save_load(tmp_path):
    script = tmp_path / "dcp2.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    env = launch_env()
    r = subprocess.run([sys.executable, "-m", "minitorch_jax.distributed.run", "--nproc-per-node", "2",
                        str(script), str(tmp_path / "ck")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "OK 0" in r.stdout and "OK 1" in r.stdout
