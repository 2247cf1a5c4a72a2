"""``Rprop`` (resilient backpropagation: per-element step sizes driven by the gradient's sign)."""

from __future__ import annotations

import jax.numpy as jnp

from ._checks import _concrete, check_lr
from ._rule import Rule, RuleOptimizer, step_zero, unit_step

__all__ = ["Rprop"]

NAMES = ("lr", "etaminus", "etaplus", "step_size_min", "step_size_max")


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    (em, ep), (smin, smax) = g["etas"], g["step_sizes"]
    return (g["lr"], em, ep, smin, smax)


def _init(p, h, static):
    return {"step": step_zero(), "prev": jnp.zeros_like(p), "step_size": jnp.full_like(p, h["lr"])}


def _update(p, g, st, h, static):
    if static[0]:
        g = -g
    step, _ = unit_step(st, p.dtype)
    sign = jnp.sign(g * st["prev"])
    one = jnp.ones((), p.dtype)
    factor = jnp.where(sign > 0, h["etaplus"], jnp.where(sign < 0, h["etaminus"], one))
    step_size = jnp.minimum(jnp.maximum(st["step_size"] * factor, h["step_size_min"]), h["step_size_max"])
    g = jnp.where(factor == h["etaminus"], jnp.zeros((), p.dtype), g)
    return p + (-1) * (jnp.sign(g) * step_size), {"step": step, "prev": g, "step_size": step_size}


RPROP_RULE = Rule("rprop", NAMES, _static, _hyper, _init, _update)


class Rprop(RuleOptimizer):
    """Rprop, as torch.optim.Rprop.

    Each element keeps its own step size: multiplied by ``etaplus`` while the gradient keeps its
    sign, by ``etaminus`` when it flips (and that element's update is skipped), clamped to
    ``step_sizes``; the parameter moves by ``-sign(grad) * step_size``.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: initial step size (default 1e-2).
        etas: ``(etaminus, etaplus)`` multiplicative factors, ``0 < etaminus < 1 < etaplus`` ((0.5, 1.2)).
        step_sizes: ``(min, max)`` allowed step sizes ((1e-6, 50)).
        maximize: maximize the objective.
        capturable, foreach, differentiable: accepted for compatibility.

    State per parameter: ``'step'``, ``'prev'`` (last gradient used), ``'step_size'`` (same shape
    as the parameter).
    """

    _rule = RPROP_RULE

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        _check(lr, etas)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["etas"])


def _check(lr, etas):
    check_lr(lr)
    a, b = (_concrete(e) for e in etas)
    if a is not None and b is not None and not 0.0 < a < 1.0 < b:
        raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
