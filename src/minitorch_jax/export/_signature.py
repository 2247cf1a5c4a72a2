"""``ExportGraphSignature`` and its parts: which program inputs are parameters, buffers and user
inputs, and which outputs are user outputs or buffer mutations, named as torch.export names them
(``p_<name>``, ``b_<name>``, the forward's argument names; nested inputs ``xs_0``, ``d_k``).

User outputs are named ``output_0``, ``output_1``, ... (torch names them after graph nodes,
which this backend does not have).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

__all__ = ["InputKind", "OutputKind", "TensorArgument", "ConstantArgument", "InputSpec", "OutputSpec",
           "ExportGraphSignature", "ExportBackwardSignature"]


class InputKind(enum.Enum):
    """What a program input is."""

    USER_INPUT = 1
    PARAMETER = 2
    BUFFER = 3
    CONSTANT_TENSOR = 4
    CUSTOM_OBJ = 5
    TOKEN = 6


class OutputKind(enum.Enum):
    """What a program output is."""

    USER_OUTPUT = 1
    LOSS_OUTPUT = 2
    BUFFER_MUTATION = 3
    PARAMETER_MUTATION = 4
    GRADIENT_TO_PARAMETER = 5
    GRADIENT_TO_USER_INPUT = 6
    USER_INPUT_MUTATION = 7
    TOKEN = 8


@dataclasses.dataclass
class TensorArgument:
    """A tensor input or output of the program, by name."""

    name: str


@dataclasses.dataclass
class ConstantArgument:
    """A non-tensor input specialised into the program (checked on each call)."""

    name: str
    value: Any


@dataclasses.dataclass
class InputSpec:
    """One program input: its kind, argument, the state_dict key it reads (``target``) and, for
    buffers, whether the buffer is persistent."""

    kind: InputKind
    arg: Any
    target: str | None
    persistent: bool | None = None


@dataclasses.dataclass
class OutputSpec:
    """One program output: its kind, argument and (for mutations) the buffer it writes."""

    kind: OutputKind
    arg: Any
    target: str | None


@dataclasses.dataclass
class ExportBackwardSignature:
    """Where a joint (forward+backward) program's gradients go (not produced by mt.export)."""

    gradients_to_parameters: dict
    gradients_to_user_inputs: dict
    loss_output: str


@dataclasses.dataclass
class ExportGraphSignature:
    """The program's inputs and outputs, in order.

    Attributes:
        input_specs: list of :class:`InputSpec` (parameters, then buffers, then user inputs).
        output_specs: list of :class:`OutputSpec` (buffer mutations, then user outputs).
    """

    input_specs: list
    output_specs: list

    def _inputs(self, kind):
        return [s for s in self.input_specs if s.kind == kind]

    @property
    def parameters(self) -> tuple:
        """Parameter names (state_dict keys) in program order."""
        return tuple(s.target for s in self._inputs(InputKind.PARAMETER))

    @property
    def buffers(self) -> tuple:
        """Buffer names in program order."""
        return tuple(s.target for s in self._inputs(InputKind.BUFFER))

    @property
    def non_persistent_buffers(self) -> tuple:
        """Buffers that are not part of the state_dict."""
        return tuple(s.target for s in self._inputs(InputKind.BUFFER) if s.persistent is False)

    @property
    def lifted_tensor_constants(self) -> tuple:
        """Lifted tensor constants (none: constants are baked into the program)."""
        return ()

    @property
    def lifted_custom_objs(self) -> tuple:
        """Lifted custom objects (none)."""
        return ()

    @property
    def user_inputs(self) -> tuple:
        """User input names; a constant input gives its value, as torch does."""
        out = []
        for s in self._inputs(InputKind.USER_INPUT):
            out.append(s.arg.value if isinstance(s.arg, ConstantArgument) else s.arg.name)
        return tuple(out)

    @property
    def user_outputs(self) -> tuple:
        """User output names."""
        return tuple(s.arg.name for s in self.output_specs if s.kind == OutputKind.USER_OUTPUT)

    @property
    def inputs_to_parameters(self) -> dict:
        """Program input name -> parameter name."""
        return {s.arg.name: s.target for s in self._inputs(InputKind.PARAMETER)}

    @property
    def inputs_to_buffers(self) -> dict:
        """Program input name -> buffer name."""
        return {s.arg.name: s.target for s in self._inputs(InputKind.BUFFER)}

    @property
    def inputs_to_lifted_tensor_constants(self) -> dict:
        """Always empty here."""
        return {}

    @property
    def buffers_to_mutate(self) -> dict:
        """Output name -> buffer it writes (BatchNorm statistics in training mode)."""
        return {s.arg.name: s.target for s in self.output_specs if s.kind == OutputKind.BUFFER_MUTATION}

    @property
    def parameters_to_mutate(self) -> dict:
        """Always empty: parameters are not mutated by an exported forward."""
        return {}

    @property
    def user_inputs_to_mutate(self) -> dict:
        """Always empty: inputs are not mutated by an exported forward."""
        return {}

    @property
    def backward_signature(self):
        """None: mt.export produces forward programs."""
        return None

    def __str__(self) -> str:
        lines = ["", "# inputs"]
        for s in self.input_specs:
            extra = f" target={s.target!r}" if s.target is not None else ""
            if s.persistent is not None:
                extra += f" persistent={s.persistent}"
            lines.append(f"{s.arg.name}: {s.kind.name}{extra}")
        lines += ["", "# outputs"]
        for s in self.output_specs:
            extra = f" target={s.target!r}" if s.target is not None else ""
            lines.append(f"{s.arg.name}: {s.kind.name}{extra}")
        return "\n".join(lines) + "\n"


def state_arg_name(kind: InputKind, target: str) -> str:
    """torch's placeholder name for a parameter/buffer: ``p_fc1_weight``, ``b_bn_running_mean``."""
    prefix = "p_" if kind == InputKind.PARAMETER else "b_"
    return prefix + target.replace(".", "_").lower()
