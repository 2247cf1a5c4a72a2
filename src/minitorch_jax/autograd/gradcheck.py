"""``gradcheck`` / ``gradgradcheck``: compare autograd's gradients with finite differences.

The numerical Jacobian uses central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, one
input element at a time, evaluated in float64 (floating inputs are upcast for it). The
analytical Jacobian comes from one ``autograd.grad`` per output element. They must agree
elementwise within ``atol + rtol * |numerical|``.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np

from .. import _dtype, _grad_mode
from .._autograd_graph import grad as _grad
from .._tensor import Tensor, _wrap

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when the gradients do not match."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(out):
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor))


def _numerical(func, inputs, diff_idx, eps):
    """Per differentiable input j: an array (n_in_j, total outputs) of central differences."""
    def run(args):
        with _grad_mode.enable_grad():
            outs = _outputs(func(*args))
        return np.concatenate([np.asarray(o._data, np.float64).ravel() for o in outs]) \
            if outs else np.zeros((0,))

    base = []
    for a in inputs:
        if isinstance(a, Tensor) and _dtype.is_inexact(a._data.dtype):
            data = np.asarray(a._data).astype(np.float64)
            base.append(data)
        else:
            base.append(None)

    def make(j, flat):
        args = list(inputs)
        for k, a in enumerate(inputs):
            if base[k] is not None:
                d = flat if k == j else base[k]
                args[k] = _wrap(jnp.asarray(d.reshape(base[k].shape), jnp.float64), a.requires_grad)
        return args

    jac = []
    for j in diff_idx:
        x = base[j].ravel()
        cols = []
        for k in range(x.size):
            xp, xm = x.copy(), x.copy()
            xp[k] += eps
            xm[k] -= eps
            cols.append((run(make(j, xp)) - run(make(j, xm))) / (2 * eps))
        n_out = cols[0].size if cols else run(make(j, x)).size
        jac.append(np.stack(cols) if cols else np.zeros((0, n_out)))
    return jac


def _analytical(outputs, inputs, diff_idx):
    """Per differentiable input j: an array (n_in_j, total outputs) from autograd."""
    xs = [inputs[j] for j in diff_idx]
    cols = []  # one per output element: list over inputs of flat gradients
    for o in outputs:
        n = int(np.prod(o._data.shape, dtype=np.int64))
        for k in range(n):
            if not o.requires_grad:
                cols.append([np.zeros(int(np.prod(x._data.shape))) for x in xs])
                continue
            onehot = _wrap(jnp.zeros((n,), o._data.dtype).at[k].set(1).reshape(o._data.shape))
            gs = _grad(o, xs, onehot, retain_graph=True, allow_unused=True)
            cols.append([np.zeros(int(np.prod(x._data.shape))) if g is None
                         else np.asarray(g._data, np.float64).ravel() for g, x in zip(gs, xs)])
    jac = []
    for idx, x in enumerate(xs):
        size = int(np.prod(x._data.shape))
        jac.append(np.stack([c[idx] for c in cols], axis=1) if cols else np.zeros((size, 0)))
    return jac


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """Check ``func``'s autograd gradients against finite differences.

    Args:
        func: a function of ``inputs`` returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of arguments; Tensors with ``requires_grad=True`` are checked
            (use float64 for meaningful results).
        eps: the finite-difference step.
        atol, rtol: the tolerance, ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise :class:`GradcheckError` on mismatch (else return False).
        the other arguments are accepted for compatibility with torch and ignored.

    Returns:
        True if every Jacobian matches.

    Example::

        x = mt.randn(3, dtype=mt.float64, requires_grad=True)
        assert mt.autograd.gradcheck(mt.tanh, (x,))
    """
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of the them have requires_grad=True.")
    for i in diff_idx:
        a = inputs[i]
        if a.is_complex():
            raise NotImplementedError("gradcheck: complex inputs are not supported")
        if a._data.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of double "
                          "precision floating point.", UserWarning, stacklevel=2)
    with _grad_mode.enable_grad():
        outputs = _outputs(func(*inputs))
    if not check_backward_ad:
        return True
    analytical = _analytical(outputs, inputs, diff_idx)
    numerical = _numerical(func, inputs, diff_idx, eps)
    offsets = np.cumsum([0] + [int(np.prod(o._data.shape)) for o in outputs])
    for pos, j in enumerate(diff_idx):
        a, n = analytical[pos], numerical[pos]
        for oi in range(len(outputs)):
            aa = a[:, offsets[oi]:offsets[oi + 1]]
            nn = n[:, offsets[oi]:offsets[oi + 1]]
            bad = np.abs(aa - nn) > atol + rtol * np.abs(nn)
            if bad.any() or np.isnan(aa).any() != np.isnan(nn).any():
                diff = np.abs(aa - nn)
                k = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.size else (0, 0)
                return _fail(
                    f"Jacobian mismatch for output {oi} with respect to input {j}: max abs "
                    f"difference {np.nanmax(diff):.6g} at (input element {k[0]}, output element "
                    f"{k[1]}); tolerance atol={atol}, rtol={rtol}.\n"
                    f"numerical:\n{_show(nn)}\nanalytical:\n{_show(aa)}\n", raise_exception)
    return True


def _show(a: np.ndarray) -> str:
    return np.array2string(a, precision=6, suppress_small=True, max_line_width=100)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> v^T J_func(inputs)``.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as in :func:`gradcheck`.
        grad_outputs: the vectors ``v`` (one per output); random float64 ones when None.

    Returns:
        True if the second derivatives match.
    """
    inputs = _as_tuple(inputs)
    with _grad_mode.enable_grad():
        outputs = _outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_wrap(jnp.asarray(rng.standard_normal(o._data.shape), o._data.dtype),
                                   True) for o in outputs if o.requires_grad)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]

    def first_grads(*args):
        xs, vs = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func(*xs)) if o.requires_grad]
        gs = _grad(outs, [xs[i] for i in diff_idx], vs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
