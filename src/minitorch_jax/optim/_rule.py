"""Update rules as optax transformations, and ``RuleOptimizer``: a torch-style optimizer whose
``step`` runs ONE compiled update per parameter group.

A :class:`Rule` describes one optimizer family with pure jax functions of one parameter:

* ``static(group)``: the flags that change the program (amsgrad, nesterov, maximize ...), hashable;
* ``hyper(group)``: the hyperparameter values in ``names`` order, derived with plain arithmetic from
  the group (so Python floats, Tensors or jax tracers all work) - they enter the compiled update as
  one array, never as constants, so changing ``group['lr']`` never recompiles;
* ``init(p, h, static)``: the initial per-parameter state (torch's key names; ``h``: hyperparameters);
* ``update(p, g, state, h, static)``: ``(new_param, new_state)``, torch's arithmetic in order.

:func:`transformation` turns a rule into an ``optax.GradientTransformation`` with the hyperparameters
in its state (``RuleState(hyperparams, slots)``), usable with plain optax/jax.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _dtype
from .._donation import ref_counts, unshared_count
from .._grad_mode import enable_grad
from .._state_version import bump as _bump
from .._tensor import Tensor, _wrap
from .optimizer import Optimizer

__all__ = ["Rule", "RuleOptimizer", "RuleState", "transformation", "group_step_fn"]

_Tracer = jax.core.Tracer


class Rule(NamedTuple):
    """One optimizer family's update rule (see the module docstring)."""

    name: str
    names: tuple
    static: Callable
    hyper: Callable
    init: Callable
    update: Callable


class RuleState(NamedTuple):
    """State of :func:`transformation`: the hyperparameter array and the per-leaf state slots."""

    hyperparams: Any
    slots: Any


def flag(v) -> bool:
    """A structural flag from a hyperparameter value (True for a traced value: structure 'on')."""
    if isinstance(v, _Tracer):
        return True
    if isinstance(v, Tensor):
        v = v._data
        if isinstance(v, _Tracer):
            return True
    return bool(v != 0)


def _value(v):
    return v._data if isinstance(v, Tensor) else v


_PY = (float, int)


def pack_hyper(values, dtype):
    """The hyperparameter values as one 1-d array of ``dtype`` (numpy for Python numbers)."""
    if all(type(v) in _PY for v in values):
        return np.array(values, dtype)
    return jnp.stack([jnp.asarray(_value(v), dtype).reshape(()) for v in values])


def _split(rule: Rule, hyper, dtype, zeros=()) -> dict:
    # a hyperparameter known to be zero when the step is compiled stays a Python 0.0, so that a rule can
    # leave its term out as torch does (``if weight_decay != 0``); XLA cannot drop ``0 * p`` itself
    return {n: 0.0 if n in zeros else hyper[i].astype(dtype) for i, n in enumerate(rule.names)}


def static_zeros(rule: Rule, values) -> frozenset:
    """The names of ``rule``'s hyperparameters whose values are Python zeros (part of a step's key)."""
    return frozenset(n for n, v in zip(rule.names, values) if type(v) in _PY and v == 0)


def is_zero(v) -> bool:
    """Whether a hyperparameter from ``h`` is statically zero (its term can be left out)."""
    return type(v) is float and v == 0


def _as_real(a):
    return jnp.stack([a.real, a.imag], -1) if jnp.iscomplexobj(a) else a


def _group_step(rule: Rule, static, params, grads, states, hyper, zeros=()):
    new_params, new_states = [], []
    for p, g, st in zip(params, grads, states):
        cplx = jnp.iscomplexobj(p)
        if cplx:  # as torch: complex parameters are updated as their real view [..., 2]
            p, g = _as_real(p), _as_real(g)
            st = None if st is None else {k: _as_real(v) for k, v in st.items()}
        h = _split(rule, hyper, p.dtype, zeros)
        if st is None:
            st = rule.init(p, h, static)
        npar, nst = rule.update(p, g, st, h, static)
        if cplx:
            back = lambda a: jax.lax.complex(a[..., 0], a[..., 1])  # noqa: E731
            npar = back(npar)
            nst = {k: back(v) if v.shape == p.shape and v.ndim else v for k, v in nst.items()}
        new_params.append(npar)
        new_states.append(nst)
    return new_params, new_states


