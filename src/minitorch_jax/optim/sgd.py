"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from ._checks import check_lr, check_nonneg
from ._rule import Rule, RuleOptimizer, add_weight_decay, flag

__all__ = ["SGD"]


def _static(g):
    return (flag(g["momentum"]), bool(g["nesterov"]), bool(g["maximize"]))


def _hyper(g):
    return (g["lr"], g["momentum"], 1 - g["dampening"], g["weight_decay"])


def _init(p, h, static):
    return {}


def _update(p, g, st, h, static):
    use_mom, nesterov, maximize = static
    if maximize:
        g = -g
    g = add_weight_decay(g, p, h["weight_decay"])
    new = {}
    if use_mom:
        buf = st.get("momentum_buffer")
        m = h["momentum"]
        buf = g if buf is None else buf * m + h["one_minus_dampening"] * g
        g = g + m * buf if nesterov else buf
        new["momentum_buffer"] = buf
    return p + (-h["lr"]) * g, new


SGD_RULE = Rule("sgd", ("lr", "momentum", "one_minus_dampening", "weight_decay"), _static, _hyper, _init,
                _update)


class SGD(RuleOptimizer):
    """Stochastic gradient descent (optionally with momentum), as torch.optim.SGD.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing.
        foreach, differentiable, fused: accepted for compatibility (the update is always one
            compiled call per group).

    State per parameter: ``'momentum_buffer'`` (when momentum != 0).
    """

    _rule = SGD_RULE

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_lr(lr)
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group["lr"])
