"""DataLoader in the main process (num_workers=0): arguments, errors, len, order, collation."""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
    default_collate,
)

from .oracle import torch

tdata = torch.utils.data


class Items(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "y": i, "tag": f"t{i}"}


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("object of type 'Stream' has no len()")
        return self.n


class NoLen(IterableDataset):
    def __iter__(self):
        return iter(range(3))


def ys(loader):
    return [b["y"].tolist() for b in loader]


def test_batches_in_order_and_len():
    for bs, drop_last in ((4, False), (4, True), (1, False), (10, False), (13, False)):
        dl = DataLoader(Items(10), batch_size=bs, drop_last=drop_last)
        tl = tdata.DataLoader(Items(10), batch_size=bs, drop_last=drop_last)
        assert ys(dl) == [b["y"].tolist() for b in tl]
        assert len(dl) == len(tl)
    b = next(iter(DataLoader(Items(5), batch_size=2)))
    assert b["x"].dtype == mt.float32 and tuple(b["x"].shape) == (2, 3) and b["tag"] == ["t0", "t1"]
    assert b["y"].dtype == mt.int64


def test_shuffle_reproducible_and_complete():
    dl = DataLoader(Items(17), batch_size=5, shuffle=True)
    mt.manual_seed(0)
    e1 = [y for b in ys(dl) for y in b]
    e2 = [y for b in ys(dl) for y in b]
    assert sorted(e1) == list(range(17)) == sorted(e2) and e1 != e2
    mt.manual_seed(0)
    assert [y for b in ys(dl) for y in b] == e1
    g = mt.Generator().manual_seed(3)
    a = ys(DataLoader(Items(17), batch_size=5, shuffle=True, generator=g))
    assert a == ys(DataLoader(Items(17), batch_size=5, shuffle=True, generator=mt.Generator().manual_seed(3)))


def test_samplers_and_batch_sampler():
    dl = DataLoader(Items(6), batch_size=None, sampler=[5, 0, 3])
    out = list(dl)
    assert [o["y"] for o in out] == [5, 0, 3] and isinstance(out[0]["x"], mt.Tensor)
    bs = BatchSampler(SequentialSampler(range(7)), 3, False)
    dl = DataLoader(Items(7), batch_sampler=bs)
    assert ys(dl) == [[0, 1, 2], [3, 4, 5], [6]] and len(dl) == 3
    dl = DataLoader(Items(7), batch_sampler=[[6, 1], [2]])
    assert ys(dl) == [[6, 1], [2]]


def test_tensor_dataset_fast_path_matches_generic():
    x = mt.arange(20.0).reshape(10, 2)
    y = mt.arange(10)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4))
    slow = list(DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        assert isinstance(f, list) and len(f) == 2
        for a, b in zip(f, s):
            assert a.dtype == b.dtype and a.tolist() == b.tolist()


def test_iterable_dataset_batching_and_len():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert len(DataLoader(Stream(7), batch_size=3)) == math.ceil(7 / 3)
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(Stream(7), batch_size=None)) == 7
    with pytest.raises(TypeError):
        len(DataLoader(NoLen(), batch_size=2))
    with pytest.raises(TypeError):
        len(tdata.DataLoader(NoLen(), batch_size=2))


def test_iterable_longer_than_len_warns():
    class Liar(Stream):
        def __len__(self):
            return 2

    dl = DataLoader(Liar(4), batch_size=None)
    len(dl)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        list(dl)
    assert any("Length of IterableDataset" in str(x.message) for x in w)


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(sampler=[0], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="spawn"), "multiprocessing_context can only be used with multi-process"),
    (dict(num_workers=1, multiprocessing_context="nope"), "should specify a valid start method"),
])
def test_argument_errors_match_torch(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Items(4), **kwargs)
    with pytest.raises(ValueError, match=match):
        tdata.DataLoader(Items(4), **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(shuffle=True), "expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), "expected unspecified sampler option"),
    (dict(batch_sampler=[[0]]), "expected unspecified batch_sampler option"),
])
def test_iterable_dataset_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Stream(3), **kwargs)
    torch_stream = type("TStream", (tdata.IterableDataset,), {"__iter__": lambda self: iter(range(3))})
    with pytest.raises(ValueError, match=match):
        tdata.DataLoader(torch_stream(), **kwargs)


def test_misc_arguments():
    dl = DataLoader(Items(4), batch_size=2, pin_memory=True, pin_memory_device="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(dl)) == 2
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is "
                                         "initialized"):
        dl.batch_size = 3
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context"):
        DataLoader(Items(4), num_workers=1, multiprocessing_context=3)
    Pair = collections.namedtuple("Pair", "a b")
    dl = DataLoader([Pair(np.zeros(2), 1.0), Pair(np.ones(2), 2.0)], batch_size=2)
    b = next(iter(dl))
    assert isinstance(b, Pair) and b.b.dtype == mt.float64 and tuple(b.a.shape) == (2, 2)
    it = iter(DataLoader(Items(4), batch_size=2))
    assert len(it) == 2
    assert list(DataLoader(Items(3), batch_size=2, collate_fn=len)) == [2, 1]
