"""``mt.device``: torch's device names mapped onto JAX devices ('cuda' is JAX's GPU platform)."""

from __future__ import annotations

import jax

__all__ = ["device"]

_TORCH_TO_JAX = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}
_JAX_TO_TORCH = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "tpu"}


class device:
    """A device name like torch's: ``mt.device('cpu')``, ``mt.device('cuda', 1)``, ``mt.device('cuda:1')``.

    Args:
        type: 'cpu', 'cuda' or 'tpu', optionally with ':index'.
        index: device ordinal within that type (None means the current/first one).
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002 - torch's argument name
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu' or 'cuda:0', got {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already has an index; got index={index} too")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in _TORCH_TO_JAX:
            raise RuntimeError(
                f"Expected one of cpu, cuda, tpu device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def jax_device(self):
        """The ``jax.Device`` this names; raises RuntimeError listing the available devices if absent."""
        platform = _TORCH_TO_JAX[self.type]
        try:
            devs = jax.devices(platform)
        except RuntimeError:
            devs = []
        idx = self.index or 0
        if idx >= len(devs):
            have = ", ".join(str(from_jax(d)) for d in jax.devices())
            raise RuntimeError(
                f"device {self} is not available; this machine has: {have}")
        return devs[idx]


_cache: dict = {}


def from_jax(d) -> device:
    """The mt device naming a ``jax.Device``."""
    r = _cache.get(d)
    if r is None:
        kind = _JAX_TO_TORCH.get(d.platform, d.platform)
        r = _cache[d] = device(kind, None if kind == "cpu" else d.id)
    return r


def default_jax_device():
    """JAX's default device (where new arrays are placed)."""
    return jax.devices()[0]
