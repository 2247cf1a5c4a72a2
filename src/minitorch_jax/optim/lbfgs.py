"""``LBFGS``: limited-memory BFGS with an optional strong-Wolfe line search (torch.optim.LBFGS).

An *eager* optimizer: how many times it evaluates the closure, and where, depends on loss and
gradient values read in Python at every iteration, so a step cannot become one traced program.
Inside ``mt.jit`` it raises :class:`~minitorch_jax._errors.TracedValueError`, which ``mt.jit``
reports as a ``JitError`` naming the ``step`` line (``fallback='error'``, the default) or answers by
running the whole function eagerly, warning once (``fallback='eager'``; as every step replaces
state tensors, each call re-tries the trace up to the ``step`` line before running eagerly).

The flat gradient, the direction and the history live on the device as jax arrays; the scalars
(slopes, step lengths, ``ro``, ``H_diag``) are numpy scalars of the parameters' dtype, which round as
torch's 0-d tensors do; the loss is a Python float, as in torch. Results agree with torch to the
last bits (torch's CPU kernels fuse multiply-adds). The state (kept under the first parameter,
torch's keys; tensors stored as Tensors) loads into torch's LBFGS and back.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import TracedValueError
from .._grad_mode import enable_grad
from .._state_version import bump as _bump
from .._tensor import Tensor, _wrap
from ._checks import check_lr
from .optimizer import Optimizer

__all__ = ["LBFGS"]

_HIGHEST = jax.lax.Precision.HIGHEST

# The vector work runs on the device in a few small compiled kernels (one compile each per size and
# dtype); every scalar (slopes, step lengths, curvature terms) is brought to the host as a numpy
# scalar of the parameters' dtype, where the line search branches on it. numpy scalars follow
# torch's rules for 0-d tensors (a Python float meeting a float32 scalar stays float32).


def _host(x):
    """A 0-d jax array as a numpy scalar of its dtype."""
    return np.asarray(x)[()]


@jax.jit
def _dot_k(a, b):
    return jnp.dot(a, b, precision=_HIGHEST)


@jax.jit
def _amax_k(a):
    return jnp.max(jnp.abs(a))


@jax.jit
def _abssum_k(a):
    return jnp.sum(jnp.abs(a))


@jax.jit
def _axpy(x, a, y):
    """``x + a * y`` in ``x``'s dtype."""
    return (x + a * y).astype(x.dtype)


@jax.jit
def _first_loop(q, s, y, ro):
    """One step of the first loop: ``al = ro * s.q`` and ``q - al * y``."""
    al = jnp.dot(s, q, precision=_HIGHEST) * ro
    return al, q + (-al) * y


@jax.jit
def _second_loop(r, s, y, ro, al):
    """One step of the second loop: ``r + (al - ro * y.r) * s``."""
    be = jnp.dot(y, r, precision=_HIGHEST) * ro
    return r + (al - be) * s


def _dot(a, b):
    return _host(_dot_k(a, b))


def _amax(a):
    return _host(_amax_k(a))


def _arr(v):
    """A state value as the step uses it: a 0-d Tensor becomes a numpy scalar, another Tensor its
    jax array; lists are converted item by item; the rest stays."""
    if isinstance(v, Tensor):
        return _host(v._data) if v._data.ndim == 0 else v._data
    if isinstance(v, list):
        return [_arr(x) for x in v]
    return v


def _tensor(v):
    """A step value as it is stored in ``state``: arrays and numpy scalars become Tensors (Python
    numbers stay)."""
    if isinstance(v, (jax.Array, np.generic, np.ndarray)):
        return _wrap(jnp.asarray(v))
    if isinstance(v, list):
        return [_tensor(x) for x in v]
    return v


