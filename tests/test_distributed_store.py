"""mt.distributed's key-value stores (HashStore, TCPStore, FileStore, PrefixStore) against torch's, across
threads and processes, their errors, and init_process_group(store=...)."""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import minitorch_jax.distributed as mdist
from tests.launch_env import launch_env

from .oracle import torch

tdist = pytest.importorskip("torch.distributed")

SHORT = datetime.timedelta(seconds=0.3)
SCRIPT = Path(__file__).parent / "_dist_scripts" / "store_init.py"


def _make(lib, kind, tmp_path):
    if kind == "hash":
        return lib.HashStore()
    if kind == "tcp":
        return lib.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=5))
    return lib.FileStore(str(tmp_path / f"{lib.__name__}.store"), 1)


def _script(s, file=False):
    """The same operations on store ``s``: results, and (type name, message) of each error. (torch's
    FileStore has no queues, and says every delete_key deleted something; this one's does not.)"""
    out = []

    def rec(fn):
        try:
            out.append(fn())
        except Exception as e:  # noqa: BLE001 - the error is the result
            msg = str(e).lower()
            if "timeout" in msg:  # (torch's stores word it differently: HashStore, TCPStore, FileStore)
                out.append(("timeout", isinstance(e, RuntimeError)))
            else:
                out.append((type(e).__name__, "queue is empty" if "queue is empty" in msg else ""))
    s.set("a", "1")
    s.set("b", b"\x00\xff")
    rec(lambda: s.get("a"))
    rec(lambda: s.get("b"))
    rec(lambda: s.add("n", 5))
    rec(lambda: s.add("n", -7))
    rec(lambda: s.get("n"))
    rec(lambda: s.compare_set("a", "1", "2"))
    rec(lambda: s.compare_set("a", "x", "3"))
    rec(lambda: s.compare_set("fresh", "", "v"))
    rec(lambda: s.compare_set("fresh2", "q", "v"))
    rec(lambda: s.check(["a", "n"]))
    rec(lambda: s.check(["a", "nope"]))
    s.append("ap", "x")
    s.append("ap", b"y")
    rec(lambda: s.get("ap"))
    rec(lambda: s.multi_get(["ap", "a"]))
    s.multi_set(["m1", "m2"], ["1", b"2"])
    rec(lambda: s.get("m2"))
    rec(lambda: s.delete_key("m1"))
    if not file:
        rec(lambda: s.delete_key("m1"))
        rec(lambda: s.has_extended_api())
        s.queue_push("q", "first")
        s.queue_push("q", "second")
        rec(lambda: s.queue_len("q"))
        rec(lambda: s.queue_pop("q"))
        rec(lambda: s.queue_pop("q", False))
        rec(lambda: s.queue_pop("q", False))
    s.set_timeout(SHORT)
    rec(lambda: s.timeout)
    rec(lambda: s.get("missing"))
    rec(lambda: s.wait(["a", "missing"]))
    rec(lambda: s.wait(["missing"], datetime.timedelta(seconds=0.1)))
    p = (mdist if isinstance(s, mdist.Store) else tdist).PrefixStore("pre", s)
    p.set("k", "v")
    rec(lambda: p.get("k"))
    rec(lambda: s.get("pre/k"))
    rec(lambda: p.check(["k"]))
    rec(lambda: p.underlying_store is s)
    return out


@pytest.mark.parametrize("kind", ["hash", "tcp", "file"])
def test_store_operations_match_torch(kind, tmp_path):
    got = _script(_make(mdist, kind, tmp_path), file=kind == "file")
    want = _script(_make(tdist, kind, tmp_path), file=kind == "file")
    assert got == want


def test_hash_store_num_keys_and_add_errors_match_torch():
    for lib in (mdist, tdist):
        s = lib.HashStore()
        s.set("a", "x")
        s.add("n", 1)
        s.queue_push("q", "1")
        assert s.num_keys() == 2, lib
        with pytest.raises(ValueError):
            s.add("a", 1)  # (not an integer)
    with pytest.raises(ValueError, match="key 'a' is not an integer"):
        s = mdist.HashStore()
        s.set("a", "x")
        s.add("a", 1)
    with pytest.raises(TypeError, match="str or bytes"):
        mdist.HashStore().set("a", 1.5)
    with pytest.raises(ValueError, match="2 keys but 1 values"):
        mdist.HashStore().multi_set(["a", "b"], ["1"])


