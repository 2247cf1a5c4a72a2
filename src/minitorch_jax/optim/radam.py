"""``RAdam``: rectified Adam (decoupled weight decay optional)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_betas, check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, lerp, log1p, one_minus_pow, step_zero, unit_step

__all__ = ["RAdam"]

NAMES = ("lr", "beta1", "omb1", "beta2", "omb2", "eps", "weight_decay", "decay_factor", "rho_inf",
         "rho_offset", "neg_log_beta2")


def _static(g):
    return (bool(g["decoupled_weight_decay"]), bool(g["maximize"]))


def _hyper(g):
    lr, (b1, b2), wd = g["lr"], g["betas"], g["weight_decay"]
    omb2 = 1 - b2
    neg_log_b2 = -log1p(-omb2)            # -log(beta2) > 0, exact from 1 - beta2
    rho_inf = 2 / omb2 - 1
    # rho_t = rho_inf - 2 s b^s / (1 - b^s) = rho_offset + 2 s (1/u - 1/expm1(u)), u = s * neg_log_b2,
    # with rho_offset = rho_inf - 2 / neg_log_b2 computed here in double (it cancels badly in float32)
    rho_offset = rho_inf - 2 / neg_log_b2
    return (lr, b1, 1 - b1, b2, omb2, g["eps"], wd, 1 - lr * wd, rho_inf, rho_offset, neg_log_b2)


def _init(p, h, static):
    return {"step": step_zero(), "exp_avg": jnp.zeros_like(p), "exp_avg_sq": jnp.zeros_like(p)}


def _inv_minus_inv_expm1(u):
    """``1/u - 1/expm1(u)`` without cancellation (series below 0.5)."""
    small = u < 0.5
    one = jnp.ones_like(u)
    us = jnp.where(small, u, one)
    series = 0.5 - us / 12 + us ** 3 / 720 - us ** 5 / 30240
    ub = jnp.where(small, one, u)
    return jnp.where(small, series, 1 / ub - 1 / jnp.expm1(ub))


def _update(p, g, st, h, static):
    decoupled, maximize = static
    if maximize:
        g = -g
    step, s = unit_step(st, p.dtype)
    if decoupled:
        p = p * h["decay_factor"]
    else:
        g = add_weight_decay(g, p, h["weight_decay"])
    m = lerp(st["exp_avg"], g, h["omb1"])
    v = st["exp_avg_sq"] * h["beta2"] + h["omb2"] * g * g
    bc1 = one_minus_pow(h["omb1"], s)
    bc2 = one_minus_pow(h["omb2"], s)
    corrected = m / bc1
    rho_inf = h["rho_inf"]
    rho_t = h["rho_offset"] + 2 * s * _inv_minus_inv_expm1(s * h["neg_log_beta2"])
    rect = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    adaptive = jnp.sqrt(bc2) / (jnp.sqrt(v) + h["eps"])
    upd = jnp.where(rho_t > 5.0, corrected * h["lr"] * adaptive * rect, corrected * h["lr"])
    return p + (-1.0) * upd, {"step": step, "exp_avg": m, "exp_avg_sq": v}


RADAM_RULE = Rule("radam", NAMES, _static, _hyper, _init, _update)


class RAdam(RuleOptimizer):
    """RAdam, as torch.optim.RAdam.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages (0.9, 0.999).
        eps: added to the denominator (1e-8).
        weight_decay: weight decay (0), L2 unless ``decoupled_weight_decay``.
        decoupled_weight_decay: decay the parameters directly (RAdamW).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    _rule = RADAM_RULE

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["eps"], group["betas"], group["weight_decay"])


def _check(lr, eps, betas, weight_decay):
    check_lr(lr)
    check_eps(eps)
    check_betas(betas)
    check_nonneg("weight_decay", weight_decay)
