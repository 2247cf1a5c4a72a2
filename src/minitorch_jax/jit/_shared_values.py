"""Which values of a traced program are one value under several names.

mt.jit uses this on CUDA, where XLA can hand back a stale buffer for a donated output when some value is
returned twice (jax-ml/jax#39625: ASGD's ``eta`` and ``mu``, computed alike for every parameter from the
shared step counter, are one value after XLA's common-subexpression elimination). There, the changed state
of the shape and dtype of such a value is passed undonated; everything else is still donated.
"""

from __future__ import annotations

import itertools

import numpy as np

try:
    from jax.extend.core import Literal
except ImportError:  # (a jax without it there: a literal then fails the analysis, which mt.jit survives)
    class Literal:  # type: ignore[no-redef]
        """Stands in for jax's literal class."""

__all__ = ["value_ids"]

# calls whose body runs once on the caller's values: looked into, so that a value computed twice inside
# them is seen as one (remat is left out: it asks XLA not to merge its copies)
_CALLS = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr",
          "custom_jvp_call": "call_jaxpr", "custom_vjp_call": "call_jaxpr",
          "custom_vjp_call_jaxpr": "fun_jaxpr", "shard_map": "jaxpr"}


def _frozen(v):
    """A parameter as part of a dictionary key: itself when hashable, else its identity."""
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    return v


def _const_id(value, fresh):
    """Equal constants (a ``torch.arange`` made twice) are one value to XLA: small ones get an id from
    their contents."""
    size = getattr(value, "size", None)
    if not isinstance(size, int) or size > 4096:  # (a big one is not read back from the device)
        return ("const", next(fresh))
    try:
        a = np.asarray(value)
    except Exception:  # (a key array or another opaque constant: its own value)
        return ("const", next(fresh))
    if a.dtype == object:
        return ("const", next(fresh))
    return ("const", str(a.dtype), a.shape, a.tobytes())


def value_ids(closed_jaxpr) -> tuple[list, list]:
    """Ids of the values a program takes and returns: ``(input_ids, output_ids)``, one per flattened
    input and output. Two outputs share an id when they are the same variable, the same input, equal
    literals, or results of the same primitive with the same parameters applied to values that share ids
    (what XLA's common-subexpression elimination merges), also across nested ``jit`` calls. Equations
    with side effects never share."""
    fresh = itertools.count()
    seen: dict = {}

    def walk(jaxpr, in_ids, consts=None) -> list:
        env = dict(zip(jaxpr.invars, in_ids))
        if consts is None:
            env.update((v, ("const", next(fresh))) for v in jaxpr.constvars)
        else:
            env.update((v, _const_id(c, fresh)) for v, c in zip(jaxpr.constvars, consts))

        def read(v):
            if isinstance(v, Literal):
                return ("literal", str(v.aval), repr(v.val))
            return env[v]

        for eqn in jaxpr.eqns:
            ins = tuple(map(read, eqn.invars))
            name = eqn.primitive.name
            inner = eqn.params.get(_CALLS.get(name, ""))
            if inner is not None and not eqn.effects:
                # (a ClosedJaxpr, or an open Jaxpr)
                outs = walk(getattr(inner, "jaxpr", inner), ins, getattr(inner, "consts", None))
            elif eqn.effects:
                outs = [("effect", next(fresh)) for _ in eqn.outvars]
            else:
                key = (name, tuple((k, _frozen(p)) for k, p in sorted(eqn.params.items())), ins)
                outs = seen.get(key)
                if outs is None:
                    outs = seen[key] = [("value", next(fresh)) for _ in eqn.outvars]
            env.update(zip(eqn.outvars, outs))
        return [read(v) for v in jaxpr.outvars]

    jaxpr = closed_jaxpr.jaxpr
    in_ids = [("input", i) for i in range(len(jaxpr.invars))]
    return in_ids, walk(jaxpr, in_ids, closed_jaxpr.consts)
