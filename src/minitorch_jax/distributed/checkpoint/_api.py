"""``save`` / ``load`` / ``async_save`` and the (accepted, not pluggable) default planners."""

from __future__ import annotations

import concurrent.futures
import copy
import warnings

from ... import _grad_mode
from ..._tensor import Size, Tensor, _wrap
from .. import _collectives, _group
from ._flatten import fill, flatten
from .filesystem import CheckpointException, FileSystemReader, FileSystemWriter, to_metadata

__all__ = ["save", "load", "async_save", "DefaultSavePlanner", "DefaultLoadPlanner", "SavePlanner",
           "LoadPlanner"]


class SavePlanner:
    """Base class of save planners (accepted by :func:`save`; planning is fixed here)."""


class LoadPlanner:
    """Base class of load planners (accepted by :func:`load`)."""


class DefaultSavePlanner(SavePlanner):
    """torch's default save planner: flattens nested state dicts, writes replicated tensors once."""

    def __init__(self, flatten_state_dict: bool = True, flatten_sharded_tensors: bool = True,
                 dedup_replicated_tensors: bool | None = None, dedup_save_to_lowest_rank: bool = False,
                 enable_plan_caching: bool = False):
        self.flatten_state_dict = flatten_state_dict


class DefaultLoadPlanner(LoadPlanner):
    """torch's default load planner. ``allow_partial_load=True`` skips state_dict keys that the
    checkpoint lacks instead of raising."""

    def __init__(self, flatten_state_dict: bool = True, flatten_sharded_tensors: bool = True,
                 allow_partial_load: bool = False):
        self.flatten_state_dict = flatten_state_dict
        self.allow_partial_load = allow_partial_load


def _dist_on(no_dist: bool, what: str) -> bool:
    if no_dist:
        return False
    if _group.is_initialized():
        return True
    warnings.warn("mt.distributed is disabled, unavailable or uninitialized, assuming the intent is to "
                  f"{what} in a single process.", UserWarning, stacklevel=3)
    return False


def _storage(checkpoint_id, storage, cls, fname):
    if storage is None:
        if checkpoint_id is None:
            raise RuntimeError(f"{fname}: `checkpoint_id` must be specified if storage_reader/storage_writer "
                               "is None.")
        return cls(checkpoint_id)
    storage.reset(checkpoint_id)
    return storage


def _check_sd(state_dict, fname):
    if not isinstance(state_dict, dict):
        raise TypeError(f"{fname}: state_dict must be a dict, got {type(state_dict).__name__}")


def save(state_dict: dict, *, checkpoint_id=None, storage_writer=None, planner=None, process_group=None,
         no_dist: bool = False, use_collectives: bool = True):
    """Save a (nested) state dict as a distributed checkpoint directory.

    Nested dicts are flattened to dotted FQNs (``{"model": {"0.weight": t}}`` -> ``"model.0.weight"``);
    values with ``state_dict``/``load_state_dict`` (Stateful) are saved through ``state_dict()``.
    With ``mt.distributed`` initialized every rank of ``process_group`` must call it; each entry is
    written once, by the lowest rank holding it (rank 0 for replicated tensors), and rank 0 writes the
    ``.metadata`` file last. Without a process group it warns and saves in this process
    (``no_dist=True`` skips the warning).

    Args:
        state_dict: the dict to save.
        checkpoint_id: the checkpoint directory (or give ``storage_writer``).
        storage_writer: a :class:`FileSystemWriter`.
        planner: accepted (a :class:`DefaultSavePlanner`).
        process_group: the group to save with (default: the world).
        no_dist: save in this process only, without collectives.

    Returns:
        Metadata: what was saved (rank 0's complete view on every rank).
    """
    fname = "mt.distributed.checkpoint.save"
    _check_sd(state_dict, fname)
    writer = _storage(checkpoint_id, storage_writer, FileSystemWriter, fname)
    dist_on = _dist_on(no_dist, "save")
    flat = flatten(state_dict)
    rank = 0
    if dist_on:
        rank = _group.get_rank(process_group)
        keys = [None] * _group.get_world_size(process_group)
        _collectives.all_gather_object(keys, list(flat), group=process_group)
        owner = {}
        for r, ks in enumerate(keys):
            for k in ks:
                owner.setdefault(k, r)
        mine = {k: v for k, v in flat.items() if owner[k] == rank}
    else:
        mine = flat
    if rank == 0:
        writer.prepare()
    if dist_on:
        _group.barrier(process_group)
    entries = writer.write_rank(rank, mine)
    if dist_on:
        parts = [None] * _group.get_world_size(process_group)
        _collectives.all_gather_object(parts, entries, group=process_group)
        entries = {k: v for p in parts for k, v in p.items()}
    if rank == 0:
        writer.finish(entries)
    if dist_on:
        _group.barrier(process_group)
    return to_metadata(entries)


