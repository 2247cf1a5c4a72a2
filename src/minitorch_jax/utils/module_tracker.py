"""``mt.utils.module_tracker``: torch's ``ModuleTracker``, which knows which modules are running.

Inside ``with ModuleTracker() as t:``, ``t.parents`` is the set of fully qualified names ("Global",
"Net", "Net.layer1", ...) of the modules whose forward - or, during a backward pass, whose backward -
is running, and ``t.is_bw`` tells whether the last module event came from a backward pass.

How modules are seen: through the global module forward hooks
(``mt.nn.modules.module.register_module_forward_pre_hook``/``register_module_forward_hook``, as in
torch). Backward events come from gradient hooks on module inputs and outputs
(``mt.autograd.graph.register_multi_grad_hook(mode="any")``). ``is_bw`` stays True after a backward
pass until the next module forward starts (torch resets it when its autograd engine finishes).
"""

from __future__ import annotations

import weakref

__all__ = ["ModuleTracker"]


def _install_forward_hooks(pre, post):
    """Call ``pre(module, args)``/``post(module, args, output)`` around every module forward; returns a
    function removing the hooks."""
    from ..nn.modules import module as _module
    handles = [_module.register_module_forward_pre_hook(pre), _module.register_module_forward_hook(post)]

    def remove() -> None:
        for h in handles:
            h.remove()
    return remove


def _grad_tensors(tree) -> list:
    from .._tensor import Tensor
    from ._pytree import tree_leaves
    return [t for t in tree_leaves(tree) if isinstance(t, Tensor) and t.requires_grad]


class ModuleTracker:
    """Tracks the module hierarchy while code runs (``torch.utils.module_tracker.ModuleTracker``).

    Attributes:
        parents: the fully qualified names of the modules currently running (always holds
            ``"Global"``); a module's name is its class name at the top and ``parent.child`` below.
        is_bw: True while (and after) a backward pass reached a tracked module, until the next forward.

    Example::

        >>> with ModuleTracker() as tracker:
        ...     model.register_forward_pre_hook(lambda m, a: print(tracker.parents))
        ...     model(x)
    """

    def __init__(self) -> None:
        self.parents: set[str] = {"Global"}
        self.is_bw = False
        self._names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._named_children: weakref.WeakSet = weakref.WeakSet()
        self._grad_handles: list = []
        self._remove = None

    def _name(self, mod) -> str:
        name = self._names.get(mod)
        if name is None:
            name = self._names[mod] = type(mod).__name__
        if mod not in self._named_children:
            self._named_children.add(mod)
            for child_name, child in mod.named_children():
                self._names[child] = f"{name}.{child_name}"
                self._name(child)
        return name

    def _enter(self, name: str, backward: bool):
        def fn(*_) -> None:
            if backward:
                self.is_bw = True
            self.parents.add(name)
        return fn

    def _leave(self, name: str, backward: bool):
        def fn(*_) -> None:
            if backward:
                self.is_bw = True
            self.parents.discard(name)
        return fn

    def _watch(self, tree, fn) -> None:
        from ..autograd.graph import register_multi_grad_hook
        tensors = _grad_tensors(tree)
        if tensors:
            self._grad_handles.append(register_multi_grad_hook(tensors, fn, mode="any"))

    def _pre(self, mod, args) -> None:
        if self.is_bw:  # a new forward after a backward pass
            self.is_bw = False
            self.parents = {"Global"}
        name = self._name(mod)
        self._enter(name, False)()
        self._watch(args, self._leave(name, True))  # input grads ready: the module's backward is done

    def _post(self, mod, args, output) -> None:
        name = self._name(mod)
        self._leave(name, False)()
        self._watch(output, self._enter(name, True))  # output grads arrive: its backward starts

    def __enter__(self):
        self._remove = _install_forward_hooks(self._pre, self._post)
        return self

    def __exit__(self, *exc) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
        for h in self._grad_handles:
            h.remove()
        self._grad_handles.clear()
