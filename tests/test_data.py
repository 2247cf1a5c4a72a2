"""mt.utils.data: datasets, samplers, random_split, DistributedSampler, default_collate/convert."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import minitorch_jax as mt
from minitorch_jax.utils import data as D

from .oracle import torch

tdata = torch.utils.data


# ----- structure comparison with torch ----------------------------------------------------------
def same_structure(m, t):
    """mt and torch results have the same structure, leaf types, dtypes, shapes and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(m, mt.Tensor), f"expected a Tensor, got {type(m).__name__}"
        assert str(m.dtype).rsplit(".", 1)[-1] == str(t.dtype).rsplit(".", 1)[-1]
        assert tuple(m.shape) == tuple(t.shape)
        np.testing.assert_array_equal(np.asarray(m._data), t.numpy())
        return
    assert type(m) is type(t), f"{type(m).__name__} != {type(t).__name__}"
    if isinstance(t, dict):
        assert list(m) == list(t)
        for k in t:
            same_structure(m[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert len(m) == len(t)
        for a, b in zip(m, t):
            same_structure(a, b)
    else:
        assert m == t


Point = collections.namedtuple("Point", ["x", "y"])

COLLATE_CASES = {
    "arrays": lambda i: np.arange(6, dtype=np.float32).reshape(2, 3) + i,
    "int_arrays": lambda i: np.arange(3, dtype=np.int32) * i,
    "mixed_dtype_arrays": lambda i: np.ones(2, np.int32 if i == 0 else np.float32),
    "ints": lambda i: i,
    "floats": lambda i: i + 0.5,
    "bools": lambda i: bool(i % 2),
    "int_then_float": lambda i: 1 if i == 0 else 2.5,
    "np_scalars_f32": lambda i: np.float32(i),
    "np_scalars_i16": lambda i: np.int16(i),
    "np_scalars_f64": lambda i: np.float64(i),
    "np_bool": lambda i: np.bool_(i),
    "zero_d_arrays": lambda i: np.array(i, dtype=np.float32),
    "strings": lambda i: f"s{i}",
    "tuple": lambda i: (np.zeros(3) + i, i, "a"),
    "list": lambda i: [i, i + 0.5],
    "dict": lambda i: {"img": np.full((2, 2), i, np.uint8), "label": i, "meta": {"id": f"n{i}"}},
    "namedtuple": lambda i: Point(np.float32(i), [i, 2 * i]),
    "ordered_dict": lambda i: collections.OrderedDict(b=i, a=float(i)),
}


@pytest.mark.parametrize("case", sorted(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    batch = [COLLATE_CASES[case](i) for i in range(3)]
    same_structure(D.default_collate(batch), tdata.default_collate(batch))


def test_default_collate_worker_backend_matches_main():
    import pickle

    from minitorch_jax.utils.data import _collate, _worker

    for case in sorted(COLLATE_CASES):
        batch = [COLLATE_CASES[case](i) for i in range(3)]
        sent = pickle.loads(_worker.dumps(_collate.worker_collate(batch)))
        same_structure(sent, tdata.default_collate(batch))


def test_default_collate_tensors_and_errors():
    xs = [mt.tensor([1.0, 2.0]) * i for i in range(4)]
    out = D.default_collate(xs)
    assert isinstance(out, mt.Tensor) and tuple(out.shape) == (4, 2) and out.dtype == mt.float32
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        D.default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[3\] "
                                           r"at entry 0 and \[4\] at entry 1"):
        D.default_collate([np.zeros(3), np.zeros(4)])
    for bad in ([object()], [np.array(["a"])], [np.zeros(2, dtype=object)]):
        with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
            D.default_collate(bad)
        with pytest.raises(TypeError):
            tdata.default_collate(bad)


@pytest.mark.parametrize("data", [
    np.float32(3), np.arange(3), [np.zeros(2), "x", 3], (np.ones(2, np.int16), 1.5),
    {"a": np.zeros(1), "b": ["s"]}, Point(np.int64(1), np.zeros(2)), np.array(["a"]), "str", 7,
])
def test_default_convert_matches_torch(data):
    m, t = D.default_convert(data), tdata.default_convert(data)
    if isinstance(t, np.ndarray):
        assert isinstance(m, np.ndarray) and (m == t).all()
    else:
        same_structure(m, t)


# ----- datasets ---------------------------------------------------------------------------------
class Squares(D.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Count(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter(range(self.n))


def test_tensor_dataset():
    x, y = mt.arange(10).reshape(5, 2), mt.arange(5)
    ds = D.TensorDataset(x, y)
    assert len(ds) == 5
    a, b = ds[3]
    assert a.tolist() == [6, 7] and b.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        D.TensorDataset(x, mt.arange(4))


def test_concat_chain_subset_stack():
    c = D.ConcatDataset([Squares(3), Squares(2)])
    assert len(c) == 5 and [c[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert c[-1] == 1 and c.cumulative_sizes == [3, 5]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        c[-6]
    with pytest.raises(IndexError):
        c[5]
    assert isinstance(Squares(2) + Squares(3), D.ConcatDataset)
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        D.ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        D.ConcatDataset([Count(2)])

    ch = Count(2) + Count(3)
    assert isinstance(ch, D.ChainDataset) and list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(D.ChainDataset([Squares(2)]))

    s = D.Subset(Squares(10), [9, 2, 4])
    assert len(s) == 3 and s[0] == 81 and s.__getitems__([1, 2]) == [4, 16]

    st = D.StackDataset(Squares(3), Squares(3))
    assert st[2] == (4, 4) and len(st) == 3
    assert D.StackDataset(a=Squares(2), b=Squares(2))[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        D.StackDataset(Squares(2), Squares(3))
    with pytest.raises(NotImplementedError):
        D.Dataset()[0]


def test_random_split():
    ds = Squares(10)
    mt.manual_seed(0)
    parts = D.random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    idx = sorted(i for p in parts for i in p.indices)
    assert idx == list(range(10))
    mt.manual_seed(0)
    again = D.random_split(ds, [0.5, 0.3, 0.2])
    assert [p.indices for p in again] == [p.indices for p in parts]
    g1, g2 = mt.Generator().manual_seed(1), mt.Generator().manual_seed(1)
    assert [p.indices for p in D.random_split(ds, [7, 3], generator=g1)] == \
        [p.indices for p in D.random_split(ds, [7, 3], generator=g2)]
    # torch's remainder rule: floor each, then deal the rest round-robin
    assert [len(p) for p in D.random_split(Squares(11), [0.3, 0.3, 0.4])] == \
        [len(p) for p in tdata.random_split(range(11), [0.3, 0.3, 0.4])]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        D.random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        D.random_split(ds, [0.5, 1.5, -1.0])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        D.random_split(Squares(2), [0.9, 0.1, 0.0])
    assert any("Length of split at index" in str(x.message) for x in w)


# ----- samplers ---------------------------------------------------------------------------------
def test_sequential_and_batch_sampler():
    assert list(D.SequentialSampler(range(4))) == [0, 1, 2, 3]
    for drop_last in (False, True):
        m = D.BatchSampler(D.SequentialSampler(range(10)), 3, drop_last)
        t = tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last)
        assert list(m) == list(t) and len(m) == len(t)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            D.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        D.BatchSampler(range(3), 2, 1)


def test_random_sampler_properties():
    data = range(20)
    mt.manual_seed(3)
    s = D.RandomSampler(data)
    e1, e2 = list(s), list(s)
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert e1 != e2 and e1 != list(range(20))
    mt.manual_seed(3)
    assert list(s) == e1  # reproducible with the global seed
    g = mt.Generator().manual_seed(5)
    a = list(D.RandomSampler(data, generator=g))
    assert a == list(D.RandomSampler(data, generator=mt.Generator().manual_seed(5)))
    # num_samples > n without replacement: whole permutations then a partial one
    r = list(D.RandomSampler(range(4), num_samples=10))
    assert len(r) == 10 and sorted(r[:4]) == [0, 1, 2, 3] and sorted(r[4:8]) == [0, 1, 2, 3]
    w = list(D.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(w) == 50 and set(w) <= {0, 1, 2} and len(D.RandomSampler(range(3), True, 50)) == 50
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        D.RandomSampler(data, replacement=1)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            D.RandomSampler(data, num_samples=bad)
    with pytest.raises(ValueError, match="num_samples=0"):
        D.RandomSampler([])


def test_subset_and_weighted_samplers():
    mt.manual_seed(0)
    s = D.SubsetRandomSampler([10, 11, 12, 13])
    a = list(s)
    assert sorted(a) == [10, 11, 12, 13] and len(s) == 4
    w = D.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200)
    draws = list(w)
    assert len(draws) == 200 and set(draws) <= {1, 3} and draws.count(3) > draws.count(1)
    no_rep = list(D.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    g = mt.Generator().manual_seed(2)
    x = list(D.WeightedRandomSampler([1.0, 2.0, 3.0], 10, generator=g))
    assert x == list(D.WeightedRandomSampler([1.0, 2.0, 3.0], 10, generator=mt.Generator().manual_seed(2)))
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        D.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        D.WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        D.WeightedRandomSampler([[1.0]], 1)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                  (2, 4, False), (7, 2, True)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_distributed_sampler_partitions(n, replicas, drop_last, shuffle):
    ds = range(n)
    shards = [list(D.DistributedSampler(ds, replicas, r, shuffle=shuffle, seed=4, drop_last=drop_last))
              for r in range(replicas)]
    ref = [list(tdata.DistributedSampler(ds, replicas, r, shuffle=False, drop_last=drop_last))
           for r in range(replicas)]
    assert [len(s) for s in shards] == [len(s) for s in ref]
    assert len(D.DistributedSampler(ds, replicas, 0, drop_last=drop_last)) == len(ref[0])
    flat = [i for s in shards for i in s]
    if drop_last:
        assert len(set(flat)) == len(flat)  # disjoint
    else:
        assert set(flat) == set(range(n))  # complete (padding repeats a few)
    if not shuffle:
        assert shards == ref


def test_distributed_sampler_epochs_and_errors():
    s = D.DistributedSampler(range(16), num_replicas=2, rank=1, seed=7)
    e0 = list(s)
    assert list(s) == e0  # same epoch, same order
    s.set_epoch(1)
    assert list(s) != e0
    other = D.DistributedSampler(range(16), num_replicas=2, rank=0, seed=7)
    other.set_epoch(1)
    assert sorted(list(s) + list(other)) == list(range(16))
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        D.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        D.DistributedSampler(range(4), num_replicas=2, rank=-1)