_JITS: dict = {}


def group_step_fn(rule: Rule, static, zeros=frozenset()):
    """The cached ``jax.jit`` of one group's update for ``(rule, static, zeros)``: called as
    ``fn(params, grads, states, hyper) -> (new_params, new_states)`` (lists of arrays / state dicts;
    a state of None is initialised inside). ``zeros``: names of hyperparameters that are zero
    (:func:`static_zeros`). jax caches it per shapes/dtypes/state structure."""
    key = (rule.name, static, zeros, _scalar_dtype())
    fn = _JITS.get(key)
    if fn is None:
        def run(params, grads, states, hyper):
            return _group_step(rule, static, params, grads, states, hyper, zeros)
        run.__name__ = f"{rule.name}_group_step"
        fn = _JITS[key] = jax.jit(run, inline=True)
    return fn


_DONATING: dict = {}


def group_step_donating_fn(rule: Rule, static, zeros=frozenset()):
    """:func:`group_step_fn` for eager steps, donating the old parameters and the ``moved`` states: called
    as ``fn(params, grads, moved, kept, hyper)`` where each state dict is split into the arrays nothing
    else references (``moved``, whose memory XLA reuses for the new values) and the rest (``kept``: a
    ``'step'`` counter shared by parameters ...). Without donation every eager step allocates and
    page-faults fresh parameter and moment buffers: 2-5x slower for Adam on a 670k-parameter MLP."""
    key = (rule.name, static, zeros, _scalar_dtype())
    fn = _DONATING.get(key)
    if fn is None:
        def run(params, grads, moved, kept, hyper):
            states = [{**m, **k} for m, k in zip(moved, kept)]
            return _group_step(rule, static, params, grads, states, hyper, zeros)
        run.__name__ = f"{rule.name}_group_step"
        fn = _DONATING[key] = jax.jit(run, donate_argnums=(0, 2))
    return fn


_INITS: dict = {}


def group_init_fn(rule: Rule, static, zeros=frozenset()):
    """The cached ``jax.jit`` of one group's fresh state: ``fn(params, hyper) -> states``. The first
    ``step`` builds the state with it, so that it calls the same compiled update (state given) as every
    later step instead of compiling a second, state-creating variant of the whole update."""
    key = (rule.name, static, zeros, _scalar_dtype())
    fn = _INITS.get(key)
    if fn is None:
        def init(params, hyper):
            return [rule.init(p, _split(rule, hyper, p.dtype, zeros), static) for p in params]
        init.__name__ = f"{rule.name}_group_init"
        fn = _INITS[key] = jax.jit(init, inline=True)
    return fn


def transformation(rule: Rule, static, hyper) -> optax.GradientTransformation:
    """``rule`` as an optax GradientTransformation whose hyperparameters live in its state.

    Args:
        rule: the update rule.
        static: the rule's static flags (``rule.static(group)``).
        hyper: the hyperparameter values (``rule.hyper(group)``), stored as a float32 array in
            ``state.hyperparams`` (change it there between updates; nothing recompiles).

    ``update(grads, state, params)`` needs ``params``; its updates, added with
    ``optax.apply_updates``, reproduce the torch step.
    """
    def init(params):
        leaves, tree = jax.tree_util.tree_flatten(params)
        dt = jnp.result_type(*leaves) if leaves else jnp.float32
        hp = jnp.asarray(pack_hyper(list(hyper), np.float64 if dt == jnp.float64 else np.float32))
        return RuleState(hp, [rule.init(p, _split(rule, hp, p.dtype), static) for p in leaves])

    def update(updates, state, params=None):
        if params is None:
            raise ValueError(f"{rule.name}: this transformation needs `params` in update()")
        gl, tree = jax.tree_util.tree_flatten(updates)
        pl = tree.flatten_up_to(params)
        new_p, new_s = _group_step(rule, static, pl, gl, state.slots, state.hyperparams)
        ups = [n - p for n, p in zip(new_p, pl)]
        return jax.tree_util.tree_unflatten(tree, ups), RuleState(state.hyperparams, new_s)

    return optax.GradientTransformation(init, update)


