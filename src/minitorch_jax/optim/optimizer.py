"""``Optimizer``: the torch-compatible base class of every optimizer in ``mt.optim``.

It owns what torch's base owns: ``param_groups`` (dicts with ``'params'`` and every hyperparameter),
``defaults``, ``state`` (parameter -> dict of per-parameter state Tensors), ``add_param_group``,
``zero_grad``, ``state_dict``/``load_state_dict`` (torch's layout: state keyed by integer index,
groups with index lists) and step hooks. Subclasses implement ``step``; the built-in optimizers get
theirs from :class:`~minitorch_jax.optim._rule.RuleOptimizer` (one compiled update per group).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

from .._state_version import bump as _bump
from .._tensor import Tensor, _wrap
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyperparameter that every group must specify."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_GLOBAL_PRE_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_POST_HOOKS: OrderedDict = OrderedDict()


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "minitorch_jax." + type(obj).__name__
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _with_hooks(step):
    """Wrap a subclass's ``step`` so registered pre/post step hooks run around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        pre = self._optimizer_step_pre_hooks
        if pre or _GLOBAL_PRE_HOOKS:
            for hook in chain(_GLOBAL_PRE_HOOKS.values(), pre.values()):
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            f"{hook} must return None or a tuple of (new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
        out = step(self, *args, **kwargs)
        post = self._optimizer_step_post_hooks
        if post or _GLOBAL_POST_HOOKS:
            for hook in chain(post.values(), _GLOBAL_POST_HOOKS.values()):
                hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


def _own_step(st, seen: set):
    """``st`` (one parameter's state) for ``state_dict()``: parameters that step together share one
    ``'step'`` Tensor here, but torch keeps one counter per parameter, so every holder after the first
    gets its own Tensor of the same value (else a checkpoint would alias them, and torch, loading it,
    would add each parameter's increment to one shared counter)."""
    step = st.get("step") if isinstance(st, dict) else None
    if not isinstance(step, Tensor):
        return st
    if id(step) in seen:
        return {**st, "step": _wrap(step._data)}
    seen.add(id(step))
    return st


class Optimizer:
    """Base class for all optimizers (torch.optim.Optimizer).

    Args:
        params: an iterable of Tensors (Parameters), of ``(name, Tensor)`` pairs, or of dicts
            (parameter groups: ``{'params': [...], 'lr': ...}``); must not be empty.
        defaults: the default hyperparameters, filled into every group that does not set them.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (list of Tensors) and every hyperparameter.
        state: ``defaultdict(dict)`` mapping a parameter to its per-parameter state (Tensors).
        defaults: the ``defaults`` dict.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _with_hooks(step)

    # ----- groups ----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group (a dict with ``'params'`` and optional hyperparameters).

        Missing hyperparameters take the optimizer's defaults. Raises ValueError when a parameter
        is already in another group, TypeError for non-Tensor parameters or a set of parameters.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list "
                            "instead.")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        self._validate_group(param_group)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this "
                          "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                          "information", stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)
        _bump()

    def _validate_group(self, group: dict) -> None:
        """Check a group's hyperparameter values (subclasses raise torch's ValueErrors here)."""

    # ----- gradients and stepping --------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: set ``.grad`` to None (default) instead of filling it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        g.grad_fn = None
                        g.requires_grad = False
                        g.zero_()

    def step(self, closure=None):
        """Perform one optimization step (implemented by subclasses).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        raise NotImplementedError

    # ----- hooks -------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run before ``step``; it may return new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run before ``state_dict()`` builds its result."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)``; a returned dict replaces the state dict."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict)`` to run before loading; a returned dict is loaded."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` to run after ``load_state_dict``."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _register(d: OrderedDict, hook, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(d)
        d[handle.id] = hook
        if prepend:
            d.move_to_end(handle.id, last=False)
        return handle

    # ----- state dict --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer state as torch lays it out.

        Returns:
            ``{'state': {index: {key: Tensor, ...}}, 'param_groups': [{..., 'params': [indices]}]}``,
            where indices number the parameters across all groups in order. State values are the
            live Tensors (not copies), as in torch; a ``'step'`` counter that parameters share here is
            given to each parameter after the first as its own Tensor (torch has one per parameter).
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            mapping.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in mapping})
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): _own_step(v, seen_steps)
                 for seen_steps in [set()] for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            res = hook(self, sd)
            if res is not None:
                sd = res
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict made by ``state_dict()`` (this library's or, with tensors converted,
        torch's). State tensors are cast to their parameter's dtype, except ``'step'``.

        Raises:
            ValueError: when the number of groups or a group's size differs.
        """
        _bump()
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            res = hook(self, state_dict)
            if res is not None:
                state_dict = res
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _cast_state(id_map[k], v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__({"state": state,
                           "param_groups": [update_group(g, n) for g, n in zip(groups, saved_groups)]})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    def __repr__(self) -> str:
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"


def _cast_state(param: Tensor, value, key=None):
    """Copy a loaded state value: tensors (mt, or anything array-like with a dtype) become mt Tensors
    of the parameter's dtype (``'step'`` keeps its dtype); containers are rebuilt."""
    if isinstance(value, Tensor) or _is_foreign_array(value):
        import jax.numpy as jnp
        arr = value._data if isinstance(value, Tensor) else jnp.asarray(_to_numpy(value))
        if key != "step" and param.is_floating_point() and arr.dtype != param._data.dtype:
            arr = arr.astype(param._data.dtype)
        return _wrap(arr)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def _is_foreign_array(v) -> bool:
    return hasattr(v, "__array__") and hasattr(v, "dtype") and hasattr(v, "shape")


def _to_numpy(v):
    import numpy as np
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
        v = v.detach().cpu()
    return np.asarray(v)
