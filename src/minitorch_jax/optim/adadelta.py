"""``Adadelta`` (rho, weight decay, maximize)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_eps, check_lr, check_nonneg, check_range
from ._rule import Rule, RuleOptimizer, add_weight_decay, step_zero, unit_step

__all__ = ["Adadelta"]


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    return (g["lr"], g["rho"], 1 - g["rho"], g["eps"], g["weight_decay"])


def _init(p, h, static):
    return {"step": step_zero(), "square_avg": jnp.zeros_like(p), "acc_delta": jnp.zeros_like(p)}


def _update(p, g, st, h, static):
    if static[0]:
        g = -g
    step, _ = unit_step(st, p.dtype)
    g = add_weight_decay(g, p, h["weight_decay"])
    rho, omr, eps = h["rho"], h["one_minus_rho"], h["eps"]
    sq = st["square_avg"] * rho + omr * g * g
    std = jnp.sqrt(sq + eps)
    delta = jnp.sqrt(st["acc_delta"] + eps) / std * g
    acc = st["acc_delta"] * rho + omr * delta * delta
    return p + (-h["lr"]) * delta, {"step": step, "square_avg": sq, "acc_delta": acc}


ADADELTA_RULE = Rule("adadelta", ("lr", "rho", "one_minus_rho", "eps", "weight_decay"), _static, _hyper,
                     _init, _update)


class Adadelta(RuleOptimizer):
    """Adadelta, as torch.optim.Adadelta.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: coefficient scaling the delta (default 1.0).
        rho: coefficient of the running averages (0.9).
        eps: added inside the square roots (1e-6).
        weight_decay: L2 penalty (0).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'square_avg'``, ``'acc_delta'``.
    """

    _rule = ADADELTA_RULE

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check(lr, rho, eps, weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["rho"], group["eps"], group["weight_decay"])


def _check(lr, rho, eps, weight_decay):
    check_lr(lr)
    check_range("rho", rho, 0.0, 1.0)
    check_eps(eps)
    check_nonneg("weight_decay", weight_decay)
