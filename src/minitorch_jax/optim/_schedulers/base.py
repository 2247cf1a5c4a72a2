"""``LRScheduler``: the base class of the learning-rate schedulers (``torch.optim.lr_scheduler``).

Schedulers only touch ``optimizer.param_groups`` (a list of dicts holding ``"lr"`` and the other
hyperparameters) and wrap ``optimizer.step`` once to notice the "scheduler stepped before optimizer"
mistake, so they work with any object shaped like a torch optimizer, not only ``mt.optim`` ones.
The arithmetic mirrors torch's (same formulas, same order of float operations), so learning-rate
sequences agree with PyTorch's to the last bit or so, and the attribute names equal torch's, so a
``state_dict()`` from a PyTorch scheduler loads here and the other way round.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from typing import Any

__all__ = ["LRScheduler", "_LRScheduler", "EPOCH_DEPRECATION_WARNING"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)

_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)

_OVERRIDE_WARNING = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)


# ---------------------------------------------------------------------------------------------
# param-group helpers (a group value may be a Python float or a tensor, as in torch)
# ---------------------------------------------------------------------------------------------
def _is_tensor(v) -> bool:
    return hasattr(v, "fill_") and hasattr(v, "clone")


def _copy(v):
    """A copy of a group value: tensors are cloned, anything else is returned as is."""
    return v.clone() if _is_tensor(v) else v


def _scalar(v):
    return v.item() if _is_tensor(v) else v


def _group_values(optimizer, key: str) -> list:
    """``[group[key] for group in optimizer.param_groups]`` with tensors cloned."""
    return [_copy(group[key]) for group in optimizer.param_groups]


def _set_group_value(group: dict, key: str, value) -> None:
    """Store ``value`` under ``group[key]``, filling a tensor in place if one is stored there."""
    cur = group.get(key)
    if _is_tensor(cur):
        # a 0-d tensor value is passed as is: no round trip through a Python float (or a float32 cast)
        cur.fill_(value if _is_tensor(value) and getattr(value, "ndim", None) == 0 else _scalar(value))
    else:
        group[key] = value


def _refuse_under_jit(scheduler) -> None:
    """Raise ``mt.jit.JitError`` when ``scheduler.step()`` runs while ``mt.jit`` traces a function.

    The scheduler's state (``last_epoch`` ...) is Python state: the compiled program would hold the
    learning rate computed once, at trace time, and later calls would silently never advance it.
    """
    from ... import compiler
    if compiler.is_compiling():
        from ...jit import JitError
        raise JitError(
            f"{type(scheduler).__name__}.step() was called inside a function compiled with mt.jit: the "
            "schedule is Python state, advanced only while the function is traced, so later calls would "
            "keep the same learning rate. Call scheduler.step() outside the compiled function (a new lr "
            "is picked up without recompiling), or run the function eagerly (mt.jit.disable()).")


def _format_param(name: str, optimizer, param) -> list:
    """One value per param group: a scalar is repeated, a list/tuple must have one entry per group."""
    n = len(optimizer.param_groups)
    if isinstance(param, (list, tuple)):
        if len(param) != n:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(param)} values, param_groups has {n}."
            )
    else:
        param = [param] * n
    return [_copy(p) for p in param]


def _check_optimizer(optimizer) -> None:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _optimizer_defaults(optimizer) -> dict:
    """``optimizer.defaults`` or, for an optimizer-like object without it, its first param group."""
    defaults = getattr(optimizer, "defaults", None)
    if isinstance(defaults, dict):
        return defaults
    return optimizer.param_groups[0] if optimizer.param_groups else {}


def _check_momentum_support(optimizer) -> bool:
    """For ``cycle_momentum``: True if the optimizer uses ``betas`` (Adam-like), False for ``momentum``."""
    defaults = _optimizer_defaults(optimizer)
    if "momentum" not in defaults and "betas" not in defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in defaults


def _set_momentum(group: dict, value, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _patch_optimizer_step(optimizer) -> bool:
    """Wrap ``optimizer.step`` once so that calling it sets ``optimizer._opt_called = True``.

    Works for a bound method of any class (re-bound through a weak reference, like torch, so the
    wrapper does not keep the optimizer alive) and for a plain callable stored on the instance.
    Returns False when the optimizer cannot be patched (e.g. ``__slots__`` without ``step``).
    """
    step = optimizer.step
    if getattr(step, "_wrapped_by_lr_sched", False):
        return True
    func = getattr(step, "__func__", None)
    try:
        opt_ref = weakref.ref(optimizer)
    except TypeError:  # no weak references: hold it strongly
        opt_ref = functools.partial(lambda o: o, optimizer)

    if func is not None and getattr(step, "__self__", None) is optimizer:

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            opt = opt_ref()
            _mark_called(opt)
            return func.__get__(opt, type(opt))(*args, **kwargs)
    else:

        @functools.wraps(step)
        def wrapper(*args, **kwargs):
            _mark_called(opt_ref())
            return step(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    try:
        optimizer.step = wrapper
    except (AttributeError, TypeError):
        return False
    return True


def _mark_called(opt) -> None:
    try:
        opt._opt_called = True
    except (AttributeError, TypeError):
        pass


class LRScheduler:
    """Base class of the learning-rate schedulers; adjusts ``group["lr"]`` of an optimizer's param groups.

    Args:
        optimizer: a torch-style optimizer (anything with ``param_groups`` and ``step``).
        last_epoch (int): index of the last epoch. ``-1`` (default) starts a schedule: each group's
            ``lr`` is stored as ``group["initial_lr"]``. A value ``>= 0`` resumes one and needs
            ``"initial_lr"`` in every group (``KeyError`` otherwise).

    Subclasses implement ``get_lr()`` (the chainable form, computed from the current group lrs) and
    optionally ``_get_closed_form_lr()`` (used when ``step(epoch)`` is given an explicit epoch).
    Call ``optimizer.step()`` before ``scheduler.step()``; doing it the other way round warns.
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False
    _step_tracked: bool = True

    def __init__(self, optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        f"{type(self).__name__} with last_epoch={last_epoch} (>= 0).\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't properly "
                        "loaded the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
                    )
        self.base_lrs: list = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        if not _patch_optimizer_step(optimizer):
            self._step_tracked = False
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the group lrs to the schedule's value at ``last_epoch + 1`` (run once at construction)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute except ``optimizer``."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state returned by ``state_dict()`` (also a PyTorch scheduler's state_dict)."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The learning rates (one per param group) set by the last ``step()``."""
        return self._last_lr

    def get_lr(self) -> list:
        """The learning rates for the current ``last_epoch`` (chainable form); subclasses implement it."""
        raise NotImplementedError

    def _warn_get_lr_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one epoch (or jump to ``epoch``, deprecated) and update the groups' lr."""
        if self._step_count == 1 and self._step_tracked:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(_OVERRIDE_WARNING, UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        _refuse_under_jit(self)
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ValueError(
                f"{type(self).__name__}: got {len(values)} learning rates for {len(groups)} param groups"
            )
        for group, lr in zip(groups, values):
            _set_group_value(group, "lr", lr)
        self._last_lr: list = _group_values(self.optimizer, "lr")


class _LRScheduler(LRScheduler):
    """Deprecated alias of :class:`LRScheduler` (kept for code written against torch < 2.0)."""
