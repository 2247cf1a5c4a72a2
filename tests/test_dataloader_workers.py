"""DataLoader with worker processes: order, numpy transport, seeds, errors, dead workers, cleanup.

Starting workers costs a fork of the (preloaded) forkserver, or a whole interpreter with 'spawn',
so these tests are few and each checks several things. Datasets live in ``tests/_data_helpers``
(importable by the workers).
"""

from __future__ import annotations

import gc
import os
import signal
import time

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils.data import DataLoader

from . import _data_helpers as H


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()  # a zombie has exited
    except OSError:
        return False


def assert_gone(pids, timeout: float = 6.0) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if alive(p)]
    assert not left, f"worker processes still alive: {left}"


def pids_of(batches) -> set:
    return {p for b in batches for p in b["pid"].tolist()}


def test_order_numpy_transport_seeds_and_persistent_cleanup():
    ref = list(DataLoader(H.ProbeDataset(14), batch_size=3))
    dl = DataLoader(H.ProbeDataset(14), batch_size=3, num_workers=2, worker_init_fn=H.record_init,
                    persistent_workers=True)
    assert len(dl) == 5
    e1, e2 = list(dl), list(dl)
    for out in (e1, e2):
        assert len(out) == len(ref)
        for b, r in zip(out, ref):
            assert b["i"].tolist() == r["i"].tolist() and b["name"] == r["name"]
            assert b["x"].dtype == mt.float32
            assert np.array_equal(np.asarray(b["x"]._data), np.asarray(r["x"]._data))
            assert b["backends"].tolist() == [0] * len(b["i"])  # no JAX backend in the workers
            assert b["nw"].tolist() == [2] * len(b["i"]) and b["wid"].tolist() == b["init"].tolist()
    assert [b["wid"][0].item() for b in e1] == [0, 1, 0, 1, 0]  # round-robin, delivered in order
    seeds = {b["wid"][0].item(): b["seed"][0].item() for b in e1}
    assert seeds[1] == seeds[0] + 1
    assert e1[0]["pyrand"][0].item() != e1[1]["pyrand"][0].item()
    pids = pids_of(e1)
    assert len(pids) == 2 and pids == pids_of(e2) and os.getpid() not in pids  # persistent
    # abandon an epoch halfway; the next one still starts from the beginning
    for k, _b in enumerate(dl):
        if k == 1:
            break
    assert [b["i"].tolist() for b in dl] == [r["i"].tolist() for r in ref]
    del dl, _b
    gc.collect()
    assert_gone(pids)


def test_shuffle_base_seed_break_and_iterator_cleanup():
    mt.manual_seed(1)
    dl = DataLoader(H.ProbeDataset(8), batch_size=2, shuffle=True, num_workers=2)
    e1 = list(dl)
    mt.manual_seed(1)
    e1b = list(dl)
    order = [i for b in e1 for i in b["i"].tolist()]
    assert sorted(order) == list(range(8))
    assert order == [i for b in e1b for i in b["i"].tolist()]  # reproducible with the seed
    assert e1[0]["seed"][0].item() == e1b[0]["seed"][0].item()
    e2 = list(dl)
    assert e2[0]["seed"][0].item() != e1[0]["seed"][0].item()  # a new base seed each epoch
    assert_gone(pids_of(e1) | pids_of(e2))  # non-persistent workers stop at the end of an epoch
    it = iter(dl)
    first = next(it)
    pids = pids_of([first])
    assert all(alive(p) for p in pids)
    del it  # like `break`: the iterator is dropped mid-epoch
    assert_gone(pids)


def test_worker_exception_reraised_with_index_and_traceback():
    dl = DataLoader(H.Failing(10, 7), batch_size=2, num_workers=2)
    it = iter(dl)
    got = [next(it).tolist() for _ in range(3)]
    assert got == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    with pytest.raises(ValueError) as ei:
        next(it)
    msg = str(ei.value)
    assert "Caught ValueError in DataLoader worker process 1" in msg
    assert "index 7" in msg and "bad sample 7" in msg and "Traceback" in msg and "__getitem__" in msg
    assert next(it).tolist() == [8.0, 9.0]  # as torch: the loader goes on after a worker error
    with pytest.raises(StopIteration):
        next(it)
    # a failing worker_init_fn is reported too (KeyError keeps its message readable)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(DataLoader(H.Failing(4, 99), batch_size=2, num_workers=1, worker_init_fn=H.failing_init))


def test_dead_worker_is_reported_quickly():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError,
                       match=r"DataLoader worker \(pid \d+\) exited unexpectedly with exit code 3"):
        list(DataLoader(H.Exiting(12, 5), batch_size=2, num_workers=2))
    assert time.monotonic() - t0 < 20
    # SIGKILL a persistent worker between epochs
    dl = DataLoader(H.ProbeDataset(6), batch_size=2, num_workers=2, persistent_workers=True)
    pids = sorted(pids_of(list(dl)))
    os.kill(pids[0], signal.SIGKILL)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError,
                       match=r"exited unexpectedly with exit code -9 \(killed by signal SIGKILL\)"):
        list(dl)
    assert time.monotonic() - t0 < 5
    assert_gone(pids)


def test_iterable_dataset_split_with_get_worker_info():
    dl = DataLoader(H.Ranges(0, 10), batch_size=3, num_workers=2)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [5, 6, 7], [3, 4], [8, 9]]
    assert len(dl) == 4
    dl = DataLoader(H.Ranges(0, 7), batch_size=None, num_workers=2, persistent_workers=True)
    assert list(dl) == [0, 4, 1, 5, 2, 6, 3] == list(dl)
    del dl
    unordered = DataLoader(H.Ranges(0, 7), batch_size=None, num_workers=2, in_order=False)
    assert sorted(unordered) == list(range(7))


def test_tensor_items_timeout_exception_cleanup_and_keyboard_interrupt():
    out = list(DataLoader(H.TensorItems(), batch_size=4, num_workers=1))
    assert isinstance(out[0][0], mt.Tensor) and out[0][0].tolist()[3] == [3.0] * 3
    assert out[1][1].tolist() == [4, 5]
    # timeout: index 2 takes far longer than the limit
    dl = DataLoader(H.Sleepy(4, 2, 60.0), batch_size=None, num_workers=1, timeout=3)
    it = iter(dl)
    pid = next(it)[1]
    with pytest.raises(RuntimeError, match="DataLoader timed out after 3 seconds"):
        for _ in it:
            pass
    del it
    gc.collect()
    assert_gone([pid])
    # an exception in the consumer loop leaves nothing behind
    pids = set()
    try:
        for b in DataLoader(H.ProbeDataset(8), batch_size=2, num_workers=2):
            pids |= pids_of([b])
            raise ZeroDivisionError
    except ZeroDivisionError:
        pass
    gc.collect()
    assert_gone(pids)
    # Ctrl-C while waiting for a batch stops the workers at once
    it = iter(DataLoader(H.Sleepy(4, 1, 60.0), batch_size=None, num_workers=1))
    pid = next(it)[1]

    def interrupted():
        raise KeyboardInterrupt

    it._get_data = interrupted
    with pytest.raises(KeyboardInterrupt):
        next(it)
    assert_gone([pid], timeout=4.0)


def test_spawn_context():
    dl = DataLoader(H.ProbeDataset(4), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    out = list(dl)
    assert [b["i"].tolist() for b in out] == [[0, 1], [2, 3]]
    assert out[0]["backends"].tolist() == [0, 0]
    assert_gone(pids_of(out))