def _scalar_dtype():
    return np.float64 if _dtype.get_default_dtype() is _dtype.float64 else np.float32


# ----- helpers shared by the rules (pure jax, traced once per compiled update) -----------------
def step_zero():
    """A zero ``'step'`` scalar: float32, or float64 when that is the default dtype (as torch)."""
    return jnp.zeros((), _scalar_dtype())


def lerp(a, b, w):
    """torch's ``a.lerp_(b, w)`` formula for a scalar weight: ``a + w * (b - a)`` when ``|w| < 0.5``,
    else ``b - (b - a) * (1 - w)``, written as one select of the base and of the (exactly equal)
    coefficient ``w - 1``, so the compiled update evaluates one branch, not both."""
    d = b - a
    if type(w) in _PY:
        return a + w * d if abs(w) < 0.5 else b + (w - 1) * d
    small = jnp.abs(w) < 0.5
    return jnp.where(small, a, b) + jnp.where(small, w, w - 1) * d


def add_weight_decay(g, p, wd):
    """torch's ``if weight_decay != 0: grad = grad.add(param, alpha=weight_decay)``."""
    return g if is_zero(wd) else g + wd * p


def one_minus_pow(one_minus_beta, s):
    """``1 - beta**s`` computed accurately from ``1 - beta`` (no cancellation when beta ~ 1)."""
    return -jnp.expm1(s * jnp.log1p(-one_minus_beta))


def log1p(v):
    """``log1p`` of a Python float (math, -inf at -1) or an array/tracer (jax)."""
    if type(v) in _PY:
        return -math.inf if v == -1 else math.log1p(v)
    return jnp.log1p(_value(v))


def unit_step(st, dtype):
    """``(new_step, new_step as dtype)``: the incremented ``'step'`` state and its value."""
    s = st["step"] + 1
    return s, s.astype(dtype)


