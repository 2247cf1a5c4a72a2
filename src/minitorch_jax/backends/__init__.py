"""``mt.backends``: torch.backends' switches (``cudnn``, ``cuda``, ``mps``, ``cpu``, ``mkldnn``, ``openmp``,
``mkl``, ``opt_einsum``).

Where JAX has an equivalent the switch acts: ``cuda.matmul.allow_tf32`` and ``cudnn.allow_tf32`` are mt's
float32 matmul precision, ``cudnn.is_available()`` / ``cuda.is_built()`` say whether JAX has a GPU. The
rest are recorded and read back (XLA chooses and autotunes its own kernels); each module says which.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
