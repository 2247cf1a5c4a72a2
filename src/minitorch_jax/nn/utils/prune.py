"""``torch.nn.utils.prune``: zero out parts of a parameter with a mask.

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores a ``<name>_mask``
buffer, and registers a forward pre-hook that sets ``module.<name> = <name>_mask * <name>_orig``
(a plain attribute) before every call, exactly as torch does, so the ``state_dict`` keys are
torch's (``weight_orig``, ``weight_mask``). Pruning the same tensor again combines the masks
through a :class:`PruningContainer` (the new method only sees the entries or channels that are
still unpruned).

Masks are computed once, eagerly, with numpy (they have data-dependent structure); the hook's
product is ordinary tensor code, so pruned modules train inside ``mt.jit``. The random methods
draw from this library's generator, so their masks differ from torch's for the same seed;
``l1_unstructured``, ``ln_structured`` and ``global_unstructured`` give torch's masks (up to
ties).
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import jax.numpy as jnp
import numpy as np

from ... import _random
from ..._grad_mode import no_grad
from ..._tensor import Tensor, _wrap

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
           "custom_from_mask", "remove", "is_pruned"]


def _np(t) -> np.ndarray:
    return np.asarray(t._data if isinstance(t, Tensor) else t)


def _like(arr: np.ndarray, ref: Tensor) -> Tensor:
    return _wrap(jnp.asarray(arr, dtype=ref._data.dtype))


class BasePruningMethod(ABC):
    """Base class of the pruning methods: subclasses define ``compute_mask(t, default_mask)``
    and ``PRUNING_TYPE`` (``"unstructured"``, ``"structured"`` or ``"global"``).

    An instance is also the forward pre-hook that recomputes the pruned tensor.
    """

    _tensor_name: str | None = None
    PRUNING_TYPE: str = "unstructured"

    def __call__(self, module, inputs) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for tensor ``t`` given the current ``default_mask`` (same shape)."""

    def apply_mask(self, module) -> Tensor:
        """``<name>_mask * <name>_orig`` of ``module``."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` (combined with an earlier
        pruning of the same tensor, if any). Returns the method (the hook)."""
        old_method = None
        found = 0
        hooks_to_remove = []
        for k, hook in module._forward_pre_hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old_method = hook
                hooks_to_remove.append(k)
                found += 1
        if found > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module "
                                 f"{module}. Use a PruningContainer.")
        for k in hooks_to_remove:
            del module._forward_pre_hooks[k]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            if isinstance(old_method, PruningContainer):
                old_method.add_pruning_method(method)
                method = old_method
            else:
                container = PruningContainer(old_method)
                container.add_pruning_method(method)
                method = container
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                     f"{module}, got {importance_scores.shape} vs {orig.shape}")
        else:
            importance_scores = orig
        if old_method is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _like(np.ones(tuple(orig.shape)), orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old_method is None:
                orig = getattr(module, name + "_orig")
                del module._parameters[name + "_orig"]
                module._buffers.pop(name + "_mask", None)
                module.__dict__.pop(name, None)
                module.register_parameter(name, orig)
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores=None) -> Tensor:
        """``t`` with the mask this method computes applied (no module involved)."""
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(t.shape):
                raise AssertionError("importance_scores should have the same shape as tensor t, got "
                                     f"{importance_scores.shape} vs {t.shape}")
        else:
            importance_scores = t
        if default_mask is None:
            default_mask = _like(np.ones(tuple(t.shape)), t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a parameter holding the masked values
        (the ``_orig`` parameter object, updated), ``_orig`` and ``_mask`` go away."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        module.__dict__.pop(self._tensor_name, None)
        orig = module._parameters[self._tensor_name + "_orig"]
        with no_grad():
            orig._data = weight._data
            orig._version += 1
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods applied to one tensor, one after the other."""

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1 and isinstance(args[0], Iterable):
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        """Append ``method`` (it must act on the same tensor name)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. "
                             f"Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The latest method's mask, computed on the still-unpruned part of ``t`` only."""
        method = self._pruning_methods[-1]
        t_np, mask = _np(t), _np(default_mask).astype(_np(t).dtype).copy()
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have the '
                                     "attribute `dim` defined.")
            n_dims = t_np.ndim
            dim = method.dim
            if dim < 0:
                dim += n_dims
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            keep = mask.sum(axis=tuple(d for d in range(n_dims) if d != dim)) != 0
            slc = tuple(keep if d == dim else slice(None) for d in range(n_dims))
        elif method.PRUNING_TYPE == "global":
            slc = tuple(slice(None) for _ in range(t_np.ndim))
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(_like(t_np[slc], t), default_mask=_like(mask[slc], t))
        mask[slc] = _np(partial)
        return _like(mask, t)


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones): makes a tensor look pruned."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        """The default mask unchanged."""
        return default_mask

    @classmethod
    def apply(cls, module, name):
        """Register the identity pruning on ``module.<name>``."""
        return super().apply(module, name)


def _validate_pruning_amount_init(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative "
                         "integer")


def _validate_pruning_amount(amount, tensor_size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t) -> None:
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. Found tensor "
                         f"of shape {shape} with {len(shape)} dims")


def _validate_pruning_dim(t, dim: int) -> None:
    if dim >= t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _compute_nparams_toprune(amount, tensor_size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * tensor_size)


def _unstructured(scores: np.ndarray, default_mask, t, amount, largest: bool) -> Tensor:
    size = scores.size
    k = _compute_nparams_toprune(amount, size)
    _validate_pruning_amount(k, size)
    mask = _np(default_mask).copy()
    if k != 0:
        flat = scores.reshape(-1)
        order = np.argsort(-flat if largest else flat, kind="stable")
        mask.reshape(-1)[order[:k]] = 0
    return _like(mask, t)


class RandomUnstructured(BasePruningMethod):
    """Prune ``amount`` entries chosen at random (a fraction in [0, 1] or a count)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        """Zero the mask at ``amount`` random entries."""
        prob = _np(_random.rand(*t.shape)) if t.ndim else np.zeros(())
        return _unstructured(prob, default_mask, t, self.amount, largest=True)

    @classmethod
    def apply(cls, module, name, amount):
        """Register random unstructured pruning on ``module.<name>``."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prune the ``amount`` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        """Zero the mask at the ``amount`` smallest ``|t|``."""
        return _unstructured(np.abs(_np(t)), default_mask, t, self.amount, largest=False)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        """Register L1 unstructured pruning on ``module.<name>``."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t: Tensor, dim: int, keep: np.ndarray, default_mask) -> Tensor:
    shape = [1] * t.ndim
    shape[dim] = -1
    mask = np.broadcast_to(keep.reshape(shape), tuple(t.shape)).astype(_np(t).dtype)
    return _like(mask * _np(default_mask), t)


