"""``ExportedProgram`` and the module it gives back (``ep.module()``).

The program itself is an ``mt.jit`` traced program (``mt.jit.TracedFunction``: a ``jax.export``
StableHLO program taking ``(state, inputs)``), so ``mt.export.save`` can use ``mt.jit.save``'s
file format. Printing a program shows its StableHLO text, not an FX graph. ``ep.module()`` is
differentiable (JAX's VJP of the program; ``mt.export.save`` stores the VJP too).
"""

from __future__ import annotations

import copy
import re

import jax

from .. import _random
from .._grad_mode import no_grad
from .._jax_op import apply_jax
from .._tensor import Tensor, _wrap
from ..jit._export import _out_from_json
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from . import _inputs
from ._signature import ExportGraphSignature

__all__ = ["ExportedProgram", "ExportedModule", "ValueRange"]


class ValueRange:
    """The allowed sizes of one symbolic dimension: ``lower`` .. ``upper`` (``int_oo`` when unbounded)."""

    def __init__(self, lower: int, upper):
        self.lower = lower
        self.upper = upper

    def __repr__(self) -> str:
        return f"VR[{self.lower}, {'int_oo' if self.upper is None else self.upper}]"

    def __eq__(self, other) -> bool:
        return isinstance(other, ValueRange) and (self.lower, self.upper) == (other.lower, other.upper)


class ExportedProgram:
    """A module's forward as one traced program with its weights (``mt.export.export``'s result).

    Attributes:
        graph_signature: :class:`ExportGraphSignature` (parameters ``p_*``, buffers ``b_*``, user inputs).
        state_dict: parameters and persistent buffers, by state_dict key.
        constants: non-persistent buffers.
        example_inputs: ``(args, kwargs)`` given to ``export`` (None after ``load``).
        range_constraints: ``{dim name: VR[min, max]}`` for every dynamic dimension.
        graph: the program as StableHLO text.

    Run it with ``ep.module()(*args, **kwargs)``; calling the program directly raises, as in torch.
    """

    def __init__(self, traced, meta: dict, state: dict, example_inputs=None):
        self._traced = traced
        self._meta = meta
        self._tensors = state  # every state tensor (params, buffers, non-persistent), by target
        self.example_inputs = example_inputs
        self.graph_signature: ExportGraphSignature = meta["signature"]
        self.module_call_graph = list(meta.get("preserve", ()))

    # -- state ------------------------------------------------------------------------------
    @property
    def state_dict(self) -> dict:
        """Parameters and persistent buffers (by state_dict key)."""
        np_ = set(self.graph_signature.non_persistent_buffers)
        return {k: v for k, v in self._tensors.items() if k not in np_}

    @property
    def constants(self) -> dict:
        """Non-persistent buffers."""
        return {k: self._tensors[k] for k in self.graph_signature.non_persistent_buffers}

    tensor_constants = constants

    def named_parameters(self):
        """``(name, tensor)`` for each parameter."""
        for k in self.graph_signature.parameters:
            yield k, self._tensors[k]

    def parameters(self):
        """The parameters."""
        for _, v in self.named_parameters():
            yield v

    def named_buffers(self):
        """``(name, tensor)`` for each buffer."""
        for k in self.graph_signature.buffers:
            yield k, self._tensors[k]

    def buffers(self):
        """The buffers."""
        for _, v in self.named_buffers():
            yield v

    @property
    def range_constraints(self) -> dict:
        """``{dim name: VR[min, max]}`` for every dynamic dimension."""
        return {k: ValueRange(lo, hi) for k, (lo, hi) in self._meta["symbols"].items()}

    @property
    def graph(self) -> str:
        """The program as StableHLO text (source locations stripped)."""
        text = self._traced.exported.mlir_module()
        lines = [re.sub(r"\s*loc\((?:[^()]|\([^()]*\))*\)", "", ln) for ln in text.splitlines()
                 if not ln.startswith("#loc")]
        return "\n".join(lines)

    @property
    def dialect(self) -> str:
        """The program's IR ('STABLEHLO')."""
        return "STABLEHLO"

    # -- running ----------------------------------------------------------------------------
    def module(self) -> ExportedModule:
        """A new Module that runs the program with (copies of) the exported weights."""
        return ExportedModule(self)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use "
                           "`exported_program.module()` instead.")

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops: bool = False):
        """An equivalent program: it is already lowered to StableHLO, so there is nothing to decompose.

        As in torch, buffer updates (BatchNorm statistics in training mode) appear in the new
        program's ``graph_signature`` as BUFFER_MUTATION outputs (the training IR that
        :func:`export` returns keeps them inside the program)."""
        from ._export import build_signature

        new = copy.copy(self)
        new._meta = dict(self._meta, decomposed=True)
        new._meta["signature"] = new.graph_signature = build_signature(new._meta)
        return new

    def validate(self) -> None:
        """Check that the signature and the state agree."""
        for k in self._meta["targets"]:
            if k not in self._tensors:
                raise RuntimeError(f"mt.export: the program's state has no tensor {k!r}")

    def __str__(self) -> str:
        body = "\n".join("    " + line for line in self.graph.splitlines())
        return (f"ExportedProgram:\n{body}\n\nGraph signature: {self.graph_signature}\n"
                f"Range constraints: {self.range_constraints}\n")

    def __repr__(self) -> str:
        return str(self)


