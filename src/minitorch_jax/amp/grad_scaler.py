"""``mt.amp.GradScaler``: loss scaling for float16 training, like ``torch.amp.GradScaler``.

``scaler.scale(loss).backward(); scaler.step(opt); scaler.update()`` works as in torch. One difference
makes it fast and compilable: ``step`` never reads the "found inf" flag on the host. It runs the
optimizer step and then keeps the old parameters and optimizer state wherever a gradient was not
finite (an elementwise select on the device), so a skipped step leaves everything as it was, as torch's
skip does, with no device-to-host sync; the same code runs under ``mt.jit``. ``step`` therefore always
returns the optimizer's own return value.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._grad_mode import no_grad
from .._tensor import Tensor, _wrap

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """Scales the loss so float16 gradients do not underflow, and unscales them before the step.

    Args:
        device: the device type (``'cuda'``, ``'cpu'``) - recorded for torch compatibility.
        init_scale: the first scale factor.
        growth_factor: multiplies the scale after ``growth_interval`` steps without inf/NaN gradients.
        backoff_factor: multiplies the scale after a step with inf/NaN gradients (which is skipped).
        growth_interval: steps without inf/NaN between growths.
        enabled: False makes every method a no-op pass-through.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        if growth_factor <= 1.0:
            raise AssertionError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise AssertionError("The backoff factor must be < 1.0.")
        self._device = device
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._scale = None
        self._growth_tracker = None
        self._per_optimizer: dict = {}

    def _lazy_init(self):
        if self._scale is None:
            self._scale = _wrap(jnp.asarray(self._init_scale, jnp.float32))
            self._growth_tracker = _wrap(jnp.asarray(0, jnp.int32))

    def is_enabled(self) -> bool:
        """Whether scaling is on."""
        return self._enabled

    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of tensors) multiplied by the scale factor."""
        if not self._enabled:
            return outputs
        self._lazy_init()
        if isinstance(outputs, Tensor):
            return outputs * self._scale.to(outputs.dtype)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale (in place), recording whether
        any is inf/NaN. Call it before gradient clipping; ``step`` calls it when you did not."""
        if not self._enabled:
            return
        self._lazy_init()
        st = self._state(optimizer)
        if st["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last "
                               "update().")
        if st["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale._data
        found = jnp.zeros((), bool)
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    new = g._data * inv.astype(g._data.dtype)
                    found = found | ~jnp.all(jnp.isfinite(new))
                    g._data = new
                    g._version += 1
        st["found_inf"] = found
        st["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale the gradients (unless done), run ``optimizer.step(*args, **kwargs)``, and keep the old
        parameters and optimizer state where the gradients held inf/NaN (the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        st = self._state(optimizer)
        if st["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] == _READY:
            self.unscale_(optimizer)
        before = _snapshot(optimizer)
        ret = optimizer.step(*args, **kwargs)
        found = st["found_inf"]
        for t, old in before:
            if t._data is not old and t._data.shape == old.shape:
                t._data = jnp.where(found, old, t._data)
        st["stage"] = _STEPPED
        return ret

    def update(self, new_scale=None) -> None:
        """Adjust the scale: back off after a step with inf/NaN gradients, grow after
        ``growth_interval`` clean steps; or set ``new_scale`` (a float or a 1-element tensor)."""
        if not self._enabled:
            return
        self._lazy_init()
        if new_scale is not None:
            v = new_scale._data if isinstance(new_scale, Tensor) else new_scale
            self._scale._data = jnp.asarray(v, jnp.float32).reshape(())
        else:
            flags = [s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None]
            found = jnp.any(jnp.stack(flags)) if flags else jnp.zeros((), bool)
            scale, tracker = self._scale._data, self._growth_tracker._data
            grown = tracker + 1 >= self._growth_interval
            self._scale._data = jnp.where(found, scale * self._backoff_factor,
                                          jnp.where(grown, scale * self._growth_factor, scale))
            self._growth_tracker._data = jnp.where(found | grown, 0, tracker + 1).astype(jnp.int32)
        self._scale._version += 1
        self._per_optimizer = {}

    def get_scale(self) -> float:
        """The current scale as a Python float (reads the device)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale._data)

    def get_growth_factor(self) -> float:
        """The growth factor."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The backoff factor."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """The growth interval."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval."""
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``, ``_growth_tracker``
        (torch's keys), or {} when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": 0 if self._growth_tracker is None else int(self._growth_tracker._data)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore from :meth:`state_dict` (torch's error for an empty dict)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a "
                               "disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._scale = _wrap(jnp.asarray(self._init_scale, jnp.float32))
        self._growth_tracker = _wrap(jnp.asarray(int(state_dict["_growth_tracker"]), jnp.int32))


def _snapshot(optimizer) -> list:
    """``(tensor, array)`` for every parameter and optimizer-state tensor, before a step."""
    out = []
    seen = set()
    for group in optimizer.param_groups:
        for p in group["params"]:
            if id(p) not in seen:
                seen.add(id(p))
                out.append((p, p._data))
    for st in optimizer.state.values():
        if isinstance(st, dict):
            for v in st.values():
                if isinstance(v, Tensor) and id(v) not in seen:
                    seen.add(id(v))
                    out.append((v, v._data))
    return out
