"""``mt.nn.utils.stateless``: the deprecated home of ``functional_call`` (use ``mt.func.functional_call``)."""

from __future__ import annotations

import warnings

from ...func import functional_call as _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights: bool = True,
                    strict: bool = False):
    """Call ``module`` with some parameters/buffers replaced (deprecated: :func:`mt.func.functional_call`).

    Args:
        module: the module to call.
        parameters_and_buffers: ``{"layer.weight": tensor, ...}``.
        args: one positional argument or a tuple of them.
        kwargs: keyword arguments for the call.
        tie_weights: a tensor shared by several names is replaced under all of them.
        strict: require the names to match the module's parameters and buffers exactly.
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be "
                  "removed in a future version of PyTorch. Please use `torch.func.functional_call` instead "
                  "which is a drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                            strict=strict)