class RandomStructured(BasePruningMethod):
    """Prune ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        """Zero ``amount`` random channels of the mask."""
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        if k == 0:
            return default_mask
        prob = _np(_random.rand(size))
        keep = np.ones(size, bool)
        keep[np.argsort(prob, kind="stable")[:k]] = False
        return _channel_mask(t, self.dim % t.ndim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        """Register random structured pruning on ``module.<name>``."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prune the ``amount`` channels along ``dim`` with the smallest L``n`` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        """Keep the channels of largest norm."""
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _compute_nparams_toprune(self.amount, size)
        _validate_pruning_amount(k, size)
        if k == 0:
            return default_mask
        dim = self.dim % t.ndim
        arr = np.moveaxis(_np(t), dim, 0).reshape(size, -1)
        n = self.n
        if n in ("fro", 2):
            norm = np.sqrt((arr.astype(np.float64) ** 2).sum(1))
        elif n == float("inf"):
            norm = np.abs(arr).max(1)
        elif n == -float("inf"):
            norm = np.abs(arr).min(1)
        elif n == 0:
            norm = (arr != 0).sum(1).astype(np.float64)
        else:
            norm = (np.abs(arr.astype(np.float64)) ** n).sum(1) ** (1.0 / n)
        keep = np.zeros(size, bool)
        keep[np.argsort(-norm, kind="stable")[:size - k]] = True
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        """Register Ln structured pruning on ``module.<name>``."""
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune with a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask) -> None:
        self.mask = mask

    def compute_mask(self, t, default_mask):
        """``default_mask * mask``."""
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError(f"default_mask shape {default_mask.shape} must match self.mask shape "
                                 f"{self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        """Register pruning with ``mask`` on ``module.<name>``."""
        return super().apply(module, name, mask=mask)


# ----- the functional interface ---------------------------------------------------------------
def identity(module, name: str):
    """Make ``module.<name>`` look pruned with an all-ones mask. Returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` random entries of ``module.<name>`` (a fraction or a count). Returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest ``|value|`` (or smallest
    ``importance_scores``). Returns ``module``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prune ``amount`` random channels of ``module.<name>`` along ``dim``. Returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` with the smallest
    L``n`` norm (``n``: an int, float, ``inf``, ``-inf`` or ``'fro'``). Returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune the given ``(module, name)`` pairs together: the ``amount`` (in ``kwargs``) is taken
    over all their entries at once, by an unstructured ``pruning_method`` class."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = np.concatenate([_np(importance_scores.get((m, n), getattr(m, n))).reshape(-1)
                             for m, n in parameters])
    default = np.concatenate([
        _np(getattr(m, n + "_mask")).reshape(-1) if hasattr(m, n + "_mask")
        else np.ones(int(np.prod(getattr(m, n).shape))) for m, n in parameters])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer(method)
    ref = getattr(*parameters[0])
    final = _np(container.compute_mask(_like(scores, ref), _like(default, ref)))
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        num = int(np.prod(param.shape))
        piece = final[pointer:pointer + num].reshape(tuple(param.shape))
        custom_from_mask(module, name, mask=_like(piece, param))
        pointer += num


def custom_from_mask(module, name: str, mask):
    """Prune ``module.<name>`` with ``mask`` (same shape). Returns ``module``."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent (the masked values become the parameter).
    Returns ``module``."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or a submodule has a pruning hook."""
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False

