"""The structure of an exported program's inputs: which leaves are tensors (with their static
sizes, symbolic dimensions and dtype), which are specialised constants, how a call's arguments are
flattened and checked against them (with torch's ``Guard failed: ...`` messages), and how
``dynamic_shapes`` is resolved onto the tensor leaves.

Specs are JSON (``{"t": "T"}`` tensor, ``"S"`` constant, ``"L"``/``"U"`` list/tuple,
``"D"`` dict, ``"C"`` registered dataclass) so a saved program can check calls without the
model's code.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import jax.numpy as jnp
import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._dims import Dim, ShapesCollection, _DerivedDim, _DimHint

__all__ = ["DATACLASSES", "arg_names", "check_leaves", "describe", "flatten_call", "parse_dim", "rebuild",
           "relax", "resolve_dynamic_shapes"]

DATACLASSES: dict[str, type] = {}  # register_dataclass: serialized name -> class


def parse_dim(entry: str) -> tuple:
    """``(root, a, b)`` of a dynamic dim entry: a symbol name, or ``"a*root+b"`` for a derived dim."""
    if "*" not in entry:
        return entry, 1, 0
    a, rest = entry.split("*", 1)
    root, b = rest.split("+", 1)
    return root, int(a), int(b)


def _dc_name(cls) -> str | None:
    for k, v in DATACLASSES.items():
        if v is cls:
            return k
    return None


def arg_names(mod, args, kwargs) -> list[str]:
    """Top-level input names: the forward's parameter names for positional args, then the kwargs."""
    try:
        params = [p for p in inspect.signature(mod.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = [params[i].name if i < len(params) else f"args_{i}" for i in range(len(args))]
    return names + list(kwargs)


def describe(value, name: str, path: str, leaves: list, order: list):
    """The JSON spec of one input; appends ``{"name", "path", "shape", "dtype"}`` per tensor leaf
    and, in input order, ``(name, None, False)`` per tensor / ``(name, value, True)`` per constant."""
    if isinstance(value, Tensor):
        leaves.append({"name": name, "path": path, "shape": [int(s) for s in value.shape],
                       "dtype": _dtype.from_np(np.dtype(value._data.dtype)).name})
        order.append((name, None, False))
        return {"t": "T"}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return {"t": "L" if isinstance(value, list) else "U",
                "items": [describe(v, f"{name}_{i}", f"{path}[{i}]", leaves, order)
                          for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"t": "D", "items": [[k, describe(v, f"{name}_{k}", f"{path}[{k!r}]", leaves, order)]
                                    for k, v in value.items()]}
    cname = _dc_name(type(value))
    if cname is not None:
        return {"t": "C", "cls": cname,
                "items": [[f.name, describe(getattr(value, f.name), f"{name}_{f.name}", f"{path}.{f.name}",
                                            leaves, order)] for f in dataclasses.fields(value)]}
    if isinstance(value, (jnp.ndarray, np.ndarray)):
        raise TypeError(f"mt.export.export: input {path} is a {type(value).__name__}; pass mt Tensors")
    order.append((name, value, True))
    return {"t": "S", "v": value}


def rebuild(spec, it):
    """Inverse of :func:`describe`: the input with tensor leaves taken from the iterator ``it``."""
    t = spec["t"]
    if t == "T":
        return next(it)
    if t == "L":
        return [rebuild(s, it) for s in spec["items"]]
    if t == "U":
        return tuple(rebuild(s, it) for s in spec["items"])
    if t == "D":
        return {k: rebuild(s, it) for k, s in spec["items"]}
    if t == "C":
        return DATACLASSES[spec["cls"]](**{k: rebuild(s, it) for k, s in spec["items"]})
    return spec["v"]


def _walk(value, spec, path, out):
    t = spec["t"]
    if t == "T":
        if not isinstance(value, Tensor):
            raise TypeError(f"mt.export: expected a Tensor at {path}, got {type(value).__name__}")
        out.append(value)
        return
    if t == "S":
        if not (value is spec["v"] or (type(value) is type(spec["v"]) and value == spec["v"])):
            raise AssertionError(f"Guard failed: {path} == {spec['v']!r}")
        return
    if t in ("L", "U"):
        kind = list if t == "L" else tuple
        if not isinstance(value, kind) or len(value) != len(spec["items"]):
            raise ValueError(f"mt.export: input {path} must be a {kind.__name__} of {len(spec['items'])} "
                             f"item(s) as when exported, got {type(value).__name__}"
                             + (f" of {len(value)}" if isinstance(value, (list, tuple)) else ""))
        for i, (v, s) in enumerate(zip(value, spec["items"])):
            _walk(v, s, f"{path}[{i}]", out)
        return
    keys = [k for k, _ in spec["items"]]
    if t == "D":
        if not isinstance(value, dict) or list(value) != keys:
            raise ValueError(f"mt.export: input {path} must be a dict with keys {keys} as when exported, "
                             f"got {list(value) if isinstance(value, dict) else type(value).__name__}")
        for k, s in spec["items"]:
            _walk(value[k], s, f"{path}[{k!r}]", out)
        return
    cls = DATACLASSES.get(spec["cls"])
    if type(value) is not cls and type(value).__name__ != spec["cls"].rsplit(".")[-1]:
        raise ValueError(f"mt.export: input {path} must be a {spec['cls']}, got {type(value).__name__}")
    for k, s in spec["items"]:
        _walk(getattr(value, k), s, f"{path}.{k}", out)


def flatten_call(arg_specs, kw_specs, names, args, kwargs) -> list:
    """The tensor leaves of a call, checked against the exported structure and constants."""
    exp_kw = [k for k, _ in kw_specs]
    if sorted(kwargs) != sorted(exp_kw):
        raise ValueError(f"Ran into a kwarg keyword mismatch: Got the following keywords {sorted(kwargs)} "
                         f"but expected {exp_kw}")
    if len(args) != len(arg_specs):
        raise TypeError(f"mt.export: the exported program takes {len(arg_specs)} positional input(s), "
                        f"got {len(args)}")
    out: list = []
    for a, s, n in zip(args, arg_specs, names):
        _walk(a, s, n, out)
    for k, s in kw_specs:
        _walk(kwargs[k], s, k, out)
    return out


def check_leaves(tensors, leaves, symbols) -> None:
    """Check each tensor's rank, dtype and sizes against the program (torch's guard messages)."""
    seen: dict[str, tuple] = {}
    for t, leaf in zip(tensors, leaves):
        p, dims = leaf["path"], leaf["dims"]
        if t.dim() != len(dims):
            raise AssertionError(f"Guard failed: {p}.dim() == {len(dims)} (got {t.dim()})")
        dt = _dtype.from_np(np.dtype(t._data.dtype)).name
        if dt != leaf["dtype"]:
            raise AssertionError(f"Guard failed: {p}.dtype == {leaf['dtype']} (got {dt})")
        for d, (want, got) in enumerate(zip(dims, t.shape)):
            where = f"{p}.size()[{d}]"
            if isinstance(want, int):
                if got != want:
                    raise AssertionError(f"Guard failed: {where} == {want} (got {got})")
                continue
            root, a, b = parse_dim(want)
            if (a, b) != (1, 0):
                if (got - b) % a or (got - b) // a < 1:
                    raise AssertionError(f"Guard failed: {where} == {a}*{root} + {b} (got {got})")
                shifted = where if b == 0 else f"{where} - {b}" if a == 1 else f"({where} - {b})"
                where, got = shifted if a == 1 else f"{shifted} // {a}", (got - b) // a
            lo, hi = symbols[root]
            if hi is not None and got > hi:
                raise AssertionError(f"Guard failed: {where} <= {hi} (got {got})")
            if got < max(lo, 1):
                raise AssertionError(f"Guard failed: {where} >= {max(lo, 1)} (got {got})")
            if root in seen and seen[root][1] != got:
                raise AssertionError(f"Guard failed: {where} == {seen[root][0]} (got {got} and "
                                     f"{seen[root][1]})")
            seen.setdefault(root, (where, got))


def _dim_entry(d, leaf, i, symbols, counter):
    size = leaf["shape"][i]
    where = f"{leaf['path']}.size()[{i}]"
    if d is None or d == Dim.STATIC:
        return size
    if isinstance(d, bool):
        raise TypeError(f"mt.export.export: invalid dynamic_shapes entry {d!r} for {where}")
    if isinstance(d, int):
        if d != size:
            raise ValueError(f"mt.export.export: dynamic_shapes says {where} is the static size {d}, "
                             f"but the example input has {size}")
        return size
    if isinstance(d, _DimHint):  # AUTO / DYNAMIC: a fresh symbol
        name = f"s{counter['n']}"
        counter["n"] += 1
        counter["hints"][name] = d.kind
        symbols[name] = (0, None)
        return name
    a, b = 1, 0
    if isinstance(d, _DerivedDim):
        d, a, b = d.root, d.a, d.b
        if (size - b) % a:
            raise ValueError(f"mt.export.export: {where} = {size} is not {a}*{d.__name__} + {b} for any "
                             f"integer {d.__name__}")
        size = (size - b) // a
    if isinstance(d, Dim):
        name = d.__name__
        hi = None if d.max == math.inf else int(d.max)
        if name in symbols and symbols[name] != (d.min, hi):
            raise ValueError(f"mt.export.export: two different Dims are named {name!r}")
        if not (d.min <= size and (hi is None or size <= hi)):
            raise ValueError(f"mt.export.export: {where} = {size} not in range [{d.min}, "
                             f"{'int_oo' if hi is None else hi}] of {d!r}")
        symbols[name] = (d.min, hi)
        return name if (a, b) == (1, 0) else f"{a}*{name}+{b}"
    raise TypeError(f"mt.export.export: unsupported dynamic_shapes entry {d!r} for {where}; use a Dim, "
                    "Dim.AUTO / Dim.DYNAMIC / Dim.STATIC, an int or None")


def _assign(value_spec, ds, leaves_iter, path, symbols, counter):
    t = value_spec["t"]
    if t == "T":
        leaf = next(leaves_iter)
        n = len(leaf["shape"])
        if ds is None:
            leaf["dims"] = list(leaf["shape"])
            return
        if isinstance(ds, dict):
            bad = [k for k in ds if not (isinstance(k, int) and -n <= k < n)]
            if bad:
                raise ValueError(f"mt.export.export: dynamic_shapes for {path} names dimension(s) {bad} of a "
                                 f"{n}-d tensor")
            per = [ds.get(i, ds.get(i - n)) for i in range(n)]
        elif isinstance(ds, (list, tuple)):
            if len(ds) != n:
                raise ValueError(f"mt.export.export: dynamic_shapes for {path} has {len(ds)} entries, but "
                                 f"the tensor has {n} dimensions")
            per = list(ds)
        else:
            raise TypeError(f"mt.export.export: dynamic_shapes for tensor {path} must be None, a dict "
                            f"{{dim: Dim}} or a tuple of per-dim entries, got {type(ds).__name__}")
        leaf["dims"] = [_dim_entry(d, leaf, i, symbols, counter) for i, d in enumerate(per)]
        return
    items = value_spec.get("items", [])
    if t in ("L", "U", "D", "C"):
        if ds is None:
            subs = [None] * len(items)
        elif t in ("L", "U") and isinstance(ds, (list, tuple)) and len(ds) == len(items):
            subs = list(ds)
        elif t in ("D", "C") and isinstance(ds, dict) and set(ds) <= {k for k, _ in items}:
            subs = [ds.get(k) for k, _ in items]
        else:
            raise ValueError(f"mt.export.export: dynamic_shapes for {path} must mirror the input's structure")
        for (k, s), sub in zip([(i, it) if t in ("L", "U") else it for i, it in enumerate(items)], subs):
            _assign(s, sub, leaves_iter, f"{path}[{k!r}]", symbols, counter)
        return
    if ds is not None:
        raise ValueError(f"mt.export.export: dynamic_shapes for the non-tensor input {path} must be None")


def resolve_dynamic_shapes(dynamic_shapes, mod, args, kwargs, names, specs, leaves) -> dict:
    """Fill ``leaf["dims"]`` (an int per static dim, a symbol name per dynamic one) for every
    tensor leaf and return the symbols ``{name: (min, max or None)}``."""
    if isinstance(dynamic_shapes, ShapesCollection):
        dynamic_shapes = dynamic_shapes.dynamic_shapes(mod, args, kwargs)
    n = len(specs)
    if dynamic_shapes is None:
        per_input = [None] * n
    elif isinstance(dynamic_shapes, dict):
        if set(dynamic_shapes) - set(names):
            raise ValueError(f"When `dynamic_shapes` is specified as a dict, its top-level keys must be the "
                             f"arg names {names} of `inputs`, but here they are {list(dynamic_shapes)}. "
                             "Alternatively, you could also ignore arg names entirely and specify "
                             "`dynamic_shapes` as a list/tuple matching `inputs`.")
        per_input = [dynamic_shapes.get(k) for k in names]
    elif isinstance(dynamic_shapes, (list, tuple)):
        if len(dynamic_shapes) != n:
            raise ValueError(f"mt.export.export: dynamic_shapes has {len(dynamic_shapes)} entries but there "
                             f"are {n} inputs {names}")
        per_input = list(dynamic_shapes)
    else:
        raise TypeError(f"mt.export.export: dynamic_shapes must be a dict, tuple, list or ShapesCollection, "
                        f"got {type(dynamic_shapes).__name__}")
    symbols: dict = {}
    counter: dict = {"n": 0, "hints": {}}
    it = iter(leaves)
    for spec, ds, name in zip(specs, per_input, names):
        _assign(spec, ds, it, name, symbols, counter)
    # one Dim used for dims of different example sizes
    sizes: dict = {}
    for leaf in leaves:
        for i, d in enumerate(leaf["dims"]):
            if isinstance(d, str):
                d, a, b = parse_dim(d)
                if d in sizes and sizes[d][1] != (leaf["shape"][i] - b) // a:
                    raise ValueError(f"mt.export.export: Dim {d!r} is both {sizes[d][0]} = {sizes[d][1]}, "
                                     f"{leaf['path']}.size()[{i}] = {leaf['shape'][i]}: must be equal")
                sizes.setdefault(d, (f"{leaf['path']}.size()[{i}]", (leaf["shape"][i] - b) // a))
    return symbols, counter["hints"]


def relax(leaves, symbols, hints, step: int) -> bool:
    """Loosen the ``Dim.AUTO`` / ``Dim.DYNAMIC`` dims after a failed trace, as torch infers them:
    step 0 merges hint dims with any dynamic dim of the same example size (they must be equal);
    step 1 makes the remaining ``AUTO`` dims static. Returns False when nothing changed."""
    if not hints:
        return False
    changed = False
    if step == 0:
        by_size: dict = {}
        for leaf in leaves:  # named Dims first claim their sizes
            for i, d in enumerate(leaf["dims"]):
                if isinstance(d, str) and d not in hints and "*" not in d:
                    by_size.setdefault(leaf["shape"][i], d)
        for leaf in leaves:
            for i, d in enumerate(leaf["dims"]):
                if isinstance(d, str) and d in hints:
                    target = by_size.setdefault(leaf["shape"][i], d)
                    if target != d:
                        leaf["dims"][i] = target
                        changed = True
    elif step == 1:
        for leaf in leaves:
            for i, d in enumerate(leaf["dims"]):
                if isinstance(d, str) and hints.get(d) == "AUTO":
                    leaf["dims"][i] = leaf["shape"][i]
                    changed = True
    used = {parse_dim(d)[0] for leaf in leaves for d in leaf["dims"] if isinstance(d, str)}
    for k in [k for k in symbols if k not in used]:
        del symbols[k]
    return changed
