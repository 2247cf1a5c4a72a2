"""``mt.distributed.checkpoint.state_dict``: model and optimizer state dicts keyed by parameter FQNs.

``get_optimizer_state_dict`` returns torch's optimizer layout with every parameter id replaced by the
parameter's fully-qualified name in the model (``state["0.weight"]``, ``param_groups[i]["params"] ==
["0.weight", ...]``), or, with ``flatten_optimizer_state_dict=True``, the flat
``{"state.<fqn>.<key>": ..., "param_groups.<fqn>.<hyperparameter>": ...}`` form. An optimizer that
has not stepped yet gets its state created first (one step with zero gradients and lr 0), so the
returned dict can be filled by ``mt.distributed.checkpoint.load``.

minitorch_jax tensors are never sharded, so ``full_state_dict`` and ``cpu_offload`` change nothing;
``broadcast_from_rank0`` (with ``full_state_dict``) makes the set_* functions take rank 0's values on
every rank.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..._tensor import Tensor
from .. import _collectives, _group

__all__ = ["StateDictOptions", "get_model_state_dict", "get_optimizer_state_dict", "get_state_dict",
           "set_model_state_dict", "set_optimizer_state_dict", "set_state_dict"]


@dataclass
class StateDictOptions:
    """Options of the get_/set_ state dict functions.

    Args:
        full_state_dict: return unsharded tensors (always the case here).
        cpu_offload: move tensors to the CPU (no-op: arrays stay where they are).
        ignore_frozen_params: leave parameters with ``requires_grad=False`` out of the model state dict.
        keep_submodule_prefixes: with ``submodules``, keep the submodule's FQN prefix on the keys.
        strict: ``set_model_state_dict`` requires the keys to match.
        broadcast_from_rank0: set_* functions load rank 0's values on every rank (needs
            ``full_state_dict=True``).
        flatten_optimizer_state_dict: use the flat ``state.<fqn>.<key>`` optimizer layout.
    """

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def _opts(options, fname) -> StateDictOptions:
    options = StateDictOptions() if options is None else options
    if not isinstance(options, StateDictOptions):
        raise TypeError(f"{fname}: options must be a StateDictOptions, got {type(options).__name__}")
    if options.broadcast_from_rank0 and not options.full_state_dict:
        raise ValueError("full_state_dict must be True when broadcast_from_rank0 is True.")
    return options


def _optims(optimizers) -> list:
    return [optimizers] if hasattr(optimizers, "param_groups") else list(optimizers)


def _fqns(model) -> dict:
    """id(parameter) -> its first FQN in ``model``."""
    out: dict = {}
    for name, p in model.named_parameters():
        out.setdefault(id(p), name)
    return out


def get_model_state_dict(model, *, submodules=None, options=None) -> dict:
    """The model's parameters and persistent buffers by FQN, filtered by ``options``.

    The values are the model's own Parameter/buffer tensors (``state_dict(keep_vars=True)``): torch
    returns detached tensors sharing their storage, which JAX arrays cannot do, so handing the live
    tensors is what lets ``mt.distributed.checkpoint.load`` update the model in place through this
    dict. (A plain ``model.state_dict()`` is a snapshot: load into it, then ``model.load_state_dict``.)

    Args:
        model: the module.
        submodules: (deprecated in torch) keep only the entries of these submodules.
        options: a :class:`StateDictOptions`.
    """
    options = _opts(options, "get_model_state_dict")
    sd = model.state_dict(keep_vars=True)
    if options.ignore_frozen_params:
        frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
        sd = type(sd)((k, v) for k, v in sd.items() if k not in frozen)
    if submodules:
        prefixes = [n + "." for n, m in model.named_modules() if any(m is s for s in submodules)]
        kept = type(sd)()
        for k, v in sd.items():
            for pre in prefixes:
                if k.startswith(pre):
                    kept[k if options.keep_submodule_prefixes else k[len(pre):]] = v
                    break
        sd = kept
    return sd


def _init_state(model, optim) -> None:
    """Create an optimizer's state by one step with zero gradients and lr 0 (as torch does)."""
    if optim.state:
        return
    lrs = [g["lr"] for g in optim.param_groups]
    made = []
    for g in optim.param_groups:
        g["lr"] = 0.0
        for p in g["params"]:
            if p.grad is None and p.requires_grad:
                p.grad = p.detach() * 0
                made.append(p)
    try:
        optim.step()
    finally:
        for g, lr in zip(optim.param_groups, lrs):
            g["lr"] = lr
        for p in made:
            p.grad = None


