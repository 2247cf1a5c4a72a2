"""torch-level names everyday PyTorch code uses: constants, ``finfo``/``iinfo``, memory formats,
thread and determinism switches, the legacy tensor types (``mt.FloatTensor`` ...) and a few
top-level functional forms (``mt.detach``, ``mt.fill`` ...).

One module per job (``dtype_info``, ``memory_formats``, ``switches``, ``legacy_types``,
``functional``). They import only ``_dtype`` and ``_tensor`` at load time (creation functions and DLPack
are imported on use), so op-table files may import their helpers (``_check_memory_format``).
"""

from __future__ import annotations

from . import (
    dtype_info,
    extras,
    foreach,
    functional,
    legacy_types,
    memory_formats,
    quantized,
    switches,
    toplevel,
)
from .dtype_info import *  # noqa: F403
from .extras import *  # noqa: F403
from .foreach import *  # noqa: F403
from .functional import *  # noqa: F403
from .legacy_types import *  # noqa: F403
from .memory_formats import *  # noqa: F403
from .memory_formats import _check_memory_format, _is_contiguous_as  # noqa: F401  (for _ops/conversion.py)
from .quantized import *  # noqa: F403
from .switches import *  # noqa: F403
from .toplevel import *  # noqa: F403

__all__ = (dtype_info.__all__ + memory_formats.__all__ + switches.__all__ + legacy_types.__all__
           + functional.__all__ + toplevel.__all__ + extras.__all__ + quantized.__all__ + foreach.__all__)
