"""``mt.nn``: modules, parameters, layers, losses, ``functional``, ``init`` and ``utils``."""

from __future__ import annotations

import importlib

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

# torch.nn.attention: bound after the star import, which brings nn.modules' own ``attention`` submodule
# (``from . import attention`` would return that one, as the name already exists here)
attention = importlib.import_module(".attention", __name__)
