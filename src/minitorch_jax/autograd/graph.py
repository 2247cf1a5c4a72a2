"""``torch.autograd.graph``: the node type of the backward graph and graph-walking helpers."""

from __future__ import annotations

from .._autograd_graph import AccumulateGrad, Node
from .._tensor import Tensor

__all__ = ["Node", "AccumulateGrad", "increment_version", "get_gradient_edge", "GradientEdge"]


class GradientEdge(tuple):
    """``(node, output_nr)``: where a tensor's gradient enters the graph."""

    __slots__ = ()

    def __new__(cls, node, output_nr):
        return super().__new__(cls, (node, output_nr))

    @property
    def node(self):
        """The node receiving the gradient."""
        return self[0]

    @property
    def output_nr(self) -> int:
        """Which output of ``node`` the tensor is."""
        return self[1]


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The graph edge of ``tensor`` (its grad_fn and output number, or its AccumulateGrad node)."""
    from .._autograd_graph import edge_of
    node, nr = edge_of(tensor)
    if node is None:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not "
                           "require gradients")
    return GradientEdge(node, nr)


def increment_version(tensor) -> None:
    """Bump the version counter of ``tensor`` (or of each tensor in a sequence)."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._version += 1
