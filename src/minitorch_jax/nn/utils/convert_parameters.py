"""``parameters_to_vector`` and ``vector_to_parameters``."""

from __future__ import annotations

from ..._grad_mode import no_grad
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-D tensor (differentiable)."""
    from ... import cat
    ps = list(parameters)
    _same_device(ps)
    return cat([p.reshape(-1) for p in ps])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (their shapes give the sizes)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    ps = list(parameters)
    _same_device(ps)
    total = sum(p.numel() for p in ps)
    if vec.dim() != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: vec has shape {list(vec.shape)} but the parameters hold "
                           f"{total} elements")
    offset = 0
    with no_grad():
        for p in ps:
            n = p.numel()
            p._data = vec._data[offset:offset + n].reshape(p._data.shape).astype(p._data.dtype)
            p._version += 1
            offset += n


def _same_device(ps) -> None:
    devs = {str(p.device) for p in ps}
    if len(devs) > 1:
        raise TypeError(f"Found two parameters on different devices, this is currently not supported: "
                        f"{sorted(devs)}")