def _one_optim_sd(model, optim, fqns) -> dict:
    _init_state(model, optim)
    sd = optim.state_dict()
    ids = [p for g in optim.param_groups for p in g["params"]]
    name = {}
    for i, p in enumerate(ids):
        if id(p) not in fqns:
            raise ValueError(f"get_optimizer_state_dict: an optimizer parameter of shape {tuple(p.shape)} is "
                             "not a parameter of the model")
        name[i] = fqns[id(p)]
    state = {name[i]: v for i, v in sd["state"].items()}
    groups = [{**g, "params": [name[i] for i in g["params"]]} for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


def _flatten_osd(osd) -> dict:
    out = {}
    for fqn, st in osd["state"].items():
        for k, v in st.items():
            out[f"state.{fqn}.{k}"] = v
    for g in osd["param_groups"]:
        for fqn in g["params"]:
            for k, v in g.items():
                if k != "params":
                    out[f"param_groups.{fqn}.{k}"] = v
    return out


def get_optimizer_state_dict(model, optimizers, *, submodules=None, options=None) -> dict:
    """The state dict of ``optimizers`` (one or several over ``model``'s parameters) keyed by
    parameter FQNs.

    Returns:
        ``{"state": {fqn: {...}}, "param_groups": [{..., "params": [fqn, ...]}]}`` (several optimizers
        are merged), or the flat form with ``flatten_optimizer_state_dict=True``.

    Raises:
        ValueError: an optimizer holds a parameter that is not in ``model``.
    """
    options = _opts(options, "get_optimizer_state_dict")
    fqns = _fqns(model)
    merged: dict = {"state": {}, "param_groups": []}
    for o in _optims(optimizers):
        sd = _one_optim_sd(model, o, fqns)
        merged["state"].update(sd["state"])
        merged["param_groups"].extend(sd["param_groups"])
    return _flatten_osd(merged) if options.flatten_optimizer_state_dict else merged


def get_state_dict(model, optimizers, *, submodules=None, options=None) -> tuple:
    """``(get_model_state_dict(model), get_optimizer_state_dict(model, optimizers))``."""
    return (get_model_state_dict(model, submodules=submodules, options=options),
            get_optimizer_state_dict(model, optimizers, submodules=submodules, options=options))


def _from_rank0(sd):
    """Replace ``sd`` by rank 0's (objects broadcast; tensors come back as host arrays -> Tensors)."""
    if not _group.is_initialized():
        return sd
    import jax.numpy as jnp
    import numpy as np

    from ..._tensor import _wrap

    def to_np(o):
        if isinstance(o, Tensor):
            return ("__mt_tensor__", np.asarray(o._data))
        if isinstance(o, dict):
            return {k: to_np(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return type(o)(to_np(v) for v in o)
        return o

    def back(o):
        if isinstance(o, tuple) and len(o) == 2 and o[0] == "__mt_tensor__":
            return _wrap(jnp.asarray(o[1]))
        if isinstance(o, dict):
            return {k: back(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return type(o)(back(v) for v in o)
        return o

    box = [to_np(sd) if _group.get_rank() == 0 else None]
    _collectives.broadcast_object_list(box, src=0)
    return back(box[0])


def set_model_state_dict(model, model_state_dict: dict, *, options=None):
    """Load ``model_state_dict`` (keys as from :func:`get_model_state_dict`) into ``model``.

    Returns:
        ``_IncompatibleKeys(missing_keys, unexpected_keys)`` as ``Module.load_state_dict``.
    """
    options = _opts(options, "set_model_state_dict")
    if options.broadcast_from_rank0:
        model_state_dict = _from_rank0(model_state_dict)
    strict = options.strict
    if options.ignore_frozen_params:
        frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
        missing_frozen = frozen - set(model_state_dict)
        if missing_frozen and strict:
            model_state_dict = dict(model_state_dict)
            own = model.state_dict()
            model_state_dict.update({k: own[k] for k in missing_frozen})
    return model.load_state_dict(model_state_dict, strict=strict)



def set_optimizer_state_dict(model, optimizers, optim_state_dict: dict, *, options=None) -> None:
    """Load an FQN-keyed optimizer state dict (from :func:`get_optimizer_state_dict`, nested or flat)
    into ``optimizers``.

    Raises:
        KeyError: a parameter of an optimizer has no entry in ``param_groups`` of the state dict.
    """
    options = _opts(options, "set_optimizer_state_dict")
    if options.broadcast_from_rank0:
        optim_state_dict = _from_rank0(optim_state_dict)
    fqns = _fqns(model)
    flat = "state" not in optim_state_dict or "param_groups" not in optim_state_dict
    for o in _optims(optimizers):
        names = [fqns[id(p)] for g in o.param_groups for p in g["params"]]
        index = {n: i for i, n in enumerate(names)}
        if flat:
            state: dict = {}
            for k, v in optim_state_dict.items():
                if k.startswith("state."):
                    fqn, _, key = k[len("state."):].rpartition(".")
                    if fqn in index:
                        state.setdefault(index[fqn], {})[key] = v
            groups = []
            for g in o.param_groups:
                first = fqns[id(g["params"][0])]
                pre = f"param_groups.{first}."
                hp = {k[len(pre):]: v for k, v in optim_state_dict.items() if k.startswith(pre)}
                if not hp:
                    raise KeyError(f"set_optimizer_state_dict: no 'param_groups.{first}.*' entries in the "
                                   "flattened optimizer state_dict")
                groups.append({**hp, "params": [index[fqns[id(p)]] for p in g["params"]]})
        else:
            state = {index[f]: v for f, v in optim_state_dict["state"].items() if f in index}
            groups = []
            for g in o.param_groups:
                mine = [fqns[id(p)] for p in g["params"]]
                match = [sg for sg in optim_state_dict["param_groups"] if mine[0] in sg["params"]]
                if not match:
                    raise KeyError(f"set_optimizer_state_dict: parameter {mine[0]!r} is in no param_group of "
                                   "the optimizer state_dict")
                groups.append({**match[0], "params": [index[f] for f in mine]})
        o.load_state_dict({"state": state, "param_groups": groups})


def set_state_dict(model, optimizers, *, model_state_dict: dict, optim_state_dict: dict, options=None):
    """:func:`set_model_state_dict` then :func:`set_optimizer_state_dict`; returns the former's result."""
    keys = set_model_state_dict(model, model_state_dict, options=options)
    set_optimizer_state_dict(model, optimizers, optim_state_dict, options=options)
    return keys
