"""``Adagrad`` (lr decay, initial accumulator value, weight decay, maximize)."""

from __future__ import annotations

import jax.numpy as jnp

from .._tensor import _wrap
from ._checks import check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, step_zero, unit_step

__all__ = ["Adagrad"]


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    return (g["lr"], g["lr_decay"], g["eps"], g["weight_decay"], g["initial_accumulator_value"])


def _init(p, h, static):
    return {"step": step_zero(), "sum": jnp.full_like(p, h["initial_accumulator_value"])}


def _update(p, g, st, h, static):
    if static[0]:
        g = -g
    step, s = unit_step(st, p.dtype)
    g = add_weight_decay(g, p, h["weight_decay"])
    clr = h["lr"] / (1 + (s - 1) * h["lr_decay"])
    acc = st["sum"] + g * g
    std = jnp.sqrt(acc) + h["eps"]
    return p + (-clr) * (g / std), {"step": step, "sum": acc}


ADAGRAD_RULE = Rule("adagrad", ("lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value"),
                    _static, _hyper, _init, _update)


class Adagrad(RuleOptimizer):
    """Adagrad, as torch.optim.Adagrad.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (0): ``lr / (1 + (step - 1) * lr_decay)``.
        weight_decay: L2 penalty (0).
        initial_accumulator_value: starting value of the squared-gradient sum (0).
        eps: added to the denominator (1e-10).
        maximize: maximize the objective.
        foreach, differentiable, fused: accepted for compatibility.

    State per parameter: ``'step'``, ``'sum'`` (created when the optimizer is built, as torch).
    """

    _rule = ADAGRAD_RULE

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check(lr, lr_decay, weight_decay, initial_accumulator_value, eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # as torch: state is created here, with the constructor's initial_accumulator_value (groups
        # added later get theirs lazily, at their first step, from the group's value)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = _wrap(step_zero())
                self.state[p]["sum"] = _wrap(jnp.full_like(p._data, initial_accumulator_value))

    def _validate_group(self, group):
        _check(group["lr"], group["lr_decay"], group["weight_decay"], group["initial_accumulator_value"],
               group["eps"])


def _check(lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    check_lr(lr)
    check_nonneg("lr_decay", lr_decay)
    check_nonneg("weight_decay", weight_decay)
    check_nonneg("initial_accumulator_value", initial_accumulator_value)
    check_eps(eps)
