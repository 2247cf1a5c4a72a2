"""``NAdam``: Adam with Nesterov momentum (momentum decay, decoupled weight decay)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_betas, check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, lerp, one_minus_pow, step_zero, unit_step

__all__ = ["NAdam"]

NAMES = ("lr", "beta1", "omb1", "beta2", "omb2", "eps", "weight_decay", "decay_factor", "momentum_decay")


def _static(g):
    return (bool(g["decoupled_weight_decay"]), bool(g["maximize"]))


def _hyper(g):
    lr, (b1, b2), wd = g["lr"], g["betas"], g["weight_decay"]
    return (lr, b1, 1 - b1, b2, 1 - b2, g["eps"], wd, 1 - lr * wd, g["momentum_decay"])


def _init(p, h, static):
    return {"step": step_zero(), "mu_product": jnp.ones((), step_zero().dtype),
            "exp_avg": jnp.zeros_like(p), "exp_avg_sq": jnp.zeros_like(p)}


def _update(p, g, st, h, static):
    decoupled, maximize = static
    if maximize:
        g = -g
    step, s = unit_step(st, p.dtype)
    bc2 = one_minus_pow(h["omb2"], s)
    if decoupled:
        p = p * h["decay_factor"]
    else:
        g = add_weight_decay(g, p, h["weight_decay"])
    b1, md, lr = h["beta1"], h["momentum_decay"], h["lr"]
    mu = b1 * (1.0 - 0.5 * jnp.power(jnp.asarray(0.96, p.dtype), s * md))
    mu_next = b1 * (1.0 - 0.5 * jnp.power(jnp.asarray(0.96, p.dtype), (s + 1) * md))
    mu_product = st["mu_product"] * mu.astype(st["mu_product"].dtype)
    mp = mu_product.astype(p.dtype)
    m = lerp(st["exp_avg"], g, h["omb1"])
    v = st["exp_avg_sq"] * h["beta2"] + h["omb2"] * g * g
    denom = jnp.sqrt(v / bc2) + h["eps"]
    p = p + (-lr * (1.0 - mu) / (1.0 - mp)) * (g / denom)
    p = p + ((-lr * mu_next) / (1.0 - mp * mu_next)) * (m / denom)
    return p, {"step": step, "mu_product": mu_product, "exp_avg": m, "exp_avg_sq": v}


NADAM_RULE = Rule("nadam", NAMES, _static, _hyper, _init, _update)


class NAdam(RuleOptimizer):
    """NAdam, as torch.optim.NAdam.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages (0.9, 0.999).
        eps: added to the denominator (1e-8).
        weight_decay: weight decay (0), L2 unless ``decoupled_weight_decay``.
        momentum_decay: momentum decay psi (4e-3).
        decoupled_weight_decay: decay the parameters directly (NAdamW).
        maximize: maximize the objective.
        foreach, capturable, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'mu_product'``, ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    _rule = NADAM_RULE

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check(lr, eps, betas, weight_decay, momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["eps"], group["betas"], group["weight_decay"], group["momentum_decay"])


def _check(lr, eps, betas, weight_decay, momentum_decay):
    check_lr(lr)
    check_eps(eps)
    check_betas(betas)
    check_nonneg("weight_decay", weight_decay)
    check_nonneg("momentum_decay", momentum_decay)
