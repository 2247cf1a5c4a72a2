"""``mt.utils._pytree``: torch.utils._pytree, PyTorch's own pytree API (used by libraries and by
``torch.func``-style code), with torch's semantics - not JAX's:

* nodes are tuple, list, dict, namedtuple, OrderedDict, defaultdict, deque and the types registered with
  :func:`register_pytree_node`; everything else is a leaf, **including None and Tensors**;
* dict children keep the dict's insertion order (not sorted, unlike ``jax.tree_util``);
* :class:`TreeSpec` prints, compares and serializes (:func:`treespec_dumps`) like torch's.

This registry is separate from JAX's: registering a class here does not make it a JAX pytree.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import json
import types
from collections import OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "PyTree",
    "Context",
    "FlattenFn",
    "UnflattenFn",
    "DumpableContext",
    "ToDumpableContextFn",
    "FromDumpableContextFn",
    "PyTreeSpec",
    "TreeSpec",
    "LeafSpec",
    "keystr",
    "key_get",
    "register_pytree_node",
    "tree_is_leaf",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_unflatten",
    "tree_iter",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_structure",
    "tree_map",
    "tree_map_with_path",
    "tree_map_",
    "tree_map_only",
    "tree_map_only_",
    "tree_all",
    "tree_any",
    "tree_all_only",
    "tree_any_only",
    "treespec_dumps",
    "treespec_loads",
    "treespec_pprint",
    "is_namedtuple",
    "is_namedtuple_class",
    "is_namedtuple_instance",
    "is_structseq",
    "is_structseq_class",
    "is_structseq_instance",
]

PyTree = Any
Context = Any
DumpableContext = Any
FlattenFn = Callable[[PyTree], tuple[list, Context]]
UnflattenFn = Callable[[Iterable, Context], PyTree]
ToDumpableContextFn = Callable[[Context], DumpableContext]
FromDumpableContextFn = Callable[[DumpableContext], Context]
DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL = 1


# ----- key paths --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """Path entry for a sequence child: prints as ``[idx]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence):
        """``sequence[idx]``."""
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """Path entry for a mapping child: prints as ``[key]``."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping):
        """``mapping[key]``."""
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """Path entry for an attribute child (namedtuple fields): prints as ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj):
        """``getattr(obj, name)``."""
        return getattr(obj, self.name)


def keystr(kp) -> str:
    """A key path as a string, e.g. ``"['b'][0].a"``."""
    return "".join(str(k) for k in kp)


def key_get(obj, kp):
    """The subtree of ``obj`` at key path ``kp``."""
    for k in kp:
        obj = k.get(obj)
    return obj


# ----- node registry ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NodeDef:
    """How one node type flattens (``flatten_fn(x) -> (children, context)``) and unflattens."""

    type: Any
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None = None
    serialized_type_name: str | None = None
    to_dumpable_context: Callable | None = None
    from_dumpable_context: Callable | None = None


SUPPORTED_NODES: dict = {}
_SERIALIZED: dict = {}


