"""``mt.multiprocessing``: Python's ``multiprocessing`` plus torch's ``spawn``/``start_processes`` (run a
function in N fresh processes, failing with the child's traceback) and the sharing-strategy calls.

Tensors sent between processes are pickled (copied): JAX arrays live in each process's own memory, so
there is no shared-memory tensor passing as in torch. Every name of ``multiprocessing`` is here too
(``Process``, ``Queue``, ``get_context``, ``set_start_method`` ...).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403 - torch.multiprocessing re-exports all of multiprocessing

from ._spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = ["spawn", "start_processes", "ProcessContext", "SpawnContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
           "get_all_sharing_strategies", *multiprocessing.__all__]

_STRATEGIES = {"file_descriptor", "file_system"}
_STRATEGY = ["file_descriptor"]


def get_all_sharing_strategies() -> set[str]:
    """The sharing strategies torch offers on Linux: ``{'file_descriptor', 'file_system'}``."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    """The current sharing strategy (default ``'file_descriptor'``, as torch's on Linux). Tensors are
    pickled between processes here whatever it is."""
    return _STRATEGY[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Set the sharing strategy (recorded; see :func:`get_sharing_strategy`).

    Raises:
        AssertionError: not one of :func:`get_all_sharing_strategies` (as torch's).
    """
    assert new_strategy in _STRATEGIES, \
        f"invalid sharing strategy {new_strategy!r}, expected one of {_STRATEGIES}"
    _STRATEGY[0] = new_strategy
