"""Lazy modules: layers whose input size is inferred from the first input (torch's ``LazyModuleMixin``).

``LazyLinear(out_features)``, ``LazyConv{1,2,3}d(out_channels, kernel_size, ...)``,
``LazyConvTranspose{1,2,3}d``, ``LazyBatchNorm{1,2,3}d()`` and ``LazyInstanceNorm{1,2,3}d()`` hold
:class:`~minitorch_jax.nn.parameter.UninitializedParameter` / ``UninitializedBuffer`` placeholders
until their first call; a forward pre-hook then infers ``in_features`` / ``in_channels`` /
``num_features``, materializes the placeholders (in place: optimizers built before keep working),
applies the layer's default initialisation and turns the module into its regular class
(``cls_to_become``: ``type(LazyLinear(3)(x))`` ... is ``Linear``).

Difference from torch: after a full ``state_dict`` is loaded into a lazy conv / norm layer, the first
forward also sets ``in_channels`` / ``num_features`` from the loaded weights (torch leaves them 0;
this library's layers check their input size against them).
"""

from __future__ import annotations

import itertools

from ..._grad_mode import no_grad
from ..._tensor import Tensor
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm
from .linear import Linear

__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]
# LazyModuleMixin is public as ``nn.modules.lazy.LazyModuleMixin`` only (torch.nn does not export it)

_HOOK_NAMES = ("_infer_parameters", "_lazy_load_hook")


def _remove_lazy_hooks(module) -> None:
    """Drop the lazy forward pre-hook and load pre-hook of ``module`` (found by identity, so this also
    works on a deep copy, whose handles may point at the original's tables)."""
    tables = ((module._forward_pre_hooks, (module._forward_pre_hooks_with_kwargs,)),
              (module._load_state_dict_pre_hooks, ()))
    for table, extras in tables:
        for hid, hook in list(table.items()):
            if getattr(hook, "__self__", None) is module and getattr(hook, "__name__", "") in _HOOK_NAMES:
                del table[hid]
                for e in extras:
                    e.pop(hid, None)
    module.__dict__.pop("_initialize_hook", None)
    module.__dict__.pop("_load_hook", None)


class LazyModuleMixin:
    """A mixin for modules that initialize their parameters from the first input ("lazy modules").

    Until the first forward the module holds ``UninitializedParameter`` / ``UninitializedBuffer``
    placeholders (any op on them raises ValueError); convert dtype/device before that first "dry run".
    The dry run calls :meth:`initialize_parameters` with the forward's arguments, then the module
    becomes ``cls_to_become`` (if set). Parameters keep their identity, so an optimizer may be built
    before the dry run.

    ``state_dict()`` of an uninitialized module holds the placeholders themselves; loading a state_dict
    with real tensors into a lazy module materializes the placeholders with the loaded shapes.

    Example::

        >>> fc = mt.nn.LazyLinear(10)
        >>> fc(mt.ones(2, 5)).shape
        minitorch_jax.Size([2, 10])
        >>> type(fc).__name__, fc.in_features
        ('Linear', 5)
    """

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if (is_lazy(param) or keep_vars) else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if (is_lazy(buf) or keep_vars) else buf.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs):
        """load_state_dict pre-hook: materialize a placeholder that receives a real tensor, with the
        loaded tensor's shape."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                value = state_dict[key]
                if not is_lazy(value):
                    with no_grad():
                        param.materialize(tuple(value.shape))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # a placeholder that receives a placeholder stays one (nothing to copy): hide both from the
        # shape check and the copy of Module._load_from_state_dict
        hidden = []
        for table in (self._parameters, self._buffers):
            for name, p in table.items():
                key = prefix + name
                if p is not None and is_lazy(p) and key in state_dict and is_lazy(state_dict[key]):
                    hidden.append((table, name, p, key))
        if not hidden:
            return super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                                 unexpected_keys, error_msgs)
        keys = {h[3] for h in hidden}
        rest = {k: v for k, v in state_dict.items() if k not in keys}
        for table, name, _p, _k in hidden:
            table[name] = None
        try:
            super()._load_from_state_dict(rest, prefix, local_metadata, strict, missing_keys,
                                          unexpected_keys, error_msgs)
        finally:
            for table, name, p, _k in hidden:
                table[name] = p

    def initialize_parameters(self, *args, **kwargs):
        """Infer the parameter shapes from the forward's arguments and materialize them (each lazy
        layer defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer of this module is still a placeholder."""
        return any(is_lazy(p) for p in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook: initialize from this first batch, then become ``cls_to_become``."""
        kwargs = kwargs if kwargs else {}
        module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        _remove_lazy_hooks(module)
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. Run a "
                           "dummy forward pass to correctly initialize the modules")

    def __getstate__(self):
        state = super().__getstate__()
        # the hook handles hold weak references (not copyable); the hooks are found by identity instead
        state.pop("_initialize_hook", None)
        state.pop("_load_hook", None)
        return state


