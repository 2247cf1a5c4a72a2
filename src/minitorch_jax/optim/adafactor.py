"""``Adafactor`` (factored second-moment estimate, relative step size, update clipping)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._checks import _concrete
from ._rule import Rule, RuleOptimizer, lerp, step_zero, unit_step

__all__ = ["Adafactor"]

NAMES = ("lr", "beta2_decay", "eps1", "eps2", "d", "weight_decay", "decay_factor")


def _static(g):
    return (bool(g["maximize"]), g["eps"][0] is None)


def _hyper(g):
    lr, (eps1, eps2), wd = g["lr"], g["eps"], g["weight_decay"]
    return (lr, g["beta2_decay"], 0.0 if eps1 is None else eps1, eps2, g["d"], wd, 1 - lr * wd)


def _init(p, h, static):
    st = {"step": step_zero()}
    if p.ndim > 1:
        st["row_var"] = jnp.zeros(p.shape[:-1] + (1,), p.dtype)
        st["col_var"] = jnp.zeros(p.shape[:-2] + (1, p.shape[-1]), p.dtype)
    else:
        st["variance"] = jnp.zeros_like(p)
    return st


def _rms(a):
    return jnp.sqrt(jnp.sum(a * a)) / (a.size ** 0.5)


def _mean_sq(g, axis):
    """torch's ``norm(g, dim=axis, keepdim=True).square() / g.size(axis)``."""
    return jnp.square(jnp.sqrt(jnp.sum(g * g, axis=axis, keepdims=True))) / g.shape[axis]


def _update(p, g, st, h, static):
    maximize, eps1_none = static
    if maximize:
        g = -g
    step, s = unit_step(st, p.dtype)
    eps1 = jnp.asarray(jnp.finfo(p.dtype).eps, p.dtype) if eps1_none else h["eps1"]
    one_minus_beta2 = s ** h["beta2_decay"]
    rho = jnp.minimum(h["lr"], 1 / jnp.sqrt(s))
    alpha = jnp.maximum(h["eps2"], _rms(p)) * rho
    p = p * h["decay_factor"]
    new = {"step": step}
    if p.ndim > 1:
        row = lerp(st["row_var"], _mean_sq(g, -1), one_minus_beta2)
        col = lerp(st["col_var"], _mean_sq(g, -2), one_minus_beta2)
        new["row_var"], new["col_var"] = row, col
        var = (row * col) / jnp.maximum(jnp.mean(row, axis=-2, keepdims=True), eps1)
    else:
        var = lerp(st["variance"], g * g, one_minus_beta2)
        new["variance"] = var
    upd = jax.lax.rsqrt(jnp.maximum(var, eps1 * eps1)) * g
    denom = jnp.maximum(jnp.ones((), p.dtype), _rms(upd) / h["d"])
    return p + (-alpha / denom) * upd, new


ADAFACTOR_RULE = Rule("adafactor", NAMES, _static, _hyper, _init, _update)


class Adafactor(RuleOptimizer):
    """Adafactor, as torch.optim.Adafactor.

    Parameters with 2 or more dimensions keep a factored second-moment estimate (a row factor of
    shape ``(..., R, 1)`` and a column factor of shape ``(..., 1, C)`` over the last two dimensions);
    others keep a full ``variance``. The step is relative to the parameter's RMS and the update is
    clipped to RMS ``d``.

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate cap (default 1e-2); the step size is ``min(lr, 1 / sqrt(step))``.
        beta2_decay: decay rate exponent of the second moment (-0.8): ``beta2_t = 1 - step ** beta2_decay``.
        eps: ``(eps1, eps2)``: eps1 floors the variance (None: the parameter dtype's machine epsilon),
            eps2 floors the parameter RMS ((None, 1e-3)).
        d: clipping threshold of the update RMS (1.0).
        weight_decay: decoupled weight decay coefficient (0.0).
        maximize: maximize the objective.
        foreach: accepted for compatibility.

    State per parameter: ``'step'`` and ``'row_var'``, ``'col_var'`` (>= 2-D) or ``'variance'``.
    Complex parameters are not supported (as torch).
    """

    _rule = ADAFACTOR_RULE

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        _check(lr, beta2_decay, eps, d, weight_decay)
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check(group["lr"], group["beta2_decay"], group["eps"], group["d"], group["weight_decay"])

    def step(self, closure=None):
        """Perform one optimization step (see :meth:`RuleOptimizer.step`).

        Raises:
            RuntimeError: a parameter with a gradient is complex.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None and jnp.iscomplexobj(p._data):
                    raise RuntimeError("Adafactor does not support complex parameters")
        return super().step(closure)


def _check(lr, beta2_decay, eps, d, weight_decay):
    from .._tensor import Tensor

    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for v, ok, msg in ((lr, lambda x: 0.0 <= x, "Learning rate should be >= 0 but is: {}"),
                       (beta2_decay, lambda x: 0.0 >= x, "beta2_decay should be <= 0 but is: {}"),
                       (eps[0], lambda x: 0.0 <= x, "epsilon1 should be >= 0 but is: {}"),
                       (eps[1], lambda x: 0.0 <= x, "epsilon2 should be >= 0 but is: {}"),
                       (d, lambda x: 1.0 <= x, "Clipping threshold d should be >= 1 but is: {}"),
                       (weight_decay, lambda x: 0.0 <= x, "weight_decay should be >= 0 but is: {}")):
        c = None if v is None else _concrete(v)
        if c is not None and not ok(c):
            raise ValueError(msg.format(v))
