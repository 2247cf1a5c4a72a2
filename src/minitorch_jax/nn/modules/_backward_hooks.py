"""Full backward hooks of a Module call, built from two identity autograd Functions.

The module's tensor inputs pass through one identity node before ``forward`` and its tensor
outputs through another after it. When backward reaches the output node, it has every
``grad_output`` (backward pre-hooks run there); when it reaches the input node, it has every
``grad_input``, and ``hook(module, grad_input, grad_output)`` runs with both (its result may
replace ``grad_input``). This is torch's own construction.
"""

from __future__ import annotations

from ..._grad_mode import STATE
from ..._tensor import Tensor
from ...autograd.function import Function


def _tensors(obj):
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for x in obj for t in _tensors(x)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _tensors(x)]
    return []


def _replace(obj, it):
    if isinstance(obj, Tensor):
        return next(it)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_replace(x, it) for x in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace(x, it) for x in obj)
    if isinstance(obj, dict):
        return {k: _replace(v, it) for k, v in obj.items()}
    return obj


class _Identity(Function):
    @staticmethod
    def forward(ctx, callback, *xs):
        ctx.callback = callback
        return tuple(x.view_as(x) for x in xs) if len(xs) != 1 else xs[0].view_as(xs[0])

    @staticmethod
    def backward(ctx, *grads):
        res = ctx.callback(grads)
        return (None, *res)


class BackwardHook:
    """Wires a module's full backward hooks (and pre-hooks) around one call."""

    def __init__(self, module):
        self.module = module
        self.grad_outputs = None
        self.n_inputs = 0

    def _on_inputs(self, grads):
        m = self.module
        grad_input = tuple(grads)
        grad_output = self.grad_outputs if self.grad_outputs is not None else ()
        for hook in list(m._backward_hooks.values()):
            res = hook(m, grad_input, grad_output)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got {len(res)}, but "
                        f"expected {len(grad_input)}")
                grad_input = res
        return grad_input

    def _on_outputs(self, grads):
        m = self.module
        grads = tuple(grads)
        for hook in list(m._backward_pre_hooks.values()):
            res = hook(m, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_outputs = grads
        if self.n_inputs == 0:  # no input needs a gradient: torch calls the hooks with None inputs
            for hook in list(m._backward_hooks.values()):
                hook(m, (None,), grads)
        return grads

    def setup_input_hook(self, args):
        ts = [t for t in _tensors(args)]
        if not STATE.grad or not any(t.requires_grad for t in ts):
            return args
        self.n_inputs = len(ts)
        out = _Identity.apply(self._on_inputs, *ts)
        out = out if isinstance(out, tuple) else (out,)
        return _replace(args, iter(out))

    def setup_output_hook(self, result):
        ts = _tensors(result)
        if not STATE.grad or not any(t.requires_grad for t in ts):
            return result
        out = _Identity.apply(self._on_outputs, *ts)
        out = out if isinstance(out, tuple) else (out,)
        return _replace(result, iter(out))