@pytest.mark.parametrize("kind", ["hash", "tcp", "file"])
def test_get_and_wait_block_until_another_thread_sets(kind, tmp_path):
    s = _make(mdist, kind, tmp_path)
    if kind == "tcp":  # (another client of the same server)
        other = mdist.TCPStore("127.0.0.1", s.port, timeout=datetime.timedelta(seconds=5))
    else:
        other = s if kind == "hash" else mdist.FileStore(s.path, 1)

    def later():
        time.sleep(0.2)
        other.set("k", "late")
        other.queue_push("q", "item")
    threading.Thread(target=later).start()
    t = time.monotonic()
    assert s.get("k") == b"late"
    assert s.queue_pop("q") == b"item"  # (blocking)
    s.wait(["k"])
    assert time.monotonic() - t >= 0.15


def test_tcp_store_clients_in_other_processes_share_the_master():
    master = mdist.TCPStore("127.0.0.1", 0, 3, True, timeout=datetime.timedelta(seconds=60),
                            wait_for_workers=False)
    code = textwrap.dedent(f"""
        import datetime, sys
        import minitorch_jax.distributed as d
        s = d.TCPStore("127.0.0.1", {master.port}, 3, False, timeout=datetime.timedelta(seconds=60))
        n = s.add("arrived", 1)
        s.set(f"worker{{n}}", sys.argv[1])
        s.wait(["go"])
        s.add("finished", 1)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, f"w{i}"], env=launch_env()) for i in range(2)]
    try:
        master.wait(["worker1", "worker2"], datetime.timedelta(seconds=60))
        assert sorted([master.get("worker1"), master.get("worker2")]) == [b"w0", b"w1"]
        master.set("go", "1")
        for p in procs:
            assert p.wait(timeout=60) == 0
    finally:
        for p in procs:
            p.kill()
    assert master.get("finished") == b"2" and master.num_keys() == 5


def test_tcp_store_master_waits_for_its_workers():
    port = _free_port()
    box = {}

    def make_master():
        box["m"] = mdist.TCPStore("127.0.0.1", port, 2, True, timeout=datetime.timedelta(seconds=10))
    t = threading.Thread(target=make_master)
    t.start()
    time.sleep(0.3)
    assert t.is_alive()  # (one of two joined: the master itself)
    worker = mdist.TCPStore("127.0.0.1", port, 2, False, timeout=datetime.timedelta(seconds=10))
    t.join(10)
    assert not t.is_alive() and box["m"].port == port
    worker.set("x", "1")
    assert box["m"].get("x") == b"1"
    with pytest.raises(mdist.DistStoreError, match="1 of 2 workers joined within 0.3 s"):
        mdist.TCPStore("127.0.0.1", 0, 2, True, timeout=SHORT)


def test_tcp_store_errors_name_the_address():
    port = _free_port()
    with pytest.raises(mdist.DistNetworkError, match=f"cannot connect to 127.0.0.1:{port} within 0.3 s"):
        mdist.TCPStore("127.0.0.1", port, 2, False, timeout=SHORT)
    taken = mdist.TCPStore("127.0.0.1", 0, 1, True)
    with pytest.raises(mdist.DistNetworkError, match=f"cannot listen on 127.0.0.1:{taken.port}"):
        mdist.TCPStore("127.0.0.1", taken.port, 1, True)
    assert isinstance(mdist.DistNetworkError("x"), RuntimeError)


def test_tcp_store_server_answers_a_bad_request_and_keeps_serving():
    from minitorch_jax.distributed import _store

    s = mdist.TCPStore("127.0.0.1", 0, 1, True, timeout=datetime.timedelta(seconds=5))
    with pytest.raises(mdist.DistStoreError, match="bad request 'get'"):
        s._run("get", [], 1.0)  # (a missing argument)
    with pytest.raises(ValueError, match="unknown operation 'run'"):
        s._run("run", [], 1.0)
    raw = socket.create_connection(("127.0.0.1", s.port))
    raw.sendall(b"\x00\x00\x00\x05{bad]")  # (not JSON: the server drops that connection only)
    raw.close()
    s.set("still", "up")
    assert s.get("still") == b"up" and _store.TCPStore is mdist.TCPStore


def test_file_store_is_shared_by_processes_and_rejects_a_corrupt_file(tmp_path):
    path = tmp_path / "shared.store"
    s = mdist.FileStore(str(path), 3)
    code = textwrap.dedent(f"""
        import minitorch_jax.distributed as d
        s = d.FileStore({str(path)!r}, 3)
        for _ in range(20):
            s.add("count", 1)
        s.append("log", "x")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=launch_env()) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert s.get("count") == b"40" and s.get("log") == b"xx"  # (no lost update: the file is locked)
    path.write_text("{not a store")
    with pytest.raises(mdist.DistStoreError, match=f"{path.name} is not a store file"):
        s.get("count")


