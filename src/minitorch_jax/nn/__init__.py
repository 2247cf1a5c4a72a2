"""``mt.nn``: modules, parameters, layers, losses, ``functional``, ``init`` and ``utils``."""

from __future__ import annotations

from .parameter import Buffer, Parameter
from . import functional, init, utils
from .modules import *  # noqa: F403
