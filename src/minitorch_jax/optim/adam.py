"""``Adam`` and ``AdamW`` (amsgrad, weight decay coupled or decoupled, maximize)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_betas, check_eps, check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, lerp, one_minus_pow, step_zero, unit_step

__all__ = ["Adam", "AdamW"]

NAMES = ("lr", "beta1", "omb1", "beta2", "omb2", "eps", "weight_decay", "decay_factor")


def _static(g):
    return (bool(g["amsgrad"]), bool(g["maximize"]), bool(g["decoupled_weight_decay"]))


def _hyper(g):
    lr, (b1, b2), wd = g["lr"], g["betas"], g["weight_decay"]
    return (lr, b1, 1 - b1, b2, 1 - b2, g["eps"], wd, 1 - lr * wd)


def _init(p, h, static):
    st = {"step": step_zero(), "exp_avg": jnp.zeros_like(p), "exp_avg_sq": jnp.zeros_like(p)}
    if static[0]:
        st["max_exp_avg_sq"] = jnp.zeros_like(p)
    return st


def _update(p, g, st, h, static):
    amsgrad, maximize, decoupled = static
    if maximize:
        g = -g
    step, s = unit_step(st, p.dtype)
    if decoupled:
        p = p * h["decay_factor"]
    else:
        g = add_weight_decay(g, p, h["weight_decay"])
    m = lerp(st["exp_avg"], g, h["omb1"])
    v = st["exp_avg_sq"] * h["beta2"] + h["omb2"] * g * g
    step_size = h["lr"] / one_minus_pow(h["omb1"], s)
    bc2_sqrt = jnp.sqrt(one_minus_pow(h["omb2"], s))
    new = {"step": step, "exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        vmax = jnp.maximum(st["max_exp_avg_sq"], v)
        new["max_exp_avg_sq"] = vmax
        denom = jnp.sqrt(vmax) / bc2_sqrt + h["eps"]
    else:
        denom = jnp.sqrt(v) / bc2_sqrt + h["eps"]
    return p + (-step_size) * (m / denom), new


ADAM_RULE = Rule("adam", NAMES, _static, _hyper, _init, _update)


class Adam(RuleOptimizer):
    """Adam, as torch.optim.Adam.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (0.9, 0.999).
        eps: added to the denominator (1e-8).
        weight_decay: L2 penalty (0), added to the gradient unless ``decoupled_weight_decay``.
        amsgrad: use the AMSGrad variant (keeps ``max_exp_avg_sq``).
        maximize: maximize the objective.
        decoupled_weight_decay: decay the parameters directly (AdamW).
        foreach, capturable, differentiable, fused: accepted for compatibility.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'`` (+ ``'max_exp_avg_sq'``).
    """

    _rule = ADAM_RULE

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["betas"], group["eps"], group["weight_decay"])


class AdamW(Adam):
    """AdamW (Adam with decoupled weight decay, default 1e-2), as torch.optim.AdamW.

    Same arguments and state as :class:`Adam`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def _check(lr, betas, eps, weight_decay):
    check_lr(lr)
    check_eps(eps)
    check_betas(betas)
    check_nonneg("weight_decay", weight_decay)
