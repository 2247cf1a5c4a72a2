"""``mt.onnx``: export a Module or a function of Tensors to an ONNX file (``torch.onnx`` shaped).

- :func:`export` traces ``model(*args)`` once to a JAX program and converts it with the optional
  ``jax2onnx`` package (``pip install 'minitorch_jax[onnx]'``); the result runs in onnxruntime or
  any other ONNX runtime, without Python, JAX or minitorch_jax.
- :func:`is_onnx_available` says whether that optional package (and ``onnx``) can be imported.
"""

from __future__ import annotations

from ._export import export, is_onnx_available

__all__ = ["export", "is_onnx_available"]