def test_prefix_store_keeps_keys_apart():
    base = mdist.HashStore()
    a, b = mdist.PrefixStore("a", base), mdist.PrefixStore("b", base)
    a.set("k", "1")
    b.set("k", "2")
    assert (a.get("k"), b.get("k"), base.get("a/k")) == (b"1", b"2", b"1")
    assert a.check(["k"]) and not mdist.PrefixStore("c", base).check(["k"])
    assert a.multi_get(["k"]) == [b"1"] and a.num_keys() == base.num_keys() == 2
    nested = mdist.PrefixStore("inner", a)
    nested.add("n", 3)
    assert base.get("a/inner/n") == b"3"


def test_init_process_group_store_argument_checks_match_torch():
    store = mdist.HashStore()
    for kwargs, msg in (({"world_size": 2, "rank": 0, "init_method": "env://"},
                         "Cannot specify both init_method and store."),
                        ({"rank": 0}, "world_size must be positive if using store"),
                        ({"world_size": 2}, "rank must be non-negative if using store")):
        for lib, st in ((mdist, store), (tdist, tdist.HashStore())):
            with pytest.raises(AssertionError, match=msg):
                lib.init_process_group("gloo", store=st, **kwargs)
    assert not mdist.is_initialized()


@pytest.mark.parametrize("kind", ["tcp", "file", "fileinit"])
def test_processes_join_the_group_through_a_store(kind, tmp_path):
    where = str(_free_port()) if kind == "tcp" else str(tmp_path / "rendezvous.store")
    logs = [tmp_path / f"rank{r}.log" for r in range(2)]  # (files, not pipes: a full pipe would block a rank)
    procs = [subprocess.Popen([sys.executable, str(SCRIPT), kind, str(r), where], env=launch_env(),
                              stdout=open(logs[r], "w"), stderr=subprocess.STDOUT) for r in range(2)]
    try:
        for p, log in zip(procs, logs):
            assert p.wait(timeout=120) == 0, log.read_text()[-3000:]
    finally:
        for p in procs:
            p.kill()
    assert f"OK {kind} 0" in logs[0].read_text() and f"OK {kind} 1" in logs[1].read_text()


def _rendezvous_outcomes(lib, tmp_path):
    out = []
    for args, kw in ((("foo://x",), {}), ((5,), {}), (("tcp://127.0.0.1:0",), {}),
                     ((f"file://{tmp_path}/a.store",), {}),
                     ((f"file://{tmp_path}/b.store",), {"world_size": 1}),
                     (("tcp://127.0.0.1:0?rank=0&world_size=1",), {}),
                     ((f"file://{tmp_path}/{lib.__name__}.store",), {"rank": 0, "world_size": 1})):
        try:
            it = lib.rendezvous(*args, **kw)
            store, rank, world = next(it)
            out.append((type(store).__name__, rank, world))
            try:
                next(it)
            except RuntimeError as e:
                out.append(str(e))
        except (RuntimeError, ValueError) as e:
            out.append((type(e).__name__, str(e).replace(f"{type(args[0])}: 5", "int: 5")))
    return out


def test_rendezvous_matches_torch(tmp_path, monkeypatch):
    assert _rendezvous_outcomes(mdist, tmp_path) == _rendezvous_outcomes(tdist, tmp_path)
    for lib in (mdist, tdist):
        with pytest.raises(RuntimeError, match="Rendezvous handler for tcp:// already registered"):
            lib.register_rendezvous_handler("tcp", lambda url, **kw: iter(()))
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "0")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    store, rank, world = next(mdist.rendezvous("env://"))
    assert isinstance(store, mdist.TCPStore) and (rank, world) == (0, 1)
    monkeypatch.delenv("MASTER_ADDR")
    with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected"):
        next(mdist.rendezvous("env://"))


def test_a_registered_rendezvous_handler_is_used():
    from minitorch_jax.distributed import _rendezvous

    seen = []

    def handler(url, **kwargs):
        seen.append((url, kwargs))
        yield mdist.HashStore(), 3, 4
    mdist.register_rendezvous_handler("mem", handler)
    try:
        store, rank, world = next(mdist.rendezvous("mem://here", rank=3, world_size=4, timeout=5))
    finally:
        del _rendezvous._HANDLERS["mem"]
    assert isinstance(store, mdist.HashStore) and (rank, world) == (3, 4)
    assert seen == [("mem://here?rank=3&world_size=4", {"timeout": 5})]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torch_is_the_oracle_here():
    assert torch.distributed is tdist
