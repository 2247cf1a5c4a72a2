"""``mt.jit.script``, ``freeze``, ``optimize_for_inference``: torch.jit's scripting API on ``mt.jit``.

TorchScript compiles Python source, data-dependent ``if``/``for`` included. Here ``script`` returns a
``mt.jit``-compiled wrapper with ``fallback='eager'``: code with fixed shapes runs as one XLA program,
and code that reads tensor values in Python (which XLA cannot compile) runs eagerly after one warning,
with the same results. A scripted module shares the original's parameters and buffers and has the same
``state_dict`` keys, as in torch.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
import warnings

from .._tensor import Tensor
from ..nn.modules.module import Module
from ._compiled import CompiledFunction
from ._export import save as _save_traced
from ._export import trace
from ._torchscript import deprecated

__all__ = ["script", "ScriptModule", "RecursiveScriptModule", "ScriptFunction", "freeze",
           "optimize_for_inference"]


def _source(fn) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return f"# the source of {getattr(fn, '__qualname__', fn)!s} is not available\n"


def _save_for_last_shapes(fn, shapes, what: str, f) -> None:
    """Export ``fn`` as a program for the input shapes of its last scripted call (zeros as examples; the
    program is recorded, not run, so no step is taken) and write it to ``f``."""
    if shapes is None:
        raise RuntimeError(
            f"mt.jit.save: {what} has not been called yet, so the shapes of its inputs are unknown. Call it "
            "once with inputs of the shapes to save for, or save mt.jit.trace(model, example_inputs) instead")
    from .. import zeros
    examples = tuple(zeros(s, dtype=d) for s, d in shapes)
    _save_traced(trace(fn, examples, _run_first=False), f)


def _input_shapes(args, kwargs):
    if kwargs or not all(type(a) is Tensor for a in args):
        return None  # only plain tensor arguments can be saved as a program signature
    return tuple((tuple(a.shape), a.dtype) for a in args)


class ScriptFunction(CompiledFunction):
    """What :func:`script` returns for a function (``torch.jit.ScriptFunction``): ``fn`` compiled by
    ``mt.jit`` with ``fallback='eager'``.

    Attributes:
        code: the function's Python source (torch shows TorchScript code here).
    """

    def __init__(self, fn):
        super().__init__(fn, fallback="eager")
        self._shapes = None

    def __call__(self, *args, **kwargs):
        self._shapes = _input_shapes(args, kwargs) or self._shapes
        return super().__call__(*args, **kwargs)

    @property
    def code(self) -> str:
        """The Python source of the scripted function."""
        return _source(self.eager)

    def save(self, f) -> None:
        """Save as a program (see :func:`minitorch_jax.jit.save`) for the input shapes of the last call."""
        _save_for_last_shapes(self.eager, self._shapes, f"the scripted function {self.name}", f)

    def __repr__(self) -> str:
        return f"<mt.jit scripted function {self.name}>"


class ScriptModule(Module):
    """``torch.jit.ScriptModule``: the base class of scripted modules (what ``isinstance`` checks
    against)."""


class RecursiveScriptModule(ScriptModule):
    """What :func:`script` returns for a Module: calling it runs ``mod`` compiled (``fallback='eager'``).

    It shares ``mod``'s parameters, buffers and submodules (so ``state_dict`` keys are the same as
    ``mod``'s, and training changes both), switches train/eval mode on both, and forwards attribute
    lookups it cannot answer to ``mod`` (its methods and constants).

    Attributes:
        original_name: the class name of ``mod``.
        code: the Python source of ``mod.forward``.
    """

    def __init__(self, mod: Module):
        super().__init__()
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_non_persistent_buffers_set", "_modules"):
            d[table] = mod.__dict__[table]  # the same dicts: one set of tensors, the same state_dict keys
        d["training"] = mod.training
        d["_script_orig"] = mod
        d["original_name"] = type(mod).__name__
        d["_script_compiled"] = CompiledFunction(mod, fallback="eager", name=type(mod).__name__)
        d["_shapes"] = None

    def __call__(self, *args, **kwargs):
        self.__dict__["_shapes"] = _input_shapes(args, kwargs) or self._shapes
        return self._script_compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """Run the original module's forward, compiled."""
        return self._script_compiled(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_script_orig"], name)

    def train(self, mode: bool = True) -> RecursiveScriptModule:
        """Set training or evaluation mode on this module and the module it scripts."""
        self._script_orig.train(mode)
        object.__setattr__(self, "training", mode)
        return self

    # containers (Sequential, ModuleList, ModuleDict) index, iterate and measure as the original
    def __getitem__(self, idx):
        return self._script_orig[idx]

    def __len__(self) -> int:
        return len(self._script_orig)

    def __iter__(self):
        return iter(self._script_orig)

    def __contains__(self, item) -> bool:
        return item in self._script_orig

    def __bool__(self) -> bool:  # (not __len__: a scripted Linear is truthy)
        return True

    def __deepcopy__(self, memo):
        """A scripted copy of a deep copy of the original module (new parameters, new programs)."""
        return RecursiveScriptModule(copy.deepcopy(self._script_orig, memo))

    @property
    def code(self) -> str:
        """The Python source of the scripted module's ``forward``."""
        return _source(type(self._script_orig).forward)

    def save(self, f, _extra_files=None) -> None:
        """Save as a program with its weights (see :func:`minitorch_jax.jit.save`), for the input shapes
        of the last call; :func:`minitorch_jax.jit.load` runs it without this module's code."""
        _save_for_last_shapes(self._script_orig, self._shapes, f"the scripted {self.original_name}", f)

    def __repr__(self) -> str:
        def render(m, indent):
            name = m.original_name if isinstance(m, RecursiveScriptModule) else type(m).__name__
            children = m._modules.items()
            if not children:
                return f"RecursiveScriptModule(original_name={name})"
            pad = " " * (indent + 2)
            lines = ["RecursiveScriptModule(", f"{pad}original_name={name}"]
            lines += [f"{pad}({k}): {render(c, indent + 2)}" for k, c in children if c is not None]
            return "\n".join(lines) + "\n" + " " * indent + ")"
        return render(self, 0)


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: compile a function or Module (see the module docstring for how).

    Args:
        obj: a function, a Module, a class (returned unchanged: TorchScript classes are plain classes
            here) or something already scripted (returned as it is).
        optimize, example_inputs: accepted for torch compatibility.

    Returns:
        a :class:`RecursiveScriptModule` for a Module, a :class:`ScriptFunction` for a function.
    """
    deprecated("script")
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return RecursiveScriptModule(obj)
    if isinstance(obj, type):
        if obj.__module__ == "builtins":
            raise RuntimeError(f"mt.jit.script: {obj!r} is a built-in class; script a function, a Module "
                               "or a class of your own")
        return obj
    if inspect.isfunction(obj) or inspect.ismethod(obj) or (callable(obj) and hasattr(obj, "__name__")):
        return ScriptFunction(obj)
    if type(obj).__module__ == "builtins":
        raise TypeError(f"{type(obj)!r} is a built-in class")
    raise RuntimeError(f"mt.jit.script: cannot script a {type(obj).__name__}: expected a function, a Module "
                       "or a class")


def _require_script(mod, what: str) -> None:
    if not isinstance(mod, ScriptModule):
        raise RuntimeError(f"{what} expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")


def freeze(mod: ScriptModule, preserved_attrs=None, optimize_numerics: bool = True) -> RecursiveScriptModule:
    """``torch.jit.freeze``: a scripted module whose weights are constants.

    Returns a scripted copy of ``mod`` in eval mode whose parameters no longer require gradients and no
    longer follow ``mod`` (later changes to ``mod``'s weights do not reach it), as torch's frozen module.

    Raises:
        RuntimeError: ``mod`` is not scripted, or is in training mode.
    """
    deprecated("freeze")
    _require_script(mod, "Freezing")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call "
                           ".eval() on your module before freezing.")
    frozen = copy.deepcopy(mod._script_orig).eval()
    for p in frozen.parameters():
        p.requires_grad_(False)
    return RecursiveScriptModule(frozen)


def optimize_for_inference(mod: ScriptModule, other_methods=None) -> RecursiveScriptModule:
    """``torch.jit.optimize_for_inference``: :func:`freeze` ``mod`` in eval mode (XLA does the rest)."""
    deprecated("optimize_for_inference")
    _require_script(mod, "optimize_for_inference")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # one warning, for the function called
        return freeze(mod.eval(), preserved_attrs=other_methods)
