"""``mt.cuda.jiterator``: torch's runtime-compiled CUDA C++ elementwise kernels.

JAX cannot compile CUDA C++ source strings; write the elementwise function in Python on tensors and
compile it with ``mt.jit`` (XLA fuses it into one kernel). Both private entry points raise saying so.
"""

from __future__ import annotations

__all__: list[str] = []

_HINT = ("CUDA C++ kernel strings cannot be compiled through JAX; write the elementwise function in "
         "Python on tensors and wrap it with mt.jit, which XLA fuses into one kernel")


def _create_jit_fn(code_string: str, **kwargs):
    """Not supported under JAX (raises; see module notes)."""
    raise RuntimeError(f"minitorch_jax.cuda.jiterator._create_jit_fn(): {_HINT}")


def _create_multi_output_jit_fn(code_string: str, num_outputs: int, **kwargs):
    """Not supported under JAX (raises; see module notes)."""
    raise RuntimeError(f"minitorch_jax.cuda.jiterator._create_multi_output_jit_fn(): {_HINT}")
