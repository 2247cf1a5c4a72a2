"""``ASGD`` (averaged stochastic gradient descent)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, step_zero, unit_step

__all__ = ["ASGD"]

NAMES = ("lr", "lambd", "alpha", "t0", "weight_decay")


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    return (g["lr"], g["lambd"], g["alpha"], g["t0"], g["weight_decay"])


def _init(p, h, static):
    z = step_zero()
    return {"step": z, "eta": jnp.asarray(h["lr"], z.dtype), "mu": jnp.ones((), z.dtype),
            "ax": jnp.zeros_like(p)}


def _update(p, g, st, h, static):
    if static[0]:
        g = -g
    step, s = unit_step(st, p.dtype)
    g = add_weight_decay(g, p, h["weight_decay"])
    eta = st["eta"].astype(p.dtype)
    mu = st["mu"].astype(p.dtype)
    p = p * (1 - h["lambd"] * eta)
    p = p + (-eta) * g
    # as torch: the average is a plain copy while mu == 1 (t <= t0)
    ax = jnp.where(mu != 1, st["ax"] + (p - st["ax"]) * mu, p)
    lr = h["lr"]
    new_eta = lr / ((1 + h["lambd"] * lr * s) ** h["alpha"])
    new_mu = 1 / jnp.maximum(jnp.ones((), p.dtype), s - h["t0"])
    sd = st["eta"].dtype
    return p, {"step": step, "eta": new_eta.astype(sd), "mu": new_mu.astype(st["mu"].dtype), "ax": ax}


ASGD_RULE = Rule("asgd", NAMES, _static, _hyper, _init, _update)


class ASGD(RuleOptimizer):
    """Averaged SGD, as torch.optim.ASGD.

    Each step decays the parameter by ``1 - lambd * eta``, moves it by ``-eta * grad`` and updates
    the running average ``ax`` (a copy of the parameter until step ``t0``); then
    ``eta = lr / (1 + lambd * lr * step) ** alpha`` and ``mu = 1 / max(1, step - t0)``.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-2).
        lambd: decay term (1e-4).
        alpha: power of the eta update (0.75).
        t0: step at which averaging starts (1e6).
        weight_decay: L2 penalty (0).
        maximize: maximize the objective.
        foreach, differentiable, capturable: accepted for compatibility.

    State per parameter: ``'step'``, ``'eta'``, ``'mu'`` (scalars) and ``'ax'`` (the average).
    """

    _rule = ASGD_RULE

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check(lr, weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["weight_decay"])


def _check(lr, weight_decay):
    check_lr(lr)
    check_nonneg("weight_decay", weight_decay)
