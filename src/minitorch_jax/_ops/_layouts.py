"""``mt.layout`` and its objects (``mt.strided``, ``mt.sparse_coo`` ...), as ``torch.layout``.

A dense tensor's ``layout`` is ``mt.strided``; the sparse tensors of :mod:`minitorch_jax.sparse`
report ``mt.sparse_coo`` / ``mt.sparse_csr``. CSC, BSR and BSC exist as names only (no tensor type).
"""

from __future__ import annotations

from .._torch_misc.named_constant import _PKG, NamedConstant

__all__ = ["layout", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
           "jagged"]


class layout(NamedConstant):
    """The memory layout of a tensor, like ``torch.layout`` (``mt.strided``, ``mt.sparse_coo`` ...).

    The instances are the only ones (``layout()`` raises TypeError); they compare by identity,
    print as ``minitorch_jax.strided``, and pickle and copy as themselves.
    """


layout.__module__ = _PKG
strided = layout._make("strided")
sparse_coo = layout._make("sparse_coo")
sparse_csr = layout._make("sparse_csr")
sparse_csc = layout._make("sparse_csc")
sparse_bsr = layout._make("sparse_bsr")
sparse_bsc = layout._make("sparse_bsc")
jagged = layout._make("jagged")
