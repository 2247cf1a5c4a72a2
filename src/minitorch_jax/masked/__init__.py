"""``mt.masked``: PyTorch's ``torch.masked``.

Masked reductions and normalizations on a plain tensor plus a boolean ``mask`` (``mt.masked.sum(x, 1,
mask=m)`` ...; see ``_reductions``) and :class:`MaskedTensor` (``masked_tensor(data, mask)``), whose
elementwise ops keep the mask and whose reductions skip masked elements (see ``_maskedtensor``).
A MaskedTensor can be an argument, result or captured state of an ``mt.jit`` function (the program
sees its data and mask).
"""

from __future__ import annotations

from ._maskedtensor import MaskedTensor, as_masked_tensor, is_masked_tensor, masked_tensor
from ._reductions import (
                          amax,
                          amin,
                          argmax,
                          argmin,
                          cumprod,
                          cumsum,
                          log_softmax,
                          logaddexp,
                          logsumexp,
                          mean,
                          median,
                          norm,
                          normalize,
                          prod,
                          softmax,
                          softmin,
                          std,
                          sum,
                          var,
)

__all__ = ["amax", "amin", "argmax", "argmin", "as_masked_tensor", "cumprod", "cumsum", "is_masked_tensor",
           "log_softmax", "logaddexp", "logsumexp", "masked_tensor", "MaskedTensor", "mean", "median", "norm",
           "normalize", "prod", "softmax", "softmin", "std", "sum", "var"]