def async_save(state_dict: dict, *, checkpoint_id=None, storage_writer=None, planner=None, process_group=None,
               async_checkpointer_type=None, async_stager=None, no_dist: bool = False,
               use_collectives: bool = True) -> concurrent.futures.Future:
    """Like :func:`save`, returning a ``concurrent.futures.Future`` of the Metadata.

    The state dict is staged first (tensors snapshotted), so later in-place updates do not leak into
    the checkpoint. In a single process the files are written by a background thread; with
    ``mt.distributed`` initialized the save runs before returning (collectives stay on the caller's
    thread) and the future is already done.
    """
    fname = "mt.distributed.checkpoint.async_save"
    _check_sd(state_dict, fname)
    staged = {k: _wrap(v._data) if isinstance(v, Tensor) else copy.deepcopy(v)
              for k, v in flatten(state_dict).items()}
    kw = dict(checkpoint_id=checkpoint_id, storage_writer=storage_writer, planner=planner,
              process_group=process_group, use_collectives=use_collectives)
    if _dist_on(no_dist, "save"):
        fut: concurrent.futures.Future = concurrent.futures.Future()
        fut.set_result(save(staged, no_dist=False, **kw))
        return fut
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mt_async_save")
    fut = ex.submit(save, staged, no_dist=True, **kw)
    ex.shutdown(wait=False)
    return fut


def load(state_dict: dict, *, checkpoint_id=None, storage_reader=None, planner=None, process_group=None,
         no_dist: bool = False) -> None:
    """Load a checkpoint saved by :func:`save` into ``state_dict`` IN PLACE.

    Tensors of ``state_dict`` keep their identity and receive the saved values (cast to their dtype);
    other values are replaced by the saved ones; Stateful values get ``load_state_dict``. Only the keys
    of ``state_dict`` are read. Works on every rank (each reads what it needs).

    Args:
        state_dict: the dict to fill; its structure selects what is read.
        checkpoint_id: the checkpoint directory (or give ``storage_reader``).
        storage_reader: a :class:`FileSystemReader`.
        planner: a :class:`DefaultLoadPlanner` (``allow_partial_load=True`` skips missing keys).
        process_group, no_dist: as in :func:`save`.

    Raises:
        CheckpointException: a key of ``state_dict`` is not in the checkpoint ("Missing key in
            checkpoint state_dict: <fqn>."), a tensor's saved size differs, or a file is corrupt.
        FileNotFoundError: no checkpoint at ``checkpoint_id``.
    """
    fname = "mt.distributed.checkpoint.load"
    _check_sd(state_dict, fname)
    reader = _storage(checkpoint_id, storage_reader, FileSystemReader, fname)
    _dist_on(no_dist, "load")
    partial = bool(getattr(planner, "allow_partial_load", False))
    entries = reader.read_entries()
    target = flatten(state_dict)
    files = set()
    for fqn, v in target.items():
        e = entries.get(fqn)
        if e is None:
            if partial:
                continue
            raise CheckpointException(f"Missing key in checkpoint state_dict: {fqn}.")
        if isinstance(v, Tensor) and e["kind"] == "tensor" and Size(e["shape"]) != v.shape:
            raise CheckpointException(f"Size mismatch between saved {Size(e['shape'])} and current: "
                                      f"{v.shape} for {fqn}")
        if not isinstance(v, Tensor) and e["kind"] == "tensor":
            raise CheckpointException(f"Invalid checkpoint metadata for {fqn}, expected BytesStorageMetadata "
                                      "but found TensorStorageMetadata")
        files.add(e["file"])
    data = {f: reader.read_file(f) for f in sorted(files)}

    def read(fqn, cur):
        e = entries.get(fqn)
        if e is None:
            return cur
        d = data[e["file"]]
        if fqn not in d:
            raise CheckpointException(f"mt.distributed.checkpoint.load: {fqn!r} is listed in the metadata "
                                      f"but missing from data file {e['file']!r} (corrupt checkpoint)")
        val = d[fqn]
        if e["kind"] == "tensor" and not (isinstance(val, Tensor) and list(val.shape) == e["shape"]):
            raise CheckpointException(f"mt.distributed.checkpoint.load: {fqn!r} in data file {e['file']!r} "
                                      "does not match its metadata (corrupt checkpoint)")
        if isinstance(cur, Tensor) and isinstance(val, Tensor):
            with _grad_mode.no_grad():
                cur.copy_(val)
            return cur
        return val

    fill(state_dict, "", read)
