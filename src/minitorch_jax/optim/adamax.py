"""``Adamax``: Adam with the infinity norm."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_betas, check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, lerp, one_minus_pow, step_zero, unit_step

__all__ = ["Adamax"]


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    b1, b2 = g["betas"]
    return (g["lr"], b1, 1 - b1, b2, g["eps"], g["weight_decay"])


def _init(p, h, static):
    return {"step": step_zero(), "exp_avg": jnp.zeros_like(p), "exp_inf": jnp.zeros_like(p)}


def _update(p, g, st, h, static):
    if static[0]:
        g = -g
    step, s = unit_step(st, p.dtype)
    g = add_weight_decay(g, p, h["weight_decay"])
    m = lerp(st["exp_avg"], g, h["omb1"])
    u = jnp.maximum(st["exp_inf"] * h["beta2"], jnp.abs(g) + h["eps"])
    clr = h["lr"] / one_minus_pow(h["omb1"], s)
    return p + (-clr) * (m / u), {"step": step, "exp_avg": m, "exp_inf": u}


ADAMAX_RULE = Rule("adamax", ("lr", "beta1", "omb1", "beta2", "eps", "weight_decay"), _static, _hyper,
                   _init, _update)


class Adamax(RuleOptimizer):
    """Adamax, as torch.optim.Adamax.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average and of the decayed infinity norm (0.9, 0.999).
        eps: added to the norm (1e-8).
        weight_decay: L2 penalty (0).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_inf'``.
    """

    _rule = ADAMAX_RULE

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["eps"], group["betas"], group["weight_decay"])


def _check(lr, eps, betas, weight_decay):
    check_lr(lr)
    check_eps(eps)
    check_betas(betas)
    check_nonneg("weight_decay", weight_decay)
