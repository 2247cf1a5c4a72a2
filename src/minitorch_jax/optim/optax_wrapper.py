"""``Optax``: any optax GradientTransformation as a torch-style optimizer."""

from __future__ import annotations

import jax
import numpy as np
import optax

from .._grad_mode import enable_grad
from .._tensor import Tensor, _wrap
from .optimizer import Optimizer

__all__ = ["Optax"]


def _is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _arrays(tree):
    return jax.tree_util.tree_map(lambda t: t._data, tree, is_leaf=_is_tensor)


def _tensors(tree):
    return jax.tree_util.tree_map(_wrap, tree)


def _make_step(tx: optax.GradientTransformation, scaled: bool):
    def run(params, grads, has_grad, state, lr):
        state = _arrays(state)
        updates, new_state = tx.update(grads, state, params)
        if scaled:
            updates = [u * (-lr).astype(u.dtype) for u in updates]
        new_params = [optax.apply_updates(p, u) if h else p for p, u, h in zip(params, updates, has_grad)]
        return new_params, new_state
    return jax.jit(run, static_argnums=(2,))


class Optax(Optimizer):
    """Wrap an optax ``GradientTransformation`` (``optax.adam(1e-3)``, ``optax.chain(...)`` ...) as a
    torch-style optimizer: ``zero_grad()``, ``step(closure)``, ``param_groups``, ``state_dict()``.

    Args:
        params: iterable of parameters or parameter-group dicts.
        transformation: the optax transformation; each group gets its own optax state, initialised
            from the group's parameters (a list, in group order).
        lr: when given, ``transformation`` gives a direction (e.g. ``optax.scale_by_adam()``) and the
            step is ``p - lr * update``; ``lr`` is then a group hyperparameter (``param_groups[i]['lr']``,
            schedulers work, changing it does not recompile). When None (default), the
            transformation's updates are applied as they are (they include the learning rate).

    ``state['optax']`` is the list of the groups' optax states, pytrees whose leaves are mt Tensors.
    ``step`` is one compiled ``update`` + ``apply_updates`` per group. A parameter whose ``.grad`` is
    None contributes a zero gradient to the transformation and is left unchanged.
    """

    def __init__(self, params, transformation: optax.GradientTransformation, lr=None):
        if not (hasattr(transformation, "init") and hasattr(transformation, "update")):
            raise TypeError(f"Optax(): expected an optax GradientTransformation, got "
                            f"{type(transformation).__name__}")
        self.transformation = transformation
        self._scaled = lr is not None
        self._step_fn = _make_step(transformation, self._scaled)
        super().__init__(params, {} if lr is None else {"lr": lr})

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group and initialise its optax state."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        st = self.state.get("optax")
        if st is None:
            st = self.state["optax"] = []
        st.append(_tensors(self.transformation.init([p._data for p in group["params"]])))

    def step(self, closure=None):
        """Apply one optax update to every group (one compiled call per group).

        Args:
            closure: optional callable re-evaluating the model and returning the loss (called
                with grad enabled; its result is returned).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        import jax.numpy as jnp
        for group, st in zip(self.param_groups, self.state["optax"]):
            ps = group["params"]
            if all(p._grad is None for p in ps):
                continue
            arrs = [p._data for p in ps]
            grads = [jnp.zeros_like(a) if p._grad is None else p._grad._data for p, a in zip(ps, arrs)]
            has = tuple(p._grad is not None for p in ps)
            lr = group.get("lr", 0.0)
            if self._scaled:
                f64 = any(a.dtype == np.float64 for a in arrs)
                lr = np.asarray(lr, np.float64 if f64 else np.float32) if type(lr) in (float, int) else \
                    jnp.asarray(getattr(lr, "_data", lr))
            else:
                lr = np.float32(0)
            new_p, new_st = self._step_fn(arrs, grads, has, st, lr)
            for p, a, h in zip(ps, new_p, has):
                if h:
                    p._data = a
                    p._version += 1
            old = jax.tree_util.tree_leaves(st, is_leaf=_is_tensor)
            for t, a in zip(old, jax.tree_util.tree_leaves(new_st)):
                t._data = a
                t._version += 1
        return loss

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state dict from ``state_dict()`` of an ``Optax`` optimizer with the same
        transformation; the optax state tensors are copied (not shared)."""
        super().load_state_dict(state_dict)
        self.state["optax"] = [_tensors(_arrays(s)) for s in self.state["optax"]]
