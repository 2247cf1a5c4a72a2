"""``mt.nn.utils``: gradient clipping, parameter vectors, rnn packing, parametrizations,
pruning, the legacy weight/spectral norm hooks."""

from __future__ import annotations

from . import parametrizations, parametrize, prune, rnn, stateless
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import *  # noqa: F403
from .legacy_norms import *  # noqa: F403
from .module_setup import *  # noqa: F403
