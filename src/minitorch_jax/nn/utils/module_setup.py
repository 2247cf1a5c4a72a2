"""``skip_init`` and the weight memory-format converters of ``torch.nn.utils``."""

from __future__ import annotations

import inspect

from ..._torch_misc.memory_formats import _check_memory_format

__all__ = ["skip_init", "convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def skip_init(module_cls, *args, **kwargs):
    """Build ``module_cls(*args, **kwargs)`` without running its parameter initialisation, as torch:
    on the meta device (nothing allocated, no random draws), then given empty storage on ``device``
    (``kwargs['device']``, default the default device) by :meth:`Module.to_empty`. The values are
    unspecified (zeros here); fill them afterwards.

    Raises:
        RuntimeError: ``module_cls`` is not a Module class, or its constructor takes no ``device``
            argument (as torch).
    """
    from ..._device import get_default_device
    from ..modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", None)
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(
        device=final_device if final_device is not None else get_default_device())


def convert_conv2d_weight_memory_format(module, memory_format):
    """Return ``module``: torch re-lays out Conv2d weights in ``memory_format``; JAX arrays have no
    user-visible strides (XLA picks layouts), so there is nothing to convert (the format is checked).

    Raises:
        TypeError: ``memory_format`` is not a memory format (as torch's ``clone()``).
    """
    _check_memory_format(memory_format, "clone")
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Return ``module`` (see :func:`convert_conv2d_weight_memory_format`)."""
    _check_memory_format(memory_format, "clone")
    return module
