"""``RMSprop`` (centered, momentum, weight decay, maximize)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, flag, lerp, step_zero, unit_step

__all__ = ["RMSprop"]


def _static(g):
    return (bool(g["centered"]), flag(g["momentum"]), bool(g["maximize"]))


def _hyper(g):
    return (g["lr"], g["alpha"], 1 - g["alpha"], g["eps"], g["weight_decay"], g["momentum"])


def _init(p, h, static):
    centered, use_mom, _ = static
    st = {"step": step_zero(), "square_avg": jnp.zeros_like(p)}
    if use_mom:
        st["momentum_buffer"] = jnp.zeros_like(p)
    if centered:
        st["grad_avg"] = jnp.zeros_like(p)
    return st


def _update(p, g, st, h, static):
    centered, use_mom, maximize = static
    if maximize:
        g = -g
    step, _ = unit_step(st, p.dtype)
    g = add_weight_decay(g, p, h["weight_decay"])
    sq = st["square_avg"] * h["alpha"] + h["one_minus_alpha"] * g * g
    new = {"step": step, "square_avg": sq}
    if centered:
        ga = lerp(st["grad_avg"], g, h["one_minus_alpha"])
        new["grad_avg"] = ga
        avg = jnp.sqrt(sq + (-ga) * ga)
    else:
        avg = jnp.sqrt(sq)
    avg = avg + h["eps"]
    if use_mom:
        buf = st["momentum_buffer"] * h["momentum"] + g / avg
        new["momentum_buffer"] = buf
        return p + (-h["lr"]) * buf, new
    return p + (-h["lr"]) * (g / avg), new


RMSPROP_RULE = Rule("rmsprop", ("lr", "alpha", "one_minus_alpha", "eps", "weight_decay", "momentum"),
                    _static, _hyper, _init, _update)


class RMSprop(RuleOptimizer):
    """RMSprop, as torch.optim.RMSprop.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (0.99).
        eps: added to the denominator (1e-8).
        weight_decay: L2 penalty (0).
        momentum: momentum factor (0).
        centered: normalise by an estimate of the gradient's variance (keeps ``grad_avg``).
        maximize: maximize the objective.
        capturable, foreach, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'square_avg'`` (+ ``'momentum_buffer'``, ``'grad_avg'``).
    """

    _rule = RMSPROP_RULE

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check(lr, eps, momentum, weight_decay, alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["eps"], group["momentum"], group["weight_decay"], group["alpha"])


def _check(lr, eps, momentum, weight_decay, alpha):
    check_lr(lr)
    check_eps(eps)
    check_nonneg("momentum", momentum)
    check_nonneg("weight_decay", weight_decay)
    check_nonneg("alpha", alpha)
