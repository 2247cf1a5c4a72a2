"""``mt.device``: torch's device names mapped onto JAX devices ('cuda' is JAX's GPU platform).

Also the default device (``mt.set_default_device`` / ``get_default_device``, ``with mt.device(...)``)
and the translation of JAX's "incompatible devices" error into torch's message.

Placement model: arrays created without a device are *uncommitted* on the default device (JAX moves
them freely); ``device=`` naming another device, ``.to(device)`` and ``.cuda()`` commit them. JAX
raises when one computation mixes arrays committed to different devices; the op table turns that
into torch's "Expected all tensors to be on the same device" (no per-op check on the hot path).
"""

from __future__ import annotations

import jax

__all__ = ["device", "set_default_device", "get_default_device", "from_jax", "put"]

_TORCH_TO_JAX = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}
_JAX_TO_TORCH = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "rocm": "cuda", "tpu": "tpu"}


def _local(platform: str) -> list:
    """This process's devices of a JAX platform ([] when the platform is absent)."""
    try:
        return jax.local_devices(backend=platform)
    except RuntimeError:
        return []


def available() -> str:
    """The devices this process can use, as torch names (for error messages)."""
    names = []
    for d in jax.local_devices():
        names.append(str(from_jax(d)))
    return ", ".join(names)


class device:
    """A device name like torch's: ``mt.device('cpu')``, ``mt.device('cuda', 1)``, ``mt.device('cuda:1')``.

    Args:
        type: 'cpu', 'cuda', 'tpu' or 'meta' (shapes and dtypes only: see ``_meta.py``), optionally
            with ':index'.
        index: device ordinal within that type among this process's devices (None means the
            current/first one).

    Used as a context manager (``with mt.device('cuda'): ...``) it is the default device inside.
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
        if type not in _TORCH_TO_JAX and type != "meta":
            raise RuntimeError(
                f"Expected one of cpu, cuda, tpu, meta device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
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

    def __enter__(self):
        _STACK.append(get_default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc) -> None:
        set_default_device(_STACK.pop())

    def jax_device(self):
        """The ``jax.Device`` this names; raises RuntimeError listing the available devices if absent."""
        r = _jax_cache.get(self)
        if r is not None:
            return r
        if self.type == "meta":
            raise RuntimeError("the meta device holds no data: it has no JAX device")
        devs = _local(_TORCH_TO_JAX[self.type])
        idx = self.index or 0
        if idx >= len(devs):
            have = f"{len(devs)} {self.type} device(s)" if devs else f"no {self.type} devices"
            raise RuntimeError(
                f"device {self.type}:{idx} is not available (this process has {have}); "
                f"available devices: {available()}")
        r = _jax_cache[self] = devs[idx]
        return r


_cache: dict = {}
_jax_cache: dict = {}
_STACK: list = []
_DEFAULT: list = [None]  # the mt device set by set_default_device (None: JAX's default)


def from_jax(d) -> device:
    """The mt device naming a ``jax.Device`` (the index counts this process's devices of that type).

    CPU devices are ``cpu`` (torch's name) except where this process has several (e.g. forced host
    devices), where the second and later ones are ``cpu:1`` ...
    """
    r = _cache.get(d)
    if r is None:
        kind = _JAX_TO_TORCH.get(d.platform, d.platform)
        local = _local(d.platform) if d.process_index == jax.process_index() else []
        idx = local.index(d) if d in local else d.id
        if kind == "cpu":
            idx = idx if (d in local and idx > 0) else None
        r = _cache[d] = device(kind, idx)
    return r


def default_jax_device():
    """The JAX device new arrays are placed on (this process's first device unless set)."""
    d = _DEFAULT[0]
    return d.jax_device() if d is not None and d.type != "meta" else jax.local_devices()[0]


def meta_default() -> bool:
    """Whether factory functions make meta tensors by default (``with mt.device('meta'):``)."""
    d = _DEFAULT[0]
    return d is not None and d.type == "meta"


def is_meta(dev) -> bool:
    """Whether ``dev`` (a device, string or None for the default) is the meta device."""
    if dev is None:
        return meta_default()
    return (dev.type if isinstance(dev, device) else device(dev).type) == "meta"


def set_default_device(dev) -> None:
    """Make ``dev`` (a device, string or index; None resets) where tensors are created by default.

    Like ``torch.set_default_device``. Backed by JAX's ``jax_default_device`` option: new arrays stay
    uncommitted on that device. Raises RuntimeError listing the available devices if it is absent.
    """
    if dev is None:
        _DEFAULT[0] = None
        jax.config.update("jax_default_device", None)
        return
    dev = device(dev)
    if dev.type == "meta":  # factories make meta tensors; JAX's own default stays where it is
        _DEFAULT[0] = dev
        return
    if dev.type == "cuda" and dev.index is None:
        dev = device("cuda", 0)
    jd = dev.jax_device()
    _DEFAULT[0] = dev
    jax.config.update("jax_default_device", jd)


def get_default_device() -> device:
    """The device tensors are created on by default (``device(type='cpu')`` unless changed)."""
    d = _DEFAULT[0]
    return d if d is not None else from_jax(jax.local_devices()[0])


def put(arr, dev):
    """``arr`` placed on ``dev`` (an mt device or name), committed there unless ``dev`` is the default.

    An array created on the default device stays uncommitted when asked for that same device, so
    ``mt.zeros(3, device='cpu')`` behaves like ``mt.zeros(3)`` (and mixes freely with sharded arrays).
    """
    dev = dev if isinstance(dev, device) else device(dev)
    if dev.type == "meta":
        from ._meta import meta_array
        return meta_array(arr.shape, arr.dtype)
    jd = dev.jax_device()
    if isinstance(arr, jax.core.Tracer):  # inside a compiled function: the program places it
        return arr if jd == default_jax_device() else jax.device_put(arr, jd)
    if jd == default_jax_device() and not getattr(arr, "committed", True):
        try:
            if arr.devices() == {jd}:
                return arr
        except Exception:  # a tracer
            return arr
    return jax.device_put(arr, jd)


def mismatch_error(op_name: str, targs, exc):
    """torch's RuntimeError for an op whose tensor arguments live on different devices (or None)."""
    from ._tensor import Tensor
    seen = []
    for a in targs:
        if isinstance(a, Tensor):
            try:
                devs = a._data.devices()
            except Exception:
                continue
            names = sorted({str(from_jax(d)) for d in devs})
            name = names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"
            if name not in seen:
                seen.append(name)
    if len(seen) < 2:
        return None
    return RuntimeError(
        f"{op_name}(): Expected all tensors to be on the same device, but found at least two devices, "
        f"{seen[0]} and {seen[1]}!")
