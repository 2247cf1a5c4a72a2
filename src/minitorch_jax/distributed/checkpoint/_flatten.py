"""Flattening nested state dicts to torch's dotted fully-qualified names (FQNs), and filling them back.

``{"model": {"0.weight": t}, "optim": {"param_groups": [{"lr": 0.1, "params": [...]}]}}`` flattens to
``{"model.0.weight": t, "optim.param_groups.0.lr": 0.1, "optim.param_groups.0.params": [...]}``:
dicts are always walked; lists and tuples are walked only when they hold a tensor or a dict somewhere,
otherwise they are one leaf value (as torch.distributed.checkpoint does).
"""

from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["flatten", "fill", "is_stateful"]


def is_stateful(obj) -> bool:
    """Whether ``obj`` follows torch's ``Stateful`` protocol (``state_dict`` and ``load_state_dict``)
    and is not a tensor."""
    return (not isinstance(obj, Tensor) and callable(getattr(obj, "state_dict", None))
            and callable(getattr(obj, "load_state_dict", None)))


def _walk_sequence(seq) -> bool:
    for v in seq:
        if isinstance(v, (Tensor, dict)) or is_stateful(v):
            return True
        if isinstance(v, (list, tuple)) and _walk_sequence(v):
            return True
    return False


def _join(prefix: str, key) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def flatten(obj, prefix: str = "", out: dict | None = None) -> dict:
    """Flatten ``obj`` into ``{fqn: leaf}`` (Stateful objects contribute their ``state_dict()``).

    Raises:
        ValueError: when two paths flatten to the same FQN (e.g. keys ``"a.b"`` and ``"a" -> "b"``).
    """
    out = {} if out is None else out
    if is_stateful(obj):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)) and (not prefix or _walk_sequence(obj)):
        items = enumerate(obj)
    else:
        if prefix in out:
            raise ValueError(f"mt.distributed.checkpoint: two entries of the state_dict flatten to the same "
                             f"key {prefix!r}; rename one of them")
        out[prefix] = obj
        return out
    for k, v in items:
        if not isinstance(k, (str, int)):
            raise TypeError(f"mt.distributed.checkpoint: state_dict keys must be str or int, got "
                            f"{type(k).__name__} {k!r} under {prefix!r}")
        flatten(v, _join(prefix, k), out)
    return out


def fill(obj, prefix: str, read):
    """Return ``obj`` with every leaf replaced by ``read(fqn, leaf)``, containers updated in place
    (tuples rebuilt), Stateful objects loaded through ``load_state_dict``."""
    if is_stateful(obj):
        obj.load_state_dict(fill(obj.state_dict(), prefix, read))
        return obj
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = fill(obj[k], _join(prefix, k), read)
        return obj
    if isinstance(obj, (list, tuple)) and (not prefix or _walk_sequence(obj)):
        vals = [fill(v, _join(prefix, i), read) for i, v in enumerate(obj)]
        if isinstance(obj, list):
            obj[:] = vals
            return obj
        return type(obj)(vals) if type(obj) is tuple else type(obj)(*vals)
    return read(prefix, obj)
