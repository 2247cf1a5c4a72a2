"""``mt.export.export`` (and ``draft_export``, ``unflatten``, ``register_dataclass``): a module's
forward as one ``jax.export`` program with its weights.

The forward runs once under JAX tracing through ``mt.func.functional_call`` with the parameters
and buffers as program inputs (so the weights are data, not constants, and ``ep.module()`` can
load new ones); dynamic dimensions are ``jax.export`` symbolic dimensions. ``strict`` is
accepted and ignored (there is one tracing mode). A forward that needs a dynamic size as a
Python int (``int(x.shape[0])`` in arithmetic JAX cannot keep symbolic) cannot be exported
with that dimension dynamic: keep it static. Buffers the forward updates (BatchNorm statistics
in training mode) become BUFFER_MUTATION outputs and are written back by ``ep.module()``.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from jax import export as jax_export

from .. import _random
from .._grad_mode import no_grad
from .._tensor import Tensor, _wrap
from ..func import functional_call
from ..jit._export import TracedFunction
from ..nn.modules.module import Module
from . import _inputs
from ._program import ExportedProgram
from ._signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
    state_arg_name,
)

__all__ = ["export", "draft_export", "unflatten", "register_dataclass", "build_signature",
           "DraftExportReport"]


def _out_spec(out, flat: list):
    if isinstance(out, Tensor):
        flat.append(out._data)
        return {"t": "T"}
    if isinstance(out, (list, tuple)) and not hasattr(out, "_fields"):
        return {"t": "L" if isinstance(out, list) else "U", "items": [_out_spec(o, flat) for o in out]}
    if isinstance(out, dict):
        return {"t": "D", "items": [[k, _out_spec(v, flat)] for k, v in out.items()]}
    if isinstance(out, (int, float, str, bool, type(None))):
        return {"t": "S", "v": out}
    if isinstance(out, jax.Array):  # x.shape[0] * t: jax's symbolic size took the Tensor as a jax array
        raise TypeError("mt.export.export: the forward returns a jax value, not a Tensor; arithmetic with a "
                        "dynamic size on the left (x.shape[0] * t, x.size(1) / t) gives one: write the "
                        "Tensor first (t * x.shape[0])")
    raise TypeError(f"mt.export.export: the forward returns a {type(out).__name__}; only tensors, numbers, "
                    "strings, None and lists/tuples/dicts of them can be exported")


def build_signature(meta: dict) -> ExportGraphSignature:
    """The :class:`ExportGraphSignature` described by a program's metadata."""
    params = set(meta["params"])
    nonpersistent = set(meta["nonpersistent"])
    inputs = []
    for k in meta["targets"]:
        kind = InputKind.PARAMETER if k in params else InputKind.BUFFER
        inputs.append(InputSpec(kind, TensorArgument(state_arg_name(kind, k)), k,
                                None if kind == InputKind.PARAMETER else k not in nonpersistent))
    for name, value, is_const in meta["order"]:
        arg = ConstantArgument(name, value) if is_const else TensorArgument(name)
        inputs.append(InputSpec(InputKind.USER_INPUT, arg, None))
    mutations = meta["mutations"] if meta.get("decomposed") else []  # as torch: listed after decomposition
    outputs = [OutputSpec(OutputKind.BUFFER_MUTATION,
                          TensorArgument(state_arg_name(InputKind.BUFFER, k) + "_new"), k)
               for k in mutations]
    outputs += [OutputSpec(OutputKind.USER_OUTPUT, TensorArgument(f"output_{i}"), None)
                for i in range(meta["n_outputs"])]
    return ExportGraphSignature(inputs, outputs)