def _container(root: Module, target: str):
    parts = target.split(".")
    mod = root
    for p in parts[:-1]:
        sub = mod._modules.get(p) if hasattr(mod, "_modules") else None
        if sub is None:
            sub = Module()
            mod.add_module(p, sub)
        mod = sub
    return mod, parts[-1]


class ExportedModule(Module):
    """``ep.module()``: a Module holding the program's parameters and buffers under their
    original names (so ``state_dict``/``load_state_dict`` work) whose forward runs the program,
    checking each call's inputs against the exported shapes (``Guard failed: ...``)."""

    def __init__(self, ep: ExportedProgram):
        super().__init__()
        self._ep_meta = ep._meta
        self._ep_exported = ep._traced.exported
        sig = ep.graph_signature
        params = set(sig.parameters)
        nonpersistent = set(sig.non_persistent_buffers)
        for k in ep._meta["targets"]:
            src = ep._tensors[k]
            mod, leaf = _container(self, k)
            if k in params:
                mod.register_parameter(leaf, Parameter(_wrap(src._data), requires_grad=src.requires_grad))
            else:
                mod.register_buffer(leaf, _wrap(src._data), persistent=k not in nonpersistent)

    def _state_tensor(self, target: str) -> Tensor:
        mod, leaf = _container(self, target)
        return getattr(mod, leaf)

    def forward(self, *args, **kwargs):
        """Run the program on ``args``/``kwargs`` (same structure as the example inputs)."""
        meta = self._ep_meta
        tensors = _inputs.flatten_call(meta["arg_specs"], meta["kw_specs"], meta["arg_names"], args, kwargs)
        _inputs.check_leaves(tensors, meta["leaves"], meta["symbols"])
        state = [self._state_tensor(k) for k in meta["targets"]]
        n = len(state)
        exported = self._ep_exported
        gen = _random.default_generator

        def fn(*arrays):
            full = ((list(arrays[:n]), [None] * n, [arrays[n]]), [])
            outs, (new_state, _) = exported.call(full, list(arrays[n + 1:]))
            data = new_state[0]
            return (tuple(outs) + tuple(data[meta["targets"].index(k)] for k in meta["mutations"])
                    + (new_state[2][0],))

        key = _random._jax_key(gen)
        if not isinstance(key, jax.core.Tracer):  # one cache entry: the key written back is committed
            key = jax.device_put(key, jax.devices()[0])
        results = apply_jax(fn, state + [_wrap(key)] + tensors, name="exported_program")
        if meta.get("rng"):
            gen._key = results[-1]._data
        results = results[:-1]
        n_out = len(results) - len(meta["mutations"])
        if meta["mutations"]:
            with no_grad():
                for k, new in zip(meta["mutations"], results[n_out:]):
                    self._state_tensor(k).copy_(new.detach())
        return _out_from_json(meta["out_spec"], iter(results[:n_out]))

