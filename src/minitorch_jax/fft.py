"""``mt.fft``: torch.fft's functions, read from the op table.

The transforms are table entries named ``fft_<name>`` (see ``_ops/spectral.py``), so they get
autograd (with torch's complex-gradient convention), jit caching and parity samples like every
other op. ``fftfreq``/``rfftfreq`` are creation functions (``dtype``/``device``/``requires_grad``).
"""

from __future__ import annotations

from ._ops import public
from ._tensor import Tensor

__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
    "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift",
    "ifftshift", "Tensor",
]


def _op(name):
    return public("fft_" + name)


fft = _op("fft")
ifft = _op("ifft")
fft2 = _op("fft2")
ifft2 = _op("ifft2")
fftn = _op("fftn")
ifftn = _op("ifftn")
rfft = _op("rfft")
irfft = _op("irfft")
rfft2 = _op("rfft2")
irfft2 = _op("irfft2")
rfftn = _op("rfftn")
irfftn = _op("irfftn")
hfft = _op("hfft")
ihfft = _op("ihfft")
hfft2 = _op("hfft2")
ihfft2 = _op("ihfft2")
hfftn = _op("hfftn")
ihfftn = _op("ihfftn")
fftfreq = _op("fftfreq")
rfftfreq = _op("rfftfreq")
fftshift = _op("fftshift")
ifftshift = _op("ifftshift")