def _count(spec) -> int:
    if spec["t"] == "T":
        return 1
    return sum(_count(s if isinstance(s, dict) else s[1]) for s in spec.get("items", []))


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict: bool = False,
           preserve_module_call_signature: tuple = (),
           prefer_deferred_runtime_asserts_over_guards: bool = False):
    """Trace ``mod(*args, **kwargs)`` into an :class:`ExportedProgram` (one StableHLO program plus weights).

    Args:
        mod: an ``mt.nn.Module``.
        args: tuple of example positional inputs (Tensors, nested lists/tuples/dicts of them,
            registered dataclasses, or constants, which are specialised and checked on each call).
        kwargs: dict of example keyword inputs.
        dynamic_shapes: per input (a dict keyed by the forward's argument names, or a tuple/list in
            input order, or a :class:`ShapesCollection`): None (static), or for a tensor a dict
            ``{dim: Dim}`` or a tuple with one entry per dim (``Dim``, ``Dim.AUTO``/``DYNAMIC``/
            ``STATIC``, int or None). Inputs naming the same ``Dim`` share one symbolic size.
        strict: accepted for compatibility (ignored).
        preserve_module_call_signature: names of submodules (checked to exist; the program is flat).

    Returns:
        ExportedProgram: run it with ``ep.module()(*args, **kwargs)``.
    """
    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got {type(mod)}.")
    if not isinstance(args, tuple):
        raise ValueError(f"Expecting `args` to be a tuple of example positional inputs, got {type(args)}")
    kwargs = dict(kwargs or {})
    for name in preserve_module_call_signature:
        mod.get_submodule(name)
    names = _inputs.arg_names(mod, args, kwargs)
    leaves: list = []
    order: list = []
    arg_specs = [_inputs.describe(a, n, n, leaves, order) for a, n in zip(args, names)]
    kw_specs = [[k, _inputs.describe(v, k, k, leaves, order)] for k, v in kwargs.items()]
    symbols, hints = _inputs.resolve_dynamic_shapes(dynamic_shapes, mod, args, kwargs, names,
                                                    arg_specs + [s for _, s in kw_specs], leaves)

    params = [k for k, _ in mod.named_parameters()]
    buffers = dict(mod.named_buffers())
    persistent = set(mod.state_dict(keep_vars=True))
    targets = params + list(buffers)
    tensors = dict(mod.named_parameters())
    tensors.update(buffers)
    found: dict = {}

    gen = _random.default_generator

    def program(full_state, arrays):
        (data, grads, keys), hp = full_state
        tdict = {k: _wrap(a) for k, a in zip(targets, data)}
        it = iter([_wrap(a) for a in arrays])
        a = tuple(_inputs.rebuild(s, it) for s in arg_specs)
        kw = {k: _inputs.rebuild(s, it) for k, s in kw_specs}
        saved = {g: g._key for g in _random.live_generators()}
        gen._key = keys[0]  # the global RNG state is a program input and output
        try:
            with no_grad():
                out = functional_call(mod, tdict, a, kw)
            new_key = gen._key
        finally:
            others = [g for g, k in saved.items() if g._key is not k and g is not gen]
            for g, k in saved.items():
                g._key = k
        if others:
            raise RuntimeError(f"mt.export.export({type(mod).__name__}): the forward draws from a "
                               "Generator other than the default one; use the global RNG (no generator=)")
        flat: list = []
        found["out_spec"] = _out_spec(out, flat)
        found["mutations"] = [k for k, d in zip(targets, data) if k in buffers and tdict[k]._data is not d]
        found["rng"] = new_key is not keys[0]
        return flat, (([tdict[k]._data for k in targets], grads, [new_key]), hp)

    data = [tensors[k]._data for k in targets]
    key = _random._jax_key(gen)
    full_state = ((data, [None] * len(data), [key]), [])
    state_specs = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype), full_state)
    dtypes = [t._data.dtype for t in _tensor_leaves(args, kwargs)]
    name = type(mod).__name__
    dynamic = sorted(symbols)
    first_error = None
    for step in (None, 0, 1):  # as given, then AUTO/DYNAMIC dims merged, then AUTO dims static
        if step is not None and not _inputs.relax(leaves, symbols, hints, step):
            continue
        try:
            exported = jax_export.export(jax.jit(program))(state_specs, _arg_structs(leaves, dtypes, symbols))
            break
        except Exception as e:
            first_error = first_error or e
    else:
        if not dynamic:
            raise first_error
        raise RuntimeError(
            f"mt.export.export({name}): the forward cannot be traced with the dynamic dimensions {dynamic} "
            f"({type(first_error).__name__}: {first_error}). Keep the dimensions it needs as Python ints "
            "static (Dim.STATIC / None in dynamic_shapes).") from first_error
    meta = {"name": name, "targets": targets, "params": params,
            "nonpersistent": [k for k in buffers if k not in persistent], "arg_names": names,
            "arg_specs": arg_specs, "kw_specs": kw_specs, "leaves": leaves,
            "symbols": {k: list(v) for k, v in symbols.items()}, "mutations": found["mutations"],
            "rng": found["rng"],
            "out_spec": found["out_spec"], "n_outputs": _count(found["out_spec"]), "order": order,
            "preserve": list(preserve_module_call_signature)}
    meta["signature"] = build_signature(meta)
    arg_meta = [{"shape": list(leaf["dims"]), "dtype": leaf["dtype"]} for leaf in leaves]
    traced = TracedFunction(name, exported, None, arg_meta, found["out_spec"], full_state, targets)
    return ExportedProgram(traced, meta, dict(tensors), example_inputs=(args, kwargs))


