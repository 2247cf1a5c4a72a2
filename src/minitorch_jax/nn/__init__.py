"""``mt.nn``: modules, parameters, layers, losses, ``functional``, ``init`` and ``utils``."""

from __future__ import annotations

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
