"""A process-wide counter bumped whenever the set of tensors held by modules and optimizers
changes (a parameter, buffer or submodule registered or removed, optimizer state created).

``mt.jit`` compares it on every call: while it is unchanged, the tensors it captured last time
are still the complete state, and it need not walk the objects again.
"""

from __future__ import annotations

VERSION = [0]


def bump() -> None:
    """Record that some module's or optimizer's set of tensors changed."""
    VERSION[0] += 1
