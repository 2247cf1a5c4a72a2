"""``Muon``: momentum orthogonalized by Newton-Schulz, for 2-d (hidden layer) parameters.

Like torch.optim.Muon, the Newton-Schulz iteration has bfloat16 numerics (products accumulated in
float32, each matrix product rounded to bfloat16 once, as a fused ``addmm``), whatever the parameter's
dtype; the momentum buffer and the parameter stay in the parameter's dtype. It is computed as float32
arrays holding bfloat16 values with explicit roundings (``lax.reduce_precision``) and highest-precision
matmuls: XLA may drop a float32 -> bfloat16 -> float32 cast pair under jit, an explicit rounding it keeps,
so the results equal torch's on CPU bit for bit for small matrices. Only 2-d real dense parameters are
supported (torch's errors otherwise).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._grad_mode import enable_grad
from .._tensor import Tensor
from ._checks import _concrete
from ._rule import Rule, RuleOptimizer, lerp

__all__ = ["Muon"]

NAMES = ("lr", "momentum", "one_minus_momentum", "eps", "ns_a", "ns_b", "ns_c", "decay_factor")
_ADJUST = (None, "original", "match_rms_adamw")


def _static(g):
    return (bool(g["nesterov"]), int(g["ns_steps"]), g["adjust_lr_fn"])


def _hyper(g):
    lr, mu = g["lr"], g["momentum"]
    a, b, c = g["ns_coefficients"]
    return (lr, mu, 1 - mu, g["eps"], a, b, c, 1 - lr * g["weight_decay"])


def _init(p, h, static):
    return {"momentum_buffer": jnp.zeros_like(p)}


def _bf16(x):
    """Round float32 values to bfloat16 ones (kept as float32): an explicit rounding XLA keeps, where a
    float32 -> bfloat16 -> float32 cast pair may be simplified away under jit."""
    return jax.lax.reduce_precision(x, exponent_bits=8, mantissa_bits=7)


def _mm(x, y):
    # bfloat16-valued operands: the products are exact in float32, accumulated in float32
    return jnp.matmul(x, y, precision=jax.lax.Precision.HIGHEST)


def newton_schulz(g, coefficients, steps: int, eps):
    """``steps`` Newton-Schulz iterations approximately orthogonalizing the 2-d array ``g``, with
    bfloat16 arithmetic (each product rounded once, as torch's bfloat16 ``addmm``).

    Args:
        g: a 2-d array (any float dtype).
        coefficients: ``(a, b, c)`` of the quintic ``X <- a X + (b A + c A A) X`` with ``A = X X^T``.
        steps: number of iterations (a Python int).
        eps: lower bound of the Frobenius norm ``g`` is divided by first.

    Returns:
        a float32 array of ``g``'s shape holding bfloat16 values.
    """
    f32 = jnp.float32
    a, b, c = (jnp.asarray(v, f32) for v in coefficients)
    x = _bf16(g).astype(f32)
    norm = _bf16(jnp.sqrt(jnp.sum(jnp.square(x))))
    x = _bf16(x / jnp.maximum(norm, _bf16(jnp.asarray(eps, f32))))
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T

    def body(_, x):
        gram = _bf16(_mm(x, x.T))
        poly = _bf16(b * gram + c * _mm(gram, gram))
        return _bf16(a * x + _mm(poly, x))

    x = jax.lax.fori_loop(0, steps, body, x)  # a loop, not unrolled: a small program, compiled fast
    return x.T if tall else x


def _lr_scale(shape, adjust) -> float:
    rows, cols = shape
    if adjust is None or adjust == "original":
        return max(1.0, rows / cols) ** 0.5
    if adjust == "match_rms_adamw":
        return 0.2 * max(rows, cols) ** 0.5
    return 1.0  # torch leaves the rate as it is for a name set later in param_groups


def _update(p, g, st, h, static):
    nesterov, ns_steps, adjust = static
    buf = lerp(st["momentum_buffer"], g, h["one_minus_momentum"])
    upd = lerp(g, buf, h["momentum"]) if nesterov else buf
    ortho = newton_schulz(upd, (h["ns_a"], h["ns_b"], h["ns_c"]), ns_steps, h["eps"]).astype(p.dtype)
    p = p * h["decay_factor"]
    lr = h["lr"] * _lr_scale(p.shape, adjust)
    return p + (-lr) * ortho, {"momentum_buffer": buf}


MUON_RULE = Rule("muon", NAMES, _static, _hyper, _init, _update)


def _check_nonneg(what: str, value) -> None:
    v = _concrete(value)
    if v is not None and not 0.0 <= v:
        raise ValueError(f"{what} should be >= 0 but is: {value}")


class Muon(RuleOptimizer):
    """Muon (MomentUm Orthogonalized by Newton-Schulz), as torch.optim.Muon.

    Each step: ``B = lerp(B, g, 1 - momentum)``; the update ``U = lerp(g, B, momentum)`` (Nesterov) or
    ``B``; ``O = NS(U)`` (``ns_steps`` Newton-Schulz iterations in bfloat16); decoupled weight decay
    ``p *= 1 - lr * weight_decay``; ``p -= lr' * O`` with ``lr'`` the rate adjusted to the shape
    ``(A, B)``: ``lr * sqrt(max(1, A / B))`` ("original", the default) or ``0.2 * lr * sqrt(max(A, B))``
    ("match_rms_adamw").

    Args:
        params: iterable of 2-d parameters, ``(name, parameter)`` pairs or parameter-group dicts
            (optimize biases, embeddings and other non-2-d parameters with e.g. AdamW).
        lr: learning rate (default 1e-3); a float or a 1-element Tensor.
        weight_decay: decoupled weight decay (default 0.1).
        momentum: momentum factor (default 0.95).
        nesterov: use Nesterov momentum (default True).
        ns_coefficients: ``(a, b, c)`` of the Newton-Schulz polynomial (default (3.4445, -4.775, 2.0315)).
        eps: lower bound of the norm the update is divided by before the iteration (default 1e-7).
        ns_steps: number of Newton-Schulz iterations (default 5).
        adjust_lr_fn: None / "original" or "match_rms_adamw" (see above).

    State per parameter: ``'momentum_buffer'``.
    """

    _rule = MUON_RULE

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("Learning rate", lr)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight decay", weight_decay)
        if adjust_lr_fn not in _ADJUST:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a parameter with "
                                     f"size: {p.size()}")

    def step(self, closure=None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss; it is
                called with grad enabled and its result is returned.

        Raises:
            RuntimeError: for complex parameters or sparse gradients.
            ValueError: for a gradient that is not 2-d.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                if getattr(g, "is_sparse", False):
                    raise RuntimeError("Muon does not support sparse gradients")
                if g.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
        RuleOptimizer.step.__wrapped__(self)  # the rule's update without running the step hooks twice
        return loss