class LBFGS(Optimizer):
    """L-BFGS, as torch.optim.LBFGS (after minFunc): each ``step(closure)`` runs up to ``max_iter``
    quasi-Newton iterations, the inverse Hessian approximated from the last ``history_size``
    parameter/gradient differences (the two-loop recursion).

    Args:
        params: iterable of parameters (one group only; all parameters are treated as one flat
            vector, complex ones as their real view).
        lr: learning rate: the step length of every iteration but the first (default 1).
        max_iter: most iterations per ``step`` (default 20).
        max_eval: most closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest gradient entry is at most this (default 1e-7).
        tolerance_change: stop when the loss, or the largest parameter change, moves by less than
            this (default 1e-9).
        history_size: number of correction pairs kept (default 100).
        line_search_fn: None (fixed step ``lr``) or ``'strong_wolfe'`` (a bracketing line search
            with cubic interpolation, sufficient decrease 1e-4 and curvature 0.9; its evaluations
            count towards ``max_eval``).

    ``step(closure)`` needs the closure: it clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; it is called with grad enabled, possibly many times.
    ``step`` returns the closure's first result.

    State (under the first parameter, torch's keys): ``func_evals``, ``n_iter``, ``d``, ``t``,
    ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``al``.

    Cannot be compiled: inside ``mt.jit`` it raises (see the module docstring); run it eagerly.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    # ----- the parameters as one flat vector --------------------------------------------------
    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        parts = []
        for p in self._params:
            g = p._grad
            if g is None:
                n = p._data.size * (2 if jnp.iscomplexobj(p._data) else 1)
                parts.append(jnp.zeros((n,), _real_dtype(p._data.dtype)))
            else:
                parts.append(_real_view(g._data).reshape(-1))
        return parts[0] if len(parts) == 1 else jnp.concatenate(parts)

    def _move(self, t, d) -> None:
        """Parameters += t * d (d flat)."""
        params = self._params
        off = 0
        for p in params:
            a = p._data
            r = _real_view(a)
            n = r.size
            piece = d if len(params) == 1 else d[off:off + n]
            r = _axpy(r, t, piece.reshape(r.shape))
            p._data = jax.lax.complex(r[..., 0], r[..., 1]) if jnp.iscomplexobj(a) else r
            p._version += 1
            off += n

    def _restore(self, saved) -> None:
        for p, a in zip(self._params, saved):
            p._data = a
            p._version += 1

    @staticmethod
    def _eval(closure) -> float:
        with enable_grad():
            return float(closure())

    def _probe(self, closure, t, d):
        """Loss and flat gradient at parameters + t * d; the parameters are put back."""
        saved = [p._data for p in self._params]
        self._move(t, d)
        loss = self._eval(closure)
        g = self._flat_grad()
        self._restore(saved)
        return loss, g

    # ----- the step ---------------------------------------------------------------------------
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations.

        Args:
            closure: callable that clears the gradients, computes the loss, calls ``backward()``
                and returns the loss (required).

        Returns:
            the closure's result at the starting point.
        """
        if isinstance(self._params[0]._data, jax.core.Tracer):
            raise TracedValueError(
                "LBFGS.step is an eager optimizer: its iterations and line search branch on loss and "
                "gradient values, so it cannot run inside mt.jit; call it outside the compiled function")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search_fn = group["history_size"], group["line_search_fn"]
        lr = _arr(lr)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _amax(flat_grad) <= tol_grad:
            return orig_loss

        d, t = _arr(state.get("d")), _arr(state.get("t"))
        old_dirs, old_stps = _arr(state.get("old_dirs")), _arr(state.get("old_stps"))
        ro = _arr(state.get("ro"))
        h_diag, prev_flat_grad = _arr(state.get("H_diag")), _arr(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # the very first iteration: steepest descent
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _dot(y, s)
                if ys > 1e-10:  # keep the pair only when the curvature condition holds
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _dot(y, y)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = _arr(state["al"])
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, h_diag, al)
            prev_flat_grad = flat_grad
            prev_loss = loss

            t = min(1.0, 1.0 / _host(_abssum_k(flat_grad))) * lr if state["n_iter"] == 1 else lr
            gtd = _dot(flat_grad, d)
            if gtd > -tol_change:  # not a descent direction
                break

            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                loss, flat_grad, t, ls_evals = _strong_wolfe(
                    functools.partial(self._probe, closure), t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - evals)
                self._move(t, d)
                opt_cond = _amax(flat_grad) <= tol_grad
            else:
                self._move(t, d)
                ls_evals = 0
                opt_cond = False
                if n_iter != max_iter:  # the last iteration leaves the new point unevaluated
                    loss = self._eval(closure)
                    flat_grad = self._flat_grad()
                    opt_cond = _amax(flat_grad) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if _amax(d) * abs(t) <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=_tensor(d), t=_tensor(t), old_dirs=_tensor(old_dirs), old_stps=_tensor(old_stps),
                     ro=_tensor(ro), H_diag=_tensor(h_diag), prev_flat_grad=_tensor(prev_flat_grad),
                     prev_loss=prev_loss)
        if al is not None:
            state["al"] = _tensor(al)
        _bump()  # new state tensors
        return orig_loss


