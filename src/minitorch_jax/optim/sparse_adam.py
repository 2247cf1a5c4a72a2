"""``SparseAdam``: torch's "lazy Adam" (only the rows a gradient touches are updated), on dense
gradients.

torch's SparseAdam needs sparse-layout gradients (``nn.Embedding(sparse=True)``) and refuses dense
ones. minitorch_jax has dense gradients only (``Embedding(sparse=True)`` is accepted but its weight
gets a dense gradient, zero in the rows not looked up), so here the touched rows are found from the
values: a row (a slice along dim 0) is updated when any entry of its gradient is nonzero.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._tensor import Tensor, _wrap
from ._checks import check_betas, check_eps, check_lr
from ._rule import Rule, RuleOptimizer, _scalar_dtype, one_minus_pow, step_zero, unit_step

__all__ = ["SparseAdam"]

NAMES = ("lr", "omb1", "omb2", "eps")


def _static(g):
    return (bool(g["maximize"]),)


def _hyper(g):
    lr, (b1, b2) = g["lr"], g["betas"]
    return (lr, 1 - b1, 1 - b2, g["eps"])


def _init(p, h, static):
    return {"step": step_zero(), "exp_avg": jnp.zeros_like(p), "exp_avg_sq": jnp.zeros_like(p)}


def _touched(g):
    """True for the rows (slices along dim 0) of ``g`` holding a nonzero, broadcastable to ``g``."""
    nz = g != 0
    if g.ndim < 2:
        return nz
    return jnp.any(nz, axis=tuple(range(1, g.ndim)), keepdims=True)


def _update(p, g, st, h, static):
    (maximize,) = static
    if maximize:
        g = -g
    step, s = unit_step(st, p.dtype)
    mask = _touched(g)
    m_old, v_old = st["exp_avg"], st["exp_avg_sq"]
    m = m_old + (g - m_old) * h["omb1"]
    v = v_old + (g * g - v_old) * h["omb2"]
    step_size = h["lr"] * jnp.sqrt(one_minus_pow(h["omb2"], s)) / one_minus_pow(h["omb1"], s)
    new_p = p + (-step_size) * (m / (jnp.sqrt(v) + h["eps"]))
    new = {"step": step, "exp_avg": jnp.where(mask, m, m_old), "exp_avg_sq": jnp.where(mask, v, v_old)}
    return jnp.where(mask, new_p, p), new


SPARSE_ADAM_RULE = Rule("sparse_adam", NAMES, _static, _hyper, _init, _update)


class SparseAdam(RuleOptimizer):
    """Lazy Adam, as torch.optim.SparseAdam: the moments and the parameter change only in the rows
    that the gradient touches; the other rows keep their values and moments as they are.

    torch requires sparse gradients (``nn.Embedding(sparse=True)``); gradients here are dense, so
    a row (slice along dim 0; an element of a 1-d parameter) counts as touched when any entry of its
    gradient is nonzero. This reproduces torch with ``Embedding(sparse=True)``, except for a
    looked-up row whose gradient is exactly zero everywhere (torch updates it, this does not).
    Each step still counts for every parameter with a gradient (the bias corrections use it).

    Args:
        params: iterable of parameters or parameter-group dicts.
        lr: learning rate (default 1e-3).
        betas: coefficients of the running averages of the gradient and its square (0.9, 0.999).
        eps: added to the denominator ``sqrt(exp_avg_sq) + eps`` (1e-8).
        maximize: maximize the objective.

    Update of a touched row (``t``: the step count)::

        m = m + (1 - beta1) (g - m);   v = v + (1 - beta2) (g^2 - v)
        p = p - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'`` (torch keeps ``'step'`` as a
    Python int; here it is a scalar tensor, and a torch state dict with int steps loads).
    """

    _rule = SPARSE_ADAM_RULE

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize: bool = False):
        _check(lr, betas, eps)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _validate_group(self, group):
        _check(group["lr"], group["betas"], group["eps"])

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict (this optimizer's or torch's: Python-int steps become step tensors)."""
        super().load_state_dict(state_dict)
        for st in self.state.values():
            step = st.get("step") if isinstance(st, dict) else None
            if step is not None and not isinstance(step, Tensor):
                st["step"] = _wrap(jnp.asarray(float(step), _scalar_dtype()))


def _check(lr, betas, eps):
    check_lr(lr)
    check_eps(eps)
    check_betas(betas)