def register_pytree_node(
    cls,
    flatten_fn,
    unflatten_fn,
    *,
    serialized_type_name: str | None = None,
    to_dumpable_context=None,
    from_dumpable_context=None,
    flatten_with_keys_fn=None,
) -> None:
    """Make ``cls`` a pytree node.

    Args:
        cls: the node type.
        flatten_fn: ``x -> (children, context)``; ``context`` must be comparable with ``==``.
        unflatten_fn: ``(children, context) -> x``.
        serialized_type_name: the name :func:`treespec_dumps` writes for ``cls``.
        to_dumpable_context / from_dumpable_context: context <-> JSON-able value (default: the context
            itself).
        flatten_with_keys_fn: ``x -> ([(key, child), ...], context)`` for the ``*_with_path`` functions.
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    name = serialized_type_name or f"{cls.__module__}.{cls.__qualname__}"
    node = NodeDef(
        cls, flatten_fn, unflatten_fn, flatten_with_keys_fn, name, to_dumpable_context, from_dumpable_context
    )
    SUPPORTED_NODES[cls] = node
    _SERIALIZED[name] = node


def _seq_keys(flatten):
    def f(x):
        children, ctx = flatten(x)
        return [(SequenceKey(i), c) for i, c in enumerate(children)], ctx

    return f


def _dict_keys(x):
    return [(MappingKey(k), v) for k, v in x.items()], list(x)


register_pytree_node(
    tuple,
    lambda x: (list(x), None),
    lambda v, c: tuple(v),
    serialized_type_name="builtins.tuple",
    flatten_with_keys_fn=_seq_keys(lambda x: (list(x), None)),
)
register_pytree_node(
    list,
    lambda x: (list(x), None),
    lambda v, c: list(v),
    serialized_type_name="builtins.list",
    flatten_with_keys_fn=_seq_keys(lambda x: (list(x), None)),
)
register_pytree_node(
    dict,
    lambda x: (list(x.values()), list(x)),
    lambda v, c: dict(zip(c, v, strict=True)),
    serialized_type_name="builtins.dict",
    flatten_with_keys_fn=_dict_keys,
)
register_pytree_node(
    OrderedDict,
    lambda x: (list(x.values()), list(x)),
    lambda v, c: OrderedDict(zip(c, v, strict=True)),
    serialized_type_name="collections.OrderedDict",
    flatten_with_keys_fn=_dict_keys,
)


def _dd_flatten(x):
    return list(x.values()), [x.default_factory, list(x)]


def _dd_to_json(ctx):
    f = ctx[0]
    return {
        "default_factory_module": getattr(f, "__module__", None),
        "default_factory_name": getattr(f, "__qualname__", None),
        "dict_context": ctx[1],
    }


def _dd_from_json(d):
    mod = importlib.import_module(d["default_factory_module"])
    return [getattr(mod, d["default_factory_name"]), d["dict_context"]]


register_pytree_node(
    defaultdict,
    _dd_flatten,
    lambda v, c: defaultdict(c[0], zip(c[1], v, strict=True)),
    serialized_type_name="collections.defaultdict",
    to_dumpable_context=_dd_to_json,
    from_dumpable_context=_dd_from_json,
    flatten_with_keys_fn=lambda x: ([(MappingKey(k), v) for k, v in x.items()], [x.default_factory, list(x)]),
)
register_pytree_node(
    deque,
    lambda x: (list(x), x.maxlen),
    lambda v, c: deque(v, maxlen=c),
    serialized_type_name="collections.deque",
    flatten_with_keys_fn=_seq_keys(lambda x: (list(x), x.maxlen)),
)


def is_namedtuple_class(cls) -> bool:
    """True for classes made by ``collections.namedtuple`` / ``typing.NamedTuple``."""
    return (
        isinstance(cls, type)
        and issubclass(cls, tuple)
        and isinstance(getattr(cls, "_fields", None), tuple)
        and callable(getattr(cls, "_make", None))
    )


def is_namedtuple_instance(obj) -> bool:
    """True for namedtuple instances."""
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj) -> bool:
    """True for a namedtuple class or instance."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def is_structseq_class(cls) -> bool:
    """True for C struct-sequence classes (``os.stat_result``, ``time.struct_time`` ...)."""
    return (
        isinstance(cls, type)
        and issubclass(cls, tuple)
        and all(
            isinstance(getattr(cls, a, None), int)
            for a in ("n_sequence_fields", "n_fields", "n_unnamed_fields")
        )
    )


def is_structseq_instance(obj) -> bool:
    """True for struct-sequence instances."""
    return is_structseq_class(type(obj))


def is_structseq(obj) -> bool:
    """True for a struct-sequence class or instance."""
    return is_structseq_class(obj if isinstance(obj, type) else type(obj))


_NAMEDTUPLE = NodeDef(
    namedtuple,
    lambda x: (list(x), type(x)),
    lambda v, c: c(*v),
    lambda x: ([(GetAttrKey(f), getattr(x, f)) for f in x._fields], type(x)),
    "collections.namedtuple",
)


def _node(tree):
    t = type(tree)
    node = SUPPORTED_NODES.get(t)
    if node is None and is_namedtuple_class(t):
        return _NAMEDTUPLE
    return node


def _node_type(tree):
    node = _node(tree)
    return None if node is None else node.type


def tree_is_leaf(tree, is_leaf=None) -> bool:
    """True if ``tree`` is a leaf (``is_leaf(tree)`` or not a registered node type; None is a leaf)."""
    return (is_leaf is not None and is_leaf(tree)) or _node(tree) is None