def _two_loop(grad, dirs, stps, ro, h_diag, al):
    """The L-BFGS direction ``-H grad`` (H: the inverse-Hessian approximation built from the
    pairs ``(stps[i], dirs[i])`` on top of ``h_diag * I``); ``al`` receives the first-loop weights."""
    q = -grad
    for i in reversed(range(len(dirs))):
        al[i], q = _first_loop(q, stps[i], dirs[i], ro[i])
    r = q * h_diag
    for i in range(len(dirs)):
        r = _second_loop(r, stps[i], dirs[i], ro[i], al[i])
    return r


def _real_dtype(dt):
    return jnp.finfo(dt).dtype if jnp.issubdtype(dt, jnp.complexfloating) else dt


def _real_view(a):
    return jnp.stack([a.real, a.imag], -1) if jnp.iscomplexobj(a) else a


# ----- the strong-Wolfe line search -----------------------------------------------------------
def _cubic_min(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through two points (value f, slope g at x), clipped to
    ``bounds`` (default: between the points); the bounds' midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    # written from the right-hand point of the pair
    (xa, ga), (xb, gb) = ((x1, g1), (x2, g2)) if x1 <= x2 else ((x2, g2), (x1, g1))
    x = xb - (xb - xa) * ((gb + d2 - d1) / (gb - ga + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(probe, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step ``t`` along ``d`` meeting the strong Wolfe conditions (or the best point found).

    ``probe(t, d)`` returns ``(loss, flat_grad)`` at ``x + t d``; ``f, g, gtd``: loss, gradient and
    slope at ``t = 0``. Returns ``(loss, flat_grad, t, evaluations)``.
    """
    d_norm = _amax(d)
    f_new, g_new = probe(t, d)
    n_evals = 1
    gtd_new = _dot(g_new, d)
    prev = [0, f, g, gtd]  # [t, loss, grad, slope] of the previous trial
    found = False
    tries = 0
    bracket = None
    # phase 1: grow the step until an interval is known to contain a good point
    while tries < max_ls:
        cur = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or (tries > 1 and f_new >= prev[1]):
            bracket = [prev, cur]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [cur]
            found = True
            break
        if gtd_new >= 0:
            bracket = [prev, cur]
            break
        t_next = _cubic_min(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                            bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev = cur
        t = t_next
        f_new, g_new = probe(t, d)
        n_evals += 1
        gtd_new = _dot(g_new, d)
        tries += 1
    if bracket is None:  # out of tries
        bracket = [[0, f, g, None], [t, f_new, g_new, None]]

    # phase 2: shrink the interval (zoom)
    def order():
        return (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)

    low, high = order()
    stalled = False
    while not found and tries < max_ls:
        ta, tb = bracket[0][0], bracket[1][0]
        if abs(tb - ta) * d_norm < tolerance_change:
            break
        t = _cubic_min(ta, bracket[0][1], bracket[0][3], tb, bracket[1][1], bracket[1][3])
        top, bottom = max(ta, tb), min(ta, tb)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:  # too close to an end
            if stalled or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = probe(t, d)
        n_evals += 1
        gtd_new = _dot(g_new, d)
        tries += 1
        cur = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = cur
            low, high = order()
        else:
            if abs(gtd_new) <= -c2 * gtd:
                found = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = cur
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, n_evals
