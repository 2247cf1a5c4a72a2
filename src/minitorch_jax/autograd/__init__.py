"""``torch.autograd``: reverse-mode automatic differentiation on the define-by-run tape.

``backward`` and ``grad`` run the graph recorded by ops on tensors that require grad;
:class:`Function` defines custom ops with a hand-written backward; :mod:`.functional` computes
Jacobians, Hessians and vector products; :func:`gradcheck` compares gradients with finite
differences; ``detect_anomaly`` names the forward line behind a failing backward.
"""

from __future__ import annotations

from .._autograd_graph import grad, run_backward
from .._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .._tensor import Tensor
from . import anomaly_mode, forward_ad, function, functional, graph, profiler
from ._multithreading import is_multithreading_enabled, set_multithreading_enabled
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function",
    "GradcheckError",
    "Variable",
    "anomaly_mode",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "function",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "is_multithreading_enabled",
    "no_grad",
    "once_differentiable",
    "profiler",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_multithreading_enabled",
]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph leaves.

    Args:
        tensors: a Tensor or sequence of Tensors to differentiate.
        grad_tensors: the vector in the vector-Jacobian product, one per tensor (None is allowed
            for single-element tensors).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass, for higher-order derivatives.
        inputs: accumulate only into these tensors' ``.grad`` (leaves or not).
    """
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both "
                               "passed to backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs)


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated: ``Variable(t, requires_grad=False)`` returns ``t`` (a Tensor), as in torch."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if requires_grad:
            data.requires_grad_(True)
        return data