# ----- TreeSpec ---------------------------------------------------------------------------------
class TreeSpec:
    """The structure of a pytree: node ``type``, its ``context`` (dict keys, namedtuple class ...) and
    ``children_specs``; a leaf is ``TreeSpec(None, None, [])`` (printed ``*``)."""

    def __init__(self, type, context, children_specs) -> None:
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_children = len(self.children_specs)
        if type is None:
            self.num_nodes, self.num_leaves = 1, 1
        else:
            self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)
            self.num_leaves = sum(c.num_leaves for c in self.children_specs)

    def is_leaf(self) -> bool:
        """True for a leaf spec."""
        return self.type is None

    def child(self, index: int) -> TreeSpec:
        """The spec of child ``index``."""
        return self.children_specs[index]

    def children(self) -> list:
        """The children's specs."""
        return list(self.children_specs)

    def __eq__(self, other) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (
            self.type is other.type
            and self.context == other.context
            and self.children_specs == other.children_specs
        )

    def __hash__(self) -> int:
        def h(v):
            try:
                return hash(v)
            except TypeError:
                return hash(repr(v))

        return hash((self.type, h(self.context), tuple(hash(c) for c in self.children_specs)))

    def __repr__(self, indent: int = 0) -> str:
        if self.is_leaf():
            return "*"
        out = f"TreeSpec({self.type.__name__}, {self.context}, ["
        if self.children_specs:
            indent += 2
            out += self.children_specs[0].__repr__(indent)
            out += "," if self.num_children > 1 else ""
            out += ",".join("\n" + " " * indent + c.__repr__(indent) for c in self.children_specs[1:])
        return out + "])"

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` at this spec's leaves (``tree`` must have this structure above them)."""
        out: list = []
        self._up_to(tree, out)
        return out

    def _up_to(self, tree, out) -> None:
        if self.is_leaf():
            out.append(tree)
            return
        node = _node(tree)
        both_dicts = isinstance(self.type, type) and issubclass(self.type, dict) and isinstance(tree, dict)
        if node is None or (node.type is not self.type and not both_dicts):
            raise ValueError(f"Node type mismatch; expected {self.type}, but got {type(tree)}.")
        children, ctx = node.flatten_fn(tree)
        if len(children) != self.num_children:
            raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got {len(children)}.")
        if both_dicts:
            keys = self.context[1] if self.type is defaultdict else self.context
            got_keys = ctx[1] if node.type is defaultdict else ctx
            if set(keys) != set(got_keys):
                raise ValueError(
                    f"Node keys mismatch; missing key(s): {set(keys) - set(got_keys)}; extra key(s): "
                    f"{set(got_keys) - set(keys)}."
                )
            children = [tree[k] for k in keys]
        elif ctx != self.context:
            raise ValueError(
                f"Node context mismatch for node type {self.type}; expected {self.context!r}, but "
                f"got {ctx!r}."
            )
        for spec, c in zip(self.children_specs, children, strict=True):
            spec._up_to(c, out)

    def unflatten(self, leaves: Iterable) -> PyTree:
        """Rebuild the pytree from ``leaves`` (as many as :attr:`num_leaves`)."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
                f"to a pytree that holds {self.num_leaves} items ({self})."
            )
        it = iter(leaves)
        return self._build(it)

    def _build(self, it):
        if self.is_leaf():
            return next(it)
        node = _NAMEDTUPLE if self.type is namedtuple else SUPPORTED_NODES[self.type]
        return node.unflatten_fn([c._build(it) for c in self.children_specs], self.context)


class LeafSpec(TreeSpec):
    """The spec of a leaf (printed ``*``)."""

    def __init__(self) -> None:
        super().__init__(None, None, [])


PyTreeSpec = TreeSpec
_LEAF = LeafSpec()


# ----- flatten / unflatten ----------------------------------------------------------------------
def _flatten(tree, is_leaf, leaves) -> TreeSpec:
    if is_leaf is not None and is_leaf(tree):
        leaves.append(tree)
        return _LEAF
    node = _node(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    children, ctx = node.flatten_fn(tree)
    return TreeSpec(node.type, ctx, [_flatten(c, is_leaf, leaves) for c in children])


def tree_flatten(tree, is_leaf=None) -> tuple[list, TreeSpec]:
    """``(leaves, treespec)``: the leaves of ``tree`` in order and its structure."""
    leaves: list = []
    spec = _flatten(tree, is_leaf, leaves)
    return leaves, spec


def tree_unflatten(leaves: Iterable, treespec: TreeSpec) -> PyTree:
    """Rebuild a pytree from ``leaves`` and ``treespec`` (inverse of :func:`tree_flatten`)."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance of TreeSpec but "
            f"got item of type {type(treespec)}."
        )
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    """Iterate over the leaves of ``tree``."""
    yield from tree_flatten(tree, is_leaf)[0]


def tree_leaves(tree, is_leaf=None) -> list:
    """The leaves of ``tree`` in flattening order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> TreeSpec:
    """The :class:`TreeSpec` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """Apply ``func`` to each leaf of ``tree`` (and the matching subtrees of ``rests``); same structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, *flat))


def tree_map_(func, tree, *rests, is_leaf=None):
    """Like :func:`tree_map` but for side effects: calls ``func`` on the leaves, returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    collections.deque(map(func, *flat), maxlen=0)
    return tree


def _pred(type_or_types_or_pred):
    if isinstance(type_or_types_or_pred, type | tuple | types.UnionType):
        return lambda x: isinstance(x, type_or_types_or_pred)
    if callable(type_or_types_or_pred):
        return type_or_types_or_pred
    raise TypeError("Argument must be a type, a tuple of types, or a callable.")


def _only(type_or_types_or_pred, func):
    pred = _pred(type_or_types_or_pred)
    return lambda x: func(x) if pred(x) else x


def tree_map_only(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """:func:`tree_map` applying ``func`` only to leaves of the given type(s) (or matching a predicate)."""
    return tree_map(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred, /, func, tree, is_leaf=None):
    """:func:`tree_map_` restricted to leaves of the given type(s) (or matching a predicate)."""
    return tree_map_(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None) -> bool:
    """True if ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None) -> bool:
    """True if ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, /, pred, tree, is_leaf=None) -> bool:
    """True if ``pred`` holds for every leaf of the given type(s)."""
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, /, pred, tree, is_leaf=None) -> bool:
    """True if ``pred`` holds for some leaf of the given type(s)."""
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


# ----- key paths --------------------------------------------------------------------------------
def _with_path(tree, is_leaf, path, out) -> None:
    if (is_leaf is not None and is_leaf(tree)) or _node(tree) is None:
        out.append((path, tree))
        return
    node = _node(tree)
    if node.flatten_with_keys_fn is None:
        raise ValueError(
            f"Did not find a flatten_with_keys_fn for type: {node.type}. Please pass a "
            f"flatten_with_keys_fn argument to register_pytree_node."
        )
    pairs, _ = node.flatten_with_keys_fn(tree)
    for k, c in pairs:
        _with_path(c, is_leaf, (*path, k), out)


def tree_flatten_with_path(tree, is_leaf=None) -> tuple[list, TreeSpec]:
    """``([(key_path, leaf), ...], treespec)``: each leaf with the key path that reaches it."""
    out: list = []
    _with_path(tree, is_leaf, (), out)
    return out, tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None) -> list:
    """``[(key_path, leaf), ...]``."""
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """:func:`tree_map` with ``func(key_path, leaf, *rest_leaves)``."""
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    flat = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(kp, x, *xs) for (kp, x), *xs in zip(pairs, *flat, strict=True))


# ----- serialization ----------------------------------------------------------------------------
def _to_json(spec: TreeSpec) -> dict:
    if spec.is_leaf():
        return {"type": None, "context": None, "children_spec": []}
    if spec.type is namedtuple:
        raise NotImplementedError(
            f"Can't serialize TreeSpec of namedtuple class {spec.context} because we "
            f"didn't register a serializated_type_name. Please register using "
            f"`_register_namedtuple`."
        )
    node = SUPPORTED_NODES[spec.type]
    if node.to_dumpable_context is None:
        try:
            ctx = json.dumps(spec.context)
        except TypeError as e:
            raise TypeError(
                "Unable to serialize context. Please make the context json dump-able, or register "
                "a custom serializer using _register_pytree_node."
            ) from e
    else:
        ctx = node.to_dumpable_context(spec.context)
    return {
        "type": node.serialized_type_name,
        "context": ctx,
        "children_spec": [_to_json(c) for c in spec.children_specs],
    }


def treespec_dumps(treespec: TreeSpec, protocol: int | None = None) -> str:
    """A JSON string for ``treespec`` (torch's protocol 1); :func:`treespec_loads` reads it back."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"treespec_dumps(treespec, protocol): Expected `treespec` to be instance of TreeSpec but "
            f"got item of type {type(treespec)}."
        )
    protocol = DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL if protocol is None else protocol
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return json.dumps([protocol, _to_json(treespec)])


def _from_json(d) -> TreeSpec:
    if d["type"] is None:
        return LeafSpec()
    node = _SERIALIZED.get(d["type"])
    if node is None:
        raise NotImplementedError(f"Serializing {d['type']} in pytree is not registered.")
    ctx = (
        json.loads(d["context"])
        if node.from_dumpable_context is None
        else node.from_dumpable_context(d["context"])
    )
    return TreeSpec(node.type, ctx, [_from_json(c) for c in d["children_spec"]])


def treespec_loads(serialized: str) -> TreeSpec:
    """The :class:`TreeSpec` written by :func:`treespec_dumps`."""
    protocol, spec = json.loads(serialized)
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return _from_json(spec)


def treespec_pprint(treespec: TreeSpec) -> str:
    """The structure written as a pytree with ``*`` leaves, e.g. ``{'a': [*, *], 'b': (*,)}``."""

    class _Star:
        def __repr__(self) -> str:
            return "*"

    return repr(treespec.unflatten([_Star()] * treespec.num_leaves))
