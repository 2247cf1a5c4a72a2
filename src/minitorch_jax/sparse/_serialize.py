"""Loading torch's pickled sparse tensors: ``torch._utils._rebuild_sparse_tensor`` (for ``mt.load``)."""

from __future__ import annotations

__all__ = ["rebuild_sparse_tensor", "get_layout"]


def rebuild_sparse_tensor(layout, data):
    """Rebuild a COO or CSR tensor from torch's ``(layout, data)`` checkpoint record, checking the
    indices (a checkpoint is untrusted input)."""
    from .._ops._layouts import sparse_coo, sparse_csr
    from ._construct import sparse_coo_tensor, sparse_csr_tensor
    if layout is sparse_coo:
        if len(data) not in (3, 4):
            raise RuntimeError(f"mt.load: a sparse_coo record needs 3 or 4 fields, got {len(data)}")
        coalesced = data[3] if len(data) == 4 else None
        return sparse_coo_tensor(data[0], data[1], data[2], check_invariants=True, is_coalesced=coalesced)
    if layout is sparse_csr:
        if len(data) != 4:
            raise RuntimeError(f"mt.load: a sparse_csr record needs 4 fields, got {len(data)}")
        return sparse_csr_tensor(data[0], data[1], data[2], data[3], check_invariants=True)
    raise NotImplementedError(f"mt.load: sparse layout {layout} is not supported")


def get_layout(name):
    """``torch.serialization._get_layout``: the ``mt.layout`` named ``'torch.<name>'``."""
    from .._ops import _layouts
    short = name[len("torch."):] if isinstance(name, str) and name.startswith("torch.") else None
    if short not in _layouts.__all__ or short == "layout":
        raise RuntimeError(f"mt.load: unknown layout {name!r}")
    return getattr(_layouts, short)