# ----- Linear ---------------------------------------------------------------------------------------


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is inferred from the last dim of the first input.

    Args:
        out_features: size of each output sample.
        bias: learn an additive bias (default True).

    After the first forward it is a ``Linear(in_features, out_features)`` with torch's default init.
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        """Default init, once the parameters are materialized."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        """Set ``in_features = input.shape[-1]`` and materialize ``weight`` (and ``bias``)."""
        if not isinstance(input, Tensor) or input.ndim == 0:
            raise RuntimeError(f"LazyLinear: expected an input Tensor with at least 1 dim to infer "
                               f"in_features, got {_describe(input)}")
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} is not equal "
                                     f"to in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


def _describe(x) -> str:
    if isinstance(x, Tensor):
        return f"shape {list(x.shape)}"
    return type(x).__name__


# ----- convolutions ---------------------------------------------------------------------------------


class _LazyConvXdMixin(LazyModuleMixin):
    """Shared inference of the lazy convolutions: ``in_channels`` from dim 1 (batched) or dim 0."""

    def reset_parameters(self) -> None:
        """Default init, once the parameters are materialized."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Set ``in_channels`` from the input and materialize ``weight`` (and ``bias``)."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if self.transposed:
                    self.weight.materialize((self.in_channels, self.out_channels // self.groups,
                                             *self.kernel_size))
                else:
                    self.weight.materialize((self.out_channels, self.in_channels // self.groups,
                                             *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()
        elif self.in_channels == 0:  # loaded from a state_dict: read it off the weight
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups

    def _get_in_channels(self, input) -> int:
        nd = self._get_num_spatial_dims()
        no_batch, batch = nd + 1, nd + 2
        if not isinstance(input, Tensor) or input.dim() not in (no_batch, batch):
            size = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"Expected {no_batch}D (unbatched) or {batch}D (batched) input to "
                               f"{self.__class__.__name__}, but got input of size: {size}")
        return input.shape[1] if input.dim() == batch else input.shape[0]

    def _get_num_spatial_dims(self) -> int:
        return self._nd


class _LazyConv(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
                         device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


_LAZY_CONV_DOC = """A :class:`Conv{nd}d` whose ``in_channels`` is inferred from ``input.size(1)`` (or
    ``size(0)`` for an unbatched input) at the first forward, after which it is a ``Conv{nd}d``.

    Args: ``out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
    padding_mode='zeros', device=None, dtype=None`` as :class:`Conv{nd}d`.
    """


class LazyConv1d(_LazyConv, Conv1d):
    __doc__ = _LAZY_CONV_DOC.format(nd=1)
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    __doc__ = _LAZY_CONV_DOC.format(nd=2)
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    __doc__ = _LAZY_CONV_DOC.format(nd=3)
    cls_to_become = Conv3d


class _LazyConvTranspose(_LazyConvXdMixin):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
                         padding_mode, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


_LAZY_CONVT_DOC = """A :class:`ConvTranspose{nd}d` whose ``in_channels`` is inferred from the first input
    (``size(1)``, or ``size(0)`` unbatched), after which it is a ``ConvTranspose{nd}d``.

    Args: ``out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
    dilation=1, padding_mode='zeros', device=None, dtype=None`` as :class:`ConvTranspose{nd}d`.
    """


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    __doc__ = _LAZY_CONVT_DOC.format(nd=1)
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    __doc__ = _LAZY_CONVT_DOC.format(nd=2)
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    __doc__ = _LAZY_CONVT_DOC.format(nd=3)
    cls_to_become = ConvTranspose3d


# ----- normalization --------------------------------------------------------------------------------


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """Shared placeholders and inference (``num_features = input.shape[1]``) of the lazy norm layers."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None,
                 *, bias=True):
        from ... import _creation
        from ... import _dtype as _dt
        super().__init__(0, eps, momentum, False, False, device=device, dtype=dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _creation.tensor(0, dtype=_dt.int64, device=device)

    def reset_parameters(self) -> None:
        """Default init (weight 1, bias 0, fresh running stats), once materialized."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        """Set ``num_features = input.shape[1]`` and materialize the parameters and running stats."""
        if self.has_uninitialized_params():
            if not isinstance(input, Tensor) or input.ndim < 2:
                raise ValueError(f"{self._get_name()}: expected an input with at least 2 dims to infer "
                                 f"num_features from dim 1, got {_describe(input)}")
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()
        elif self.num_features == 0:  # loaded from a state_dict: read it off the weight / running stats
            src = self.weight if self.weight is not None else self.running_mean
            if src is not None:
                self.num_features = src.shape[0]


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """A :class:`BatchNorm1d` whose ``num_features`` is inferred from ``input.size(1)`` at the first
    forward (then it is a ``BatchNorm1d``). Args: ``eps, momentum, affine, track_running_stats,
    device, dtype, bias`` as BatchNorm1d."""

    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """A :class:`BatchNorm2d` with ``num_features`` inferred from the first input; see
    :class:`LazyBatchNorm1d`."""

    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """A :class:`BatchNorm3d` with ``num_features`` inferred from the first input; see
    :class:`LazyBatchNorm1d`."""

    cls_to_become = BatchNorm3d
    _check_input_dim = BatchNorm3d._check_input_dim


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm1d` whose ``num_features`` is inferred from ``input.size(1)`` at the first
    forward (then it is an ``InstanceNorm1d``). Note torch's defaults here: ``affine=True,
    track_running_stats=True`` (unlike InstanceNorm1d)."""

    cls_to_become = InstanceNorm1d
    _spatial = 1


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm2d` with ``num_features`` inferred from the first input; see
    :class:`LazyInstanceNorm1d`."""

    cls_to_become = InstanceNorm2d
    _spatial = 2


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """An :class:`InstanceNorm3d` with ``num_features`` inferred from the first input; see
    :class:`LazyInstanceNorm1d`."""

    cls_to_become = InstanceNorm3d
    _spatial = 3
