"""``torch.utils.checkpoint``'s device-state helpers and ``GraphExecGroup``.

minitorch_jax has one random generator for all devices (its key is set back for a checkpoint's
recomputation by ``checkpoint`` itself), so the "state of a device" here is that generator's state:
``get_device_states`` returns it once per non-CPU device found among its arguments, and
``set_device_states`` sets it back. ``GraphExecGroup`` keeps torch's nesting rule; each checkpointed
region is recomputed once per backward here anyway (the recomputation is part of its backward).
"""

from __future__ import annotations

import threading

import jax

from .._tensor import Tensor

__all__ = ["get_device_states", "set_device_states", "DefaultDeviceType", "GraphExecGroup"]


def _device_ids(args) -> list:
    ids = []
    for leaf in jax.tree_util.tree_leaves(args, is_leaf=lambda x: isinstance(x, Tensor)):
        if isinstance(leaf, Tensor) and leaf.device.type not in ("cpu", "meta"):
            ids.append(leaf.get_device())
    return ids


def get_device_states(*args):
    """The random-number state to restore for each non-CPU device of the tensors in ``args``.

    Returns:
        ``(device ids, states)``: two lists, one entry per non-CPU tensor found (torch's layout).
    """
    from .._random import get_rng_state
    ids = _device_ids(args)
    return ids, [get_rng_state() for _ in ids]


def set_device_states(devices, states, *, device_type=None) -> None:
    """Set the random-number state back for ``devices`` (from :func:`get_device_states`).

    Args:
        devices: device ids.
        states: the states, one per device.
        device_type: the devices' type (default :meth:`DefaultDeviceType.get_device_type`); ``'meta'``
            does nothing.
    """
    from .._random import set_rng_state
    if device_type is None:
        device_type = DefaultDeviceType.get_device_type()
    if device_type == "meta":
        return
    for _, state in zip(devices, states):
        set_rng_state(state)


class DefaultDeviceType:
    """The device type checkpointing uses when no non-CPU tensor is present (torch's class).

    The default is the accelerator's type (``'cuda'`` on a GPU machine), else ``'cpu'``.
    """

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        """Set the default device type (default ``'cuda'``)."""
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        """The default device type."""
        if not DefaultDeviceType._default_device_type:
            backend = jax.default_backend()
            DefaultDeviceType._default_device_type = {"gpu": "cuda", "cuda": "cuda", "rocm": "cuda",
                                                      "tpu": "xla"}.get(backend, "cpu")
        return DefaultDeviceType._default_device_type


_GROUP = threading.local()


class GraphExecGroup:
    """Backward calls inside one such context recompute each checkpointed region at most once.

    Here every region's recomputation is part of its own backward, so this only keeps torch's
    rule that these contexts do not nest.
    """

    def __enter__(self):
        current = getattr(_GROUP, "group", None)
        if current is not None:
            raise RuntimeError(f"GraphExecGroup contexts cannot be nested. Already inside group {current}")
        _GROUP.group = self
        return self

    def __exit__(self, *args) -> None:
        _GROUP.group = None

    @classmethod
    def _get_current_group(cls):
        return getattr(_GROUP, "group", None)