def _arg_structs(leaves, dtypes, symbols) -> list:
    """``jax.ShapeDtypeStruct`` per tensor leaf, dynamic dims as symbols of one scope with the
    ``Dim`` bounds as constraints."""
    scope = jax_export.SymbolicScope([c for k, (lo, hi) in symbols.items()
                                      for c in ([f"{k} >= {lo}"] if lo > 1 else []) +
                                      ([f"{k} <= {hi}"] if hi is not None else [])])
    syms = {k: jax_export.symbolic_shape(k, scope=scope)[0] for k in symbols}

    def dim(d):
        if not isinstance(d, str):
            return d
        root, a, b = _inputs.parse_dim(d)
        return syms[root] * a + b if (a, b) != (1, 0) else syms[root]

    return [jax.ShapeDtypeStruct(tuple(dim(d) for d in leaf["dims"]), dt) for leaf, dt in zip(leaves, dtypes)]


def _tensor_leaves(args, kwargs) -> list:
    out: list = []

    def walk(v):
        if isinstance(v, Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif dataclasses.is_dataclass(v) and type(v) in _inputs.DATACLASSES.values():
            for f in dataclasses.fields(v):
                walk(getattr(v, f.name))

    walk(list(args))
    walk(list(kwargs.values()))
    return out


class DraftExportReport:
    """What :func:`draft_export` found: ``failures`` (empty when the export is clean)."""

    def __init__(self, failures=()):
        self.failures = list(failures)

    def successful(self) -> bool:
        """True when nothing had to be worked around."""
        return not self.failures

    def __str__(self) -> str:
        if self.successful():
            bar = "#" * 80
            return (f"{bar}\nCongratulations: No issues are found during export, and it was able to soundly "
                    f"produce a graph.\nYou can now change back to torch.export.export()\n{bar}")
        return "\n".join(str(f) for f in self.failures)


def draft_export(mod, args, kwargs=None, *, dynamic_shapes=None, preserve_module_call_signature: tuple = (),
                 strict: bool = False, prefer_deferred_runtime_asserts_over_guards: bool = False):
    """:func:`export` that attaches a report (``ep._report``, a :class:`DraftExportReport`).

    A failure that :func:`export` raises is raised here too (there is no soft mode); the report of a
    successful export is empty."""
    ep = export(mod, args, kwargs, dynamic_shapes=dynamic_shapes, strict=strict,
                preserve_module_call_signature=preserve_module_call_signature)
    ep._report = DraftExportReport()
    return ep


def unflatten(module, flat_args_adapter=None):
    """The exported program as a Module with the original submodule/parameter hierarchy
    (``ep.module()``; calls run the one flat program)."""
    if not isinstance(module, ExportedProgram):
        raise TypeError(f"mt.export.unflatten: expected an ExportedProgram, got {type(module).__name__}")
    return module.module()


def register_dataclass(cls, *, serialized_type_name: str | None = None) -> None:
    """Register dataclass ``cls`` as a pytree (``jax.tree_util``) so its instances can be
    export inputs; its fields are flattened in declaration order.

    Args:
        cls: a ``dataclasses.dataclass`` type.
        serialized_type_name: the name stored in saved programs (default ``module.qualname``).
    """
    if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
        raise TypeError(f"mt.export.register_dataclass: {cls!r} is not a dataclass type")
    fields = [f.name for f in dataclasses.fields(cls)]
    key = serialized_type_name or f"{cls.__module__}.{cls.__qualname__}"
    if cls not in _inputs.DATACLASSES.values():
        jax.tree_util.register_pytree_node(
            cls, lambda o: ([getattr(o, f) for f in fields], None),
            lambda _, children: cls(**dict(zip(fields, children))))
    _inputs.DATACLASSES[key] = cls
