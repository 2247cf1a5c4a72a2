"""``torch.optim.swap_in_optimizer_params_and_state``: run optimizer APIs against other parameters and
state for the duration of a ``with`` block, restoring the live optimizer afterwards."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from .._state_version import bump as _bump
from .._tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Temporarily replace ``optimizer``'s parameters and state; both are restored on exit.

    Inside the block every optimizer API (``step``, ``state_dict``, hooks) sees the swapped-in values,
    so ``optimizer.step()`` updates the supplied tensors instead of the live ones.

    Args:
        optimizer: the live optimizer.
        swapin_parameters: a dict (usually ``{name: tensor}`` in ``model.named_parameters()`` order) or
            sequence of Tensors, one per parameter of the optimizer, in its parameter order.
        swapin_optim_state: a dict shaped like ``optimizer.state_dict()``: ``'state'`` keyed by the packed
            parameter indices and ``'param_groups'`` mirroring ``optimizer.param_groups`` (each
            ``'params'`` a list of indices; the other keys are the group's hyperparameters). Its
            tensors are used as they are, so the step's updates show in them afterwards.

    Raises:
        ValueError: when the number of parameters or groups does not match the optimizer's.
    """
    params = list(swapin_parameters.values()) if isinstance(swapin_parameters, dict) \
        else list(swapin_parameters)
    groups = optimizer.param_groups
    n_live = sum(len(g["params"]) for g in groups)
    if len(params) != n_live:
        raise ValueError(f"swap_in_optimizer_params_and_state: got {len(params)} swap-in parameters for an "
                         f"optimizer with {n_live}")
    if not all(isinstance(p, Tensor) for p in params):
        bad = next(type(p).__name__ for p in params if not isinstance(p, Tensor))
        raise TypeError(f"swap_in_optimizer_params_and_state: swap-in parameters must be Tensors, got {bad}")
    saved_groups = swapin_optim_state["param_groups"]
    if len(saved_groups) != len(groups):
        raise ValueError(f"swap_in_optimizer_params_and_state: swapin_optim_state has {len(saved_groups)} "
                         f"param groups, the optimizer has {len(groups)}")
    by_index, per_group, it = {}, [], iter(params)
    for g, sg in zip(groups, saved_groups):
        if len(sg["params"]) != len(g["params"]):
            raise ValueError("swap_in_optimizer_params_and_state: a param group of swapin_optim_state has "
                             f"{len(sg['params'])} params, the optimizer's has {len(g['params'])}")
        ps = [next(it) for _ in g["params"]]
        by_index.update(zip(sg["params"], ps))
        per_group.append(ps)
    state = defaultdict(dict)
    for k, v in swapin_optim_state["state"].items():
        state[by_index.get(k, k)] = v
    live_state, snapshots = optimizer.state, [dict(g) for g in groups]
    _bump()
    try:
        for g, sg, ps in zip(groups, saved_groups, per_group):
            g.update({k: v for k, v in sg.items() if k != "params"})
            g["params"] = ps
        optimizer.state = state
        yield
    finally:
        optimizer.state = live_state
        for g, snap in zip(groups, snapshots):
            g.clear()
            g.update(snap)
        _bump()
