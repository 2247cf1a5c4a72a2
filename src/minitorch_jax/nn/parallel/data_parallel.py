"""``DataParallel``: one process, many local devices, via ``jax.sharding``.

The module's parameters and buffers are replicated over a 1-d device mesh ('batch') and each tensor
input is sharded along ``dim`` across it; every op then runs as one SPMD program on all devices and
XLA inserts the collectives itself (the gradient all-reduce of replicated parameters included).
Nothing is scattered, copied per replica or gathered in Python, so it works eagerly (each op is a
jitted call on sharded arrays) and under ``mt.jit`` (the compiled step receives sharded state).
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from ..._device import device as _device
from ..._ops._registry import REGISTRY, make_function, register
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel", "replicate_module"]

_Tracer = jax.core.Tracer


@register("_dp_shard", method=False, function=False, jit=False, grad_name="ShardBackward")
def _dp_shard(input, sharding):
    """Place ``input`` with ``sharding`` (a sharding constraint when traced); differentiable."""
    if isinstance(input, _Tracer):
        return jax.lax.with_sharding_constraint(input, sharding)
    return jax.device_put(input, sharding)


_shard_fn = make_function(REGISTRY["_dp_shard"])


def _devices(device_ids) -> list:
    """The jax devices named by ``device_ids`` (ints or devices); all local accelerators if None."""
    local = jax.local_devices()
    if device_ids is None:
        return local
    out = []
    for d in device_ids:
        if isinstance(d, int):
            if not 0 <= d < len(local):
                from ..._device import available
                raise RuntimeError(f"DataParallel: device_ids entry {d} is out of range; this process has "
                                   f"{len(local)} device(s): {available()}")
            out.append(local[d])
        else:
            out.append(_device(d).jax_device())
    if len(set(out)) != len(out):
        raise ValueError(f"DataParallel: device_ids contains duplicates: {list(device_ids)}")
    return out


def replicate_module(module: Module, sharding) -> None:
    """Place every parameter, gradient and buffer of ``module`` with ``sharding`` (in place)."""
    for t in list(module.parameters()) + list(module.buffers()):
        if isinstance(t._data, _Tracer) or t._data.sharding == sharding:
            continue
        t._data = jax.device_put(t._data, sharding)
        g = t._grad
        if g is not None and not isinstance(g._data, _Tracer):
            g._data = jax.device_put(g._data, sharding)


class DataParallel(Module):
    """Data parallelism over this process's devices (torch's ``nn.DataParallel``).

    Args:
        module: the module to run; available as ``.module`` (state_dict keys gain ``module.``).
        device_ids: the devices to use (indices into this process's devices, or device names);
            default all of them.
        output_device: accepted for torch compatibility. Outputs stay sharded along ``dim`` (the
            efficient layout for the loss); ``.to(output_device)`` gathers them if needed.
        dim: the batch dimension of the inputs (default 0).

    Inputs whose ``dim`` is not divisible by the number of devices are replicated instead of
    sharded (the result is the same, only slower). Under ``mt.jit`` the inputs are constrained to
    the batch sharding inside the compiled program.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        devs = _devices(device_ids)
        self.module = module
        self.device_ids = list(range(len(devs))) if device_ids is None else list(device_ids)
        self.output_device = output_device if output_device is not None else self.device_ids[0]
        self.dim = dim
        object.__setattr__(self, "_mesh", Mesh(np.array(devs, dtype=object), ("batch",)))
        object.__setattr__(self, "_replicated", NamedSharding(self._mesh, P()))
        object.__setattr__(self, "_shardings", {})
        replicate_module(module, self._replicated)

    @property
    def mesh(self) -> Mesh:
        """The 1-d ``jax.sharding.Mesh`` ('batch') the module runs on."""
        return self._mesh

    def _batch_sharding(self, ndim: int):
        s = self._shardings.get(ndim)
        if s is None:
            spec = [None] * ndim
            spec[self.dim] = "batch"
            s = self._shardings[ndim] = NamedSharding(self._mesh, P(*spec))
        return s

    def scatter_input(self, x):
        """``x`` with its ``dim`` sharded over the devices (non-tensors and odd sizes pass through)."""
        if not isinstance(x, Tensor):
            if isinstance(x, (list, tuple)):
                return type(x)(self.scatter_input(v) for v in x)
            if isinstance(x, dict):
                return {k: self.scatter_input(v) for k, v in x.items()}
            return x
        arr = x._data
        n = self._mesh.devices.size
        if arr.ndim <= self.dim or arr.shape[self.dim] % n:
            return x
        s = self._batch_sharding(arr.ndim)
        if not isinstance(arr, _Tracer) and arr.sharding == s:
            return x
        return _shard_fn(x, s)

    def forward(self, *inputs, **kwargs):
        """Run ``module`` on the inputs sharded along ``dim``; outputs come back sharded."""
        replicate_module(self.module, self._replicated)
        inputs = self.scatter_input(inputs)
        kwargs = self.scatter_input(kwargs)
        return self.module(*inputs, **kwargs)
