"""``mt.export``: ``torch.export``'s everyday API on JAX.

``export(model, args, kwargs, dynamic_shapes=...)`` traces a module's forward once into an
:class:`ExportedProgram`: one ``jax.export`` (StableHLO) program plus the weights, with torch's
graph signature (``p_<name>`` parameters, ``b_<name>`` buffers, user inputs by argument name).
``ep.module()`` runs it (checking inputs with torch's ``Guard failed: ...`` messages);
``save``/``load`` write and read it (the ``mt.jit.save`` file format plus an ``export.json``
member) so it runs in a process that never imports the model's code.

Differences from torch, by design of the backend:
- the program is StableHLO, not an FX graph: ``ep.graph`` / ``print(ep)`` show StableHLO text,
  ``run_decompositions`` returns an equivalent program, user outputs are named ``output_<i>``;
- dynamic dimensions are ``jax.export`` symbolic dimensions: ``Dim`` with ``min``/``max``,
  shared ``Dim``s, derived ``a * dim + b``, ``Dim.AUTO``/``DYNAMIC``/``STATIC`` (AUTO/DYNAMIC
  dims that must equal another dim are unified, AUTO ones specialised when needed); a forward
  that needs a dynamic size as a Python int cannot keep it dynamic (clear error);
- the global RNG state is a program input/output (dropout in training mode draws from it as
  eagerly); a forward using its own ``Generator`` cannot be exported;
- ``ep.module()`` is differentiable through JAX's VJP of the program (also after ``load``:
  the file carries the program's VJP);
- ``export_for_training`` is not provided (torch 2.13 has none); ``strict`` is ignored.
"""

from __future__ import annotations

from ._dims import Dim, ShapesCollection, dims
from ._export import DraftExportReport, draft_export, export, register_dataclass, unflatten
from ._program import ExportedModule, ExportedProgram, ValueRange
from ._serialize import load, save
from ._signature import (
                         ConstantArgument,
                         ExportBackwardSignature,
                         ExportGraphSignature,
                         InputKind,
                         InputSpec,
                         OutputKind,
                         OutputSpec,
                         TensorArgument,
)

UnflattenedModule = ExportedModule

__all__ = ["export", "draft_export", "save", "load", "unflatten", "register_dataclass", "Dim", "dims",
           "ShapesCollection", "ExportedProgram", "ExportGraphSignature", "ExportBackwardSignature",
           "InputKind", "InputSpec", "OutputKind", "OutputSpec", "TensorArgument", "ConstantArgument",
           "UnflattenedModule", "ExportedModule", "ValueRange", "DraftExportReport"]
