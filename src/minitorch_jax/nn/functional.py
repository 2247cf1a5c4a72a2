"""``mt.nn.functional``: the functional form of every layer and loss.

Everything here comes from the op table (entries registered with ``functional=True``), so an op
is written once and is the same object as ``mt.<name>`` where torch also has it there.
Compositions of several table ops that torch exposes here (``multi_head_attention_forward``)
come from ``_functional_attention``.
"""

from __future__ import annotations

from .._ops import FUNCTIONAL as _FUNCTIONAL

globals().update(_FUNCTIONAL)

from .._ops.nn_grouped_mm import ScalingType, SwizzleType  # noqa: E402, F401
from ._functional_attention import *  # noqa: E402, F403
from ._functional_extra import *  # noqa: E402, F403


def relu(input, inplace: bool = False):
    """``max(x, 0)`` (``inplace=True`` rebinds ``input``, as ``F.relu_``)."""
    return _FUNCTIONAL["relu_"](input) if inplace else _FUNCTIONAL["relu"](input)