class RuleOptimizer(Optimizer):
    """An Optimizer whose ``step`` applies a :class:`Rule` with one compiled call per group.

    Subclasses set ``_rule`` and validate hyperparameters in ``_validate_group``.
    Parameters whose ``.grad`` is None are skipped; per-parameter state is created at a
    parameter's first step (inside the compiled update) and stored as mt Tensors in ``state``.
    """

    _rule: Rule

    def _hyper_array(self, group, values, f64: bool):
        """The group's hyperparameter ``values`` as a device array, kept while they stay the same (no
        host-to-device copy per step: on an accelerator each costs a transfer)."""
        dt = np.float64 if f64 else np.float32
        if not all(type(v) in _PY for v in values):  # tensors or traced values: nothing to cache
            return pack_hyper(values, dt)
        cache = self.__dict__.setdefault("_hyper_cache", {})
        hit = cache.get(id(group))
        if hit is not None and hit[0] is group and hit[1] == dt and hit[2] == values:
            return hit[3]
        arr = jnp.asarray(pack_hyper(values, dt))
        cache[id(group)] = (group, dt, values, arr)
        return arr

    def transformation(self, group_index: int = 0) -> optax.GradientTransformation:
        """This optimizer's rule for ``param_groups[group_index]`` as an optax GradientTransformation
        (hyperparameters in its state; see :func:`transformation`)."""
        g = self.param_groups[group_index]
        return transformation(self._rule, self._rule.static(g), self._rule.hyper(g))

    def step(self, closure=None):
        """Perform one optimization step.

        Args:
            closure: optional callable that re-evaluates the model and returns the loss; it is
                called with grad enabled and its result is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        rule = self._rule
        state = self.state
        for group in self.param_groups:
            ps, arrs, grads, sts = [], [], [], []
            f64 = False
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                ps.append(p)
                arrs.append(p._data)  # (no local name: it would hold a reference, and block donation)
                grads.append(g._data)
                if arrs[-1].dtype == np.float64 or arrs[-1].dtype == np.complex128:
                    f64 = True
                st = state.get(p)
                sts.append({k: v._data for k, v in st.items()} if st else None)
            if not ps:
                continue
            if len(ps) < len(group["params"]):
                _unshare_skipped_steps(group["params"], ps, state)
            values = tuple(rule.hyper(group))
            hyper = self._hyper_array(group, values, f64)
            if all(s is None for s in sts) and not any(jnp.iscomplexobj(a) for a in arrs):
                sts = group_init_fn(rule, rule.static(group), static_zeros(rule, values))(arrs, hyper)
            if not isinstance(arrs[0], _Tracer) and all(s is not None for s in sts):
                new_p, new_s = self._donating_step(rule, group, values, arrs, grads, sts, hyper)
            else:  # inside a trace (mt.jit, torch.func), or some parameter without state
                new_p, new_s = group_step_fn(rule, rule.static(group), static_zeros(rule, values))(
                    arrs, grads, sts, hyper)
            shared_step = None
            for p, a, ns in zip(ps, new_p, new_s):
                p._data = a
                p._version += 1
                if ns:
                    st = state[p]
                    for k, v in ns.items():
                        t = st.get(k)
                        if t is None:
                            if k == "step":
                                # parameters that start together count their steps together: one shared
                                # counter (one input of a compiled step, one bias correction) until a
                                # step skips some of them
                                if shared_step is None or shared_step._data.dtype != v.dtype:
                                    shared_step = _wrap(v)
                                st[k] = shared_step
                            else:
                                st[k] = _wrap(v)
                            _bump()  # new state tensors: mt.jit must capture them
                        elif t._data is not v:
                            t._data = v
                            t._version += 1
        return loss

    @staticmethod
    def _donating_step(rule, group, values, arrs, grads, sts, hyper):
        """One group's eager update with the old parameter and state memory donated. An array something
        else references too (a ``.data`` alias, a view, a ``copy.deepcopy`` snapshot, a shared ``'step'``)
        is copied (parameters) or passed without donation (states), so no one's array is invalidated."""
        base = unshared_count()
        arrs = [jnp.copy(a) if n > base else a for a, n in zip(arrs, ref_counts(arrs))]
        moved, kept = [], []
        for s in sts:
            keys = list(s)
            vals = list(s.values())
            # each array is also held by the state dict s: one more than base when nothing else holds it.
            # Scalars (the 'step' counter, shared by parameters from their second step) are never
            # donated: nothing to gain, and the split - part of the program's signature - stays the same
            counts = ref_counts(vals)
            go = [n <= base + 1 and v.ndim > 0 for v, n in zip(vals, counts)]
            moved.append({k: v for k, v, g in zip(keys, vals, go) if g})
            kept.append({k: v for k, v, g in zip(keys, vals, go) if not g})
        fn = group_step_donating_fn(rule, rule.static(group), static_zeros(rule, values))
        return fn(arrs, grads, moved, kept, hyper)


def _unshare_skipped_steps(params, stepped, state) -> None:
    """Give parameters skipped by this step (no ``.grad``) their own ``'step'`` counter when they share
    one with a parameter that does step, so that theirs stays put (as torch's per-parameter counters)."""
    ids = {id(p) for p in stepped}
    moving = {id(state[p]["step"]) for p in stepped if p in state and "step" in state[p]}
    for p in params:
        st = state.get(p) if id(p) not in ids else None
        if st and id(st.get("step")) in moving:
            st["step"] = _wrap(st["step"]._data)
            _bump()
