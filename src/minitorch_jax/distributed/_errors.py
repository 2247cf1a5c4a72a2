"""torch.distributed's exception classes (``DistError`` and its subclasses), all ``RuntimeError``\\ s."""

from __future__ import annotations

__all__ = ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError", "QueueEmptyError"]


class DistError(RuntimeError):
    """Base class of the errors raised by ``mt.distributed`` communication (torch's ``DistError``)."""


class DistBackendError(DistError):
    """An error in the communication backend (a failed collective)."""


class DistNetworkError(DistError):
    """A network error (joining the group, lost connection)."""


class DistStoreError(DistError):
    """An error of the key-value store used for rendezvous (e.g. a timeout)."""


class QueueEmptyError(DistStoreError):
    """Raised when a store queue is empty (torch's ``QueueEmptyError``)."""
